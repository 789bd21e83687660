// The committee desk: the collection rate and arrears aging as charts the server draws, the
// ledger's verification, the maintenance fund (the check, the repair projects with their splits,
// every unit's sub-ledger), votes with their tallies, and every audit report as a CSV file. For
// the owners' committee, and the office staff who read the same reports.
import { page, h, t, api, field, table, money, day, when, go, notify, showError, clearError, download, apiText, extend } from './app.js';

extend({
  zh: {
    'committee.home.title': '账目概览',
    'committee.fund.title': '维修资金',
    'committee.votes.title': '表决情况',
    'committee.reports.title': '报表下载',
    'committee.compound': '小区',
    'committee.show': '查看',
    'committee.no_compounds': '您的账号没有可查看的小区。',
    'committee.csv': '下载 CSV 文件',
    'committee.csv.collection': '下载收缴情况（CSV）',
    'committee.csv.aging': '下载欠费账龄（CSV）',
    'committee.csv.journal': '下载会计分录（CSV）',
    'committee.csv.projects': '下载项目分摊（CSV）',
    'committee.csv.fund': '下载分户账（CSV）',
    'committee.csv.movements': '下载资金收支明细（CSV）',
    'committee.downloaded': '已下载 {name}',
    'committee.param.from_month': '起始账期',
    'committee.param.to_month': '截止账期',
    'committee.param.from': '开始日期',
    'committee.param.to': '结束日期',
    'committee.param.as_of': '截至日期',
    'committee.param.as_of_hint': '留空为今天。',
    'committee.param.optional_hint': '可留空（不限）。',
    'committee.param.year': '年度',
    'committee.collection.heading': '收缴率',
    'committee.collection.chart': '收缴率图表',
    'committee.aging.heading': '欠费账龄',
    'committee.aging.chart': '欠费账龄图表',
    'committee.chart.broken': '图表无法显示。',
    'committee.ledger.heading': '账本校验',
    'committee.ledger.intact': '校验通过',
    'committee.ledger.broken': '校验未通过',
    'committee.ledger.intact_text': '全部 {entries} 笔分录（{lines} 行）的哈希链与借贷平衡均已重新核算，未发现改动。',
    'committee.ledger.break': '第一处问题：第 {seq} 笔（分录编号 {entry}）：{problem}',
    'committee.ledger.problem': '问题：{problem}',
    'committee.ledger.entries': '分录数',
    'committee.ledger.debits': '借方合计',
    'committee.ledger.credits': '贷方合计',
    'committee.ledger.trial_balance': '试算平衡表',
    'committee.ledger.code': '科目代码',
    'committee.ledger.account': '科目',
    'committee.ledger.debit': '借方',
    'committee.ledger.credit': '贷方',
    'committee.ledger.balance': '余额（借减贷）',
    'committee.fund.check': '账目核对',
    'committee.fund.agrees': '分户账与总账相符',
    'committee.fund.disagrees': '分户账与总账不符',
    'committee.fund.control_account': '总账（维修资金科目）',
    'committee.fund.sub_ledger_total': '分户账合计',
    'committee.fund.fund_bank': '维修资金专户',
    'committee.fund.below_line': '低于续交线的房屋',
    'committee.fund.mismatches': '不符的房屋',
    'committee.fund.unit': '房屋',
    'committee.fund.no_unit': '（未指明房屋）',
    'committee.fund.sub_ledger': '分户账',
    'committee.fund.journal': '总账',
    'committee.fund.projects': '维修项目',
    'committee.fund.no_projects': '还没有动用维修资金的项目。',
    'committee.fund.units': '分户账',
    'committee.fund.units_of': '{n} 户的分户账',
    'committee.fund.owners': '业主',
    'committee.fund.developer': '开发商',
    'committee.fund.initial': '首期交存',
    'committee.fund.balance': '余额',
    'committee.fund.top_up_line': '续交线',
    'committee.fund.needs_top_up': '需续交',
    'committee.fund.ok': '正常',
    'committee.project.status': '状态',
    'committee.project.emergency': '应急类别',
    'committee.project.vote': '表决',
    'committee.project.budget': '预算',
    'committee.project.actual_cost': '实际费用',
    'committee.project.settled_at': '结算时间',
    'committee.project.split': '分摊到 {n} 户（{kind}），合计 {total}',
    'committee.project.shares_are.planned': '按预算计划分摊',
    'committee.project.shares_are.actual': '按实际费用分摊',
    'committee.project.area': '面积（m²）',
    'committee.project.share': '分摊金额',
    'committee.project.payer': '承担方',
    'committee.project.payer.owner': '业主',
    'committee.project.payer.developer': '开发商',
    'committee.project.status.draft': '草拟',
    'committee.project.status.voting': '表决中',
    'committee.project.status.approved': '已通过',
    'committee.project.status.rejected': '未通过',
    'committee.project.status.in_progress': '施工中',
    'committee.project.status.settled': '已结算',
    'committee.emergency.roof_leak': '屋面漏水',
    'committee.emergency.elevator_fault': '电梯故障',
    'committee.emergency.pump_failure': '水泵故障',
    'committee.emergency.falling_facade': '外墙脱落',
    'committee.emergency.drainage_failure': '排水故障',
    'committee.emergency.fire_system_failure': '消防设施故障',
    'committee.votes.none': '这个小区还没有表决。',
    'committee.vote.matter': '事项',
    'committee.vote.status': '状态',
    'committee.vote.majority': '所需多数',
    'committee.vote.special': '特别多数（筹集维修资金、改建重建、改变共有部分用途）',
    'committee.vote.ordinary': '一般多数',
    'committee.vote.rule_set': '表决规则',
    'committee.vote.period': '表决时间',
    'committee.vote.not_open': '表决尚未开始，开始时确定投票人名单。',
    'committee.vote.status.scheduled': '未开始',
    'committee.vote.status.open': '进行中',
    'committee.vote.status.closed': '已结束',
    'committee.vote.passed': '通过',
    'committee.vote.failed': '未通过',
    'committee.vote.running_passed': '按目前票数：通过',
    'committee.vote.running_failed': '按目前票数：未通过',
    'committee.vote.counts': '票数统计',
    'committee.vote.group': '类别',
    'committee.vote.area': '专有面积（m²）',
    'committee.vote.headcount': '人数',
    'committee.vote.electorate': '全体投票人',
    'committee.vote.participating': '参与表决',
    'committee.vote.agree': '同意',
    'committee.vote.disagree': '反对',
    'committee.vote.abstain': '弃权',
    'committee.vote.checks': '各项门槛',
    'committee.vote.got_needed': '实得 {got}{unit}，需要 {needed}{unit}',
    'committee.vote.m2': ' m²',
    'committee.vote.owners': ' 人',
    'committee.vote.check_met': '达到',
    'committee.vote.check_missed': '未达到',
    'committee.vote.reasons': '未通过的原因',
    'committee.check.quorum_area': '参与表决的面积',
    'committee.check.quorum_headcount': '参与表决的人数',
    'committee.check.approval_area': '同意的面积',
    'committee.check.approval_headcount': '同意的人数',
    'committee.check.no_objection': '无异议',
    'committee.matter.rules': '制定和修改业主大会议事规则',
    'committee.matter.covenant': '制定和修改管理规约',
    'committee.matter.committee_election': '选举或更换业主委员会成员',
    'committee.matter.hiring_or_firing_the_company': '选聘和解聘物业服务企业',
    'committee.matter.using_the_fund': '使用维修资金',
    'committee.matter.raising_the_fund': '筹集维修资金',
    'committee.matter.alteration_or_rebuilding': '改建、重建建筑物及其附属设施',
    'committee.matter.changing_common_parts': '改变共有部分的用途或经营',
    'committee.matter.other': '其他重大事项',
    'committee.report.collection': '收缴情况',
    'committee.report.collection.about': '各账期、各收费项目的应收、实收、欠收和收缴率。',
    'committee.report.arrears-aging': '欠费账龄',
    'committee.report.arrears-aging.about': '每户逾期未缴的本金，按逾期天数分段（业主电话已隐去中间四位）。',
    'committee.report.income-statement': '收支情况表',
    'committee.report.income-statement.about': '公司的物业服务收入和滞纳金、业主的公共收益、维修资金的收支。',
    'committee.report.fund': '维修资金分户账',
    'committee.report.fund.about': '总账与分户账的核对，以及每户的余额。',
    'committee.report.fund-movements': '维修资金明细',
    'committee.report.fund-movements.about': '每户分户账的每一笔收支。',
    'committee.report.fund-projects': '维修项目分摊',
    'committee.report.fund-projects.about': '每个维修项目及其分摊到各户的金额。',
    'committee.report.journal': '会计分录',
    'committee.report.journal.about': '校验结果、试算平衡表和每一笔分录（含哈希）。',
    'committee.report.ticket-stats': '报修统计',
    'committee.report.ticket-stats.about': '响应和完成时间、按时完成率、满意度，按类别、师傅和月份。',
    'committee.report.staff-actions': '员工操作记录',
    'committee.report.staff-actions.about': '物业员工和委员通过系统做的每一次改动。',
    'committee.report.annual-pack': '年度账目公示',
    'committee.report.annual-pack.about': '一年的收缴、公共收益、维修资金和已结算的维修项目。',
  },
  en: {
    'committee.home.title': 'Accounts at a glance',
    'committee.fund.title': 'Maintenance fund',
    'committee.votes.title': 'Votes',
    'committee.reports.title': 'Reports',
    'committee.compound': 'Compound',
    'committee.show': 'Show',
    'committee.no_compounds': 'Your login reaches no compound.',
    'committee.csv': 'Download as CSV',
    'committee.csv.collection': 'Download the collection (CSV)',
    'committee.csv.aging': 'Download the arrears aging (CSV)',
    'committee.csv.journal': 'Download the journal (CSV)',
    'committee.csv.projects': 'Download the projects and splits (CSV)',
    'committee.csv.fund': 'Download the sub-ledgers (CSV)',
    'committee.csv.movements': 'Download the fund movements (CSV)',
    'committee.downloaded': 'Downloaded {name}',
    'committee.param.from_month': 'From period',
    'committee.param.to_month': 'To period',
    'committee.param.from': 'From',
    'committee.param.to': 'To',
    'committee.param.as_of': 'As of',
    'committee.param.as_of_hint': 'Leave empty for today.',
    'committee.param.optional_hint': 'May be left empty (no limit).',
    'committee.param.year': 'Year',
    'committee.collection.heading': 'Collection rate',
    'committee.collection.chart': 'Collection rate chart',
    'committee.aging.heading': 'Arrears aging',
    'committee.aging.chart': 'Arrears aging chart',
    'committee.chart.broken': 'The chart cannot be shown.',
    'committee.ledger.heading': 'Ledger verification',
    'committee.ledger.intact': 'Verified',
    'committee.ledger.broken': 'Verification failed',
    'committee.ledger.intact_text': 'The hash chain and the balance of all {entries} entries ({lines} lines) were recomputed: nothing was altered.',
    'committee.ledger.break': 'First problem: entry {seq} (id {entry}): {problem}',
    'committee.ledger.problem': 'Problem: {problem}',
    'committee.ledger.entries': 'Entries',
    'committee.ledger.debits': 'Total debits',
    'committee.ledger.credits': 'Total credits',
    'committee.ledger.trial_balance': 'Trial balance',
    'committee.ledger.code': 'Code',
    'committee.ledger.account': 'Account',
    'committee.ledger.debit': 'Debit',
    'committee.ledger.credit': 'Credit',
    'committee.ledger.balance': 'Balance (debit less credit)',
    'committee.fund.check': 'The check',
    'committee.fund.agrees': 'The sub-ledgers agree with the control account',
    'committee.fund.disagrees': 'The sub-ledgers do not agree with the control account',
    'committee.fund.control_account': 'Control account',
    'committee.fund.sub_ledger_total': 'Sum of the sub-ledgers',
    'committee.fund.fund_bank': 'Fund bank account',
    'committee.fund.below_line': 'Units below the top-up line',
    'committee.fund.mismatches': 'Units that do not agree',
    'committee.fund.unit': 'Unit',
    'committee.fund.no_unit': '(no unit named)',
    'committee.fund.sub_ledger': 'Sub-ledger',
    'committee.fund.journal': 'Journal',
    'committee.fund.projects': 'Repair projects',
    'committee.fund.no_projects': 'No project has used the fund yet.',
    'committee.fund.units': 'Sub-ledgers',
    'committee.fund.units_of': 'The sub-ledgers of {n} units',
    'committee.fund.owners': 'Owners',
    'committee.fund.developer': 'Developer',
    'committee.fund.initial': 'First deposit',
    'committee.fund.balance': 'Balance',
    'committee.fund.top_up_line': 'Top-up line',
    'committee.fund.needs_top_up': 'Top-up due',
    'committee.fund.ok': 'Fine',
    'committee.project.status': 'Status',
    'committee.project.emergency': 'Emergency',
    'committee.project.vote': 'Vote',
    'committee.project.budget': 'Budget',
    'committee.project.actual_cost': 'Actual cost',
    'committee.project.settled_at': 'Settled',
    'committee.project.split': 'Split over {n} units ({kind}), {total} in all',
    'committee.project.shares_are.planned': 'planned, from the budget',
    'committee.project.shares_are.actual': 'actual, from the cost',
    'committee.project.area': 'Area (m²)',
    'committee.project.share': 'Share',
    'committee.project.payer': 'Paid by',
    'committee.project.payer.owner': 'Owner',
    'committee.project.payer.developer': 'Developer',
    'committee.project.status.draft': 'Draft',
    'committee.project.status.voting': 'Being voted on',
    'committee.project.status.approved': 'Approved',
    'committee.project.status.rejected': 'Rejected',
    'committee.project.status.in_progress': 'In progress',
    'committee.project.status.settled': 'Settled',
    'committee.emergency.roof_leak': 'Roof leak',
    'committee.emergency.elevator_fault': 'Elevator fault',
    'committee.emergency.pump_failure': 'Pump failure',
    'committee.emergency.falling_facade': 'Falling facade',
    'committee.emergency.drainage_failure': 'Drainage failure',
    'committee.emergency.fire_system_failure': 'Fire system failure',
    'committee.votes.none': 'This compound has no vote yet.',
    'committee.vote.matter': 'Matter',
    'committee.vote.status': 'Status',
    'committee.vote.majority': 'Majority needed',
    'committee.vote.special': 'Special (raising the fund, rebuilding, changing common parts)',
    'committee.vote.ordinary': 'Ordinary',
    'committee.vote.rule_set': 'Rule set',
    'committee.vote.period': 'Voting period',
    'committee.vote.not_open': 'The vote has not opened: its electorate is fixed when it does.',
    'committee.vote.status.scheduled': 'Scheduled',
    'committee.vote.status.open': 'Open',
    'committee.vote.status.closed': 'Closed',
    'committee.vote.passed': 'Passed',
    'committee.vote.failed': 'Not passed',
    'committee.vote.running_passed': 'As the ballots stand: passing',
    'committee.vote.running_failed': 'As the ballots stand: not passing',
    'committee.vote.counts': 'Counts',
    'committee.vote.group': 'Who',
    'committee.vote.area': 'Area (m²)',
    'committee.vote.headcount': 'Owners',
    'committee.vote.electorate': 'Electorate',
    'committee.vote.participating': 'Taking part',
    'committee.vote.agree': 'Agree',
    'committee.vote.disagree': 'Disagree',
    'committee.vote.abstain': 'Abstain',
    'committee.vote.checks': 'Thresholds',
    'committee.vote.got_needed': 'got {got}{unit}, needs {needed}{unit}',
    'committee.vote.m2': ' m²',
    'committee.vote.owners': ' owners',
    'committee.vote.check_met': 'Met',
    'committee.vote.check_missed': 'Not met',
    'committee.vote.reasons': 'Why it does not pass',
    'committee.check.quorum_area': 'Area taking part',
    'committee.check.quorum_headcount': 'Owners taking part',
    'committee.check.approval_area': 'Area agreeing',
    'committee.check.approval_headcount': 'Owners agreeing',
    'committee.check.no_objection': 'No objection',
    'committee.matter.rules': 'Rules of the owners\' assembly',
    'committee.matter.covenant': 'Management covenant',
    'committee.matter.committee_election': 'Electing the owners\' committee',
    'committee.matter.hiring_or_firing_the_company': 'Hiring or firing the property company',
    'committee.matter.using_the_fund': 'Using the maintenance fund',
    'committee.matter.raising_the_fund': 'Raising the maintenance fund',
    'committee.matter.alteration_or_rebuilding': 'Alteration or rebuilding',
    'committee.matter.changing_common_parts': 'Changing the use of common parts',
    'committee.matter.other': 'Another major matter',
    'committee.report.collection': 'Collection',
    'committee.report.collection.about': 'Billed, collected, outstanding and the collection rate by period and fee item.',
    'committee.report.arrears-aging': 'Arrears aging',
    'committee.report.arrears-aging.about': 'Each unit\'s overdue principal by days past due (owners\' phones masked).',
    'committee.report.income-statement': 'Income and expense statement',
    'committee.report.income-statement.about': 'The company\'s fee revenue and late fees, the owners\' common-area income, the fund\'s money in and out.',
    'committee.report.fund': 'Fund sub-ledgers',
    'committee.report.fund.about': 'The control account against the sub-ledgers, and every unit\'s balance.',
    'committee.report.fund-movements': 'Fund movements',
    'committee.report.fund-movements.about': 'Every movement of every unit\'s sub-ledger.',
    'committee.report.fund-projects': 'Repair projects and splits',
    'committee.report.fund-projects.about': 'Every repair project and what each unit bears of it.',
    'committee.report.journal': 'Journal',
    'committee.report.journal.about': 'The verification, the trial balance and every entry with its hash.',
    'committee.report.ticket-stats': 'Repair ticket statistics',
    'committee.report.ticket-stats.about': 'Response and resolution times, SLA met, ratings, by category, technician and month.',
    'committee.report.staff-actions': 'Staff action log',
    'committee.report.staff-actions.about': 'Every change staff and committee members made through wuye.',
    'committee.report.annual-pack': 'Annual accounts',
    'committee.report.annual-pack.about': 'A year\'s fees, common-area income, the fund and the repairs settled.',
  },
});

