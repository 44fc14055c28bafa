// The Account API end to end: an app (npm openid-client) signs a user in through the hosted
// pages in Chromium and calls /api/my-account with the opaque access token. A password
// change needs a verification record and ends the old password; the primary email changes
// with a code read from the development mailbox; another session is listed and ended, and
// then cannot refresh; the account is deleted, its tokens stop working, the app receives a
// back-channel logout and the Management API no longer finds the user.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as client from 'openid-client';
import * as jose from 'jose';
import { BASE, ISSUER, api, unique } from './helpers.mjs';
import otplib from 'otplib';
import http from 'node:http';
import Provider from 'oidc-provider';
import { startReceiver, launchBrowser, reached, signIn, until } from './rp.mjs';

const PASSWORD = 'larch trees in autumn';
const SCOPE = 'openid profile email phone identities offline_access urn:logto:scope:sessions';
const opts = { execute: [client.allowInsecureRequests] };
const FIELDS = { name: 'Edit', profile: 'Edit', username: 'Edit', email: 'Edit', phone: 'Edit', password: 'Edit', session: 'Edit', social: 'Edit', mfa: 'Edit', deleteAccount: 'Edit' };
let rp, browser, config;

const center = (body) => api('PATCH', '/api/account-center', { body });

before(async () => {
  rp = await startReceiver();
  browser = await launchBrowser();
  const web = (await api('POST', '/api/applications', { body: { name: 'Account app', type: 'Traditional', oidcClientMetadata: {
    redirectUris: [`${rp.origin}/cb`], backchannelLogoutUri: `${rp.origin}/bcl`, backchannelLogoutSessionRequired: true } } })).body;
  config = await client.discovery(new URL(ISSUER), web.id, web.secret, client.ClientSecretBasic(web.secret), opts);
  const r = await center({ enabled: true, fields: FIELDS });
  assert.equal(r.status, 200, JSON.stringify(r.body));
});

after(async () => {
  await center({ enabled: false });
  await browser?.close();
  await rp?.close();
});

async function newUser() {
  const tag = unique('acct');
  const res = await api('POST', '/api/users', { body: { username: `${tag}_u`, primaryEmail: `${tag}@example.com`, password: PASSWORD } });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body;
}

/** Signs `user` in with `password` in a fresh browser context; the token response. */
async function signInAndExchange(user, password = PASSWORD) {
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  const verifier = client.randomPKCECodeVerifier();
  await page.goto(client.buildAuthorizationUrl(config, {
    redirect_uri: `${rp.origin}/cb`, scope: SCOPE,
    code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
  }).href);
  await signIn(page, user.username, password);
  const callback = await reached(page, `${rp.origin}/cb`);
  const tokens = await client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier });
  await ctx.close();
  return tokens;
}

/** Whether `password` signs `user` in on the hosted page. */
async function passwordWorks(user, password) {
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  await page.goto(client.buildAuthorizationUrl(config, { redirect_uri: `${rp.origin}/cb`, scope: 'openid' }).href);
  await signIn(page, user.username, password);
  const outcome = await Promise.race([
    reached(page, `${rp.origin}/cb`).then(() => true),
    page.waitForSelector('#form-error').then(() => false),
  ]);
  await ctx.close();
  return outcome;
}

/** The hosted account page, signed in as `user` in a fresh browser context. */
async function accountPage(user) {
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  await page.goto(`${BASE}/account`);
  await signIn(page, user.username, PASSWORD);
  await page.waitForURL((u) => u.pathname === '/account');
  return { ctx, page };
}

/** npm oidc-provider as a social provider that sends the browser back to `redirectUri`,
 * and a generic OIDC connector for it: `{issuer, target, connectorId, close}`. */
