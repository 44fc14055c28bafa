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

/** D1 round trips of one request like `init` (the worker reports them in a header). */
async function roundTrips(path, init = {}) {
  const r = await fetch(`${BASE}${path}`, { redirect: 'manual', ...init });
  await r.arrayBuffer();
  return r.headers.get('x-gatehouse-d1-round-trips') ?? '?';
}

let ceiling = null;
const ratio = (rps) => (ceiling ? `${Math.round((rps / ceiling) * 100)} %` : '-');

async function run(name, opts, trips) {
  const cpu0 = workerdCpuSeconds();
  const r = await autocannon({ url: `${BASE}${opts.path}`, connections: CONNECTIONS, duration: DURATION, ...opts });
  const cpu = workerdCpuSeconds() - cpu0;
  const total = r.requests.total;
  const bad = r.non2xx + r.errors;
  const rps = Math.round(r.requests.average);
  return {
    endpoint: name,
    'req/s': rps,
    'of ceiling': ratio(rps),
    'p50 ms': r.latency.p50,
    'p99 ms': r.latency.p99,
    'workerd CPU ms/req': total ? ((cpu * 1000) / total).toFixed(2) : '-',
    'D1 trips/req': trips ?? '-',
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
const rtt = Number(process.env.BENCH_D1_RTT_MS ?? 0);
console.log(rtt ? `simulated distance: every D1 round trip waits ${rtt} ms first` : 'simulated distance: none (BENCH_D1_RTT_MS=50 to add it)');
const rows = [];
// The in-process ceiling: a trivial route of the same worker, measured in the same run.
const trivial = await run('GET / (trivial route: the ceiling)', { path: '/' }, await roundTrips('/'));
ceiling = trivial['req/s'];
trivial['of ceiling'] = '100 %';
rows.push(trivial);
await roundTrips('/oidc/jwks');
rows.push(await run('GET discovery', { path: '/oidc/.well-known/openid-configuration' }, await roundTrips('/oidc/.well-known/openid-configuration')));
rows.push(await run('GET jwks', { path: '/oidc/jwks' }, await roundTrips('/oidc/jwks')));
await roundTrips('/oidc/token', token);
rows.push(await run('POST token (client_credentials)', { path: '/oidc/token', ...token }, await roundTrips('/oidc/token', token)));

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
const signInOnce = async () => {
  cookies.clear();
  const t0 = performance.now();
  await get(authPath);
  const page = await (await get('/sign-in')).text();
  const token = page.match(/name="_csrf" value="([^"]+)"/)[1];
  const posted = keep(await fetch(`${BASE}/sign-in`, {
    method: 'POST', redirect: 'manual', headers: { cookie: cookieHeader(), 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ _csrf: token, identifier: username, password: 'bench-password-1' }),
  }));
  // Follow to the app's callback, as a browser would.
  let loc = posted.headers.get('location');
  while (loc && loc.startsWith(BASE.replace(/\/$/, '')) || (loc && loc.startsWith('/'))) {
    const r = await get(loc.startsWith('/') ? loc : loc.slice(BASE.length));
    loc = r.headers.get('location');
  }
  return performance.now() - t0;
};
const codes = [];
for (let i = 0; i < POOL; i++) codes.push(await newCode());
const tokenPost = (form) => ({ method: 'POST', headers: { authorization: appAuth, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(form).toString() });

// Each code and refresh token is single-use: every request takes a fresh one from a pool.
async function pooled(name, pool, toForm, trips) {
  const cpu0 = workerdCpuSeconds();
  const t0 = Date.now();
  let i = 0;
  const r = await autocannon({
    url: `${BASE}/oidc/token`, connections: CONNECTIONS, amount: pool.length,
    requests: [{ setupRequest: (req) => ({ ...req, ...tokenPost(toForm(pool[i++])) }) }],
  });
  const cpu = workerdCpuSeconds() - cpu0;
  const rps = Math.round((r.requests.total / (Date.now() - t0)) * 1000);
  return {
    endpoint: name, 'req/s': rps, 'of ceiling': ratio(rps), 'p50 ms': r.latency.p50, 'p99 ms': r.latency.p99,
    'workerd CPU ms/req': ((cpu * 1000) / r.requests.total).toFixed(2), 'D1 trips/req': trips ?? '-', requests: r.requests.total, 'non-2xx/errors': r.non2xx + r.errors,
  };
}
const exchangeTrips = await roundTrips('/oidc/token', tokenPost({ grant_type: 'authorization_code', code: await newCode(), redirect_uri: redirectUri }));
rows.push(await pooled('POST token (authorization_code)', codes, (code) => ({ grant_type: 'authorization_code', code, redirect_uri: redirectUri }), exchangeTrips));

const refreshTokens = [];
let accessToken;
for (let i = 0; i < POOL; i++) {
  const t = await (await fetch(`${BASE}/oidc/token`, tokenPost({ grant_type: 'authorization_code', code: await newCode(), redirect_uri: redirectUri }))).json();
  refreshTokens.push(t.refresh_token);
  accessToken = t.access_token;
}
const spare = refreshTokens.pop();
const refreshTrips = await roundTrips('/oidc/token', tokenPost({ grant_type: 'refresh_token', refresh_token: spare }));
rows.push(await pooled('POST token (refresh_token)', refreshTokens, (refresh_token) => ({ grant_type: 'refresh_token', refresh_token }), refreshTrips));
const me = { headers: { authorization: `Bearer ${accessToken}` } };
rows.push(await run('GET userinfo', { path: '/oidc/me', ...me }, await roundTrips('/oidc/me', me)));

// Argon2id in workerd: each request verifies the password once (one Argon2id computation,
// the same work as hashing it).
cookies.clear();
await get(authPath);
const exp = (method, path, body) => ({ method, headers: { cookie: cookieHeader(), 'content-type': 'application/json' }, body: JSON.stringify(body) });
await fetch(`${BASE}/api/experience`, exp('PUT', '', { interactionEvent: 'SignIn' }));
const pw = exp('POST', '', { identifier: { type: 'username', value: username }, password: 'bench-password-1' });
const argon = await run('POST experience password (Argon2id verify)', { path: '/api/experience/verification/password', ...pw, connections: 2 }, await roundTrips('/api/experience/verification/password', pw));
rows.push(argon);
console.table(rows);

// What a person waits for, one request after another (the simulated distance shows here).
const waits = [];
for (let i = 0; i < 10; i++) waits.push(await signInOnce());
waits.sort((a, b) => a - b);
const ms = (x) => x.toFixed(0);
const seq = async (f) => { const t0 = performance.now(); await f(); return performance.now() - t0; };
const c1 = await newCode();
const tExchange = await seq(async () => (await fetch(`${BASE}/oidc/token`, tokenPost({ grant_type: 'authorization_code', code: c1, redirect_uri: redirectUri }))).json());
const fresh = await (await fetch(`${BASE}/oidc/token`, tokenPost({ grant_type: 'authorization_code', code: await newCode(), redirect_uri: redirectUri }))).json();
const tRefresh = await seq(async () => (await fetch(`${BASE}/oidc/token`, tokenPost({ grant_type: 'refresh_token', refresh_token: fresh.refresh_token }))).json());
console.log(`sequential, one user: sign-in through the pages (auth, page, password, redirects to the code) p50 ${ms(waits[4])} ms, max ${ms(waits[9])} ms; code exchange ${ms(tExchange)} ms; refresh ${ms(tRefresh)} ms`);
console.log(`Argon2id (the configured parameters; default m=19456 KiB, t=2, p=1): ${argon['workerd CPU ms/req']} ms of workerd CPU per password verification (hashing costs the same), including the request around it`);
