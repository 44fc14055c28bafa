// Foundation: discovery, JWKS, client_credentials, the Management API and key rotation,
// against the real worker in wrangler dev, with openid-client and jose as the clients.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as client from 'openid-client';
import * as jose from 'jose';
import {
  BASE, ISSUER, MANAGEMENT_API, ADMIN_ID, ADMIN_SECRET,
  discover, forgetAdminToken, api, tokenRequest, basic, unique,
} from './helpers.mjs';

test('discovery describes this issuer and every endpoint it lists answers', async () => {
  const config = await discover(ADMIN_ID, ADMIN_SECRET);
  const meta = config.serverMetadata();
  assert.equal(meta.issuer, ISSUER);
  assert.equal(meta.jwks_uri, `${ISSUER}/jwks`);
  assert.equal(meta.token_endpoint, `${ISSUER}/token`);
  assert.deepEqual(meta.grant_types_supported, ['authorization_code', 'refresh_token', 'client_credentials']);
  assert.deepEqual(meta.token_endpoint_auth_methods_supported, ['client_secret_basic', 'client_secret_post', 'none']);
  assert.deepEqual(meta.code_challenge_methods_supported, ['S256']);
  assert.deepEqual(meta.response_types_supported, ['code']);
  assert.deepEqual(meta.response_modes_supported, ['form_post', 'fragment', 'query']);
  assert.equal(meta.authorization_response_iss_parameter_supported, true);
  assert.equal(meta.backchannel_logout_supported, true);
  assert.equal(meta.backchannel_logout_session_supported, true);
  assert.equal(meta.claims_parameter_supported, false);
  // Nothing that is not implemented is advertised.
  assert.equal(meta.device_authorization_endpoint, undefined);
  assert.equal(meta.registration_endpoint, undefined);
  assert.equal(meta.pushed_authorization_request_endpoint, undefined);
  // Every advertised endpoint answers (not 404, not 405).
  for (const [key, method] of [
    ['jwks_uri', 'GET'], ['authorization_endpoint', 'GET'], ['userinfo_endpoint', 'GET'], ['end_session_endpoint', 'GET'],
    ['token_endpoint', 'POST'], ['revocation_endpoint', 'POST'], ['introspection_endpoint', 'POST'],
  ]) {
    const res = await fetch(meta[key], { method, redirect: 'manual' });
    assert.ok(![404, 405].includes(res.status), `${key}: ${res.status}`);
  }
});

test('JWKS publishes ES256 signing keys with kid, alg and use', async () => {
  const res = await fetch(`${ISSUER}/jwks`);
  const { keys } = await res.json();
  assert.ok(keys.length >= 1);
  for (const k of keys) {
    assert.equal(k.kty, 'EC');
    assert.equal(k.crv, 'P-256');
    assert.equal(k.alg, 'ES256');
    assert.equal(k.use, 'sig');
    assert.ok(k.kid);
    assert.equal(k.d, undefined, 'no private part is published');
  }
});

async function verifyAccessToken(token, jwks = jose.createRemoteJWKSet(new URL(`${ISSUER}/jwks`))) {
  return jose.jwtVerify(token, jwks, { issuer: ISSUER, audience: MANAGEMENT_API, typ: 'at+jwt', algorithms: ['ES256'] });
}

for (const [method, auth] of [
  ['client_secret_basic', client.ClientSecretBasic(ADMIN_SECRET)],
  ['client_secret_post', client.ClientSecretPost(ADMIN_SECRET)],
]) {
  test(`client_credentials with ${method} gives a Management API token that jose verifies`, async () => {
    const config = await discover(ADMIN_ID, ADMIN_SECRET, auth);
    const tokens = await client.clientCredentialsGrant(config, { resource: MANAGEMENT_API, scope: 'all' });
    assert.equal(tokens.token_type.toLowerCase(), 'bearer');
    assert.equal(tokens.expires_in, 3600);
    assert.equal(tokens.scope, 'all');
    const { payload, protectedHeader } = await verifyAccessToken(tokens.access_token);
    assert.equal(protectedHeader.alg, 'ES256');
    assert.ok(protectedHeader.kid);
    assert.equal(payload.iss, ISSUER);
    assert.equal(payload.sub, ADMIN_ID);
    assert.equal(payload.client_id, ADMIN_ID);
    assert.equal(payload.aud, MANAGEMENT_API);
    assert.equal(payload.scope, 'all');
    assert.equal(payload.exp - payload.iat, 3600);
    assert.ok(Math.abs(payload.iat - Date.now() / 1000) < 60);
    assert.match(payload.jti, /^[0-9a-z]{21}$/);
  });
}

