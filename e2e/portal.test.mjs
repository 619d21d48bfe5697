// The customer portal (issue 13), as a customer with a phone would use it: a staff member prints
// a device's QR label; the customer, without an account and at 360 × 740, opens the label's link,
// reports a fault with a photo, gets the request number and tracks the request with the phone.
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
  const number = (await page.locator('[data-testid=request-number]').innerText()).trim();
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
