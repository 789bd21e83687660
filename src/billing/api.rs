//! Billing endpoints (tag `billing`): fee items, meter readings, bill runs, bills, adjustments.
use chrono::{DateTime, NaiveDate, Utc};
use poem_openapi::{
    Object, OpenApi,
    param::{Header, Path},
    payload::Json,
};
use sea_orm::EntityTrait;
use serde::Deserialize;
use serde_json::json;

use super::{AdjustmentKind, BillRunOutcome, BillState, NewFeeItem};
use crate::{
    AppState,
    auth::{Actor, api::BearerAuth},
    error::{ApiError, Error},
    http::{Area as Tag, JsonAnswer, JsonBody},
    idempotency,
    types::{Money, Period, Rate},
};
use entity::{bill, bill_adjustment, bill_run, fee_item};

pub struct BillingApi(pub AppState);

type Reply<T> = Result<Json<T>, ApiError>;

#[derive(Object)]
pub struct FeeItemView {
    pub id: i64,
    pub compound_id: i64,
    pub name: String,
    pub kind: String,
    pub rate: Option<String>,
    pub amount: Option<Money>,
    pub split: Option<String>,
    /// Floor -> coefficient, as given.
    pub floor_coefficients: std::collections::BTreeMap<String, String>,
    pub scope: String,
    pub scope_ids: Vec<i64>,
    pub unit_uses: Vec<String>,
    pub cycle: String,
    pub due_days: i32,
    pub rounding: String,
    pub late_fee_daily_rate: Option<String>,
    pub late_fee_grace_days: i32,
    pub late_fee_cap: Option<String>,
    pub vacancy_ratio: Option<String>,
    pub effective_from: NaiveDate,
    pub effective_to: Option<NaiveDate>,
}

impl From<fee_item::Model> for FeeItemView {
    fn from(f: fee_item::Model) -> Self {
        FeeItemView {
            id: f.id,
            compound_id: f.compound_id,
            name: f.name,
            kind: f.kind,
            rate: f.rate,
            amount: f.amount.map(Money::from_fen),
            split: f.split,
            floor_coefficients: f.floor_coefficients.as_deref().and_then(|json| serde_json::from_str(json).ok()).unwrap_or_default(),
            scope: f.scope_kind,
            scope_ids: serde_json::from_str(&f.scope_ids).unwrap_or_default(),
            unit_uses: serde_json::from_str(&f.unit_uses).unwrap_or_default(),
            cycle: f.cycle,
            due_days: f.due_days,
            rounding: f.rounding,
            late_fee_daily_rate: f.late_fee_daily_rate,
            late_fee_grace_days: f.late_fee_grace_days,
            late_fee_cap: f.late_fee_cap,
            vacancy_ratio: f.vacancy_ratio,
            effective_from: f.effective_from,
            effective_to: f.effective_to,
        }
    }
}

#[derive(Object, Deserialize)]
pub struct RecordReading {
    pub unit_id: i64,
    pub period: Period,
    pub reading: Rate,
}

#[derive(Object)]
pub struct ReadingView {
    pub id: i64,
    pub fee_item_id: i64,
    pub unit_id: i64,
    pub period: String,
    pub reading: String,
}

#[derive(Object, Deserialize)]
pub struct StartBillRun {
    pub period: Period,
    /// Only compute counts and totals; write nothing.
    #[oai(default)]
    #[serde(default)]
    pub preview: bool,
}

impl StartBillRun {
    fn mode(&self) -> super::RunMode {
        if self.preview { super::RunMode::Preview } else { super::RunMode::Bill }
    }
}

#[derive(Object)]
pub struct NotChargedView {
    pub unit_id: i64,
    pub reason: String,
}

#[derive(Object)]
pub struct ItemOutcomeView {
    pub fee_item_id: i64,
    pub name: String,
    pub bills: u64,
    pub total: Money,
    pub already_billed: u64,
    /// Units in scope that get no bill, and why (exempt floor, missing reading).
    pub not_charged: Vec<NotChargedView>,
    /// Why the item billed nothing this period, if it could not bill at all.
    pub problem: Option<String>,
}