// The roles that read the audit desk (`ReadAudit`): the committee, and the office.
const OFFICE = ['platform_admin', 'company_admin', 'manager'];
const READERS = [...OFFICE, 'committee'];

// ---------------------------------------------------------------- helpers

/** The compounds the caller reaches, and the one the page is about (`?compound=`, else the first). */
async function compoundChoice(query) {
  const compounds = await api('GET', '/compounds');
  const wanted = Number(query.get('compound'));
  return { compounds, compound: compounds.find((c) => c.id === wanted) || compounds[0] };
}

/** The form of a page's parameters: submitting it opens the page again with them in its URL. */
function paramsForm(path, label, ...fields) {
  const form = h('form', { class: 'card narrow', 'aria-label': label }, ...fields, h('button', { type: 'submit' }, t('committee.show')));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const params = new URLSearchParams();
    for (const [name, value] of new FormData(form)) if (value !== '') params.set(name, value);
    go(`${path}?${params}`);
  });
  return form;
}

/** A choice of compound, for someone who reaches more than one (a committee member has one). */
function compoundPicker(path, compounds, compound) {
  if (compounds.length < 2) return null;
  return paramsForm(path, t('committee.compound'),
    field('committee.compound', 'select', { name: 'compound' }, compounds.map((c) => h('option', { value: c.id, selected: c.id === compound.id }, c.name))));
}

