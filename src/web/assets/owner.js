// The owner portal: units and bills (overdue said in words), online payment through the
// gateway and the receipt, statements, the maintenance fund, repair tickets, notices and votes.
import { page, h, t, api, field, table, money, day, when, go, notify, showError, clearError, download, imageUrl, extend } from './app.js';

extend({
  zh: {
    'owner.home.title': '我的房屋',
    'owner.home.owed': '应缴',
    'owner.home.prepaid': '预存余额',
    'owner.home.overdue_bills': '{n} 张账单已逾期',
    'owner.home.fund': '维修资金余额',
    'owner.home.area': '面积',
    'owner.home.bills': '账单与缴费',
    'owner.home.statement': '对账单',
    'owner.home.fund_link': '维修资金明细',
    'owner.home.none': '您的账号下没有房屋。',
    'owner.bills.title': '账单与缴费',
    'owner.bills.caption': '账单（勾选后可在线缴费）',
    'owner.bills.choose': '选择',
    'owner.bills.choose_label': '选择 {period} {item}',
    'owner.bills.period': '账期',
    'owner.bills.due_date': '缴费期限',
    'owner.bills.late_fee_of': '含滞纳金 {amount}',
    'owner.bills.total_due': '尚欠',
    'owner.bills.status': '状态',
    'owner.bills.status.overdue': '已逾期',
    'owner.bills.status.open': '未缴',
    'owner.bills.status.paid': '已缴清',
    'owner.bills.pay': '在线缴纳所选账单',
    'owner.bills.pay_at_office': '这里暂不能在线缴费，请到物业服务中心缴纳。',
    'owner.bills.choose_one': '请至少勾选一张未缴账单。',
    'owner.bills.all_paid': '所有账单都已缴清，谢谢！',
    'owner.bills.payments': '缴费记录与收据',
    'owner.bills.payments_caption': '缴费记录',
    'owner.bills.received_at': '日期',
    'owner.bills.method': '方式',
    'owner.bills.receipt': '收据',
    'owner.bills.view_receipt': '查看收据 {number}',
    'owner.method.cash': '现金',
    'owner.method.bank_transfer': '银行转账',
    'owner.method.pos': '刷卡',
    'owner.method.online': '在线支付',
    'owner.checkout.title': '确认支付',
    'owner.checkout.gateway': '内置支付网关（演示）',
    'owner.checkout.explain': '这是系统自带的演示支付网关：确认后即视为已付款，不会真的扣款。',
    'owner.checkout.order': '订单号',
    'owner.checkout.amount': '支付金额',
    'owner.checkout.bills': '账单数',
    'owner.checkout.confirm': '确认支付 {amount}',
    'owner.checkout.paid': '订单已支付。',
    'owner.receipt.title': '收据',
    'owner.receipt.number': '收据编号',
    'owner.receipt.unit': '房屋',
    'owner.receipt.amount': '金额',
    'owner.receipt.method': '缴费方式',
    'owner.receipt.received_at': '收款时间',
    'owner.receipt.to_prepaid': '转入预存',
    'owner.receipt.caption': '本次缴纳的账单',
    'owner.receipt.bill': '账单',
    'owner.receipt.principal': '本金',
    'owner.receipt.late_fee': '滞纳金',
    'owner.receipt.voided': '此收据已作废：{reason}',
    'owner.receipt.thanks': '支付成功，谢谢！',
    'owner.statement.title': '对账单',
    'owner.statement.from': '开始日期',
    'owner.statement.to': '结束日期',
    'owner.statement.show': '查看',
    'owner.statement.csv': '下载 CSV 文件',
    'owner.statement.downloaded': '已下载 {name}',
    'owner.statement.opening': '期初欠款',
    'owner.statement.closing': '期末欠款',
    'owner.statement.caption': '收支明细（正数为应缴，负数为已缴或减免）',
    'owner.statement.date': '日期',
    'owner.statement.memo': '摘要',
    'owner.statement.amount': '金额',
    'owner.statement.balance': '余额',
    'owner.fund.title': '维修资金',
    'owner.fund.balance': '当前余额',
    'owner.fund.initial': '首期交存',
    'owner.fund.top_up_needed': '余额已低于续交线（{line}），需要续交。',
    'owner.fund.caption': '维修资金明细',
    'owner.fund.date': '日期',
    'owner.fund.memo': '摘要',
    'owner.fund.amount': '金额',
    'owner.fund.balance_after': '余额',
    'owner.tickets.title': '报修',
    'owner.tickets.new': '我要报修',
    'owner.tickets.none': '您还没有报修记录。',
    'owner.tickets.caption': '我的报修',
    'owner.tickets.number': '编号',
    'owner.tickets.what': '内容',
    'owner.tickets.status': '状态',
    'owner.tickets.filed': '提交时间',
    'owner.new.title': '我要报修',
    'owner.new.unit': '房屋',
    'owner.new.category': '类别',
    'owner.new.location': '位置',
    'owner.new.place': '具体位置（公共区域必填）',
    'owner.new.description': '问题描述',
    'owner.new.visit': '方便上门的时间',
    'owner.new.visit_hint': '例如：工作日晚上七点后',
    'owner.new.photos': '照片（可选，最多 6 张）',
    'owner.new.submit': '提交报修',
    'owner.new.filed': '报修已提交，编号 {id}。',
    'owner.location.in_unit': '户内',
    'owner.location.common_area': '公共区域',
    'owner.category.gas': '燃气',
    'owner.category.plumbing': '水管',
    'owner.category.roof_leak': '屋顶漏水',
    'owner.category.electrical': '电路',
    'owner.category.elevator': '电梯',
    'owner.category.fire_safety': '消防',
    'owner.category.street_lights': '路灯',
    'owner.category.barrier_free': '无障碍设施',
    'owner.category.parking': '停车',
    'owner.category.walls': '墙面',
    'owner.category.doors': '门窗',
    'owner.category.other': '其他',
    'owner.status.submitted': '已提交',
    'owner.status.accepted': '已受理',
    'owner.status.assigned': '已派工',
    'owner.status.in_progress': '维修中',
    'owner.status.on_hold': '暂停',
    'owner.status.resolved': '已修好，待您确认',
    'owner.status.reopened': '已重新打开',
    'owner.status.closed': '已完成',
    'owner.status.cancelled': '已取消',
    'owner.status.rejected': '未受理',
    'owner.ticket.title': '报修详情',
    'owner.ticket.deadline': '处理时限',
    'owner.ticket.photos': '照片',
    'owner.ticket.photo_alt': '报修照片 {n}',
    'owner.ticket.history': '处理经过',
    'owner.ticket.comments': '留言',
    'owner.ticket.comment': '留言内容',
    'owner.ticket.send': '发送留言',
    'owner.ticket.confirm': '确认已修好',
    'owner.ticket.reopen': '没修好，重新打开',
    'owner.ticket.reopen_note': '没修好的原因',
    'owner.ticket.rate': '评价',
    'owner.ticket.score': '满意度',
    'owner.ticket.score_n': '{n} 星',
    'owner.ticket.rating_comment': '评价内容（可选）',
    'owner.ticket.submit_rating': '提交评价',
    'owner.ticket.rated': '您的评价：{score} 星 {comment}',
    'owner.event.filed': '提交报修',
    'owner.event.status': '状态变为',
    'owner.event.priority': '优先级',
    'owner.event.assignee': '派工',
    'owner.event.comment': '留言',
    'owner.event.photo': '上传照片',
    'owner.event.rating': '评价',
    'owner.event.follow_up': '回访',
    'owner.event.cost': '费用',
    'owner.event.escalated': '超时升级',
    'owner.notices.title': '公告',
    'owner.notices.none': '暂无公告。',
    'owner.notices.pinned': '置顶',
    'owner.notices.unread': '未读',
    'owner.notices.read': '已读',
    'owner.notices.ack': '我已阅读',
    'owner.notices.published': '发布于 {when}',
    'owner.notices.email_title': '邮件通知',
    'owner.notices.email_every': '每条公告都发邮件给我',
    'owner.notices.email_hint': '不勾选时，只有紧急通知和停水停电会发邮件。',
    'owner.notices.email_save': '保存',
    'owner.notices.email_all': '已保存：每条公告都会发邮件给您',
    'owner.notices.email_urgent': '已保存：只有紧急通知和停水停电会发邮件给您',
    'owner.votes.title': '表决',
    'owner.votes.none': '目前没有需要您表决的事项。',
    'owner.votes.closes': '截止时间：{when}',
    'owner.votes.area': '您的表决面积：{area} m²',
    'owner.votes.choice': '您的意见',
    'owner.votes.choose': '请选择同意、反对或弃权。',
    'owner.votes.current': '您已表决：{choice}（可在截止前修改）',
    'owner.votes.submit': '提交表决',
    'owner.votes.cast': '已记录您的表决：{choice}。',
    'owner.votes.closed': '表决已结束',
    'owner.choice.agree': '同意',
    'owner.choice.disagree': '反对',
    'owner.choice.abstain': '弃权',
  },
  en: {
    'owner.home.title': 'My homes',
    'owner.home.owed': 'Owed',
    'owner.home.prepaid': 'Prepaid balance',
    'owner.home.overdue_bills': '{n} overdue',
    'owner.home.fund': 'Maintenance fund balance',
    'owner.home.area': 'Area',
    'owner.home.bills': 'Bills and payment',
    'owner.home.statement': 'Statement',
    'owner.home.fund_link': 'Maintenance fund',
    'owner.home.none': 'No home is linked to your account.',
    'owner.bills.title': 'Bills and payment',
    'owner.bills.caption': 'Bills (tick the ones to pay online)',
    'owner.bills.choose': 'Choose',
    'owner.bills.choose_label': 'Choose {period} {item}',
    'owner.bills.period': 'Period',
    'owner.bills.due_date': 'Due by',
    'owner.bills.late_fee_of': 'with a late fee of {amount}',
    'owner.bills.total_due': 'Still owed',
    'owner.bills.status': 'Status',
    'owner.bills.status.overdue': 'Overdue',
    'owner.bills.status.open': 'Unpaid',
    'owner.bills.status.paid': 'Paid',
    'owner.bills.pay': 'Pay the chosen bills online',
    'owner.bills.pay_at_office': 'Online payment is not available here; please pay at the property office.',
    'owner.bills.choose_one': 'Tick at least one unpaid bill.',
    'owner.bills.all_paid': 'Every bill is paid, thank you!',
    'owner.bills.payments': 'Payments and receipts',
    'owner.bills.payments_caption': 'Payments',
    'owner.bills.received_at': 'Date',
    'owner.bills.method': 'Method',
    'owner.bills.receipt': 'Receipt',
    'owner.bills.view_receipt': 'Receipt {number}',
    'owner.method.cash': 'Cash',
    'owner.method.bank_transfer': 'Bank transfer',
    'owner.method.pos': 'Card',
    'owner.method.online': 'Online',
    'owner.checkout.title': 'Confirm payment',
    'owner.checkout.gateway': 'Built-in payment gateway (demonstration)',
    'owner.checkout.explain': 'This is the demonstration gateway built into wuye: confirming counts as paid, and no money is taken.',
    'owner.checkout.order': 'Order',
    'owner.checkout.amount': 'Amount',
    'owner.checkout.bills': 'Bills',
    'owner.checkout.confirm': 'Confirm paying {amount}',
    'owner.checkout.paid': 'The order is paid.',
    'owner.receipt.title': 'Receipt',
    'owner.receipt.number': 'Receipt number',
    'owner.receipt.unit': 'Home',
    'owner.receipt.amount': 'Amount',
    'owner.receipt.method': 'Method',
    'owner.receipt.received_at': 'Received',
    'owner.receipt.to_prepaid': 'To prepaid balance',
    'owner.receipt.caption': 'Bills paid',
    'owner.receipt.bill': 'Bill',
    'owner.receipt.principal': 'Principal',
    'owner.receipt.late_fee': 'Late fee',
    'owner.receipt.voided': 'This receipt is void: {reason}',
    'owner.receipt.thanks': 'Payment received, thank you!',
    'owner.statement.title': 'Statement',
    'owner.statement.from': 'From',
    'owner.statement.to': 'To',
    'owner.statement.show': 'Show',
    'owner.statement.csv': 'Download as CSV',
    'owner.statement.downloaded': 'Downloaded {name}',
    'owner.statement.opening': 'Owed at the start',
    'owner.statement.closing': 'Owed at the end',
    'owner.statement.caption': 'Movements (positive: owed more; negative: paid or waived)',
    'owner.statement.date': 'Date',
    'owner.statement.memo': 'What',
    'owner.statement.amount': 'Amount',
    'owner.statement.balance': 'Balance',
    'owner.fund.title': 'Maintenance fund',
    'owner.fund.balance': 'Balance',
    'owner.fund.initial': 'First deposit',
    'owner.fund.top_up_needed': 'The balance is below the top-up line ({line}): a top-up is due.',
    'owner.fund.caption': 'Fund movements',
    'owner.fund.date': 'Date',
    'owner.fund.memo': 'What',
    'owner.fund.amount': 'Amount',
    'owner.fund.balance_after': 'Balance',
    'owner.tickets.title': 'Repairs',
    'owner.tickets.new': 'Report a repair',
    'owner.tickets.none': 'You have not reported any repair.',
    'owner.tickets.caption': 'My repair requests',
    'owner.tickets.number': 'No.',
    'owner.tickets.what': 'What',
    'owner.tickets.status': 'Status',
    'owner.tickets.filed': 'Reported',
    'owner.new.title': 'Report a repair',
    'owner.new.unit': 'Home',
    'owner.new.category': 'Kind',
    'owner.new.location': 'Where',
    'owner.new.place': 'Exact place (required in common areas)',
    'owner.new.description': 'What is wrong',
    'owner.new.visit': 'When a technician may come',
    'owner.new.visit_hint': 'For example: weekday evenings after 7',
    'owner.new.photos': 'Photos (optional, up to 6)',
    'owner.new.submit': 'Send the request',
    'owner.new.filed': 'Repair request {id} sent.',
    'owner.location.in_unit': 'In my home',
    'owner.location.common_area': 'Common area',
    'owner.category.gas': 'Gas',
    'owner.category.plumbing': 'Plumbing',
    'owner.category.roof_leak': 'Roof leak',
    'owner.category.electrical': 'Electrical',
    'owner.category.elevator': 'Elevator',
    'owner.category.fire_safety': 'Fire safety',
    'owner.category.street_lights': 'Street lights',
    'owner.category.barrier_free': 'Barrier-free access',
    'owner.category.parking': 'Parking',
    'owner.category.walls': 'Walls',
    'owner.category.doors': 'Doors and windows',
    'owner.category.other': 'Other',
    'owner.status.submitted': 'Sent',
    'owner.status.accepted': 'Accepted',
    'owner.status.assigned': 'Technician assigned',
    'owner.status.in_progress': 'Being repaired',
    'owner.status.on_hold': 'On hold',
    'owner.status.resolved': 'Repaired: please confirm',
    'owner.status.reopened': 'Reopened',
    'owner.status.closed': 'Done',
    'owner.status.cancelled': 'Cancelled',
    'owner.status.rejected': 'Not accepted',
    'owner.ticket.title': 'Repair request',
    'owner.ticket.deadline': 'Deadline',
    'owner.ticket.photos': 'Photos',
    'owner.ticket.photo_alt': 'Photo {n} of the repair',
    'owner.ticket.history': 'What happened',
    'owner.ticket.comments': 'Messages',
    'owner.ticket.comment': 'Message',
    'owner.ticket.send': 'Send the message',
    'owner.ticket.confirm': 'Confirm it is repaired',
    'owner.ticket.reopen': 'Not repaired: reopen',
    'owner.ticket.reopen_note': 'What is still wrong',
    'owner.ticket.rate': 'Rate the repair',
    'owner.ticket.score': 'How satisfied are you',
    'owner.ticket.score_n': '{n} stars',
    'owner.ticket.rating_comment': 'Comment (optional)',
    'owner.ticket.submit_rating': 'Send the rating',
    'owner.ticket.rated': 'Your rating: {score} stars {comment}',
    'owner.event.filed': 'Reported',
    'owner.event.status': 'Status now',
    'owner.event.priority': 'Priority',
    'owner.event.assignee': 'Assigned',
    'owner.event.comment': 'Message',
    'owner.event.photo': 'Photo added',
    'owner.event.rating': 'Rated',
    'owner.event.follow_up': 'Follow-up call',
    'owner.event.cost': 'Cost',
    'owner.event.escalated': 'Escalated (late)',
    'owner.notices.title': 'Notices',
    'owner.notices.none': 'No notices.',
    'owner.notices.pinned': 'Pinned',
    'owner.notices.unread': 'Unread',
    'owner.notices.read': 'Read',
    'owner.notices.ack': 'I have read this',
    'owner.notices.published': 'Published {when}',
    'owner.notices.email_title': 'Notices by email',
    'owner.notices.email_every': 'Email me every notice',
    'owner.notices.email_hint': 'Unticked, only emergencies and water or power cuts come by email.',
    'owner.notices.email_save': 'Save',
    'owner.notices.email_all': 'Saved: every notice will come by email',
    'owner.notices.email_urgent': 'Saved: only emergencies and cuts will come by email',
    'owner.votes.title': 'Votes',
    'owner.votes.none': 'Nothing is waiting for your vote.',
    'owner.votes.closes': 'Closes {when}',
    'owner.votes.area': 'You vote with {area} m²',
    'owner.votes.choice': 'Your vote',
    'owner.votes.choose': 'Choose agree, disagree or abstain.',
    'owner.votes.current': 'You voted: {choice} (you may change it until it closes)',
    'owner.votes.submit': 'Cast the vote',
    'owner.votes.cast': 'Your vote is recorded: {choice}.',
    'owner.votes.closed': 'The vote is closed',
    'owner.choice.agree': 'Agree',
    'owner.choice.disagree': 'Disagree',
    'owner.choice.abstain': 'Abstain',
  },
});

