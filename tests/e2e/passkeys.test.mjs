// Passkeys end to end against the real worker (its WebCrypto checks the signatures):
// - through the Experience API, with a software authenticator written here with node:crypto
//   that makes ES256, RS256 and EdDSA passkeys and answers ceremonies as a browser would;
//   the ID token's amr is read with openid-client;
// - through the hosted pages in Chromium, with its virtual authenticator (reached by name,
//   gatehouse.localhost: WebAuthn refuses an IP address as the relying party).
// Each passkey is bound as the second factor, verified at the next sign-in, and signs in
// alone with passkey sign-in on.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import * as client from 'openid-client';
import { ISSUER, api, unique, customUi } from './helpers.mjs';
import { startReceiver, launchBrowser, reached, signIn, shoot } from './rp.mjs';

const PASSWORD = 'violet skies over oak';
const REDIRECT = 'https://rp.example/cb';
let spa, config;
const settings = (body) => api('PATCH', '/api/sign-in-exp', { body });

before(async () => {
  spa = (await api('POST', '/api/applications', { body: { name: 'Passkeys', type: 'SPA', oidcClientMetadata: { redirectUris: [REDIRECT] } } })).body;
  config = await client.discovery(new URL(ISSUER), spa.id, undefined, client.None(), { execute: [client.allowInsecureRequests] });
  const r = await settings({ mfa: { factors: ['WebAuthn'], policy: 'PromptAtSignInAndSignUp' }, passkeySignIn: { enabled: true } });
  assert.equal(r.status, 200, JSON.stringify(r.body));
});

after(async () => {
  await settings({ mfa: { factors: [], policy: 'PromptAtSignInAndSignUp' }, passkeySignIn: { enabled: false } });
});

// ---- CBOR (RFC 8949), as much as WebAuthn needs
function head(major, n) {
  if (n < 24) return Buffer.from([(major << 5) | n]);
  if (n < 0x100) return Buffer.from([(major << 5) | 24, n]);
  if (n < 0x10000) return Buffer.from([(major << 5) | 25, n >> 8, n & 0xff]);
  const b = Buffer.alloc(5); b[0] = (major << 5) | 26; b.writeUInt32BE(n, 1); return b;
}
function cbor(v) {
  if (typeof v === 'number') return v >= 0 ? head(0, v) : head(1, -1 - v);
  if (typeof v === 'string') { const b = Buffer.from(v); return Buffer.concat([head(3, b.length), b]); }
  if (Buffer.isBuffer(v)) return Buffer.concat([head(2, v.length), v]);
  if (v instanceof Map) return Buffer.concat([head(5, v.size), ...[...v].flatMap(([k, x]) => [cbor(k), cbor(x)])]);
  throw new Error(`cannot encode ${v}`);
}

const b64u = (b) => Buffer.from(b).toString('base64url');
const sha256 = (b) => crypto.createHash('sha256').update(b).digest();

/** A passkey of `alg` ('ES256', 'RS256', 'EdDSA'), held by the test's authenticator. */
function makeKey(alg) {
  const { privateKey, publicKey } = alg === 'ES256' ? crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' })
    : alg === 'RS256' ? crypto.generateKeyPairSync('rsa', { modulusLength: 2048 })
      : crypto.generateKeyPairSync('ed25519');
  const jwk = publicKey.export({ format: 'jwk' });
  const d = (s) => Buffer.from(s, 'base64url');
  const cose = alg === 'ES256' ? new Map([[1, 2], [3, -7], [-1, 1], [-2, d(jwk.x)], [-3, d(jwk.y)]])
    : alg === 'RS256' ? new Map([[1, 3], [3, -257], [-1, d(jwk.n)], [-2, d(jwk.e)]])
      : new Map([[1, 1], [3, -8], [-1, 6], [-2, d(jwk.x)]]);
  const sign = (data) => crypto.sign(alg === 'EdDSA' ? null : 'sha256', data, privateKey);
  return { alg, cose: cbor(cose), sign, id: crypto.randomBytes(16), counter: 0, userHandle: null };
}

