// The staff console: the ticket queue (a board and a list) and the technician's own work, the
// cashier desk with its printable receipt, bill runs, fee items, the registry and its CSV import,
// job runs and the email outbox. Each page is offered to the roles the API lets do its work
// (src/auth/permissions.rs); the API still refuses anything else.
import { page, api, idempotencyKey, ApiError, h, field, table, money, day, when, go, notify, showError, clearError, imageUrl, session, t, extend } from './app.js';

extend({
  zh: {
    'staff.any': '全部',
    'staff.compound': '小区',
    'staff.show': '查看',
    'staff.filter': '筛选',
    'staff.no_compounds': '您的账号没有可管理的小区。',
    'staff.next_page': '下一页',
    'staff.previous_page': '上一页',
    'staff.older': '更早的记录',
    'staff.pages': '翻页',
    'staff.page_of': '第 {page} 页，共 {pages} 页',
    'staff.view.board': '看板',
    'staff.view.list': '列表',
    'staff.tickets.title': '报修工单',
    'staff.tickets.filters': '筛选工单',
    'staff.tickets.open': '未办结的',
    'staff.tickets.view': '显示方式',
    'staff.tickets.overdue_only': '只看已超时的',
    'staff.tickets.count': '（{count}）',
    'staff.tickets.list_caption': '工单，最早到期的在前',
    'staff.my_tickets.title': '我的工单',
    'staff.my_tickets.caption': '派给我的工单，最早到期的在前',
    'staff.my_tickets.none': '目前没有派给您的工单。',
    'staff.ticket.title': '工单',
    'staff.ticket.number': '#{id}',
    'staff.ticket.ticket': '工单',
    'staff.ticket.unit': '房屋',
    'staff.ticket.owners': '业主',
    'staff.ticket.status': '状态',
    'staff.ticket.category': '类别',
    'staff.ticket.priority': '优先级',
    'staff.ticket.urgency': '业主所说的紧急程度',
    'staff.ticket.location': '位置',
    'staff.ticket.preferred_visit': '希望上门时间',
    'staff.ticket.filed': '报修时间',
    'staff.ticket.deadline': '当前时限',
    'staff.ticket.response_due': '受理时限',
    'staff.ticket.resolution_due': '修复时限',
    'staff.ticket.overdue': '已超时',
    'staff.ticket.late': '超时',
    'staff.ticket.paused': '暂停中，计时停止',
    'staff.ticket.assignee': '维修师傅',
    'staff.ticket.technician_id': '师傅 #{id}',
    'staff.ticket.technician_named': '{name}（#{id}）',
    'staff.ticket.unassigned': '未派工',
    'staff.ticket.reason': '原因',
    'staff.ticket.rating': '业主评价',
    'staff.ticket.follow_up': '回访',
    'staff.follow_up.note': '回访记录',
    'staff.follow_up.hint': '业主怎么说：修好了没有，满不满意',
    'staff.follow_up.submit': '记下回访',
    'staff.follow_up.done': '工单 #{id} 的回访已记下',
    'staff.ticket.actions': '操作',
    'staff.ticket.workflow': '处理',
    'staff.ticket.moved': '工单 #{id} 已改为：{status}',
    'staff.ticket.photos': '照片',
    'staff.ticket.photo': '报修照片 {n}',
    'staff.ticket.comments': '留言',
    'staff.ticket.history': '处理经过',
    'staff.actor.system': '系统',
    'staff.status.submitted': '待受理',
    'staff.status.accepted': '已受理，待派工',
    'staff.status.assigned': '已派工',
    'staff.status.in_progress': '维修中',
    'staff.status.on_hold': '暂停',
    'staff.status.resolved': '已修好，待业主确认',
    'staff.status.reopened': '业主重新打开',
    'staff.status.closed': '已完成',
    'staff.status.cancelled': '已取消',
    'staff.status.rejected': '已驳回',
    'staff.move.accepted': '受理',
    'staff.move.rejected': '驳回',
    'staff.move.cancelled': '取消工单',
    'staff.move.in_progress': '开始维修',
    'staff.move.resume': '继续维修',
    'staff.move.on_hold': '暂停',
    'staff.move.resolved': '已修好',
    'staff.note.on_hold': '暂停原因（等配件、等业主……）',
    'staff.note.rejected': '驳回原因（业主会看到）',
    'staff.assign.technician': '派给',
    'staff.assign.automatic': '自动：该类别维修组中手头工单最少的师傅',
    'staff.assign.submit': '派工',
    'staff.assign.again': '改派',
    'staff.assign.done': '工单 #{id} 已派给{technician}',
    'staff.comment.body': '留言内容',
    'staff.comment.internal': '内部备注（业主看不到）',
    'staff.comment.internal_badge': '内部',
    'staff.comment.submit': '发送留言',
    'staff.category.gas': '燃气',
    'staff.category.plumbing': '水管下水',
    'staff.category.roof_leak': '屋顶漏水',
    'staff.category.electrical': '电路',
    'staff.category.elevator': '电梯',
    'staff.category.fire_safety': '消防',
    'staff.category.street_lights': '路灯',
    'staff.category.barrier_free': '无障碍设施',
    'staff.category.parking': '停车',
    'staff.category.walls': '墙面',
    'staff.category.doors': '门和门禁',
    'staff.category.other': '其他',
    'staff.priority.p1': 'P1 特急',
    'staff.priority.p2': 'P2 紧急',
    'staff.priority.p3': 'P3 一般',
    'staff.priority.p4': 'P4 不急',
    'staff.phone.title': '代业主报修',
    'staff.phone.intro': '业主打电话来报修：先找到他家，再记下情况。',
    'staff.phone.owner': '来电的业主',
    'staff.phone.category': '类别',
    'staff.phone.location': '在哪里',
    'staff.phone.place': '具体位置',
    'staff.phone.description': '业主说的情况',
    'staff.phone.urgency': '紧急程度',
    'staff.phone.visit': '方便上门的时间',
    'staff.phone.submit': '登记报修',
    'staff.phone.filed': '已登记工单 #{id}',
    'staff.urgency.low': '不急',
    'staff.urgency.normal': '一般',
    'staff.urgency.urgent': '紧急',
    'staff.urgency.emergency': '危险',
    'staff.location.in_unit': '户内',
    'staff.location.common_area': '公共部位',
    'staff.event.filed': '报修',
    'staff.event.status': '状态',
    'staff.event.priority': '优先级',
    'staff.event.assignee': '派工',
    'staff.event.comment': '留言',
    'staff.event.photo': '照片',
    'staff.event.rating': '评价',
    'staff.event.follow_up': '回访',
    'staff.event.cost': '费用',
    'staff.event.escalated': '超时上报',
    'staff.cashier.title': '收银台',
    'staff.find.find': '查找房屋',
    'staff.find.q': '房号或业主姓名、电话',
    'staff.find.q_hint': '例如 101、王建国、13902000000',
    'staff.find.found': '找到 {count} 户',
    'staff.find.units_caption': '找到的房屋',
    'staff.cashier.unit_title': '收款',
    'staff.cashier.balance': '欠费与预存',
    'staff.cashier.owed': '今日应缴（含滞纳金）',
    'staff.cashier.prepaid': '预存余额',
    'staff.cashier.take': '收款',
    'staff.cashier.method': '收款方式',
    'staff.cashier.amount': '金额（元）',
    'staff.cashier.amount_hint': '先还最早的账单（先滞纳金后本金），多出的转入预存。',
    'staff.cashier.submit': '确认收款并开收据',
    'staff.cashier.paid': '已收款 {amount}，收据 {number}',
    'staff.cashier.no_bills': '没有未缴账单。',
    'staff.cashier.bills_caption': '未缴账单，最早到期的在前',
    'staff.cashier.payments_caption': '缴费记录',
    'staff.bill.period': '账期',
    'staff.bill.item': '费用',
    'staff.bill.due': '缴费期限',
    'staff.bill.outstanding': '未缴本金',
    'staff.bill.late_fee': '滞纳金',
    'staff.bill.total': '合计应缴',
    'staff.bill.status': '状态',
    'staff.bill.open': '未缴',
    'staff.bill.overdue': '已逾期',
    'staff.bill.paid': '已缴清',
    'staff.method.cash': '现金',
    'staff.method.bank_transfer': '银行转账',
    'staff.method.pos': '刷卡',
    'staff.method.online': '在线支付',
    'staff.method.prepaid': '预存抵扣',
    'staff.payment.received': '收款时间',
    'staff.payment.amount': '金额',
    'staff.payment.method': '方式',
    'staff.payment.receipt': '收据',
    'staff.payment.status': '状态',
    'staff.payment.posted': '有效',
    'staff.payment.reversed': '已冲正',
    'staff.refund.title': '退还预存款',
    'staff.refund.amount': '退还金额（元）',
    'staff.refund.method': '退款方式',
    'staff.refund.reason': '原因',
    'staff.refund.submit': '确认退款',
    'staff.refund.done': '已退还 {amount}，预存余额 {left}',
    'staff.reversal.title': '冲正这笔收款',
    'staff.reversal.intro': '款项没有到账（如银行转账退回）时才冲正：相关账单重新待缴，收据作废。',
    'staff.reversal.reason': '冲正原因',
    'staff.reversal.submit': '确认冲正并作废收据',
    'staff.reversal.done': '已冲正，收据 {number} 已作废',
    'staff.receipt.title': '收据',
    'staff.receipt.heading': '物业费收据',
    'staff.receipt.number': '收据编号',
    'staff.receipt.date': '收款时间',
    'staff.receipt.allocations': '本次缴纳的账单',
    'staff.receipt.principal': '本金',
    'staff.receipt.to_prepaid': '其中 {amount} 转入预存。',
    'staff.receipt.void': '此收据已作废：{reason}',
    'staff.unit.label': '房屋',
    'staff.unit.owners': '业主',
    'staff.unit.area': '面积',
    'staff.unit.floor': '楼层',
    'staff.unit.use': '用途',
    'staff.unit.state': '备注',
    'staff.unit.developer': '开发商持有',
    'staff.unit.vacant': '空置',
    'staff.use.residential': '住宅',
    'staff.use.commercial': '商业',
    'staff.use.parking': '车位',
    'staff.use.storage': '储藏室',
    'staff.area.registered': '产权面积',
    'staff.area.surveyed': '实测面积',
    'staff.area.contract': '合同面积',
    'staff.bill_runs.title': '出账',
    'staff.bill_runs.caption': '已出的账',
    'staff.bill_run.heading': '{compound} 出账',
    'staff.bill_run.period': '账期（月份）',
    'staff.bill_run.period_hint': '格式 2026-12。先预览：只算户数和金额，不出账。',
    'staff.bill_run.preview': '预览',
    'staff.bill_run.run': '正式出账',
    'staff.bill_run.preview_of': '{period} 预览（尚未出账）',
    'staff.bill_run.done': '{period} 已出账',
    'staff.bill_run.bills': '新账单',
    'staff.bill_run.already': '已有账单',
    'staff.bill_run.total': '金额',
    'staff.bill_run.items': '按收费项目',
    'staff.bill_run.not_charged': '未计费',
    'staff.bill_run.not_charged_count': '{count} 户未计费',
    'staff.bill_run.when': '出账时间',
    'staff.fee_items.title': '收费项目',
    'staff.fee_items.caption': '收费项目',
    'staff.fee_item.name': '名称',
    'staff.fee_item.kind': '计费方式',
    'staff.fee_item.cycle': '周期',
    'staff.fee_item.price': '单价',
    'staff.fee_item.effective': '有效期',
    'staff.fee_item.open_ended': '长期',
    'staff.fee_item.due_days': '缴费期（天）',
    'staff.fee_item.late_fee': '滞纳金',
    'staff.fee_item.late_fee_terms': '每日 {rate}，宽限 {days} 天',
    'staff.fee_item.rate_rate_area': '{rate} 元/m²/月',
    'staff.fee_item.rate_metered': '{rate} 元/度（吨）',
    'staff.fee_item.rate_floor_coefficient': '{rate} 元/m²/月 × 楼层系数',
    'staff.fee_item.new': '新建收费项目',
    'staff.fee_item.rate': '单价',
    'staff.fee_item.rate_hint': '按面积：元/m²/月；抄表：元/读数单位。',
    'staff.fee_item.amount': '金额（元）',
    'staff.fee_item.amount_hint': '固定：每户每周期；公摊：每周期总额（按面积分摊）。',
    'staff.fee_item.effective_from': '起始月份',
    'staff.fee_item.effective_to': '截止月份（可不填）',
    'staff.fee_item.daily_rate': '滞纳金日费率（可不填）',
    'staff.fee_item.daily_rate_hint': '例如 0.0003（每天万分之三）。',
    'staff.fee_item.grace_days': '滞纳金宽限天数',
    'staff.fee_item.create': '创建',
    'staff.fee_item.created': '已创建收费项目：{name}',
    'staff.fee_kind.rate_area': '按面积',
    'staff.fee_kind.fixed': '固定金额',
    'staff.fee_kind.metered': '抄表',
    'staff.fee_kind.shared': '公摊',
    'staff.fee_kind.floor_coefficient': '按楼层系数',
    'staff.cycle.monthly': '每月',
    'staff.cycle.quarterly': '每季度',
    'staff.cycle.yearly': '每年',
    'staff.cycle.one_off': '一次性',
    'staff.registry.title': '房屋档案',
    'staff.registry.find': '查找房屋',
    'staff.registry.address': '地址',
    'staff.registry.buildings': '楼栋',
    'staff.registry.building': '楼栋',
    'staff.registry.units': '房屋数',
    'staff.registry.caption': '房屋',
    'staff.import.title': '导入房屋档案',
    'staff.import.file': 'CSV 文件',
    'staff.import.file_hint': '从表格另存为 CSV（UTF-8 或 GBK）。表头：楼栋、单元、房号、楼层、用途、产权面积、业主姓名、联系电话……',
    'staff.import.skip_bad_rows': '跳过有错的行，先导入其余的',
    'staff.import.submit': '导入',
    'staff.import.done': '已读取 {rows} 行并导入。',
    'staff.import.report': '导入结果',
    'staff.import.rows': '读取行数',
    'staff.import.units_created': '新增房屋',
    'staff.import.units_updated': '更新房屋',
    'staff.import.units_unchanged': '未变的房屋',
    'staff.import.owners_created': '新增业主',
    'staff.import.ownerships_created': '新增产权记录',
    'staff.import.rejected_caption': '有错的行（全部未导入）：改正后重新上传',
    'staff.import.skipped_caption': '跳过的行',
    'staff.import.line': '行号',
    'staff.import.field': '列',
    'staff.import.problem': '问题',
    'staff.jobs.title': '定时任务',
    'staff.jobs.caption': '任务和下次运行时间',
    'staff.jobs.job': '任务',
    'staff.jobs.schedule': '计划（cron）',
    'staff.jobs.next': '下次运行',
    'staff.jobs.off': '已停用',
    'staff.jobs.start': '立即运行',
    'staff.jobs.start_named': '立即运行：{job}',
    'staff.jobs.started': '{job}已开始（{count} 次运行）',
    'staff.jobs.runs': '运行记录',
    'staff.jobs.filters': '筛选运行记录',
    'staff.jobs.runs_caption': '运行记录，最新的在前',
    'staff.jobs.run': '编号',
    'staff.jobs.status': '结果',
    'staff.jobs.trigger': '触发',
    'staff.jobs.scheduled': '计划时间',
    'staff.jobs.finished': '结束时间',
    'staff.jobs.attempts': '尝试次数',
    'staff.jobs.counts': '处理数量',
    'staff.job.bill_run': '每月出账',
    'staff.job.late_fees': '滞纳金计算',
    'staff.job.arrears_reminders': '催缴通知',
    'staff.job.session_cleanup': '清理登录会话',
    'staff.job.ticket_sla': '工单超时上报',
    'staff.job.ticket_auto_close': '工单自动关闭',
    'staff.job.fund_top_ups': '维修资金续交提醒',
    'staff.job.votes': '表决开始和结束',
    'staff.job.notices': '定时发布公告',
    'staff.run.queued': '排队中',
    'staff.run.running': '运行中',
    'staff.run.succeeded': '成功',
    'staff.run.failed': '失败',
    'staff.trigger.schedule': '按计划',
    'staff.trigger.manual': '手动',
    'staff.outbox.title': '邮件发件箱',
    'staff.outbox.filters': '筛选邮件',
    'staff.outbox.caption': '邮件，最新的在前',
    'staff.outbox.message': '邮件',
    'staff.outbox.subject': '主题',
    'staff.outbox.recipient': '收件人',
    'staff.outbox.kind': '原因',
    'staff.outbox.status': '状态',
    'staff.outbox.created': '写入时间',
    'staff.outbox.sent': '发出时间',
    'staff.outbox.attempts': '尝试次数',
    'staff.outbox.error': '最后的错误',
    'staff.outbox.body': '正文',
    'staff.outbox.retry': '重新发送',
    'staff.outbox.retried': '已重新排队发送。',
    'staff.mail.pending': '待发送',
    'staff.mail.sending': '发送中',
    'staff.mail.sent': '已发出',
    'staff.mail.failed': '发送失败',
  },
  en: {
    'staff.any': 'All',
    'staff.compound': 'Compound',
    'staff.show': 'Show',
    'staff.filter': 'Filter',
    'staff.no_compounds': 'Your login reaches no compound.',
    'staff.next_page': 'Next page',
    'staff.previous_page': 'Previous page',
    'staff.older': 'Older entries',
    'staff.pages': 'Pages',
    'staff.page_of': 'Page {page} of {pages}',
    'staff.view.board': 'Board',
    'staff.view.list': 'List',
    'staff.tickets.title': 'Repair tickets',
    'staff.tickets.filters': 'Filter tickets',
    'staff.tickets.open': 'Still open',
    'staff.tickets.view': 'Show as',
    'staff.tickets.overdue_only': 'Only those past their deadline',
    'staff.tickets.count': '({count})',
    'staff.tickets.list_caption': 'Tickets, soonest deadline first',
    'staff.my_tickets.title': 'My tickets',
    'staff.my_tickets.caption': 'Tickets assigned to me, soonest deadline first',
    'staff.my_tickets.none': 'No ticket is assigned to you now.',
    'staff.ticket.title': 'Ticket',
    'staff.ticket.number': '#{id}',
    'staff.ticket.ticket': 'Ticket',
    'staff.ticket.unit': 'Unit',
    'staff.ticket.owners': 'Owners',
    'staff.ticket.status': 'Status',
    'staff.ticket.category': 'Category',
    'staff.ticket.priority': 'Priority',
    'staff.ticket.urgency': 'Urgency (as the owner said)',
    'staff.ticket.location': 'Where',
    'staff.ticket.preferred_visit': 'Preferred visit',
    'staff.ticket.filed': 'Filed',
    'staff.ticket.deadline': 'Deadline now',
    'staff.ticket.response_due': 'Response due',
    'staff.ticket.resolution_due': 'Resolution due',
    'staff.ticket.overdue': 'Overdue',
    'staff.ticket.late': 'Late',
    'staff.ticket.paused': 'On hold, clock stopped',
    'staff.ticket.assignee': 'Technician',
    'staff.ticket.technician_id': 'technician #{id}',
    'staff.ticket.technician_named': '{name} (#{id})',
    'staff.ticket.unassigned': 'Not assigned',
    'staff.ticket.reason': 'Reason',
    'staff.ticket.rating': 'Owner\'s rating',
    'staff.ticket.follow_up': 'Follow-up call',
    'staff.follow_up.note': 'What the owner said on the follow-up call',
    'staff.follow_up.hint': 'Is it fixed? Are they satisfied?',
    'staff.follow_up.submit': 'Record the follow-up call',
    'staff.follow_up.done': 'Follow-up call of ticket #{id} recorded',
    'staff.ticket.actions': 'Actions',
    'staff.ticket.workflow': 'Next steps',
    'staff.ticket.moved': 'Ticket #{id} is now: {status}',
    'staff.ticket.photos': 'Photos',
    'staff.ticket.photo': 'Photo {n} of the repair',
    'staff.ticket.comments': 'Messages',
    'staff.ticket.history': 'History',
    'staff.actor.system': 'the system',
    'staff.status.submitted': 'Submitted',
    'staff.status.accepted': 'Accepted, to assign',
    'staff.status.assigned': 'Assigned',
    'staff.status.in_progress': 'In progress',
    'staff.status.on_hold': 'On hold',
    'staff.status.resolved': 'Resolved, owner to confirm',
    'staff.status.reopened': 'Reopened by the owner',
    'staff.status.closed': 'Closed',
    'staff.status.cancelled': 'Cancelled',
    'staff.status.rejected': 'Rejected',
    'staff.move.accepted': 'Accept',
    'staff.move.rejected': 'Reject',
    'staff.move.cancelled': 'Cancel the ticket',
    'staff.move.in_progress': 'Start work',
    'staff.move.resume': 'Resume work',
    'staff.move.on_hold': 'Put on hold',
    'staff.move.resolved': 'Resolved',
    'staff.note.on_hold': 'Why on hold (parts, the owner…)',
    'staff.note.rejected': 'Why rejected (the owner sees it)',
    'staff.assign.technician': 'Assign to',
    'staff.assign.automatic': 'Automatic: the least-busy member of the category\'s group',
    'staff.assign.submit': 'Assign',
    'staff.assign.again': 'Reassign',
    'staff.assign.done': 'Ticket #{id} is assigned to {technician}',
    'staff.comment.body': 'Message',
    'staff.comment.internal': 'Internal note (the owner does not see it)',
    'staff.comment.internal_badge': 'Internal',
    'staff.comment.submit': 'Send message',
    'staff.category.gas': 'Gas',
    'staff.category.plumbing': 'Plumbing and drains',
    'staff.category.roof_leak': 'Roof leak',
    'staff.category.electrical': 'Electrical',
    'staff.category.elevator': 'Elevator',
    'staff.category.fire_safety': 'Fire safety',
    'staff.category.street_lights': 'Street lights',
    'staff.category.barrier_free': 'Barrier-free access',
    'staff.category.parking': 'Parking',
    'staff.category.walls': 'Walls',
    'staff.category.doors': 'Doors and access control',
    'staff.category.other': 'Other',
    'staff.priority.p1': 'P1 critical',
    'staff.priority.p2': 'P2 urgent',
    'staff.priority.p3': 'P3 normal',
    'staff.priority.p4': 'P4 can wait',
    'staff.phone.title': 'File a repair for an owner who phoned',
    'staff.phone.intro': 'An owner phones in a repair: find their flat first, then note what they say.',
    'staff.phone.owner': 'The owner who called',
    'staff.phone.category': 'Category',
    'staff.phone.location': 'Where',
    'staff.phone.place': 'Exact place',
    'staff.phone.description': 'What the owner says',
    'staff.phone.urgency': 'Urgency',
    'staff.phone.visit': 'When a visit suits them',
    'staff.phone.submit': 'File the repair',
    'staff.phone.filed': 'Ticket #{id} filed',
    'staff.urgency.low': 'Can wait',
    'staff.urgency.normal': 'Normal',
    'staff.urgency.urgent': 'Urgent',
    'staff.urgency.emergency': 'Danger',
    'staff.location.in_unit': 'In the flat',
    'staff.location.common_area': 'Common parts',
    'staff.event.filed': 'Filed',
    'staff.event.status': 'Status',
    'staff.event.priority': 'Priority',
    'staff.event.assignee': 'Assigned',
    'staff.event.comment': 'Message',
    'staff.event.photo': 'Photo',
    'staff.event.rating': 'Rating',
    'staff.event.follow_up': 'Follow-up call',
    'staff.event.cost': 'Cost',
    'staff.event.escalated': 'Escalated as late',
    'staff.cashier.title': 'Cashier desk',
    'staff.find.find': 'Find a unit',
    'staff.find.q': 'Unit number, or owner\'s name or phone',
    'staff.find.q_hint': 'For example 101, 王建国, 13902000000',
    'staff.find.found': '{count} units found',
    'staff.find.units_caption': 'Units found',
    'staff.cashier.unit_title': 'Payment',
    'staff.cashier.balance': 'Owed and prepaid',
    'staff.cashier.owed': 'Owed today (with late fees)',
    'staff.cashier.prepaid': 'Prepaid balance',
    'staff.cashier.take': 'Take a payment',
    'staff.cashier.method': 'Method',
    'staff.cashier.amount': 'Amount (yuan)',
    'staff.cashier.amount_hint': 'Pays the oldest bills first (late fee before principal); the rest becomes prepaid.',
    'staff.cashier.submit': 'Take the payment and issue the receipt',
    'staff.cashier.paid': 'Received {amount}, receipt {number}',
    'staff.cashier.no_bills': 'No open bills.',
    'staff.cashier.bills_caption': 'Open bills, oldest due first',
    'staff.cashier.payments_caption': 'Payments',
    'staff.bill.period': 'Period',
    'staff.bill.item': 'Fee',
    'staff.bill.due': 'Due',
    'staff.bill.outstanding': 'Principal owed',
    'staff.bill.late_fee': 'Late fee',
    'staff.bill.total': 'Total due',
    'staff.bill.status': 'Status',
    'staff.bill.open': 'Open',
    'staff.bill.overdue': 'Overdue',
    'staff.bill.paid': 'Paid',
    'staff.method.cash': 'Cash',
    'staff.method.bank_transfer': 'Bank transfer',
    'staff.method.pos': 'Card (POS)',
    'staff.method.online': 'Online',
    'staff.method.prepaid': 'From prepaid',
    'staff.payment.received': 'Received',
    'staff.payment.amount': 'Amount',
    'staff.payment.method': 'Method',
    'staff.payment.receipt': 'Receipt',
    'staff.payment.status': 'Status',
    'staff.payment.posted': 'Valid',
    'staff.payment.reversed': 'Reversed',
    'staff.refund.title': 'Pay back prepaid money',
    'staff.refund.amount': 'Amount to pay back (元)',
    'staff.refund.method': 'Paid back by',
    'staff.refund.reason': 'Reason',
    'staff.refund.submit': 'Pay it back',
    'staff.refund.done': '{amount} paid back; {left} still prepaid',
    'staff.reversal.title': 'Reverse this payment',
    'staff.reversal.intro': 'Only when the money did not arrive (a bounced transfer): its bills are owed again and the receipt is voided.',
    'staff.reversal.reason': 'Why it is reversed',
    'staff.reversal.submit': 'Reverse it and void the receipt',
    'staff.reversal.done': 'Reversed; receipt {number} is void',
    'staff.receipt.title': 'Receipt',
    'staff.receipt.heading': 'property fee receipt',
    'staff.receipt.number': 'Receipt number',
    'staff.receipt.date': 'Received',
    'staff.receipt.allocations': 'Bills paid',
    'staff.receipt.principal': 'Principal',
    'staff.receipt.to_prepaid': '{amount} of it went to the prepaid balance.',
    'staff.receipt.void': 'This receipt is void: {reason}',
    'staff.unit.label': 'Unit',
    'staff.unit.owners': 'Owners',
    'staff.unit.area': 'Area',
    'staff.unit.floor': 'Floor',
    'staff.unit.use': 'Use',
    'staff.unit.state': 'Notes',
    'staff.unit.developer': 'Developer-held',
    'staff.unit.vacant': 'Vacant',
    'staff.use.residential': 'Residential',
    'staff.use.commercial': 'Commercial',
    'staff.use.parking': 'Parking space',
    'staff.use.storage': 'Storage room',
    'staff.area.registered': 'registered',
    'staff.area.surveyed': 'surveyed',
    'staff.area.contract': 'contract',
    'staff.bill_runs.title': 'Bill runs',
    'staff.bill_runs.caption': 'Bill runs so far',
    'staff.bill_run.heading': 'Bill {compound}',
    'staff.bill_run.period': 'Period (month)',
    'staff.bill_run.period_hint': 'As 2026-12. Preview first: it counts units and totals and bills nothing.',
    'staff.bill_run.preview': 'Preview',
    'staff.bill_run.run': 'Bill for real',
    'staff.bill_run.preview_of': 'Preview of {period} (nothing billed yet)',
    'staff.bill_run.done': '{period} is billed',
    'staff.bill_run.bills': 'New bills',
    'staff.bill_run.already': 'Already billed',
    'staff.bill_run.total': 'Total',
    'staff.bill_run.items': 'By fee item',
    'staff.bill_run.not_charged': 'Not charged',
    'staff.bill_run.not_charged_count': '{count} units not charged',
    'staff.bill_run.when': 'Run at',
    'staff.fee_items.title': 'Fee items',
    'staff.fee_items.caption': 'Fee items',
    'staff.fee_item.name': 'Name',
    'staff.fee_item.kind': 'Charged',
    'staff.fee_item.cycle': 'Cycle',
    'staff.fee_item.price': 'Price',
    'staff.fee_item.effective': 'In force',
    'staff.fee_item.open_ended': 'open-ended',
    'staff.fee_item.due_days': 'Days to pay',
    'staff.fee_item.late_fee': 'Late fee',
    'staff.fee_item.late_fee_terms': '{rate} a day, {days} days\' grace',
    'staff.fee_item.rate_rate_area': '{rate} yuan/m²/month',
    'staff.fee_item.rate_metered': '{rate} yuan per unit read',
    'staff.fee_item.rate_floor_coefficient': '{rate} yuan/m²/month × floor coefficient',
    'staff.fee_item.new': 'New fee item',
    'staff.fee_item.rate': 'Rate',
    'staff.fee_item.rate_hint': 'By area: yuan per m² a month; metered: yuan per unit read.',
    'staff.fee_item.amount': 'Amount (yuan)',
    'staff.fee_item.amount_hint': 'Fixed: per unit and cycle; shared: the total per cycle (split by area).',
    'staff.fee_item.effective_from': 'From month',
    'staff.fee_item.effective_to': 'To month (optional)',
    'staff.fee_item.daily_rate': 'Late fee daily rate (optional)',
    'staff.fee_item.daily_rate_hint': 'For example 0.0003 (0.03% a day).',
    'staff.fee_item.grace_days': 'Late fee grace days',
    'staff.fee_item.create': 'Create',
    'staff.fee_item.created': 'Fee item created: {name}',
    'staff.fee_kind.rate_area': 'By area',
    'staff.fee_kind.fixed': 'Fixed amount',
    'staff.fee_kind.metered': 'Metered',
    'staff.fee_kind.shared': 'Shared',
    'staff.fee_kind.floor_coefficient': 'By floor coefficient',
    'staff.cycle.monthly': 'Monthly',
    'staff.cycle.quarterly': 'Quarterly',
    'staff.cycle.yearly': 'Yearly',
    'staff.cycle.one_off': 'One-off',
    'staff.registry.title': 'Registry',
    'staff.registry.find': 'Find units',
    'staff.registry.address': 'Address',
    'staff.registry.buildings': 'Buildings',
    'staff.registry.building': 'Building',
    'staff.registry.units': 'Units',
    'staff.registry.caption': 'Units',
    'staff.import.title': 'Import the registry',
    'staff.import.file': 'CSV file',
    'staff.import.file_hint': 'Saved from the spreadsheet as CSV (UTF-8 or GBK). Headers: building, stairwell, number, floor, use, registered_area, owner_name, owner_phone…',
    'staff.import.skip_bad_rows': 'Skip bad rows and import the rest',
    'staff.import.submit': 'Import',
    'staff.import.done': '{rows} rows read and imported.',
    'staff.import.report': 'Import report',
    'staff.import.rows': 'Rows read',
    'staff.import.units_created': 'Units created',
    'staff.import.units_updated': 'Units updated',
    'staff.import.units_unchanged': 'Units unchanged',
    'staff.import.owners_created': 'Owners created',
    'staff.import.ownerships_created': 'Ownerships created',
    'staff.import.rejected_caption': 'Bad rows (nothing was imported): fix them and upload again',
    'staff.import.skipped_caption': 'Rows skipped',
    'staff.import.line': 'Line',
    'staff.import.field': 'Column',
    'staff.import.problem': 'Problem',
    'staff.jobs.title': 'Scheduled jobs',
    'staff.jobs.caption': 'Jobs and their next run',
    'staff.jobs.job': 'Job',
    'staff.jobs.schedule': 'Schedule (cron)',
    'staff.jobs.next': 'Next run',
    'staff.jobs.off': 'Off',
    'staff.jobs.start': 'Run now',
    'staff.jobs.start_named': 'Run now: {job}',
    'staff.jobs.started': '{job} started ({count} runs)',
    'staff.jobs.runs': 'Runs',
    'staff.jobs.filters': 'Filter runs',
    'staff.jobs.runs_caption': 'Runs, newest first',
    'staff.jobs.run': 'Run',
    'staff.jobs.status': 'Outcome',
    'staff.jobs.trigger': 'Trigger',
    'staff.jobs.scheduled': 'Scheduled for',
    'staff.jobs.finished': 'Finished',
    'staff.jobs.attempts': 'Attempts',
    'staff.jobs.counts': 'Counts',
    'staff.job.bill_run': 'Monthly bill run',
    'staff.job.late_fees': 'Late fees',
    'staff.job.arrears_reminders': 'Arrears reminders',
    'staff.job.session_cleanup': 'Session clean-up',
    'staff.job.ticket_sla': 'Ticket deadlines',
    'staff.job.ticket_auto_close': 'Closing resolved tickets',
    'staff.job.fund_top_ups': 'Fund top-up reminders',
    'staff.job.votes': 'Opening and closing votes',
    'staff.job.notices': 'Scheduled notices',
    'staff.run.queued': 'Queued',
    'staff.run.running': 'Running',
    'staff.run.succeeded': 'Succeeded',
    'staff.run.failed': 'Failed',
    'staff.trigger.schedule': 'Schedule',
    'staff.trigger.manual': 'By hand',
    'staff.outbox.title': 'Email outbox',
    'staff.outbox.filters': 'Filter email',
    'staff.outbox.caption': 'Email, newest first',
    'staff.outbox.message': 'Email',
    'staff.outbox.subject': 'Subject',
    'staff.outbox.recipient': 'To',
    'staff.outbox.kind': 'Cause',
    'staff.outbox.status': 'Status',
    'staff.outbox.created': 'Written',
    'staff.outbox.sent': 'Sent',
    'staff.outbox.attempts': 'Attempts',
    'staff.outbox.error': 'Last error',
    'staff.outbox.body': 'Body',
    'staff.outbox.retry': 'Send again',
    'staff.outbox.retried': 'Queued to be sent again.',
    'staff.mail.pending': 'Pending',
    'staff.mail.sending': 'Sending',
    'staff.mail.sent': 'Sent',
    'staff.mail.failed': 'Failed',
  },
});

