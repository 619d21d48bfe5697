// Field service (issue 11), as the people who use it: an engineer on a 360 px phone takes a work
// order from accepting it to the customer's signature and completion, losing the network once on
// the way; then the dispatcher at 1280 px sees it completed on the board.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getDocument } from 'pdfjs-dist/legacy/build/pdf.mjs';
import { DESKTOP, PHONE, logIn, newPage, screenshot, useShouhou } from './support.mjs';

useShouhou('field');

// An 8 × 8 red PNG: a photo the report can embed.
const PNG = Buffer.from(
  '89504e470d0a1a0a0000000d49484452000000080000000808020000004b6d29dc0000001149444154789c633861638315310c2d090065995001520faf530000000049454e44ae426082',
  'hex',
);

async function status(page) {
  return (await page.locator('[data-testid=wo-status]').innerText()).trim();
}

async function step(page, label) {
  await Promise.all([page.waitForLoadState('load'), page.locator(`[data-testid=wo-steps] button`, { hasText: label }).click()]);
  await page.waitForSelector('[data-testid=wo-status]');
}

let number;

test('an engineer on a phone accepts, travels, checks in, diagnoses, records a photo and a part, has the customer sign and completes', { timeout: 180_000 }, async (t) => {
  const page = await newPage(t, PHONE);
  await logIn(page, 'engineer');
  await page.goto('/my-day');
  const card = page.locator('[data-testid=day-card]', { hasText: '待接单' }).first();
  number = (await card.innerText()).match(/WO-\d{8}-\d{4}/)[0];
  await card.click();
  await page.waitForSelector('[data-testid=wo-status]');
  assert.equal(await status(page), '待接单');
  // The engineer on the visit sees whom to call only once they have taken it.
  assert.match(await page.locator('[data-testid=wo-customer]').innerText(), /\*/);
  await screenshot(page, 'work-order-phone-assigned', { fullPage: true });

  await step(page, '接单');
  assert.equal(await status(page), '已接单');
  assert.doesNotMatch(await page.locator('[data-testid=wo-customer]').innerText(), /\*/, 'in clear once accepted');
  assert.ok(await page.locator('a.tel').first().isVisible(), 'the phone can be dialled');
  await step(page, '出发');
  assert.equal(await status(page), '在途');
  await step(page, '到场签到');
  assert.equal(await status(page), '已到场');

  await page.fill('#fault_code', 'E-LOS');
  await page.fill('#cause', '尾纤弯折过度');
  await step(page, '记录诊断');
  assert.equal(await status(page), '处理中');

  // A photo before the work: through the page's own form (the file input is styled over).
  await page.locator('[data-testid=photo-form] input[type=file]').setInputFiles({ name: '现场.png', mimeType: 'image/png', buffer: PNG });
  await Promise.all([page.waitForLoadState('load'), page.locator('[data-testid=photo-form] button[type=submit]').click()]);
  await page.waitForSelector('[data-testid=wo-files]');
  assert.match(await page.locator('[data-testid=wo-files]').innerText(), /维修前/);

  // A part from the station's own shelf: the catalog names it, the stock gives it.
  await page.fill('#part_code', 'LC-PC-3M');
  await page.selectOption('#warehouse_id', { label: 'SZ-NS01-WH 深圳南山备件库' });
  await Promise.all([page.waitForLoadState('load'), page.locator('[data-testid=part-form] button[type=submit]').click()]);
  await page.waitForSelector('[data-testid=wo-parts]');
  assert.match(await page.locator('[data-testid=wo-parts]').innerText(), /LC-PC-3M 单模跳纤 × 1/);
  // And one the customer supplied, not from stock.
  await page.fill('#part_code', 'PT-FIBER-3M');
  await page.fill('#part_name', '3 米尾纤');
  await page.selectOption('#warehouse_id', '');
  await Promise.all([page.waitForLoadState('load'), page.locator('[data-testid=part-form] button[type=submit]').click()]);
  assert.match(await page.locator('[data-testid=wo-parts]').innerText(), /PT-FIBER-3M 3 米尾纤 × 1/);

  // The customer signs on the screen with a finger.
  const pad = page.locator('canvas.sign-pad');
  await pad.scrollIntoViewIfNeeded();
  const box = await pad.boundingBox();
  await page.mouse.move(box.x + 20, box.y + box.height / 2);
  await page.mouse.down();
  for (let i = 1; i <= 12; i++) await page.mouse.move(box.x + 20 + i * 20, box.y + box.height / 2 + (i % 2 ? 20 : -20));
  await page.mouse.up();
  await Promise.all([page.waitForEvent('load'), page.locator('[data-testid=sign-save]').click()]);
  await page.waitForSelector('[data-testid=wo-files]');
  assert.match(await page.locator('[data-testid=wo-files]').innerText(), /客户签字/);
  await screenshot(page, 'work-order-phone-on-site', { fullPage: true });

  // Completion, with the network gone at the moment of sending: what was typed stays.
  await page.fill('#work_done', '重新熔接尾纤，收光恢复正常');
  await page.fill('#labour_minutes', '45');
  await page.check('[data-testid=customer-confirmed]');
  const url = page.url();
  await page.context().setOffline(true);
  await page.locator('[data-testid=wo-steps] button', { hasText: '完工' }).click().catch(() => {});
  await page.waitForTimeout(500);
  await page.context().setOffline(false);
  await page.goto(url);
  assert.equal(await status(page), '处理中', 'nothing reached the server');
  assert.equal(await page.inputValue('#work_done'), '重新熔接尾纤，收光恢复正常', 'what was typed is kept');
  assert.equal(await page.inputValue('#labour_minutes'), '45');
  assert.ok(await page.locator('[data-keep-note]').isVisible(), 'the page says it kept it');
  await step(page, '完工');
  assert.equal(await status(page), '已完工');
  const timeline = await page.locator('[data-testid=wo-timeline]').innerText();
  assert.equal(timeline.match(/完工/g).length, 1, 'completed once');
  await screenshot(page, 'work-order-phone-completed', { fullPage: true });
});

