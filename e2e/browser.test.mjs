// Browser end-to-end tests for the shouhou web UI.
//
// Starts `shouhou demo` on a free port with a fresh data dir, drives Debian's
// headless Chromium through playwright-core, and checks what each role sees
// at a desktop (1280×800) and a phone (360×740) viewport.
//
//   node --test browser.test.mjs        (or ./run.sh, which installs what is missing)
//
// Environment: SHOUHOU_BIN (default ../target/debug/shouhou),
//              CHROMIUM_BIN (default /usr/bin/chromium).

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const E2E_DIR = path.dirname(fileURLToPath(import.meta.url));
const REPO_ROOT = path.resolve(E2E_DIR, '..');
const SHOUHOU_BIN = path.resolve(E2E_DIR, process.env.SHOUHOU_BIN ?? '../target/debug/shouhou');
const CHROMIUM_BIN = process.env.CHROMIUM_BIN ?? '/usr/bin/chromium';
const SCREENSHOT_DIR = path.join(REPO_ROOT, 'docs', 'screenshots');
const SERVER_LOG = path.join(E2E_DIR, 'out', 'server.log'); // e2e/out/ is git-ignored

const PASSWORD = 'Shouhou@2026';

const VIEWPORTS = [
  { name: 'desktop', width: 1280, height: 800 },
  { name: 'phone', width: 360, height: 740 },
];

const ADMIN_NAV = ['工作台', '服务站', '仓库', '用户', '审计日志', '我的账户', 'API 文档'];
const ENGINEER_NAV = ['工作台', '服务站', '仓库', '我的账户', 'API 文档'];
const ALL_STATIONS = ['BJ-CY01', 'CD-WH01', 'GZ-TH01', 'SH-PD01', 'SZ-NS01', 'WH-HS01'];

const LOGIN_ERROR = '用户名或密码错误，请重新输入。';
const NOT_FOUND = '页面不存在，或您无权查看。';

// Only these screenshots are kept (docs/screenshots/NAME.png, overwritten each run).
const SCREENSHOTS = new Set([
  'login-desktop',
  'admin-home-desktop',
  'admin-stations-desktop',
  'engineer-home-phone',
]);

let server; // the `shouhou demo` child process
let dataDir;
let baseURL;
let browser;

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
      throw new Error(`shouhou exited early (code ${child.exitCode}, signal ${child.signalCode}); see ${SERVER_LOG}`);
    }
    try {
      const res = await fetch(`${url}/healthz`);
      if (res.ok && (await res.text()).trim() === 'ok') return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`shouhou did not answer ${url}/healthz within ${timeoutMs} ms; see ${SERVER_LOG}`);
}

