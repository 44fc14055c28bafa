// Social sign-in in the browser against a real OpenID Connect provider (npm oidc-provider,
// with its development login and consent screens): the sign-in page's button signs up a new
// user and signs them in again; an account with the provider's verified email is linked when
// the person asks; direct_sign_in=social:<target> goes straight to the provider; an answer
// with a forged state signs no one in; an enterprise SSO connector (the same provider) gets
// the users of its email domain and provisions them.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import Provider from 'oidc-provider';
import * as client from 'openid-client';
import { api, unique, BASE, ISSUER, pkceAuthUrl } from './helpers.mjs';
import { startReceiver, launchBrowser, reached, signIn } from './rp.mjs';

let idp, issuer, rp, browser, config, connector, target, sso, domain, oauth2, target2;

const settings = (body) => api('PATCH', '/api/sign-in-exp', { body });

before(async () => {
  rp = await startReceiver();
  browser = await launchBrowser();
  let handler = (_req, res) => res.end();
  idp = http.createServer((req, res) => handler(req, res));
  await new Promise((resolve) => idp.listen(0, '127.0.0.1', resolve));
  issuer = `http://127.0.0.1:${idp.address().port}`;
  // The connector reads the provider's discovery document when it is created, and its id is
  // in the redirect URI the provider must know: a first instance answers discovery, then one
  // that knows the redirect URI takes over the same issuer.
  const makeProvider = (redirectUris) => new Provider(issuer, {
    clients: [{ client_id: 'gatehouse', client_secret: 'a-secret', redirect_uris: redirectUris }],
    claims: { email: ['email', 'email_verified'], profile: ['name'] },
    async findAccount(_ctx, id) {
      // A login that is an address is that address (the SSO test's work emails).
      const email = id.includes('@') ? id : `${id}@example.com`;
      return { accountId: id, claims: () => ({ sub: id, email, email_verified: true, name: `Person ${id}` }) };
    },
  });
  handler = makeProvider(['http://127.0.0.1/unused']).callback();
  target = unique('acme');
  const r = await api('POST', '/api/connectors', {
    body: { connectorId: 'oidc', config: { clientId: 'gatehouse', clientSecret: 'a-secret', issuer, scope: 'openid email profile' }, metadata: { target, name: 'Acme' } },
  });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  connector = r.body.id;
  domain = `${unique('corp').toLowerCase().replace(/[^a-z0-9]/g, '')}.example`;
  const s = await api('POST', '/api/sso-connectors', {
    body: { providerName: 'OIDC', connectorName: unique('Corp'), domains: [domain], config: { clientId: 'gatehouse', clientSecret: 'a-secret', issuer } },
  });
  assert.equal(s.status, 200, JSON.stringify(s.body));
  sso = s.body.id;
  // The same provider as a plain OAuth 2 one: its endpoints, and the user info mapped.
  const doc = await (await fetch(`${issuer}/.well-known/openid-configuration`)).json();
  target2 = unique('forge');
  const o = await api('POST', '/api/connectors', {
    body: {
      connectorId: 'oauth2', metadata: { target: target2, name: 'Forge' },
      config: {
        clientId: 'gatehouse', clientSecret: 'a-secret', scope: 'openid email profile',
        authorizationEndpoint: doc.authorization_endpoint, tokenEndpoint: doc.token_endpoint, userInfoEndpoint: doc.userinfo_endpoint,
        profileMap: { id: 'sub', email: 'email', name: 'name' },
      },
    },
  });
  assert.equal(o.status, 201, JSON.stringify(o.body));
  oauth2 = o.body.id;
  handler = makeProvider([`${BASE}/callback/${connector}`, `${BASE}/callback/${sso}`, `${BASE}/callback/${oauth2}`]).callback();
  assert.equal((await settings({ socialSignInConnectorTargets: [target] })).status, 200);
  const spa = (await api('POST', '/api/applications', {
    body: { name: 'Social shop', type: 'SPA', oidcClientMetadata: { redirectUris: [`${rp.origin}/cb`] } },
  })).body;
  config = await client.discovery(new URL(ISSUER), spa.id, undefined, client.None(), { execute: [client.allowInsecureRequests] });
});

