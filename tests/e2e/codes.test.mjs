// One-time codes end to end: sign-up with email and a code from the development mailbox,
// sign-in with the password and with an email code, reset password, the HTTP email and
// Twilio-style SMS connectors against a local provider, and the limits on codes and passwords.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as client from 'openid-client';
import { BASE, ISSUER, api, unique, customUi as makeCustomUi, pkceAuthUrl } from './helpers.mjs';
import { startReceiver, launchBrowser, reached, signIn, until, shoot } from './rp.mjs';

let rp, browser, spa, config;
const settings = (body) => api('PATCH', '/api/sign-in-exp', { body });

const authUrl = (params = {}) => pkceAuthUrl(config, `${rp.origin}/cb`, 'openid email', params);

async function mailboxCode(to) {
  return until(async () => {
    const list = await (await fetch(`${BASE}/dev/mailbox.json?to=${encodeURIComponent(to)}`)).json();
    return list[0]?.body.match(/\b(\d{6})\b/)?.[1];
  });
}

async function signOut(page) {
  await page.goto(`${ISSUER}/session/end?client_id=${spa.id}`);
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.waitForSelector('text=You are signed out');
}

const customUi = () => makeCustomUi(authUrl);

before(async () => {
  rp = await startReceiver();
  browser = await launchBrowser();
  spa = (await api('POST', '/api/applications', { body: { name: 'Codes', type: 'SPA', oidcClientMetadata: { redirectUris: [`${rp.origin}/cb`] } } })).body;
  config = await client.discovery(new URL(ISSUER), spa.id, undefined, client.None(), { execute: [client.allowInsecureRequests] });
});

after(async () => {
  await settings({ signUp: { identifiers: ['username'], password: true, verify: false }, termsOfUseUrl: null, agreeToTermsPolicy: 'Automatic' });
  await browser?.close();
  await rp?.close();
});

test('register with email, code and password; sign out; sign in with the password, then with an email code; reset the password', async () => {
  assert.equal((await settings({
    signUp: { identifiers: ['email'], password: true, verify: true },
    termsOfUseUrl: 'https://example.com/terms', agreeToTermsPolicy: 'ManualRegistrationOnly',
  })).status, 200);
  const email = `${unique('u')}@example.com`;
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  await page.goto(await authUrl({ first_screen: 'register' }));
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill('violet skies over oak');
  await page.getByLabel(/I agree to the/).check();
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.waitForSelector('form[action="/verify"]');
  await shoot(page, 'verify-code');
  assert.match(await page.textContent('main'), new RegExp(email.replace('.', '\\.')));
  await page.getByLabel('Code').fill(await mailboxCode(email));
  await page.getByRole('button', { name: 'Continue' }).click();
  assert.ok((await reached(page, `${rp.origin}/cb`)).searchParams.get('code'));
  const [user] = (await api('GET', `/api/users?search=${encodeURIComponent(email)}`)).body;
  assert.equal(user.primaryEmail, email);
  assert.equal(user.hasPassword, true);

  await signOut(page);
  await page.goto(await authUrl());
  await signIn(page, email, 'violet skies over oak');
  assert.ok((await reached(page, `${rp.origin}/cb`)).searchParams.get('code'));

  await signOut(page);
  await page.goto(await authUrl());
  await page.getByRole('link', { name: 'Sign in with a code' }).click();
  await shoot(page, 'sign-in-code');
  await page.getByLabel('Email').fill(email);
  await page.getByRole('button', { name: 'Send code' }).click();
  await page.waitForSelector('form[action="/verify"]');
  await page.getByLabel('Code').fill(await until(async () => {
    const c = await mailboxCode(email);
    return c; // the newest message is the sign-in code
  }));
  await page.getByRole('button', { name: 'Continue' }).click();
  assert.ok((await reached(page, `${rp.origin}/cb`)).searchParams.get('code'));

  await signOut(page);
  await page.goto(await authUrl());
  await page.getByRole('link', { name: 'Forgot your password?' }).click();
  await shoot(page, 'reset-password');
  await page.getByLabel('Email').fill(email);
  await page.getByRole('button', { name: 'Send code' }).click();
  await page.waitForSelector('form[action="/verify"]');
  await page.getByLabel('Code').fill(await mailboxCode(email));
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.waitForSelector('form[action="/reset-password/new"]');
  await shoot(page, 'new-password');
  await page.getByLabel('Password').fill('amber waves of grain');
  await page.getByRole('button', { name: 'Save password' }).click();
  await page.waitForSelector('text=Your password has been changed.');
  await shoot(page, 'sign-in-after-reset');
  const mailbox = await ctx.newPage();
  await mailbox.goto(`${BASE}/dev/mailbox`);
  await shoot(mailbox, 'dev-mailbox');
  await mailbox.close();
  await signIn(page, email, 'amber waves of grain');
  assert.ok((await reached(page, `${rp.origin}/cb`)).searchParams.get('code'));
  await ctx.close();
});