async function startServer() {
  if (!existsSync(SHOUHOU_BIN)) {
    throw new Error(`no shouhou binary at ${SHOUHOU_BIN}: run \`cargo build -p shouhou\` or set SHOUHOU_BIN`);
  }
  const port = await freePort();
  dataDir = mkdtempSync(path.join(tmpdir(), 'shouhou-e2e-'));
  baseURL = `http://127.0.0.1:${port}`;

  mkdirSync(path.dirname(SERVER_LOG), { recursive: true });
  const log = createWriteStream(SERVER_LOG);
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

before(async () => {
  await startServer();
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

// ---------------------------------------------------------------- helpers

/** A fresh page in its own browser context (no cookies) at the given viewport. */
async function newPage(t, viewport) {
  const context = await browser.newContext({
    baseURL,
    viewport: { width: viewport.width, height: viewport.height },
    locale: 'zh-CN',
  });
  context.setDefaultTimeout(15_000);
  t.after(() => context.close());
  return context.newPage();
}

async function submitLogin(page, username, password) {
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

async function logIn(page, username) {
  await submitLogin(page, username, PASSWORD);
  await page.waitForURL(`${baseURL}/`);
}

/** The navigation labels as a user of this viewport sees them (opens the ☰ menu on phones). */
async function visibleNavLabels(page, viewport) {
  if (viewport.name === 'desktop') {
    assert.equal(await page.locator('details.menu').isVisible(), false, 'the ☰ menu is hidden on desktop');
    const nav = page.locator('nav.side');
    assert.ok(await nav.isVisible(), 'the sidebar is visible on desktop');
    return nav.locator('a').allInnerTexts();
  }
  assert.equal(await page.locator('nav.side').isVisible(), false, 'the sidebar is hidden on phones');
  await page.click('details.menu summary');
  const nav = page.locator('details.menu nav');
  await nav.waitFor({ state: 'visible' });
  return nav.locator('a').allInnerTexts();
}

async function stationCodes(page) {
  await page.goto('/stations');
  return page.locator('#station-table tbody tr td:first-child a').allInnerTexts();
}

const stationPathCache = new Map();
/** `/stations/N` for a station code, read from the admin's station list. */
async function stationPath(t, code) {
  if (!stationPathCache.has(code)) {
    const page = await newPage(t, VIEWPORTS[0]);
    await logIn(page, 'admin');
    await page.goto('/stations');
    const href = await page.locator('#station-table a', { hasText: code }).getAttribute('href');
    assert.match(href, /^\/stations\/\d+$/, `admin's list links ${code}`);
    stationPathCache.set(code, href);
  }
  return stationPathCache.get(code);
}

async function capture(page, name) {
  if (SCREENSHOTS.has(name)) {
    await page.screenshot({ path: path.join(SCREENSHOT_DIR, `${name}.png`) });
  }
}

// ---------------------------------------------------------------- tests

for (const viewport of VIEWPORTS) {
  describe(`on a ${viewport.name} screen (${viewport.width}×${viewport.height})`, { timeout: 120_000 }, () => {
    test('an admin who logs in sees exactly the admin navigation', async (t) => {
      const page = await newPage(t, viewport);
      await page.goto('/login');
      await capture(page, `login-${viewport.name}`);

      await logIn(page, 'admin');
      assert.ok(await page.locator('header.topbar').isVisible());
      const who = page.locator('[data-testid=who]');
      if (viewport.name === 'desktop') {
        assert.match(await who.innerText(), /王建国/);
      } else {
        assert.equal(await who.isVisible(), false, 'the user name is hidden on phones');
      }
      await capture(page, `admin-home-${viewport.name}`);

      assert.deepEqual(await visibleNavLabels(page, viewport), ADMIN_NAV);
    });

    test('an engineer who logs in sees exactly the engineer navigation', async (t) => {
      const page = await newPage(t, viewport);
      await logIn(page, 'engineer');
      if (viewport.name === 'desktop') {
        assert.match(await page.locator('[data-testid=who]').innerText(), /赵磊/);
      }

      assert.deepEqual(await visibleNavLabels(page, viewport), ENGINEER_NAV);
      await capture(page, `engineer-home-${viewport.name}`); // with the ☰ menu open on phones
    });

    test("an admin's station list shows all six stations", async (t) => {
      const page = await newPage(t, viewport);
      await logIn(page, 'admin');

      assert.deepEqual(await stationCodes(page), ALL_STATIONS);
      await capture(page, `admin-stations-${viewport.name}`);
    });

    test("an engineer's station list shows only their own station SZ-NS01", async (t) => {
      const page = await newPage(t, viewport);
      await logIn(page, 'engineer');

      assert.deepEqual(await stationCodes(page), ['SZ-NS01']);
      const own = await page.goto(await page.locator('#station-table a', { hasText: 'SZ-NS01' }).getAttribute('href'));
      assert.equal(own.status(), 200, 'the engineer may open their own station');
      assert.match(await page.locator('main').innerText(), /深圳南山服务站/);
    });

    test("an engineer who opens another station's page gets a 404 with a clear message", async (t) => {
      const otherStation = await stationPath(t, 'GZ-TH01');
      const page = await newPage(t, viewport);
      await logIn(page, 'engineer');

      const response = await page.goto(otherStation);
      assert.equal(response.status(), 404);
      assert.match(await page.locator('body').innerText(), new RegExp(NOT_FOUND));
      assert.doesNotMatch(await page.locator('body').innerText(), /广州天河服务站/, 'nothing of the station leaks');
    });

    test('a wrong password is refused with a clear message', async (t) => {
      const page = await newPage(t, viewport);
      const response = await submitLogin(page, 'admin', 'not-the-password');

      assert.equal(response.status(), 401);
      const error = page.locator('[data-testid=login-error]');
      assert.ok(await error.isVisible(), 'the error is shown');
      assert.equal((await error.innerText()).trim(), LOGIN_ERROR);
      assert.equal(new URL(page.url()).pathname, '/login', 'still on the login page');
    });

    test("an admin verifying the audit log's hash chain is told it is intact", async (t) => {
      const page = await newPage(t, viewport);
      await logIn(page, 'admin');
      await page.goto('/audit');

      await page.getByRole('button', { name: '校验哈希链' }).click();
      const verdict = page.locator('[data-testid=verdict]');
      await verdict.waitFor({ state: 'visible' });
      assert.match(await verdict.innerText(), /^哈希链完整/);
      assert.equal(new URL(page.url()).pathname, '/audit', 'verified in place via htmx');
    });
  });
}