/** Says which compound the page is about (with a picker for someone who reaches several); null
 *  when the caller reaches none. */
async function compoundOf(main, path, query) {
  const { compounds, compound } = await compoundChoice(query);
  if (!compound) {
    main.append(h('p', {}, t('committee.no_compounds')));
    return null;
  }
  main.append(...[compoundPicker(path, compounds, compound), h('p', { class: 'big' }, compound.name)].filter(Boolean));
  return compound;
}

const pad = (n) => String(n).padStart(2, '0');

/** This month ("2026-11") and the month `n` months before a month. */
function thisMonth() {
  const now = new Date();
  return `${now.getFullYear()}-${pad(now.getMonth() + 1)}`;
}

function monthsBefore(period, n) {
  const [year, month] = period.split('-').map(Number);
  const index = year * 12 + (month - 1) - n;
  return `${Math.floor(index / 12)}-${pad((index % 12) + 1)}`;
}

function today() {
  return day(new Date().toISOString());
}

/** A button that downloads a CSV file of the API (with the token) and says what it saved. */
function csvButton(path, fallbackName, labelKey) {
  return h('button', {
    type: 'button',
    onclick: async () => {
      clearError();
      try {
        notify(t('committee.downloaded', { name: await download(path, fallbackName) }));
      } catch (error) {
        showError(error);
      }
    },
  }, t(labelKey));
}

