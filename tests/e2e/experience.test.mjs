// The sign-in experience in Chromium and through the Experience API: registration with
// username and password, terms, German pages, disabled registration, and screenshots of the
// pages in light and dark (test-output/screenshots, not committed).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as client from 'openid-client';
import { BASE, ISSUER, api, unique, customUi, pkceAuthUrl } from './helpers.mjs';
import { startReceiver, launchBrowser, reached, shoot } from './rp.mjs';

let rp, browser, spa, config;

const authUrl = (params = {}) => pkceAuthUrl(config, `${rp.origin}/cb`, 'openid profile', params);

const settings = (body) => api('PATCH', '/api/sign-in-exp', { body });

before(async () => {
  rp = await startReceiver();
  browser = await launchBrowser();
  spa = (await api('POST', '/api/applications', {
    body: { name: 'Storefront', type: 'SPA', oidcClientMetadata: { redirectUris: [`${rp.origin}/cb`] } },
  })).body;
  config = await client.discovery(new URL(ISSUER), spa.id, undefined, client.None(), { execute: [client.allowInsecureRequests] });
});

after(async () => {
  await settings({ signInMode: 'SignInAndRegister', termsOfUseUrl: null, privacyPolicyUrl: null, agreeToTermsPolicy: 'Automatic' });
  await browser?.close();
  await rp?.close();
});

test('register with username and password, agreeing to the terms, in the browser', async () => {
  assert.equal((await settings({
    termsOfUseUrl: 'https://example.com/terms', privacyPolicyUrl: 'https://example.com/privacy', agreeToTermsPolicy: 'ManualRegistrationOnly',
  })).status, 200);
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  await page.goto(await authUrl({ first_screen: 'register' }));
  await page.waitForSelector('form[action="/register"]');
  await shoot(page, 'register');
  const username = unique('reg_');
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill('violet skies over oak');
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.waitForSelector('#form-error');
  assert.match(await page.textContent('#form-error'), /agree to the terms/);
  await shoot(page, 'register-error');
  assert.equal((await api('GET', `/api/users?search=${username}`)).headers.get('total-number'), '0', 'no user yet');
  await page.getByLabel('Password').fill('violet skies over oak');
  await page.getByLabel(/I agree to the/).check();
  await page.getByRole('button', { name: 'Create account' }).click();
  const cb = await reached(page, `${rp.origin}/cb`);
  assert.ok(cb.searchParams.get('code'));
  const users = await api('GET', `/api/users?search=${username}`);
  assert.equal(users.body.length, 1);
  assert.equal(users.body[0].hasPassword, true);
  await ctx.close();
});

test('pages are German with ui_locales=de, and follow Accept-Language', async () => {
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  await page.goto(await authUrl({ ui_locales: 'de' }));
  await page.waitForSelector('form[action="/sign-in"]');
  assert.equal(await page.getAttribute('html', 'lang'), 'de');
  assert.match(await page.textContent('h1'), /Anmelden/);
  await page.getByLabel('Benutzername oder E-Mail').fill('nobody');
  await page.getByLabel('Passwort').fill('wrong password');
  await page.getByRole('button', { name: 'Anmelden' }).click();
  await page.waitForSelector('#form-error');
  assert.match(await page.textContent('#form-error'), /Benutzername, E-Mail oder Passwort ist falsch/);
  assert.equal(await page.getAttribute('#identifier', 'aria-describedby'), 'form-error', 'the error is tied to the field');
  await shoot(page, 'sign-in-error-de');
  await ctx.close();
  const german = await browser.newContext({ locale: 'de-DE' });
  const p2 = await german.newPage();
  await p2.goto(await authUrl());
  await p2.waitForSelector('form[action="/sign-in"]');
  assert.equal(await p2.getAttribute('html', 'lang'), 'de');
  await german.close();
  const english = await browser.newContext({ locale: 'en-US' });
  const p3 = await english.newPage();
  await p3.goto(await authUrl());
  await p3.waitForSelector('form[action="/sign-in"]');
  await shoot(p3, 'sign-in');
  await english.close();
});

