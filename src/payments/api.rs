//! Payment endpoints (tag `payments`): the cashier desk, reversals, refunds, receipts,
//! statements, and online payment through a gateway.
use chrono::{DateTime, NaiveDate, Utc};
use poem::Request;
use poem_openapi::{
    ApiResponse, Object, OpenApi,
    param::{Header, Path, Query},
    payload::{Binary, Json},
};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, JoinType, QueryFilter, QueryOrder, QuerySelect};
use serde::Deserialize;
use serde_json::json;

use super::{IncomeSource, Method, gateway};
use crate::{
    AppState,
    auth::{Actor, Permission, api::BearerAuth, tenancy::find_visible},
    billing::{self, api::hide_as},
    error::{ApiError, Error},
    http::{Area as Tag, JsonBody},
    idempotency, ledger,
    types::Money,
};
use entity::{common_income, compound, payment, payment_allocation, payment_order, receipt};

pub struct PaymentsApi(pub AppState);

type Reply<T> = Result<Json<T>, ApiError>;

#[derive(Object, Deserialize)]
pub struct TakePayment {
    /// cash, bank_transfer or pos.
    pub method: Method,
    pub amount: Money,
    /// The bills to pay, in order; left out, open bills oldest due first; an empty list pays
    /// no bill and deposits it all (预存). What is left becomes the unit's prepaid balance.
    pub bill_ids: Option<Vec<i64>>,
}

#[derive(Object)]
pub struct AllocationView {
    pub bill_id: i64,
    pub principal: Money,
    pub late_fee: Money,
}

#[derive(Object)]
pub struct ReceiptView {
    pub id: i64,
    /// Receipt numbers run per compound and year.
    pub compound_id: i64,
    /// Year and number, without gaps per compound and year: 2026-000042.
    pub number: String,
    pub voided_at: Option<DateTime<Utc>>,
    pub void_reason: Option<String>,
}

impl From<receipt::Model> for ReceiptView {
    fn from(r: receipt::Model) -> Self {
        ReceiptView { id: r.id, compound_id: r.compound_id, number: format!("{}-{:06}", r.year, r.number), voided_at: r.voided_at, void_reason: r.void_reason }
    }
}

#[derive(Object)]
pub struct PaymentView {
    pub id: i64,
    pub compound_id: i64,
    pub unit_id: i64,
    pub method: String,
    pub amount: Money,
    pub received_at: DateTime<Utc>,
    /// posted or reversed.
    pub status: String,
    pub reversal_reason: Option<String>,
    pub allocations: Vec<AllocationView>,
    /// What went to the unit's prepaid balance.
    pub to_prepaid: Money,
    pub receipt: Option<ReceiptView>,
    pub journal_entry_id: i64,
}

#[derive(Object, Deserialize)]
pub struct ReversePayment {
    pub reason: String,
}

#[derive(Object, Deserialize)]
pub struct RefundPrepaid {
    pub amount: Money,
    /// cash or bank_transfer.
    pub method: Method,
    pub reason: String,
}

#[derive(Object)]
pub struct RefundView {
    pub id: i64,
    pub unit_id: i64,
    pub amount: Money,
    pub method: String,
    pub reason: String,
    pub journal_entry_id: i64,
    pub prepaid_balance: Money,
}

#[derive(Object)]
pub struct Balance {
    pub unit_id: i64,
    /// Principal and late fees owed today on open bills.
    pub owed: Money,
    /// Prepaid balance (预存) that later bills draw on.
    pub prepaid: Money,
}

#[derive(Object, Deserialize)]
pub struct OrderPayment {
    pub unit_id: i64,
    pub bill_ids: Vec<i64>,
}

#[derive(Object)]
pub struct PaymentOrderView {
    pub id: i64,
    pub unit_id: i64,
    pub amount: Money,
    pub bill_ids: Vec<i64>,
    /// pending or paid.
    pub status: String,
    pub gateway: String,
    pub payment_id: Option<i64>,
}

impl From<payment_order::Model> for PaymentOrderView {
    fn from(o: payment_order::Model) -> Self {
        PaymentOrderView {
            id: o.id,
            unit_id: o.unit_id,
            amount: Money::from_fen(o.amount),
            bill_ids: serde_json::from_str(&o.bill_ids).unwrap_or_default(),
            status: o.status,
            gateway: o.gateway,
            payment_id: o.payment_id,
        }
    }
}