const OWNER = ['owner'];
const CATEGORIES = ['plumbing', 'electrical', 'gas', 'roof_leak', 'walls', 'doors', 'elevator', 'street_lights', 'fire_safety', 'barrier_free', 'parking', 'other'];

/** A form whose submit runs `action` (errors shown in the alert region, the button disabled meanwhile). */
function form(children, action) {
  const el = h('form', { novalidate: true }, children);
  el.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearError();
    const button = el.querySelector('button[type=submit]');
    button.disabled = true;
    try {
      await action(new FormData(el), el);
    } catch (error) {
      showError(error);
    } finally {
      button.disabled = false;
    }
  });
  return el;
}

const facts = (pairs) => h('dl', { class: 'facts' }, pairs.filter(Boolean).map(([key, value]) => [h('dt', {}, t(key)), h('dd', {}, value)]));
const badge = (status) => h('span', { class: `badge ${status}` }, t(`owner.bills.status.${status}`));

// ---------------------------------------------------------------- my homes

page('/owner', {
  roles: OWNER, title: 'owner.home.title', nav: true, home: true,
  render: async (main) => {
    const units = await api('GET', '/me/units');
    if (!units.length) return main.append(h('p', {}, t('owner.home.none')));
    const cards = await Promise.all(units.map(async (unit) => {
      const [balance, fund, bills] = await Promise.all([api('GET', `/units/${unit.id}/balance`), api('GET', `/units/${unit.id}/fund`), api('GET', `/units/${unit.id}/bills`)]);
      const overdue = bills.filter((b) => b.status === 'overdue').length;
      const state = overdue ? h('span', { class: 'badge overdue' }, t('owner.home.overdue_bills', { n: overdue })) : badge(Number(balance.owed) > 0 ? 'open' : 'paid');
      return h('section', { class: 'card', 'aria-labelledby': `unit-${unit.id}` },
        h('h2', { id: `unit-${unit.id}` }, unit.label),
        facts([
          ['owner.home.area', `${unit.area} m²`],
          ['owner.home.owed', [h('span', { class: 'amount big' }, money(balance.owed)), ' ', state]],
          ['owner.home.prepaid', h('span', { class: 'amount' }, money(balance.prepaid))],
          ['owner.home.fund', h('span', { class: 'amount' }, money(fund.sub_ledger.balance))],
        ]),
        h('p', { class: 'actions' },
          h('a', { class: 'button primary', href: `#/owner/units/${unit.id}/bills` }, t('owner.home.bills')),
          h('a', { class: 'button', href: `#/owner/units/${unit.id}/statement` }, t('owner.home.statement')),
          h('a', { class: 'button', href: `#/owner/units/${unit.id}/fund` }, t('owner.home.fund_link'))));
    }));
    main.append(h('div', { class: 'cards' }, cards));
  },
});

