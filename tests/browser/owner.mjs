// The owner portal in a real browser: an owner of the demo's 旺角家园 pays overdue bills online
// and sees the receipt, downloads a statement, reads the fund, reports a repair with a photo and
// rates it once it is fixed, acknowledges a notice and votes; every page passes axe-core; large
// text and English change the page.
import { test, run, login, open, settled, screenshot, accessible, check, alertText, as, BASE, PASSWORD } from './harness.mjs';
import { readFileSync } from 'node:fs';

const OWNER = 'owner@wangjiao.demo';

// A 1x1 PNG: the smallest photo the ticket accepts.
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==', 'base64');

test('owner pays an overdue bill online and sees the receipt', async ({ page }) => {
  await login(page, OWNER);
  check((await page.locator('main h1').innerText()) === '我的房屋', 'the owner lands on 我的房屋');
  const cards = page.locator('main section.card');
  check((await cards.count()) === 2, `two flats shown, got ${await cards.count()}`);
  await accessible(page, 'my homes');
  await screenshot(page, 'owner-home');

  await cards.first().getByRole('link', { name: '账单与缴费' }).click();
  await page.locator('main table').first().waitFor();
  const overdueRows = page.locator('tbody tr.overdue');
  const overdue = await overdueRows.count();
  check(overdue > 0, 'the demo owner has overdue bills');
  check((await overdueRows.first().innerText()).includes('已逾期'), 'overdue is said in words, not only colour');
  await accessible(page, 'bills');
  // Pay only the oldest overdue bill: untick the others.
  const boxes = page.locator('tbody input[type=checkbox]');
  for (let i = 1; i < (await boxes.count()); i++) await boxes.nth(i).uncheck();
  const owed = (await overdueRows.first().locator('td').nth(3).locator('strong').innerText()).trim();
  await screenshot(page, 'owner-bills');
  await page.getByRole('button', { name: '在线缴纳所选账单' }).click();

  await page.getByRole('heading', { name: '确认支付' }).waitFor();
  const shown = await page.locator('.gateway .amount').innerText();
  check(shown === owed, `the checkout asks for ${owed}, shows ${shown}`);
  await accessible(page, 'checkout');
  await page.getByRole('button', { name: `确认支付 ${owed}` }).click();

  await page.getByRole('heading', { name: '收据' }).waitFor();
  await page.locator('#receipt-number').waitFor();
  const number = await page.locator('#receipt-number').innerText();
  const amount = await page.locator('#receipt-amount').innerText();
  check(/^\d{4}-\d{6}$/.test(number), `a receipt number like 2026-000042, got ${number}`);
  check(amount === owed, `the receipt is for ${owed}, shows ${amount}`);
  // Announced in the polite live region a moment after the receipt shows.
  await page.locator('#status', { hasText: '支付成功' }).waitFor();
  check((await page.locator('main').innerText()).includes('在线支付'), 'the receipt names the online method');
  await accessible(page, 'receipt');
  await screenshot(page, 'owner-receipt');

  // Back on the bills, the bill is paid and the receipt listed; one overdue bill fewer.
  await page.getByRole('link', { name: '返回' }).click();
  await page.getByRole('link', { name: `查看收据 ${number}` }).waitFor();
  check((await page.locator('tbody tr.overdue').count()) === overdue - 1, 'the paid bill is no longer overdue');
  check(await alertText(page) === '', 'no error shown');
});

test('a link from a reminder email opens the bills once the owner has logged in', async ({ page }) => {
  const [unit] = await (await as(OWNER)).call('GET', '/me/units');
  // The address as a reminder email writes it (src/web page_address), opened logged out.
  await page.goto(`${BASE}/app/#/owner/units/${unit.id}/bills`);
  await page.getByLabel('手机号或电子邮箱').fill(OWNER);
  await page.getByLabel('密码').fill(PASSWORD);
  await page.getByRole('button', { name: '登录' }).click();
  await page.locator('main:not([aria-busy="true"]) h1', { hasText: '账单与缴费' }).waitFor();
  check(page.url().endsWith(`#/owner/units/${unit.id}/bills`), `still at the emailed page: ${page.url()}`);
  check((await page.locator('main tbody tr').count()) > 0, 'the bills are listed');
});