async function socialProvider(redirectUri, tag) {
  const idp = http.createServer();
  await new Promise((resolve) => idp.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${idp.address().port}`;
  const provider = new Provider(issuer, {
    clients: [{ client_id: 'gatehouse', client_secret: 'a-secret', redirect_uris: [redirectUri] }],
    async findAccount(_ctx, id) {
      return { accountId: id, claims: () => ({ sub: id, email: `${id}@example.com`, email_verified: true }) };
    },
  });
  idp.on('request', provider.callback());
  const target = unique(tag);
  const made = await api('POST', '/api/connectors', {
    body: { connectorId: 'oidc', config: { clientId: 'gatehouse', clientSecret: 'a-secret', issuer, scope: 'openid email' }, metadata: { target, name: tag } },
  });
  assert.equal(made.status, 201, JSON.stringify(made.body));
  const connectorId = made.body.id;
  const close = async () => { await api('DELETE', `/api/connectors/${connectorId}`); idp.close(); };
  return { issuer, target, connectorId, close };
}

/** Signs `user` in on the hosted pages with the password and then backup code `code`. */
async function signInWithBackupCode(user, code) {
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  await page.goto(client.buildAuthorizationUrl(config, { redirect_uri: `${rp.origin}/cb`, scope: 'openid' }).href);
  await signIn(page, user.username, PASSWORD);
  await page.getByRole('link', { name: 'Use a backup code' }).click();
  await page.getByLabel('Backup code').fill(code);
  await page.getByRole('button', { name: 'Continue' }).click();
  await reached(page, `${rp.origin}/cb`);
  await ctx.close();
}

/** A call to the Account API with the user's access token (and a verification record). */
async function my(method, path, token, { body, record } = {}) {
  const headers = { authorization: `Bearer ${token}` };
  if (body) headers['content-type'] = 'application/json';
  if (record) headers['logto-verification-id'] = record;
  const res = await fetch(`${BASE}/api${path}`, { method, headers, body: body ? JSON.stringify(body) : undefined });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

async function passwordRecord(token, password = PASSWORD) {
  const r = await my('POST', '/verifications/password', token, { body: { password } });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  assert.ok(Date.parse(r.body.expiresAt) > Date.now());
  return r.body.verificationRecordId;
}

async function mailboxCode(to) {
  return until(async () => {
    const list = await (await fetch(`${BASE}/dev/mailbox.json?to=${encodeURIComponent(to)}`)).json();
    return list[0]?.body.match(/\b(\d{6})\b/)?.[1];
  });
}

test('the Account API is off until the account center is on, and takes only a live opaque token with openid', async () => {
  const user = await newUser();
  const { access_token: token } = await signInAndExchange(user);
  assert.equal((await center({ enabled: false })).status, 200);
  const off = await my('GET', '/my-account', token);
  assert.deepEqual([off.status, off.body.code], [400, 'account_center.not_enabled']);
  assert.equal((await center({ enabled: true })).status, 200);
  const pub = await (await fetch(`${BASE}/api/.well-known/account-center`)).json();
  assert.equal(pub.enabled, true);
  assert.equal(pub.fields.password, 'Edit');
  const bad = await center({ fields: { password: 'Sometimes' } });
  assert.deepEqual([bad.status, bad.body.code], [400, 'guard.invalid_input']);

  assert.equal((await fetch(`${BASE}/api/my-account`)).status, 401);
  const forged = await my('GET', '/my-account', 'not-a-token');
  assert.deepEqual([forged.status, forged.body.code], [401, 'auth.unauthorized']);
  const me = await my('GET', '/my-account', token);
  assert.equal(me.status, 200, JSON.stringify(me.body));
  assert.equal(me.body.id, user.id);
  assert.equal(me.body.username, user.username);
  assert.equal(me.body.primaryEmail, user.primaryEmail);
  assert.equal(me.body.hasPassword, true);
  assert.equal(me.body.customData, undefined, 'customData is Off: not shown');
  // A field that is Off cannot be changed; one that is Edit can.
  const avatar = await my('PATCH', '/my-account', token, { body: { avatar: 'https://example.com/a.png' } });
  assert.deepEqual([avatar.status, avatar.body.code], [400, 'account_center.field_not_enabled']);
  const named = await my('PATCH', '/my-account', token, { body: { name: 'Ada Account' } });
  assert.equal(named.status, 200, JSON.stringify(named.body));
  assert.equal(named.body.name, 'Ada Account');
  assert.equal((await client.fetchUserInfo(config, token, user.id)).name, 'Ada Account');
});

test('a password change needs a verification record of the same user; then the old password fails and the new one signs in', async () => {
  const user = await newUser();
  const other = await newUser();
  const { access_token: token } = await signInAndExchange(user);
  const { access_token: otherToken } = await signInAndExchange(other);
  const NEW = 'quiet harbour at dawn';
  const bare = await my('POST', '/my-account/password', token, { body: { password: NEW } });
  assert.deepEqual([bare.status, bare.body.code], [401, 'verification_record.permission_denied']);
  const wrong = await my('POST', '/verifications/password', token, { body: { password: 'not my password' } });
  assert.deepEqual([wrong.status, wrong.body.code], [422, 'session.invalid_credentials']);
  // The attacker's test: another user's record does not count for this one.
  const theirs = await passwordRecord(otherToken);
  const stolen = await my('POST', '/my-account/password', token, { body: { password: NEW }, record: theirs });
  assert.deepEqual([stolen.status, stolen.body.code], [401, 'verification_record.permission_denied']);

  const record = await passwordRecord(token);
  const weak = await my('POST', '/my-account/password', token, { body: { password: 'abc' }, record });
  assert.equal(weak.status >= 400 && weak.status < 500, true, JSON.stringify(weak.body));
  const changed = await my('POST', '/my-account/password', token, { body: { password: NEW }, record });
  assert.equal(changed.status, 204, JSON.stringify(changed.body));
  assert.equal(await passwordWorks(user, PASSWORD), false, 'the old password no longer signs in');
  assert.equal(await passwordWorks(user, NEW), true);
});

test('the primary email changes with a code for the new address read from the development mailbox', async () => {
  const user = await newUser();
  const taken = await newUser();
  const { access_token: token } = await signInAndExchange(user);
  const record = await passwordRecord(token);
  const email = `${unique('new')}@example.com`.toLowerCase();
  const sent = await my('POST', '/verifications/verification-code', token, { body: { identifier: { type: 'email', value: email } } });
  assert.equal(sent.status, 201, JSON.stringify(sent.body));
  const codeRecord = sent.body.verificationRecordId;
  const code = await mailboxCode(email);
  // Not verified yet: the record cannot set the address.
  const early = await my('POST', '/my-account/primary-email', token, { body: { email, newIdentifierVerificationRecordId: codeRecord }, record });
  assert.deepEqual([early.status, early.body.code], [400, 'verification_record.not_found']);
  const wrongCode = await my('POST', '/verifications/verification-code/verify', token, {
    body: { identifier: { type: 'email', value: email }, verificationId: codeRecord, code: code === '000000' ? '111111' : '000000' } });
  assert.equal(wrongCode.status, 400, JSON.stringify(wrongCode.body));
  const verified = await my('POST', '/verifications/verification-code/verify', token, {
    body: { identifier: { type: 'email', value: email }, verificationId: codeRecord, code } });
  assert.equal(verified.status, 200, JSON.stringify(verified.body));
  // A code for a new address is not a verification of the user.
  const noProof = await my('POST', '/my-account/primary-email', token, { body: { email, newIdentifierVerificationRecordId: codeRecord }, record: codeRecord });
  assert.deepEqual([noProof.status, noProof.body.code], [401, 'verification_record.permission_denied']);
  // The record proves that address only.
  const other = await my('POST', '/my-account/primary-email', token, { body: { email: taken.primaryEmail, newIdentifierVerificationRecordId: codeRecord }, record });
  assert.deepEqual([other.status, other.body.code], [400, 'verification_record.not_found']);
  const done = await my('POST', '/my-account/primary-email', token, { body: { email, newIdentifierVerificationRecordId: codeRecord }, record });
  assert.equal(done.status, 204, JSON.stringify(done.body));
  assert.equal((await api('GET', `/api/users/${user.id}`)).body.primaryEmail, email);
});

test('a user lists their sessions and ends another one, which then cannot refresh, and its app is told', async () => {
  const user = await newUser();
  const laptop = await signInAndExchange(user);
  const phone = await signInAndExchange(user);
  const record = await passwordRecord(laptop.access_token);
  const unverified = await my('GET', '/my-account/sessions', laptop.access_token);
  assert.deepEqual([unverified.status, unverified.body.code], [401, 'verification_record.permission_denied']);
  const list = await my('GET', '/my-account/sessions', laptop.access_token, { record });
  assert.equal(list.status, 200, JSON.stringify(list.body));
  const ids = list.body.sessions.map((s) => s.id).sort();
  const phoneSid = phone.claims().sid;
  const laptopSid = laptop.claims().sid;
  assert.deepEqual(ids, [laptopSid, phoneSid].sort());
  assert.equal(list.body.sessions.find((s) => s.isCurrent).id, laptopSid);

  rp.logouts.length = 0;
  const ended = await my('DELETE', `/my-account/sessions/${phoneSid}`, laptop.access_token, { record });
  assert.equal(ended.status, 204, JSON.stringify(ended.body));
  await assert.rejects(client.refreshTokenGrant(config, phone.refresh_token), (e) => e.error === 'invalid_grant');
  const [delivery] = await until(() => (rp.logouts.length ? rp.logouts : null));
  const jwks = jose.createRemoteJWKSet(new URL(`${ISSUER}/jwks`));
  const { payload } = await jose.jwtVerify(delivery.token, jwks, { issuer: ISSUER, audience: config.clientMetadata().client_id });
  assert.equal(payload.sid, phoneSid);
  assert.equal(payload.sub, user.id);
  // The laptop goes on.
  assert.ok((await client.refreshTokenGrant(config, laptop.refresh_token)).access_token);
  const gone = await my('DELETE', `/my-account/sessions/${phoneSid}`, laptop.access_token, { record });
  assert.deepEqual([gone.status, gone.body.code], [404, 'oidc.session_not_found']);
});

test('deleting the account needs a verification record, ends its tokens, tells its app, and removes the user', async () => {
  const user = await newUser();
  const tokens = await signInAndExchange(user);
  const bare = await my('DELETE', '/my-account', tokens.access_token);
  assert.deepEqual([bare.status, bare.body.code], [401, 'verification_record.permission_denied']);
  const record = await passwordRecord(tokens.access_token);
  rp.logouts.length = 0;
  const deleted = await my('DELETE', '/my-account', tokens.access_token, { record });
  assert.equal(deleted.status, 204, JSON.stringify(deleted.body));
  await assert.rejects(client.fetchUserInfo(config, tokens.access_token, user.id));
  await assert.rejects(client.refreshTokenGrant(config, tokens.refresh_token), (e) => e.error === 'invalid_grant');
  const [delivery] = await until(() => (rp.logouts.length ? rp.logouts : null));
  assert.equal(jose.decodeJwt(delivery.token).sub, user.id);
  assert.equal((await api('GET', `/api/users/${user.id}`)).status, 404);
  assert.equal((await my('GET', '/my-account', tokens.access_token)).status, 401);
});

test('a phone number is added with a code and an email removed; identities, factors and grants are listed and removed', async () => {
  const user = await newUser();
  const tokens = await signInAndExchange(user);
  const token = tokens.access_token;
  const record = await passwordRecord(token);
  const phone = `1555${String(Date.now()).slice(-7)}`;
  const sent = await my('POST', '/verifications/verification-code', token, { body: { identifier: { type: 'phone', value: `+${phone}` } } });
  assert.equal(sent.status, 201, JSON.stringify(sent.body));
  const code = await mailboxCode(phone);
  const ok = await my('POST', '/verifications/verification-code/verify', token, {
    body: { identifier: { type: 'phone', value: `+${phone}` }, verificationId: sent.body.verificationRecordId, code } });
  assert.equal(ok.status, 200, JSON.stringify(ok.body));
  const added = await my('POST', '/my-account/primary-phone', token, { body: { phone: `+${phone}`, newIdentifierVerificationRecordId: sent.body.verificationRecordId }, record });
  assert.equal(added.status, 204, JSON.stringify(added.body));
  const dropped = await my('DELETE', '/my-account/primary-email', token, { record });
  assert.equal(dropped.status, 204, JSON.stringify(dropped.body));
  const after = (await api('GET', `/api/users/${user.id}`)).body;
  assert.deepEqual([after.primaryPhone, after.primaryEmail], [phone, null]);

  // A social identity set by an operator is unlinked by the user; an unknown one is a 404.
  assert.equal((await api('PUT', `/api/users/${user.id}/identities/acme`, { body: { userId: 'acme-1' } })).status, 200);
  const none = await my('DELETE', '/my-account/identities/other', token, { record });
  assert.deepEqual([none.status, none.body.code], [404, 'user.identity_not_exist']);
  const unlinked = await my('DELETE', '/my-account/identities/acme', token, { record });
  assert.equal(unlinked.status, 204, JSON.stringify(unlinked.body));
  assert.deepEqual((await api('GET', `/api/users/${user.id}`)).body.identities, {});

  // Factors: an authenticator app added by an operator is listed and removed by the user.
  const made = await api('POST', `/api/users/${user.id}/mfa-verifications`, { body: { type: 'Totp' } });
  assert.equal(made.status, 200, JSON.stringify(made.body));
  const factors = await my('GET', '/my-account/mfa-verifications', token);
  assert.equal(factors.status, 200, JSON.stringify(factors.body));
  assert.deepEqual(factors.body.map((f) => f.type), ['Totp']);
  const unverifiedDrop = await my('DELETE', `/my-account/mfa-verifications/${factors.body[0].id}`, token);
  assert.equal(unverifiedDrop.status, 401);
  assert.equal((await my('DELETE', `/my-account/mfa-verifications/${factors.body[0].id}`, token, { record })).status, 204);
  assert.deepEqual((await my('GET', '/my-account/mfa-verifications', token)).body, []);

  // Grants: the app's grant is listed; revoking it revokes the app's refresh token.
  const grants = await my('GET', '/my-account/grants', token, { record });
  assert.equal(grants.status, 200, JSON.stringify(grants.body));
  assert.equal(grants.body.grants.length, 1);
  assert.equal(grants.body.grants[0].applicationId, config.clientMetadata().client_id);
  assert.equal((await my('DELETE', `/my-account/grants/${grants.body.grants[0].id}`, token, { record })).status, 204);
  await assert.rejects(client.refreshTokenGrant(config, tokens.refresh_token), (e) => e.error === 'invalid_grant');
});

test('a third-party app may read the account but not verify or change it', async () => {
  const user = await newUser();
  const partner = (await api('POST', '/api/applications', { body: { name: 'Partner', type: 'Traditional', isThirdParty: true,
    oidcClientMetadata: { redirectUris: [`${rp.origin}/cb`] } } })).body;
  const tp = await client.discovery(new URL(ISSUER), partner.id, partner.secret, client.ClientSecretBasic(partner.secret), opts);
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  const verifier = client.randomPKCECodeVerifier();
  await page.goto(client.buildAuthorizationUrl(tp, {
    redirect_uri: `${rp.origin}/cb`, scope: 'openid profile',
    code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
  }).href);
  await signIn(page, user.username, PASSWORD);
  await page.waitForSelector('form[action="/consent"]');
  await page.getByRole('button', { name: 'Authorize' }).click();
  const tokens = await client.authorizationCodeGrant(tp, await reached(page, `${rp.origin}/cb`), { pkceCodeVerifier: verifier });
  await ctx.close();
  const me = await my('GET', '/my-account', tokens.access_token);
  assert.equal(me.status, 200, JSON.stringify(me.body));
  const verify = await my('POST', '/verifications/password', tokens.access_token, { body: { password: PASSWORD } });
  assert.deepEqual([verify.status, verify.body.code], [403, 'auth.third_party_application_forbidden']);
  const rename = await my('PATCH', '/my-account', tokens.access_token, { body: { name: 'Mallory' } });
  assert.deepEqual([rename.status, rename.body.code], [403, 'auth.third_party_application_forbidden']);
});

test('the hosted account page: sign in through the normal flow, rename, end another session, change the password and delete the account, each after the current password', async () => {
  const user = await newUser();
  const elsewhere = await signInAndExchange(user);
  const { ctx, page } = await accountPage(user);
  assert.equal(await page.textContent('h1'), 'Your account');
  // The URL carried a code: other sites are not told it.
  assert.equal((await page.reload()).headers()['referrer-policy'], 'same-origin');
  assert.match(await page.textContent('dl'), new RegExp(user.username));

  await page.fill('#name', 'Page Person');
  await page.getByRole('button', { name: 'Save' }).click();
  await page.waitForSelector('#notice');
  assert.equal((await api('GET', `/api/users/${user.id}`)).body.name, 'Page Person');

  // Two sessions are listed; the other one ends only with the right password.
  const other = `#end-${elsewhere.claims().sid}`;
  assert.equal(await page.locator('ul.end li').count(), 2);
  await page.fill(other, 'not the password');
  await page.locator(`form:has(${other}) button`).click();
  await page.waitForSelector('#form-error');
  await page.fill(other, PASSWORD);
  await page.locator(`form:has(${other}) button`).click();
  await page.waitForSelector('#notice');
  assert.equal(await page.locator('ul.end li').count(), 1);
  await assert.rejects(client.refreshTokenGrant(config, elsewhere.refresh_token), (e) => e.error === 'invalid_grant');

  const NEW = 'paper boats on the river';
  await page.fill('#password-current', 'wrong');
  await page.fill('#password-new', NEW);
  await page.getByRole('button', { name: 'Change password' }).click();
  await page.waitForSelector('#form-error');
  await page.fill('#password-current', PASSWORD);
  await page.fill('#password-new', NEW);
  await page.getByRole('button', { name: 'Change password' }).click();
  await page.waitForSelector('#notice');
  assert.equal(await passwordWorks(user, PASSWORD), false);

  // The page speaks German to a German browser.
  const de = await browser.newContext({ locale: 'de-DE' });
  const dePage = await de.newPage();
  await dePage.goto(`${BASE}/account`);
  await dePage.waitForSelector('form[action="/sign-in"]');
  await dePage.getByLabel(/Benutzername|Username/).fill(user.username);
  await dePage.getByLabel(/Passwort|Password/).fill(NEW);
  await dePage.locator('form[action="/sign-in"] button[type="submit"]').first().click();
  await dePage.waitForURL((u) => u.pathname === '/account');
  assert.equal(await dePage.textContent('h1'), 'Dein Konto');
  await de.close();

  await page.reload();
  await page.fill('#delete-current', NEW);
  await page.getByRole('button', { name: 'Delete account' }).click();
  await page.waitForSelector('text=Your account has been deleted.');
  assert.equal((await api('GET', `/api/users/${user.id}`)).status, 404);
  await ctx.close();
});