test('the dispatcher at 1280 px sees it completed on the board, waiting for the station', { timeout: 120_000 }, async (t) => {
  assert.ok(number, 'the engineer test ran first');
  const page = await newPage(t, DESKTOP);
  await logIn(page, 'dispatcher');
  await page.goto('/work-orders');
  const row = page.locator('[data-group=review] [data-testid=wo-row]', { hasText: number });
  assert.equal(await row.count(), 1);
  assert.match(await row.innerText(), /已完工/);
  assert.equal(await page.locator('[data-group=board] [data-testid=wo-row]').count() >= 1, true, 'the board has its unassigned work');
  await screenshot(page, 'work-orders-board-desktop', { fullPage: true });
  const customer = (await row.locator('td.cust').innerText()).trim();

  // The service report: downloaded from the work order's page, its text read back by pdf.js (not
  // by the code that wrote it) holds the customer's Chinese name and what was done.
  await row.locator('a').first().click();
  await page.waitForSelector('[data-testid=report-link]');
  const href = await page.locator('[data-testid=report-link]').getAttribute('href');
  const res = await page.request.get(href);
  assert.equal(res.status(), 200);
  assert.equal(res.headers()['content-type'], 'application/pdf');
  const doc = await getDocument({ data: new Uint8Array(await res.body()), useSystemFonts: false, disableFontFace: true }).promise;
  let text = '';
  for (let i = 1; i <= doc.numPages; i++) {
    const content = await (await doc.getPage(i)).getTextContent();
    text += content.items.map((it) => it.str).join('');
  }
  assert.match(text, /服务报告/);
  assert.ok(text.includes(customer), `the customer's name ${customer} is in the report`);
  assert.match(text, /重新熔接尾纤/);
  assert.match(text, new RegExp(number));
  assert.doesNotMatch(text, /草稿/, 'a completed visit is no draft');

  // Completion filed the report on the request too, as anyone reading the request may see it:
  // the customer's phone masked.
  await page.locator('a', { hasText: /^SR-/ }).first().click();
  const filed = page.locator('.attachments a', { hasText: `服务报告 ${number}` });
  assert.equal(await filed.count(), 1, 'the report is on the request once');
  const res2 = await page.request.get(await filed.getAttribute('href'));
  assert.equal(res2.status(), 200);
  const doc2 = await getDocument({ data: new Uint8Array(await res2.body()), useSystemFonts: false, disableFontFace: true }).promise;
  let filedText = '';
  for (let i = 1; i <= doc2.numPages; i++) {
    const content = await (await doc2.getPage(i)).getTextContent();
    filedText += content.items.map((it) => it.str).join('');
  }
  assert.match(filedText, new RegExp(number));
  assert.match(filedText, /电话\s*\d{3}\*{4}\d{4}/, 'the filed report masks the phone');
});
