// The administrator's pages (issue 10) at 1280 and 360 px: service levels edited with time, date
// and hours + minutes inputs.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { VIEWPORTS, logIn, newPage, screenshot, useShouhou } from './support.mjs';

useShouhou('admin');

async function noSideScroll(page, what) {
  const { scrollWidth, clientWidth } = await page.evaluate(() => ({
    scrollWidth: document.documentElement.scrollWidth,
    clientWidth: document.documentElement.clientWidth,
  }));
  assert.ok(scrollWidth <= clientWidth, `${what}: no horizontal scrolling (${scrollWidth} > ${clientWidth})`);
}

/** No element's text of a few words ("1 小时 30 分钟", "公司假日") wraps inside a word. */
async function durationsOnOneLine(page, what) {
  const broken = await page.evaluate(() =>
    [...document.querySelectorAll('main b, main .tag, main .weekday-name, main .date')]
      .filter((e) => new Set([...e.getClientRects()].map((r) => Math.round(r.top))).size > 1 || e.getClientRects().length > 1)
      .map((e) => e.textContent),
  );
  assert.deepEqual(broken, [], `${what}: broken over two lines`);
}

for (const viewport of VIEWPORTS) {
  describe(`the administrator's pages on a ${viewport.name} screen (${viewport.width}×${viewport.height})`, { timeout: 180_000 }, () => {
    test('服务级别: hours, a company holiday and a policy target are edited and shown in words', async (t) => {
      const page = await newPage(t, viewport);
      await logIn(page, 'admin');
      await page.goto(`${new URL(page.url()).origin}/admin/sla`);
      assert.match(await page.locator('h1').innerText(), /服务级别/);
      await noSideScroll(page, 'sla page');
      await durationsOnOneLine(page, 'sla page');
      await screenshot(page, `sla-${viewport.name}`, { fullPage: true });

      // Saturday morning 09:00–12:00 on the working-day calendar.
      const cal = page.locator('[data-testid=calendar-form-cn-workday]');
      const sat = cal.locator('[data-testid=weekday-5] input[type=time]');
      await sat.nth(0).fill('09:00');
      await sat.nth(1).fill('12:00');
      await cal.locator('button[type=submit]').click();
      await page.waitForURL(/saved=1/);
      assert.equal(await page.locator('[data-testid=calendar-form-cn-workday] [data-testid=weekday-5] input[type=time]').nth(0).inputValue(), '09:00');

      // A company holiday with a note.
      const date = viewport.name === 'desktop' ? '2026-12-24' : '2026-12-31';
      const days = page.locator('[data-testid=day-form-cn-workday]');
      await days.locator('input[type=date]').fill(date);
      await days.locator('input[name=note]').fill('公司年会');
      await days.locator('button[type=submit]').click();
      await page.waitForURL(/saved=1/);
      assert.ok(await page.locator(`[data-testid=day-${date}]`).isVisible());

      // The first policy: 1 小时 30 分钟 to respond; 75 minutes is refused with the field's message.
      const form = page.locator('form[data-testid^=policy-form-]').first();
      await form.locator('input[name=response_h]').fill('1');
      await form.locator('input[name=response_m]').evaluate((e) => { e.removeAttribute('max'); e.value = '75'; });
      await form.locator('button[type=submit]').click();
      await page.waitForLoadState();
      assert.match(await page.locator('main').innerText(), /首次响应目标超出允许范围/);
      await screenshot(page, `sla-error-${viewport.name}`, { fullPage: true });
      await page.locator('section.sla-policy').first().screenshot({ path: `out/screenshots/sla-policy-error-${viewport.name}.png` });
      await page.locator('[data-testid=calendar-cn-workday]').screenshot({ path: `out/screenshots/sla-calendar-${viewport.name}.png` });
      const again = page.locator('form[data-testid^=policy-form-]').first();
      await again.locator('input[name=response_m]').fill('30');
      await again.locator('button[type=submit]').click();
      await page.waitForURL(/saved=1/);
      assert.match(await page.locator('[data-testid^=policy-] [data-testid=response]').first().innerText(), /^1 小时 30 分钟$/);
      await noSideScroll(page, 'sla page after edits');
      await durationsOnOneLine(page, 'sla page after edits');
      await screenshot(page, `sla-edited-${viewport.name}`, { fullPage: true });
    });

    test('审计日志: entries in words, operators by name, filtered by who, what, when and record', async (t) => {
      const page = await newPage(t, viewport);
      await logIn(page, 'admin');
      const origin = new URL(page.url()).origin;
      // The favicon is linked and served.
      const icon = await page.locator('link[rel=icon]').getAttribute('href');
      const r = await page.request.get(`${origin}${icon}`);
      assert.equal(r.status(), 200);
      assert.match(r.headers()['content-type'], /image\/svg\+xml/);
      assert.equal((await page.request.get(`${origin}/favicon.ico`)).status(), 200);

      await page.goto(`${origin}/audit`);
      const main = await page.locator('main').innerText();
      assert.match(main, /登录/, 'actions in words');
      assert.doesNotMatch(main, /\bauth\.login\b/, 'no action codes');
      await noSideScroll(page, 'audit page');
      await screenshot(page, `audit-${viewport.name}`, { fullPage: true });
      await page.locator('#what').selectOption('auth.');
      await page.locator('#who').fill('admin');
      await page.locator('[data-testid=audit-filter] button[type=submit]').click();
      await page.waitForURL(/what=auth/);
      const rows = page.locator('[data-testid=audit-row]');
      assert.ok((await rows.count()) >= 1);
      for (const text of await rows.allInnerTexts()) assert.match(text, /登录|退出/);
      await page.locator('#from').fill('2000-01-01');
      await page.locator('#to').fill('2000-01-02');
      await page.locator('[data-testid=audit-filter] button[type=submit]').click();
      await page.waitForURL(/from=2000/);
      assert.equal(await rows.count(), 0);
      await page.goto(`${origin}/audit?entity=calendar`);
      await noSideScroll(page, 'audit page filtered');
      await screenshot(page, `audit-calendar-${viewport.name}`, { fullPage: true });
    });

    test('API 文档: inside the frame with a way back', async (t) => {
      const page = await newPage(t, viewport);
      await logIn(page, 'admin');
      assert.equal(await page.locator('nav.side a[href="/api-docs"]').count(), 1, 'linked from the navigation');
      await page.goto(`${new URL(page.url()).origin}/api-docs`);
      assert.ok(await page.locator('header.topbar').isVisible());
      assert.match(await page.locator('main').innerText(), /\/api\/v1\/stations/);
      await noSideScroll(page, 'api docs');
      await screenshot(page, `api-docs-${viewport.name}`);
      await page.locator('[data-testid=back]').click();
      await page.waitForURL((u) => u.pathname === '/');
    });
  });
}