after(async () => {
  await settings({ socialSignInConnectorTargets: [], singleSignOnEnabled: false });
  if (connector) await api('DELETE', `/api/connectors/${connector}`);
  if (sso) await api('DELETE', `/api/sso-connectors/${sso}`);
  if (oauth2) await api('DELETE', `/api/connectors/${oauth2}`);
  await browser?.close();
  await rp?.close();
  idp?.close();
});

const authUrl = (params = {}) => pkceAuthUrl(config, `${rp.origin}/cb`, 'openid profile', params);

/** Signs in at the provider's development screens as `login`, consenting if asked. */
async function atProvider(page, login) {
  await page.waitForURL((u) => u.href.startsWith(issuer), { timeout: 15_000 });
  await page.locator('input[name=login]').fill(login);
  await page.locator('input[name=password]').fill('any');
  await page.locator('button[type=submit]').click();
  await page.waitForURL((u) => !u.href.includes('/login'), { timeout: 15_000 });
  if (page.url().startsWith(issuer)) await page.locator('button[type=submit]').click();
}

test('the provider button signs up a new user, who signs in with it again', async () => {
  const login = unique('ana');
  let ctx = await browser.newContext();
  let page = await ctx.newPage();
  await page.goto(await authUrl());
  await page.getByRole('button', { name: 'Continue with Acme' }).click();
  await atProvider(page, login);
  // Back at Gatehouse: no account has the identity; registration asks what the provider
  // does not give (the sign-up's username).
  await page.waitForURL((u) => u.href.startsWith(BASE) && !u.pathname.startsWith('/callback/'), { timeout: 15_000 })
    .catch(async (e) => { throw new Error(`${e.message} at ${page.url()}: ${await page.content()}`); });
  assert.equal(new URL(page.url()).pathname, '/profile/missing', await page.content());
  await page.getByLabel('Username').fill(login.replace(/[^a-z0-9_]/gi, '_'));
  await page.locator('form[action="/profile/missing"] button[type=submit]').click();
  const cb = await reached(page, `${rp.origin}/cb`);
  assert.ok(cb.searchParams.get('code'));
  const users = (await api('GET', `/api/users?search=${encodeURIComponent(`${login}@example.com`)}`)).body;
  assert.equal(users.length, 1);
  assert.equal(users[0].identities[target].userId, login);
  assert.equal(users[0].name, `Person ${login}`);
  await ctx.close();

  ctx = await browser.newContext();
  page = await ctx.newPage();
  await page.goto(await authUrl());
  await page.getByRole('button', { name: 'Continue with Acme' }).click();
  await atProvider(page, login);
  assert.ok((await reached(page, `${rp.origin}/cb`)).searchParams.get('code'));
  const again = (await api('GET', `/api/users?search=${encodeURIComponent(`${login}@example.com`)}`)).body;
  assert.equal(again.length, 1, 'signed in, not registered twice');
  await ctx.close();
});

