// The OpenID Connect provider end to end: openid-client as the relying party, Chromium
// (playwright-core) for the hosted pages, jose to verify back-channel logout tokens.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as client from 'openid-client';
import * as jose from 'jose';
import { ISSUER, api, tokenRequest, basic, unique } from './helpers.mjs';
import { startReceiver, launchBrowser, reached, signIn, until, shoot } from './rp.mjs';

const PASSWORD = 'correct horse battery';
const API = `https://api.${unique('r')}.example`;
const opts = { execute: [client.allowInsecureRequests] };
let rp, browser, spa, web, thirdParty, user, spaConfig, webConfig, tpConfig;
let earlyCode; // a code obtained at the start, exchanged after it expired

async function createApp(body) {
  const res = await api('POST', '/api/applications', { body });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body;
}

/** Runs an authorization request in `page` and returns the callback URL and PKCE values. */
async function authorize(page, config, params = {}, { credentials = true } = {}) {
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: `${rp.origin}/cb`,
    scope: 'openid profile email offline_access',
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    nonce,
    ...params,
  });
  await page.goto(url.href);
  if (credentials) {
    const where = await Promise.race([
      page.waitForSelector('form[action="/sign-in"]').then(() => 'sign-in'),
      reached(page, `${rp.origin}/cb`).then(() => 'callback'),
    ]);
    if (where === 'sign-in') await signIn(page, user.username, PASSWORD);
  }
  return { callback: await reached(page, `${rp.origin}/cb`), verifier, state, nonce };
}

async function exchange(config, flow) {
  return client.authorizationCodeGrant(config, flow.callback, {
    pkceCodeVerifier: flow.verifier, expectedState: flow.state, expectedNonce: flow.nonce, idTokenExpected: true,
  });
}

before(async () => {
  rp = await startReceiver();
  browser = await launchBrowser();
  const meta = {
    redirectUris: [`${rp.origin}/cb`],
    postLogoutRedirectUris: [`${rp.origin}/signed-out`],
    backchannelLogoutUri: `${rp.origin}/bcl`,
    backchannelLogoutSessionRequired: true,
  };
  spa = await createApp({ name: 'E2E SPA', type: 'SPA', oidcClientMetadata: meta });
  web = await createApp({ name: 'E2E Web', type: 'Traditional', oidcClientMetadata: meta });
  thirdParty = await createApp({ name: 'Partner App', type: 'Traditional', isThirdParty: true, oidcClientMetadata: { redirectUris: [`${rp.origin}/cb`] } });
  spaConfig = await client.discovery(new URL(ISSUER), spa.id, undefined, client.None(), opts);
  webConfig = await client.discovery(new URL(ISSUER), web.id, web.secret, client.ClientSecretBasic(web.secret), opts);
  tpConfig = await client.discovery(new URL(ISSUER), thirdParty.id, thirdParty.secret, client.ClientSecretBasic(thirdParty.secret), opts);

  const tag = unique('e2e');
  user = (await api('POST', '/api/users', {
    body: { username: `${tag}_u`, primaryEmail: `${tag}@example.com`, password: PASSWORD, name: 'E2E User', profile: { givenName: 'E2E' } },
  })).body;

  // An API resource whose `write` scope the user's role does not grant.
  const resource = (await api('POST', '/api/resources', { body: { name: 'Orders', indicator: API, accessTokenTtl: 600 } })).body;
  const read = (await api('POST', `/api/resources/${resource.id}/scopes`, { body: { name: 'read:orders' } })).body;
  await api('POST', `/api/resources/${resource.id}/scopes`, { body: { name: 'write:orders' } });
  const role = (await api('POST', '/api/roles', { body: { name: unique('reader-'), description: 'reads', scopeIds: [read.id] } })).body;
  assert.equal((await api('POST', `/api/users/${user.id}/roles`, { body: { roleIds: [role.id] } })).status, 201);

  const ctx = await browser.newContext();
  const flow = await authorize(await ctx.newPage(), webConfig);
  earlyCode = { at: Date.now(), code: flow.callback.searchParams.get('code'), verifier: flow.verifier };
  await ctx.close();
});