// ---------------------------------------------------------------- bills and payment

async function unitLabel(id) {
  const units = await api('GET', '/me/units');
  return (units.find((u) => u.id === Number(id)) || { label: `#${id}` }).label;
}

page('/owner/units/:id/bills', {
  roles: OWNER, title: 'owner.bills.title',
  render: async (main, { id }) => {
    const [label, bills, payments, checkout] = await Promise.all([unitLabel(id), api('GET', `/units/${id}/bills`), api('GET', `/units/${id}/payments`), api('GET', '/app/gateway/checkout')]);
    main.append(h('p', { class: 'big' }, label));
    const unpaid = bills.filter((b) => b.status !== 'paid');
    if (!unpaid.length) main.append(h('p', { class: 'note' }, t('owner.bills.all_paid')));
    else if (!checkout.available) main.append(h('p', { class: 'note', id: 'pay-at-office' }, t('owner.bills.pay_at_office')));
    const online = checkout.available && unpaid.length > 0;
    const rows = bills.map((b) => [
      !online || b.status === 'paid' ? '' : h('input', { type: 'checkbox', name: 'bill', value: b.id, checked: b.status === 'overdue', 'aria-label': t('owner.bills.choose_label', { period: b.period, item: b.fee_item }) }),
      [b.period, h('br'), b.fee_item],
      badge(b.status),
      [h('strong', { class: 'amount' }, money(b.total_due)), Number(b.late_fee) > 0 ? [h('br'), t('owner.bills.late_fee_of', { amount: money(b.late_fee) })] : null],
      day(b.due_date),
    ]);
    // Four columns besides the tick box, so that a phone shows the status without scrolling.
    const billTable = table('owner.bills.caption', ['owner.bills.choose', 'owner.bills.period', 'owner.bills.status', 'owner.bills.total_due', 'owner.bills.due_date'], rows);
    billTable.querySelectorAll('tbody tr').forEach((tr, i) => { if (bills[i].status === 'overdue') tr.classList.add('overdue'); });
    main.append(form([billTable, online ? h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, t('owner.bills.pay'))) : null], async (data) => {
      const billIds = data.getAll('bill').map(Number);
      if (!billIds.length) throw new Error(t('owner.bills.choose_one'));
      const order = await api('POST', '/payment-orders', { unit_id: Number(id), bill_ids: billIds });
      go(`/owner/checkout/${order.id}`);
    }));
    main.append(h('h2', {}, t('owner.bills.payments')));
    main.append(payments.length ? table('owner.bills.payments_caption', ['owner.bills.received_at', 'owner.bills.method', 'owner.receipt.amount', 'owner.bills.receipt'],
      payments.map((p) => [day(p.received_at), t(`owner.method.${p.method}`), h('span', { class: 'amount' }, money(p.amount)),
        p.receipt ? h('a', { href: `#/owner/receipts/${p.id}` }, t('owner.bills.view_receipt', { number: p.receipt.number })) : '']))
      : h('p', {}, t('common.none')));
  },
});

