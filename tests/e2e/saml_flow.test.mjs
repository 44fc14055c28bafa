// Enterprise SSO over SAML 2.0 in the browser, against an IdP built on npm samlify (another
// ecosystem's SAML library, signing with xml-crypto): a work email on the sign-in page goes
// to the IdP by the HTTP-Redirect binding, its signed assertion (posted back by the IdP's
// auto-submitting form) provisions the user with the mapped attributes, and
// direct_sign_in=sso:<id> signs them in again. Then the attacker's responses, posted to the
// assertion consumer service for a pending sign-in: unsigned, tampered, expired, for another
// audience, signed by another key, wrapped, and replayed; none signs anyone in.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { inflateRawSync } from 'node:zlib';
import * as client from 'openid-client';
import { api, unique, BASE, ISSUER, pkceAuthUrl } from './helpers.mjs';
import { startReceiver, launchBrowser, reached, signIn } from './rp.mjs';
import { startSamlIdp, signedResponseXml } from './saml_idp.mjs';
import * as samlify from 'samlify';

let idp, rp, browser, config, sso, domain, spEntityId, acsUrl;

const settings = (body) => api('PATCH', '/api/sign-in-exp', { body });

async function freePort() {
  const s = net.createServer();
  await new Promise((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address();
  await new Promise((resolve) => s.close(resolve));
  return port;
}

before(async () => {
  rp = await startReceiver();
  browser = await launchBrowser();
  const port = await freePort();
  const idpBase = `http://127.0.0.1:${port}`;
  domain = `${unique('saml').toLowerCase().replace(/[^a-z0-9]/g, '')}.example`;
  // The IdP's values as an administrator copies them from its console; the certificate is
  // the fixture the IdP signs with.
  const { readFileSync } = await import('node:fs');
  const pem = readFileSync(new URL('../fixtures/saml/idp2.crt', import.meta.url), 'utf8');
  const r = await api('POST', '/api/sso-connectors', {
    body: {
      providerName: 'SAML', connectorName: unique('Saml corp'), domains: [domain],
      config: { entityId: `${idpBase}/idp`, signInEndpoint: `${idpBase}/sso`, x509Certificate: pem },
    },
  });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(r.body.providerType, 'saml');
  sso = r.body.id;
  spEntityId = r.body.providerConfig.serviceProvider.entityId;
  acsUrl = r.body.providerConfig.serviceProvider.assertionConsumerServiceUrl;
  assert.equal(acsUrl, `${BASE}/api/authn/single-sign-on/saml/${sso}`);
  idp = await startSamlIdp({ port, spEntityId, acsUrl, user: { id: 'u-1', email: `dana@${domain}`, name: 'Dana Idp' } });
  assert.equal((await settings({ singleSignOnEnabled: true })).status, 200);
  const spa = (await api('POST', '/api/applications', {
    body: { name: 'Saml shop', type: 'SPA', oidcClientMetadata: { redirectUris: [`${rp.origin}/cb`] } },
  })).body;
  config = await client.discovery(new URL(ISSUER), spa.id, undefined, client.None(), { execute: [client.allowInsecureRequests] });
});

after(async () => {
  await settings({ singleSignOnEnabled: false });
  if (sso) await api('DELETE', `/api/sso-connectors/${sso}`);
  await browser?.close();
  await rp?.close();
  await idp?.close();
});

const authUrl = (params = {}) => pkceAuthUrl(config, `${rp.origin}/cb`, 'openid profile email', params);

test('the connector can also be given the IdP\'s metadata, and a certificate that is not one is refused', async () => {
  const m = await api('POST', '/api/sso-connectors', {
    body: { providerName: 'AzureAD', connectorName: unique('Meta'), config: { metadata: idp.metadataXml } },
  });
  assert.equal(m.status, 200, JSON.stringify(m.body));
  assert.equal(m.body.providerConfig.identityProvider.entityId, idp.entityId);
  assert.equal(m.body.providerConfig.identityProvider.signInEndpoint, idp.ssoUrl);
  await api('DELETE', `/api/sso-connectors/${m.body.id}`);
  const bad = await api('POST', '/api/sso-connectors', {
    body: { providerName: 'SAML', connectorName: unique('Bad'), config: { entityId: 'x', signInEndpoint: idp.ssoUrl, x509Certificate: 'not a certificate' } },
  });
  assert.equal(bad.status, 400, JSON.stringify(bad.body));
  assert.match(bad.body.message, /x509Certificate/);
});

test('the SP metadata served at the entity id is what samlify, importing it as an IdP would, reads: entity id, POST consumer, signed assertions', async () => {
  const res = await fetch(spEntityId);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type'), /^application\/samlmetadata\+xml/);
  const sp = samlify.ServiceProvider({ metadata: await res.text() });
  assert.equal(sp.entityMeta.getEntityID(), spEntityId);
  assert.equal(sp.entityMeta.getAssertionConsumerService('post'), acsUrl);
  assert.equal(sp.entityMeta.isWantAssertionsSigned(), true);
  assert.equal(sp.entityMeta.isAuthnRequestSigned(), false);
  // No metadata for what is not a SAML connector.
  const none = await fetch(`${BASE}/enterprise-sso/not-a-connector`);
  assert.equal(none.status, 404);
});

test('SP-initiated: a work email goes to the SAML IdP, whose signed assertion provisions the user with its attributes; direct_sign_in=sso:<id> signs them in again', async () => {
  const login = `${unique('dana').toLowerCase()}@${domain}`;
  idp.user = { id: unique('u'), email: login, name: 'Dana Idp' };
  let ctx = await browser.newContext();
  let page = await ctx.newPage();
  await page.goto(await authUrl());
  await signIn(page, login);
  assert.ok((await reached(page, `${rp.origin}/cb`)).searchParams.get('code'));
  const request = idp.requests.at(-1);
  assert.match(request, /<samlp:AuthnRequest /);
  assert.ok(request.includes(`AssertionConsumerServiceURL="${acsUrl}"`), request);
  const users = (await api('GET', `/api/users?search=${encodeURIComponent(login)}`)).body;
  assert.equal(users.length, 1, 'provisioned just in time');
  assert.equal(users[0].primaryEmail, login, 'the email attribute, of the connector\'s domain');
  assert.equal(users[0].name, 'Dana Idp', 'the name attribute');
  await ctx.close();

  ctx = await browser.newContext();
  page = await ctx.newPage();
  await page.goto(await authUrl({ direct_sign_in: `sso:${sso}` }));
  assert.ok((await reached(page, `${rp.origin}/cb`)).searchParams.get('code'));
  assert.equal((await api('GET', `/api/users?search=${encodeURIComponent(login)}`)).body.length, 1, 'the same user');
  await ctx.close();
});

/** Posts a SAMLResponse (XML) to the assertion consumer service as the IdP's form would. */
async function post(xml, relayState) {
  const res = await fetch(acsUrl, {
    method: 'POST', redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ SAMLResponse: Buffer.from(xml, 'utf8').toString('base64'), RelayState: relayState }),
  });
  const text = await res.text();
  return { status: res.status, location: res.headers.get('location'), body: text ? JSON.parse(text) : null };
}