after(async () => {
  await browser?.close();
  await rp?.close();
});

describe('authorization code + PKCE', () => {
  test('SPA: sign in, validate the ID token, userinfo, refresh rotation, sign out, back-channel logout', async () => {
    const ctx = await browser.newContext();
    const page = await ctx.newPage();
    const flow = await authorize(page, spaConfig);
    assert.equal(flow.callback.searchParams.get('iss'), ISSUER, 'RFC 9207 iss in the response');
    const tokens = await exchange(spaConfig, flow);
    const claims = tokens.claims();
    assert.equal(claims.iss, ISSUER);
    assert.equal(claims.sub, user.id);
    assert.equal(claims.aud, spa.id);
    assert.equal(claims.nonce, flow.nonce);
    assert.equal(claims.email, user.primaryEmail);
    assert.equal(claims.username, user.username);
    assert.equal(claims.given_name, 'E2E');
    assert.deepEqual(claims.amr, ['pwd']);
    assert.ok(claims.sid && claims.at_hash && claims.auth_time);
    assert.ok(tokens.refresh_token, 'offline_access gives a refresh token');
    assert.equal(jose.decodeProtectedHeader(tokens.id_token).alg, 'ES256');

    const info = await client.fetchUserInfo(spaConfig, tokens.access_token, claims.sub);
    assert.equal(info.sub, user.id);
    assert.equal(info.email, user.primaryEmail);
    assert.equal(info.name, 'E2E User');

    const refreshed = await client.refreshTokenGrant(spaConfig, tokens.refresh_token);
    assert.notEqual(refreshed.refresh_token, tokens.refresh_token);
    assert.equal(refreshed.claims().sub, user.id);
    await assert.rejects(client.refreshTokenGrant(spaConfig, tokens.refresh_token), (e) => e.error === 'invalid_grant');
    await assert.rejects(client.refreshTokenGrant(spaConfig, refreshed.refresh_token), (e) => e.error === 'invalid_grant',
      'reuse revoked the whole family');
    await assert.rejects(client.fetchUserInfo(spaConfig, refreshed.access_token, claims.sub), 'its access token too');

    // A second sign-in in the same browser skips the page (the KV session).
    const again = await authorize(page, spaConfig, {}, { credentials: false });
    const second = await exchange(spaConfig, again);
    assert.equal(second.claims().sid, claims.sid);
    const online = await exchange(spaConfig, await authorize(page, spaConfig, { scope: 'openid profile' }, { credentials: false }));
    assert.equal(online.refresh_token, undefined, 'no refresh token without offline_access');

    // RP-initiated logout with a confirmation step, then back-channel logout.
    rp.logouts.length = 0;
    const end = client.buildEndSessionUrl(spaConfig, {
      id_token_hint: second.id_token, post_logout_redirect_uri: `${rp.origin}/signed-out`, state: 'bye',
    });
    await page.goto(end.href);
    await page.getByRole('button', { name: 'Sign out' }).click();
    const out = await reached(page, `${rp.origin}/signed-out`);
    assert.equal(out.searchParams.get('state'), 'bye');

    const [delivery] = await until(() => (rp.logouts.length ? rp.logouts : null));
    assert.match(delivery.contentType, /application\/x-www-form-urlencoded/);
    const { payload, protectedHeader } = await jose.jwtVerify(delivery.token, jose.createRemoteJWKSet(new URL(`${ISSUER}/jwks`)), {
      issuer: ISSUER, audience: spa.id, typ: 'logout+jwt', algorithms: ['ES256'],
    });
    assert.equal(protectedHeader.typ, 'logout+jwt');
    assert.equal(payload.sub, user.id);
    assert.equal(payload.sid, claims.sid);
    assert.deepEqual(payload.events, { 'http://schemas.openid.net/event/backchannel-logout': {} });
    assert.ok(payload.jti && payload.iat && payload.exp > payload.iat);
    assert.equal(payload.nonce, undefined);

    // What the ended session got without offline_access is revoked; offline grants survive
    // (as in Logto). A new authorize asks to sign in again.
    await assert.rejects(client.fetchUserInfo(spaConfig, online.access_token, claims.sub));
    assert.ok((await client.refreshTokenGrant(spaConfig, second.refresh_token)).access_token);
    await page.goto(client.buildAuthorizationUrl(spaConfig, {
      redirect_uri: `${rp.origin}/cb`, scope: 'openid', code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()), code_challenge_method: 'S256',
    }).href);
    await page.waitForSelector('form[action="/sign-in"]');
    await ctx.close();
  });

  test('Traditional app with a secret: code flow, revocation and introspection', async () => {
    const ctx = await browser.newContext();
    const flow = await authorize(await ctx.newPage(), webConfig);
    const tokens = await exchange(webConfig, flow);
    assert.equal(tokens.claims().aud, web.id);

    const active = await client.tokenIntrospection(webConfig, tokens.access_token);
    assert.equal(active.active, true);
    assert.equal(active.sub, user.id);
    assert.equal(active.client_id, web.id);
    const refreshInfo = await client.tokenIntrospection(webConfig, tokens.refresh_token);
    assert.equal(refreshInfo.active, true);
    assert.equal(refreshInfo.token_type, 'refresh_token');

    await client.tokenRevocation(webConfig, tokens.access_token);
    assert.equal((await client.tokenIntrospection(webConfig, tokens.access_token)).active, false);
    await assert.rejects(client.fetchUserInfo(webConfig, tokens.access_token, user.id));
    await client.tokenRevocation(webConfig, tokens.refresh_token);
    assert.equal((await client.tokenIntrospection(webConfig, tokens.refresh_token)).active, false);
    await assert.rejects(client.refreshTokenGrant(webConfig, tokens.refresh_token), (e) => e.error === 'invalid_grant');
    // Unknown tokens revoke quietly (RFC 7009 §2.2).
    await client.tokenRevocation(webConfig, 'not-a-token');
    // A public client cannot introspect.
    const pub = await fetch(`${ISSUER}/token/introspection`, {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ client_id: spa.id, token: 'x' }),
    });
    assert.equal(pub.status, 401);
    await ctx.close();
  });

  test('response_mode form_post and fragment deliver the code', async () => {
    const ctx = await browser.newContext();
    const page = await ctx.newPage();
    const frag = await authorize(page, spaConfig, { response_mode: 'fragment' });
    const params = new URLSearchParams(frag.callback.hash.slice(1));
    assert.ok(params.get('code'));
    assert.equal(params.get('state'), frag.state);
    assert.equal(params.get('iss'), ISSUER);
    // form_post: the browser POSTs the response to the redirect URI.
    const posted = page.waitForRequest((r) => r.url() === `${rp.origin}/cb` && r.method() === 'POST');
    const verifier = client.randomPKCECodeVerifier();
    await page.goto(client.buildAuthorizationUrl(spaConfig, {
      redirect_uri: `${rp.origin}/cb`, scope: 'openid', response_mode: 'form_post', state: 's1',
      code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
    }).href);
    const body = new URLSearchParams((await posted).postData());
    assert.ok(body.get('code'));
    assert.equal(body.get('state'), 's1');
    assert.equal(body.get('iss'), ISSUER);
    await ctx.close();
  });
});

