// The committee desk in a real browser: the committee member of the demo's 旺角家园 sees the
// collection rate and arrears aging as charts the server draws (with the figures of the JSON
// reports), the ledger verified, the fund with its check and projects, the votes with their
// tallies, and downloads reports as CSV files; a manager reads the same desk; every page passes
// axe-core. Reads only: the owner and staff scripts run on the same demo database.
import { test, run, login, screenshot, accessible, check, alertText, BASE, PASSWORD } from './harness.mjs';
import { readFileSync } from 'node:fs';

const COMMITTEE = 'committee@wangjiao.demo';

/** A JSON answer of the API as a demo account, to compare the pages with. */
async function apiAs(login, path) {
  const session = await (await fetch(`${BASE}/auth/login`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ login, password: PASSWORD }) })).json();
  const response = await fetch(`${BASE}${path}`, { headers: { Authorization: `Bearer ${session.token}` } });
  const body = await response.json();
  check(response.ok, `GET ${path}: ${response.status} ${JSON.stringify(body)}`);
  return body;
}

/** The months the desk shows by default: the twelve up to this one. */
function defaultRange() {
  const now = new Date();
  const month = (index) => `${Math.floor(index / 12)}-${String((index % 12) + 1).padStart(2, '0')}`;
  const current = now.getFullYear() * 12 + now.getMonth();
  return { from: month(current - 11), to: month(current) };
}

/** A downloaded file's text, without its byte-order mark, and its first line. */
async function downloaded(download) {
  const text = readFileSync(await download.path(), 'utf8');
  check(text.startsWith('\uFEFF'), 'the CSV starts with a byte-order mark (for Excel)');
  return { text, header: text.slice(1).split(/\r?\n/)[0] };
}

test('committee member sees the charts and downloads the collection report', async ({ page }) => {
  const [compound] = await apiAs(COMMITTEE, '/compounds');
  const { from, to } = defaultRange();
  const report = await apiAs(COMMITTEE, `/compounds/${compound.id}/audit/collection?from=${from}&to=${to}`);
  const rate = `${report.total.collection_rate}%`;
  const aging = await apiAs(COMMITTEE, `/compounds/${compound.id}/audit/arrears-aging`);

  await login(page, COMMITTEE);
  check((await page.locator('main h1').innerText()) === '账目概览', 'the committee member lands on 账目概览');
  const collection = page.locator('main .chart svg[role=img][aria-labelledby="collection-chart-title collection-chart-desc"]');
  await collection.waitFor();
  const title = await collection.locator('title').textContent();
  check(title.endsWith(`: ${rate}`) && title.startsWith(compound.name), `the chart's title gives the collection rate ${rate}: ${title}`);
  const bars = await collection.locator('text').allTextContents();
  for (const row of report.rows) check(bars.includes(row.period), `the chart has a bar for ${row.period}: ${bars}`);
  check((await collection.boundingBox()).height > 100, 'the collection chart is drawn');
  const agingChart = page.locator('main .chart svg[aria-labelledby="aging-chart-title aging-chart-desc"]');
  check((await agingChart.locator('title').textContent()).endsWith(`${aging.total} 元`), `the aging chart gives the arrears ${aging.total}`);
  check((await page.locator('#ledger').innerText()).includes('校验通过'), 'the ledger is verified');
  await accessible(page, 'overview');
  await screenshot(page, 'committee-overview');

  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('button', { name: '下载收缴情况（CSV）' }).click(),
  ]);
  check(download.suggestedFilename() === `collection-${compound.id}-${from}-${to}.csv`, `the collection file, got ${download.suggestedFilename()}`);
  const { text, header } = await downloaded(download);
  check(header === 'period,fee_item_id,fee_item,bills,billed,collected,outstanding,collection_rate_percent,late_fees_collected', `the collection header: ${header}`);
  check(text.includes(`合计 total,${report.total.bills},${report.total.billed},${report.total.collected}`), 'the CSV has the report\'s total');
  await page.locator('#status p').filter({ hasText: download.suggestedFilename() }).waitFor();

  // A range the server refuses says why, and the form stays to mend it.
  await page.getByLabel('起始账期').fill(to);
  await page.getByLabel('截止账期').fill(from);
  await page.locator('section[aria-labelledby=collection-heading]').getByRole('button', { name: '查看' }).click();
  await page.locator('#alert p').waitFor();
  check((await alertText(page)).includes('from'), `the refusal names the field: ${await alertText(page)}`);
  check(await page.getByLabel('起始账期').isVisible(), 'the form is still there');
});