test('the account page changes the email address with the code sent to it, after the current password; a wrong code, a forged password proof and another user\'s address are refused', async () => {
  const user = await newUser();
  const other = await newUser();
  const { ctx, page } = await accountPage(user);
  const sendCode = async (to, password = PASSWORD) => {
    await page.fill('#email-new', to);
    await page.fill('#email-current', password);
    await page.locator('form:has(#email-new) button').click();
  };
  const fresh = `${unique('page')}@example.com`;
  await sendCode(fresh, 'not the password');
  await page.waitForSelector('#form-error');
  assert.equal(await page.locator('#code').count(), 0);
  await sendCode(fresh);
  await page.waitForSelector('#code');
  assert.ok((await page.textContent('form:has(#code)')).includes(fresh));
  const code = await mailboxCode(fresh);

  // The second step needs the first step's password record: a forged one changes nothing.
  const fields = Object.fromEntries(await page.locator('form:has(#code) input[type=hidden]').evaluateAll(
    (inputs) => inputs.map((i) => [i.name, i.value])));
  const forged = await page.request.post(`${BASE}/account`, { form: { ...fields, proof: 'forged', code }, maxRedirects: 0 });
  assert.equal(forged.status(), 400);
  assert.match(await forged.text(), /no longer valid/);
  assert.equal((await api('GET', `/api/users/${user.id}`)).body.primaryEmail, user.primaryEmail);

  await page.fill('#code', code === '000000' ? '111111' : '000000');
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.waitForSelector('#form-error');
  assert.match(await page.textContent('#form-error'), /code is wrong/);
  await page.fill('#code', code);
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.waitForSelector('#notice');
  assert.match(await page.textContent('#notice'), /new address is saved/);
  assert.equal((await api('GET', `/api/users/${user.id}`)).body.primaryEmail, fresh);
  assert.ok((await page.textContent('dl')).includes(fresh));

  // Another user's address, even with its code, stays theirs.
  await sendCode(other.primaryEmail);
  await page.waitForSelector('#code');
  await page.fill('#code', await mailboxCode(other.primaryEmail));
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.waitForSelector('#form-error');
  assert.match(await page.textContent('#form-error'), /already in use/);
  assert.equal((await api('GET', `/api/users/${user.id}`)).body.primaryEmail, fresh);
  await ctx.close();
});

