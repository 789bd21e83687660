// The staff console in a real browser, on the demo's 旺角家园: a dispatcher accepts and assigns a
// repair ticket and the technician starts and resolves it; a cashier finds a flat, takes a cash
// payment and opens the printable receipt; a manager previews a bill run, reads fee items, the
// registry, a refused import's row-by-row report, job runs and the outbox. Every page passes axe-core.
import { test, run, login, open, screenshot, accessible, check, alertText, as, PASSWORD } from './harness.mjs';

/** The navigation's entries: what the role may do. */
async function navigation(page) {
  return (await page.locator('#nav a').allInnerTexts()).join(' ');
}

/** Waits until the polite status region announces `text`. */
async function announced(page, text) {
  await page.locator('#status', { hasText: text }).waitFor();
}

// Shared by the two ticket tests, in order: the ticket the owner files for this run.
let ticketId;
let technician;

test('dispatcher accepts and assigns a new ticket from the board', async ({ page }) => {
  const owner = await as('owner@wangjiao.demo');
  const [unit] = await owner.call('GET', '/me/units');
  const filed = await owner.call('POST', '/tickets', { unit_id: unit.id, category: 'plumbing', location: 'in_unit', description: '卫生间地漏堵了，水漫出来（浏览器测试）' });
  ticketId = filed.id;
  technician = (await as('tech@hemu.demo')).me;

  await login(page, 'dispatcher@hemu.demo');
  check((await page.locator('main h1').innerText()) === '报修工单', 'the dispatcher lands on the ticket board');
  check(await navigation(page) === '报修工单 房屋档案', `a dispatcher is offered tickets and the registry, got ${await navigation(page)}`);
  const column = page.locator('section.column', { has: page.getByRole('heading', { name: /^待受理/ }) });
  const card = column.locator('article', { has: page.getByRole('link', { name: `#${ticketId} 水管下水` }) });
  await card.waitFor();
  check((await card.innerText()).includes(unit.label), `the card names the flat ${unit.label}`);
  await accessible(page, 'ticket board');
  await screenshot(page, 'staff-board');

  // The list view with a filter, then the ticket itself.
  await page.getByLabel('类别').selectOption('plumbing');
  await page.getByLabel('显示方式').selectOption('list');
  await page.getByRole('button', { name: '筛选' }).click();
  await page.locator('main table').waitFor();
  check(page.url().includes('category=plumbing') && page.url().includes('view=list'), 'the filters are in the address');
  const row = page.locator('tbody tr', { has: page.getByRole('link', { name: `#${ticketId} 水管下水` }) });
  check((await row.innerText()).includes('待受理'), 'the list shows the status');
  await accessible(page, 'ticket list');
  await row.getByRole('link').click();

  await page.locator('#ticket-status', { hasText: '待受理' }).waitFor();
  check((await page.locator('main').innerText()).includes('受理时限'), 'the SLA deadlines are shown');
  await accessible(page, 'ticket to triage');
  await page.getByLabel('优先级').selectOption('p2');
  await page.getByRole('button', { name: '受理', exact: true }).click();
  await page.locator('#ticket-status', { hasText: '已受理，待派工' }).waitFor();

  // The technician is picked by name.
  const pick = `${technician.name}（#${technician.user_id}）`;
  const offered = await page.getByLabel('派给').locator('option').allInnerTexts();
  check(offered.some((o) => o.startsWith(pick)), `the picker names ${pick}, offers ${offered.join(' | ')}`);
  await page.getByLabel('派给').selectOption({ label: offered.find((o) => o.startsWith(pick)) });
  await page.getByRole('button', { name: '派工' }).click();
  await announced(page, `工单 #${ticketId} 已派给${pick}`);
  await page.locator('#ticket-status', { hasText: '已派工' }).waitFor();
  const named = await page.locator('#ticket-assignee').innerText();
  check(named === `${technician.name}（#${technician.user_id}）`, `the page names the technician, got ${named}`);
  check((await page.locator('main').innerText()).includes('P2 紧急'), 'the triage priority is shown');
  check(await alertText(page) === '', 'no error shown');
  await accessible(page, 'assigned ticket');
  await screenshot(page, 'staff-assigned');

  // Back on the board, the card says who has the ticket by name.
  await open(page, '/staff/tickets');
  const assigned = page.locator('section.column', { has: page.getByRole('heading', { name: /^已派工/ }) })
    .locator('article', { has: page.getByRole('link', { name: `#${ticketId} 水管下水` }) });
  await assigned.waitFor();
  check((await assigned.innerText()).includes(pick), `the card names ${pick}, says ${await assigned.innerText()}`);
});