/** A chart the server draws, inline so that screen readers get its title and description (the
 *  server escapes every text in it). Parsed as XML, never as HTML. It scales down to the page,
 *  but scrolls sideways rather than shrink its text below three quarters. */
async function chart(path, labelKey) {
  const svg = new DOMParser().parseFromString(await apiText(path), 'image/svg+xml').documentElement;
  if (svg.namespaceURI !== 'http://www.w3.org/2000/svg' || svg.querySelector('parsererror')) throw new Error(t('committee.chart.broken'));
  const width = Number(svg.getAttribute('width'));
  svg.style.maxWidth = `${width}px`;
  svg.style.minWidth = `${Math.round(width * 0.75)}px`;
  return h('div', { class: 'chart', role: 'region', tabindex: '0', 'aria-label': t(labelKey) }, document.importNode(svg, true));
}

function badge(kind, key) {
  return h('span', { class: `badge ${kind}` }, t(key));
}

/** A `<dl class="facts">` of [label key, value] pairs, leaving out pairs without a value. */
function facts(pairs) {
  return h('dl', { class: 'facts' }, pairs.filter(([, value]) => value !== null && value !== undefined && value !== '').map(([key, value]) => [h('dt', {}, t(key)), h('dd', {}, value)]));
}

const amount = (value) => (value === null || value === undefined ? '' : h('span', { class: 'amount' }, money(value)));