test('the account page unlinks an identity, makes new backup codes (shown once) and removes MFA factors, each after the current password', async () => {
  const user = await newUser();
  const { ctx, page } = await accountPage(user);
  assert.equal((await api('PUT', `/api/users/${user.id}/identities/acme`, { body: { userId: 'acme-1' } })).status, 200);
  assert.equal((await api('POST', `/api/users/${user.id}/mfa-verifications`, { body: { type: 'Totp' } })).status, 200);
  await page.reload();
  assert.match(await page.textContent('ul.unlink li'), /^acme\s/);
  assert.match(await page.textContent('ul.factor li'), /Authenticator app/);

  await page.fill('#unlink-acme', 'not the password');
  await page.locator('form:has(#unlink-acme) button').click();
  await page.waitForSelector('#form-error');
  assert.deepEqual(Object.keys((await api('GET', `/api/users/${user.id}`)).body.identities), ['acme']);
  await page.fill('#unlink-acme', PASSWORD);
  await page.locator('form:has(#unlink-acme) button').click();
  await page.waitForSelector('#notice');
  assert.deepEqual((await api('GET', `/api/users/${user.id}`)).body.identities, {});
  assert.equal(await page.locator('ul.unlink li').count(), 0);

  // New backup codes: shown once, refused while unused ones are left.
  await page.fill('#backup-new', 'not the password');
  await page.locator('ul.backup button').click();
  await page.waitForSelector('#form-error');
  await page.fill('#backup-new', PASSWORD);
  await page.locator('ul.backup button').click();
  await page.waitForSelector('ul.codes');
  const codes = await page.locator('ul.codes li').allTextContents();
  assert.equal(codes.length, 10);
  assert.ok(codes.every((c) => /^[0-9a-f]{10}$/.test(c)), JSON.stringify(codes));
  const types = (await api('GET', `/api/users/${user.id}/mfa-verifications`)).body.map((f) => f.type).sort();
  assert.deepEqual(types, ['BackupCode', 'Totp']);
  await page.fill('#backup-new', PASSWORD);
  await page.locator('ul.backup button').click();
  await page.waitForSelector('#form-error');
  assert.match(await page.textContent('#form-error'), /Remove the old codes first/);
  assert.equal(await page.locator('ul.codes').count(), 0);
  const backup = page.locator('ul.factor li', { hasText: 'Backup codes' });
  await backup.locator('input[type=password]').fill(PASSWORD);
  await backup.locator('button').click();
  await page.waitForSelector('#notice');

  const factor = page.locator('ul.factor input[type=password]');
  await factor.fill(PASSWORD);
  await page.locator('ul.factor button').click();
  await page.waitForSelector('#notice');
  assert.deepEqual((await api('GET', `/api/users/${user.id}/mfa-verifications`)).body, []);
  assert.equal(await page.locator('ul.factor li').count(), 0);
  await ctx.close();
});