test('technician starts and resolves the ticket from their list', async ({ page }) => {
  await login(page, 'tech@hemu.demo');
  check((await page.locator('main h1').innerText()) === '我的工单', 'the technician lands on their own tickets');
  check(await navigation(page) === '我的工单 房屋档案', `a technician is offered their tickets and the registry, got ${await navigation(page)}`);
  const row = () => page.locator('tbody tr', { has: page.getByRole('link', { name: `#${ticketId} 水管下水` }) });
  await row().waitFor();
  check((await row().innerText()).includes('已派工'), 'the ticket is listed as assigned');
  await accessible(page, 'my tickets');
  await row().getByRole('button', { name: `开始维修 #${ticketId}` }).click();
  await announced(page, `工单 #${ticketId} 已改为：维修中`);
  await row().getByRole('button', { name: `已修好 #${ticketId}` }).click();
  await announced(page, `工单 #${ticketId} 已改为：已修好，待业主确认`);
  // Resolved is no longer open work: it leaves the list, and its page says where it stands.
  await row().waitFor({ state: 'detached' });
  await open(page, `/staff/tickets/${ticketId}`);
  await page.locator('#ticket-status', { hasText: '已修好，待业主确认' }).waitFor();
  check((await page.locator('ol.history').innerText()).includes('维修师傅'), 'the history names the technician\'s steps');
  await accessible(page, 'resolved ticket');
  await screenshot(page, 'staff-resolved');

  const desk = await as('dispatcher@hemu.demo');
  const { ticket } = await desk.call('GET', `/tickets/${ticketId}`);
  check(ticket.status === 'resolved' && ticket.assignee_id === technician.user_id, `the API agrees: ${ticket.status}`);

  // The desk's page for filing a phoned-in repair is not a ticket called "new".
  await open(page, '/staff/tickets/new');
  check((await page.locator('main h1').innerText()) === '这个页面要换个账号打开', `a technician is told the page is the desk's, got ${await page.locator('main h1').innerText()}`);
});

test('the desk records the follow-up call of the resolved ticket', async ({ page }) => {
  await login(page, 'dispatcher@hemu.demo');
  await open(page, `/staff/tickets/${ticketId}`);
  await page.locator('#ticket-status', { hasText: '已修好，待业主确认' }).waitFor();
  const said = '业主说地漏通了，很满意';
  await page.getByLabel('回访记录').fill(said);
  await page.getByRole('button', { name: '记下回访' }).click();
  await announced(page, `工单 #${ticketId} 的回访已记下`);
  await page.locator('#ticket-follow-up', { hasText: said }).waitFor();
  check((await page.locator('ol.history').innerText()).includes(`回访 · ${said}`), 'the call is in the history');
  await accessible(page, 'followed-up ticket');
  const { ticket } = await (await as('dispatcher@hemu.demo')).call('GET', `/tickets/${ticketId}`);
  check(ticket.follow_up === said, `the API keeps what the owner said: ${ticket.follow_up}`);
});