const clientData = (type, challenge, origin) => Buffer.from(JSON.stringify({ type, challenge, origin, crossOrigin: false }));

/** navigator.credentials.create(): the JSON a browser posts. */
function create(options, key, origin = new URL(ISSUER).origin) {
  key.userHandle = options.user.id;
  const auth = Buffer.concat([sha256(options.rp.id), Buffer.from([0x45]), Buffer.alloc(4), Buffer.alloc(16),
    Buffer.from([0, key.id.length]), key.id, key.cose]);
  const cd = clientData('webauthn.create', options.challenge, origin);
  const att = cbor(new Map([['fmt', 'none'], ['attStmt', new Map()], ['authData', auth]]));
  return { id: b64u(key.id), rawId: b64u(key.id), type: 'public-key', clientExtensionResults: {},
    response: { clientDataJSON: b64u(cd), attestationObject: b64u(att), transports: ['internal'] } };
}

/** navigator.credentials.get(): the JSON a browser posts. */
function get(options, key, origin = new URL(ISSUER).origin) {
  key.counter += 1;
  const counter = Buffer.alloc(4); counter.writeUInt32BE(key.counter);
  const auth = Buffer.concat([sha256(options.rpId), Buffer.from([0x05]), counter]);
  const cd = clientData('webauthn.get', options.challenge, origin);
  const signature = key.sign(Buffer.concat([auth, sha256(cd)]));
  return { id: b64u(key.id), rawId: b64u(key.id), type: 'public-key', clientExtensionResults: {},
    response: { clientDataJSON: b64u(cd), authenticatorData: b64u(auth), signature: b64u(signature), userHandle: key.userHandle } };
}

/** Chromium's virtual authenticator for `page`: a platform authenticator with user
 * verification that answers at once. */
async function virtualAuthenticator(ctx, page) {
  const cdp = await ctx.newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', { options: {
    protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true,
    isUserVerified: true, automaticPresenceSimulation: true } });
  return { cdp, authenticatorId };
}

function browserUi() {
  let verifier;
  const ui = customUi(async () => {
    verifier = client.randomPKCECodeVerifier();
    return client.buildAuthorizationUrl(config, {
      redirect_uri: REDIRECT, scope: 'openid',
      code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
    }).href;
  });
  /** Submits, follows to the app and exchanges the code: the ID token's amr. */
  const submitForAmr = async () => {
    const r = await ui.call('POST', '/api/experience/submit');
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const resumed = await ui.call('GET', new URL(r.body.redirectTo).pathname);
    const tokens = await client.authorizationCodeGrant(config, new URL(resumed.location), { pkceCodeVerifier: verifier, idTokenExpected: true });
    return tokens.claims().amr;
  };
  return { ...ui, submitForAmr };
}

async function passwordSignIn(ui, username) {
  await ui.start();
  assert.equal((await ui.call('PUT', '/api/experience', { interactionEvent: 'SignIn' })).status, 204);
  const v = await ui.call('POST', '/api/experience/verification/password', { identifier: { type: 'username', value: username }, password: PASSWORD });
  assert.equal(v.status, 200, JSON.stringify(v.body));
  assert.equal((await ui.call('POST', '/api/experience/identification', { verificationId: v.body.verificationId })).status, 204);
}