#[derive(Object)]
pub struct CallbackAnswer {
    /// paid, or already_paid for a replayed callback.
    pub status: String,
    pub payment_id: i64,
}

impl From<gateway::CallbackOutcome> for CallbackAnswer {
    fn from(outcome: gateway::CallbackOutcome) -> Self {
        let (status, payment_id) = match outcome {
            gateway::CallbackOutcome::Paid { payment_id } => ("paid", payment_id),
            gateway::CallbackOutcome::AlreadyPaid { payment_id } => ("already_paid", payment_id),
        };
        CallbackAnswer { status: status.into(), payment_id }
    }
}

#[derive(Object)]
pub struct StatementLine {
    pub journal_entry_id: i64,
    pub posted_at: DateTime<Utc>,
    /// The day, in the compound's time zone.
    pub posted_on: NaiveDate,
    pub kind: String,
    pub memo: String,
    /// Positive: the unit owes more (a bill); negative: it owes less (a payment, a waiver).
    pub amount: Money,
    pub balance: Money,
}

#[derive(Object)]
pub struct Statement {
    pub unit_id: i64,
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// What the unit owed at the start (negative: in credit).
    pub opening_balance: Money,
    pub lines: Vec<StatementLine>,
    pub closing_balance: Money,
}

#[derive(Object, Deserialize)]
pub struct RecordCommonIncome {
    pub source: IncomeSource,
    pub description: String,
    pub amount: Money,
    pub received_on: NaiveDate,
    /// cash, bank_transfer or pos.
    pub method: Method,
}

#[derive(Object)]
pub struct CommonIncomeView {
    pub id: i64,
    pub compound_id: i64,
    pub source: String,
    pub description: String,
    pub amount: Money,
    pub received_on: NaiveDate,
    pub method: String,
    pub journal_entry_id: i64,
}

impl From<entity::common_income::Model> for CommonIncomeView {
    fn from(c: entity::common_income::Model) -> Self {
        CommonIncomeView {
            id: c.id,
            compound_id: c.compound_id,
            source: c.source,
            description: c.description,
            amount: Money::from_fen(c.amount),
            received_on: c.received_on,
            method: c.method,
            journal_entry_id: c.journal_entry_id,
        }
    }
}

#[derive(ApiResponse)]
pub enum CsvFile {
    /// UTF-8 with a byte-order mark, so Excel in China opens it.
    #[oai(status = 200, content_type = "text/csv; charset=utf-8")]
    Ok(Binary<Vec<u8>>, #[oai(header = "Content-Disposition")] String),
}

async fn payment_allocations(db: &impl ConnectionTrait, payment_ids: &[i64]) -> Result<Vec<payment_allocation::Model>, Error> {
    Ok(payment_allocation::Entity::find()
        .filter(payment_allocation::Column::PaymentId.is_in(payment_ids.iter().copied()))
        .order_by_asc(payment_allocation::Column::Id)
        .all(db)
        .await?)
}

/// A payment as shown, from its allocations (among others') and its receipt.
fn view_of(p: payment::Model, allocations: &[payment_allocation::Model], receipt: Option<receipt::Model>) -> PaymentView {
    let mine = allocations
        .iter()
        .filter(|a| a.payment_id == p.id)
        .map(|a| AllocationView { bill_id: a.bill_id, principal: Money::from_fen(a.principal), late_fee: Money::from_fen(a.late_fee) })
        .collect();
    shown(p, mine, receipt)
}

/// A payment just received, as shown, from what was written.
impl From<super::Received> for PaymentView {
    fn from(r: super::Received) -> Self {
        let allocations =
            r.allocations.iter().map(|a| AllocationView { bill_id: a.bill_id, principal: Money::from_fen(a.principal), late_fee: Money::from_fen(a.late_fee) });
        shown(r.payment, allocations.collect(), r.receipt)
    }
}

fn shown(p: payment::Model, allocations: Vec<AllocationView>, receipt: Option<receipt::Model>) -> PaymentView {
    let allocated: i64 = allocations.iter().map(|a| a.principal.fen() + a.late_fee.fen()).sum();
    PaymentView {
        id: p.id,
        compound_id: p.compound_id,
        unit_id: p.unit_id,
        method: p.method,
        amount: Money::from_fen(p.amount),
        received_at: p.received_at,
        status: p.status,
        reversal_reason: p.reversal_reason,
        to_prepaid: Money::from_fen(p.amount - allocated),
        allocations,
        receipt: receipt.map(Into::into),
        journal_entry_id: p.journal_entry_id,
    }
}

impl PaymentsApi {
    /// One payment with its receipt (one query) and its allocations (another): what the desk
    /// shows after every payment.
    async fn payment_view(&self, payment_id: i64) -> Result<PaymentView, Error> {
        let db = &self.0.db;
        let (p, receipt) = payment::Entity::find_by_id(payment_id)
            .select_also(receipt::Entity)
            .join_rev(JoinType::LeftJoin, receipt::Entity::belongs_to(payment::Entity).from(receipt::Column::PaymentId).to(payment::Column::Id).into())
            .one(db)
            .await?
            .ok_or(Error::NotFound("payment"))?;
        let allocations = payment_allocations(db, &[p.id]).await?;
        Ok(view_of(p, &allocations, receipt))
    }

