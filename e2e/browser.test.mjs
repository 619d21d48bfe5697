// Browser end-to-end tests for the shouhou web UI.
//
// Starts `shouhou demo` on a free port with a fresh data dir, drives Debian's
// headless Chromium through playwright-core, and checks what each role sees
// at a desktop (1280×800) and a phone (360×740) viewport.
//
//   node --test browser.test.mjs        (or ./run.sh, which installs what is missing)
//
// The server and browser set-up lives in support.mjs (SHOUHOU_BIN, CHROMIUM_BIN).

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { VIEWPORTS, logIn, newPage, screenshot, submitLogin, useShouhou } from './support.mjs';

const ADMIN_NAV = ['工作台', '服务台', '服务请求', '回访', '投诉建议', '派工台', '客户', '设备', '服务站', '三包卡', '产品召回', '仓库', '用户', '服务级别', '审计日志', '我的账户', 'API 文档'];
const ENGINEER_NAV = ['工作台', '我的工单', '服务请求', '派工台', '客户', '设备', '服务站', '三包卡', '产品召回', '仓库', '我的账户'];
const ALL_STATIONS = ['BJ-CY01', 'CD-WH01', 'GZ-TH01', 'SH-PD01', 'SZ-NS01', 'WH-HS01'];

const LOGIN_ERROR = '用户名或密码错误，请重新输入。';
const NOT_FOUND = '页面不存在，或您无权查看。';

// Only these screenshots are kept (SCREENSHOT_DIR/NAME.png, overwritten each run; see support.mjs).
const SCREENSHOTS = new Set([
  'login-desktop',
  'admin-home-desktop',
  'admin-stations-desktop',
  'engineer-home-phone',
  'login-throttled-phone',
]);

useShouhou('browser');

// ---------------------------------------------------------------- helpers

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
  if (SCREENSHOTS.has(name)) await screenshot(page, name);
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

    test('a guesser is told to wait, in minutes, after five wrong passwords', async (t) => {
      const page = await newPage(t, viewport);
      const name = `guesser-${viewport.name}`;
      for (let i = 0; i < 5; i++) {
        const r = await submitLogin(page, name, 'wrong-password');
        assert.equal(r.status(), 401, `attempt ${i + 1} is checked`);
      }
      const r = await submitLogin(page, name, 'wrong-password');
      assert.equal(r.status(), 429);
      assert.ok(Number(await r.headerValue('retry-after')) > 0, 'the page says when to retry, in its header too');
      assert.match(await page.locator('main, body').first().innerText(), /登录失败次数过多，请 \d+ 分钟后再试。/);
      await capture(page, `login-throttled-${viewport.name}`);
    });

    test('a dealer finds no service desk', async (t) => {
      const page = await newPage(t, viewport);
      await logIn(page, 'dealer');
      const r = await page.goto('/desk');
      assert.equal(r.status(), 404);
      assert.match(await page.locator('main').innerText(), new RegExp(NOT_FOUND));
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