for (const alg of ['ES256', 'RS256', 'EdDSA']) {
  test(`an ${alg} passkey is bound, verified as the second factor, and signs in alone; a replay and another origin are refused`, async () => {
    const username = unique('pk_');
    assert.equal((await api('POST', '/api/users', { body: { username, password: PASSWORD } })).status, 200);
    const ui = browserUi();
    const key = makeKey(alg);

    // Bind: the prompting policy asks for a factor after the password.
    await passwordSignIn(ui, username);
    let r = await ui.call('POST', '/api/experience/submit');
    // Passkey sign-in is on: Logto's order asks for a passkey first (the prompting policy's
    // suggestion of a factor comes after; a passkey answers both).
    assert.equal(r.body.code, 'user.passkey_preferred', JSON.stringify(r.body));
    const reg = await ui.call('POST', '/api/experience/verification/web-authn/registration');
    assert.equal(reg.status, 200, JSON.stringify(reg.body));
    assert.equal(reg.body.registrationOptions.rp.id, new URL(ISSUER).hostname);
    r = await ui.call('POST', '/api/experience/verification/web-authn/registration/verify', { verificationId: reg.body.verificationId, payload: create(reg.body.registrationOptions, key) });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal((await ui.call('POST', '/api/experience/profile/mfa', { type: 'WebAuthn', verificationId: reg.body.verificationId })).status, 204);
    await ui.submitForAmr();

    // Second factor: the password alone is not enough.
    await passwordSignIn(ui, username);
    r = await ui.call('POST', '/api/experience/submit');
    assert.equal(r.body.code, 'session.mfa.require_mfa_verification');
    let a = await ui.call('POST', '/api/experience/verification/web-authn/authentication');
    assert.equal(a.status, 200, JSON.stringify(a.body));
    const phished = get(a.body.authenticationOptions, key, 'https://phish.example');
    r = await ui.call('POST', '/api/experience/verification/web-authn/authentication/verify', { verificationId: a.body.verificationId, payload: phished });
    assert.equal(r.body.code, 'session.mfa.webauthn_verification_failed', JSON.stringify(r.body));
    a = await ui.call('POST', '/api/experience/verification/web-authn/authentication');
    const answer = get(a.body.authenticationOptions, key);
    r = await ui.call('POST', '/api/experience/verification/web-authn/authentication/verify', { verificationId: a.body.verificationId, payload: answer });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    r = await ui.call('POST', '/api/experience/verification/web-authn/authentication/verify', { verificationId: a.body.verificationId, payload: answer });
    assert.equal(r.body.code, 'session.verification_session_not_found', 'a replayed assertion');
    let amr = await ui.submitForAmr();
    assert.ok(amr.includes('pwd') && amr.includes('hwk') && amr.includes('mfa'), JSON.stringify(amr));

    // First factor: no username, no password.
    await ui.start();
    assert.equal((await ui.call('PUT', '/api/experience', { interactionEvent: 'SignIn' })).status, 204);
    const p = await ui.call('POST', '/api/experience/preflight/sign-in-passkey/authentication');
    assert.equal(p.status, 200, JSON.stringify(p.body));
    assert.deepEqual(p.body.authenticationOptions.allowCredentials, []);
    r = await ui.call('POST', '/api/experience/verification/sign-in-passkey/authentication/verify', { payload: get(p.body.authenticationOptions, key) });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal((await ui.call('POST', '/api/experience/identification', { verificationId: r.body.verificationId })).status, 204);
    amr = await ui.submitForAmr();
    assert.ok(!amr.includes('pwd') && amr.includes('hwk'), JSON.stringify(amr));

    // The Management API lists it.
    const user = (await api('GET', `/api/users?search=${username}`)).body[0];
    const factors = (await api('GET', `/api/users/${user.id}/mfa-verifications`)).body;
    assert.deepEqual(factors.map((f) => f.type), ['WebAuthn']);
  });
}