// ---------------------------------------------------------------- the overview

const overview = {
  title: 'committee.home.title', nav: true,
  render: async (main, params, query) => {
    const compound = await compoundOf(main, '/committee', query);
    if (!compound) return;
    const c = compound.id;
    const to = query.get('to') || thisMonth();
    const from = query.get('from') || monthsBefore(to, 11);
    const asOf = query.get('as_of') || '';
    const keep = (more) => [h('input', { type: 'hidden', name: 'compound', value: c }), more];

    const collection = `/compounds/${c}/audit/collection?${new URLSearchParams({ from, to })}`;
    const aging = `/compounds/${c}/audit/arrears-aging${asOf ? `?${new URLSearchParams({ as_of: asOf })}` : ''}`;
    // The forms first: a range the server refuses shows its message with the form to mend it.
    const collectionChart = h('div');
    const agingChart = h('div');
    main.append(
      h('section', { 'aria-labelledby': 'collection-heading' },
        h('h2', { id: 'collection-heading' }, t('committee.collection.heading')),
        paramsForm('/committee', t('committee.collection.heading'), keep([
          field('committee.param.from_month', 'input', { name: 'from', type: 'month', value: from, required: true }),
          field('committee.param.to_month', 'input', { name: 'to', type: 'month', value: to, required: true }),
          asOf && h('input', { type: 'hidden', name: 'as_of', value: asOf }),
        ])),
        collectionChart,
        h('div', { class: 'actions' }, csvButton(collection.replace('collection?', 'collection.csv?'), 'collection.csv', 'committee.csv.collection'))),
      h('section', { 'aria-labelledby': 'aging-heading' },
        h('h2', { id: 'aging-heading' }, t('committee.aging.heading')),
        paramsForm('/committee', t('committee.aging.heading'), keep([
          h('input', { type: 'hidden', name: 'from', value: from }),
          h('input', { type: 'hidden', name: 'to', value: to }),
          field('committee.param.as_of', 'input', { name: 'as_of', type: 'date', value: asOf }, [], t('committee.param.as_of_hint')),
        ])),
        agingChart,
        h('div', { class: 'actions' }, csvButton(aging.replace('arrears-aging', 'arrears-aging.csv'), 'arrears-aging.csv', 'committee.csv.aging'))));
    const [collectionSvg, agingSvg, verification] = await Promise.all([
      chart(collection.replace('collection?', 'collection.svg?'), 'committee.collection.chart'),
      chart(aging.replace('arrears-aging', 'arrears-aging.svg'), 'committee.aging.chart'),
      api('GET', `/compounds/${c}/ledger/verification`),
    ]);
    collectionChart.replaceWith(collectionSvg);
    agingChart.replaceWith(agingSvg);
    main.append(ledgerSection(c, verification));
  },
};
// The committee's first page; the office opens on its own console and finds the desk in the
// navigation.
page('/committee', { ...overview, roles: ['committee'], home: true });
page('/committee', { ...overview, roles: OFFICE });

