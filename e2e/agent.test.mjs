// Browser end-to-end tests for the agent's path through the service desk.
//
// As demo user `agent` (刘芳) at 1280 px: look up an unknown number on /desk, create the
// customer in the screen pop without retyping the phone, register a repair, respond to it and
// resolve it, and see a stale or illegal action refused. Then the queues at 360 px.
//
//   node --test agent.test.mjs          (or ./run.sh, which runs every test file)
//
// The server and browser set-up lives in support.mjs (SHOUHOU_BIN, CHROMIUM_BIN).

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { DESKTOP, PHONE, logIn, newContext, newPage, origin, screenshot, useShouhou } from './support.mjs';

useShouhou('agent');

const QUEUE_TABS = ['我的', '本站', '未分配', '即将到期', '已超时', '全部处理中'];
const STALE = '已被他人修改';
const ILLEGAL = '当前状态不允许此操作';

// A number nobody has, different on every run.
const PHONE_DIGITS = `1390000${String(randomInt(10_000)).padStart(4, '0')}`;
const PHONE_TYPED = `${PHONE_DIGITS.slice(0, 3)} ${PHONE_DIGITS.slice(3, 7)} ${PHONE_DIGITS.slice(7)}`; // 139 0000 1234

const CUSTOMER = { name: '测试客户', region_code: '440305', address: '深圳市南山区科技园南区 18 栋', id_number: '440305199003071236' };
const BAD_ID_NUMBER = '440305199003071234';
const DESCRIPTION = '设备告警灯常亮，业务中断';
const RESPOND_NOTE = '已电话联系客户';
const RESOLVE_NOTE = '远程指导重启后恢复';
const CONFIRM_NOTE = '客户确认已恢复';

/** Today in Asia/Shanghai as YYYYMMDD. */
function shanghaiDay(date = new Date()) {
  const fmt = new Intl.DateTimeFormat('en-CA', {
    timeZone: 'Asia/Shanghai',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  });
  return fmt.format(date).replaceAll('-', '');
}

/** Marks the current document, so that `sameDocument` can tell whether a full page load happened. */
async function markDocument(page) {
  await page.evaluate(() => {
    window.__e2eMark = 'still here';
  });
}

async function sameDocument(page) {
  return (await page.evaluate(() => window.__e2eMark)) === 'still here';
}

/**
 * Presses an action button of the request page with a note and waits for the next page;
 * returns the status of the POST (303 when done, 409 when refused).
 */
async function act(page, action, note) {
  await page.fill('#note', note);
  const [response] = await Promise.all([
    page.waitForResponse((r) => r.request().method() === 'POST' && /\/transitions$/.test(new URL(r.url()).pathname)),
    page.waitForEvent('load'),
    page.click(`button[data-action=${action}]`),
  ]);
  return response.status();
}

const statusOf = (page) => page.locator('[data-testid=status]').innerText();
const timelineOf = (page) => page.locator('ol.timeline li').allInnerTexts();

// Set by the desktop tests, used by the later ones (a file's tests run in order).
let requestPath; // /requests/N once registered
let requestNumber; // SR-YYYYMMDD-NNNN

