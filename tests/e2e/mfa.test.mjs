// MFA end to end: an authenticator app (codes from otplib, an independent implementation)
// and backup codes under the Mandatory policy, through the hosted pages in Chromium and
// through the Experience API alone; the ID token's amr read with openid-client.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as client from 'openid-client';
import otplib from 'otplib';
import { ISSUER, api, unique, customUi } from './helpers.mjs';
import { startReceiver, launchBrowser, reached, signIn, shoot } from './rp.mjs';

const { authenticator } = otplib;
const PASSWORD = 'violet skies over oak';
let rp, browser, spa, config;
const settings = (body) => api('PATCH', '/api/sign-in-exp', { body });

before(async () => {
  rp = await startReceiver();
  browser = await launchBrowser();
  spa = (await api('POST', '/api/applications', { body: { name: 'MFA', type: 'SPA', oidcClientMetadata: { redirectUris: [`${rp.origin}/cb`] } } })).body;
  config = await client.discovery(new URL(ISSUER), spa.id, undefined, client.None(), { execute: [client.allowInsecureRequests] });
  const r = await settings({ mfa: { factors: ['Totp', 'BackupCode'], policy: 'Mandatory' } });
  assert.equal(r.status, 200, JSON.stringify(r.body));
});

after(async () => {
  await settings({ mfa: { factors: [], policy: 'PromptAtSignInAndSignUp' } });
  await browser?.close();
  await rp?.close();
});

async function newUser() {
  const username = unique('mfa_');
  const res = await api('POST', '/api/users', { body: { username, password: PASSWORD } });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body;
}

/** Opens an authorization request in `page`; returns the PKCE verifier. */
async function authorize(page) {
  const verifier = client.randomPKCECodeVerifier();
  await page.goto(client.buildAuthorizationUrl(config, {
    redirect_uri: `${rp.origin}/cb`, scope: 'openid',
    code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
  }).href);
  return verifier;
}

async function amrAfter(page, verifier) {
  const cb = await reached(page, `${rp.origin}/cb`);
  const tokens = await client.authorizationCodeGrant(config, cb, { pkceCodeVerifier: verifier, idTokenExpected: true });
  return tokens.claims().amr;
}

/** A code of the app for a step not used yet (a code is good once: wait for the next step). */
async function freshCode(secret, used) {
  for (;;) {
    const code = authenticator.generate(secret);
    if (!used.has(code)) { used.add(code); return code; }
    await new Promise((r) => setTimeout(r, 1000));
  }
}

test('hosted pages: bind an app and backup codes, then password + app code; a replayed code and a reused backup code fail', async () => {
  const user = await newUser();
  const used = new Set();
  let ctx = await browser.newContext();
  let page = await ctx.newPage();
  let verifier = await authorize(page);
  await signIn(page, user.username, PASSWORD);
  await page.waitForSelector('form[action="/mfa/totp/bind"]');
  await shoot(page, 'mfa-bind-totp');
  assert.match(await page.getAttribute('img.qr', 'src'), /^data:image\/svg\+xml;base64,/);
  const secret = (await page.textContent('#totp-secret')).trim();
  await page.getByLabel('Code from your app').fill('000000');
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.waitForSelector('#form-error');
  assert.match(await page.textContent('#form-error'), /not right/);
  await page.getByLabel('Code from your app').fill(await freshCode(secret, used));
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.waitForSelector('form[action="/mfa/backup-codes"]');
  await shoot(page, 'mfa-backup-codes');
  const codes = (await page.locator('ul.codes code').allTextContents()).map((c) => c.trim());
  assert.equal(codes.length, 10);
  assert.ok(codes.every((c) => /^[0-9a-f]{10}$/.test(c)));
  await page.getByRole('button', { name: 'I have saved them' }).click();
  assert.deepEqual(await amrAfter(page, verifier), ['pwd']);
  await ctx.close();

  // Next sign-in: password, then a code of the app.
  ctx = await browser.newContext();
  page = await ctx.newPage();
  verifier = await authorize(page);
  await signIn(page, user.username, PASSWORD);
  await page.waitForSelector('form[action="/mfa/verify"]');
  await shoot(page, 'mfa-verify');
  const code = await freshCode(secret, used);
  await page.getByLabel('Code from your app').fill(code);
  await page.getByRole('button', { name: 'Continue' }).click();
  const amr = await amrAfter(page, verifier);
  assert.ok(amr.includes('pwd') && amr.includes('otp') && amr.includes('mfa'), JSON.stringify(amr));
  await ctx.close();

  // The same code again, within its window: refused.
  ctx = await browser.newContext();
  page = await ctx.newPage();
  verifier = await authorize(page);
  await signIn(page, user.username, PASSWORD);
  await page.waitForSelector('form[action="/mfa/verify"]');
  await page.getByLabel('Code from your app').fill(code);
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.waitForSelector('#form-error');
  assert.match(await page.textContent('#form-error'), /not right/);
  // A backup code instead: works once.
  await page.getByRole('link', { name: 'Use a backup code' }).click();
  await page.getByLabel('Backup code').fill(codes[0]);
  await page.getByRole('button', { name: 'Continue' }).click();
  assert.ok((await amrAfter(page, verifier)).includes('mfa'));
  await ctx.close();

  ctx = await browser.newContext();
  page = await ctx.newPage();
  await authorize(page);
  await signIn(page, user.username, PASSWORD);
  await page.waitForSelector('form[action="/mfa/verify"]');
  await page.getByRole('link', { name: 'Use a backup code' }).click();
  await page.getByLabel('Backup code').fill(codes[0]);
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.waitForSelector('#form-error');
  assert.match(await page.textContent('#form-error'), /used already/);
  await ctx.close();
});