test('a social identity is linked through the Account API: a social record proven at a real provider, then linked with a password record; an identity another user has is refused', async () => {
  const { issuer, target, connectorId, close } = await socialProvider(`${rp.origin}/social-cb`, 'guild');
  try {
    const user = await newUser();
    const { access_token: token } = await signInAndExchange(user);
    /** A social record of `token`'s user, proven at the provider as `login`. */
    const proven = async (login, token) => {
      const start = await my('POST', '/verifications/social', token, { body: { connectorId, state: 'app-state-1', redirectUri: `${rp.origin}/social-cb` } });
      assert.equal(start.status, 201, JSON.stringify(start.body));
      const ctx = await browser.newContext();
      const page = await ctx.newPage();
      await page.goto(start.body.authorizationUri);
      await page.locator('input[name=login]').fill(login);
      await page.locator('input[name=password]').fill('any');
      await page.locator('button[type=submit]').click();
      await page.waitForURL((u) => !u.href.includes('/login'), { timeout: 15_000 });
      if (page.url().startsWith(issuer)) await page.locator('button[type=submit]').click();
      const back = await reached(page, `${rp.origin}/social-cb`);
      await ctx.close();
      return { id: start.body.verificationRecordId, data: Object.fromEntries(back.searchParams) };
    };
    const login = unique('lin');
    const social = await proven(login, token);
    // The answer must carry the flow's state; a forged one proves nothing.
    const forged = await my('POST', '/verifications/social/verify', token, { body: { verificationRecordId: social.id, connectorData: { ...social.data, state: 'other' } } });
    assert.deepEqual([forged.status, forged.body.code], [400, 'session.csrf_token_mismatch'], JSON.stringify(forged.body));
    const verified = await my('POST', '/verifications/social/verify', token, { body: { verificationRecordId: social.id, connectorData: social.data } });
    assert.deepEqual([verified.status, verified.body.verificationRecordId], [200, social.id], JSON.stringify(verified.body));
    // A social record proves the identity only: it is no identity verification.
    const alone = await my('POST', '/my-account/identities', token, { body: { newIdentifierVerificationRecordId: social.id }, record: social.id });
    assert.equal(alone.status, 401, JSON.stringify(alone.body));
    const record = await passwordRecord(token);
    const linked = await my('POST', '/my-account/identities', token, { body: { newIdentifierVerificationRecordId: social.id }, record });
    assert.equal(linked.status, 204, JSON.stringify(linked.body));
    assert.equal((await api('GET', `/api/users/${user.id}`)).body.identities[target].userId, login);
    // Logto's PUT (replace) does the same.
    const replaced = await my('PUT', '/my-account/identities', token, { body: { newIdentifierVerificationRecordId: social.id }, record });
    assert.equal(replaced.status, 204, JSON.stringify(replaced.body));

    // The same provider account cannot be linked to a second user.
    const other = await newUser();
    const { access_token: otherToken } = await signInAndExchange(other);
    const again = await proven(login, otherToken);
    assert.equal((await my('POST', '/verifications/social/verify', otherToken, { body: { verificationRecordId: again.id, connectorData: again.data } })).status, 200);
    // Another user's record is not theirs to verify or use.
    const stolen = await my('POST', '/verifications/social/verify', otherToken, { body: { verificationRecordId: social.id, connectorData: social.data } });
    assert.deepEqual([stolen.status, stolen.body.code], [400, 'verification_record.not_found']);
    const otherRecord = await passwordRecord(otherToken);
    const stolenLink = await my('POST', '/my-account/identities', otherToken, { body: { newIdentifierVerificationRecordId: social.id }, record: otherRecord });
    assert.deepEqual([stolenLink.status, stolenLink.body.code], [400, 'verification_record.not_found']);
    const taken = await my('POST', '/my-account/identities', otherToken, { body: { newIdentifierVerificationRecordId: again.id }, record: otherRecord });
    assert.deepEqual([taken.status, taken.body.code], [422, 'user.identity_already_in_use'], JSON.stringify(taken.body));
    assert.deepEqual((await api('GET', `/api/users/${other.id}`)).body.identities, {});
  } finally {
    await close();
  }
});