test('committee member reads the fund, the votes and every report', async ({ page }) => {
  const [compound] = await apiAs(COMMITTEE, '/compounds');
  const fund = await apiAs(COMMITTEE, `/compounds/${compound.id}/audit/fund`);
  const votes = await apiAs(COMMITTEE, `/compounds/${compound.id}/votes`);
  await login(page, COMMITTEE);

  await page.getByRole('navigation').getByRole('link', { name: '维修资金' }).click();
  await page.getByRole('heading', { name: '账目核对' }).waitFor();
  const main = page.locator('main');
  check((await main.innerText()).includes('分户账与总账相符'), 'the fund check agrees');
  check((await main.innerText()).includes(`¥${fund.check.control_account}`), `the control account ${fund.check.control_account} is shown`);
  check((await page.locator('main table caption', { hasText: '分户账' }).count()) === 1, 'the sub-ledgers are listed');
  const projects = page.locator('main section.card');
  check((await projects.count()) >= 2, 'the demo has two repair projects');
  await projects.first().locator('summary').click();
  check((await projects.first().locator('tbody tr').count()) > 0, 'a project shows its split');
  await accessible(page, 'fund');
  await screenshot(page, 'committee-fund');

  await page.getByRole('navigation').getByRole('link', { name: '表决情况' }).click();
  // Wait for the vote cards themselves: the fund page's project cards are also section.card
  // and may still be on the page when the link is clicked. The page appends every vote at once.
  const voteCards = page.locator('main section.card[id^="vote-"]');
  await voteCards.first().waitFor();
  check((await voteCards.count()) === votes.length, `every vote is shown (${votes.length})`);
  const first = voteCards.first();
  check((await first.innerText()).includes('全体投票人'), 'a vote shows its electorate');
  const thresholds = await first.locator('ul.checks li').allInnerTexts();
  check(thresholds.length > 0 && thresholds.every((c) => /^\S.*(达到|未达到)\n实得 .+，需要 .+\n.+/.test(c)), `a vote shows each threshold in words: ${thresholds}`);
  await accessible(page, 'votes');
  await screenshot(page, 'committee-votes');

  await page.getByRole('navigation').getByRole('link', { name: '报表下载' }).click();
  const fundReport = page.locator('form[aria-labelledby=report-fund]');
  await fundReport.waitFor();
  check((await page.locator('main form h2').count()) === 10, 'every audit report is offered');
  await accessible(page, 'reports');
  const [download] = await Promise.all([page.waitForEvent('download'), fundReport.getByRole('button', { name: '下载 CSV 文件' }).click()]);
  check(download.suggestedFilename() === `fund-${compound.id}.csv`, `the fund file, got ${download.suggestedFilename()}`);
  const { header } = await downloaded(download);
  check(header === 'check,control_account,sub_ledger_total,fund_bank,agrees', `the fund header: ${header}`);
  await screenshot(page, 'committee-reports');

  // In English the desk's words change; the figures stay.
  await page.getByRole('button', { name: 'Switch to English' }).click();
  await page.getByRole('heading', { name: 'Reports', level: 1 }).waitFor();
  await accessible(page, 'reports in English');
});

test('a manager reads the same desk', async ({ page }) => {
  await login(page, 'manager@hemu.demo');
  check((await page.locator('main h1').innerText()) !== '账目概览', 'a manager still opens on the staff console');
  await page.getByRole('navigation').getByRole('link', { name: '账目概览' }).click();
  await page.locator('main .chart svg[role=img]').first().waitFor();
  check((await page.locator('main .chart svg[role=img]').count()) === 2, 'both charts are shown');
  check(await alertText(page) === '', 'no error shown');
  await accessible(page, 'overview as a manager');
  await screenshot(page, 'committee-manager');
});

await run();