test('token endpoint errors follow RFC 6749 §5.2', async () => {
  const cc = { grant_type: 'client_credentials', resource: MANAGEMENT_API };
  const cases = [
    ['wrong secret (basic)', cc, { authorization: basic(ADMIN_ID, 'wrong') }, 401, 'invalid_client'],
    ['wrong secret (post)', { ...cc, client_id: ADMIN_ID, client_secret: 'wrong' }, {}, 401, 'invalid_client'],
    ['unknown client', { ...cc, client_id: 'nobody', client_secret: 'x' }, {}, 401, 'invalid_client'],
    ['no client authentication', cc, {}, 401, 'invalid_client'],
    ['unsupported grant', { grant_type: 'password' }, { authorization: basic(ADMIN_ID, ADMIN_SECRET) }, 400, 'unsupported_grant_type'],
    ['missing grant_type', { resource: MANAGEMENT_API }, { authorization: basic(ADMIN_ID, ADMIN_SECRET) }, 400, 'invalid_request'],
    ['unknown resource', { ...cc, resource: 'https://unknown.example/api' }, { authorization: basic(ADMIN_ID, ADMIN_SECRET) }, 400, 'invalid_target'],
    ['resource with fragment', { ...cc, resource: `${MANAGEMENT_API}#x` }, { authorization: basic(ADMIN_ID, ADMIN_SECRET) }, 400, 'invalid_target'],
    ['missing resource', { grant_type: 'client_credentials' }, { authorization: basic(ADMIN_ID, ADMIN_SECRET) }, 400, 'invalid_target'],
    ['undefined scope', { ...cc, scope: 'all delete:everything' }, { authorization: basic(ADMIN_ID, ADMIN_SECRET) }, 400, 'invalid_scope'],
    ['two auth methods', { ...cc, client_secret: ADMIN_SECRET }, { authorization: basic(ADMIN_ID, ADMIN_SECRET) }, 400, 'invalid_request'],
  ];
  for (const [name, form, headers, status, error] of cases) {
    const res = await tokenRequest(form, headers);
    assert.equal(res.status, status, name);
    assert.equal(res.body.error, error, name);
    assert.equal(typeof res.body.error_description, 'string', name);
    assert.equal(res.body.access_token, undefined, name);
    assert.equal(res.headers.get('cache-control'), 'no-store', name);
    if (status === 401) assert.match(res.headers.get('www-authenticate'), /^Basic/, name);
  }
  // openid-client surfaces the failure to a relying party: a 401 Basic challenge.
  const config = await discover(ADMIN_ID, 'not-the-secret');
  await assert.rejects(
    client.clientCredentialsGrant(config, { resource: MANAGEMENT_API }),
    (e) => e instanceof client.WWWAuthenticateChallengeError && e.status === 401
      && e.cause.some((c) => c.scheme === 'basic'),
  );
  const json = await fetch(`${ISSUER}/token`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}',
  });
  assert.equal(json.status, 400);
  assert.equal((await json.json()).error, 'invalid_request');
});