test('the account page sets up an authenticator app: the current password shows its QR code and key, and a code from the app binds it', async () => {
  const settings = (body) => api('PATCH', '/api/sign-in-exp', { body });
  const user = await newUser();
  // Signed in first: with the factor on, the sign-in would offer to set it up itself.
  const { ctx, page } = await accountPage(user);
  assert.equal((await settings({ mfa: { factors: ['Totp', 'BackupCode'], policy: 'UserControlled' } })).status, 200);
  try {
    await page.reload();
    await page.fill('#app-add', 'not the password');
    await page.locator('ul.app button').click();
    await page.waitForSelector('#form-error');
    assert.equal(await page.locator('#app-secret').count(), 0);
    await page.fill('#app-add', PASSWORD);
    await page.locator('ul.app button').click();
    await page.waitForSelector('#app-secret');
    assert.match(await page.getAttribute('img.qr', 'src'), /^data:image\/svg\+xml/);
    const secret = (await page.textContent('#app-secret')).trim();
    assert.match(secret, /^[A-Z2-7]{32}$/);
    // A wrong code binds nothing and asks again, for the same key.
    const right = otplib.authenticator.generate(secret);
    await page.fill('#app-code', right === '000000' ? '111111' : '000000');
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.waitForSelector('#form-error');
    assert.equal((await page.textContent('#app-secret')).trim(), secret);
    assert.deepEqual((await api('GET', `/api/users/${user.id}/mfa-verifications`)).body, []);
    await page.fill('#app-code', otplib.authenticator.generate(secret));
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.waitForSelector('#notice');
    assert.deepEqual((await api('GET', `/api/users/${user.id}/mfa-verifications`)).body.map((f) => f.type), ['Totp']);
    assert.equal(await page.locator('ul.app').count(), 0);
    await ctx.close();
  } finally {
    await settings({ mfa: { factors: [], policy: 'PromptAtSignInAndSignUp' } });
  }
});

