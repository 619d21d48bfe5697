// The desk's pages as a workplace (issue 10), tried as a new user would at 1280 and 360 px:
// each role's 工作台, the request list and page, customers and devices.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { VIEWPORTS, logIn, newPage, screenshot, useShouhou } from './support.mjs';

useShouhou('workplace');

async function noSideScroll(page, what) {
  const { scrollWidth, clientWidth } = await page.evaluate(() => ({
    scrollWidth: document.documentElement.scrollWidth,
    clientWidth: document.documentElement.clientWidth,
  }));
  assert.ok(scrollWidth <= clientWidth, `${what}: no horizontal scrolling (${scrollWidth} > ${clientWidth})`);
}

/** No date (YYYY-MM-DD HH:MM) is broken over two lines. */
async function datesOnOneLine(page, what) {
  const broken = await page.evaluate(() => {
    const out = [];
    const walker = document.createTreeWalker(document.querySelector('main'), NodeFilter.SHOW_TEXT);
    while (walker.nextNode()) {
      const n = walker.currentNode;
      const m = /\d{4}-\d{2}-\d{2}( \d{2}:\d{2})?/.exec(n.textContent);
      if (!m) continue;
      const r = document.createRange();
      r.setStart(n, m.index);
      r.setEnd(n, m.index + m[0].length);
      const rects = [...r.getClientRects()].filter((x) => x.width > 0);
      if (new Set(rects.map((x) => Math.round(x.top))).size > 1) out.push(m[0]);
    }
    return out;
  });
  assert.deepEqual(broken, [], `${what}: dates split across lines`);
}

