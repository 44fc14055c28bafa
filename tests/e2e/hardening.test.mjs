// Hardening end to end: a password reset in one browser ends the other browser's session and
// tokens; a role's removed scope is gone at the next refresh; huge bodies and identifiers are
// refused before any work. openid-client as the relying party, jose to read the tokens,
// Chromium for the hosted pages.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as client from 'openid-client';
import * as jose from 'jose';
import { BASE, ISSUER, api, unique, customUi } from './helpers.mjs';
import { startReceiver, launchBrowser, reached, signIn, until } from './rp.mjs';

const PASSWORD = 'correct horse battery';
const opts = { execute: [client.allowInsecureRequests] };
let rp, browser, web, config;

before(async () => {
  rp = await startReceiver();
  browser = await launchBrowser();
  web = (await api('POST', '/api/applications', { body: { name: 'Hardening', type: 'Traditional', oidcClientMetadata: {
    redirectUris: [`${rp.origin}/cb`], backchannelLogoutUri: `${rp.origin}/bcl`, backchannelLogoutSessionRequired: true } } })).body;
  config = await client.discovery(new URL(ISSUER), web.id, web.secret, client.ClientSecretBasic(web.secret), opts);
});

after(async () => {
  await browser?.close();
  await rp?.close();
});

async function newUser() {
  const tag = unique('h');
  const res = await api('POST', '/api/users', { body: { username: `${tag}_u`, primaryEmail: `${tag}@example.com`, password: PASSWORD } });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body;
}

/** Signs in (if asked) in `page` and exchanges the code; returns the token response. */
async function signInAndExchange(page, user, { scope = 'openid offline_access', resource, prompt } = {}) {
  const verifier = client.randomPKCECodeVerifier();
  const params = { redirect_uri: `${rp.origin}/cb`, scope, code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256' };
  if (resource) params.resource = resource;
  if (prompt) params.prompt = prompt;
  await page.goto(client.buildAuthorizationUrl(config, params).href);
  const where = await Promise.race([
    page.waitForSelector('form[action="/sign-in"]').then(() => 'sign-in'),
    reached(page, `${rp.origin}/cb`).then(() => 'callback'),
  ]);
  if (where === 'sign-in') await signIn(page, user.username, PASSWORD);
  const callback = await reached(page, `${rp.origin}/cb`);
  return client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier }, resource ? { resource } : undefined);
}

async function mailboxCode(to) {
  return until(async () => {
    const list = await (await fetch(`${BASE}/dev/mailbox.json?to=${encodeURIComponent(to)}`)).json();
    return list[0]?.body.match(/\b(\d{6})\b/)?.[1];
  });
}

test('a password reset in one browser ends the other browser\'s session, refresh token and access token', async () => {
  const user = await newUser();
  const laptop = await browser.newContext();
  const phone = await browser.newContext();
  const laptopPage = await laptop.newPage();
  const phonePage = await phone.newPage();
  await signInAndExchange(laptopPage, user);
  const phoneTokens = await signInAndExchange(phonePage, user);
  assert.equal((await client.tokenIntrospection(config, phoneTokens.access_token)).active, true);
  const sid = phoneTokens.claims().sid;

  // The laptop forgets the password and resets it with an email code.
  const verifier = client.randomPKCECodeVerifier();
  await laptopPage.goto(client.buildAuthorizationUrl(config, {
    redirect_uri: `${rp.origin}/cb`, scope: 'openid', prompt: 'login',
    code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
  }).href);
  await laptopPage.getByRole('link', { name: 'Forgot your password?' }).click();
  await laptopPage.getByLabel('Email').fill(user.primaryEmail);
  await laptopPage.getByRole('button', { name: 'Send code' }).click();
  await laptopPage.waitForSelector('form[action="/verify"]');
  await laptopPage.getByLabel('Code').fill(await mailboxCode(user.primaryEmail));
  await laptopPage.getByRole('button', { name: 'Continue' }).click();
  await laptopPage.waitForSelector('form[action="/reset-password/new"]');
  await laptopPage.getByLabel('Password').fill('amber waves of grain');
  await laptopPage.getByRole('button', { name: 'Save password' }).click();
  await laptopPage.waitForSelector('text=Your password has been changed.');

  // The phone's session is gone, and so are its tokens.
  assert.equal((await client.tokenIntrospection(config, phoneTokens.access_token)).active, false);
  await assert.rejects(client.refreshTokenGrant(config, phoneTokens.refresh_token), (e) => e.error === 'invalid_grant');
  await assert.rejects(client.fetchUserInfo(config, phoneTokens.access_token, user.id));
  const noneVerifier = client.randomPKCECodeVerifier();
  await phonePage.goto(client.buildAuthorizationUrl(config, {
    redirect_uri: `${rp.origin}/cb`, scope: 'openid', prompt: 'none',
    code_challenge: await client.calculatePKCECodeChallenge(noneVerifier), code_challenge_method: 'S256',
  }).href);
  const back = await reached(phonePage, `${rp.origin}/cb`);
  assert.equal(back.searchParams.get('error'), 'login_required');
  // Its app hears of it by back-channel logout.
  const logout = await until(() => rp.logouts.find((l) => jose.decodeJwt(l.token).sid === sid));
  assert.equal(jose.decodeJwt(logout.token).sub, user.id);

  // The old password no longer opens anything; the new one does.
  await signIn(laptopPage, user.username, 'amber waves of grain');
  assert.ok((await reached(laptopPage, `${rp.origin}/cb`)).searchParams.get('code'));
  await laptop.close();
  await phone.close();
});