#[derive(Object)]
pub struct BillRunView {
    /// Empty for a preview.
    pub bill_run_id: Option<i64>,
    pub compound_id: i64,
    pub period: String,
    pub preview: bool,
    pub bills_created: u64,
    pub already_billed: u64,
    pub total: Money,
    pub items: Vec<ItemOutcomeView>,
}

impl BillRunView {
    fn new(outcome: BillRunOutcome, period: Period, preview: bool) -> Self {
        BillRunView {
            bill_run_id: outcome.bill_run_id,
            compound_id: outcome.compound_id,
            period: period.to_string(),
            preview,
            bills_created: outcome.bills_created,
            already_billed: outcome.already_billed,
            total: outcome.total,
            items: outcome
                .items
                .into_iter()
                .map(|i| ItemOutcomeView {
                    fee_item_id: i.fee_item_id,
                    name: i.name,
                    bills: i.bills,
                    total: i.total,
                    already_billed: i.already_billed,
                    not_charged: i.not_charged.into_iter().map(|n| NotChargedView { unit_id: n.unit_id, reason: n.reason }).collect(),
                    problem: i.problem,
                })
                .collect(),
        }
    }
}

#[derive(Object)]
pub struct BillRunRecord {
    pub id: i64,
    pub period: String,
    pub run_by: i64,
    pub bills_created: i64,
    pub total: Money,
    pub created_at: DateTime<Utc>,
}

impl From<bill_run::Model> for BillRunRecord {
    fn from(r: bill_run::Model) -> Self {
        BillRunRecord { id: r.id, period: r.period, run_by: r.run_by, bills_created: r.bills_created, total: Money::from_fen(r.total), created_at: r.created_at }
    }
}

/// Answered as a list with [`JsonAnswer`] (serde), so it derives `Serialize` too.
#[derive(Object, serde::Serialize)]
pub struct BillView {
    pub id: i64,
    pub unit_id: i64,
    pub fee_item_id: i64,
    pub fee_item: String,
    pub period: String,
    /// owner, or developer for developer-held units.
    pub payer: String,
    pub amount: Money,
    /// Sum of adjustments (negative for waivers and discounts).
    pub adjusted: Money,
    pub paid: Money,
    /// Principal still owed.
    pub outstanding: Money,
    /// Late fee owed today, shown apart from the principal.
    pub late_fee: Money,
    pub late_fee_paid: Money,
    pub late_fee_waived: Money,
    pub total_due: Money,
    pub due_date: NaiveDate,
    /// open, overdue or paid.
    pub status: String,
}

impl BillView {
    pub fn new(state: BillState, today: NaiveDate) -> Self {
        let status = if !state.total_due().is_positive() {
            "paid"
        } else if state.bill.due_date < today {
            "overdue"
        } else {
            "open"
        };
        let b = &state.bill;
        BillView {
            id: b.id,
            unit_id: b.unit_id,
            fee_item_id: b.fee_item_id,
            fee_item: state.fee_item.clone(),
            period: b.period.clone(),
            payer: b.payer.clone(),
            amount: Money::from_fen(b.amount),
            adjusted: Money::from_fen(b.adjusted),
            paid: Money::from_fen(b.paid),
            outstanding: state.outstanding,
            late_fee: state.late_fee,
            late_fee_paid: Money::from_fen(b.late_fee_paid),
            late_fee_waived: Money::from_fen(b.late_fee_waived),
            total_due: state.total_due(),
            due_date: b.due_date,
            status: status.into(),
        }
    }
}

#[derive(Object, Deserialize)]
pub struct AdjustBill {
    pub kind: AdjustmentKind,
    /// Signed: negative lowers what is owed; a late-fee waiver is the positive amount forgiven.
    pub amount: Money,
    pub reason: String,
}