test('the HTTP email and Twilio-style SMS connectors call the provider with the code', async () => {
  const email = (await api('POST', '/api/connectors', { body: {
    connectorId: 'http-email',
    config: { endpoint: `${rp.origin}/email`, authorization: 'Bearer re_test', from: 'Gatehouse <auth@example.com>',
      templates: [{ usageType: 'SignIn', content: 'Sign-in code: {{code}}', subject: 'Your code' }] },
  } })).body;
  assert.equal(email.type, 'Email');
  assert.equal(email.config.authorization, '********', 'secrets are shown masked');
  const sms = (await api('POST', '/api/connectors', { body: {
    connectorId: 'twilio-sms', config: { accountSID: 'AC123', authToken: 'tok', fromNumber: '+15550000000', endpoint: rp.origin },
  } })).body;
  assert.equal(sms.type, 'Sms');
  const bad = await api('POST', '/api/connectors', { body: { connectorId: 'http-email', config: { endpoint: 'not a url', from: 'x' } } });
  assert.equal(bad.status, 400);
  try {
    const tag = unique('c');
    const phone = `1555${String(Date.now()).slice(-7)}`;
    await api('POST', '/api/users', { body: { username: `${tag}_u`, primaryEmail: `${tag}@example.com`, primaryPhone: `+${phone}` } });

    const ui = customUi();
    await ui.start();
    await ui.call('PUT', '/api/experience', { interactionEvent: 'SignIn' });
    const sent = await ui.call('POST', '/api/experience/verification/verification-code', {
      identifier: { type: 'email', value: `${tag}@example.com` }, interactionEvent: 'SignIn' });
    assert.equal(sent.status, 200, JSON.stringify(sent.body));
    const mail = await until(() => rp.posts.find((p) => p.path === '/email' && p.body.includes(tag)));
    assert.equal(mail.headers.authorization, 'Bearer re_test');
    const msg = JSON.parse(mail.body);
    assert.equal(msg.to, `${tag}@example.com`);
    assert.equal(msg.from, 'Gatehouse <auth@example.com>');
    assert.equal(msg.subject, 'Your code');
    const code = msg.text.match(/Sign-in code: (\d{6})/)[1];
    const ok = await ui.call('POST', '/api/experience/verification/verification-code/verify', {
      identifier: { type: 'email', value: `${tag}@example.com` }, verificationId: sent.body.verificationId, code });
    assert.equal(ok.status, 200);
    assert.equal((await ui.call('POST', '/api/experience/identification', { verificationId: sent.body.verificationId })).status, 204);
    assert.equal((await ui.call('POST', '/api/experience/submit')).status, 200);

    // SMS codes sign in only where the settings enable them for phone numbers.
    const ui2 = customUi();
    await ui2.start();
    await ui2.call('PUT', '/api/experience', { interactionEvent: 'SignIn' });
    const refused = await ui2.call('POST', '/api/experience/verification/verification-code', {
      identifier: { type: 'phone', value: `+${phone}` }, interactionEvent: 'SignIn' });
    assert.equal(refused.status, 422);
    assert.equal(refused.body.code, 'user.sign_in_method_not_enabled');
    assert.equal((await settings({ signIn: { methods: [
      { identifier: 'username', password: true, verificationCode: false, isPasswordPrimary: true },
      { identifier: 'email', password: true, verificationCode: true, isPasswordPrimary: true },
      { identifier: 'phone', password: false, verificationCode: true, isPasswordPrimary: false },
    ] } })).status, 200);
    const smsSent = await ui2.call('POST', '/api/experience/verification/verification-code', {
      identifier: { type: 'phone', value: `+${phone}` }, interactionEvent: 'SignIn' });
    assert.equal(smsSent.status, 200);
    const text = await until(() => rp.posts.find((p) => p.path === '/2010-04-01/Accounts/AC123/Messages.json'));
    assert.equal(text.headers.authorization, `Basic ${Buffer.from('AC123:tok').toString('base64')}`);
    const form = new URLSearchParams(text.body);
    assert.equal(form.get('To'), `+${phone}`);
    assert.equal(form.get('From'), '+15550000000');
    const smsCode = form.get('Body').match(/(\d{6})/)[1];
    const verified = await ui2.call('POST', '/api/experience/verification/verification-code/verify', {
      identifier: { type: 'phone', value: `+${phone}` }, verificationId: smsSent.body.verificationId, code: smsCode });
    assert.equal(verified.status, 200);
  } finally {
    await settings({ signIn: { methods: [
      { identifier: 'username', password: true, verificationCode: false, isPasswordPrimary: true },
      { identifier: 'email', password: true, verificationCode: true, isPasswordPrimary: true },
    ] } });
    assert.equal((await api('DELETE', `/api/connectors/${email.id}`)).status, 204);
    assert.equal((await api('DELETE', `/api/connectors/${sms.id}`)).status, 204);
  }
});