describe(`an agent at the service desk on a desktop screen (${DESKTOP.width}×${DESKTOP.height})`, { timeout: 120_000 }, () => {
  let context;
  let page; // one page walks the whole path, test after test

  before(async () => {
    context = await newContext(DESKTOP);
    page = await context.newPage();
  });
  after(() => context?.close());

  test('an unknown number opens the new-customer form in place, with the number filled in', async () => {
    await logIn(page, 'agent');
    assert.match(await page.locator('[data-testid=who]').innerText(), /刘芳/);
    await page.goto('/desk');
    assert.match(await page.locator('main h1').innerText(), /服务台/);
    await page.waitForFunction(() => window.htmx !== undefined);
    await markDocument(page);

    await page.fill('#q', PHONE_TYPED);
    await page.press('#q', 'Enter');
    const form = page.locator('#pop [data-testid=new-customer-form]');
    await form.waitFor({ state: 'visible' });

    const phone = await form.locator('#nc-phone').inputValue();
    assert.equal(phone.replace(/\D/g, ''), PHONE_DIGITS, `the phone field holds the number looked up (got ${JSON.stringify(phone)})`);
    for (const sel of ['#nc-name', '#nc-region_code', '#nc-address', 'select#nc-kind', '[data-testid=create-customer]']) {
      assert.ok(await form.locator(sel).isVisible(), `${sel} is shown`);
    }
    assert.equal(new URL(page.url()).pathname, '/desk');
    assert.ok(await sameDocument(page), 'the form was loaded by htmx, not by a page load');
    // A person is asked for an ID card number, a company for its credit code, never both.
    assert.ok(await form.locator('#nc-id_number').isVisible(), 'a person: the ID number');
    assert.ok(!(await form.locator('#nc-credit_code').isVisible()), 'a person: no credit code');
    await form.locator('select#nc-kind').selectOption('company');
    assert.ok(await form.locator('#nc-credit_code').isVisible(), 'a company: the credit code');
    assert.ok(!(await form.locator('#nc-id_number').isVisible()), 'a company: no ID number');
    await form.locator('select#nc-kind').selectOption('person');
  });

  test('creating the customer shows their screen pop in the same place, without retyping the phone', async () => {
    await page.fill('#nc-name', CUSTOMER.name);
    // The region by province → city → district, each level loaded when the one above is chosen.
    const [province, city] = [CUSTOMER.region_code.slice(0, 2) + '0000', CUSTOMER.region_code.slice(0, 4) + '00'];
    await page.selectOption('[data-testid=new-customer-form] [data-testid=region_province]', province);
    await page.waitForSelector(`[data-testid=new-customer-form] [data-testid=region_city] option[value="${city}"]`, { state: 'attached' });
    await page.selectOption('[data-testid=new-customer-form] [data-testid=region_city]', city);
    await page.waitForSelector(`[data-testid=new-customer-form] [data-testid=region_district] option[value="${CUSTOMER.region_code}"]`, { state: 'attached' });
    await page.selectOption('[data-testid=new-customer-form] [data-testid=region_district]', CUSTOMER.region_code);
    await page.fill('#nc-address', CUSTOMER.address);
    // A mistyped identity number (wrong check character) comes back on the same form, named.
    await page.fill('#nc-id_number', BAD_ID_NUMBER);
    await page.click('[data-testid=create-customer]');
    const idField = page.locator('#nc-id_number');
    await page.locator('[data-testid=new-customer-form] .field-error').first().waitFor({ state: 'visible' });
    assert.match(await page.locator('[data-testid=new-customer-form]').innerText(), /不是有效的 18 位公民身份号码/);
    assert.equal(await idField.inputValue(), BAD_ID_NUMBER, 'what was typed is kept');
    assert.equal(await page.locator('#nc-name').inputValue(), CUSTOMER.name, 'the other fields are kept');
    assert.equal(await page.locator('[data-testid=new-customer-form] [data-testid=region_district]').inputValue(), CUSTOMER.region_code,
      'the region picked is kept, down to the district');
    await screenshot(page, 'desk-new-customer-error-desktop');
    await page.fill('#nc-id_number', CUSTOMER.id_number);
    await page.click('[data-testid=create-customer]');

    const pop = page.locator('#pop [data-testid=screen-pop]');
    await pop.waitFor({ state: 'visible' });
    assert.equal((await pop.locator('[data-testid=customer-phone]').innerText()).trim(), PHONE_DIGITS, 'the normalised number');
    assert.match(await pop.innerText(), new RegExp(CUSTOMER.name), 'the new customer is the one shown');
    assert.equal((await pop.locator('[data-testid=customer-id-number]').innerText()).trim(), CUSTOMER.id_number,
      'an agent sees the identity number in clear');
    assert.equal(await page.locator('[data-testid=new-customer-form]').count(), 0, 'the new-customer form is gone');

    const form = pop.locator('[data-testid=register-form]');
    assert.ok(await form.isVisible(), 'the register form is shown');
    for (const sel of ['select#serial_number', 'select#type', 'select#channel', 'select#urgency', 'textarea#description',
      'input#fault_code', 'input#solved_now', 'input#resolve_now', '[data-testid=register]']) {
      assert.equal(await form.locator(sel).count(), 1, `${sel} is in the register form`);
    }
    assert.equal(new URL(page.url()).pathname, '/desk', 'still on /desk');
    assert.ok(await sameDocument(page), 'no full page load happened');

    await screenshot(page, 'desk-screen-pop-desktop', { fullPage: true });
  });

  test('registering a repair opens the request with a new number, status 新建 and running SLA clocks', async () => {
    const dayBefore = shanghaiDay();
    await page.selectOption('#type', 'repair');
    assert.equal(await page.locator('#type option:checked').innerText(), '报修');
    await page.selectOption('#urgency', 'high');
    await page.fill('#description', DESCRIPTION);
    const key = await page.locator('[data-testid=register-form] input[name=_idem]').inputValue();
    assert.match(key, /^[0-9a-f]{32}$/, 'the form carries its idempotency key');
    const sent = await page.evaluate(() =>
      Object.fromEntries(new FormData(document.querySelector('[data-testid=register-form]')).entries()));
    await Promise.all([page.waitForURL(/\/requests\/\d+$/), page.click('[data-testid=register]')]);
    const dayAfter = shanghaiDay();
    requestPath = new URL(page.url()).pathname;
    // The same form sent again (a double click the browser let through, a retry after a timeout)
    // gets the first answer back and registers nothing more.
    const again = await page.request.post('/desk/requests', { form: sent, maxRedirects: 0 });
    assert.equal(again.status(), 303);
    assert.equal(again.headers()['idempotent-replayed'], 'true');
    assert.equal(again.headers().location, requestPath);
    const pop = await (await page.request.get(`/desk/lookup?q=${PHONE_DIGITS}`)).text();
    const registered = new Set(pop.match(/href="\/requests\/\d+"/g) ?? []);
    assert.equal(registered.size, 1, `a double click registers one request (${[...registered]})`);

    const h1 = (await page.locator('main h1').innerText()).trim();
    const m = /^SR-(\d{8})-\d{4}\b/.exec(h1);
    assert.ok(m, `the heading starts with a request number (got ${JSON.stringify(h1)})`);
    assert.ok([dayBefore, dayAfter].includes(m[1]), `numbered for today in Asia/Shanghai (${dayBefore}), got ${m[1]}`);
    requestNumber = m[0];

    assert.equal(await statusOf(page), '新建');
    assert.equal(await page.locator('[data-testid=sla-response]').innerText(), '计时中');
    assert.equal(await page.locator('[data-testid=sla-resolution]').innerText(), '计时中');
    const main = await page.locator('main').innerText();
    assert.match(main, new RegExp(CUSTOMER.name));
    assert.match(main, new RegExp(DESCRIPTION));

  });

  test('responding and then resolving move the status on, stop the clocks and fill the timeline', async () => {
    assert.ok(requestPath, 'needs the request registered by the previous test');

    assert.equal(await act(page, 'respond', RESPOND_NOTE), 303);
    assert.equal(new URL(page.url()).pathname, requestPath);
    assert.equal(await statusOf(page), '已响应');
    assert.equal(await page.locator('[data-testid=sla-response]').innerText(), '已达成');
    assert.equal(await page.locator('[data-testid=sla-resolution]').innerText(), '计时中');

    assert.equal(await act(page, 'resolve', RESOLVE_NOTE), 303);
    assert.equal(new URL(page.url()).pathname, requestPath);
    assert.equal(await statusOf(page), '已解决');
    assert.equal(await page.locator('[data-testid=sla-resolution]').innerText(), '已达成');

    const timeline = await timelineOf(page);
    assert.equal(timeline.length, 3, `three entries: ${JSON.stringify(timeline)}`);
    assert.match(timeline[0], /登记/);
    assert.match(timeline[1], /响应/);
    assert.match(timeline[1], new RegExp(RESPOND_NOTE));
    assert.match(timeline[2], /解决/);
    assert.match(timeline[2], new RegExp(RESOLVE_NOTE));
    for (const entry of timeline) assert.match(entry, /刘芳/, 'each entry names who did it');

    await screenshot(page, 'request-desktop', { fullPage: true });
  });

  test('a stale action from a second page, or an illegal one, is refused with 409 and changes nothing', async () => {
    assert.ok(requestPath, 'needs the request registered by the previous tests');
    const other = await context.newPage();
    await other.goto(requestPath);
    assert.equal(await statusOf(other), '已解决');

    // The first page acts: the second still holds the old version in its hidden input.
    assert.equal(await act(page, 'confirm', CONFIRM_NOTE), 303);
    assert.equal(await statusOf(page), '客户已确认');

    assert.equal(await act(other, 'reopen', '客户说又坏了'), 409, 'the stale version is refused');
    const error = other.locator('.alert.error');
    assert.ok(await error.isVisible(), 'an error is shown');
    assert.match(await error.innerText(), new RegExp(STALE));
    assert.equal(await statusOf(other), '客户已确认', 'the second page now shows the current status');
    assert.equal((await timelineOf(other)).length, 4, 'no reopen was recorded');

    // Now current, but the action is not allowed from 客户已确认.
    await other.locator('button[data-action=reopen]').evaluate((b) => {
      b.value = 'respond';
    });
    assert.equal(await act(other, 'reopen', '非法操作'), 409, 'the illegal action is refused');
    assert.match(await other.locator('.alert.error').innerText(), new RegExp(ILLEGAL));

    await page.reload();
    assert.equal(await statusOf(page), '客户已确认', 'nothing changed');
    const timeline = await timelineOf(page);
    assert.equal(timeline.length, 4, `only the confirmation was added: ${JSON.stringify(timeline)}`);
    assert.match(timeline[3], new RegExp(CONFIRM_NOTE));
    await other.close();

    // A photo from the site: the upload form carries its idempotency key in its action.
    const upload = page.locator('form[enctype="multipart/form-data"]');
    assert.match(await upload.getAttribute('action'), /\/attachments\?_idem=[0-9a-f]{32}$/);
    await upload.locator('input[type=file]').setInputFiles({
      name: '现场照片.png',
      mimeType: 'image/png',
      buffer: Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex'),
    });
    await Promise.all([page.waitForURL((u) => u.pathname === requestPath), upload.locator('button[type=submit]').click()]);
    const after = await timelineOf(page);
    assert.equal(after.length, 5, `one upload, one entry: ${JSON.stringify(after)}`);
    assert.match(after[4], /现场照片\.png/);
  });
});