// The built-in gateway's checkout, standing in for a real gateway's payment page (on only where
// the server has WUYE_GATEWAY_CHECKOUT on, e.g. the demo; elsewhere the confirmation is refused).
page('/owner/checkout/:order', {
  roles: OWNER, title: 'owner.checkout.title',
  render: async (main, { order: orderId }) => {
    const order = await api('GET', `/payment-orders/${orderId}`);
    const box = h('section', { class: 'card gateway', 'aria-labelledby': 'gateway' },
      h('h2', { id: 'gateway' }, t('owner.checkout.gateway')),
      h('p', {}, t('owner.checkout.explain')),
      facts([
        ['owner.checkout.order', String(order.id)],
        ['owner.receipt.unit', await unitLabel(order.unit_id)],
        ['owner.checkout.bills', String(order.bill_ids.length)],
        ['owner.checkout.amount', h('span', { class: 'amount big' }, money(order.amount))],
      ]));
    main.append(box);
    if (order.status === 'paid') {
      box.append(h('p', {}, t('owner.checkout.paid'), ' ', h('a', { href: `#/owner/receipts/${order.payment_id}` }, t('owner.receipt.title'))));
      return;
    }
    box.append(form(h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, t('owner.checkout.confirm', { amount: money(order.amount) }))), async () => {
      const answer = await api('POST', `/app/gateway/checkout/${order.id}`);
      go(`/owner/receipts/${answer.payment_id}?paid=1`);
    }));
  },
});