test('the account page links a social identity: the current password sends the browser to the provider, and its answer, for this user\'s record only, links it', async () => {
  const { issuer, target, connectorId, close } = await socialProvider(`${BASE}/account`, 'club');
  const settings = (body) => api('PATCH', '/api/sign-in-exp', { body });
  const user = await newUser();
  const { ctx, page } = await accountPage(user);
  assert.equal((await settings({ socialSignInConnectorTargets: [target] })).status, 200);
  try {
    // An answer that no record of this user began links nothing.
    await page.goto(`${BASE}/account?code=stolen&state=forged`);
    await page.waitForSelector('#form-error');
    assert.deepEqual((await api('GET', `/api/users/${user.id}`)).body.identities, {});

    await page.fill(`#link-${connectorId}`, PASSWORD);
    await page.locator('ul.link button').click();
    await page.waitForURL((u) => u.href.startsWith(issuer), { timeout: 15_000 });
    const login = unique('mem');
    await page.locator('input[name=login]').fill(login);
    await page.locator('input[name=password]').fill('any');
    await page.locator('button[type=submit]').click();
    await page.waitForURL((u) => !u.href.includes('/login'), { timeout: 15_000 });
    if (page.url().startsWith(issuer)) await page.locator('button[type=submit]').click();
    await page.waitForURL((u) => u.href.startsWith(`${BASE}/account`), { timeout: 15_000 });
    await page.waitForSelector('#notice');
    assert.equal((await api('GET', `/api/users/${user.id}`)).body.identities[target].userId, login);
    assert.match(await page.textContent('ul.unlink'), new RegExp(target));
    // The same answer again is spent.
    await page.reload();
    await page.waitForSelector('#form-error');
    await ctx.close();
  } finally {
    await settings({ socialSignInConnectorTargets: [] });
    await close();
  }
});

test('the profile claims change with PATCH /my-account/profile, merged into those kept; an address needs its scope, and a read-only field refuses', async () => {
  const user = await newUser();
  const { access_token: token } = await signInAndExchange(user);
  const first = await my('PATCH', '/my-account/profile', token, { body: { givenName: 'Ada', familyName: 'Lovelace' } });
  assert.equal(first.status, 200, JSON.stringify(first.body));
  const second = await my('PATCH', '/my-account/profile', token, { body: { nickname: 'ada', familyName: null } });
  assert.deepEqual(second.body, { givenName: 'Ada', nickname: 'ada' });
  assert.deepEqual((await api('GET', `/api/users/${user.id}`)).body.profile, { givenName: 'Ada', nickname: 'ada' });
  const address = await my('PATCH', '/my-account/profile', token, { body: { address: { locality: 'London' } } });
  assert.deepEqual([address.status, address.body.code], [401, 'auth.unauthorized']);
  const unknown = await my('PATCH', '/my-account/profile', token, { body: { shoeSize: 9 } });
  assert.deepEqual([unknown.status, unknown.body.code], [400, 'guard.invalid_input']);
  assert.equal((await center({ fields: { ...FIELDS, profile: 'ReadOnly' } })).status, 200);
  try {
    const ro = await my('PATCH', '/my-account/profile', token, { body: { givenName: 'Eve' } });
    assert.deepEqual([ro.status, ro.body.code], [400, 'account_center.field_not_editable']);
  } finally {
    await center({ fields: FIELDS });
  }
  assert.equal((await api('GET', `/api/users/${user.id}`)).body.profile.givenName, 'Ada');
});