const DESK = ['platform_admin', 'company_admin', 'manager', 'dispatcher'];
const MANAGERS = ['platform_admin', 'company_admin', 'manager'];
const CASHIERS = [...MANAGERS, 'cashier'];
const STAFF = [...DESK, 'cashier', 'technician'];

// ---------------------------------------------------------------- helpers

/** A submit handler that shows the API's refusal in the alert region and keeps the form's
 *  buttons disabled while the request runs (a second click takes no second payment). */
function onSubmit(form, action) {
  // The API checks every field and names the one at fault; the browser's own bubbles would not.
  form.noValidate = true;
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearError();
    const buttons = [...form.querySelectorAll('button')];
    buttons.forEach((b) => { b.disabled = true; });
    try {
      await action(new FormData(form), event.submitter);
    } catch (error) {
      showError(error);
    } finally {
      buttons.forEach((b) => { b.disabled = false; });
    }
  });
  return form;
}

/** The form's filled fields as a query string, for the filters a page reads back from its URL. */
function queryOf(data) {
  const params = new URLSearchParams();
  for (const [name, value] of data) if (value !== '') params.set(name, value);
  return params.toString();
}

/** `<option>`s of enum values labelled by `prefix.value`, with an empty "any" first if asked. */
function options(prefix, values, selected, anyKey = null) {
  return [
    anyKey && h('option', { value: '' }, t(anyKey)),
    values.map((v) => h('option', { value: v, selected: v === selected }, t(`${prefix}.${v}`))),
  ];
}