test("a staff link opened under an owner's login says whose page it is and keeps the link across a new login", async ({ page }) => {
  const owner = await as('owner@wangjiao.demo');
  const [unit] = await owner.call('GET', '/me/units');
  const filed = await owner.call('POST', '/tickets', { unit_id: unit.id, category: 'walls', location: 'in_unit', description: '客厅墙皮脱落（浏览器测试：换账号）' });
  // An escalation email's link (src/web page_address), opened where the owner is logged in.
  await login(page, 'owner@wangjiao.demo');
  await open(page, `/staff/tickets/${filed.id}`);
  check((await page.locator('main h1').innerText()) === '这个页面要换个账号打开', `the page says it needs another account, got ${await page.locator('main h1').innerText()}`);
  const text = await page.locator('main').innerText();
  check(text.includes('调度员') && text.includes('（业主）'), `it names who the page is for and who is logged in: ${text}`);
  check(!text.includes(filed.description), 'nothing of the ticket is shown to the owner');
  await accessible(page, 'page for another role');
  await page.getByRole('button', { name: '退出，换个账号登录' }).click();
  await page.getByLabel('手机号或电子邮箱').fill('dispatcher@hemu.demo');
  await page.getByLabel('密码').fill(PASSWORD);
  await page.getByRole('button', { name: '登录' }).click();
  await page.locator('main:not([aria-busy="true"]) h1', { hasText: '工单' }).waitFor();
  check(page.url().endsWith(`#/staff/tickets/${filed.id}`), `still at the linked page: ${page.url()}`);
  check((await page.locator('main').innerText()).includes(filed.description), 'the dispatcher sees the ticket');
  check(await alertText(page) === '', 'no error shown');
});