#[derive(Object)]
pub struct AdjustmentView {
    pub id: i64,
    pub bill_id: i64,
    pub kind: String,
    pub amount: Money,
    pub reason: String,
    pub staff_id: i64,
    pub journal_entry_id: Option<i64>,
    pub created_at: DateTime<Utc>,
}

impl From<bill_adjustment::Model> for AdjustmentView {
    fn from(a: bill_adjustment::Model) -> Self {
        AdjustmentView {
            id: a.id,
            bill_id: a.bill_id,
            kind: a.kind,
            amount: Money::from_fen(a.amount),
            reason: a.reason,
            staff_id: a.staff_id,
            journal_entry_id: a.journal_entry_id,
            created_at: a.created_at,
        }
    }
}

#[derive(Object)]
pub struct BillDetail {
    pub bill: BillView,
    pub adjustments: Vec<AdjustmentView>,
}

#[derive(Object)]
pub struct PrepaidApplied {
    /// Units whose prepaid balance was drawn onto their open bills.
    pub units: u64,
}

/// A record whose unit is out of the caller's reach is not found, like the unit itself; a role
/// that may not read money at all is still told so.
pub fn hide_as(error: Error, what: &'static str) -> Error {
    match error {
        Error::NotFound(_) => Error::NotFound(what),
        other => other,
    }
}

impl BillingApi {
    async fn bill_detail(&self, actor: &Actor, bill_id: i64) -> Reply<BillDetail> {
        super::may_read_money(actor)?;
        let found = bill::Entity::find_by_id(bill_id).one(&self.0.db).await.map_err(Error::from)?.ok_or(Error::NotFound("bill"))?;
        // Readable exactly when its unit's money is (a unit out of reach hides its bills too).
        let readable = super::readable_unit(&self.0.db, actor, found.unit_id).await.map_err(|e| hide_as(e, "bill"))?;
        if !readable.shows_bill(&found) {
            return Err(Error::NotFound("bill").into());
        }
        let today = readable.today();
        let state = super::bill_states(&self.0.db, vec![found.clone()], today).await?.remove(0);
        let adjustments = super::bill_adjustments(&self.0.db, found.id).await?;
        Ok(Json(BillDetail { bill: BillView::new(state, today), adjustments: adjustments.into_iter().map(Into::into).collect() }))
    }
}

#[OpenApi(tag = "Tag::Billing")]
impl BillingApi {
    /// Create a fee item for a compound.
    #[oai(path = "/compounds/:id/fee-items", method = "post")]
    async fn create_fee_item(&self, auth: BearerAuth, id: Path<i64>, body: JsonBody<NewFeeItem>) -> Reply<FeeItemView> {
        Ok(Json(super::create_fee_item(&self.0.db, &auth.0, id.0, body.0).await?.into()))
    }

    /// The fee items of a compound.
    #[oai(path = "/compounds/:id/fee-items", method = "get")]
    async fn list_fee_items(&self, auth: BearerAuth, id: Path<i64>) -> Reply<Vec<FeeItemView>> {
        Ok(Json(super::list_fee_items(&self.0.db, &auth.0, id.0).await?.into_iter().map(Into::into).collect()))
    }

    /// Record a meter reading for a metered fee item.
    #[oai(path = "/fee-items/:id/readings", method = "post")]
    async fn record_reading(&self, auth: BearerAuth, id: Path<i64>, body: JsonBody<RecordReading>) -> Reply<ReadingView> {
        let b = body.0;
        let r = super::record_reading(&self.0.db, &auth.0, id.0, b.unit_id, b.period, b.reading).await?;
        Ok(Json(ReadingView { id: r.id, fee_item_id: r.fee_item_id, unit_id: r.unit_id, period: r.period, reading: r.reading }))
    }

    /// Run (or preview) the bills of a compound for a period. Each bill is created once; a
    /// rerun bills only units that have no bill yet.
    #[oai(path = "/compounds/:id/bill-runs", method = "post")]
    async fn run_bills(&self, auth: BearerAuth, id: Path<i64>, body: JsonBody<StartBillRun>) -> Reply<BillRunView> {
        let b = body.0;
        let outcome = super::run_bills(&self.0.db, &auth.0, id.0, b.period, b.mode()).await?;
        Ok(Json(BillRunView::new(outcome, b.period, b.preview)))
    }

