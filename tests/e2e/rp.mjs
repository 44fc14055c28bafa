// A relying party for the end-to-end suites: a local HTTP server that receives the
// authorization callback and back-channel logout POSTs, and a Chromium driven by
// playwright-core for the hosted pages.
import http from 'node:http';
import { chromium } from 'playwright-core';

/** Starts the receiver; `logouts` collects the logout_token of each back-channel POST, and
 * `posts` every other POST (a stand-in for an email or SMS provider's API). */
export async function startReceiver() {
  const logouts = [];
  const posts = [];
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    if (req.method === 'POST') {
      let body = '';
      req.on('data', (c) => { body += c; });
      req.on('end', () => {
        if (url.pathname === '/bcl') {
          logouts.push({ contentType: req.headers['content-type'], token: new URLSearchParams(body).get('logout_token') });
        } else {
          posts.push({ path: url.pathname, headers: req.headers, body });
        }
        res.writeHead(url.pathname === '/bcl' ? 200 : 201, { 'content-type': 'application/json' }).end('{}');
      });
      return;
    }
    res.writeHead(200, { 'content-type': 'text/html' }).end(`<!doctype html><title>RP</title><p id="rp">${url.pathname}</p>`);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const origin = `http://127.0.0.1:${server.address().port}`;
  return { origin, logouts, posts, close: () => new Promise((r) => server.close(r)) };
}

export async function launchBrowser(extraArgs = []) {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic', ...extraArgs],
  });
}

/** Waits until `page` is at a URL starting with `prefix`. */
export async function reached(page, prefix) {
  await page.waitForURL((u) => u.href.startsWith(prefix), { timeout: 15_000 });
  return new URL(page.url());
}

/** Fills and submits the hosted sign-in page; without a password, identifier first (a
 * work email that enterprise SSO routes). */
export async function signIn(page, identifier, password) {
  await page.waitForSelector('form[action="/sign-in"]');
  await page.getByLabel('Username or email').fill(identifier);
  if (password !== undefined) await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
}

export async function until(fn, ms = 10_000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Screenshots of `page` in light and dark, into test-output/screenshots (not committed). */
export async function shoot(page, name) {
  const { mkdirSync } = await import('node:fs');
  const dir = new URL('../../test-output/screenshots/', import.meta.url);
  mkdirSync(dir, { recursive: true });
  for (const scheme of ['light', 'dark']) {
    await page.emulateMedia({ colorScheme: scheme });
    await page.screenshot({ path: new URL(`${name}-${scheme}.png`, dir).pathname, fullPage: true });
  }
  await page.emulateMedia({ colorScheme: 'light' });
}