page('/owner/receipts/:payment', {
  roles: OWNER, title: 'owner.receipt.title',
  render: async (main, { payment: paymentId }, query) => {
    const p = await api('GET', `/payments/${paymentId}`);
    if (query.get('paid')) notify(t('owner.receipt.thanks'));
    const receipt = h('section', { class: 'card receipt', 'aria-label': t('owner.receipt.title') },
      p.receipt && p.receipt.voided_at ? h('p', { class: 'alert' }, t('owner.receipt.voided', { reason: p.receipt.void_reason || '' })) : null,
      facts([
        ['owner.receipt.number', h('strong', { id: 'receipt-number' }, p.receipt ? p.receipt.number : '—')],
        ['owner.receipt.unit', await unitLabel(p.unit_id)],
        ['owner.receipt.amount', h('strong', { class: 'amount big', id: 'receipt-amount' }, money(p.amount))],
        ['owner.receipt.method', t(`owner.method.${p.method}`)],
        ['owner.receipt.received_at', when(p.received_at)],
        Number(p.to_prepaid) > 0 && ['owner.receipt.to_prepaid', money(p.to_prepaid)],
      ]),
      p.allocations.length ? table('owner.receipt.caption', ['owner.receipt.bill', 'owner.receipt.principal', 'owner.receipt.late_fee'],
        p.allocations.map((a) => [String(a.bill_id), money(a.principal), money(a.late_fee)])) : null);
    main.append(receipt, h('div', { class: 'actions' },
      h('button', { type: 'button', class: 'primary', onclick: () => window.print() }, t('common.print')),
      h('a', { class: 'button', href: `#/owner/units/${p.unit_id}/bills` }, t('common.back'))));
  },
});