/** The ledger as recomputed just now: verified, or where the chain first breaks. */
function ledgerSection(compoundId, v) {
  const brk = v.first_break;
  return h('section', { 'aria-labelledby': 'ledger-heading', id: 'ledger' },
    h('h2', { id: 'ledger-heading' }, t('committee.ledger.heading')),
    h('p', {}, v.intact ? badge('paid', 'committee.ledger.intact') : badge('overdue', 'committee.ledger.broken'), ' ',
      v.intact
        ? t('committee.ledger.intact_text', { entries: v.entries, lines: v.lines })
        // Entry 0: no one entry, the trial balance as a whole does not balance.
        : brk.entry_id ? t('committee.ledger.break', { seq: brk.seq, entry: brk.entry_id, problem: brk.problem }) : t('committee.ledger.problem', { problem: brk.problem })),
    facts([
      ['committee.ledger.entries', String(v.entries)],
      ['committee.ledger.debits', amount(v.total_debits)],
      ['committee.ledger.credits', amount(v.total_credits)],
    ]),
    h('details', {},
      h('summary', {}, t('committee.ledger.trial_balance')),
      table('committee.ledger.trial_balance', ['committee.ledger.code', 'committee.ledger.account', 'committee.ledger.debit', 'committee.ledger.credit', 'committee.ledger.balance'],
        v.trial_balance.map((a) => [a.code, a.name, amount(a.debit), amount(a.credit), amount(a.balance)]))),
    h('div', { class: 'actions' }, csvButton(`/compounds/${compoundId}/audit/journal.csv`, 'journal.csv', 'committee.csv.journal')));
}

// ---------------------------------------------------------------- the fund