    /// Payments with their allocations and receipts, in two queries whatever their number.
    async fn payment_views(&self, payments: Vec<payment::Model>) -> Result<Vec<PaymentView>, Error> {
        let db = &self.0.db;
        let ids: Vec<i64> = payments.iter().map(|p| p.id).collect();
        let allocations = payment_allocations(db, &ids).await?;
        let receipts = receipt::Entity::find().filter(receipt::Column::PaymentId.is_in(ids)).all(db).await?;
        Ok(payments
            .into_iter()
            .map(|p| {
                let receipt = receipts.iter().find(|r| r.payment_id == p.id).cloned();
                view_of(p, &allocations, receipt)
            })
            .collect())
    }

    /// The statement of a unit between two local dates, from the ledger.
    async fn statement(&self, actor: &Actor, unit_id: i64, from: NaiveDate, to: NaiveDate) -> Result<Statement, Error> {
        for (field, date) in [("from", from), ("to", to)] {
            if !(2000..=2200).contains(&chrono::Datelike::year(&date)) {
                return Err(Error::invalid(field, format!("{field} must be a date between 2000 and 2200")));
            }
        }
        if to < from {
            return Err(Error::invalid("to", "to is before from"));
        }
        let db = &self.0.db;
        let readable = billing::readable_unit(db, actor, unit_id).await?;
        // An owner's statement starts no earlier than their ownership.
        let from = readable.owner_since.map_or(from, |since| from.max(since));
        let unit = readable.unit;
        let zone: chrono_tz::Tz = readable.compound.time_zone.parse().unwrap_or(chrono_tz::Asia::Shanghai);
        let start_of = |date: NaiveDate| {
            date.and_hms_opt(0, 0, 0)
                .and_then(|t| t.and_local_timezone(zone).earliest())
                .map(|t| t.with_timezone(&Utc))
                .ok_or_else(|| Error::invalid("from", "the date does not exist in the compound's time zone"))
        };
        let (start, end) = (start_of(from)?, start_of(to + chrono::Duration::days(1))?);
        let accounts: [sea_orm::Value; 2] = [ledger::Account::Receivable.code().into(), ledger::Account::Prepaid.code().into()];
        let late_fees: sea_orm::Value = ledger::Account::LateFeeRevenue.code().into();
        let opening = db
            .query_one_raw(crate::db::statement(
                db,
                "SELECT CAST(COALESCE(SUM(l.debit - l.credit), 0) AS BIGINT) AS amount FROM journal_lines l \
                 JOIN journal_entries e ON e.id = l.entry_id \
                 WHERE l.compound_id = $1 AND l.unit_id = $2 AND l.account IN ($3, $4) AND e.posted_at < $5",
                vec![unit.compound_id.into(), unit.id.into(), accounts[0].clone(), accounts[1].clone(), start.into()],
            ))
            .await?
            .map(|row| row.try_get::<i64>("", "amount"))
            .transpose()?
            .unwrap_or(0);
        // Per entry: what it changed in what the unit owes, and the late fee it collected. Late
        // fees are revenue when collected, so a payment that settled one shows as the late fee
        // charged, then the whole payment.
        let rows = db
            .query_all_raw(crate::db::statement(
                db,
                "SELECT e.id, e.posted_at, e.kind, e.memo, \
                        CAST(SUM(CASE WHEN l.account = $7 THEN 0 ELSE l.debit - l.credit END) AS BIGINT) AS owed, \
                        CAST(SUM(CASE WHEN l.account = $7 THEN l.credit - l.debit ELSE 0 END) AS BIGINT) AS late_fee \
                 FROM journal_lines l JOIN journal_entries e ON e.id = l.entry_id \
                 WHERE l.compound_id = $1 AND l.unit_id = $2 AND l.account IN ($3, $4, $7) AND e.posted_at >= $5 AND e.posted_at < $6 \
                 GROUP BY e.id, e.posted_at, e.kind, e.memo ORDER BY e.id",
                vec![unit.compound_id.into(), unit.id.into(), accounts[0].clone(), accounts[1].clone(), start.into(), end.into(), late_fees],
            ))
            .await?;
        let mut balance = opening;
        let mut lines = Vec::new();
        for row in rows {
            let (owed, late_fee): (i64, i64) = (row.try_get("", "owed")?, row.try_get("", "late_fee")?);
            let journal_entry_id: i64 = row.try_get("", "id")?;
            let posted_at: DateTime<Utc> = row.try_get("", "posted_at")?;
            let posted_on = posted_at.with_timezone(&zone).date_naive();
            let mut push = |kind: String, memo: String, amount: i64| {
                balance += amount;
                lines.push(StatementLine { journal_entry_id, posted_at, posted_on, kind, memo, amount: Money::from_fen(amount), balance: Money::from_fen(balance) });
            };
            if late_fee != 0 {
                push("late_fee".into(), "滞纳金 late fee".into(), late_fee);
            }
            if owed - late_fee != 0 {
                push(row.try_get("", "kind")?, row.try_get("", "memo")?, owed - late_fee);
            }
        }
        Ok(Statement { unit_id: unit.id, from, to, opening_balance: Money::from_fen(opening), lines, closing_balance: Money::from_fen(balance) })
    }
}

#[OpenApi(tag = "Tag::Payments")]
impl PaymentsApi {
    /// Take a payment at the cashier desk and issue its receipt. Honours Idempotency-Key.
    #[oai(path = "/units/:id/payments", method = "post")]
    async fn take_payment(
        &self,
        auth: BearerAuth,
        id: Path<i64>,
        #[oai(name = "Idempotency-Key")] key: Header<Option<String>>,
        body: JsonBody<TakePayment>,
    ) -> Reply<PaymentView> {
        let actor = &auth.0;
        let b = body.0;
        let request = json!(["take_payment", id.0, b.method.as_str(), b.amount.fen(), b.bill_ids]);
        // The answer to a first request is what it wrote; a retry reads the first one back.
        let mut received = None;
        let payment_id = idempotency::once(&self.0.db, actor, key.0.as_deref(), &request, async |txn| {
            let written = super::take_payment(txn, actor, id.0, b.method, b.amount, b.bill_ids.as_deref()).await?;
            let payment_id = written.payment.id;
            received = Some(written);
            Ok(payment_id)
        })
        .await?;
        match received {
            Some(written) => {
                metrics::counter!("wuye_payments_written_total", "method" => b.method.as_str()).increment(1);
                Ok(Json(written.into()))
            }
            None => Ok(Json(self.payment_view(payment_id).await?)),
        }
    }