// ---------------------------------------------------------------- statement and fund

page('/owner/units/:id/statement', {
  roles: OWNER, title: 'owner.statement.title',
  render: async (main, { id }, query) => {
    const today = day(new Date().toISOString());
    const from = query.get('from') || `${today.slice(0, 4)}-01-01`;
    const to = query.get('to') || today;
    main.append(h('p', { class: 'big' }, await unitLabel(id)));
    main.append(form([
      field('owner.statement.from', 'input', { type: 'date', name: 'from', value: from, required: true }),
      field('owner.statement.to', 'input', { type: 'date', name: 'to', value: to, required: true }),
      h('div', { class: 'actions' },
        h('button', { type: 'submit', class: 'primary' }, t('owner.statement.show')),
        h('button', { type: 'button', id: 'statement-csv', onclick: async (event) => {
          clearError();
          const data = new FormData(event.target.form);
          try {
            const name = await download(`/units/${id}/statement.csv?from=${data.get('from')}&to=${data.get('to')}`, `statement-${id}.csv`);
            notify(t('owner.statement.downloaded', { name }));
          } catch (error) {
            showError(error);
          }
        } }, t('owner.statement.csv'))),
    ], async (data) => go(`/owner/units/${id}/statement?from=${data.get('from')}&to=${data.get('to')}`)));
    const s = await api('GET', `/units/${id}/statement?from=${from}&to=${to}`);
    main.append(facts([['owner.statement.opening', money(s.opening_balance)], ['owner.statement.closing', h('strong', {}, money(s.closing_balance))]]));
    main.append(table('owner.statement.caption', ['owner.statement.date', 'owner.statement.memo', 'owner.statement.amount', 'owner.statement.balance'],
      s.lines.map((l) => [l.posted_on, l.memo, h('span', { class: 'amount' }, money(l.amount)), h('span', { class: 'amount' }, money(l.balance))])));
  },
});

page('/owner/units/:id/fund', {
  roles: OWNER, title: 'owner.fund.title',
  render: async (main, { id }) => {
    const fund = await api('GET', `/units/${id}/fund`);
    const ledger = fund.sub_ledger;
    main.append(h('p', { class: 'big' }, ledger.unit));
    main.append(facts([['owner.fund.balance', h('strong', { class: 'amount big' }, money(ledger.balance))], ['owner.fund.initial', money(ledger.initial_deposit)]]));
    if (ledger.needs_top_up) main.append(h('p', { class: 'note' }, t('owner.fund.top_up_needed', { line: money(ledger.top_up_line) })));
    main.append(table('owner.fund.caption', ['owner.fund.date', 'owner.fund.memo', 'owner.fund.amount', 'owner.fund.balance_after'],
      fund.movements.map((m) => [m.occurred_on, m.memo, h('span', { class: 'amount' }, money(m.amount)), h('span', { class: 'amount' }, money(m.balance_after))])));
  },
});

// ---------------------------------------------------------------- repair tickets

page('/owner/tickets', {
  roles: OWNER, title: 'owner.tickets.title', nav: true,
  render: async (main) => {
    main.append(h('p', { class: 'actions' }, h('a', { class: 'button primary', href: '#/owner/tickets/new' }, t('owner.tickets.new'))));
    const [open, done] = await Promise.all([api('GET', '/tickets'), api('GET', '/tickets?status=closed')]);
    const tickets = [...open.items, ...done.items];
    if (!tickets.length) return main.append(h('p', {}, t('owner.tickets.none')));
    main.append(table('owner.tickets.caption', ['owner.tickets.number', 'owner.tickets.what', 'owner.tickets.status', 'owner.tickets.filed'],
      tickets.map((k) => [h('a', { href: `#/owner/tickets/${k.id}` }, `#${k.id}`), `${t(`owner.category.${k.category}`)}：${k.description}`, t(`owner.status.${k.status}`), when(k.created_at)])));
  },
});