test('Experience API only: Logto\'s MFA error codes at each step, binding and verifying an app', async () => {
  const user = await newUser();
  const used = new Set();
  const ui = customUi(async () => client.buildAuthorizationUrl(config, {
    redirect_uri: `${rp.origin}/cb`, scope: 'openid',
    code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()), code_challenge_method: 'S256',
  }).href);
  const signInUi = async () => {
    await ui.start();
    assert.equal((await ui.call('PUT', '/api/experience', { interactionEvent: 'SignIn' })).status, 204);
    const v = await ui.call('POST', '/api/experience/verification/password', { identifier: { type: 'username', value: user.username }, password: PASSWORD });
    assert.equal(v.status, 200);
    assert.equal((await ui.call('POST', '/api/experience/identification', { verificationId: v.body.verificationId })).status, 204);
  };
  await signInUi();
  let r = await ui.call('POST', '/api/experience/submit');
  assert.equal(r.status, 422);
  assert.equal(r.body.code, 'user.missing_mfa');
  assert.deepEqual(r.body.data.availableFactors, ['Totp']);
  r = await ui.call('POST', '/api/experience/profile/mfa/mfa-skipped');
  assert.equal(r.body.code, 'session.mfa.mfa_policy_not_user_controlled');
  const s = await ui.call('POST', '/api/experience/verification/totp/secret');
  assert.equal(s.status, 200);
  r = await ui.call('POST', '/api/experience/verification/totp/verify', { code: '000000', verificationId: s.body.verificationId });
  assert.equal(r.body.code, 'session.mfa.invalid_totp_code');
  r = await ui.call('POST', '/api/experience/verification/totp/verify', { code: await freshCode(s.body.secret, used), verificationId: s.body.verificationId });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal((await ui.call('POST', '/api/experience/profile/mfa', { type: 'Totp', verificationId: s.body.verificationId })).status, 204);
  r = await ui.call('POST', '/api/experience/submit');
  assert.equal(r.body.code, 'session.mfa.backup_code_required');
  const g = await ui.call('POST', '/api/experience/verification/backup-code/generate');
  assert.equal(g.body.codes.length, 10);
  assert.equal((await ui.call('POST', '/api/experience/profile/mfa', { type: 'BackupCode', verificationId: g.body.verificationId })).status, 204);
  r = await ui.call('POST', '/api/experience/submit');
  assert.equal(r.status, 200, JSON.stringify(r.body));

  await signInUi();
  r = await ui.call('POST', '/api/experience/submit');
  assert.equal(r.status, 403);
  assert.equal(r.body.code, 'session.mfa.require_mfa_verification');
  assert.deepEqual(r.body.data.availableFactors, ['Totp', 'BackupCode']);
  const code = await freshCode(s.body.secret, used);
  r = await ui.call('POST', '/api/experience/verification/totp/verify', { code });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  r = await ui.call('POST', '/api/experience/submit');
  assert.equal(r.status, 200);
  const resumed = await ui.call('GET', new URL(r.body.redirectTo).pathname);
  assert.ok(new URL(resumed.location).searchParams.get('code'));

  await signInUi();
  r = await ui.call('POST', '/api/experience/verification/totp/verify', { code });
  assert.equal(r.body.code, 'session.mfa.invalid_totp_code', 'a code is good once');
  r = await ui.call('POST', '/api/experience/submit');
  assert.equal(r.status, 403, 'no session without the second factor');
});