describe('consent for third-party apps', () => {
  test('shown once, remembered, shown again after the grant is revoked; cancel is access_denied', async () => {
    const ctx = await browser.newContext();
    const page = await ctx.newPage();
    const consentShown = async () => {
      const verifier = client.randomPKCECodeVerifier();
      await page.goto(client.buildAuthorizationUrl(tpConfig, {
        redirect_uri: `${rp.origin}/cb`, scope: 'openid profile email', code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
      }).href);
      const where = await Promise.race([
        page.waitForSelector('form[action="/sign-in"]').then(() => 'sign-in'),
        page.waitForSelector('form[action="/consent"]').then(() => 'consent'),
        reached(page, `${rp.origin}/cb`).then(() => 'callback'),
      ]);
      if (where === 'sign-in') {
        await signIn(page, user.username, PASSWORD);
        return Promise.race([
          page.waitForSelector('form[action="/consent"]').then(() => true),
          reached(page, `${rp.origin}/cb`).then(() => false),
        ]);
      }
      return where === 'consent';
    };
    assert.equal(await consentShown(), true, 'the first time asks');
    await shoot(page, 'consent');
    const text = await page.textContent('main');
    assert.match(text, /Partner App/);
    assert.match(text, new RegExp(user.primaryEmail.replace('.', '\\.')));
    assert.match(text, /See your email address/);
    await page.getByRole('button', { name: 'Authorize' }).click();
    assert.ok((await reached(page, `${rp.origin}/cb`)).searchParams.get('code'));

    assert.equal(await consentShown(), false, 'the grant is remembered');

    const grants = await api('GET', `/api/users/${user.id}/grants?appType=thirdParty`);
    const grant = grants.body.find((g) => g.applicationId === thirdParty.id);
    assert.ok(grant);
    assert.deepEqual(grant.scopes, ['openid', 'profile', 'email']);
    assert.equal((await api('DELETE', `/api/users/${user.id}/grants/${grant.id}`)).status, 204);

    assert.equal(await consentShown(), true, 'asked again after revocation');
    await page.getByRole('button', { name: 'Cancel' }).click();
    const denied = await reached(page, `${rp.origin}/cb`);
    assert.equal(denied.searchParams.get('error'), 'access_denied');
    assert.equal(denied.searchParams.get('code'), null);
    await ctx.close();
  });
});