/** The compounds the caller reaches, and the one the page is about (`?compound=`, else the first). */
async function compoundChoice(query) {
  const compounds = await api('GET', '/compounds');
  const wanted = Number(query.get('compound'));
  return { compounds, compound: compounds.find((c) => c.id === wanted) || compounds[0] };
}

function compoundSelect(compounds, compound, withAny = false) {
  return field('staff.compound', 'select', { name: 'compound' }, [
    withAny && h('option', { value: '' }, t('staff.any')),
    compounds.map((c) => h('option', { value: c.id, selected: compound && c.id === compound.id }, c.name)),
  ]);
}

/** The compound a page shows, chosen with a button (a select that navigates by itself would
 *  move a keyboard user away while they browse its options). */
function compoundPicker(path, compounds, compound) {
  const form = h('form', { class: 'card narrow', role: 'search', 'aria-label': t('staff.compound') },
    compoundSelect(compounds, compound),
    h('button', { type: 'submit' }, t('staff.show')));
  return onSubmit(form, (data) => go(`${path}?${queryOf(data)}`));
}

/** The units of tickets by id (a ticket names its unit by id only). */
async function unitsById(ids) {
  const unique = [...new Set(ids)];
  const units = await Promise.all(unique.map((id) => api('GET', `/units/${id}`)));
  return new Map(units.map((u) => [u.id, u]));
}