describe(`an agent's queues on a phone screen (${PHONE.width}×${PHONE.height})`, { timeout: 120_000 }, () => {
  test('the queues have their tabs, list the new request, fit the screen and refresh in place', async (t) => {
    const page = await newPage(t, PHONE);
    await logIn(page, 'agent');
    await page.goto('/requests');
    assert.match(await page.locator('main h1').innerText(), /服务请求/);

    assert.deepEqual(await page.locator('nav.tabs a').allInnerTexts(), QUEUE_TABS);
    assert.equal(await page.locator('nav.tabs a[aria-current=page]').innerText(), '全部处理中', 'all open is the default');

    assert.ok(requestNumber, 'needs the request registered by the desktop tests');
    const numbers = await page.locator('#queue table tbody tr td:first-child a').allInnerTexts();
    assert.ok(numbers.includes(requestNumber), `${requestNumber} is listed in ${JSON.stringify(numbers)}`);

    const { scrollWidth, clientWidth } = await page.evaluate(() => ({
      scrollWidth: document.documentElement.scrollWidth,
      clientWidth: document.documentElement.clientWidth,
    }));
    assert.ok(scrollWidth <= clientWidth, `no horizontal scrolling (scrollWidth ${scrollWidth} > clientWidth ${clientWidth})`);

    const trigger = await page.evaluate(() => document.querySelector('#queue').getAttribute('hx-trigger'));
    assert.match(trigger ?? '', /every 30s/, 'the queue refreshes itself every 30 s');
    await screenshot(page, 'queue-phone', { fullPage: true });

    await Promise.all([page.waitForURL(`${origin()}/requests?queue=breached`), page.click('nav.tabs a:has-text("已超时")')]);
    assert.equal(await page.locator('nav.tabs a[aria-current=page]').innerText(), '已超时');
  });
});