test('a user binds an authenticator app (a code from it is required) and backup codes through the Account API', async () => {
  const settings = (body) => api('PATCH', '/api/sign-in-exp', { body });
  const user = await newUser();
  const { access_token: token } = await signInAndExchange(user);
  const record = await passwordRecord(token);
  const { secret } = (await my('POST', '/my-account/mfa-verifications/totp-secret/generate', token)).body;
  assert.match(secret, /^[A-Z2-7]+=*$/);
  // Not enabled in the sign-in experience: refused.
  const off = await my('POST', '/my-account/mfa-verifications', token, { body: { type: 'Totp', secret, code: otplib.authenticator.generate(secret) }, record });
  assert.equal(off.status, 400, JSON.stringify(off.body));
  assert.equal((await settings({ mfa: { factors: ['Totp', 'BackupCode'], policy: 'UserControlled' } })).status, 200);
  try {
    const unverified = await my('POST', '/my-account/mfa-verifications', token, { body: { type: 'Totp', secret, code: otplib.authenticator.generate(secret) } });
    assert.equal(unverified.status, 401);
    const wrong = await my('POST', '/my-account/mfa-verifications', token, { body: { type: 'Totp', secret, code: '000000' }, record });
    assert.deepEqual([wrong.status, wrong.body.code], [400, 'session.mfa.invalid_totp_code']);
    const bound = await my('POST', '/my-account/mfa-verifications', token, { body: { type: 'Totp', secret, code: otplib.authenticator.generate(secret) }, record });
    assert.equal(bound.status, 204, JSON.stringify(bound.body));
    const { codes } = (await my('POST', '/my-account/mfa-verifications/backup-codes/generate', token)).body;
    assert.equal(codes.length, 10);
    const backup = await my('POST', '/my-account/mfa-verifications', token, { body: { type: 'BackupCode', codes }, record });
    assert.equal(backup.status, 204, JSON.stringify(backup.body));
    const types = (await my('GET', '/my-account/mfa-verifications', token)).body.map((f) => f.type).sort();
    assert.deepEqual(types, ['BackupCode', 'Totp']);
    const again = await my('POST', '/my-account/mfa-verifications', token, { body: { type: 'Totp', secret, code: otplib.authenticator.generate(secret) }, record });
    assert.deepEqual([again.status, again.body.code], [422, 'user.totp_already_in_use']);
    // The user's MFA preferences (Logto's logto-configs): read freely, changed with a record.
    assert.equal((await my('PATCH', '/my-account/logto-configs', token, { body: { mfa: { skipMfaOnSignIn: true } } })).status, 401);
    const cfg = await my('PATCH', '/my-account/logto-configs', token, { body: { mfa: { skipMfaOnSignIn: true } }, record });
    assert.equal(cfg.status, 200, JSON.stringify(cfg.body));
    assert.equal((await my('GET', '/my-account/logto-configs', token)).body.mfa.skipMfaOnSignIn, true);
    // mfa-settings is the same preference under Logto's newer route.
    assert.deepEqual((await my('GET', '/my-account/mfa-settings', token)).body, { skipMfaOnSignIn: true });
    assert.equal((await my('PATCH', '/my-account/mfa-settings', token, { body: { skipMfaOnSignIn: false } })).status, 401);
    const bad = await my('PATCH', '/my-account/mfa-settings', token, { body: { skipMfaOnSignIn: 'no' }, record });
    assert.deepEqual([bad.status, bad.body.code], [400, 'guard.invalid_input']);
    assert.deepEqual((await my('PATCH', '/my-account/mfa-settings', token, { body: { skipMfaOnSignIn: false }, record })).body, { skipMfaOnSignIn: false });
    assert.equal((await my('GET', '/my-account/logto-configs', token)).body.mfa.skipMfaOnSignIn, false);
    // The backup codes are listed without their values (kept hashed, shown once); a used
    // one has its time. Listing them needs a record.
    assert.equal((await my('GET', '/my-account/mfa-verifications/backup-codes', token)).status, 401);
    const before = (await my('GET', '/my-account/mfa-verifications/backup-codes', token, { record })).body.codes;
    assert.equal(before.length, 10);
    assert.ok(before.every((c) => !('code' in c) && c.usedAt === null), JSON.stringify(before));
    await signInWithBackupCode(user, codes[0]);
    const after = (await my('GET', '/my-account/mfa-verifications/backup-codes', token, { record })).body.codes;
    assert.equal(after.filter((c) => c.usedAt).length, 1, JSON.stringify(after));
    assert.ok(after.every((c) => !('code' in c)));
  } finally {
    await settings({ mfa: { factors: [], policy: 'PromptAtSignInAndSignUp' } });
  }
});

test('the account page refuses a form without its CSRF token, and password guesses through the Account API are throttled as sign-ins are', async () => {
  const res = await fetch(`${BASE}/account`, {
    method: 'POST', redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ action: 'delete', current: PASSWORD }),
  });
  assert.equal(res.status, 403);
  assert.match(await res.text(), /form has expired/);
  // The attacker's guesses through the Account API count as sign-in failures (100 an hour
  // per person, experience::IDENTIFIER_POLICY): after the lockout even the right password
  // gets no record.
  const user = await newUser();
  const { access_token: token } = await signInAndExchange(user);
  let locked;
  for (let i = 0; i < 105 && !locked; i += 1) {
    const r = await my('POST', '/verifications/password', token, { body: { password: `guess ${i}` } });
    if (r.status !== 422) locked = r;
  }
  assert.ok(locked, 'guessing is throttled');
  assert.equal(locked.status, 429, JSON.stringify(locked.body));
  const right = await my('POST', '/verifications/password', token, { body: { password: PASSWORD } });
  assert.equal(right.status, 429, JSON.stringify(right.body));
});

test('a code issued to the account pages\' own app gets no tokens, whoever holds it', async () => {
  const user = await newUser();
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  const verifier = client.randomPKCECodeVerifier();
  // An attacker's own authorization request for the account app, with a verifier they keep.
  const url = new URL(`${ISSUER}/auth`);
  url.search = new URLSearchParams({ client_id: 'gatehouse-account', redirect_uri: `${BASE}/account`, response_type: 'code',
    scope: 'openid', code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256' }).toString();
  await page.goto(url.href);
  await signIn(page, user.username, PASSWORD);
  await page.waitForURL((u) => u.pathname === '/account');
  const code = new URL(page.url()).searchParams.get('code');
  assert.ok(code, 'the account page was reached with a code');
  await ctx.close();
  const res = await fetch(`${ISSUER}/token`, {
    method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'authorization_code', client_id: 'gatehouse-account', code, code_verifier: verifier, redirect_uri: `${BASE}/account` }),
  });
  assert.equal(res.status, 401);
  assert.equal((await res.json()).error, 'invalid_client');
});
