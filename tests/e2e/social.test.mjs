// Social connectors against a real OpenID Connect provider (npm oidc-provider) running
// beside the worker: a connector given its issuer alone gets its endpoints from the
// provider's discovery document, fetched by the worker itself; a provider that names another
// issuer, or cannot be reached, is refused with the reason.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import Provider from 'oidc-provider';
import { api, unique, BASE } from './helpers.mjs';

let server;
let issuer;

before(async () => {
  let handler = (_req, res) => res.end();
  server = http.createServer((req, res) => handler(req, res));
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  issuer = `http://127.0.0.1:${server.address().port}`;
  const provider = new Provider(issuer, {
    clients: [{ client_id: 'gatehouse', client_secret: 'a-secret', redirect_uris: [`${BASE}/callback/acme`] }],
  });
  handler = provider.callback();
});

after(() => server.close());

const connector = (config, target) =>
  api('POST', '/api/connectors', { body: { connectorId: 'oidc', config, metadata: { target, name: 'Acme' } } });

test('an OIDC social connector given its issuer reads the endpoints from the real provider', async () => {
  const doc = await (await fetch(`${issuer}/.well-known/openid-configuration`)).json();
  const target = unique('acme');
  const r = await connector({ clientId: 'gatehouse', clientSecret: 'a-secret', issuer }, target);
  assert.equal(r.status, 201, JSON.stringify(r.body));
  assert.equal(r.body.type, 'Social');
  assert.equal(r.body.metadata.target, target);
  assert.equal(r.body.config.authorizationEndpoint, doc.authorization_endpoint);
  assert.equal(r.body.config.tokenEndpoint, doc.token_endpoint);
  assert.equal(r.body.config.userInfoEndpoint, doc.userinfo_endpoint);
  assert.deepEqual(r.body.config.idTokenVerificationConfig, { jwksUri: doc.jwks_uri, issuer });
  assert.equal(r.body.config.clientSecret, '********');
  const again = await connector({ clientId: 'gatehouse', issuer }, target);
  assert.equal(again.status, 422);
  assert.equal(again.body.code, 'connector.multiple_target_with_same_platform');
  assert.equal((await api('DELETE', `/api/connectors/${r.body.id}`)).status, 204);
});

test('a provider that names another issuer, or none at all, is refused with the reason', async () => {
  // The same provider reached as `localhost`: its document names 127.0.0.1.
  const other = issuer.replace('127.0.0.1', 'localhost');
  let r = await connector({ clientId: 'gatehouse', issuer: other }, unique('acme'));
  assert.equal(r.status, 400, JSON.stringify(r.body));
  assert.match(r.body.message, /names issuer/);
  r = await connector({ clientId: 'gatehouse', issuer: 'http://127.0.0.1:9' }, unique('acme'));
  assert.equal(r.status, 400, JSON.stringify(r.body));
  assert.match(r.body.message, /discovery failed/);
  r = await connector({ clientId: 'gatehouse', issuer: 'http://idp.example' }, unique('acme'));
  assert.equal(r.status, 400, JSON.stringify(r.body));
  assert.match(r.body.message, /only https/);
});
