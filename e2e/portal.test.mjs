// The customer portal (issue 13), as a customer with a phone would use it: a staff member prints
// a device's QR label; the customer, without an account and at 360 × 740, opens the label's link,
// reports a fault with a photo, gets the request number and tracks the request with the phone; an
// agent resolves it at 1280 px; the customer confirms and rates the service through the survey
// link; the agent's return-visit queue then shows the visit archived.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DESKTOP, PHONE, logIn, newPage, screenshot, useShouhou } from './support.mjs';

useShouhou('portal');

// A real 1 × 1 PNG (the page may try to shrink it through a canvas).
const PHOTO = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==',
  'base64',
);
const PHONE_NUMBER = '13912345678';

let qrPath; // the device's report page, as its label links to it
let serial;
let devicePath; // the device's page in the back office
let number; // the request the customer reported

async function noSideways(page) {
  const wide = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(wide <= PHONE.width, `the page is ${wide} px wide at ${PHONE.width}`);
}

test('staff take a device QR label; its link is the device report page', { timeout: 120_000 }, async (t) => {
  const page = await newPage(t, DESKTOP);
  await logIn(page, 'agent');
  await page.goto('/devices');
  await Promise.all([page.waitForLoadState('load'), page.locator('[data-testid=device-row] a').first().click()]);
  serial = (await page.locator('[data-testid=device-serial]').innerText()).trim();
  devicePath = new URL(page.url()).pathname;
  const href = await page.locator('[data-testid=device-label]').getAttribute('href');
  const res = await page.request.get(href);
  assert.equal(res.status(), 200);
  assert.match(res.headers()['content-type'], /image\/svg\+xml/);
  const svg = await res.text();
  assert.ok(svg.includes(`SN ${serial}`), 'the serial is printed under the code');
  const link = svg.split('<desc>')[1].split('</desc>')[0];
  qrPath = new URL(link).pathname;
  assert.match(qrPath, /^\/q\/\d+-[A-Za-z0-9_-]+$/);
});