// A photo refused as its ticket was filed, by ticket id: shown on the ticket's page.
const refusedPhotos = new Map();

page('/owner/tickets/new', {
  roles: OWNER, title: 'owner.new.title',
  render: async (main) => {
    const units = await api('GET', '/me/units');
    main.append(form([
      field('owner.new.unit', 'select', { name: 'unit_id', required: true }, units.map((u) => h('option', { value: u.id }, u.label))),
      field('owner.new.category', 'select', { name: 'category', required: true }, CATEGORIES.map((c) => h('option', { value: c }, t(`owner.category.${c}`)))),
      h('fieldset', {}, h('legend', {}, t('owner.new.location')),
        ['in_unit', 'common_area'].map((l, i) => h('label', { class: 'choice' }, h('input', { type: 'radio', name: 'location', value: l, checked: i === 0 }), t(`owner.location.${l}`)))),
      field('owner.new.place', 'input', { name: 'place', type: 'text' }),
      field('owner.new.description', 'textarea', { name: 'description', required: true }),
      field('owner.new.visit', 'input', { name: 'preferred_visit', type: 'text' }, [], t('owner.new.visit_hint')),
      field('owner.new.photos', 'input', { name: 'photos', type: 'file', accept: 'image/jpeg,image/png,image/webp', multiple: true }),
      h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, t('owner.new.submit'))),
    ], async (data) => {
      const ticket = await api('POST', '/tickets', {
        unit_id: Number(data.get('unit_id')),
        category: data.get('category'),
        location: data.get('location'),
        description: data.get('description').trim(),
        place: data.get('place').trim() || null,
        preferred_visit: data.get('preferred_visit').trim() || null,
      });
      // The ticket stands once filed (filing again would make a second one); a photo refused
      // (too large, not an image) says so on its page.
      for (const photo of data.getAll('photos').filter((f) => f.size > 0)) {
        try {
          await api('POST', `/tickets/${ticket.id}/photos`, photo);
        } catch (error) {
          refusedPhotos.set(ticket.id, error);
        }
      }
      notify(t('owner.new.filed', { id: ticket.id }));
      go(`/owner/tickets/${ticket.id}`);
    }));
  },
});

page('/owner/tickets/:id', {
  roles: OWNER, title: 'owner.ticket.title',
  render: async (main, { id }) => {
    const refused = refusedPhotos.get(Number(id));
    refusedPhotos.delete(Number(id));
    if (refused) showError(refused);
    const detail = await api('GET', `/tickets/${id}`);
    const k = detail.ticket;
    const reload = () => go(`/owner/tickets/${id}`);
    main.append(h('section', { class: 'card' },
      h('h2', {}, `#${k.id} ${t(`owner.category.${k.category}`)}`),
      facts([
        ['owner.tickets.status', h('strong', { id: 'ticket-status' }, t(`owner.status.${k.status}`))],
        ['owner.new.location', `${t(`owner.location.${k.location}`)}${k.place ? `：${k.place}` : ''}`],
        ['owner.tickets.filed', when(k.created_at)],
        !['closed', 'cancelled', 'rejected', 'resolved'].includes(k.status) && ['owner.ticket.deadline', when(k.due_at)],
        k.rating && ['owner.ticket.rate', t('owner.ticket.rated', { score: k.rating, comment: k.rating_comment || '' })],
      ]),
      h('p', { style: 'white-space: pre-wrap' }, k.description)));
    if (k.status === 'resolved') {
      main.append(h('h2', {}, t('owner.ticket.confirm')), form([
        h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, t('owner.ticket.confirm'))),
      ], async () => { await api('POST', `/tickets/${id}/transitions`, { to: 'closed', version: k.version }); reload(); }));
      main.append(form([
        field('owner.ticket.reopen_note', 'textarea', { name: 'note', required: true }),
        h('div', { class: 'actions' }, h('button', { type: 'submit' }, t('owner.ticket.reopen'))),
      ], async (data) => { await api('POST', `/tickets/${id}/transitions`, { to: 'reopened', version: k.version, note: data.get('note').trim() }); reload(); }));
    }
    if (['resolved', 'closed'].includes(k.status) && !k.rating) {
      main.append(h('h2', {}, t('owner.ticket.rate')), form([
        h('fieldset', {}, h('legend', {}, t('owner.ticket.score')),
          [5, 4, 3, 2, 1].map((n) => h('label', { class: 'choice' }, h('input', { type: 'radio', name: 'score', value: n, checked: n === 5 }), t('owner.ticket.score_n', { n })))),
        field('owner.ticket.rating_comment', 'textarea', { name: 'comment' }),
        h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, t('owner.ticket.submit_rating'))),
      ], async (data) => { await api('POST', `/tickets/${id}/rating`, { score: Number(data.get('score')), comment: data.get('comment').trim() || null }); reload(); }));
    }
    if (detail.photos.length) {
      main.append(h('h2', {}, t('owner.ticket.photos')));
      const photos = h('div', { class: 'photos' });
      main.append(photos);
      for (const [i, photo] of detail.photos.entries()) photos.append(h('img', { src: await imageUrl(photo.url), alt: t('owner.ticket.photo_alt', { n: i + 1 }) }));
    }
    main.append(h('h2', {}, t('owner.ticket.history')), h('ol', { class: 'history' }, detail.history.map((e) =>
      h('li', {}, `${when(e.at)} ${t(`owner.event.${e.kind}`)} ${e.kind === 'status' && e.to ? t(`owner.status.${e.to}`) : ''}${e.note ? `：${e.note}` : ''}`))));
    main.append(h('h2', {}, t('owner.ticket.comments')));
    main.append(h('ul', {}, detail.comments.map((c) => h('li', {}, `${when(c.created_at)} ${c.author_name}：`, h('span', { style: 'white-space: pre-wrap' }, c.body)))));
    main.append(form([
      field('owner.ticket.comment', 'textarea', { name: 'body', required: true }),
      h('div', { class: 'actions' }, h('button', { type: 'submit' }, t('owner.ticket.send'))),
    ], async (data) => { await api('POST', `/tickets/${id}/comments`, { body: data.get('body').trim() }); reload(); }));
  },
});