page('/committee/fund', {
  roles: READERS, title: 'committee.fund.title', nav: true,
  render: async (main, params, query) => {
    const compound = await compoundOf(main, '/committee/fund', query);
    if (!compound) return;
    const c = compound.id;
    const [fund, projects] = await Promise.all([api('GET', `/compounds/${c}/audit/fund`), api('GET', `/compounds/${c}/audit/fund-projects`)]);
    const check = fund.check;
    main.append(
      h('section', { 'aria-labelledby': 'check-heading' },
        h('h2', { id: 'check-heading' }, t('committee.fund.check')),
        h('p', {}, check.agrees ? badge('paid', 'committee.fund.agrees') : badge('overdue', 'committee.fund.disagrees')),
        facts([
          ['committee.fund.control_account', amount(check.control_account)],
          ['committee.fund.sub_ledger_total', amount(check.sub_ledger_total)],
          ['committee.fund.fund_bank', amount(check.fund_bank)],
          ['committee.fund.below_line', String(fund.units_below_top_up_line)],
        ]),
        check.mismatches.length > 0 && table('committee.fund.mismatches', ['committee.fund.unit', 'committee.fund.sub_ledger', 'committee.fund.journal'],
          check.mismatches.map((m) => [m.unit_id === null ? t('committee.fund.no_unit') : unitName(fund.units, m.unit_id), amount(m.sub_ledger), amount(m.journal)]))),
      h('section', { 'aria-labelledby': 'projects-heading' },
        h('h2', { id: 'projects-heading' }, t('committee.fund.projects')),
        projects.projects.length === 0 ? h('p', {}, t('committee.fund.no_projects')) : projects.projects.map(projectCard),
        h('div', { class: 'actions' }, csvButton(`/compounds/${c}/audit/fund-projects.csv`, 'fund-projects.csv', 'committee.csv.projects'))),
      h('section', { 'aria-labelledby': 'units-heading' },
        h('h2', { id: 'units-heading' }, t('committee.fund.units')),
        h('div', { class: 'actions' }, csvButton(`/compounds/${c}/audit/fund.csv`, 'fund.csv', 'committee.csv.fund'), csvButton(`/compounds/${c}/audit/fund-movements.csv`, 'fund-movements.csv', 'committee.csv.movements')),
        // Folded: a compound has hundreds of units.
        h('details', {},
          h('summary', {}, t('committee.fund.units_of', { n: fund.units.length })),
          table('committee.fund.units',
            ['committee.fund.unit', 'committee.fund.owners', 'committee.fund.initial', 'committee.fund.balance', 'committee.fund.top_up_line', 'committee.fund.needs_top_up'],
            fund.units.map((u) => [
              u.unit,
              u.owners.join('、') || (u.developer_held ? t('committee.fund.developer') : ''),
              amount(u.initial_deposit),
              amount(u.balance),
              amount(u.top_up_line),
              u.needs_top_up ? badge('overdue', 'committee.fund.needs_top_up') : t('committee.fund.ok'),
            ])))));
  },
});

function unitName(units, id) {
  const found = units.find((u) => u.unit_id === id);
  return found ? found.unit : String(id);
}

/** A repair project with its split over the units (folded: a compound's split is long). */
function projectCard(p) {
  const id = `project-${p.id}`;
  return h('section', { class: 'card', 'aria-labelledby': id },
    h('h3', { id }, p.title),
    facts([
      ['committee.project.status', t(`committee.project.status.${p.status}`)],
      ['committee.project.emergency', p.emergency && t(`committee.emergency.${p.emergency}`)],
      ['committee.project.vote', p.vote_id && h('a', { href: '#/committee/votes' }, `#${p.vote_id}`)],
      ['committee.project.budget', amount(p.budget)],
      ['committee.project.actual_cost', amount(p.actual_cost)],
      ['committee.project.settled_at', p.settled_at && when(p.settled_at)],
    ]),
    h('details', {},
      h('summary', {}, t('committee.project.split', { n: p.shares.length, kind: t(`committee.project.shares_are.${p.shares_are}`), total: money(p.shares_total) })),
      table('committee.fund.projects', ['committee.fund.unit', 'committee.project.area', 'committee.project.share', 'committee.project.payer'],
        p.shares.map((s) => [s.unit, s.area ?? '', amount(s.share), t(`committee.project.payer.${s.payer}`)]))));
}

// ---------------------------------------------------------------- votes

page('/committee/votes', {
  roles: READERS, title: 'committee.votes.title', nav: true,
  render: async (main, params, query) => {
    const compound = await compoundOf(main, '/committee/votes', query);
    if (!compound) return;
    const [votes, ruleSets] = await Promise.all([api('GET', `/compounds/${compound.id}/votes`), api('GET', '/vote-rule-sets')]);
    if (votes.length === 0) return main.append(h('p', {}, t('committee.votes.none')));
    const ruleSetNames = new Map(ruleSets.map((r) => [r.code, r.name]));
    // A closed vote keeps its result as decided; an open one is tallied as it stands now.
    const tallies = await Promise.all(votes.map((v) => (v.status === 'closed' ? v.result : v.status === 'open' ? api('GET', `/votes/${v.id}/tally`) : null)));
    main.append(...votes.map((v, i) => voteCard(v, ruleSetNames.get(v.rule_set) || v.rule_set, tallies[i])));
  },
});