test('a wrong code 10 times locks it; repeated wrong passwords are throttled', async () => {
  const tag = unique('t');
  await api('POST', '/api/users', { body: { username: `${tag}_v`, primaryEmail: `${tag}@example.com`, password: 'violet skies over oak' } });
  const ui = customUi();
  await ui.start();
  await ui.call('PUT', '/api/experience', { interactionEvent: 'SignIn' });
  const identifier = { type: 'email', value: `${tag}@example.com` };
  const sent = await ui.call('POST', '/api/experience/verification/verification-code', { identifier, interactionEvent: 'SignIn' });
  const code = await mailboxCode(`${tag}@example.com`);
  const wrong = code === '000000' ? '111111' : '000000';
  for (let i = 0; i < 10; i++) {
    const r = await ui.call('POST', '/api/experience/verification/verification-code/verify', { identifier, verificationId: sent.body.verificationId, code: wrong });
    assert.equal(r.body.code, 'verification_code.code_mismatch');
  }
  const locked = await ui.call('POST', '/api/experience/verification/verification-code/verify', { identifier, verificationId: sent.body.verificationId, code });
  assert.equal(locked.body.code, 'verification_code.exceed_max_try');

  // A new interaction (this one already sent a code to the address within the minute).
  await ui.start();
  await ui.call('PUT', '/api/experience', { interactionEvent: 'SignIn' });
  let last;
  for (let i = 0; i < 101; i++) {
    last = await ui.call('POST', '/api/experience/verification/password', { identifier: { type: 'username', value: `${tag}_v` }, password: `wrong-${i}` });
    if (last.status !== 422) break;
  }
  // The soft lockout: a locked account that has an email asks for a code to it first.
  assert.equal(last.status, 403, JSON.stringify(last.body));
  assert.equal(last.body.code, 'session.second_proof_required');
  assert.equal(last.body.data.to, undefined, 'the address is not told');
  const logsBefore = (await api('GET', '/api/logs?logKey=Interaction.SignIn.Verification.Password&page_size=1')).headers.get('total-number');
  const right = await ui.call('POST', '/api/experience/verification/password', { identifier: { type: 'username', value: `${tag}_v` }, password: 'violet skies over oak' });
  assert.notEqual(right.status, 200, 'locked: the password is not checked without the code');
  const logsAfter = (await api('GET', '/api/logs?logKey=Interaction.SignIn.Verification.Password&page_size=1')).headers.get('total-number');
  assert.equal(logsAfter, logsBefore, 'locked attempts write no audit rows');
  // The code from the mailbox lifts the lock for this interaction; then the password counts.
  const unlock = last.body.data.verificationId;
  const ok = await ui.call('POST', '/api/experience/verification/verification-code/verify', {
    identifier: { type: 'email', value: `${tag}@example.com` }, verificationId: unlock, code: await mailboxCode(`${tag}@example.com`) });
  assert.equal(ok.status, 200, JSON.stringify(ok.body));
  const now = await ui.call('POST', '/api/experience/verification/password', { identifier: { type: 'username', value: `${tag}_v` }, password: 'violet skies over oak' });
  assert.equal(now.status, 200, JSON.stringify(now.body));
});

