// Shared set-up for the end-to-end suites: the server under test and its admin client.
import { readFileSync } from 'node:fs';
import * as client from 'openid-client';

export const BASE = process.env.GATEHOUSE_URL ?? 'http://127.0.0.1:8787';
export const ISSUER = `${BASE}/oidc`;
export const MANAGEMENT_API = `${BASE}/api`;

function devVar(name) {
  const text = readFileSync(new URL('../../.dev.vars', import.meta.url), 'utf8');
  const m = text.match(new RegExp(`^${name}="?([^"\\n]*)"?$`, 'm'));
  if (!m) throw new Error(`${name} is not in .dev.vars`);
  return m[1];
}
export const ADMIN_ID = devVar('ADMIN_CLIENT_ID');
export const ADMIN_SECRET = devVar('ADMIN_CLIENT_SECRET');

/** openid-client configuration from discovery, for a client with a secret. */
export async function discover(clientId, secret, auth = client.ClientSecretBasic(secret)) {
  return client.discovery(new URL(ISSUER), clientId, secret, auth, {
    execute: [client.allowInsecureRequests],
  });
}

let adminToken;
/** Drops the cached admin token (after the keys that signed it were rotated away). */
export function forgetAdminToken() {
  adminToken = undefined;
}
/** A Management API token for the bootstrap admin app (cached for the run). */
export async function adminAccessToken() {
  if (!adminToken) {
    const config = await discover(ADMIN_ID, ADMIN_SECRET);
    const t = await client.clientCredentialsGrant(config, { resource: MANAGEMENT_API, scope: 'all' });
    adminToken = t.access_token;
  }
  return adminToken;
}

/** Calls the Management API; returns {status, headers, body} with the body parsed when JSON. */
export async function api(method, path, { body, token, rawBody, contentType } = {}) {
  const headers = {};
  const t = token === undefined ? await adminAccessToken() : token;
  if (t) headers.authorization = `Bearer ${t}`;
  let payload;
  if (rawBody !== undefined) {
    payload = rawBody;
    headers['content-type'] = contentType ?? 'application/json';
  } else if (body !== undefined) {
    payload = JSON.stringify(body);
    headers['content-type'] = 'application/json';
  }
  const res = await fetch(`${BASE}${path}`, { method, headers, body: payload });
  const text = await res.text();
  let parsed = text;
  if ((res.headers.get('content-type') ?? '').includes('json') && text) parsed = JSON.parse(text);
  return { status: res.status, headers: res.headers, body: parsed };
}

/** A raw token-endpoint request with a form body. */
export async function tokenRequest(form, headers = {}) {
  const res = await fetch(`${ISSUER}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(form),
  });
  return { status: res.status, headers: res.headers, body: await res.json() };
}

export function basic(id, secret) {
  return 'Basic ' + Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64');
}

export function unique(prefix) {
  return `${prefix}${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
}

/** A custom UI of the Experience API: a cookie jar and JSON calls. `authUrl()` builds the
 * authorization request that `start()` opens (with a fresh jar). */
export function customUi(authUrl) {
  const jar = new Map();
  const call = async (method, path, body) => {
    const res = await fetch(`${BASE}${path}`, {
      method, redirect: 'manual',
      // A same-origin client: JSON on every state-changing call, even an empty one.
      headers: { cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; '), ...(method === 'GET' ? {} : { 'content-type': 'application/json' }) },
      body: body ? JSON.stringify(body) : undefined,
    });
    for (const c of res.headers.getSetCookie()) { const [kv] = c.split(';'); const i = kv.indexOf('='); jar.set(kv.slice(0, i), kv.slice(i + 1)); }
    const text = await res.text();
    const json = text && (res.headers.get('content-type') ?? '').includes('json');
    return { status: res.status, body: json ? JSON.parse(text) : text, location: res.headers.get('location') };
  };
  const start = async () => {
    jar.clear();
    const u = new URL(await authUrl());
    return call('GET', u.pathname + u.search);
  };
  return { call, start };
}


/** An authorization request URL for `config` (an openid-client configuration) back to
 * `redirectUri`, with a fresh PKCE challenge (its verifier is not kept: these tests look at
 * the code, or redeem none). */
export async function pkceAuthUrl(config, redirectUri, scope, params = {}) {
  return client.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri, scope,
    code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()), code_challenge_method: 'S256',
    ...params,
  }).href;
}