test('the desk files a repair for an owner who phoned, naming who called', async ({ page }) => {
  const desk = await as('dispatcher@hemu.demo');
  const { items } = await desk.call('GET', '/units?compound_id=3&per_page=500');
  // A flat with two owners: the desk names the one who called.
  const unit = items.find((u) => u.owners.length === 2) || items.find((u) => u.owners.length === 1);
  const caller = unit.owners[unit.owners.length - 1].owner;

  await login(page, 'dispatcher@hemu.demo');
  await page.getByRole('link', { name: '代业主报修' }).click();
  await page.locator('main:not([aria-busy="true"]) h1', { hasText: '代业主报修' }).waitFor();
  await page.getByLabel('小区').selectOption({ label: '旺角家园' });
  await page.getByLabel('房号或业主姓名、电话').fill(caller.name);
  await page.getByRole('button', { name: '查找房屋' }).click();
  const found = page.getByRole('link', { name: unit.label, exact: true });
  await found.waitFor();
  await found.click();
  await page.locator('main h1', { hasText: unit.label }).waitFor();
  await accessible(page, 'repair taken over the phone');
  await page.getByLabel('来电的业主').selectOption({ label: caller.name });
  await page.getByLabel('类别').selectOption({ label: '门和门禁' });
  await page.getByLabel('业主说的情况').fill('单元门禁坏了，老人进不了门（电话报修，浏览器测试）');
  await page.getByLabel('紧急程度').selectOption({ label: '紧急' });
  await page.getByLabel('方便上门的时间').fill('上午');
  await page.getByRole('button', { name: '登记报修' }).click();

  await page.locator('#ticket-status', { hasText: '待受理' }).waitFor();
  const id = Number(page.url().match(/#\/staff\/tickets\/(\d+)$/)?.[1]);
  check(id > 0, `the new ticket's page opens, at ${page.url()}`);
  await announced(page, `已登记工单 #${id}`);
  const { ticket } = await desk.call('GET', `/tickets/${id}`);
  check(ticket.unit_id === unit.id && ticket.owner_id === caller.id, `filed for ${unit.label} and ${caller.name}: ${JSON.stringify(ticket)}`);
  check(ticket.filed_by === desk.me.user_id, 'the desk is recorded as the one who filed it');
  check(ticket.category === 'doors' && ticket.urgency === 'urgent' && ticket.preferred_visit === '上午', `what the owner said is kept: ${JSON.stringify(ticket)}`);
  check(await alertText(page) === '', 'no error shown');
});

test('cashier finds a flat by its owner, takes what it owes in cash and opens the printable receipt', async ({ page }) => {
  // A flat of 旺角家园 with overdue bills, not one of the owner portal test's flats.
  const cashier = await as('cashier@hemu.demo');
  const mine = new Set((await (await as('owner@wangjiao.demo')).call('GET', '/me/units')).map((u) => u.id));
  const { items } = await cashier.call('GET', '/units?compound_id=3&per_page=500');
  let unit;
  let owed;
  // From the last flat back, away from the flats other tests pick first.
  for (const candidate of items.filter((u) => u.owners.length === 1 && !mine.has(u.id)).reverse()) {
    owed = (await cashier.call('GET', `/units/${candidate.id}/balance`)).owed;
    if (Number(owed) > 0) { unit = candidate; break; }
  }
  check(unit, 'the demo has a flat in arrears');
  const ownerName = unit.owners[0].owner.name;

  await login(page, 'cashier@hemu.demo');
  check((await page.locator('main h1').innerText()) === '收银台', 'the cashier lands on the desk');
  check(await navigation(page) === '收银台 收费项目 房屋档案', `a cashier is offered the desk, fee items and the registry, got ${await navigation(page)}`);
  await accessible(page, 'cashier desk');
  await page.getByLabel('小区').selectOption({ label: '旺角家园' });
  await page.getByLabel('房号或业主姓名、电话').fill(ownerName);
  await page.getByRole('button', { name: '查找房屋' }).click();
  const found = page.getByRole('link', { name: unit.label, exact: true });
  await found.waitFor();
  check((await page.locator('tbody tr', { has: found }).innerText()).includes(ownerName), 'the owner is named beside the flat');
  await accessible(page, 'units found');
  await found.click();

  // The page is about the flat once its heading names it and its figures are in.
  await page.locator('main h1', { hasText: unit.label }).waitFor();
  await page.getByRole('heading', { name: '欠费与预存' }).waitFor();
  check((await page.locator('tbody tr.overdue').first().innerText()).includes('已逾期'), 'overdue bills are said to be overdue');
  const amount = page.getByLabel('金额（元）');
  check((await amount.inputValue()) === owed, `the amount starts at what the flat owes, ${owed}`);
  await accessible(page, 'flat at the desk');
  await screenshot(page, 'staff-cashier-unit');
  // An amount with three decimals is refused, the field named, and nothing is taken.
  await amount.fill('12.345');
  await page.getByRole('button', { name: '确认收款并开收据' }).click();
  await page.locator('#alert').waitFor();
  check((await alertText(page)).includes('amount'), `the refusal names the amount, got ${await alertText(page)}`);
  check((await cashier.call('GET', `/units/${unit.id}/balance`)).owed === owed, 'nothing was taken');
  await amount.fill(owed);
  await page.getByLabel('收款方式').selectOption('cash');
  // The answer to the first try is lost on its way back, after the server booked the payment;
  // the cashier sends it again, and its Idempotency-Key has it booked once.
  const paymentsBefore = (await cashier.call('GET', `/units/${unit.id}/payments`)).length;
  await page.route(`**/units/${unit.id}/payments`, async (route) => { await route.fetch(); await route.abort('failed'); }, { times: 1 });
  await page.getByRole('button', { name: '确认收款并开收据' }).click();
  await page.locator('#alert', { hasText: '连不上服务器' }).waitFor();
  check((await cashier.call('GET', `/units/${unit.id}/balance`)).owed === '0.00', 'the payment whose answer was lost was booked');
  await page.getByRole('button', { name: '确认收款并开收据' }).click();

  await page.locator('#receipt-number').waitFor();
  const payments = await cashier.call('GET', `/units/${unit.id}/payments`);
  check(payments.length === paymentsBefore + 1, `sent twice, booked once: ${payments.length - paymentsBefore} new payments`);
  const number = await page.locator('#receipt-number').innerText();
  check(/^\d{4}-\d{6}$/.test(number), `a receipt number like 2026-000042, got ${number}`);
  check((await page.locator('#receipt-amount').innerText()) === `¥${owed}`, `the receipt is for ¥${owed}`);
  await announced(page, `已收款 ¥${owed}，收据 ${number}`);
  const receipt = await page.locator('.receipt').innerText();
  check(receipt.includes(unit.label) && receipt.includes(ownerName) && receipt.includes('现金'), 'the receipt names the flat, its owner and the method');
  check((await page.locator('.receipt tbody tr').count()) > 0, 'the receipt lists the bills paid');
  const [payment] = payments;
  check(payment.receipt.number === number && payment.amount === owed && payment.method === 'cash', `the API has the same receipt: ${JSON.stringify(payment.receipt)}`);
  check((await cashier.call('GET', `/units/${unit.id}/balance`)).owed === '0.00', 'the flat owes nothing now');
  check(await page.getByRole('heading', { name: '冲正这笔收款' }).count() === 0, 'a cashier is not offered the reversal');
  await accessible(page, 'receipt');
  await screenshot(page, 'staff-receipt');

  // Printed, the receipt stands alone: no bar, navigation or buttons.
  await page.emulateMedia({ media: 'print' });
  check(!(await page.locator('#nav').isVisible()) && !(await page.getByRole('button', { name: '打印' }).isVisible()), 'printing hides the navigation and buttons');
  check(await page.locator('#receipt-number').isVisible(), 'printing shows the receipt');
  await screenshot(page, 'staff-receipt-print');
});

/** A flat of 旺角家园 with an owner that the other tests leave alone: from the front of the
 *  list (the cashier test picks from the back), not one of the owner portal test's flats. */
async function quietFlat(cashier, skip = 0) {
  const mine = new Set((await (await as('owner@wangjiao.demo')).call('GET', '/me/units')).map((u) => u.id));
  const { items } = await cashier.call('GET', '/units?compound_id=3&per_page=500');
  return items.filter((u) => u.owners.length > 0 && !mine.has(u.id))[skip];
}

test('cashier pays back part of a flat\'s prepaid money', async ({ page }) => {
  const cashier = await as('cashier@hemu.demo');
  const unit = await quietFlat(cashier);
  const { owed } = await cashier.call('GET', `/units/${unit.id}/balance`);
  // What it owes and 50.00 more: the 50.00 is prepaid.
  await cashier.call('POST', `/units/${unit.id}/payments`, { method: 'cash', amount: (Number(owed) + 50).toFixed(2) });
  const before = (await cashier.call('GET', `/units/${unit.id}/balance`)).prepaid;

  await login(page, 'cashier@hemu.demo');
  await open(page, `/staff/cashier/units/${unit.id}`);
  await page.getByRole('heading', { name: '退还预存款' }).waitFor();
  check((await page.getByLabel('退还金额（元）').inputValue()) === before, `the amount starts at the prepaid balance, ${before}`);
  await accessible(page, 'refund form');
  await page.getByLabel('退还金额（元）').fill('20.00');
  await page.getByLabel('原因').fill('业主多缴，退回现金');
  await page.getByRole('button', { name: '确认退款' }).click();
  const left = (Number(before) - 20).toFixed(2);
  await announced(page, `已退还 ¥20.00，预存余额 ¥${left}`);
  check((await cashier.call('GET', `/units/${unit.id}/balance`)).prepaid === left, `the API agrees: ¥${left} still prepaid`);
  check(await alertText(page) === '', 'no error shown');
});

test('manager reverses a bounced transfer and its receipt is voided', async ({ page }) => {
  const cashier = await as('cashier@hemu.demo');
  const unit = await quietFlat(cashier, 1);
  const payment = await cashier.call('POST', `/units/${unit.id}/payments`, { method: 'bank_transfer', amount: '10.00' });

  await login(page, 'manager@hemu.demo');
  await open(page, `/staff/payments/${payment.id}/receipt`);
  await page.getByRole('heading', { name: '冲正这笔收款' }).waitFor();
  await accessible(page, 'reversal form');
  await page.getByLabel('冲正原因').fill('银行转账退回');
  await page.getByRole('button', { name: '确认冲正并作废收据' }).click();
  await announced(page, `已冲正，收据 ${payment.receipt.number} 已作废`);
  await page.locator('.receipt', { hasText: '此收据已作废：银行转账退回' }).waitFor();
  check(await page.getByRole('heading', { name: '冲正这笔收款' }).count() === 0, 'a reversed payment is not offered again');
  const after = await cashier.call('GET', `/payments/${payment.id}`);
  check(after.status === 'reversed' && after.receipt.voided_at, `the API agrees: ${JSON.stringify(after)}`);
  check(await alertText(page) === '', 'no error shown');
});

test('manager creates a fee item, bills a month after its preview, and reads the registry, an import report, jobs and the outbox', async ({ page }) => {
  await login(page, 'manager@hemu.demo');
  // 世纪花园: the other browser tests work in 旺角家园.
  await open(page, '/staff/fee-items?compound=1');
  await page.locator('tbody tr').first().waitFor();
  await accessible(page, 'fee items');
  // A name of this run's own, so that the test runs again against the same server.
  const fee = `二次供水加压费 ${Date.now() % 100000}`;
  await page.getByLabel('名称').fill(fee);
  await page.getByLabel('计费方式').selectOption('fixed');
  await page.getByLabel('金额（元）').fill('15.00');
  await page.getByLabel('起始月份').fill('2027-01');
  await page.getByRole('button', { name: '创建' }).click();
  await announced(page, `已创建收费项目：${fee}`);
  const item = page.locator('tbody tr', { hasText: fee });
  await item.waitFor();
  check((await item.innerText()).includes('¥15.00') && (await item.innerText()).includes('固定金额'), 'the new fee item is listed with its amount');

  await open(page, '/staff/bill-runs?compound=1');
  await page.getByLabel('账期（月份）').fill('2027-01');
  await page.getByRole('button', { name: '预览' }).click();
  await page.getByRole('heading', { name: '2027-01 预览（尚未出账）' }).waitFor();
  const previewed = await page.locator('#bill-run-total').innerText();
  check(Number(await page.locator('#bill-run-bills').innerText()) > 0, 'the preview counts bills to create');
  check((await page.locator('main').innerText()).includes(fee), 'the preview shows the new fee item');
  await accessible(page, 'bill run preview');
  await screenshot(page, 'staff-bill-run-preview');
  await page.getByRole('button', { name: '正式出账' }).click();
  await page.getByRole('heading', { name: '2027-01 已出账' }).waitFor();
  check((await page.locator('#bill-run-total').innerText()) === previewed, `the run bills what the preview said, ${previewed}`);
  await page.locator('tbody tr', { hasText: '2027-01' }).first().waitFor();

  await open(page, '/staff/registry?compound=3');
  await page.locator('tbody tr').first().waitFor();
  check((await page.locator('main').innerText()).includes('第 1 页'), 'the units are paged');
  await accessible(page, 'registry');

  // A spreadsheet with a bad floor: nothing is imported and the page says which line and column.
  await open(page, '/staff/import?compound=1');
  await page.getByLabel('CSV 文件').setInputFiles({ name: 'units.csv', mimeType: 'text/csv', buffer: Buffer.from('楼栋,单元,房号,楼层,用途,产权面积\n9栋,1单元,101,1,住宅,88.60\n9栋,1单元,102,一楼,住宅,88.60\n') });
  await page.getByRole('button', { name: '导入', exact: true }).click();
  const bad = page.locator('#import-report tbody tr');
  await bad.first().waitFor();
  const cells = await bad.first().locator('td').allInnerTexts();
  check(cells[0] === '3' && cells[1] === 'floor', `line 3's floor is named, got ${cells}`);
  check((await alertText(page)) !== '' && (await page.locator('#alert li').count()) === 0, 'the refusal is in the alert region, its rows in the table only');
  await accessible(page, 'import report');
  await screenshot(page, 'staff-import-rejected');

  await open(page, '/staff/jobs');
  await page.getByRole('button', { name: '立即运行：滞纳金计算' }).click();
  await announced(page, '滞纳金计算已开始');
  await page.locator('tbody tr', { hasText: '滞纳金计算' }).first().waitFor();
  await accessible(page, 'jobs');

  await open(page, '/staff/outbox');
  await page.locator('tbody tr').first().waitFor();
  await accessible(page, 'outbox');
  await page.locator('tbody tr a').first().click();
  await page.getByRole('heading', { name: '正文' }).waitFor();
  await accessible(page, 'one email');
  await screenshot(page, 'staff-outbox-message');
});

await run();