function owners(unit) {
  return unit.owners.map((o) => o.owner.name).join('、') || (unit.developer_held ? t('staff.unit.developer') : t('common.none'));
}

/** Appends parts to the page, leaving out those a condition left out (false or null), as `h` does. */
function show(main, ...parts) {
  main.append(...parts.filter((part) => part !== null && part !== undefined && part !== false));
}

/** Who did something: a role, or the system (a scheduled job). */
function actor(role) {
  return role === 'system' ? t('staff.actor.system') : t(`role.${role}`);
}

function badge(kind, key) {
  return h('span', { class: `badge ${kind}` }, t(key));
}

// ---------------------------------------------------------------- tickets

const OPEN = ['submitted', 'accepted', 'assigned', 'in_progress', 'on_hold', 'reopened'];
const STATUSES = [...OPEN, 'resolved', 'closed', 'cancelled', 'rejected'];
const URGENCIES = ['low', 'normal', 'urgent', 'emergency'];
const CATEGORIES = ['gas', 'plumbing', 'roof_leak', 'electrical', 'elevator', 'fire_safety', 'street_lights', 'barrier_free', 'parking', 'walls', 'doors', 'other'];
const PRIORITIES = ['p1', 'p2', 'p3', 'p4'];

// Where the desk and the technician may move a ticket from each status: the buttons offered,
// as `tickets::rules::allowed` has them (the server decides; a stale page gets its 409). Assigning
// has its own form.
const MOVES = {
  desk: {
    submitted: ['accepted', 'rejected', 'cancelled'],
    accepted: ['rejected', 'cancelled'],
    assigned: ['in_progress', 'on_hold'],
    reopened: ['in_progress', 'on_hold'],
    in_progress: ['on_hold', 'resolved'],
    on_hold: ['in_progress'],
  },
  technician: {
    assigned: ['in_progress', 'on_hold'],
    reopened: ['in_progress', 'on_hold'],
    in_progress: ['on_hold', 'resolved'],
    on_hold: ['in_progress'],
  },
};
const ASSIGNABLE = ['accepted', 'assigned', 'reopened', 'in_progress'];
const NEEDS_NOTE = ['on_hold', 'rejected'];

function side() {
  return session().me.role === 'technician' ? 'technician' : 'desk';
}

/** The button's words for a move: starting again after a hold is "resume". */
function moveKey(from, to) {
  return from === 'on_hold' && to === 'in_progress' ? 'staff.move.resume' : `staff.move.${to}`;
}

/** The deadline that counts now, with "overdue" said in words. */
function deadline(ticket) {
  if (ticket.status === 'on_hold') return h('span', {}, when(ticket.due_at), ' ', badge('open', 'staff.ticket.paused'));
  return h('span', {}, when(ticket.due_at), ticket.overdue && [' ', badge('overdue', 'staff.ticket.overdue')]);
}

/** A technician by name where `names` (id -> name) knows them, else by number. */
function technician(id, names = new Map()) {
  return names.has(id) ? t('staff.ticket.technician_named', { name: names.get(id), id }) : t('staff.ticket.technician_id', { id });
}

/** Who has the ticket. */
function assignee(ticket, names) {
  return ticket.assignee_id ? technician(ticket.assignee_id, names) : t('staff.ticket.unassigned');
}

function ticketLink(ticket) {
  return h('a', { href: `#/staff/tickets/${ticket.id}` }, t('staff.ticket.number', { id: ticket.id }), ' ', t(`staff.category.${ticket.category}`));
}

/** Moves a ticket and announces its new status. */
async function move(ticket, to, extra = {}) {
  await api('POST', `/tickets/${ticket.id}/transitions`, { to, version: ticket.version, ...extra });
  notify(t('staff.ticket.moved', { id: ticket.id, status: t(`staff.status.${to}`) }));
}

function ticketFilters(query, compounds) {
  const view = query.get('view') === 'list' ? 'list' : 'board';
  const compound = compounds.find((c) => String(c.id) === query.get('compound'));
  const form = h('form', { class: 'card', role: 'search', 'aria-label': t('staff.tickets.filters') },
    h('div', { class: 'cards' },
      compoundSelect(compounds, compound, true),
      field('staff.ticket.status', 'select', { name: 'status' }, options('staff.status', STATUSES, query.get('status'), 'staff.tickets.open')),
      field('staff.ticket.category', 'select', { name: 'category' }, options('staff.category', CATEGORIES, query.get('category'), 'staff.any')),
      field('staff.ticket.priority', 'select', { name: 'priority' }, options('staff.priority', PRIORITIES, query.get('priority'), 'staff.any')),
      field('staff.tickets.view', 'select', { name: 'view' }, options('staff.view', ['board', 'list'], view))),
    h('div', { class: 'choice' },
      h('input', { type: 'checkbox', id: 'filter-overdue', name: 'overdue', value: 'true', checked: query.get('overdue') === 'true' }),
      h('label', { for: 'filter-overdue' }, t('staff.tickets.overdue_only'))),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, t('staff.filter'))));
  return onSubmit(form, (data) => go(`/staff/tickets?${queryOf(data)}`));
}

async function ticketQueue(query) {
  const params = new URLSearchParams({ limit: '200' });
  if (query.get('compound')) params.set('compound_id', query.get('compound'));
  for (const name of ['status', 'category', 'priority', 'overdue', 'after']) if (query.get(name)) params.set(name, query.get(name));
  const found = await api('GET', `/tickets?${params}`);
  const units = await unitsById(found.items.map((ticket) => ticket.unit_id));
  return { ...found, units, names: new Map(found.assignees.map((technician) => [technician.id, technician.name])) };
}

function nextPage(path, query, next) {
  if (!next) return null;
  const params = new URLSearchParams(query);
  params.set('after', next);
  return h('p', {}, h('a', { href: `#${path}?${params}` }, t('staff.next_page')));
}

page('/staff/tickets', {
  roles: DESK, title: 'staff.tickets.title', nav: true, home: true,
  async render(main, params, query) {
    const [compounds, found] = await Promise.all([api('GET', '/compounds'), ticketQueue(query)]);
    show(main, h('p', {}, h('a', { href: '#/staff/tickets/new' }, t('staff.phone.title'))), ticketFilters(query, compounds));
    if (query.get('view') === 'list') {
      show(main, table('staff.tickets.list_caption',
        ['staff.ticket.ticket', 'staff.ticket.unit', 'staff.ticket.priority', 'staff.ticket.status', 'staff.ticket.deadline', 'staff.ticket.assignee'],
        found.items.map((ticket) => [ticketLink(ticket), found.units.get(ticket.unit_id).label,
          t(`staff.priority.${ticket.priority}`), t(`staff.status.${ticket.status}`), deadline(ticket), assignee(ticket, found.names)])));
    } else {
      // One column per status asked for: the open ones unless a status is chosen.
      const columns = query.get('status') ? [query.get('status')] : OPEN;
      show(main, h('div', { class: 'cards' }, columns.map((status) => {
        const tickets = found.items.filter((ticket) => ticket.status === status);
        return h('section', { class: 'column', 'aria-labelledby': `column-${status}` },
          h('h2', { id: `column-${status}` }, t(`staff.status.${status}`), ' ', t('staff.tickets.count', { count: found.counts[status] || 0 })),
          tickets.length === 0 && h('p', {}, t('common.none')),
          tickets.map((ticket) => h('article', { class: 'card' },
            h('h3', {}, ticketLink(ticket)),
            h('dl', { class: 'facts' },
              h('dt', {}, t('staff.ticket.unit')), h('dd', {}, found.units.get(ticket.unit_id).label),
              h('dt', {}, t('staff.ticket.priority')), h('dd', {}, t(`staff.priority.${ticket.priority}`)),
              h('dt', {}, t('staff.ticket.deadline')), h('dd', {}, deadline(ticket)),
              h('dt', {}, t('staff.ticket.assignee')), h('dd', {}, assignee(ticket, found.names))))));
      })));
    }
    show(main, nextPage('/staff/tickets', query, found.next));
  },
});