test('with registration disabled, sign-up is refused by the page and the API', async () => {
  assert.equal((await settings({ signInMode: 'SignIn' })).status, 200);
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  await page.goto(await authUrl({ first_screen: 'register' }));
  await page.waitForSelector('form[action="/sign-in"]');
  assert.equal(await page.locator('a[href="/register"]').count(), 0);
  const res = await page.goto(`${BASE}/register`);
  assert.equal(res.status(), 403);
  assert.match(await page.textContent('#form-error'), /Creating accounts is not possible here/);
  const cookies = (await ctx.cookies()).map((c) => `${c.name}=${c.value}`).join('; ');
  const apiRes = await fetch(`${BASE}/api/experience`, {
    method: 'PUT', headers: { cookie: cookies, 'content-type': 'application/json' }, body: JSON.stringify({ interactionEvent: 'Register' }),
  });
  assert.equal(apiRes.status, 403);
  assert.equal((await apiRes.json()).code, 'user.registration_not_allowed');
  await settings({ signInMode: 'SignInAndRegister' });
  await ctx.close();
});

test('register and sign in through the Experience API only, as a custom UI would', async () => {
  const { call, start } = customUi(authUrl);
  await start();
  const username = unique('api_');
  assert.equal((await call('PUT', '/api/experience', { interactionEvent: 'Register' })).status, 204);
  assert.equal((await call('POST', '/api/experience/profile', { type: 'username', value: username })).status, 204);
  const weak = await call('POST', '/api/experience/profile', { type: 'password', value: 'abc' });
  assert.equal(weak.status, 422);
  assert.equal(weak.body.code, 'password.rejected');
  assert.equal((await call('POST', '/api/experience/profile', { type: 'password', value: 'violet skies over oak' })).status, 204);
  assert.equal((await call('POST', '/api/experience/identification')).status, 201);
  const submitted = await call('POST', '/api/experience/submit');
  assert.equal(submitted.status, 200);
  const resumed = await call('GET', new URL(submitted.body.redirectTo).pathname);
  assert.equal(resumed.status, 303);
  assert.ok(new URL(resumed.location).searchParams.get('code'));

  await start();
  assert.equal((await call('PUT', '/api/experience', { interactionEvent: 'SignIn' })).status, 204);
  const v = await call('POST', '/api/experience/verification/password', { identifier: { type: 'username', value: username }, password: 'violet skies over oak' });
  assert.equal(v.status, 200);
  assert.equal((await call('POST', '/api/experience/identification', { verificationId: v.body.verificationId })).status, 204);
  const done = await call('POST', '/api/experience/submit');
  const code = new URL((await call('GET', new URL(done.body.redirectTo).pathname)).location).searchParams.get('code');
  assert.ok(code);
  const dup = await start().then(() => call('PUT', '/api/experience', { interactionEvent: 'Register' }))
    .then(() => call('POST', '/api/experience/profile', { type: 'username', value: username }));
  assert.equal(dup.status, 422);
  assert.equal(dup.body.code, 'user.username_already_in_use');
  const logs = await api('GET', '/api/logs?logKey=Interaction.Register.Submit&page_size=100');
  assert.ok(Number(logs.headers.get('total-number')) >= 2);
});

test('screenshots of the consent, sign-out and error pages', async () => {
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  await page.goto(`${ISSUER}/auth?client_id=${spa.id}&redirect_uri=https%3A%2F%2Fevil.example%2F&response_type=code&scope=openid`);
  await shoot(page, 'error');
  await page.goto(`${ISSUER}/session/end?client_id=${spa.id}`);
  await page.waitForSelector('form[action="/oidc/session/end/confirm"]');
  await shoot(page, 'sign-out');
  await ctx.close();
});
