// Load generator for `make bench`: autocannon against the worker in wrangler dev.
// Prints figures; asserts nothing about them.
import autocannon from 'autocannon';
import { readFileSync, readdirSync } from 'node:fs';
import { gzipSync } from 'node:zlib';

const BASE = process.env.GATEHOUSE_URL;
const DURATION = Number(process.env.BENCH_SECONDS ?? 5);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 8);
const vars = readFileSync(new URL('../.dev.vars', import.meta.url), 'utf8');
const devVar = (n) => vars.match(new RegExp(`^${n}="?([^"\\n]*)"?$`, 'm'))[1];
const basic = 'Basic ' + Buffer.from(`${devVar('ADMIN_CLIENT_ID')}:${devVar('ADMIN_CLIENT_SECRET')}`).toString('base64');

/** CPU seconds (user + system) used so far by the workerd processes of the server. */
function workerdCpuSeconds() {
  const pgid = Number(process.env.SERVER_PGID);
  const hz = 100;
  let ticks = 0;
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      if (Number(fields[2]) === pgid && comm.startsWith('workerd')) ticks += Number(fields[11]) + Number(fields[12]);
    } catch { /* the process ended */ }
  }
  return ticks / hz;
}

async function run(name, opts) {
  const cpu0 = workerdCpuSeconds();
  const r = await autocannon({ url: `${BASE}${opts.path}`, connections: CONNECTIONS, duration: DURATION, ...opts });
  const cpu = workerdCpuSeconds() - cpu0;
  const total = r.requests.total;
  const bad = r.non2xx + r.errors;
  return {
    endpoint: name,
    'req/s': Math.round(r.requests.average),
    'p50 ms': r.latency.p50,
    'p99 ms': r.latency.p99,
    'workerd CPU ms/req': total ? ((cpu * 1000) / total).toFixed(2) : '-',
    requests: total,
    'non-2xx/errors': bad,
  };
}

const wasm = readFileSync(new URL('../build/index_bg.wasm', import.meta.url));
console.log(`wasm module: ${(wasm.length / 1024).toFixed(0)} KiB raw, ${(gzipSync(wasm, { level: 9 }).length / 1024).toFixed(0)} KiB gzipped`);
console.log(`load: ${CONNECTIONS} connections, ${DURATION} s per endpoint, against ${BASE} (wrangler dev, local D1)`);

const token = {
  method: 'POST',
  headers: { authorization: basic, 'content-type': 'application/x-www-form-urlencoded' },
  body: new URLSearchParams({ grant_type: 'client_credentials', resource: `${BASE}/api`, scope: 'all' }).toString(),
};
const rows = [];
rows.push(await run('GET discovery', { path: '/oidc/.well-known/openid-configuration' }));
rows.push(await run('GET jwks', { path: '/oidc/jwks' }));
rows.push(await run('POST token (client_credentials)', { path: '/oidc/token', ...token }));

// The user-facing grants: a Traditional app, a user, and a browser session made over HTTP.
const POOL = Number(process.env.BENCH_POOL ?? 300);
const adminToken = (await (await fetch(`${BASE}/oidc/token`, token)).json()).access_token;
const apiCall = (path, body) => fetch(`${BASE}${path}`, {
  method: 'POST', headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' }, body: JSON.stringify(body),
}).then((r) => r.json());
const redirectUri = 'https://bench.example/cb';
const app = await apiCall('/api/applications', { name: 'bench', type: 'Traditional', oidcClientMetadata: { redirectUris: [redirectUri] } });
const username = `bench${Date.now()}`;
await apiCall('/api/users', { username, password: 'bench-password-1' });
const appAuth = 'Basic ' + Buffer.from(`${app.id}:${app.secret}`).toString('base64');
const cookies = new Map();
const keep = (res) => { for (const c of res.headers.getSetCookie()) { const [kv] = c.split(';'); const [k, v] = kv.split('='); if (v) cookies.set(k, v); else cookies.delete(k); } return res; };
const cookieHeader = () => [...cookies].map(([k, v]) => `${k}=${v}`).join('; ');
const get = (path) => fetch(`${BASE}${path}`, { redirect: 'manual', headers: { cookie: cookieHeader() } }).then(keep);
const authPath = `/oidc/auth?${new URLSearchParams({ client_id: app.id, redirect_uri: redirectUri, response_type: 'code', scope: 'openid profile offline_access' })}`;
await get(authPath);
const signInPage = await (await get('/sign-in')).text();
const csrf = signInPage.match(/name="_csrf" value="([^"]+)"/)[1];
keep(await fetch(`${BASE}/sign-in`, {
  method: 'POST', redirect: 'manual', headers: { cookie: cookieHeader(), 'content-type': 'application/x-www-form-urlencoded' },
  body: new URLSearchParams({ _csrf: csrf, identifier: username, password: 'bench-password-1' }),
}));
const newCode = async () => new URL((await get(authPath)).headers.get('location')).searchParams.get('code');
const codes = [];
for (let i = 0; i < POOL; i++) codes.push(await newCode());
const tokenPost = (form) => ({ method: 'POST', headers: { authorization: appAuth, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(form).toString() });

// Each code and refresh token is single-use: every request takes a fresh one from a pool.
async function pooled(name, pool, toForm) {
  const cpu0 = workerdCpuSeconds();
  const t0 = Date.now();
  let i = 0;
  const r = await autocannon({
    url: `${BASE}/oidc/token`, connections: CONNECTIONS, amount: pool.length,
    requests: [{ setupRequest: (req) => ({ ...req, ...tokenPost(toForm(pool[i++])) }) }],
  });
  const cpu = workerdCpuSeconds() - cpu0;
  return {
    endpoint: name, 'req/s': Math.round((r.requests.total / (Date.now() - t0)) * 1000), 'p50 ms': r.latency.p50, 'p99 ms': r.latency.p99,
    'workerd CPU ms/req': ((cpu * 1000) / r.requests.total).toFixed(2), requests: r.requests.total, 'non-2xx/errors': r.non2xx + r.errors,
  };
}
rows.push(await pooled('POST token (authorization_code)', codes, (code) => ({ grant_type: 'authorization_code', code, redirect_uri: redirectUri })));

const refreshTokens = [];
let accessToken;
for (let i = 0; i < POOL; i++) {
  const t = await (await fetch(`${BASE}/oidc/token`, tokenPost({ grant_type: 'authorization_code', code: await newCode(), redirect_uri: redirectUri }))).json();
  refreshTokens.push(t.refresh_token);
  accessToken = t.access_token;
}
rows.push(await pooled('POST token (refresh_token)', refreshTokens, (refresh_token) => ({ grant_type: 'refresh_token', refresh_token })));
rows.push(await run('GET userinfo', { path: '/oidc/me', headers: { authorization: `Bearer ${accessToken}` } }));
console.table(rows);