// Many owners are elderly and phone the desk rather than use the portal: the desk files the
// repair for them, naming which owner of the flat called.
page('/staff/tickets/new', {
  roles: DESK, title: 'staff.phone.title',
  async render(main, params, query) {
    const unitId = Number(query.get('unit'));
    if (!unitId) {
      show(main, h('p', {}, t('staff.phone.intro')));
      return flatSearch(main, '/staff/tickets/new', query, (unit) => `/staff/tickets/new?unit=${unit.id}`);
    }
    const unit = await api('GET', `/units/${unitId}`);
    main.querySelector('h1').append(' · ', unit.label);
    const form = h('form', { class: 'card narrow' },
      unit.owners.length > 0 && field('staff.phone.owner', 'select', { name: 'owner_id' },
        unit.owners.map((o) => h('option', { value: o.owner.id }, o.owner.name))),
      field('staff.phone.category', 'select', { name: 'category' }, options('staff.category', CATEGORIES, 'plumbing')),
      h('fieldset', {}, h('legend', {}, t('staff.phone.location')),
        ['in_unit', 'common_area'].map((l, i) => h('label', { class: 'choice' }, h('input', { type: 'radio', name: 'location', value: l, checked: i === 0 }), t(`staff.location.${l}`)))),
      field('staff.phone.place', 'input', { name: 'place', type: 'text', maxlength: 200 }),
      field('staff.phone.description', 'textarea', { name: 'description', required: true, maxlength: 2000 }),
      field('staff.phone.urgency', 'select', { name: 'urgency' }, options('staff.urgency', URGENCIES, 'normal')),
      field('staff.phone.visit', 'input', { name: 'preferred_visit', type: 'text', maxlength: 100 }),
      h('button', { type: 'submit', class: 'primary' }, t('staff.phone.submit')));
    show(main, onSubmit(form, async (data) => {
      const ticket = await api('POST', '/tickets', {
        unit_id: unit.id,
        owner_id: data.get('owner_id') ? Number(data.get('owner_id')) : null,
        category: data.get('category'),
        location: data.get('location'),
        place: data.get('place').trim() || null,
        description: data.get('description').trim(),
        urgency: data.get('urgency'),
        preferred_visit: data.get('preferred_visit').trim() || null,
      });
      notify(t('staff.phone.filed', { id: ticket.id }));
      go(`/staff/tickets/${ticket.id}`);
    }));
  },
});

page('/staff/my-tickets', {
  roles: ['technician'], title: 'staff.my_tickets.title', nav: true, home: true,
  async render(main, params, query) {
    const found = await ticketQueue(query);
    const filter = h('form', { class: 'card', role: 'search', 'aria-label': t('staff.tickets.filters') },
      field('staff.ticket.status', 'select', { name: 'status' }, options('staff.status', STATUSES, query.get('status'), 'staff.tickets.open')),
      h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, t('staff.filter'))));
    onSubmit(filter, (data) => go(`/staff/my-tickets?${queryOf(data)}`));
    // Starting and resolving are one click from the list; a hold needs its note, on the ticket's page.
    const quick = (ticket) => (MOVES.technician[ticket.status] || []).filter((to) => !NEEDS_NOTE.includes(to)).map((to) =>
      onSubmit(h('form', {}, h('button', { type: 'submit', class: 'primary', 'aria-label': `${t(moveKey(ticket.status, to))} ${t('staff.ticket.number', { id: ticket.id })}` }, t(moveKey(ticket.status, to)))),
        async () => { await move(ticket, to); go(`/staff/my-tickets?${query}`); }));
    show(main, filter,
      found.items.length === 0 ? h('p', {}, t('staff.my_tickets.none')) : table('staff.my_tickets.caption',
        ['staff.ticket.ticket', 'staff.ticket.unit', 'staff.ticket.priority', 'staff.ticket.status', 'staff.ticket.deadline', 'staff.ticket.actions'],
        found.items.map((ticket) => [ticketLink(ticket), found.units.get(ticket.unit_id).label, t(`staff.priority.${ticket.priority}`),
          t(`staff.status.${ticket.status}`), deadline(ticket), quick(ticket)])),
      nextPage('/staff/my-tickets', query, found.next));
  },
});

page('/staff/tickets/:id', {
  roles: [...DESK, 'technician'], title: 'staff.ticket.title',
  async render(main, { id }) {
    const detail = await api('GET', `/tickets/${id}`);
    const ticket = detail.ticket;
    const unit = await api('GET', `/units/${ticket.unit_id}`);
    const here = `/staff/tickets/${ticket.id}`;
    const late = (flag) => flag && [' ', badge('overdue', 'staff.ticket.late')];
    main.querySelector('h1').append(' ', t('staff.ticket.number', { id: ticket.id }));
    show(main,
      h('section', { class: 'card', 'aria-labelledby': 'ticket-facts' },
        h('h2', { id: 'ticket-facts' }, t(`staff.category.${ticket.category}`), ' · ', h('span', { id: 'ticket-status' }, t(`staff.status.${ticket.status}`))),
        h('p', {}, ticket.description),
        h('dl', { class: 'facts' },
          h('dt', {}, t('staff.ticket.unit')), h('dd', {}, unit.label),
          h('dt', {}, t('staff.ticket.owners')), h('dd', {}, owners(unit)),
          h('dt', {}, t('staff.ticket.location')), h('dd', {}, t(`staff.location.${ticket.location}`), ticket.place && ` · ${ticket.place}`),
          h('dt', {}, t('staff.ticket.priority')), h('dd', {}, t(`staff.priority.${ticket.priority}`)),
          h('dt', {}, t('staff.ticket.urgency')), h('dd', {}, t(`staff.urgency.${ticket.urgency}`)),
          ticket.preferred_visit && [h('dt', {}, t('staff.ticket.preferred_visit')), h('dd', {}, ticket.preferred_visit)],
          h('dt', {}, t('staff.ticket.filed')), h('dd', {}, when(ticket.created_at)),
          h('dt', {}, t('staff.ticket.response_due')), h('dd', {}, when(ticket.response_due_at), late(ticket.response_late)),
          h('dt', {}, t('staff.ticket.resolution_due')), h('dd', {}, when(ticket.resolution_due_at), late(ticket.resolution_late)),
          h('dt', {}, t('staff.ticket.deadline')), h('dd', {}, deadline(ticket)),
          h('dt', {}, t('staff.ticket.assignee')), h('dd', { id: 'ticket-assignee' }, assigneeNamed(ticket, detail.history)),
          ticket.reason && [h('dt', {}, t('staff.ticket.reason')), h('dd', {}, ticket.reason)],
          ticket.rating && [h('dt', {}, t('staff.ticket.rating')), h('dd', {}, `${ticket.rating}/5 ${ticket.rating_comment || ''}`)],
          ticket.follow_up && [h('dt', {}, t('staff.ticket.follow_up')), h('dd', { id: 'ticket-follow-up' }, ticket.follow_up)])),
      await workflow(ticket, here),
      photos(detail.photos),
      conversation(detail, here),
      h('section', { 'aria-labelledby': 'ticket-history' },
        h('h2', { id: 'ticket-history' }, t('staff.ticket.history')),
        h('ol', { class: 'history' }, detail.history.map((event) => h('li', {},
          when(event.at), ' · ', actor(event.actor_role), ' · ', t(`staff.event.${event.kind}`), change(event))))));
  },
});

/** What a history entry changed, in words: statuses and priorities by their names; an
 *  assignment names the technician (its note). */
function change(event) {
  if (event.kind === 'assignee') return ` → ${event.note}`;
  const word = { filed: 'staff.status', status: 'staff.status', priority: 'staff.priority' }[event.kind];
  const moved = word && event.to ? ` ${event.from ? `${t(`${word}.${event.from}`)} → ` : ''}${t(`${word}.${event.to}`)}` : '';
  return `${moved}${event.note ? ` · ${event.note}` : ''}`;
}

/** The technician's name, which the ticket's latest assignment in its history carries. */
function assigneeNamed(ticket, history) {
  const last = history.filter((event) => event.kind === 'assignee').pop();
  return assignee(ticket, last && new Map([[Number(last.to), last.note]]));
}

/** The moves this caller may make on the ticket, each a small form. */
async function workflow(ticket, here) {
  const moves = MOVES[side()][ticket.status] || [];
  const forms = moves.map((to) => {
    const controls = [];
    if (to === 'accepted') controls.push(field('staff.ticket.priority', 'select', { name: 'priority' }, options('staff.priority', PRIORITIES, ticket.priority)));
    if (NEEDS_NOTE.includes(to)) controls.push(field(`staff.note.${to}`, 'textarea', { name: 'note', required: true, rows: 2 }));
    const form = h('form', { class: 'card' }, controls, h('button', { type: 'submit', class: 'primary' }, t(moveKey(ticket.status, to))));
    return onSubmit(form, async (data) => {
      const extra = {};
      if (data.get('priority')) extra.priority = data.get('priority');
      if (data.get('note')) extra.note = data.get('note').trim();
      await move(ticket, to, extra);
      go(here);
    });
  });
  if (side() === 'desk' && ASSIGNABLE.includes(ticket.status)) forms.push(await assignForm(ticket, here));
  if (side() === 'desk' && ['resolved', 'closed'].includes(ticket.status)) forms.push(followUpForm(ticket, here));
  if (forms.length === 0) return null;
  return h('section', { 'aria-labelledby': 'ticket-workflow' }, h('h2', { id: 'ticket-workflow' }, t('staff.ticket.workflow')), h('div', { class: 'cards' }, forms));
}

/** The follow-up call (回访) once the work is done: what the owner said. A call may be made
 *  again (no one answered the first time); the latest note shows, every call is in the history. */
function followUpForm(ticket, here) {
  const form = h('form', { class: 'card' },
    field('staff.follow_up.note', 'textarea', { name: 'note', required: true, rows: 2, maxlength: 2000 }, [], t('staff.follow_up.hint')),
    h('button', { type: 'submit', class: 'primary' }, t('staff.follow_up.submit')));
  return onSubmit(form, async (data) => {
    await api('POST', `/tickets/${ticket.id}/follow-up`, { note: data.get('note').trim() });
    notify(t('staff.follow_up.done', { id: ticket.id }));
    go(here);
  });
}

/** The dispatcher picks a technician of the compound's groups, or lets the group that takes
 *  the category give it to its least-loaded member. */