test('a customer on a phone reports a fault with a photo from the QR link and tracks it', { timeout: 120_000 }, async (t) => {
  const page = await newPage(t, PHONE);
  await page.goto(qrPath);
  await page.waitForSelector('[data-testid=portal-device]');
  assert.equal((await page.locator('[data-testid=device-serial]').innerText()).trim(), serial);
  assert.match(await page.locator('[data-testid=device-warranty]').innerText(), /保修|保修期/);
  await noSideways(page);
  await screenshot(page, 'portal-report-phone', { fullPage: true });

  await page.fill('#phone', PHONE_NUMBER);
  await page.fill('#name', '黄先生');
  await page.fill('#description', '设备开机后无显示，电源灯闪烁。');
  await page.setInputFiles('[data-testid=photo-1]', { name: 'fault.png', mimeType: 'image/png', buffer: PHOTO });
  await Promise.all([page.waitForURL(/\/portal\/thanks\//), page.click('[data-testid=report-submit]')]);
  number = (await page.locator('[data-testid=request-number]').innerText()).trim();
  assert.match(number, /^SR-\d{8}-\d{4}$/);
  await noSideways(page);
  await screenshot(page, 'portal-thanks-phone');

  await Promise.all([page.waitForURL(/\/portal\/track/), page.click('[data-testid=track-link]')]);
  assert.equal(await page.inputValue('#number'), number);
  await page.fill('#phone', PHONE_NUMBER);
  await Promise.all([page.waitForLoadState('load'), page.click('[data-testid=track-submit]')]);
  await page.waitForSelector('[data-testid=track-result]');
  assert.equal((await page.locator('[data-testid=track-status]').innerText()).trim(), '新建');
  const steps = await page.locator('[data-testid=timeline] li').allInnerTexts();
  assert.equal(steps.length, 1);
  assert.match(steps[0], /新建/);
  assert.equal((await page.locator('[data-testid=device-serial]').innerText()).trim(), serial);
  await noSideways(page);
  await screenshot(page, 'portal-track-phone', { fullPage: true });

  // A wrong phone learns nothing, not even that the number exists.
  await page.fill('#phone', '13700000000');
  await Promise.all([page.waitForLoadState('load'), page.click('[data-testid=track-submit]')]);
  assert.match(await page.locator('[data-testid=portal-error]').innerText(), /未找到/);
  assert.equal(await page.locator('[data-testid=track-result]').count(), 0);

  // The language switch keeps the customer on the portal.
  await Promise.all([page.waitForLoadState('load'), page.click('[data-testid=lang-en]')]);
  assert.match(await page.locator('h1').innerText(), /Track a request/);
});

test('an agent resolves it; the customer confirms and rates it; the visit is archived', { timeout: 180_000 }, async (t) => {
  // The agent at 1280 px finds the request on the device's history and resolves it.
  const desk = await newPage(t, DESKTOP);
  await logIn(desk, 'agent');
  await desk.goto(devicePath);
  await Promise.all([desk.waitForLoadState('load'), desk.locator('a', { hasText: number }).first().click()]);
  await desk.fill('#note', '已电话指导客户重新插拔电源模块，设备恢复正常');
  await Promise.all([desk.waitForLoadState('load'), desk.click('button[data-action=resolve]')]);
  assert.equal((await desk.locator('[data-testid=status]').innerText()).trim(), '已解决');
  await desk.waitForSelector('[data-testid=request-visits]');

  // The customer, on the phone again, confirms the completion and rates the service.
  const phone = await newPage(t, PHONE);
  await phone.goto(`/portal/track?number=${encodeURIComponent(number)}`);
  await phone.fill('#phone', PHONE_NUMBER);
  await Promise.all([phone.waitForLoadState('load'), phone.click('[data-testid=track-submit]')]);
  await Promise.all([phone.waitForLoadState('load'), phone.click('[data-testid=confirm]')]);
  assert.match(await phone.locator('[data-testid=portal-done]').innerText(), /确认/);
  await Promise.all([phone.waitForURL(/\/survey\//), phone.click('[data-testid=rate]')]);
  assert.equal((await phone.locator('[data-testid=survey-number]').innerText()).trim(), number);
  for (const q of ['satisfaction', 'attitude', 'skill', 'timeliness']) {
    await phone.check(`input[name=${q}][value="5"]`);
  }
  await phone.check('input[name=solved][value=true]');
  await phone.fill('#comment', '响应很快，谢谢！');
  await noSideways(phone);
  await screenshot(phone, 'portal-survey-phone', { fullPage: true });
  await Promise.all([phone.waitForLoadState('load'), phone.click('[data-testid=survey-submit]')]);
  await phone.waitForSelector('[data-testid=survey-thanks]');
  // The link works once.
  const again = await phone.reload();
  assert.equal(again.status(), 410);

  // The agent's queue: no longer to visit; archived, answered by the customer, the request closed.
  await desk.goto('/return-visits');
  assert.equal(await desk.locator('[data-testid=rv-queue] a', { hasText: number }).count(), 0);
  await desk.goto('/return-visits?tab=archived');
  const row = desk.locator('[data-testid=rv-queue] tr', { hasText: number });
  assert.equal(await row.count(), 1);
  assert.match(await row.innerText(), /5 \/ 5 \/ 5 \/ 5/);
  await screenshot(desk, 'return-visits-desktop');
  await Promise.all([desk.waitForLoadState('load'), row.locator('a').first().click()]);
  assert.match(await desk.locator('[data-testid=rv-scores]').innerText(), /客户在线评价/);
  await desk.goto(devicePath);
  await Promise.all([desk.waitForLoadState('load'), desk.locator('a', { hasText: number }).first().click()]);
  assert.equal((await desk.locator('[data-testid=status]').innerText()).trim(), '已关闭');
});
