// Warranty cards (issue 12), as the people who use them: an engineer on a 360 px phone replaces a
// 10G module from the station's shelf and completes the visit; the station manager files the
// warranty card; the service administrator returns it for correction; the station corrects it;
// the administrator approves it. The shelf has one module less and the old one is listed on its
// way to the central warehouse.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DESKTOP, PHONE, logIn, newPage, screenshot, useShouhou } from './support.mjs';

useShouhou('warranty');

async function status(page) {
  return (await page.locator('[data-testid=wo-status]').innerText()).trim();
}

async function step(page, label) {
  await Promise.all([page.waitForLoadState('load'), page.locator('[data-testid=wo-steps] button', { hasText: label }).click()]);
  await page.waitForSelector('[data-testid=wo-status]');
}

/** On hand of a part at a warehouse, as the warehouses page shows it. */
async function onHand(page, warehouse, part) {
  await page.goto(`/warehouses?q=${part}#stock`);
  const row = page.locator('[data-testid=stock] tbody tr', { hasText: warehouse });
  const cells = await row.locator('td').allInnerTexts();
  return Number.parseFloat(cells[2]);
}

let workOrder; // its page's path
let before;

test('an engineer on a phone replaces a module from the station shelf and completes the visit', { timeout: 180_000 }, async (t) => {
  const page = await newPage(t, PHONE);
  await logIn(page, 'engineer');
  before = await onHand(page, 'SZ-NS01-WH', 'OM-10G-LR');
  await page.goto('/my-day');
  await page.locator('[data-testid=day-card]', { hasText: '待接单' }).first().click();
  await page.waitForSelector('[data-testid=wo-status]');
  workOrder = new URL(page.url()).pathname;
  await step(page, '接单');
  await step(page, '出发');
  await step(page, '到场签到');
  await page.fill('#fault_code', 'E-LOS');
  await page.fill('#cause', '光模块收光功率低');
  await step(page, '记录诊断');

  await page.fill('#part_code', 'OM-10G-LR');
  await page.selectOption('#warehouse_id', { label: 'SZ-NS01-WH 深圳南山备件库' });
  await page.fill('#old_serial', 'OM-E2E-OLD');
  await page.fill('#new_serial', 'OM-E2E-NEWX');
  await Promise.all([page.waitForLoadState('load'), page.locator('[data-testid=part-form] button[type=submit]').click()]);
  assert.match(await page.locator('[data-testid=wo-parts]').innerText(), /OM-10G-LR 10G 光模块 × 1（OM-E2E-OLD → OM-E2E-NEWX）/);

  const pad = page.locator('canvas.sign-pad');
  await pad.scrollIntoViewIfNeeded();
  const box = await pad.boundingBox();
  await page.mouse.move(box.x + 20, box.y + box.height / 2);
  await page.mouse.down();
  for (let i = 1; i <= 12; i++) await page.mouse.move(box.x + 20 + i * 20, box.y + box.height / 2 + (i % 2 ? 20 : -20));
  await page.mouse.up();
  await Promise.all([page.waitForEvent('load'), page.locator('[data-testid=sign-save]').click()]);
  await page.waitForSelector('[data-testid=wo-files]');
  await page.fill('#work_done', '更换 10G 光模块，业务恢复');
  await page.fill('#labour_minutes', '60');
  await page.check('[data-testid=customer-confirmed]');
  await step(page, '完工');
  assert.equal(await status(page), '已完工');
  // The engineer does not file cards: the station does.
  assert.equal(await page.locator('[data-testid=file-card]').count(), 0);
  assert.equal(await onHand(page, 'SZ-NS01-WH', 'OM-10G-LR'), before - 1, 'the shelf has one module less');
});

let card; // the card's page path

test('the station files the card, the administrator returns it, the station corrects it, the administrator approves', { timeout: 180_000 }, async (t) => {
  assert.ok(workOrder, 'the engineer test ran first');
  const station = await newPage(t, DESKTOP);
  await logIn(station, 'station');
  await station.goto(workOrder);
  await Promise.all([station.waitForLoadState('load'), station.locator('[data-testid=file-card]').click()]);
  await station.waitForSelector('[data-testid=card-status]');
  card = new URL(station.url()).pathname;
  assert.equal((await station.locator('[data-testid=card-status]').innerText()).trim(), '待审核');
  // It is on the station's list.
  await station.goto('/warranty-cards');
  assert.equal(await station.locator(`[data-testid=cards] a[href="${card}"]`).count(), 1, 'the card is on the station\'s list');

  // The administrator returns it, with a reason.
  const admin = await newPage(t, DESKTOP);
  await logIn(admin, 'admin');
  await admin.goto('/warranty-cards?status=submitted');
  await Promise.all([admin.waitForLoadState('load'), admin.locator(`[data-testid=cards] a[href="${card}"]`).click()]);
  await admin.check('input[name=decision][value=return]');
  await admin.fill('#reason', '新件序列号与出库记录不符，请核对');
  await Promise.all([admin.waitForLoadState('load'), admin.locator('[data-testid=review-form] button[type=submit]').click()]);
  assert.equal((await admin.locator('[data-testid=card-status]').innerText()).trim(), '退回修改');

  // The station corrects the new serial on a phone and hands it in again.
  const phone = await newPage(t, PHONE);
  await logIn(phone, 'station');
  await phone.goto(card);
  assert.match(await phone.locator('[data-testid=card-reason]').innerText(), /新件序列号与出库记录不符/);
  await phone.fill('#new_serial_1', 'OM-E2E-NEW1');
  await phone.fill('#note', '新件序列号已按出库单更正');
  await Promise.all([phone.waitForLoadState('load'), phone.locator('[data-testid=correct-form] button[type=submit]').click()]);
  assert.equal((await phone.locator('[data-testid=card-status]').innerText()).trim(), '待审核');
  assert.match(await phone.locator('[data-testid=card-parts]').innerText(), /OM-E2E-NEW1/);
  await screenshot(phone, 'warranty-card-phone-corrected', { fullPage: true });

  // The administrator approves; payable once the old part is back.
  await admin.goto(card);
  await Promise.all([admin.waitForLoadState('load'), admin.locator('[data-testid=review-form] button[type=submit]').click()]);
  assert.equal((await admin.locator('[data-testid=card-status]').innerText()).trim(), '已通过');
  assert.match(await admin.locator('[data-testid=card-payable]').innerText(), /待旧件返还检验后方可结算/);
  const timeline = await admin.locator('[data-testid=card-timeline]').innerText();
  for (const what of ['提交', '退回修改', '修改后重新提交', '审核通过']) assert.ok(timeline.includes(what), `${what} is on the timeline`);
  await screenshot(admin, 'warranty-card-desktop-approved', { fullPage: true });

  // The old module is on its way to the central warehouse.
  await admin.goto('/warranty-cards#returns');
  const ret = admin.locator('[data-testid=returns] tbody tr', { hasText: 'OM-E2E-OLD' });
  assert.equal(await ret.count(), 1);
  assert.match(await ret.innerText(), /在途（返中心库） → HQ-CW/);
  await screenshot(admin, 'warranty-cards-desktop', { fullPage: true });
});