async function assignForm(ticket, here) {
  const groups = await api('GET', `/compounds/${ticket.compound_id}/technician-groups`);
  const names = new Map();
  const choices = [];
  for (const group of groups) {
    for (const member of group.members) {
      if (names.has(member.id)) continue;
      names.set(member.id, member.name);
      choices.push(h('option', { value: member.id, selected: member.id === ticket.assignee_id }, `${technician(member.id, names)} · ${group.name}`));
    }
  }
  const form = h('form', { class: 'card' },
    field('staff.assign.technician', 'select', { name: 'technician_id' }, [h('option', { value: '' }, t('staff.assign.automatic')), choices]),
    h('button', { type: 'submit', class: 'primary' }, t(ticket.assignee_id ? 'staff.assign.again' : 'staff.assign.submit')));
  return onSubmit(form, async (data) => {
    const body = { version: ticket.version };
    if (data.get('technician_id')) body.technician_id = Number(data.get('technician_id'));
    const assigned = await api('POST', `/tickets/${ticket.id}/assignment`, body);
    notify(t('staff.assign.done', { id: ticket.id, technician: technician(assigned.assignee_id, names) }));
    go(here);
  });
}

function photos(list) {
  if (list.length === 0) return null;
  const gallery = h('div', { class: 'photos' });
  // Photos need the token, so each is fetched and shown as it arrives.
  list.forEach((photo, i) => imageUrl(photo.url).then((src) => gallery.append(h('img', { src, alt: t('staff.ticket.photo', { n: i + 1 }) }))).catch(showError));
  return h('section', { 'aria-labelledby': 'ticket-photos' }, h('h2', { id: 'ticket-photos' }, t('staff.ticket.photos')), gallery);
}

function conversation(detail, here) {
  const form = h('form', { class: 'card' },
    field('staff.comment.body', 'textarea', { name: 'body', required: true, rows: 3 }),
    side() === 'desk' && h('div', { class: 'choice' },
      h('input', { type: 'checkbox', id: 'comment-internal', name: 'internal', value: 'true' }),
      h('label', { for: 'comment-internal' }, t('staff.comment.internal'))),
    h('button', { type: 'submit', class: 'primary' }, t('staff.comment.submit')));
  onSubmit(form, async (data) => {
    await api('POST', `/tickets/${detail.ticket.id}/comments`, { body: data.get('body').trim(), internal: data.get('internal') === 'true' });
    notify(t('common.saved'));
    go(here);
  });
  return h('section', { 'aria-labelledby': 'ticket-comments' },
    h('h2', { id: 'ticket-comments' }, t('staff.ticket.comments')),
    detail.comments.length === 0 ? h('p', {}, t('common.none')) : h('ul', {}, detail.comments.map((c) => h('li', {},
      h('strong', {}, c.author_name), ` (${actor(c.author_role)}) · ${when(c.created_at)}`, c.internal && [' ', badge('open', 'staff.comment.internal_badge')],
      h('p', {}, c.body)))),
    form);
}

// ---------------------------------------------------------------- the cashier desk

const DESK_METHODS = ['cash', 'bank_transfer', 'pos'];

/** Finding a flat of a compound by its number or an owner's name or phone: the form (on the
 *  page at `path`), then the flats found, each linked to `linkOf(unit)`. The cashier desk and a
 *  repair taken over the phone both start here. */
async function flatSearch(main, path, query, linkOf) {
  const { compounds, compound } = await compoundChoice(query);
  const q = query.get('q') || '';
  const form = h('form', { class: 'card', role: 'search', 'aria-label': t('staff.find.find') },
    compoundSelect(compounds, compound),
    field('staff.find.q', 'input', { name: 'q', type: 'search', value: q, required: true, maxlength: 50 }, [], t('staff.find.q_hint')),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, t('staff.find.find'))));
  show(main, onSubmit(form, (data) => go(`${path}?${queryOf(data)}`)));
  if (!q || !compound) return;
  const found = await api('GET', `/units?${new URLSearchParams({ compound_id: compound.id, q, per_page: 50 })}`);
  show(main, h('p', { role: 'status' }, t('staff.find.found', { count: found.total })),
    found.items.length > 0 && table('staff.find.units_caption', ['staff.unit.label', 'staff.unit.owners', 'staff.unit.area'],
      found.items.map((unit) => [h('a', { href: `#${linkOf(unit)}` }, unit.label), owners(unit), unit.area ? `${unit.area} m²` : ''])));
}

page('/staff/cashier', {
  roles: CASHIERS, title: 'staff.cashier.title', nav: true, home: true,
  render: (main, params, query) => flatSearch(main, '/staff/cashier', query, (unit) => `/staff/cashier/units/${unit.id}`),
});

page('/staff/cashier/units/:id', {
  roles: CASHIERS, title: 'staff.cashier.unit_title',
  async render(main, { id }) {
    const [unit, bills, balance, payments] = await Promise.all([
      api('GET', `/units/${id}`), api('GET', `/units/${id}/bills`), api('GET', `/units/${id}/balance`), api('GET', `/units/${id}/payments`)]);
    main.querySelector('h1').append(' · ', unit.label);
    const open = bills.filter((bill) => bill.status !== 'paid');
    const form = h('form', { class: 'card narrow', 'aria-labelledby': 'take-payment' },
      h('h2', { id: 'take-payment' }, t('staff.cashier.take')),
      field('staff.cashier.method', 'select', { name: 'method' }, options('staff.method', DESK_METHODS, 'cash')),
      field('staff.cashier.amount', 'input', { name: 'amount', inputmode: 'decimal', required: true, autocomplete: 'off', value: Number(balance.owed) > 0 ? balance.owed : '' }, [], t('staff.cashier.amount_hint')),
      h('button', { type: 'submit', class: 'primary' }, t('staff.cashier.submit')));
    const keyFor = keyPerIntent();
    onSubmit(form, async (data) => {
      const asked = { method: data.get('method'), amount: data.get('amount').trim() };
      const payment = await api('POST', `/units/${unit.id}/payments`, asked, { 'Idempotency-Key': keyFor(asked) });
      notify(t('staff.cashier.paid', { amount: money(payment.amount), number: payment.receipt.number }));
      go(`/staff/payments/${payment.id}/receipt`);
    });
    show(main,
      h('section', { class: 'card', 'aria-labelledby': 'unit-balance' },
        h('h2', { id: 'unit-balance' }, t('staff.cashier.balance')),
        h('dl', { class: 'facts' },
          h('dt', {}, t('staff.unit.owners')), h('dd', {}, owners(unit)),
          h('dt', {}, t('staff.unit.area')), h('dd', {}, unit.area ? `${unit.area} m²` : ''),
          h('dt', {}, t('staff.cashier.owed')), h('dd', { class: 'amount big' }, money(balance.owed)),
          h('dt', {}, t('staff.cashier.prepaid')), h('dd', { class: 'amount' }, money(balance.prepaid)))),
      form,
      Number(balance.prepaid) > 0 && refundForm(unit, balance),
      open.length === 0 ? h('p', {}, t('staff.cashier.no_bills')) : billsTable(open),
      payments.length > 0 && paymentsTable(payments));
  },
});

/** An Idempotency-Key per thing the user means: the same request sent again (after a lost
 *  answer) keeps its key and is done once; a changed one is another request, with its own key. */
function keyPerIntent() {
  let attempt = { body: '', key: '' };
  return (asked) => {
    const body = JSON.stringify(asked);
    if (body !== attempt.body) attempt = { body, key: idempotencyKey() };
    return attempt.key;
  };
}

/** Paying prepaid money back (an owner moving out, an overpayment). */
function refundForm(unit, balance) {
  const form = h('form', { class: 'card narrow', 'aria-labelledby': 'refund-prepaid' },
    h('h2', { id: 'refund-prepaid' }, t('staff.refund.title')),
    field('staff.refund.amount', 'input', { name: 'amount', inputmode: 'decimal', required: true, autocomplete: 'off', value: balance.prepaid }),
    field('staff.refund.method', 'select', { name: 'method' }, options('staff.method', ['cash', 'bank_transfer'], 'cash')),
    field('staff.refund.reason', 'input', { name: 'reason', type: 'text', required: true, maxlength: 500 }),
    h('button', { type: 'submit' }, t('staff.refund.submit')));
  const keyFor = keyPerIntent();
  return onSubmit(form, async (data) => {
    const asked = { amount: data.get('amount').trim(), method: data.get('method'), reason: data.get('reason').trim() };
    const refund = await api('POST', `/units/${unit.id}/refunds`, asked, { 'Idempotency-Key': keyFor(asked) });
    notify(t('staff.refund.done', { amount: money(refund.amount), left: money(refund.prepaid_balance) }));
    go(`/staff/cashier/units/${unit.id}`);
  });
}

/** A manager reverses a payment that did not hold (a bounced transfer): its bills reopen and
 *  its receipt is voided, with the reason on it. */
function reversalForm(payment) {
  const form = h('form', { class: 'card narrow', 'aria-labelledby': 'reverse-payment' },
    h('h2', { id: 'reverse-payment' }, t('staff.reversal.title')),
    h('p', {}, t('staff.reversal.intro')),
    field('staff.reversal.reason', 'input', { name: 'reason', type: 'text', required: true, maxlength: 500 }),
    h('button', { type: 'submit' }, t('staff.reversal.submit')));
  const keyFor = keyPerIntent();
  return onSubmit(form, async (data) => {
    const asked = { reason: data.get('reason').trim() };
    await api('POST', `/payments/${payment.id}/reversal`, asked, { 'Idempotency-Key': keyFor(asked) });
    notify(t('staff.reversal.done', { number: payment.receipt ? payment.receipt.number : payment.id }));
    go(`/staff/payments/${payment.id}/receipt`);
  });
}

function billsTable(bills) {
  const wrap = table('staff.cashier.bills_caption',
    ['staff.bill.period', 'staff.bill.item', 'staff.bill.due', 'staff.bill.outstanding', 'staff.bill.late_fee', 'staff.bill.total', 'staff.bill.status'],
    bills.map((bill) => [bill.period, bill.fee_item, bill.due_date, h('span', { class: 'amount' }, money(bill.outstanding)),
      h('span', { class: 'amount' }, money(bill.late_fee)), h('span', { class: 'amount' }, money(bill.total_due)),
      badge(bill.status, `staff.bill.${bill.status}`)]));
  // Overdue rows are marked by their badge's words; the row colour repeats it.
  wrap.querySelectorAll('tbody tr').forEach((row, i) => { if (bills[i].status === 'overdue') row.classList.add('overdue'); });
  return wrap;
}

function paymentsTable(payments) {
  return table('staff.cashier.payments_caption',
    ['staff.payment.received', 'staff.payment.amount', 'staff.payment.method', 'staff.payment.receipt', 'staff.payment.status'],
    payments.map((p) => [when(p.received_at), h('span', { class: 'amount' }, money(p.amount)), t(`staff.method.${p.method}`),
      p.receipt ? h('a', { href: `#/staff/payments/${p.id}/receipt` }, p.receipt.number) : '', t(`staff.payment.${p.status}`)]));
}