test('applications: create, read, list, update, delete', async () => {
  const name = unique('app-');
  const created = await api('POST', '/api/applications', {
    body: {
      name, type: 'Traditional', description: 'an app',
      oidcClientMetadata: {
        redirectUris: ['https://app.example.com/callback'],
        postLogoutRedirectUris: ['https://app.example.com/'],
        backchannelLogoutUri: 'https://app.example.com/logout',
        backchannelLogoutSessionRequired: true,
      },
    },
  });
  assert.equal(created.status, 201);
  const app = created.body;
  assert.match(app.id, /^[0-9a-z]{21}$/);
  assert.equal(app.name, name);
  assert.equal(app.type, 'Traditional');
  assert.equal(app.isThirdParty, false);
  assert.match(app.secret, /^[0-9A-Za-z]{32}$/);
  assert.deepEqual(app.oidcClientMetadata, {
    redirectUris: ['https://app.example.com/callback'],
    postLogoutRedirectUris: ['https://app.example.com/'],
    backchannelLogoutUri: 'https://app.example.com/logout',
    backchannelLogoutSessionRequired: true,
  });

  const read = await api('GET', `/api/applications/${app.id}`);
  assert.equal(read.status, 200);
  assert.equal(read.body.name, name);
  assert.equal(read.body.secret, undefined, 'the secret is shown only on creation');

  const spa = await api('POST', '/api/applications', { body: { name: unique('spa-'), type: 'SPA' } });
  assert.equal(spa.status, 201);
  assert.equal(spa.body.secret, undefined, 'public clients get no secret');

  const list = await api('GET', '/api/applications?page=1&page_size=100');
  assert.equal(list.status, 200);
  assert.ok(list.body.some((a) => a.id === app.id));
  assert.ok(list.body.every((a) => a.secret === undefined));
  assert.ok(Number(list.headers.get('total-number')) >= 2);
  const small = await api('GET', '/api/applications?page_size=1');
  assert.equal(small.body.length, 1);

  const patched = await api('PATCH', `/api/applications/${app.id}`, {
    body: { name: `${name}-renamed`, description: null, oidcClientMetadata: { redirectUris: ['https://app.example.com/cb2'] } },
  });
  assert.equal(patched.status, 200);
  assert.equal(patched.body.name, `${name}-renamed`);
  assert.equal(patched.body.description, null);
  assert.deepEqual(patched.body.oidcClientMetadata.redirectUris, ['https://app.example.com/cb2']);
  assert.deepEqual(patched.body.oidcClientMetadata.postLogoutRedirectUris, ['https://app.example.com/']);
  assert.equal((await api('GET', `/api/applications/${app.id}`)).body.name, `${name}-renamed`);

  assert.equal((await api('DELETE', `/api/applications/${app.id}`)).status, 204);
  const gone = await api('GET', `/api/applications/${app.id}`);
  assert.equal(gone.status, 404);
  assert.equal(gone.body.code, 'entity.not_exists_with_id');
  assert.equal((await api('DELETE', `/api/applications/${app.id}`)).status, 404);
});

test('applications: bad input is a 4xx {code, message} and creates nothing', async () => {
  const before = Number((await api('GET', '/api/applications')).headers.get('total-number'));
  const cases = [
    ['invalid JSON', { rawBody: '{"name": ' }],
    ['unknown field', { body: { name: 'x', type: 'SPA', colour: 'red' } }],
    ['ill-typed field', { body: { name: 42, type: 'SPA' } }],
    ['unknown type', { body: { name: 'x', type: 'Desktop' } }],
    ['missing name', { body: { type: 'SPA' } }],
    ['empty name', { body: { name: '  ', type: 'SPA' } }],
    ['relative redirect URI', { body: { name: 'x', type: 'SPA', oidcClientMetadata: { redirectUris: ['/callback'] } } }],
    ['redirect URI with fragment', { body: { name: 'x', type: 'SPA', oidcClientMetadata: { redirectUris: ['https://a.example/#x'] } } }],
    ['custom scheme for a web app', { body: { name: 'x', type: 'Traditional', oidcClientMetadata: { redirectUris: ['myapp://cb'] } } }],
    ['bad back-channel URI', { body: { name: 'x', type: 'Traditional', oidcClientMetadata: { backchannelLogoutUri: 'not a uri' } } }],
    ['third-party M2M', { body: { name: 'x', type: 'MachineToMachine', isThirdParty: true } }],
    ['over-long name', { body: { name: 'x'.repeat(300), type: 'SPA' } }],
  ];
  for (const [name, opts] of cases) {
    const res = await api('POST', '/api/applications', opts);
    assert.equal(res.status, 400, name);
    assert.equal(typeof res.body.code, 'string', name);
    assert.equal(typeof res.body.message, 'string', name);
  }
  const wrongType = await api('POST', '/api/applications', { rawBody: 'name=x', contentType: 'application/x-www-form-urlencoded' });
  assert.equal(wrongType.status, 415);
  const native = await api('POST', '/api/applications', {
    body: { name: unique('native-'), type: 'Native', oidcClientMetadata: { redirectUris: ['com.example.app:/callback'] } },
  });
  assert.equal(native.status, 201, 'native apps may use a custom scheme');
  await api('DELETE', `/api/applications/${native.body.id}`);
  const after = Number((await api('GET', '/api/applications')).headers.get('total-number'));
  assert.equal(after, before);
});

