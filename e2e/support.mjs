// Shared set-up for the browser end-to-end tests.
//
// `useShouhou(label)` registers before/after hooks in the calling test file: they start
// `shouhou demo` on a free port with a fresh data dir and launch Debian's headless Chromium
// through playwright-core; afterwards both are stopped and the data dir removed. Each test
// file runs in its own process under `node --test`, so each gets its own server.
//
// Environment: SHOUHOU_BIN (default ../target/debug/shouhou),
//              CHROMIUM_BIN (default /usr/bin/chromium).

import { after, before } from 'node:test';
import { spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const E2E_DIR = path.dirname(fileURLToPath(import.meta.url));
export const REPO_ROOT = path.resolve(E2E_DIR, '..');
// Screenshots go to e2e/out/screenshots (git-ignored), so a test run leaves the checkout clean;
// `scripts/screenshots.sh` runs the browser tests with SHOUHOU_SCREENSHOTS=docs/screenshots to
// refresh the pictures the README shows.
export const SCREENSHOT_DIR = path.resolve(REPO_ROOT, process.env.SHOUHOU_SCREENSHOTS ?? 'e2e/out/screenshots');
const SHOUHOU_BIN = path.resolve(E2E_DIR, process.env.SHOUHOU_BIN ?? '../target/debug/shouhou');
const CHROMIUM_BIN = process.env.CHROMIUM_BIN ?? '/usr/bin/chromium';
const OUT_DIR = path.join(E2E_DIR, 'out'); // e2e/out/ is git-ignored

export const PASSWORD = 'Shouhou@2026';

export const DESKTOP = { name: 'desktop', width: 1280, height: 800 };
export const PHONE = { name: 'phone', width: 360, height: 740 };
export const VIEWPORTS = [DESKTOP, PHONE];

let server; // the `shouhou demo` child process
let serverLog;
let dataDir;
let baseURL;
let browser;

/** The running server's origin, e.g. `http://127.0.0.1:41234` (set once the before hook ran). */
export function origin() {
  return baseURL;
}

// ---------------------------------------------------------------- setup

function freePort() {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.unref();
    probe.on('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

async function waitForHealthy(url, child, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`shouhou exited early (code ${child.exitCode}, signal ${child.signalCode}); see ${serverLog}`);
    }
    try {
      const res = await fetch(`${url}/healthz`);
      if (res.ok && (await res.text()).trim() === 'ok') return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`shouhou did not answer ${url}/healthz within ${timeoutMs} ms; see ${serverLog}`);
}

async function startServer(label) {
  if (!existsSync(SHOUHOU_BIN)) {
    throw new Error(`no shouhou binary at ${SHOUHOU_BIN}: run \`cargo build -p shouhou\` or set SHOUHOU_BIN`);
  }
  const port = await freePort();
  dataDir = mkdtempSync(path.join(tmpdir(), `shouhou-e2e-${label}-`));
  baseURL = `http://127.0.0.1:${port}`;

  mkdirSync(OUT_DIR, { recursive: true });
  serverLog = path.join(OUT_DIR, `server-${label}.log`);
  const log = createWriteStream(serverLog);
  server = spawn(SHOUHOU_BIN, ['demo', '--addr', `127.0.0.1:${port}`, '--data-dir', dataDir], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  server.stdout.pipe(log);
  server.stderr.pipe(log);
  await waitForHealthy(baseURL, server);
}

async function stopServer() {
  if (server && server.exitCode === null && server.signalCode === null) {
    const exited = new Promise((r) => server.once('exit', r));
    server.kill('SIGTERM');
    const timer = setTimeout(() => server.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  }
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
}

// Last resort if the runner itself dies: never leave the server behind.
process.on('exit', () => {
  if (server && server.exitCode === null) server.kill('SIGKILL');
});

/**
 * Registers the hooks that start the demo server and the browser before the file's tests
 * and stop both after them. `label` names the server log: e2e/out/server-LABEL.log.
 */
export function useShouhou(label) {
  before(async () => {
    await startServer(label);
    browser = await chromium.launch({
      executablePath: CHROMIUM_BIN,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-quic',
        '--no-first-run',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    mkdirSync(SCREENSHOT_DIR, { recursive: true });
  });

  after(async () => {
    await browser?.close();
    await stopServer();
  });
}

// ---------------------------------------------------------------- helpers

/** A fresh browser context (no cookies) at the given viewport; the caller closes it. */
export async function newContext(viewport) {
  const context = await browser.newContext({
    baseURL,
    viewport: { width: viewport.width, height: viewport.height },
    locale: 'zh-CN',
  });
  context.setDefaultTimeout(15_000);
  return context;
}

/** A fresh page in its own browser context (no cookies) at the given viewport. */
export async function newPage(t, viewport) {
  const context = await newContext(viewport);
  t.after(() => context.close());
  return context.newPage();
}

export async function submitLogin(page, username, password) {
  await page.goto('/login');
  await page.fill('#username', username);
  await page.fill('#password', password);
  const [response] = await Promise.all([
    page.waitForResponse((r) => r.request().method() === 'POST' && new URL(r.url()).pathname === '/login'),
    page.click('form.login-card button[type=submit]'),
  ]);
  await page.waitForLoadState();
  return response;
}

export async function logIn(page, username) {
  await submitLogin(page, username, PASSWORD);
  await page.waitForURL(`${baseURL}/`);
}

/** Saves SCREENSHOT_DIR/NAME.png (overwritten each run). */
export async function screenshot(page, name, options = {}) {
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, `${name}.png`), ...options });
}