page('/staff/payments/:id/receipt', {
  roles: CASHIERS, title: 'staff.receipt.title',
  async render(main, { id }) {
    const payment = await api('GET', `/payments/${id}`);
    const [unit, bills, compounds] = await Promise.all([api('GET', `/units/${payment.unit_id}`), api('GET', `/units/${payment.unit_id}/bills`), api('GET', '/compounds')]);
    const compound = compounds.find((c) => c.id === unit.compound_id);
    const billOf = new Map(bills.map((bill) => [bill.id, bill]));
    show(main,
      h('div', { class: 'actions' },
        h('button', { type: 'button', class: 'primary', onclick: () => window.print() }, t('common.print')),
        h('a', { class: 'button', href: `#/staff/cashier/units/${unit.id}` }, t('common.back'))),
      h('article', { class: 'card receipt', 'aria-labelledby': 'receipt-heading' },
        h('h2', { id: 'receipt-heading' }, compound ? compound.name : '', ' ', t('staff.receipt.heading')),
        payment.receipt && payment.receipt.voided_at && h('p', { class: 'badge overdue' }, t('staff.receipt.void', { reason: payment.receipt.void_reason || '' })),
        h('dl', { class: 'facts' },
          h('dt', {}, t('staff.receipt.number')), h('dd', { id: 'receipt-number' }, payment.receipt ? payment.receipt.number : ''),
          h('dt', {}, t('staff.receipt.date')), h('dd', {}, when(payment.received_at)),
          h('dt', {}, t('staff.unit.label')), h('dd', {}, unit.label),
          h('dt', {}, t('staff.unit.owners')), h('dd', {}, owners(unit)),
          h('dt', {}, t('staff.payment.method')), h('dd', {}, t(`staff.method.${payment.method}`)),
          h('dt', {}, t('staff.payment.amount')), h('dd', { id: 'receipt-amount', class: 'amount big' }, money(payment.amount))),
        payment.allocations.length > 0 && table('staff.receipt.allocations',
          ['staff.bill.period', 'staff.bill.item', 'staff.receipt.principal', 'staff.bill.late_fee'],
          payment.allocations.map((a) => {
            const bill = billOf.get(a.bill_id);
            return [bill ? bill.period : '', bill ? bill.fee_item : '', h('span', { class: 'amount' }, money(a.principal)), h('span', { class: 'amount' }, money(a.late_fee))];
          })),
        Number(payment.to_prepaid) > 0 && h('p', {}, t('staff.receipt.to_prepaid', { amount: money(payment.to_prepaid) }))),
      // Drawn from prepaid money, a payment moved nothing in: there is nothing to reverse.
      payment.status === 'posted' && payment.method !== 'prepaid' && MANAGERS.includes(session().me.role) && reversalForm(payment));
  },
});

// ---------------------------------------------------------------- bill runs and fee items

/** Next month, the period a bill run is usually previewed for: "2026-12". */
function nextMonth() {
  const now = new Date();
  const next = new Date(now.getFullYear(), now.getMonth() + 1, 1);
  return `${next.getFullYear()}-${String(next.getMonth() + 1).padStart(2, '0')}`;
}

function amountCell(value) {
  return h('span', { class: 'amount' }, money(value));
}

function billRunOutcome(run) {
  return h('section', { class: 'card', 'aria-labelledby': 'bill-run-outcome' },
    h('h2', { id: 'bill-run-outcome' }, t(run.preview ? 'staff.bill_run.preview_of' : 'staff.bill_run.done', { period: run.period })),
    h('dl', { class: 'facts' },
      h('dt', {}, t('staff.bill_run.bills')), h('dd', { id: 'bill-run-bills' }, run.bills_created),
      h('dt', {}, t('staff.bill_run.already')), h('dd', {}, run.already_billed),
      h('dt', {}, t('staff.bill_run.total')), h('dd', { class: 'amount big', id: 'bill-run-total' }, money(run.total))),
    table('staff.bill_run.items', ['staff.fee_item.name', 'staff.bill_run.bills', 'staff.bill_run.already', 'staff.bill_run.total', 'staff.bill_run.not_charged'],
      run.items.map((item) => [item.name, item.bills, item.already_billed, amountCell(item.total),
        [item.problem, item.not_charged.length > 0 && t('staff.bill_run.not_charged_count', { count: item.not_charged.length })]])));
}

page('/staff/bill-runs', {
  roles: MANAGERS, title: 'staff.bill_runs.title', nav: true,
  async render(main, params, query) {
    const { compounds, compound } = await compoundChoice(query);
    if (!compound) return show(main, h('p', {}, t('staff.no_compounds')));
    const outcome = h('div', {});
    const runs = h('div', {});
    const showRuns = async () => runs.replaceChildren(table('staff.bill_runs.caption',
      ['staff.bill_run.period', 'staff.bill_run.bills', 'staff.bill_run.total', 'staff.bill_run.when'],
      (await api('GET', `/compounds/${compound.id}/bill-runs`)).map((run) => [run.period, run.bills_created, amountCell(run.total), when(run.created_at)])));
    // A preview counts and totals without writing; the run bills (run again, it bills nothing twice).
    const form = h('form', { class: 'card narrow', 'aria-labelledby': 'bill-run-form' },
      h('h2', { id: 'bill-run-form' }, t('staff.bill_run.heading', { compound: compound.name })),
      field('staff.bill_run.period', 'input', { name: 'period', type: 'month', required: true, value: nextMonth(), pattern: '\\d{4}-\\d{2}' }, [], t('staff.bill_run.period_hint')),
      h('div', { class: 'actions' },
        h('button', { type: 'submit', class: 'primary', value: 'preview' }, t('staff.bill_run.preview')),
        h('button', { type: 'submit', value: 'run' }, t('staff.bill_run.run'))));
    onSubmit(form, async (data, submitter) => {
      const preview = !submitter || submitter.value !== 'run';
      const run = await api('POST', `/compounds/${compound.id}/bill-runs`, { period: data.get('period'), preview });
      outcome.replaceChildren(billRunOutcome(run));
      if (!preview) {
        notify(t('staff.bill_run.done', { period: run.period }));
        await showRuns();
      }
    });
    await showRuns();
    show(main, compoundPicker('/staff/bill-runs', compounds, compound), form, outcome, runs);
  },
});

const FEE_KINDS = ['rate_area', 'fixed', 'metered', 'shared'];
const CYCLES = ['monthly', 'quarterly', 'yearly', 'one_off'];

/** A fee item's price as people read it: "1.2 元/m²/月", "30.00". */
function price(item) {
  if (item.rate) return t(`staff.fee_item.rate_${item.kind}`, { rate: item.rate });
  return item.amount ? money(item.amount) : '';
}

page('/staff/fee-items', {
  roles: CASHIERS, title: 'staff.fee_items.title', nav: true,
  async render(main, params, query) {
    const { compounds, compound } = await compoundChoice(query);
    if (!compound) return show(main, h('p', {}, t('staff.no_compounds')));
    const items = await api('GET', `/compounds/${compound.id}/fee-items`);
    show(main, compoundPicker('/staff/fee-items', compounds, compound),
      table('staff.fee_items.caption',
        ['staff.fee_item.name', 'staff.fee_item.kind', 'staff.fee_item.cycle', 'staff.fee_item.price', 'staff.fee_item.effective', 'staff.fee_item.due_days', 'staff.fee_item.late_fee'],
        items.map((item) => [item.name, t(`staff.fee_kind.${item.kind}`), t(`staff.cycle.${item.cycle}`), price(item),
          `${day(item.effective_from)} – ${item.effective_to ? day(item.effective_to) : t('staff.fee_item.open_ended')}`, item.due_days,
          item.late_fee_daily_rate ? t('staff.fee_item.late_fee_terms', { rate: item.late_fee_daily_rate, days: item.late_fee_grace_days }) : t('common.none')])));
    if (MANAGERS.includes(session().me.role)) show(main, feeItemForm(compound));
  },
});

/** A new fee item: the kinds billed by area, per unit, by meter or shared over the compound.
 *  (Floor-coefficient items are made from an elevator plan, which knows the coefficients.) */
function feeItemForm(compound) {
  const form = h('form', { class: 'card narrow', 'aria-labelledby': 'new-fee-item' },
    h('h2', { id: 'new-fee-item' }, t('staff.fee_item.new')),
    field('staff.fee_item.name', 'input', { name: 'name', required: true, maxlength: 100 }),
    field('staff.fee_item.kind', 'select', { name: 'kind' }, options('staff.fee_kind', FEE_KINDS, 'rate_area')),
    field('staff.fee_item.cycle', 'select', { name: 'cycle' }, options('staff.cycle', CYCLES, 'monthly')),
    field('staff.fee_item.rate', 'input', { name: 'rate', inputmode: 'decimal' }, [], t('staff.fee_item.rate_hint')),
    field('staff.fee_item.amount', 'input', { name: 'amount', inputmode: 'decimal' }, [], t('staff.fee_item.amount_hint')),
    field('staff.fee_item.effective_from', 'input', { name: 'effective_from', type: 'month', required: true, value: nextMonth() }),
    field('staff.fee_item.effective_to', 'input', { name: 'effective_to', type: 'month' }),
    field('staff.fee_item.due_days', 'input', { name: 'due_days', type: 'number', min: 0, inputmode: 'numeric', value: 30 }),
    field('staff.fee_item.daily_rate', 'input', { name: 'daily_rate', inputmode: 'decimal' }, [], t('staff.fee_item.daily_rate_hint')),
    field('staff.fee_item.grace_days', 'input', { name: 'grace_days', type: 'number', min: 0, inputmode: 'numeric' }),
    h('button', { type: 'submit', class: 'primary' }, t('staff.fee_item.create')));
  return onSubmit(form, async (data) => {
    const text = (name) => (data.get(name) || '').trim();
    const body = { name: text('name'), kind: text('kind'), cycle: text('cycle'), effective_from: text('effective_from') };
    if (text('kind') === 'shared') body.split = 'area';
    for (const name of ['rate', 'amount', 'effective_to']) if (text(name)) body[name] = text(name);
    if (text('due_days')) body.due_days = Number(text('due_days'));
    if (text('daily_rate')) body.late_fee = { daily_rate: text('daily_rate'), grace_days: Number(text('grace_days') || 0) };
    const item = await api('POST', `/compounds/${compound.id}/fee-items`, body);
    notify(t('staff.fee_item.created', { name: item.name }));
    go(`/staff/fee-items?compound=${compound.id}`);
  });
}

// ---------------------------------------------------------------- the registry and its import

const PER_PAGE = 50;