test('users: create, read, list, search, update, delete', async () => {
  const tag = unique('u');
  const created = await api('POST', '/api/users', {
    body: {
      username: `${tag}_alice`, primaryEmail: `Alice.${tag}@Example.COM`, primaryPhone: '+1 555 010 9999'.replace('9999', String(Math.floor(1000 + Math.random() * 8999))),
      password: 'correct horse battery', name: 'Alice Liddell',
      customData: { plan: 'pro' }, profile: { givenName: 'Alice', familyName: 'Liddell' },
    },
  });
  assert.equal(created.status, 200);
  const user = created.body;
  assert.match(user.id, /^[0-9a-z]{21}$/);
  assert.equal(user.username, `${tag}_alice`);
  assert.equal(user.primaryEmail, `alice.${tag}@example.com`, 'email is normalized');
  assert.match(user.primaryPhone, /^1555010\d{4}$/, 'phone is stored as E.164 digits');
  assert.equal(user.hasPassword, true);
  assert.deepEqual(user.customData, { plan: 'pro' });
  assert.deepEqual(user.profile, { givenName: 'Alice', familyName: 'Liddell' });
  for (const field of ['password', 'passwordHash', 'password_hash', 'passwordEncrypted']) {
    assert.equal(user[field], undefined, `${field} is never returned`);
  }
  assert.doesNotMatch(JSON.stringify(user), /argon2/);

  const second = await api('POST', '/api/users', { body: { username: `${tag}_bob`, name: 'Bob' } });
  assert.equal(second.status, 200);
  assert.equal(second.body.hasPassword, false);

  const read = await api('GET', `/api/users/${user.id}`);
  assert.equal(read.status, 200);
  assert.deepEqual(read.body, user);

  const search = await api('GET', `/api/users?search=${tag}`);
  assert.equal(search.status, 200);
  assert.equal(search.headers.get('total-number'), '2');
  assert.deepEqual(search.body.map((u) => u.username).sort(), [`${tag}_alice`, `${tag}_bob`]);
  const byEmail = await api('GET', `/api/users?search=${encodeURIComponent(`alice.${tag}@`)}`);
  assert.deepEqual(byEmail.body.map((u) => u.id), [user.id]);
  const paged = await api('GET', `/api/users?search=${tag}&page=2&page_size=1`);
  assert.equal(paged.body.length, 1);
  assert.equal(paged.headers.get('total-number'), '2');
  assert.equal((await api('GET', '/api/users?page=0')).body.code, 'guard.invalid_pagination');
  assert.equal((await api('GET', '/api/users?page_size=1000')).status, 400);

  const patched = await api('PATCH', `/api/users/${user.id}`, { body: { name: 'Alice L.', primaryPhone: null } });
  assert.equal(patched.status, 200);
  assert.equal(patched.body.name, 'Alice L.');
  assert.equal(patched.body.primaryPhone, null);
  assert.equal(patched.body.username, `${tag}_alice`);
  assert.ok(patched.body.updatedAt >= user.updatedAt);

  assert.equal((await api('DELETE', `/api/users/${user.id}`)).status, 204);
  assert.equal((await api('GET', `/api/users/${user.id}`)).status, 404);
  await api('DELETE', `/api/users/${second.body.id}`);
  assert.equal((await api('GET', `/api/users?search=${tag}`)).headers.get('total-number'), '0');
});

