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
console.table(rows);
