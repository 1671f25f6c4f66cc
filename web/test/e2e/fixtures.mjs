// Shared pieces of the end-to-end tests: the server's address and key, a page fixture that fails a test on any
// script error or Content-Security-Policy violation, and helpers for the common steps.
import { test as base, expect } from '@playwright/test';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const BASE_URL = process.env.CONCLAVE_BASE_URL ?? '';
export const API_KEY = process.env.CONCLAVE_API_KEY ?? '';
if (!BASE_URL || !API_KEY) {
  throw new Error('Set CONCLAVE_BASE_URL (e.g. http://127.0.0.1:5181) and CONCLAVE_API_KEY (an admin key) to run the e2e tests.');
}

const here = dirname(fileURLToPath(import.meta.url));
export const SHOTS = join(here, '../../test-results/screenshots');
mkdirSync(SHOTS, { recursive: true });

/**
 * Watches a page for uncaught errors, console errors and CSP violations.
 * @param {import('@playwright/test').Page} page
 */
export function watch(page) {
  /** @type {string[]} */
  const problems = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    const t = m.text();
    if (/Content[- ]Security[- ]Policy|Refused to (execute|load|apply)/i.test(t)) problems.push(`CSP: ${t}`);
    // A refused socket (a spent ticket, a dropped proxy) logs an error on purpose in some tests; other errors count.
    else if (m.type() === 'error' && !/WebSocket|ERR_CONNECTION|Failed to load resource/i.test(t)) problems.push(`console error: ${t}`);
  });
  page.on('dialog', (d) => {
    problems.push(`unexpected dialog: ${d.type()} ${d.message()}`);
    d.dismiss().catch(() => {});
  });
  return problems;
}

export const test = base.extend({
  page: async ({ page }, use) => {
    const problems = watch(page);
    await use(page);
    expect(problems, 'no script errors, CSP violations or dialogs').toEqual([]);
  },
});
export { expect };

/** @param {import('@playwright/test').Page} page @param {string} name */
export async function shot(page, name) {
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: false });
}

/** Signs in through the form. @param {import('@playwright/test').Page} page */
export async function signIn(page, key = API_KEY, url = '/') {
  await page.goto(url);
  await page.getByTestId('api-key').fill(key);
  await page.getByTestId('signin-submit').click();
  await expect(page.getByTestId('signout')).toBeVisible();
}

/** Creates a session from the sidebar and waits for its socket. @param {import('@playwright/test').Page} page */
export async function newSession(page) {
  await page.getByTestId('new-session').click();
  await expect(page.getByTestId('connection')).toHaveAttribute('data-status', 'open');
  const m = /#\/s\/([0-9a-f]{32})/.exec(page.url());
  if (!m) throw new Error(`no session in ${page.url()}`);
  return m[1];
}

/** Opens a session by id and waits for its socket. @param {import('@playwright/test').Page} page @param {string} id */
export async function openSession(page, id) {
  await page.evaluate((sid) => {
    location.hash = `#/s/${sid}`;
  }, id);
  await expect(page.getByTestId('connection')).toHaveAttribute('data-status', 'open');
}

/** Types a message and sends it with Enter. @param {import('@playwright/test').Page} page @param {string} text */
export async function send(page, text) {
  const box = page.getByTestId('composer-input');
  await box.fill(text);
  await box.press('Enter');
}

/** The newest run's element. @param {import('@playwright/test').Page} page */
export function lastRun(page) {
  return page.getByTestId('run').last();
}

/** Waits until the newest run has ended (done, failed or cancelled). @param {import('@playwright/test').Page} page */
export async function runEnded(page, timeout = 60_000) {
  await expect(lastRun(page)).toHaveAttribute('data-status', /^(done|failed|cancelled)$/, { timeout });
  return lastRun(page);
}

/** `word1 word2 ... wordN` @param {number} n */
export function words(n) {
  return Array.from({ length: n }, (_, i) => `word${i + 1}`).join(' ');
}

/**
 * A REST call with the admin key (for set-up and checks).
 * @param {string} method @param {string} path @param {any} [body]
 */
export async function rest(method, path, body) {
  const res = await fetch(`${BASE_URL}/api/v1${path}`, {
    method,
    headers: { 'X-API-Key': API_KEY, ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}) },
    body: body !== undefined ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  return { status: res.status, data: text ? JSON.parse(text) : null, headers: res.headers };
}

/**
 * Starts a server of the test's own (the built server binary, a fresh data folder, a random admin key) with the
 * builtin model at `tokenDelayMs` a token, for a test that needs other settings than the shared server's; `settings`
 * are more, as environment variables (`Conclave__Section__Key`).
 * @param {{ tokenDelayMs: number, settings?: Record<string, string> }} options
 */
export async function startServer({ tokenDelayMs, settings = {} }) {
  const { spawn } = await import('node:child_process');
  const { mkdtempSync, rmSync, existsSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { randomBytes } = await import('node:crypto');
  const { createServer } = await import('node:net');
  const bin = join(here, '../../../src/Conclave.Server/bin/Release/net10.0');
  if (!existsSync(join(bin, 'Conclave.Server.dll'))) throw new Error(`build the server first (no ${bin}/Conclave.Server.dll)`);
  const port = await new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = /** @type {import('node:net').AddressInfo} */ (s.address()).port;
      s.close(() => resolve(p));
    });
  });
  const data = mkdtempSync(join(tmpdir(), 'conclave-web-e2e-'));
  const key = `e2e-own-${randomBytes(18).toString('base64url')}`;
  const url = `http://127.0.0.1:${port}`;
  const child = spawn('dotnet', ['Conclave.Server.dll', '--urls', url], {
    cwd: bin,
    env: {
      ...process.env,
      Conclave__DataDir: join(data, 'data'),
      Conclave__Auth__AdminKey: key,
      Conclave__Llm__Builtin__TokenDelayMs: String(tokenDelayMs),
      ...settings,
    },
    stdio: 'ignore',
  });
  const stop = async () => {
    if (child.exitCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(data, { recursive: true, force: true });
  };
  for (let i = 0; i < 150; i++) {
    if (child.exitCode !== null) break;
    try {
      if ((await fetch(`${url}/healthz`)).ok) return { url, key, stop };
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  await stop();
  throw new Error(`the test's own server did not start on ${url}`);
}