test('users: duplicates and bad input are rejected and create no user', async () => {
  const tag = unique('d');
  const first = await api('POST', '/api/users', {
    body: { username: `${tag}_x`, primaryEmail: `${tag}@example.com`, primaryPhone: `+4930${Math.floor(1e6 + Math.random() * 8e6)}` },
  });
  assert.equal(first.status, 200);
  const count = async () => Number((await api('GET', `/api/users?search=${tag}`)).headers.get('total-number'));
  const dupes = [
    [{ username: `${tag}_x` }, 'user.username_already_in_use'],
    [{ username: `${tag}_y`, primaryEmail: `${tag.toUpperCase()}@EXAMPLE.com` }, 'user.email_already_in_use'],
    [{ username: `${tag}_z`, primaryPhone: `+${first.body.primaryPhone}` }, 'user.phone_already_in_use'],
  ];
  for (const [body, code] of dupes) {
    const res = await api('POST', '/api/users', { body });
    assert.equal(res.status, 422, code);
    assert.equal(res.body.code, code);
  }
  const bad = [
    ['malformed email', { username: `${tag}_a`, primaryEmail: 'not-an-email' }],
    ['malformed phone', { username: `${tag}_b`, primaryPhone: '12ab' }],
    ['bad username', { username: '1abc' }],
    ['short password', { username: `${tag}_c`, password: 'short' }],
    ['over-long name', { username: `${tag}_d`, name: 'n'.repeat(500) }],
    ['over-long username', { username: 'u'.repeat(200) }],
    ['unknown field', { username: `${tag}_e`, role: 'admin' }],
    ['ill-typed field', { username: `${tag}_f`, customData: 'text' }],
    ['unknown profile field', { username: `${tag}_g`, profile: { shoeSize: 9 } }],
    ['bad avatar URI', { username: `${tag}_h`, avatar: 'javascript:alert(1)' }],
  ];
  for (const [name, body] of bad) {
    const res = await api('POST', '/api/users', { body });
    assert.equal(res.status, 400, name);
    assert.equal(res.body.code, 'guard.invalid_input', name);
    assert.ok(res.body.message.length > 0, name);
  }
  assert.equal((await api('POST', '/api/users', { rawBody: '[' })).status, 400);
  assert.equal(await count(), 1, 'no user was created by a rejected request');
  const other = await api('POST', '/api/users', { body: { username: `${tag}_other` } });
  const clash = await api('PATCH', `/api/users/${other.body.id}`, { body: { username: `${tag}_x` } });
  assert.equal(clash.status, 422);
  assert.equal(clash.body.code, 'user.username_already_in_use');
  assert.equal((await api('GET', `/api/users/${other.body.id}`)).body.username, `${tag}_other`);
  assert.equal((await api('GET', '/api/users/doesnotexist')).status, 404);
  assert.equal((await api('PATCH', '/api/users/doesnotexist', { body: { name: 'x' } })).status, 404);
});