test('owner downloads a statement and reads the fund', async ({ page }) => {
  await login(page, OWNER);
  await page.locator('main section.card').first().getByRole('link', { name: '对账单' }).click();
  await page.getByRole('heading', { name: '对账单' }).waitFor();
  await page.locator('main table').waitFor();
  await accessible(page, 'statement');
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: '下载 CSV 文件' }).click()]);
  check(/^statement-\d+-.*\.csv$/.test(download.suggestedFilename()), `a statement file, got ${download.suggestedFilename()}`);
  const csv = readFileSync(await download.path(), 'utf8');
  check(csv.includes('期末余额'), `the CSV has its closing line: ${csv.slice(0, 200)}`);
  await screenshot(page, 'owner-statement');

  await open(page, '/owner');
  await page.locator('main section.card').first().getByRole('link', { name: '维修资金明细' }).click();
  await page.locator('main table').waitFor();
  const text = await page.locator('main').innerText();
  check(/当前余额\s*¥\d+\.\d{2}/.test(text), `the fund balance is shown: ${text.slice(0, 200)}`);
  await accessible(page, 'fund');
});

test('owner reports a repair with a photo, and rates it once fixed', async ({ page }) => {
  await login(page, OWNER);
  await page.getByRole('navigation').getByRole('link', { name: '报修' }).click();
  await page.getByRole('link', { name: '我要报修' }).click();
  await page.getByLabel('问题描述').waitFor();
  await accessible(page, 'new ticket');
  await page.getByLabel('类别').selectOption('plumbing');
  await page.getByLabel('问题描述').fill('卫生间水龙头一直滴水');
  await page.getByLabel('照片（可选，最多 6 张）').setInputFiles({ name: 'tap.png', mimeType: 'image/png', buffer: PNG });
  await page.getByRole('button', { name: '提交报修' }).click();
  await page.getByRole('heading', { name: '报修详情' }).waitFor();
  await page.locator('.photos img').waitFor();
  check((await page.locator('#ticket-status').innerText()) === '已提交', 'the new ticket is 已提交');
  const id = Number(page.url().match(/tickets\/(\d+)/)[1]);
  await accessible(page, 'ticket');

  // The desk and the technician fix it (through the API).
  const dispatcher = await as('dispatcher@hemu.demo');
  const tech = await as('tech@hemu.demo');
  let ticket = await dispatcher.call('POST', `/tickets/${id}/transitions`, { to: 'accepted', priority: 'p3', version: 1 });
  ticket = await dispatcher.call('POST', `/tickets/${id}/assignment`, { version: ticket.version, technician_id: tech.me.user_id });
  ticket = await tech.call('POST', `/tickets/${id}/transitions`, { to: 'in_progress', version: ticket.version });
  await tech.call('POST', `/tickets/${id}/transitions`, { to: 'resolved', version: ticket.version, note: '更换了阀芯' });

  await page.reload();
  await page.locator('#ticket-status').waitFor();
  check((await page.locator('#ticket-status').innerText()) === '已修好，待您确认', 'the owner sees it resolved');
  await page.getByRole('button', { name: '确认已修好' }).click();
  await page.locator('#ticket-status', { hasText: '已完成' }).waitFor();
  await page.getByLabel('4 星').check();
  await page.getByLabel('评价内容（可选）').fill('师傅很准时');
  await page.getByRole('button', { name: '提交评价' }).click();
  await page.getByText('您的评价：4 星 师傅很准时').waitFor();
  await accessible(page, 'rated ticket');
  await screenshot(page, 'owner-ticket');
});

test('owner acknowledges a notice and votes', async ({ page }) => {
  await login(page, OWNER);
  await page.getByRole('navigation').getByRole('link', { name: '公告' }).click();
  await page.locator('main article').first().waitFor();
  await accessible(page, 'notices');
  const first = page.locator('main article').filter({ has: page.getByRole('button', { name: '我已阅读' }) }).first();
  const title = await first.locator('h2').innerText();
  await first.getByRole('button', { name: '我已阅读' }).click();
  await page.locator('#status', { hasText: '已读' }).waitFor();
  await page.reload();
  const again = page.locator('main article').filter({ hasText: title.replace(/\s*(未读|已读)$/, '') }).first();
  check((await again.locator('h2').innerText()).includes('已读'), `the notice stays read after a reload: ${await again.innerText()}`);

  // Every notice by email, not only emergencies: ticked, saved, and still ticked after a reload.
  const every = page.getByLabel('每条公告都发邮件给我');
  check(!(await every.isChecked()), 'at first only emergencies and cuts come by email');
  await every.check();
  await page.getByRole('button', { name: '保存' }).click();
  await page.locator('#status', { hasText: '已保存：每条公告都会发邮件给您' }).waitFor();
  check((await (await as(OWNER)).call('GET', '/me/notice-preferences')).email_every_notice === true, 'the API keeps the choice');
  await page.reload();
  await page.locator('main article').first().waitFor();
  check(await page.getByLabel('每条公告都发邮件给我').isChecked(), 'the box stays ticked after a reload');
  await accessible(page, 'notices with the email choice');

  await page.getByRole('navigation').getByRole('link', { name: '表决' }).click();
  const vote = page.locator('main article').first();
  await vote.waitFor();
  await accessible(page, 'votes');
  await vote.getByLabel('同意').check();
  await vote.getByRole('button', { name: '提交表决' }).click();
  await page.locator('main article').first().getByText('您已表决：同意').waitFor();
  await screenshot(page, 'owner-votes');
});