    /// Run (or preview) the bills of every compound the caller reaches, for a period. Each
    /// compound's run commits on its own; after a failure, running again bills only the rest.
    #[oai(path = "/bill-runs", method = "post")]
    async fn run_all_bills(&self, auth: BearerAuth, body: JsonBody<StartBillRun>) -> Reply<Vec<BillRunView>> {
        auth.0.require(crate::auth::Permission::RunBills)?;
        let b = body.0;
        let mut views = Vec::new();
        for compound in crate::registry::list_compounds(&self.0.db, &auth.0).await? {
            let outcome = super::run_bills(&self.0.db, &auth.0, compound.id, b.period, b.mode()).await?;
            views.push(BillRunView::new(outcome, b.period, b.preview));
        }
        Ok(Json(views))
    }

    /// The bill runs of a compound, newest first.
    #[oai(path = "/compounds/:id/bill-runs", method = "get")]
    async fn list_bill_runs(&self, auth: BearerAuth, id: Path<i64>) -> Reply<Vec<BillRunRecord>> {
        Ok(Json(super::list_bill_runs(&self.0.db, &auth.0, id.0).await?.into_iter().map(Into::into).collect()))
    }

    /// Draw prepaid balances onto open bills, oldest first.
    #[oai(path = "/compounds/:id/prepaid-applications", method = "post")]
    async fn apply_prepaid(&self, auth: BearerAuth, id: Path<i64>, #[oai(name = "Idempotency-Key")] key: Header<Option<String>>) -> Reply<PrepaidApplied> {
        let actor = &auth.0;
        let request = json!(["apply_prepaid", id.0]);
        let units = idempotency::once(&self.0.db, actor, key.0.as_deref(), &request, async |txn| {
            crate::payments::apply_prepaid_balances(txn, actor, id.0).await.map(|n| n as i64)
        })
        .await?;
        Ok(Json(PrepaidApplied { units: units as u64 }))
    }

    /// A unit's bills, oldest due first, with late fees as of today (staff, or the unit's owner).
    #[oai(path = "/units/:id/bills", method = "get")]
    async fn unit_bills(&self, auth: BearerAuth, id: Path<i64>) -> Result<JsonAnswer<Vec<BillView>>, ApiError> {
        let readable = super::readable_unit(&self.0.db, &auth.0, id.0).await?;
        let today = readable.today();
        let states = super::unit_bill_states(&self.0.db, readable.unit.id, today).await?;
        Ok(JsonAnswer(states.into_iter().filter(|s| readable.shows_bill(&s.bill)).map(|s| BillView::new(s, today)).collect()))
    }

    /// One bill with its adjustments.
    #[oai(path = "/bills/:id", method = "get")]
    async fn get_bill(&self, auth: BearerAuth, id: Path<i64>) -> Reply<BillDetail> {
        self.bill_detail(&auth.0, id.0).await
    }

    /// Waive, discount or correct a bill, or waive late fee, with a reason. Honours Idempotency-Key.
    #[oai(path = "/bills/:id/adjustments", method = "post")]
    async fn adjust_bill(
        &self,
        auth: BearerAuth,
        id: Path<i64>,
        #[oai(name = "Idempotency-Key")] key: Header<Option<String>>,
        body: JsonBody<AdjustBill>,
    ) -> Reply<BillDetail> {
        let actor = &auth.0;
        let b = body.0;
        actor.require(crate::auth::Permission::AdjustBills)?;
        let request = json!(["adjust_bill", id.0, b.kind.as_str(), b.amount.fen(), b.reason]);
        idempotency::once(&self.0.db, actor, key.0.as_deref(), &request, async |txn| {
            super::adjust_bill(txn, actor, id.0, b.kind, b.amount, &b.reason).await.map(|a| a.id)
        })
        .await?;
        self.bill_detail(actor, id.0).await
    }
}
