import { chromium } from 'playwright-core';
const base = 'http://127.0.0.1:18181';
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu'] });
async function shot(user, path, name, width = 1280, height = 800) {
  const ctx = await browser.newContext({ viewport: { width, height } });
  const page = await ctx.newPage();
  await page.goto(base + '/login');
  await page.fill('#username', user); await page.fill('#password', 'Shouhou@2026');
  await Promise.all([page.waitForLoadState('load'), page.click('form.login-card button[type=submit]')]);
  await page.goto(base + path);
  await page.screenshot({ path: `/tmp/${name}.png`, fullPage: true });
  await ctx.close();
}
await shot('manager', '/return-visits?tab=results&group=engineer', 'results');
await shot('agent', '/complaints?all=1', 'complaints');
await shot('agent', '/complaints/2', 'complaint');
await shot('agent', '/suggestions', 'suggestions');
await shot('agent', '/return-visits', 'rv-open-phone', 360, 740);
await browser.close();