page('/staff/registry', {
  roles: STAFF, title: 'staff.registry.title', nav: true,
  async render(main, params, query) {
    const { compounds, compound } = await compoundChoice(query);
    if (!compound) return show(main, h('p', {}, t('staff.no_compounds')));
    const pageNo = Math.max(1, Number(query.get('page')) || 1);
    const filter = new URLSearchParams({ compound_id: compound.id, page: pageNo, per_page: PER_PAGE });
    for (const name of ['q', 'building_id']) if (query.get(name)) filter.set(name, query.get(name));
    const [buildings, units] = await Promise.all([api('GET', `/compounds/${compound.id}/buildings`), api('GET', `/units?${filter}`)]);
    const form = h('form', { class: 'card', role: 'search', 'aria-label': t('staff.registry.find') },
      h('div', { class: 'cards' },
        compoundSelect(compounds, compound),
        field('staff.registry.building', 'select', { name: 'building_id' }, [h('option', { value: '' }, t('staff.any')),
          buildings.map((b) => h('option', { value: b.id, selected: String(b.id) === query.get('building_id') }, b.name))]),
        field('staff.find.q', 'input', { name: 'q', type: 'search', value: query.get('q') || '', maxlength: 50 })),
      h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, t('staff.filter'))));
    onSubmit(form, (data) => go(`/staff/registry?${queryOf(data)}`));
    const pages = Math.max(1, Math.ceil(units.total / PER_PAGE));
    const pageLink = (n, key) => {
      const q = new URLSearchParams(query);
      q.set('compound', compound.id);
      q.set('page', n);
      return h('a', { class: 'button', href: `#/staff/registry?${q}` }, t(key));
    };
    show(main,
      h('section', { class: 'card', 'aria-labelledby': 'compound-facts' },
        h('h2', { id: 'compound-facts' }, compound.name),
        h('dl', { class: 'facts' },
          h('dt', {}, t('staff.registry.address')), h('dd', {}, compound.address),
          h('dt', {}, t('staff.registry.buildings')), h('dd', {}, buildings.map((b) => b.name).join('、') || t('common.none')),
          h('dt', {}, t('staff.registry.units')), h('dd', {}, units.total))),
      form,
      table('staff.registry.caption', ['staff.unit.label', 'staff.unit.floor', 'staff.unit.use', 'staff.unit.area', 'staff.unit.owners', 'staff.unit.state'],
        units.items.map((unit) => [unit.label, unit.floor, t(`staff.use.${unit.unit_use}`),
          unit.area ? `${unit.area} m² (${t(`staff.area.${unit.area_kind}`)})` : '',
          unit.owners.map((o) => h('div', {}, o.owner.name, o.owner.phone && ` ${o.owner.phone}`)),
          [unit.developer_held && t('staff.unit.developer'), unit.vacant && t('staff.unit.vacant')].filter(Boolean).join('、')])),
      h('nav', { class: 'actions', 'aria-label': t('staff.pages') },
        h('span', {}, t('staff.page_of', { page: pageNo, pages })),
        pageNo > 1 && pageLink(pageNo - 1, 'staff.previous_page'),
        pageNo < pages && pageLink(pageNo + 1, 'staff.next_page')));
  },
});

page('/staff/import', {
  roles: MANAGERS, title: 'staff.import.title', nav: true,
  async render(main, params, query) {
    const { compounds, compound } = await compoundChoice(query);
    if (!compound) return show(main, h('p', {}, t('staff.no_compounds')));
    const report = h('div', { id: 'import-report' });
    const form = h('form', { class: 'card narrow' },
      compoundSelect(compounds, compound),
      field('staff.import.file', 'input', { name: 'file', type: 'file', accept: '.csv,text/csv', required: true }, [], t('staff.import.file_hint')),
      h('div', { class: 'choice' },
        h('input', { type: 'checkbox', id: 'import-skip', name: 'skip_bad_rows', value: 'true' }),
        h('label', { for: 'import-skip' }, t('staff.import.skip_bad_rows'))),
      h('button', { type: 'submit', class: 'primary' }, t('staff.import.submit')));
    onSubmit(form, async (data) => {
      report.replaceChildren();
      const file = data.get('file');
      const skip = data.get('skip_bad_rows') === 'true';
      // The API takes the file's bytes as they are (UTF-8 or GBK), not a multipart form.
      const bytes = new Blob([file], { type: 'application/octet-stream' });
      try {
        const done = await api('POST', `/compounds/${data.get('compound')}/import?skip_bad_rows=${skip}`, bytes);
        notify(t('staff.import.done', { rows: done.rows }));
        report.replaceChildren(importReport(done));
      } catch (error) {
        // A refused file: every bad row in a table, to fix in the spreadsheet and upload again;
        // the alert keeps the message alone.
        if (!(error instanceof ApiError) || !Array.isArray(error.problem.rows)) throw error;
        report.replaceChildren(rowProblems('staff.import.rejected_caption', error.problem.rows));
        throw new ApiError(error.status, { ...error.problem, rows: [] });
      }
    });
    show(main, form, report);
  },
});

function rowProblems(captionKey, rows) {
  return table(captionKey, ['staff.import.line', 'staff.import.field', 'staff.import.problem'], rows.map((r) => [r.line, r.field, r.message]));
}

function importReport(done) {
  return h('section', { class: 'card', 'aria-labelledby': 'import-done' },
    h('h2', { id: 'import-done' }, t('staff.import.report')),
    h('dl', { class: 'facts' },
      ['rows', 'units_created', 'units_updated', 'units_unchanged', 'owners_created', 'ownerships_created'].map((name) =>
        [h('dt', {}, t(`staff.import.${name}`)), h('dd', {}, done[name])])),
    done.skipped.length > 0 && rowProblems('staff.import.skipped_caption', done.skipped));
}

// ---------------------------------------------------------------- jobs and the outbox

const JOBS = ['bill_run', 'late_fees', 'arrears_reminders', 'session_cleanup', 'ticket_sla', 'ticket_auto_close', 'fund_top_ups', 'votes', 'notices'];
const RUN_STATUSES = ['queued', 'running', 'succeeded', 'failed'];
const OUTBOX_STATUSES = ['pending', 'sending', 'sent', 'failed'];
const LIST_LIMIT = 50;

/** A link to the page before the smallest id shown, when the page is full. */
function olderLink(path, query, items) {
  if (items.length < LIST_LIMIT) return null;
  const q = new URLSearchParams(query);
  q.set('before_id', Math.min(...items.map((item) => item.id)));
  return h('p', {}, h('a', { href: `#${path}?${q}` }, t('staff.older')));
}

function counts(value) {
  return value ? Object.entries(value).map(([name, n]) => `${name}: ${n}`).join(', ') : '';
}

page('/staff/jobs', {
  roles: MANAGERS, title: 'staff.jobs.title', nav: true,
  async render(main, params, query) {
    const filter = new URLSearchParams({ limit: LIST_LIMIT });
    for (const name of ['job', 'status', 'before_id']) if (query.get(name)) filter.set(name, query.get(name));
    const [jobs, runs] = await Promise.all([api('GET', '/jobs'), api('GET', `/jobs/runs?${filter}`)]);
    const start = (job) => onSubmit(h('form', {},
      h('button', { type: 'submit', 'aria-label': t('staff.jobs.start_named', { job: t(`staff.job.${job}`) }) }, t('staff.jobs.start'))),
      async () => {
        const started = await api('POST', '/jobs/runs', { job });
        notify(t('staff.jobs.started', { job: t(`staff.job.${job}`), count: started.length }));
        go(`/staff/jobs?job=${job}`);
      });
    const form = h('form', { class: 'card', role: 'search', 'aria-label': t('staff.jobs.filters') },
      h('div', { class: 'cards' },
        field('staff.jobs.job', 'select', { name: 'job' }, options('staff.job', JOBS, query.get('job'), 'staff.any')),
        field('staff.jobs.status', 'select', { name: 'status' }, options('staff.run', RUN_STATUSES, query.get('status'), 'staff.any'))),
      h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, t('staff.filter'))));
    onSubmit(form, (data) => go(`/staff/jobs?${queryOf(data)}`));
    show(main,
      table('staff.jobs.caption', ['staff.jobs.job', 'staff.jobs.schedule', 'staff.jobs.next', 'staff.ticket.actions'],
        // Platform jobs (the session clean-up) are the platform administrator's to start.
        jobs.filter((job) => job.per_company || session().me.role === 'platform_admin').map((job) => [t(`staff.job.${job.name}`), h('code', {}, job.schedule), job.next_fire_times[0] ? when(job.next_fire_times[0]) : t('staff.jobs.off'), start(job.name)])),
      h('h2', {}, t('staff.jobs.runs')),
      form,
      table('staff.jobs.runs_caption', ['staff.jobs.run', 'staff.jobs.job', 'staff.jobs.status', 'staff.jobs.trigger', 'staff.jobs.scheduled', 'staff.jobs.finished', 'staff.jobs.attempts', 'staff.jobs.counts'],
        runs.map((run) => [`#${run.id}`, t(`staff.job.${run.job}`),
          [t(`staff.run.${run.status}`), run.error && h('div', {}, run.error)],
          t(`staff.trigger.${run.trigger}`), when(run.scheduled_for), when(run.finished_at), `${run.attempts}/${run.max_attempts}`, counts(run.counts)])),
      olderLink('/staff/jobs', query, runs));
  },
});

page('/staff/outbox', {
  roles: MANAGERS, title: 'staff.outbox.title', nav: true,
  async render(main, params, query) {
    const compounds = await api('GET', '/compounds');
    const compound = compounds.find((c) => String(c.id) === query.get('compound'));
    const filter = new URLSearchParams({ limit: LIST_LIMIT });
    if (compound) filter.set('compound_id', compound.id);
    for (const name of ['status', 'before_id']) if (query.get(name)) filter.set(name, query.get(name));
    const messages = await api('GET', `/outbox?${filter}`);
    const form = h('form', { class: 'card', role: 'search', 'aria-label': t('staff.outbox.filters') },
      h('div', { class: 'cards' },
        field('staff.outbox.status', 'select', { name: 'status' }, options('staff.mail', OUTBOX_STATUSES, query.get('status'), 'staff.any')),
        compoundSelect(compounds, compound, true)),
      h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, t('staff.filter'))));
    onSubmit(form, (data) => go(`/staff/outbox?${queryOf(data)}`));
    show(main, form,
      table('staff.outbox.caption', ['staff.outbox.message', 'staff.outbox.recipient', 'staff.outbox.status', 'staff.outbox.created', 'staff.outbox.sent', 'staff.outbox.attempts'],
        messages.map((m) => [h('a', { href: `#/staff/outbox/${m.id}` }, m.subject), `${m.recipient_name} <${m.recipient}>`,
          [t(`staff.mail.${m.status}`), m.last_error && h('div', {}, m.last_error)], when(m.created_at), when(m.sent_at), m.attempts])),
      olderLink('/staff/outbox', query, messages));
  },
});

page('/staff/outbox/:id', {
  roles: MANAGERS, title: 'staff.outbox.message',
  async render(main, { id }) {
    const m = await api('GET', `/outbox/${id}`);
    const retry = onSubmit(h('form', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, t('staff.outbox.retry'))), async () => {
      await api('POST', `/outbox/${m.id}/retry`);
      notify(t('staff.outbox.retried'));
      go(`/staff/outbox/${m.id}`);
    });
    show(main,
      h('dl', { class: 'facts card' },
        h('dt', {}, t('staff.outbox.subject')), h('dd', {}, m.subject),
        h('dt', {}, t('staff.outbox.recipient')), h('dd', {}, `${m.recipient_name} <${m.recipient}>`),
        h('dt', {}, t('staff.outbox.kind')), h('dd', {}, m.kind, m.reference && ` (${m.reference})`),
        h('dt', {}, t('staff.outbox.status')), h('dd', {}, t(`staff.mail.${m.status}`)),
        h('dt', {}, t('staff.outbox.created')), h('dd', {}, when(m.created_at)),
        h('dt', {}, t('staff.outbox.sent')), h('dd', {}, when(m.sent_at) || t('common.none')),
        h('dt', {}, t('staff.outbox.attempts')), h('dd', {}, m.attempts),
        m.last_error && [h('dt', {}, t('staff.outbox.error')), h('dd', {}, m.last_error)]),
      m.status === 'failed' && retry,
      h('h2', {}, t('staff.outbox.body')),
      h('pre', { class: 'card mail-body' }, m.body || ''),
      h('p', {}, h('a', { href: '#/staff/outbox' }, t('common.back'))));
  },
});