function voteCard(v, ruleSet, tally) {
  const id = `vote-${v.id}`;
  return h('section', { class: 'card', 'aria-labelledby': id, id: `${id}-card` },
    h('h2', { id }, v.title),
    h('p', {}, v.description),
    facts([
      ['committee.vote.matter', t(`committee.matter.${v.matter}`)],
      ['committee.vote.status', t(`committee.vote.status.${v.status}`)],
      ['committee.vote.majority', t(v.special_majority ? 'committee.vote.special' : 'committee.vote.ordinary')],
      ['committee.vote.rule_set', ruleSet],
      ['committee.vote.period', `${when(v.opens_at)} – ${when(v.closes_at)}`],
    ]),
    tally ? tallyView(v, tally) : h('p', { class: 'note' }, t('committee.vote.not_open')));
}

/** Where a vote stands: the counts by area and headcount, each threshold, and why it fails. */
function tallyView(v, tally) {
  const outcome = tally.final
    ? (tally.passed ? badge('paid', 'committee.vote.passed') : badge('overdue', 'committee.vote.failed'))
    : (tally.passed ? badge('open', 'committee.vote.running_passed') : badge('overdue', 'committee.vote.running_failed'));
  const groups = ['electorate', 'participating', 'agree', 'disagree', 'abstain'];
  return [
    h('p', { class: 'vote-outcome' }, outcome),
    table('committee.vote.counts', ['committee.vote.group', 'committee.vote.area', 'committee.vote.headcount'],
      groups.map((g) => [t(`committee.vote.${g}`), tally[g].area, String(tally[g].headcount)])),
    h('h3', {}, t('committee.vote.checks')),
    h('ul', { class: 'checks' }, tally.checks.map((c) => h('li', {},
      h('strong', {}, t(`committee.check.${c.name}`)), ' ',
      c.met ? badge('paid', 'committee.vote.check_met') : badge('overdue', 'committee.vote.check_missed'), h('br'),
      t('committee.vote.got_needed', { got: c.got, needed: c.needed, unit: t(c.name.endsWith('area') ? 'committee.vote.m2' : 'committee.vote.owners') }), h('br'),
      h('span', { class: 'hint' }, c.rule)))),
    tally.reasons.length > 0 && h('div', {}, h('h3', {}, t('committee.vote.reasons')), h('ul', {}, tally.reasons.map((r) => h('li', {}, r)))),
  ];
}

// ---------------------------------------------------------------- reports

/** Every report of the audit desk, with its parameters: [name, kind, required, default]. */
const REPORTS = [
  ['collection', [['from', 'month', true, () => monthsBefore(thisMonth(), 11)], ['to', 'month', true, thisMonth]]],
  ['arrears-aging', [['as_of', 'date', false, () => '']]],
  ['income-statement', [['from', 'date', true, () => `${new Date().getFullYear()}-01-01`], ['to', 'date', true, today]]],
  ['fund', []],
  ['fund-movements', []],
  ['fund-projects', []],
  ['journal', []],
  ['ticket-stats', [['from', 'date', true, () => `${new Date().getFullYear()}-01-01`], ['to', 'date', true, today]]],
  ['staff-actions', [['from', 'date', false, () => ''], ['to', 'date', false, () => '']]],
  ['annual-pack', [['year', 'number', true, () => String(new Date().getFullYear())]]],
];

const LABELS = { month: { from: 'committee.param.from_month', to: 'committee.param.to_month' } };

function reportCard(compoundId, [name, params]) {
  const id = `report-${name}`;
  const form = h('form', { class: 'card', 'aria-labelledby': id },
    h('h2', { id }, t(`committee.report.${name}`)),
    h('p', {}, t(`committee.report.${name}.about`)),
    params.map(([param, kind, required, initial]) => field((LABELS[kind] || {})[param] || `committee.param.${param}`, 'input',
      { name: param, type: kind, value: initial(), required, min: kind === 'number' ? 1990 : null },
      [], required ? null : t(param === 'as_of' ? 'committee.param.as_of_hint' : 'committee.param.optional_hint'))),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, t('committee.csv'))));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearError();
    const query = new URLSearchParams();
    for (const [param, value] of new FormData(form)) if (value !== '') query.set(param, value);
    try {
      const saved = await download(`/compounds/${compoundId}/audit/${name}.csv${String(query) ? `?${query}` : ''}`, `${name}.csv`);
      notify(t('committee.downloaded', { name: saved }));
    } catch (error) {
      showError(error);
    }
  });
  return form;
}

page('/committee/reports', {
  roles: READERS, title: 'committee.reports.title', nav: true,
  render: async (main, params, query) => {
    const compound = await compoundOf(main, '/committee/reports', query);
    if (!compound) return;
    main.append(...REPORTS.map((report) => reportCard(compound.id, report)));
  },
});