test('an account with the provider\'s verified email is linked when the person asks, and direct_sign_in goes straight to the provider', async () => {
  const login = unique('bo');
  const user = (await api('POST', '/api/users', {
    body: { username: login.replace(/[^a-z0-9_]/gi, '_'), primaryEmail: `${login}@example.com`, password: 'a long passphrase 1' },
  })).body;
  let ctx = await browser.newContext();
  let page = await ctx.newPage();
  await page.goto(await authUrl());
  await page.getByRole('button', { name: 'Continue with Acme' }).click();
  await atProvider(page, login);
  await page.waitForSelector('text=Link your account');
  assert.doesNotMatch(await page.content(), new RegExp(`${login}@example.com`), 'the address is masked');
  await page.getByRole('button', { name: 'Link to this account' }).click();
  assert.ok((await reached(page, `${rp.origin}/cb`)).searchParams.get('code'));
  const linked = (await api('GET', `/api/users/${user.id}`)).body;
  assert.equal(linked.identities[target].userId, login);
  await ctx.close();

  ctx = await browser.newContext();
  page = await ctx.newPage();
  const seen = [];
  page.on('request', (r) => { if (r.isNavigationRequest()) seen.push(r.url()); });
  await page.goto(await authUrl({ direct_sign_in: `social:${target}` }));
  await atProvider(page, login);
  assert.ok((await reached(page, `${rp.origin}/cb`)).searchParams.get('code'));
  assert.ok(!seen.some((u) => u.startsWith(`${BASE}/sign-in`) && !u.startsWith(`${BASE}/sign-in/direct`)), `no sign-in page: ${seen.join(' ')}`);
  await ctx.close();
});

test('an answer with a forged state signs no one in', async () => {
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  await page.goto(await authUrl());
  await page.getByRole('button', { name: 'Continue with Acme' }).click();
  await page.waitForURL((u) => u.href.startsWith(issuer), { timeout: 15_000 });
  const res = await page.goto(`${BASE}/callback/${connector}?code=stolen&state=forged`);
  assert.equal(res.status(), 400);
  assert.match(await page.textContent('#form-error'), /did not succeed/);
  assert.ok(!(await ctx.cookies()).some((c) => c.name.includes('session')), 'no session cookie');
  await ctx.close();
});

test('enterprise SSO: a work email typed on the sign-in page goes to its provider, which provisions the user; direct_sign_in=sso:<id> signs them in again', async () => {
  assert.equal((await settings({ singleSignOnEnabled: true })).status, 200);
  const login = `${unique('cy').toLowerCase()}@${domain}`;
  let ctx = await browser.newContext();
  let page = await ctx.newPage();
  await page.goto(await authUrl());
  await signIn(page, login);
  await atProvider(page, login);
  assert.ok((await reached(page, `${rp.origin}/cb`)).searchParams.get('code'));
  const users = (await api('GET', `/api/users?search=${encodeURIComponent(login)}`)).body;
  assert.equal(users.length, 1, 'provisioned just in time');
  assert.equal(users[0].primaryEmail, login, 'an email of the connector\'s domain is taken');
  assert.deepEqual(users[0].identities, {}, 'an SSO identity is not a social one');
  await ctx.close();

  ctx = await browser.newContext();
  page = await ctx.newPage();
  await page.goto(await authUrl({ direct_sign_in: `sso:${sso}` }));
  await atProvider(page, login);
  assert.ok((await reached(page, `${rp.origin}/cb`)).searchParams.get('code'));
  assert.equal((await api('GET', `/api/users?search=${encodeURIComponent(login)}`)).body.length, 1);
  await ctx.close();
});

test('the generic OAuth 2 connector signs up through the same provider, its unverified email left out', async () => {
  const login = unique('dee');
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  await page.goto(await authUrl({ direct_sign_in: `social:${target2}` }));
  await atProvider(page, login);
  await page.waitForURL((u) => u.pathname === '/profile/missing', { timeout: 15_000 });
  const username = login.replace(/[^a-z0-9_]/gi, '_');
  await page.getByLabel('Username').fill(username);
  await page.locator('form[action="/profile/missing"] button[type=submit]').click();
  assert.ok((await reached(page, `${rp.origin}/cb`)).searchParams.get('code'));
  const users = (await api('GET', `/api/users?search=${username}`)).body;
  assert.equal(users.length, 1);
  assert.equal(users[0].identities[target2].userId, login);
  assert.equal(users[0].primaryEmail, null, 'an OAuth 2 provider\'s email is not verified');
  assert.equal(users[0].name, `Person ${login}`);
  await ctx.close();
});