describe('negative cases', () => {
  test('redirect_uri mismatch shows an error page and never redirects', async () => {
    const url = client.buildAuthorizationUrl(spaConfig, {
      redirect_uri: 'https://evil.example/cb', scope: 'openid', code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256',
    });
    const res = await fetch(url, { redirect: 'manual' });
    assert.equal(res.status, 400);
    assert.equal(res.headers.get('location'), null);
    assert.match(await res.text(), /redirect_uri is not registered/);
    const unknown = await fetch(`${ISSUER}/auth?client_id=nope&redirect_uri=${encodeURIComponent(`${rp.origin}/cb`)}&response_type=code&scope=openid`, { redirect: 'manual' });
    assert.equal(unknown.status, 400);
    assert.equal(unknown.headers.get('location'), null);
  });

  test('protocol errors go back to the client: unsupported response type, unknown resource, prompt=none without a session', async () => {
    const base = { client_id: spa.id, redirect_uri: `${rp.origin}/cb`, scope: 'openid', state: 'st',
      code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256', response_type: 'code' };
    const errorOf = async (params) => {
      const res = await fetch(`${ISSUER}/auth?${new URLSearchParams({ ...base, ...params })}`, { redirect: 'manual' });
      assert.equal(res.status, 303);
      const loc = new URL(res.headers.get('location'));
      assert.equal(loc.origin + loc.pathname, `${rp.origin}/cb`);
      assert.equal(loc.searchParams.get('state'), 'st');
      assert.equal(loc.searchParams.get('iss'), ISSUER);
      assert.equal(loc.searchParams.get('code'), null);
      return loc.searchParams.get('error');
    };
    assert.equal(await errorOf({ response_type: 'token' }), 'unsupported_response_type');
    assert.equal(await errorOf({ resource: 'https://no-such-api.example' }), 'invalid_target');
    assert.equal(await errorOf({ prompt: 'none' }), 'login_required');
    assert.equal(await errorOf({ code_challenge_method: 'plain' }), 'invalid_request');
  });

  test('PKCE: a missing or wrong verifier fails and issues nothing', async () => {
    const ctx = await browser.newContext();
    const page = await ctx.newPage();
    for (const verifier of [undefined, client.randomPKCECodeVerifier()]) {
      const flow = await authorize(page, spaConfig);
      const form = { grant_type: 'authorization_code', client_id: spa.id, code: flow.callback.searchParams.get('code'), redirect_uri: `${rp.origin}/cb` };
      if (verifier) form.code_verifier = verifier;
      const res = await tokenRequest(form);
      assert.equal(res.status, 400);
      assert.equal(res.body.error, 'invalid_grant');
      assert.equal(res.body.access_token, undefined);
    }
    await ctx.close();
  });

  test('a replayed code fails and revokes what was issued from it', async () => {
    const ctx = await browser.newContext();
    const flow = await authorize(await ctx.newPage(), webConfig);
    const form = { grant_type: 'authorization_code', code: flow.callback.searchParams.get('code'), redirect_uri: `${rp.origin}/cb`, code_verifier: flow.verifier };
    const auth = { authorization: basic(web.id, web.secret) };
    const first = await tokenRequest(form, auth);
    assert.equal(first.status, 200);
    const replay = await tokenRequest(form, auth);
    assert.equal(replay.status, 400);
    assert.equal(replay.body.error, 'invalid_grant');
    const refresh = await tokenRequest({ grant_type: 'refresh_token', refresh_token: first.body.refresh_token }, auth);
    assert.equal(refresh.body.error, 'invalid_grant', 'the refresh token from the first exchange is revoked');
    const me = await fetch(`${ISSUER}/me`, { headers: { authorization: `Bearer ${first.body.access_token}` } });
    assert.equal(me.status, 401);
    assert.match(me.headers.get('www-authenticate'), /invalid_token/);
    await ctx.close();
  });

  test('wrong client secret and unsupported grant type', async () => {
    const wrong = await tokenRequest({ grant_type: 'refresh_token', refresh_token: 'x' }, { authorization: basic(web.id, 'wrong-secret') });
    assert.equal(wrong.status, 401);
    assert.equal(wrong.body.error, 'invalid_client');
    const unsupported = await tokenRequest({ grant_type: 'password', username: 'a', password: 'b' }, { authorization: basic(web.id, web.secret) });
    assert.equal(unsupported.status, 400);
    assert.equal(unsupported.body.error, 'unsupported_grant_type');
    const device = await tokenRequest({ grant_type: 'urn:ietf:params:oauth:grant-type:device_code' }, { authorization: basic(web.id, web.secret) });
    assert.equal(device.body.error, 'unsupported_grant_type');
  });

  test('resource scopes the user\'s roles do not grant are left out of the token', async () => {
    const ctx = await browser.newContext();
    const flow = await authorize(await ctx.newPage(), webConfig, { resource: API, scope: 'openid offline_access read:orders write:orders' });
    const tokens = await exchange(webConfig, flow);
    const forApi = await client.refreshTokenGrant(webConfig, tokens.refresh_token, { resource: API });
    const { payload } = await jose.jwtVerify(forApi.access_token, jose.createRemoteJWKSet(new URL(`${ISSUER}/jwks`)), {
      issuer: ISSUER, audience: API, typ: 'at+jwt',
    });
    assert.equal(payload.scope, 'read:orders');
    assert.equal(payload.sub, user.id);
    assert.equal(payload.client_id, web.id);
    assert.equal(payload.exp - payload.iat, 600, 'the resource\'s own TTL');
    const other = await tokenRequest({ grant_type: 'refresh_token', refresh_token: forApi.refresh_token, resource: 'https://other.example' },
      { authorization: basic(web.id, web.secret) });
    assert.equal(other.body.error, 'invalid_target');
    await ctx.close();
  });

  test('post_logout_redirect_uri must be registered', async () => {
    const res = await fetch(`${ISSUER}/session/end?${new URLSearchParams({ client_id: spa.id, post_logout_redirect_uri: 'https://evil.example/' })}`, { redirect: 'manual' });
    assert.equal(res.status, 400);
    assert.equal(res.headers.get('location'), null);
    assert.match(await res.text(), /post_logout_redirect_uri is not registered/);
  });

  test('20 parallel refreshes with one refresh token: exactly one succeeds', async () => {
    const ctx = await browser.newContext();
    const tokens = await exchange(webConfig, await authorize(await ctx.newPage(), webConfig));
    const results = await Promise.all(Array.from({ length: 20 }, () => tokenRequest(
      { grant_type: 'refresh_token', refresh_token: tokens.refresh_token }, { authorization: basic(web.id, web.secret) })));
    const ok = results.filter((r) => r.status === 200);
    assert.equal(ok.length, 1, results.map((r) => r.status).join(','));
    assert.ok(results.filter((r) => r.status !== 200).every((r) => r.body.error === 'invalid_grant'));
    await ctx.close();
  });

  test('an expired code fails', async () => {
    const wait = earlyCode.at + 61_000 - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const res = await tokenRequest({ grant_type: 'authorization_code', code: earlyCode.code, redirect_uri: `${rp.origin}/cb`, code_verifier: earlyCode.verifier },
      { authorization: basic(web.id, web.secret) });
    assert.equal(res.status, 400);
    assert.equal(res.body.error, 'invalid_grant');
    assert.match(res.body.error_description, /expired/);
    assert.equal(res.body.access_token, undefined);
  });
});

describe('RBAC for machine-to-machine apps', () => {
  test('an M2M app\'s token carries only the scopes its roles grant', async () => {
    const indicator = `https://m2m.${unique('r')}.example`;
    const resource = (await api('POST', '/api/resources', { body: { name: 'Billing', indicator } })).body;
    const [read, write] = await Promise.all(['read:bills', 'write:bills'].map(async (name) =>
      (await api('POST', `/api/resources/${resource.id}/scopes`, { body: { name } })).body));
    assert.ok(read.id && write.id);
    const role = (await api('POST', '/api/roles', { body: { name: unique('m2m-'), description: 'reads bills', type: 'MachineToMachine', scopeIds: [read.id] } })).body;
    const userRole = (await api('POST', '/api/roles', { body: { name: unique('user-'), description: 'x' } })).body;
    const m2m = await createApp({ name: 'Worker', type: 'MachineToMachine' });
    const mismatch = await api('POST', `/api/applications/${m2m.id}/roles`, { body: { roleIds: [userRole.id] } });
    assert.equal(mismatch.status, 422);
    assert.equal(mismatch.body.code, 'role.type_mismatch');
    assert.equal((await api('POST', `/api/applications/${m2m.id}/roles`, { body: { roleIds: [role.id] } })).status, 201);
    assert.deepEqual((await api('GET', `/api/applications/${m2m.id}/roles`)).body.map((r) => r.id), [role.id]);

    const config = await client.discovery(new URL(ISSUER), m2m.id, m2m.secret, client.ClientSecretPost(m2m.secret), opts);
    const t = await client.clientCredentialsGrant(config, { resource: indicator, scope: 'read:bills write:bills' });
    const { payload } = await jose.jwtVerify(t.access_token, jose.createRemoteJWKSet(new URL(`${ISSUER}/jwks`)), { issuer: ISSUER, audience: indicator });
    assert.equal(payload.scope, 'read:bills');
    assert.equal(payload.sub, m2m.id);
    // Without the role, nothing.
    assert.equal((await api('DELETE', `/api/applications/${m2m.id}/roles/${role.id}`)).status, 204);
    const none = await client.clientCredentialsGrant(config, { resource: indicator });
    assert.equal(jose.decodeJwt(none.access_token).scope, '');
  });
});