test('the Management API requires a valid token with the all scope', async () => {
  const none = await api('GET', '/api/users', { token: null });
  assert.equal(none.status, 401);
  assert.equal(none.body.code, 'auth.authorization_header_missing');
  const garbage = await api('GET', '/api/users', { token: 'not-a-jwt' });
  assert.equal(garbage.status, 401);
  assert.equal(garbage.body.code, 'auth.unauthorized');

  // A token signed by a key the server never published.
  const { privateKey } = await jose.generateKeyPair('ES256');
  const forged = await new jose.SignJWT({ scope: 'all', client_id: ADMIN_ID })
    .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: 'forged' })
    .setIssuer(ISSUER).setAudience(MANAGEMENT_API).setSubject(ADMIN_ID)
    .setIssuedAt().setExpirationTime('1h').sign(privateKey);
  assert.equal((await api('GET', '/api/users', { token: forged })).status, 401);

  // A real M2M app without roles authenticates, but its token has no `all`: 403.
  const m2m = await api('POST', '/api/applications', { body: { name: unique('m2m-'), type: 'MachineToMachine' } });
  assert.equal(m2m.status, 201);
  const config = await discover(m2m.body.id, m2m.body.secret);
  const t = await client.clientCredentialsGrant(config, { resource: MANAGEMENT_API });
  const { payload } = await verifyAccessToken(t.access_token);
  assert.equal(payload.sub, m2m.body.id);
  assert.equal(payload.scope, '');
  const forbidden = await api('GET', '/api/users', { token: t.access_token });
  assert.equal(forbidden.status, 403);
  assert.equal(forbidden.body.code, 'auth.forbidden');

  // Public clients cannot use client_credentials.
  const spa = await api('POST', '/api/applications', { body: { name: unique('spa-'), type: 'SPA' } });
  const res = await tokenRequest({ grant_type: 'client_credentials', resource: MANAGEMENT_API, client_id: spa.body.id });
  assert.equal(res.status, 400);
  assert.equal(res.body.error, 'unauthorized_client');
  await api('DELETE', `/api/applications/${m2m.body.id}`);
  await api('DELETE', `/api/applications/${spa.body.id}`);

  const unknown = await api('GET', '/api/nothing-here');
  assert.equal(unknown.status, 404);
  assert.equal(typeof unknown.body.code, 'string');
});

test('key rotation: a token signed before rotation still verifies; the one before that does not', async () => {
  const config = await discover(ADMIN_ID, ADMIN_SECRET);
  const before = (await client.clientCredentialsGrant(config, { resource: MANAGEMENT_API, scope: 'all' })).access_token;
  const oldKid = jose.decodeProtectedHeader(before).kid;

  const rotated = await api('POST', '/api/configs/oidc/private-keys/rotate');
  assert.equal(rotated.status, 200);
  assert.equal(rotated.body.length, 2);
  assert.equal(rotated.body[1].id, oldKid, 'the previous key stays published');
  const { keys } = await (await fetch(`${ISSUER}/jwks`)).json();
  assert.deepEqual(keys.map((k) => k.kid), [rotated.body[0].id, oldKid]);

  const jwks = jose.createRemoteJWKSet(new URL(`${ISSUER}/jwks`));
  await verifyAccessToken(before, jwks);
  assert.equal((await api('GET', '/api/users', { token: before })).status, 200);

  const after = (await client.clientCredentialsGrant(config, { resource: MANAGEMENT_API, scope: 'all' })).access_token;
  assert.equal(jose.decodeProtectedHeader(after).kid, rotated.body[0].id, 'new tokens use the new key');
  await verifyAccessToken(after, jwks);

  // A second rotation retires the first key: tokens it signed no longer verify.
  const again = await api('POST', '/api/configs/oidc/private-keys/rotate', { token: after });
  assert.equal(again.status, 200);
  assert.ok(!again.body.some((k) => k.id === oldKid));
  await assert.rejects(verifyAccessToken(before, jose.createRemoteJWKSet(new URL(`${ISSUER}/jwks`))), { code: 'ERR_JWKS_NO_MATCHING_KEY' });
  assert.equal((await api('GET', '/api/users', { token: before })).status, 401);
  await verifyAccessToken(after, jose.createRemoteJWKSet(new URL(`${ISSUER}/jwks`)));
  forgetAdminToken();
});

test('unknown pages get a readable 404 page', async () => {
  const res = await fetch(`${BASE}/no/such/page`);
  assert.equal(res.status, 404);
  assert.match(res.headers.get('content-type'), /text\/html/);
  assert.match(await res.text(), /Page not found/);
});