    /// A unit's payments, newest first (staff, or the unit's owner).
    #[oai(path = "/units/:id/payments", method = "get")]
    async fn unit_payments(&self, auth: BearerAuth, id: Path<i64>) -> Reply<Vec<PaymentView>> {
        let readable = billing::readable_unit(&self.0.db, &auth.0, id.0).await?;
        let payments = payment::Entity::find()
            .filter(payment::Column::UnitId.eq(readable.unit.id))
            .order_by_desc(payment::Column::Id)
            .all(&self.0.db)
            .await
            .map_err(Error::from)?;
        let shown = payments.into_iter().filter(|p| readable.shows_payment(p)).collect();
        Ok(Json(self.payment_views(shown).await?))
    }

    /// One payment with its allocations and receipt.
    #[oai(path = "/payments/:id", method = "get")]
    async fn get_payment(&self, auth: BearerAuth, id: Path<i64>) -> Reply<PaymentView> {
        billing::may_read_money(&auth.0)?;
        let p = payment::Entity::find_by_id(id.0).one(&self.0.db).await.map_err(Error::from)?.ok_or(Error::NotFound("payment"))?;
        let readable = billing::readable_unit(&self.0.db, &auth.0, p.unit_id).await.map_err(|e| hide_as(e, "payment"))?;
        if !readable.shows_payment(&p) {
            return Err(Error::NotFound("payment").into());
        }
        Ok(Json(self.payment_view(p.id).await?))
    }