test('hosted pages in Chromium: bind a passkey after the password, then use it as the second factor and to sign in without a password', async () => {
  const username = unique('pkb_');
  assert.equal((await api('POST', '/api/users', { body: { username, password: PASSWORD } })).status, 200);
  const on = await settings({ passkeySignIn: { enabled: true, showPasskeyButton: true, allowAutofill: true } });
  assert.equal(on.status, 200, JSON.stringify(on.body));
  const rp = await startReceiver();
  const browser = await launchBrowser(['--host-resolver-rules=MAP gatehouse.localhost 127.0.0.1']);
  try {
    const app = (await api('POST', '/api/applications', { body: { name: 'Passkey pages', type: 'SPA', oidcClientMetadata: { redirectUris: [`${rp.origin}/cb`] } } })).body;
    const port = new URL(ISSUER).port;
    const authUrl = () => {
      const u = new URL(`http://gatehouse.localhost:${port}/oidc/auth`);
      u.search = new URLSearchParams({ client_id: app.id, redirect_uri: `${rp.origin}/cb`, response_type: 'code', scope: 'openid',
        code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256' }).toString();
      return u.href;
    };
    const ctx = await browser.newContext();
    const page = await ctx.newPage();
    const { cdp, authenticatorId } = await virtualAuthenticator(ctx, page);

    // The password, then the prompt to create a passkey (the only factor enabled).
    await page.goto(authUrl());
    assert.equal(await page.getAttribute('#identifier', 'autocomplete'), 'username webauthn');
    await signIn(page, username, PASSWORD);
    await page.waitForSelector('#passkey-button');
    await shoot(page, 'passkey-bind');
    await page.click('#passkey-button');
    let cb = await reached(page, `${rp.origin}/cb`);
    assert.ok(cb.searchParams.get('code'));
    const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
    assert.equal(credentials.length, 1);
    assert.equal(credentials[0].rpId, 'gatehouse.localhost');
    assert.equal(credentials[0].isResidentCredential, true);

    // The next sign-in: the password, then the passkey as the second factor (autofill off:
    // with it, the browser would offer the passkey in the username field at once).
    await settings({ passkeySignIn: { enabled: true, showPasskeyButton: true, allowAutofill: false } });
    await ctx.clearCookies();
    await page.goto(authUrl());
    await signIn(page, username, PASSWORD);
    await page.waitForURL((u) => u.pathname === '/mfa/verify');
    await page.click('#passkey-button');
    cb = await reached(page, `${rp.origin}/cb`);
    assert.ok(cb.searchParams.get('code'));

    // No password at all: "Sign in with a passkey", where the terms must be ticked first:
    // the passkey waits for the box, and loading the page changed nothing in the interaction.
    await settings({ termsOfUseUrl: 'https://example.com/terms', agreeToTermsPolicy: 'Manual' });
    await ctx.clearCookies();
    const puts = [];
    page.on('request', (r) => { if (r.method() === 'PUT' && r.url().endsWith('/api/experience')) puts.push(r.url()); });
    await page.goto(authUrl());
    await page.waitForSelector('#passkey-button');
    assert.equal(puts.length, 0, 'no PUT on page load');
    await shoot(page, 'passkey-sign-in');
    await page.click('#passkey-button');
    await page.waitForTimeout(300);
    assert.equal(new URL(page.url()).pathname, '/sign-in', 'waits for the terms');
    await page.check('#agree');
    cb = await reached(page, `${rp.origin}/cb`);
    assert.ok(cb.searchParams.get('code'));
    assert.equal(puts.length, 1);
    await settings({ termsOfUseUrl: null, agreeToTermsPolicy: 'Automatic' });

    // Autofill (conditional UI): the browser offers the passkey from the username field; the
    // virtual authenticator picks it, and the user is signed in without typing anything.
    await settings({ passkeySignIn: { enabled: true, showPasskeyButton: false, allowAutofill: true } });
    await ctx.clearCookies();
    await page.goto(authUrl());
    cb = await reached(page, `${rp.origin}/cb`);
    assert.ok(cb.searchParams.get('code'));
    const after = (await cdp.send('WebAuthn.getCredentials', { authenticatorId })).credentials;
    assert.ok(after[0].signCount >= 3, `the counter moved: ${after[0].signCount}`);
  } finally {
    await browser.close();
    await rp.close();
  }
});

test('a passkey is added through the Account API: a record for the challenge it issued, bound with a password record; another origin, a replay and another user\'s record are refused', async () => {
  const center = (body) => api('PATCH', '/api/account-center', { body });
  assert.equal((await center({ enabled: true, fields: { mfa: 'Edit' } })).status, 200);
  try {
    /** An Account API token of a new user (the passkey prompts skipped). */
    const tokenOfNewUser = async () => {
      const username = unique('pka_');
      assert.equal((await api('POST', '/api/users', { body: { username, password: PASSWORD } })).status, 200);
      let verifier;
      const ui = customUi(async () => {
        verifier = client.randomPKCECodeVerifier();
        return client.buildAuthorizationUrl(config, { redirect_uri: REDIRECT, scope: 'openid identities',
          code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256' }).href;
      });
      await passwordSignIn(ui, username);
      let r;
      for (let i = 0; i < 3; i += 1) {
        r = await ui.call('POST', '/api/experience/submit');
        if (r.status === 200) break;
        const skip = r.body.code === 'user.passkey_preferred' ? 'passkey-skipped' : 'mfa-skipped';
        assert.equal((await ui.call('POST', `/api/experience/profile/mfa/${skip}`)).status, 204, JSON.stringify(r.body));
      }
      assert.equal(r.status, 200, JSON.stringify(r.body));
      const resumed = await ui.call('GET', new URL(r.body.redirectTo).pathname);
      const tokens = await client.authorizationCodeGrant(config, new URL(resumed.location), { pkceCodeVerifier: verifier });
      const user = (await api('GET', `/api/users?search=${username}`)).body[0];
      return { token: tokens.access_token, user };
    };
    const my = async (path, token, body, record) => {
      const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
      if (record) headers['logto-verification-id'] = record;
      const res = await fetch(`${new URL(ISSUER).origin}/api${path}`, { method: 'POST', headers, body: JSON.stringify(body ?? {}) });
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : undefined };
    };
    const { token, user } = await tokenOfNewUser();
    const key = makeKey('ES256');
    const reg = await my('/verifications/web-authn/registration', token);
    assert.equal(reg.status, 200, JSON.stringify(reg.body));
    const options = reg.body.registrationOptions;
    assert.equal(options.rp.id, new URL(ISSUER).hostname);
    assert.equal(options.authenticatorSelection.userVerification, 'required');
    const id = reg.body.verificationRecordId;
    // Made on another origin: refused, and the record still waits for the right answer.
    const phished = await my('/verifications/web-authn/registration/verify', token, { verificationRecordId: id, payload: create(options, key, 'https://phish.example') });
    assert.equal(phished.body.code, 'session.mfa.webauthn_verification_failed', JSON.stringify(phished.body));
    const answer = create(options, key);
    const ok = await my('/verifications/web-authn/registration/verify', token, { verificationRecordId: id, payload: answer });
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    const replay = await my('/verifications/web-authn/registration/verify', token, { verificationRecordId: id, payload: answer });
    assert.equal(replay.body.code, 'verification_record.not_found', 'a replayed answer');

    // Another user cannot bind it with their own password record.
    const other = await tokenOfNewUser();
    const otherRecord = (await my('/verifications/password', other.token, { password: PASSWORD })).body.verificationRecordId;
    const stolen = await my('/my-account/mfa-verifications', other.token, { type: 'WebAuthn', newIdentifierVerificationRecordId: id }, otherRecord);
    assert.equal(stolen.status, 400, JSON.stringify(stolen.body));
    assert.deepEqual((await api('GET', `/api/users/${other.user.id}/mfa-verifications`)).body, []);

    // The owner binds it, with an identity verification.
    const unverified = await my('/my-account/mfa-verifications', token, { type: 'WebAuthn', newIdentifierVerificationRecordId: id });
    assert.equal(unverified.status, 401);
    const record = (await my('/verifications/password', token, { password: PASSWORD })).body.verificationRecordId;
    const bound = await my('/my-account/mfa-verifications', token, { type: 'WebAuthn', newIdentifierVerificationRecordId: id, name: 'Phone' }, record);
    assert.equal(bound.status, 204, JSON.stringify(bound.body));
    assert.deepEqual((await api('GET', `/api/users/${user.id}/mfa-verifications`)).body.map((f) => [f.type, f.name]), [['WebAuthn', 'Phone']]);
    // The owner names it (with a record); Logto's route.
    const [made] = (await api('GET', `/api/users/${user.id}/mfa-verifications`)).body;
    const rename = (body, rec) => fetch(`${new URL(ISSUER).origin}/api/my-account/mfa-verifications/${made.id}/name`, {
      method: 'PATCH', body: JSON.stringify(body),
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...(rec ? { 'logto-verification-id': rec } : {}) } });
    assert.equal((await rename({ name: 'Laptop' })).status, 401);
    assert.equal((await rename({ name: '' }, record)).status, 400);
    assert.equal((await rename({ name: 'Laptop' }, record)).status, 200);
    assert.equal((await api('GET', `/api/users/${user.id}/mfa-verifications`)).body[0].name, 'Laptop');
    // It signs the owner in: the next sign-in asks for it and takes it.
    const ui = browserUi();
    await passwordSignIn(ui, user.username);
    const r = await ui.call('POST', '/api/experience/submit');
    assert.equal(r.body.code, 'session.mfa.require_mfa_verification', JSON.stringify(r.body));
    const a = await ui.call('POST', '/api/experience/verification/web-authn/authentication');
    const v = await ui.call('POST', '/api/experience/verification/web-authn/authentication/verify', { verificationId: a.body.verificationId, payload: get(a.body.authenticationOptions, key) });
    assert.equal(v.status, 200, JSON.stringify(v.body));
  } finally {
    await center({ enabled: false });
  }
});

test('hosted account page in Chromium: after the current password, a passkey is created with the browser and bound', async () => {
  const username = unique('pkp_');
  assert.equal((await api('POST', '/api/users', { body: { username, password: PASSWORD } })).status, 200);
  const center = (body) => api('PATCH', '/api/account-center', { body });
  assert.equal((await center({ enabled: true, fields: { mfa: 'Edit' } })).status, 200);
  // Signed in without a factor to set up first; then passkeys are on.
  await settings({ mfa: { factors: [], policy: 'PromptAtSignInAndSignUp' }, passkeySignIn: { enabled: false } });
  const browser = await launchBrowser(['--host-resolver-rules=MAP gatehouse.localhost 127.0.0.1']);
  try {
    const base = `http://gatehouse.localhost:${new URL(ISSUER).port}`;
    const ctx = await browser.newContext();
    const page = await ctx.newPage();
    const { cdp, authenticatorId } = await virtualAuthenticator(ctx, page);
    await page.goto(`${base}/account`);
    await signIn(page, username, PASSWORD);
    await page.waitForURL((u) => u.pathname === '/account');
    assert.equal(await page.locator('ul.new-passkey').count(), 0, 'no passkeys while the settings have none');
    await settings({ mfa: { factors: ['WebAuthn'], policy: 'PromptAtSignInAndSignUp' }, passkeySignIn: { enabled: true } });
    await page.reload();
    await page.fill('#new-passkey-add', 'not the password');
    await page.locator('ul.new-passkey button').click();
    await page.waitForSelector('#form-error');
    await page.fill('#new-passkey-add', PASSWORD);
    await page.locator('ul.new-passkey button').click();
    await page.waitForSelector('#passkey-button');
    await page.click('#passkey-button');
    await page.waitForSelector('#notice');
    const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
    assert.equal(credentials.length, 1);
    assert.equal(credentials[0].rpId, 'gatehouse.localhost');
    const user = (await api('GET', `/api/users?search=${username}`)).body[0];
    assert.deepEqual((await api('GET', `/api/users/${user.id}/mfa-verifications`)).body.map((f) => f.type), ['WebAuthn']);
    assert.match(await page.textContent('ul.factor'), /Passkey|HeadlessChrome|Mozilla/);
    await ctx.close();
  } finally {
    await browser.close();
    await center({ enabled: false });
    await settings({ mfa: { factors: ['WebAuthn'], policy: 'PromptAtSignInAndSignUp' }, passkeySignIn: { enabled: true } });
  }
});