test('a scope removed from a role is gone from the next refresh with resource', async () => {
  const user = await newUser();
  const indicator = `https://api.${unique('h')}.example`;
  const resource = (await api('POST', '/api/resources', { body: { name: 'Hardening API', indicator } })).body;
  const read = (await api('POST', `/api/resources/${resource.id}/scopes`, { body: { name: 'read:things' } })).body;
  const write = (await api('POST', `/api/resources/${resource.id}/scopes`, { body: { name: 'write:things' } })).body;
  const role = (await api('POST', '/api/roles', { body: { name: unique('editor-'), description: 'edits', scopeIds: [read.id, write.id] } })).body;
  assert.equal((await api('POST', `/api/users/${user.id}/roles`, { body: { roleIds: [role.id] } })).status, 201);

  const ctx = await browser.newContext();
  const tokens = await signInAndExchange(await ctx.newPage(), user, { scope: 'openid offline_access read:things write:things', resource: indicator });
  const jwks = jose.createRemoteJWKSet(new URL(`${ISSUER}/jwks`));
  const verify = async (t) => (await jose.jwtVerify(t, jwks, { issuer: ISSUER, audience: indicator })).payload;
  const first = await client.refreshTokenGrant(config, tokens.refresh_token, { resource: indicator });
  assert.deepEqual((await verify(first.access_token)).scope.split(' ').sort(), ['read:things', 'write:things']);

  assert.equal((await api('DELETE', `/api/roles/${role.id}/scopes/${write.id}`)).status, 204);
  const second = await client.refreshTokenGrant(config, first.refresh_token, { resource: indicator });
  const claims = await verify(second.access_token);
  assert.equal(claims.scope, 'read:things');
  assert.equal(claims.sub, user.id);
  await ctx.close();
});

test('a 2 MB body gets 413 from each endpoint, within 100 ms', async () => {
  const big = 'a'.repeat(2 * 1024 * 1024);
  const endpoints = [
    ['/oidc/token', 'application/x-www-form-urlencoded'],
    ['/oidc/token/revocation', 'application/x-www-form-urlencoded'],
    ['/oidc/token/introspection', 'application/x-www-form-urlencoded'],
    ['/oidc/me', 'application/x-www-form-urlencoded'],
    ['/oidc/auth', 'application/x-www-form-urlencoded'],
    ['/oidc/session/end', 'application/x-www-form-urlencoded'],
    ['/api/experience', 'application/json'],
    ['/api/experience/verification/password', 'application/json'],
    ['/api/users', 'application/json'],
    ['/sign-in', 'application/x-www-form-urlencoded'],
    ['/register', 'application/x-www-form-urlencoded'],
    ['/consent', 'application/x-www-form-urlencoded'],
  ];
  const timings = [];
  for (const [path, type] of endpoints) {
    const started = performance.now();
    const res = await fetch(`${BASE}${path}`, { method: path === '/api/experience' ? 'PUT' : 'POST', headers: { 'content-type': type }, body: big });
    await res.arrayBuffer();
    const ms = performance.now() - started;
    timings.push(`${path} ${ms.toFixed(1)} ms`);
    assert.equal(res.status, 413, path);
    assert.ok(ms < 100, `${path} took ${ms.toFixed(1)} ms`);
  }
  console.log(`# 413 times: ${timings.join(', ')}`);
});

test('an over-long identifier is refused before any row is written', async () => {
  const count = async (path) => Number((await api('GET', path)).headers.get('total-number'));
  const before = [await count('/api/logs?page_size=1'), await count('/api/users?page_size=1')];
  const verifier = client.randomPKCECodeVerifier();
  const ui = customUi(async () => client.buildAuthorizationUrl(config, {
    redirect_uri: `${rp.origin}/cb`, scope: 'openid', code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
  }).href);
  await ui.start();
  assert.equal((await ui.call('PUT', '/api/experience', { interactionEvent: 'SignIn' })).status, 204);
  // Over 256 bytes: a 400 before any lookup, hash or write.
  const long = await ui.call('POST', '/api/experience/verification/password', { identifier: { type: 'username', value: 'a'.repeat(60 * 1024) }, password: 'x' });
  assert.equal(long.status, 400, JSON.stringify(long.body));
  assert.equal(long.body.code, 'guard.invalid_input');
  // 100 KB does not fit the 64 KiB body limit: a 413, also before any work.
  const huge = await ui.call('POST', '/api/experience/verification/password', { identifier: { type: 'username', value: 'a'.repeat(100 * 1024) }, password: 'x' });
  assert.equal(huge.status, 413);
  const after = [await count('/api/logs?page_size=1'), await count('/api/users?page_size=1')];
  assert.deepEqual(after, before);
});

test('a page may run only the provider\'s own scripts; the style sheet and the passkey script come from the asset store', async () => {
  const page = await fetch(`${BASE}/sign-in`);
  const csp = page.headers.get('content-security-policy');
  const scriptSrc = csp.split(';').map((d) => d.trim()).find((d) => d.startsWith('script-src'));
  assert.equal(scriptSrc, "script-src 'self'");
  assert.equal(page.headers.get('x-content-type-options'), 'nosniff');
  assert.match(await page.text(), /<link rel="stylesheet" href="\/static\/style.css">/);
  for (const [path, type] of [['/static/style.css', 'text/css'], ['/static/passkey.js', 'javascript']]) {
    const res = await fetch(`${BASE}${path}`);
    assert.equal(res.status, 200, path);
    assert.ok(res.headers.get('content-type').includes(type), res.headers.get('content-type'));
    assert.ok((await res.text()).length > 500, path);
  }
});