    /// Reverse a payment (a bounced transfer): its bills reopen and its receipt is voided.
    /// Honours Idempotency-Key.
    #[oai(path = "/payments/:id/reversal", method = "post")]
    async fn reverse(
        &self,
        auth: BearerAuth,
        id: Path<i64>,
        #[oai(name = "Idempotency-Key")] key: Header<Option<String>>,
        body: JsonBody<ReversePayment>,
    ) -> Reply<PaymentView> {
        let actor = &auth.0;
        let request = json!(["reverse_payment", id.0, body.0.reason]);
        let payment_id = idempotency::once(&self.0.db, actor, key.0.as_deref(), &request, async |txn| {
            super::reverse_payment(txn, actor, id.0, &body.0.reason).await.map(|p| p.id)
        })
        .await?;
        Ok(Json(self.payment_view(payment_id).await?))
    }

    /// Pay back part or all of a unit's prepaid balance. Honours Idempotency-Key.
    #[oai(path = "/units/:id/refunds", method = "post")]
    async fn refund(
        &self,
        auth: BearerAuth,
        id: Path<i64>,
        #[oai(name = "Idempotency-Key")] key: Header<Option<String>>,
        body: JsonBody<RefundPrepaid>,
    ) -> Reply<RefundView> {
        let actor = &auth.0;
        let b = body.0;
        let request = json!(["refund", id.0, b.amount.fen(), b.method.as_str(), b.reason]);
        let refund_id = idempotency::once(&self.0.db, actor, key.0.as_deref(), &request, async |txn| {
            super::refund_prepaid(txn, actor, id.0, b.amount, b.method, &b.reason).await.map(|r| r.id)
        })
        .await?;
        let r = entity::refund::Entity::find_by_id(refund_id).one(&self.0.db).await.map_err(Error::from)?.ok_or(Error::NotFound("refund"))?;
        let prepaid = ledger::prepaid_balance(&self.0.db, r.compound_id, r.unit_id).await?;
        Ok(Json(RefundView {
            id: r.id,
            unit_id: r.unit_id,
            amount: Money::from_fen(r.amount),
            method: r.method,
            reason: r.reason,
            journal_entry_id: r.journal_entry_id,
            prepaid_balance: Money::from_fen(prepaid),
        }))
    }

    /// What a unit owes today and its prepaid balance (staff, or the unit's owner).
    #[oai(path = "/units/:id/balance", method = "get")]
    async fn balance(&self, auth: BearerAuth, id: Path<i64>) -> Reply<Balance> {
        let db = &self.0.db;
        let readable = billing::readable_unit(db, &auth.0, id.0).await?;
        let unit = &readable.unit;
        let bills = billing::unit_bills(db, unit.id).await?.into_iter().filter(|b| readable.shows_bill(b)).collect();
        let states = billing::bill_states(db, bills, readable.today()).await?;
        let owed = states.iter().map(|s| s.total_due().fen()).sum();
        let prepaid = ledger::prepaid_balance(db, unit.compound_id, unit.id).await?;
        Ok(Json(Balance { unit_id: unit.id, owed: Money::from_fen(owed), prepaid: Money::from_fen(prepaid) }))
    }

    /// A unit's statement between two dates: opening balance, every movement, closing balance.
    #[oai(path = "/units/:id/statement", method = "get")]
    async fn statement_json(&self, auth: BearerAuth, id: Path<i64>, from: Query<NaiveDate>, to: Query<NaiveDate>) -> Reply<Statement> {
        Ok(Json(self.statement(&auth.0, id.0, from.0, to.0).await?))
    }

    /// The same statement as a CSV file (UTF-8 with BOM, for Excel).
    #[oai(path = "/units/:id/statement.csv", method = "get")]
    async fn statement_csv(&self, auth: BearerAuth, id: Path<i64>, from: Query<NaiveDate>, to: Query<NaiveDate>) -> Result<CsvFile, ApiError> {
        let statement = self.statement(&auth.0, id.0, from.0, to.0).await?;
        let mut out = csv::Writer::from_writer(b"\xEF\xBB\xBF".to_vec());
        let write = |out: &mut csv::Writer<Vec<u8>>, row: [String; 5]| out.write_record(row).map_err(|e| Error::Internal(e.into()));
        write(&mut out, ["日期 date".into(), "类型 kind".into(), "摘要 memo".into(), "金额 amount".into(), "余额 balance".into()])?;
        write(&mut out, [statement.from.to_string(), "opening".into(), "期初余额".into(), String::new(), statement.opening_balance.to_string()])?;
        for line in &statement.lines {
            write(&mut out, [line.posted_on.to_string(), line.kind.clone(), line.memo.clone(), line.amount.to_string(), line.balance.to_string()])?;
        }
        write(&mut out, [statement.to.to_string(), "closing".into(), "期末余额".into(), String::new(), statement.closing_balance.to_string()])?;
        let bytes = out.into_inner().map_err(|e| Error::Internal(anyhow::anyhow!("{e}")))?;
        let name = format!("attachment; filename=\"statement-{}-{}-{}.csv\"", statement.unit_id, statement.from, statement.to);
        Ok(CsvFile::Ok(Binary(bytes), name))
    }