test('forged, expired, misdirected, wrapped and replayed responses are refused, each with a clear error, and sign no one in', async () => {
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  idp.hold = true;
  try {
    await page.goto(await authUrl({ direct_sign_in: `sso:${sso}` }));
    await page.waitForURL((u) => u.href.startsWith(idp.ssoUrl), { timeout: 15_000 });
  } finally {
    idp.hold = false;
  }
  const sent = new URL(page.url());
  const relay = sent.searchParams.get('RelayState');
  const request = inflateRawSync(Buffer.from(sent.searchParams.get('SAMLRequest'), 'base64')).toString('utf8');
  const inResponseTo = /ID="([^"]+)"/.exec(request)[1];
  const user = { id: unique('mal'), email: `mallory@${domain}`, name: 'Mallory' };
  const good = (extra = {}) => signedResponseXml({ inResponseTo, audience: spEntityId, acsUrl, issuer: idp.entityId, user, ...extra });
  const refused = async (xml, why) => {
    const r = await post(xml, relay);
    assert.equal(r.status, 400, `${why}: ${JSON.stringify(r.body)}`);
    assert.equal(r.body.code, 'connector.invalid_response', why);
    assert.ok(r.body.message.length > 0, why);
  };
  const valid = await good();
  await refused(valid.replace(/<ds:Signature[\s\S]*<\/ds:Signature>/, ''), 'unsigned');
  await refused(valid.replace(`mallory@${domain}`, `admin@${domain}`), 'tampered');
  await refused(await good({ notOnOrAfter: new Date(Date.now() - 10 * 60_000) }), 'expired');
  await refused(await good({ audience: 'https://another-sp.example' }), 'another audience');
  await refused(await good({ key: 'rogue' }), 'signed by another key');
  // Signature wrapping: the signed assertion kept, an evil one put first.
  const evil = valid.replace(/<saml:Assertion [\s\S]*<\/saml:Assertion>/, (a) =>
    a.replace(/ID="[^"]+"/, 'ID="_evil"').replace(/<ds:Signature[\s\S]*<\/ds:Signature>/, '').replace(`mallory@${domain}`, `ceo@${domain}`) + a);
  await refused(evil, 'wrapped');
  const wrong = await post(valid, 'not-a-relay-state');
  assert.equal(wrong.status, 404);
  assert.equal(wrong.body.code, 'session.connector_validation_session_not_found');
  assert.equal((await api('GET', `/api/users?search=${encodeURIComponent(`ceo@${domain}`)}`)).body.length, 0);
  assert.equal((await api('GET', `/api/users?search=${encodeURIComponent(`admin@${domain}`)}`)).body.length, 0);
  // The genuine answer is taken once; the same assertion again is not.
  const ok = await post(valid, relay);
  assert.equal(ok.status, 303, JSON.stringify(ok.body));
  assert.ok(ok.location.startsWith(`${BASE}/callback/${sso}?state=`), ok.location);
  const again = await post(valid, relay);
  assert.notEqual(again.status, 303, 'a replayed assertion signs no one in');
  assert.ok(!(await ctx.cookies()).some((c) => c.name.includes('session')), 'no session cookie');
  await ctx.close();
});