for (const viewport of VIEWPORTS) {
  describe(`the workplace on a ${viewport.name} screen (${viewport.width}×${viewport.height})`, { timeout: 180_000 }, () => {
    test("an engineer's workbench shows their own requests and their figures", async (t) => {
      const page = await newPage(t, viewport);
      await logIn(page, 'engineer');
      const main = await page.locator('main').innerText();
      assert.doesNotMatch(main, /将陆续上线/, 'no stale "coming soon" line');
      assert.match(main, /我的服务请求/);
      assert.ok(await page.locator('[data-testid=fig-mine]').isVisible());
      assert.ok(await page.locator('[data-testid=fig-breached]').isVisible());
      await noSideScroll(page, 'engineer workbench');
      await screenshot(page, `workbench-engineer-${viewport.name}`, { fullPage: true });
    });

    test("a station manager's workbench shows the station queue with at-risk and breached counts", async (t) => {
      const page = await newPage(t, viewport);
      await logIn(page, 'station');
      assert.match(await page.locator('main').innerText(), /本站队列/);
      assert.ok(await page.locator('[data-testid=fig-at-risk]').isVisible());
      assert.ok(await page.locator('[data-testid=fig-breached]').isVisible());
      await noSideScroll(page, 'station workbench');
      await screenshot(page, `workbench-station-${viewport.name}`, { fullPage: true });
    });

    test("an agent's workbench shows open and due-soon requests and today's figures", async (t) => {
      const page = await newPage(t, viewport);
      await logIn(page, 'agent');
      for (const id of ['fig-open', 'fig-due-soon', 'fig-today', 'fig-closed-today']) {
        assert.ok(await page.locator(`[data-testid=${id}]`).isVisible(), id);
      }
      assert.ok(await page.locator('[data-testid=to-desk]').isVisible());
      await screenshot(page, `workbench-agent-${viewport.name}`, { fullPage: true });
    });

    test("a manager's workbench is an overview", async (t) => {
      const page = await newPage(t, viewport);
      await logIn(page, 'manager');
      for (const id of ['fig-open', 'fig-unassigned', 'fig-at-risk', 'fig-breached', 'fig-today']) {
        assert.ok(await page.locator(`[data-testid=${id}]`).isVisible(), id);
      }
      await noSideScroll(page, 'manager workbench');
      await screenshot(page, `workbench-manager-${viewport.name}`, { fullPage: true });
    });

    test('the request list names customer, station, handler, registered and due time; an engineer starts on 我的', async (t) => {
      const page = await newPage(t, viewport);
      await logIn(page, 'dispatcher');
      await page.goto('/requests');
      const rows = page.locator('[data-testid=request-row]');
      assert.ok((await rows.count()) > 0, 'the demo has open requests');
      const first = await rows.first().innerText();
      assert.match(first, /SR-\d{8}-\d{4}/);
      assert.match(first, /服务站|总部/);
      if (viewport.name === 'phone') {
        const display = await page.locator('table.reqs thead').evaluate((e) => getComputedStyle(e).display);
        assert.equal(display, 'none', 'a card per request on a phone, no table header');
        const label = await rows.first().locator('td[data-label]').first().evaluate((e) => getComputedStyle(e, '::before').content);
        assert.match(label, /服务站：/, 'each card says what each line is');
      } else {
        const heads = await page.locator('table.reqs thead th').allInnerTexts();
        assert.deepEqual(heads, ['编号', '客户', '状态', '紧急程度', '服务站', '处理人', '登记时间', '到期']);
      }
      await noSideScroll(page, 'request list');
      await datesOnOneLine(page, 'request list');
      await screenshot(page, `requests-${viewport.name}`, { fullPage: viewport.name === 'phone' });

      const eng = await newPage(t, viewport);
      await logIn(eng, 'engineer');
      await eng.goto('/requests');
      assert.equal(await eng.locator('nav.tabs a[aria-current=page]').innerText(), '我的');
    });

    test('the request page shows address, station, contacts and fault code, with one note box', async (t) => {
      const page = await newPage(t, viewport);
      await logIn(page, 'dispatcher');
      await page.goto('/requests?queue=all');
      await Promise.all([page.waitForURL(/\/requests\/\d+$/), page.locator('[data-testid=request-row] a').first().click()]);
      assert.ok(await page.locator('[data-testid=address]').isVisible());
      assert.ok(await page.locator('[data-testid=station]').isVisible());
      assert.equal(await page.locator('textarea[name=note], input[name=note]').count(), 1, 'one note box');
      assert.ok(await page.locator('[data-testid=add-note]').isVisible());
      assert.match(await page.locator('[data-testid=file-name]').innerText(), /未选择文件/, 'the file input speaks the page language');
      await noSideScroll(page, 'request page');
      await datesOnOneLine(page, 'request page');
      await screenshot(page, `request-page-${viewport.name}`, { fullPage: true });

      // An engineer's customer link opens the customer's page, not the agent's desk.
      const eng = await newPage(t, viewport);
      await logIn(eng, 'engineer');
      await eng.goto('/requests?queue=all');
      const link = eng.locator('[data-testid=request-row] a').first();
      if ((await link.count()) > 0) {
        await Promise.all([eng.waitForURL(/\/requests\/\d+$/), link.click()]);
        await Promise.all([eng.waitForURL(/\/customers\/\d+$/), eng.locator('[data-testid=customer] a').first().click()]);
        assert.ok(await eng.locator('[data-testid=customer-name]').isVisible());
      }
    });

    test('customers are searched, a customer page lists details, devices and requests', async (t) => {
      const page = await newPage(t, viewport);
      await logIn(page, 'agent');
      await page.goto('/customers');
      assert.ok(await page.locator('[data-testid=new-customer]').isVisible(), 'a create button');
      await Promise.all([page.waitForURL(/q=/), page.fill('[data-testid=customer-search]', '5000').then(() => page.press('[data-testid=customer-search]', 'Enter'))]);
      const rows = page.locator('[data-testid=customer-row]');
      assert.ok((await rows.count()) > 0, 'found by serial number');
      await Promise.all([page.waitForURL(/\/customers\/\d+$/), rows.first().locator('a').click()]);
      assert.ok(await page.locator('[data-testid=device-list]').isVisible());
      await noSideScroll(page, 'customer page');
      await datesOnOneLine(page, 'customer page');
      await screenshot(page, `customer-${viewport.name}`, { fullPage: true });
    });

    test('devices are found by serial and a device page shows its history', async (t) => {
      const page = await newPage(t, viewport);
      await logIn(page, 'engineer');
      await page.goto('/devices?q=5000');
      const rows = page.locator('[data-testid=device-row]');
      assert.ok((await rows.count()) > 0, "the engineer's station has devices");
      await Promise.all([page.waitForURL(/\/devices\/\d+$/), rows.first().locator('a').click()]);
      assert.match(await page.locator('[data-testid=device-serial]').innerText(), /\S/);
      await Promise.all([page.waitForURL(/\/customers\/\d+$/), page.click('[data-testid=device-customer]')]);
      assert.ok(await page.locator('[data-testid=customer-name]').isVisible(), 'an engineer lands on the customer page, not the desk');
      await page.goBack();
      await noSideScroll(page, 'device page');
      await screenshot(page, `device-${viewport.name}`, { fullPage: true });
    });
  });
}