    /// An owner orders online payment of chosen bills of their unit.
    #[oai(path = "/payment-orders", method = "post")]
    async fn create_order(&self, auth: BearerAuth, body: JsonBody<OrderPayment>) -> Reply<PaymentOrderView> {
        Ok(Json(gateway::create_order(&self.0.db, &auth.0, body.0.unit_id, &body.0.bill_ids).await?.into()))
    }

    /// One payment order (its owner, or staff who read billing).
    #[oai(path = "/payment-orders/:id", method = "get")]
    async fn get_order(&self, auth: BearerAuth, id: Path<i64>) -> Reply<PaymentOrderView> {
        billing::may_read_money(&auth.0)?;
        let order = payment_order::Entity::find_by_id(id.0).one(&self.0.db).await.map_err(Error::from)?.ok_or(Error::NotFound("payment order"))?;
        billing::readable_unit(&self.0.db, &auth.0, order.unit_id).await.map_err(|e| hide_as(e, "payment order"))?;
        Ok(Json(order.into()))
    }

    /// The built-in gateway's callback, signed with `X-Wuye-Signature` (hex HMAC-SHA256 of the
    /// body with the configured secret). A replay changes nothing; a wrong amount is refused.
    #[oai(path = "/gateway/builtin/callback", method = "post")]
    async fn gateway_callback(&self, request: &Request, body: Binary<Vec<u8>>) -> Reply<CallbackAnswer> {
        let signature = request.headers().get("x-wuye-signature").and_then(|v| v.to_str().ok());
        let adapter = gateway::BuiltinGateway { secret: self.0.config.gateway_secret.clone() };
        Ok(Json(gateway::handle_callback(&self.0.db, &adapter, signature, &body.0).await?.into()))
    }

    /// Record income from common parts (elevator ads, parking): the owners' money, kept apart
    /// from the company's revenue. Honours Idempotency-Key.
    #[oai(path = "/compounds/:id/common-income", method = "post")]
    async fn record_common_income(
        &self,
        auth: BearerAuth,
        id: Path<i64>,
        #[oai(name = "Idempotency-Key")] key: Header<Option<String>>,
        body: JsonBody<RecordCommonIncome>,
    ) -> Reply<CommonIncomeView> {
        let actor = &auth.0;
        let b = body.0;
        let request = json!(["common_income", id.0, b.source.as_str(), b.description, b.amount.fen(), b.received_on, b.method.as_str()]);
        let income_id = idempotency::once(&self.0.db, actor, key.0.as_deref(), &request, async |txn| {
            super::record_common_income(txn, actor, id.0, b.source, &b.description, b.amount, b.received_on, b.method).await.map(|c| c.id)
        })
        .await?;
        let c = entity::common_income::Entity::find_by_id(income_id).one(&self.0.db).await.map_err(Error::from)?.ok_or(Error::NotFound("income"))?;
        Ok(Json(c.into()))
    }

    /// The owners' income from common parts, for disclosure, newest first (ledger readers).
    #[oai(path = "/compounds/:id/common-income", method = "get")]
    async fn list_common_income(&self, auth: BearerAuth, id: Path<i64>) -> Reply<Vec<CommonIncomeView>> {
        auth.0.require(Permission::ReadLedger)?;
        let compound = find_visible::<compound::Entity>(&self.0.db, &auth.0, id.0).await?;
        let incomes = common_income::Entity::find()
            .filter(common_income::Column::CompoundId.eq(compound.id))
            .order_by_desc(common_income::Column::ReceivedOn)
            .order_by_desc(common_income::Column::Id)
            .all(&self.0.db)
            .await
            .map_err(Error::from)?;
        Ok(Json(incomes.into_iter().map(Into::into).collect()))
    }
}