describe('the desk when the network or the session fails (phone screen)', { timeout: 120_000 }, () => {
  test('a lookup without network says so on the page, and the next one clears it', async (t) => {
    const page = await newPage(t, PHONE);
    await logIn(page, 'agent');
    await page.goto('/desk');
    await page.waitForFunction(() => window.htmx !== undefined);
    const banner = page.locator('[data-testid=request-error]');
    assert.ok(await banner.isHidden(), 'no error to begin with');

    await page.context().setOffline(true);
    await page.fill('#q', '13812345678');
    await page.press('#q', 'Enter');
    await banner.waitFor({ state: 'visible' });
    assert.match(await banner.innerText(), /网络连接中断/);

    await page.context().setOffline(false);
    await page.press('#q', 'Enter');
    await page.locator('#pop [data-testid=screen-pop]').waitFor({ state: 'visible' });
    assert.ok(await banner.isHidden(), 'a lookup that worked clears the error');
  });

  test('a lookup after the session ended goes to the login page and back to the desk', async (t) => {
    const page = await newPage(t, PHONE);
    await logIn(page, 'agent');
    await page.goto('/desk');
    await page.waitForFunction(() => window.htmx !== undefined);
    await page.context().clearCookies();

    await page.fill('#q', '13812345678');
    await Promise.all([page.waitForURL(/\/login\?next=/), page.press('#q', 'Enter')]);
    assert.equal(await page.locator('#pop').count(), 0, 'a whole login page, not one inside the pop');
    assert.equal(new URL(page.url()).searchParams.get('next'), '/desk');
  });
});