// ---------------------------------------------------------------- notices and votes

page('/owner/notices', {
  roles: OWNER, title: 'owner.notices.title', nav: true,
  render: async (main) => {
    const [notices, preference] = await Promise.all([api('GET', '/me/notices'), api('GET', '/me/notice-preferences')]);
    if (!notices.length) main.append(h('p', {}, t('owner.notices.none')));
    for (const n of notices) {
      const status = h('span', { class: `badge ${n.read ? 'paid' : 'open'}` }, t(n.read ? 'owner.notices.read' : 'owner.notices.unread'));
      const card = h('article', { class: 'card', 'aria-labelledby': `notice-${n.id}` },
        h('h2', { id: `notice-${n.id}` }, n.pinned ? h('span', { class: 'badge open' }, t('owner.notices.pinned')) : null, ' ', n.title, ' ', status),
        h('p', { class: 'hint' }, t('owner.notices.published', { when: when(n.published_at) })),
        // The body as its author wrote it, shown as text (never parsed as HTML).
        h('p', { style: 'white-space: pre-wrap' }, n.body));
      if (!n.read) {
        const button = h('button', { type: 'button', onclick: async () => {
          clearError();
          try {
            await api('POST', `/notices/${n.id}/read`);
            status.className = 'badge paid';
            status.textContent = t('owner.notices.read');
            button.remove();
            notify(t('owner.notices.read'));
          } catch (error) {
            showError(error);
          }
        } }, t('owner.notices.ack'));
        card.append(h('div', { class: 'actions' }, button));
      }
      main.append(card);
    }
    // Emergencies and outages always come by email too; everything else only if asked for.
    main.append(h('section', { class: 'card', 'aria-labelledby': 'notice-email' },
      h('h2', { id: 'notice-email' }, t('owner.notices.email_title')),
      form([
        h('label', { class: 'choice' }, h('input', { type: 'checkbox', name: 'every', checked: preference.email_every_notice }), t('owner.notices.email_every')),
        h('p', { class: 'hint' }, t('owner.notices.email_hint')),
        h('div', { class: 'actions' }, h('button', { type: 'submit' }, t('owner.notices.email_save'))),
      ], async (data) => {
        const saved = await api('PUT', '/me/notice-preferences', { email_every_notice: data.get('every') === 'on' });
        notify(t(saved.email_every_notice ? 'owner.notices.email_all' : 'owner.notices.email_urgent'));
      })));
  },
});

page('/owner/votes', {
  roles: OWNER, title: 'owner.votes.title', nav: true,
  render: async (main) => {
    const votes = await api('GET', '/me/votes');
    if (!votes.length) return main.append(h('p', {}, t('owner.votes.none')));
    for (const v of votes) {
      const mine = v.my_elector;
      const last = mine && mine.ballots.length ? mine.ballots[mine.ballots.length - 1] : null;
      const card = h('article', { class: 'card', 'aria-labelledby': `vote-${v.id}` },
        h('h2', { id: `vote-${v.id}` }, v.title),
        h('p', { style: 'white-space: pre-wrap' }, v.description),
        h('p', {}, t('owner.votes.closes', { when: when(v.closes_at) })),
        mine && h('p', {}, t('owner.votes.area', { area: mine.area })),
        last && h('p', { class: 'note' }, t('owner.votes.current', { choice: t(`owner.choice.${last.choice}`) })));
      if (v.status === 'open' && mine) {
        card.append(form([
          h('fieldset', {}, h('legend', {}, t('owner.votes.choice')),
            ['agree', 'disagree', 'abstain'].map((c) => h('label', { class: 'choice' }, h('input', { type: 'radio', name: 'choice', value: c, required: true, checked: last ? last.choice === c : false }), t(`owner.choice.${c}`)))),
          h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, t('owner.votes.submit'))),
        ], async (data) => {
          const choice = data.get('choice');
          if (!choice) throw new Error(t('owner.votes.choose'));
          await api('POST', `/votes/${v.id}/ballots`, { choice });
          notify(t('owner.votes.cast', { choice: t(`owner.choice.${choice}`) }));
          go('/owner/votes');
        }));
      } else if (v.status !== 'open') {
        card.append(h('p', {}, t('owner.votes.closed')));
      }
      main.append(card);
    }
  },
});