test('each first_screen value lands on its screen', async () => {
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  for (const [firstScreen, form] of [
    ['sign_in', '/sign-in'], ['identifier:sign_in', '/sign-in'], ['register', '/register'],
    ['identifier:register', '/register'], ['reset_password', '/reset-password'], ['single_sign_on', '/sign-in'],
  ]) {
    await page.goto(await authUrl({ first_screen: firstScreen }));
    await page.waitForSelector(`form[action="${form}"]`);
    assert.equal(new URL(page.url()).pathname, form, firstScreen);
  }
  await ctx.close();
});

test('bad input: malformed identifiers, over-long fields, no CSRF token, a stale or foreign interaction', async () => {
  const ui = customUi();
  await ui.start();
  await ui.call('PUT', '/api/experience', { interactionEvent: 'Register' });
  for (const [type, value] of [['email', 'not-an-email'], ['email', `${'a'.repeat(300)}@example.com`], ['phone', '12ab'], ['phone', '+1']]) {
    const r = await ui.call('POST', '/api/experience/verification/verification-code', { identifier: { type, value }, interactionEvent: 'Register' });
    assert.equal(r.status, 400, `${type} ${value}`);
    assert.equal(r.body.code, 'guard.invalid_input');
  }
  const longName = await ui.call('POST', '/api/experience/profile', { type: 'username', value: 'u'.repeat(200) });
  assert.equal(longName.status, 400);
  const longPassword = await ui.call('POST', '/api/experience/profile', { type: 'password', value: 'p'.repeat(300) });
  assert.equal(longPassword.status, 422);
  assert.equal((await ui.call('POST', '/api/experience/identification')).body.code, 'user.missing_profile');

  // A form POST without the CSRF token is refused, and nothing is created.
  const u = new URL(await authUrl({ first_screen: 'register' }));
  const first = await fetch(u, { redirect: 'manual' });
  const cookie = first.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
  const name = unique('csrf_');
  const noCsrf = await fetch(`${BASE}/register`, {
    method: 'POST', redirect: 'manual', headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ username: name, password: 'violet skies over oak' }),
  });
  assert.equal(noCsrf.status, 403);
  assert.equal((await api('GET', `/api/users?search=${name}`)).headers.get('total-number'), '0');

  // No interaction, or someone else's (made-up) interaction id.
  for (const headers of [{}, { cookie: '__Host-gh_interaction=not-yours' }]) {
    const r = await fetch(`${BASE}/api/experience`, { method: 'PUT', headers: { ...headers, 'content-type': 'application/json' }, body: '{"interactionEvent":"SignIn"}' });
    assert.equal(r.status, 400);
    assert.equal((await r.json()).code, 'session.not_found');
  }
  const stalePage = await fetch(`${BASE}/sign-in`, { headers: { cookie: '__Host-gh_interaction=not-yours' } });
  assert.equal(stalePage.status, 400);
  assert.match(await stalePage.text(), /expired/);
});