test('large text and English change the page, and stay', async ({ page }) => {
  await login(page, OWNER);
  const size = () => page.evaluate(() => parseFloat(getComputedStyle(document.documentElement).fontSize));
  const before = await size();
  await page.getByRole('button', { name: '大字模式' }).click();
  check((await page.getByRole('button', { name: '大字模式' }).getAttribute('aria-pressed')) === 'true', 'the toggle says it is on');
  const after = await size();
  check(after >= before * 1.2, `large text: ${before}px -> ${after}px`);
  await page.reload();
  await page.locator('main h1').waitFor();
  check((await size()) === after, 'large text is kept after a reload');
  await screenshot(page, 'owner-large-text');
  await accessible(page, 'large text');

  await page.getByRole('button', { name: 'Switch to English' }).click();
  await page.getByRole('heading', { name: 'My homes', level: 1 }).waitFor();
  check((await page.evaluate(() => document.documentElement.lang)) === 'en', 'the page says it is in English');
  check((await page.getByRole('navigation').innerText()).includes('Repairs'), 'the navigation is in English');
  await accessible(page, 'English');
  await screenshot(page, 'owner-english');
  await page.getByRole('button', { name: '切换到中文' }).click();
  await page.getByRole('heading', { name: '我的房屋', level: 1 }).waitFor();
  check((await page.evaluate(() => document.documentElement.lang)) === 'zh-CN', 'back in Chinese');
});

test('the skip link and the login work from the keyboard alone', async ({ page }) => {
  await page.goto(`${BASE}/app/`);
  await page.getByRole('button', { name: '登录' }).waitFor();
  await page.keyboard.press('Tab');
  check((await page.evaluate(() => document.activeElement.textContent)) === '跳到正文', 'the first Tab reaches the skip link');
  await page.keyboard.press('Enter');
  check((await page.evaluate(() => document.activeElement.id)) === 'main', 'the skip link moves the focus to the content');
  for (let i = 0; i < 10 && (await page.evaluate(() => document.activeElement.name)) !== 'login'; i++) await page.keyboard.press('Tab');
  await page.keyboard.type(OWNER);
  await page.keyboard.press('Tab');
  await page.keyboard.type(PASSWORD);
  await page.keyboard.press('Enter');
  await page.getByRole('heading', { name: '我的房屋', level: 1 }).waitFor();
  await settled(page);
  check((await page.evaluate(() => document.activeElement.tagName)) === 'H1', 'after logging in the focus is on the new page heading');
});

test('a refused photo is said on the new ticket, which stands', async ({ page }) => {
  await login(page, OWNER);
  await open(page, '/owner/tickets/new');
  await page.getByLabel('问题描述').fill('楼道灯不亮');
  await page.getByLabel('照片（可选，最多 6 张）').setInputFiles({ name: 'light.png', mimeType: 'image/png', buffer: Buffer.from('not an image') });
  await page.getByRole('button', { name: '提交报修' }).click();
  await page.getByRole('heading', { name: '报修详情' }).waitFor();
  await settled(page);
  const text = await alertText(page);
  check(text.startsWith('填写的内容有误，请检查后再试（'), `the refusal is said in Chinese, naming the field: ${text}`);
  check(text.includes('JPEG, PNG or WebP'), `the server's words beneath: ${text}`);
  check((await page.locator('#ticket-status').innerText()) === '已提交', 'the ticket stands');
});

test('a wrong password is said in the alert region, not thrown away', async ({ page }) => {
  await page.goto(`${BASE}/app/`);
  await page.getByLabel('手机号或电子邮箱').fill(OWNER);
  await page.getByLabel('密码').fill('not-the-password');
  await page.getByRole('button', { name: '登录' }).click();
  await page.locator('#alert').waitFor();
  const text = await alertText(page);
  check(text === '账号或密码不正确，请重新输入。', `the wrong login is said in Chinese: ${text}`);
  check((await page.locator('main h1').innerText()) === '登录', 'still on the login page');
});

await run();