test('IdP-initiated: an unsolicited response is refused until the connector allows it, then signs the user in to the default application, once', async () => {
  const login = `${unique('ivy').toLowerCase()}@${domain}`;
  idp.user = { id: unique('u'), email: login, name: 'Ivy Idp' };
  const unsolicited = () => signedResponseXml({ audience: spEntityId, acsUrl, issuer: idp.entityId, user: idp.user });
  const early = await post(await unsolicited(), '');
  assert.equal(early.status, 404, JSON.stringify(early.body));
  assert.equal(early.body.code, 'session.connector_validation_session_not_found');
  const web = (await api('POST', '/api/applications', {
    body: { name: 'Saml portal', type: 'Traditional', oidcClientMetadata: { redirectUris: [`${rp.origin}/cb`] } },
  })).body;
  const spaOnly = await api('PUT', `/api/sso-connectors/${sso}/idp-initiated-auth-config`, {
    body: { defaultApplicationId: config.clientMetadata().client_id, autoSendAuthorizationRequest: true },
  });
  assert.equal(spaOnly.status, 400, 'an SPA cannot redeem a code it did not ask for');
  const put = await api('PUT', `/api/sso-connectors/${sso}/idp-initiated-auth-config`, {
    body: { defaultApplicationId: web.id, autoSendAuthorizationRequest: true, authParameters: { scope: 'email' } },
  });
  assert.equal(put.status, 200, JSON.stringify(put.body));
  assert.equal(put.body.redirectUri, `${rp.origin}/cb`, 'the application\'s first redirect URI');
  assert.equal((await api('GET', `/api/sso-connectors/${sso}/idp-initiated-auth-config`)).body.defaultApplicationId, web.id);

  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  const seen = [];
  page.on('request', (r) => seen.push(r.url()));
  await page.goto(`${new URL(idp.ssoUrl).origin}/unsolicited`);
  assert.ok((await reached(page, `${rp.origin}/cb`)).searchParams.get('code'));
  const auth = seen.find((u) => u.startsWith(`${ISSUER}/auth?`));
  assert.ok(auth, `the authorization request was sent for the user: ${seen.join(' ')}`);
  const params = new URL(auth).searchParams;
  assert.equal(params.get('client_id'), web.id);
  assert.equal(params.get('direct_sign_in'), `sso:${sso}`);
  assert.equal(params.get('scope'), 'openid profile email');
  assert.ok(!seen.some((u) => u.startsWith(idp.ssoUrl)), 'the IdP was not asked again');
  const users = (await api('GET', `/api/users?search=${encodeURIComponent(login)}`)).body;
  assert.equal(users.length, 1, 'provisioned from the unsolicited assertion');
  await ctx.close();
  const replay = await post(idp.responses.at(-1), '');
  assert.equal(replay.status, 400, JSON.stringify(replay.body));
  assert.match(replay.body.message, /used before/);
  assert.equal((await api('DELETE', `/api/sso-connectors/${sso}/idp-initiated-auth-config`)).status, 204);
  assert.equal((await api('GET', `/api/sso-connectors/${sso}/idp-initiated-auth-config`)).status, 404);
  await api('DELETE', `/api/applications/${web.id}`);
});

test('the attribute mapping chooses which attributes name the user', async () => {
  const patch = await api('PATCH', `/api/sso-connectors/${sso}`, { body: { config: { attributeMapping: { name: 'email' } } } });
  assert.equal(patch.status, 200, JSON.stringify(patch.body));
  const login = `${unique('max').toLowerCase()}@${domain}`;
  idp.user = { id: unique('u'), email: login, name: 'Not This Name' };
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  await page.goto(await authUrl({ direct_sign_in: `sso:${sso}` }));
  assert.ok((await reached(page, `${rp.origin}/cb`)).searchParams.get('code'));
  const users = (await api('GET', `/api/users?search=${encodeURIComponent(login)}`)).body;
  assert.equal(users.length, 1);
  assert.equal(users[0].name, login, 'the name read from the email attribute');
  await ctx.close();
  await api('PATCH', `/api/sso-connectors/${sso}`, { body: { config: { attributeMapping: {} } } });
});