test('reset a password through the Experience API only', async () => {
  const tag = unique('r');
  await api('POST', '/api/users', { body: { username: `${tag}_r`, primaryEmail: `${tag}@example.com`, password: 'violet skies over oak' } });
  const ui = customUi();
  await ui.start();
  assert.equal((await ui.call('PUT', '/api/experience', { interactionEvent: 'ForgotPassword' })).status, 204);
  const identifier = { type: 'email', value: `${tag}@example.com` };
  const sent = await ui.call('POST', '/api/experience/verification/verification-code', { identifier, interactionEvent: 'ForgotPassword' });
  assert.equal(sent.status, 200);
  const v = await ui.call('POST', '/api/experience/verification/verification-code/verify', {
    identifier, verificationId: sent.body.verificationId, code: await mailboxCode(`${tag}@example.com`) });
  assert.equal(v.status, 200);
  assert.equal((await ui.call('POST', '/api/experience/identification', { verificationId: sent.body.verificationId })).status, 204);
  assert.equal((await ui.call('POST', '/api/experience/submit')).body.code, 'user.missing_profile', 'the new password comes first');
  assert.equal((await ui.call('PUT', '/api/experience/profile/password', { password: 'abc' })).status, 422);
  assert.equal((await ui.call('PUT', '/api/experience/profile/password', { password: 'amber waves of grain' })).status, 204);
  assert.equal((await ui.call('POST', '/api/experience/submit')).status, 200);
  await ui.call('PUT', '/api/experience', { interactionEvent: 'SignIn' });
  const old = await ui.call('POST', '/api/experience/verification/password', { identifier: { type: 'username', value: `${tag}_r` }, password: 'violet skies over oak' });
  assert.equal(old.status, 422);
  const fresh = await ui.call('POST', '/api/experience/verification/password', { identifier: { type: 'username', value: `${tag}_r` }, password: 'amber waves of grain' });
  assert.equal(fresh.status, 200);
});


test('register with email, code and password through the Experience API only', async () => {
  assert.equal((await settings({ signUp: { identifiers: ['email'], password: true, verify: true } })).status, 200);
  try {
    const email = `${unique('x')}@example.com`;
    const ui = customUi();
    await ui.start();
    assert.equal((await ui.call('PUT', '/api/experience', { interactionEvent: 'Register' })).status, 204);
    const identifier = { type: 'email', value: email };
    const sent = await ui.call('POST', '/api/experience/verification/verification-code', { identifier, interactionEvent: 'Register' });
    assert.equal(sent.status, 200);
    const verified = await ui.call('POST', '/api/experience/verification/verification-code/verify', {
      identifier, verificationId: sent.body.verificationId, code: await mailboxCode(email) });
    assert.equal(verified.status, 200);
    const early = await ui.call('POST', '/api/experience/identification', { verificationId: sent.body.verificationId });
    assert.equal(early.status, 422);
    assert.equal(early.body.code, 'user.missing_profile', 'the password is still missing');
    assert.equal((await api('GET', `/api/users?search=${encodeURIComponent(email)}`)).headers.get('total-number'), '0', 'no half-written user');
    assert.equal((await ui.call('POST', '/api/experience/profile', { type: 'password', value: 'violet skies over oak' })).status, 204);
    assert.equal((await ui.call('POST', '/api/experience/identification', { verificationId: sent.body.verificationId })).status, 201);
    const done = await ui.call('POST', '/api/experience/submit');
    assert.equal(done.status, 200);
    assert.ok(done.body.redirectTo.endsWith('/oidc/auth/resume'));
    const [user] = (await api('GET', `/api/users?search=${encodeURIComponent(email)}`)).body;
    assert.equal(user.primaryEmail, email);
    assert.equal(user.hasPassword, true);
  } finally {
    await settings({ signUp: { identifiers: ['username'], password: true, verify: false } });
  }
});
