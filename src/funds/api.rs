//! Maintenance-fund endpoints (tag `funds`): the standard, deposits, top-ups, allocations,
//! sub-ledgers and their check against the journal, and repair projects.
use chrono::{DateTime, NaiveDate, Utc};
use poem_openapi::{
    Object, OpenApi,
    param::{Header, Path, Query},
    payload::Json,
};

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use super::{NewAllocation, NewDeposits, NewPolicy, NewTopUp, Reconciliation, SubLedger, projects};
use crate::{
    AppState,
    auth::{Actor, Permission, api::BearerAuth, tenancy::find_visible},
    error::{ApiError, Error},
    http::{Area as Tag, JsonBody},
    types::{Area, Money},
};
use entity::{compound, fund_deposit, fund_movement, fund_policy, fund_project};

pub struct FundsApi(pub AppState);

type Reply<T> = Result<Json<T>, ApiError>;

#[derive(Object)]
pub struct PolicyView {
    pub compound_id: i64,
    pub deposit_basis: String,
    pub deposit_rate: Option<String>,
    pub deposit_amount: Option<Money>,
    pub source: String,
    pub allocation: String,
    pub notice_days: i32,
    pub updated_by: i64,
    pub updated_at: DateTime<Utc>,
}

impl From<fund_policy::Model> for PolicyView {
    fn from(p: fund_policy::Model) -> Self {
        PolicyView {
            compound_id: p.compound_id,
            deposit_basis: p.deposit_basis,
            deposit_rate: p.deposit_rate,
            deposit_amount: p.deposit_amount.map(Money::from_fen),
            source: p.source,
            allocation: p.allocation,
            notice_days: p.notice_days,
            updated_by: p.updated_by,
            updated_at: p.updated_at,
        }
    }
}

#[derive(Object)]
pub struct DepositView {
    pub unit_id: i64,
    pub basis: String,
    /// The area it was computed on (per_m2).
    pub area: Option<Area>,
    pub rate: Option<String>,
    pub amount: Money,
    pub source: String,
    pub movement_id: i64,
}

impl From<fund_deposit::Model> for DepositView {
    fn from(d: fund_deposit::Model) -> Self {
        DepositView {
            unit_id: d.unit_id,
            basis: d.basis,
            area: d.area.and_then(|a| Area::from_hundredths(a).ok()),
            rate: d.rate,
            amount: Money::from_fen(d.amount),
            source: d.source,
            movement_id: d.movement_id,
        }
    }
}

#[derive(Object)]
pub struct MovementView {
    pub id: i64,
    pub unit_id: i64,
    /// deposit | top_up | interest | common_income | repair
    pub kind: String,
    /// Positive into the sub-ledger, negative out of it.
    pub amount: Money,
    pub balance_after: Money,
    pub reference: String,
    pub memo: String,
    pub occurred_on: NaiveDate,
    pub journal_entry_id: i64,
    pub recorded_by: i64,
    pub created_at: DateTime<Utc>,
}

impl From<fund_movement::Model> for MovementView {
    fn from(m: fund_movement::Model) -> Self {
        MovementView {
            id: m.id,
            unit_id: m.unit_id,
            kind: m.kind,
            amount: Money::from_fen(m.amount),
            balance_after: Money::from_fen(m.balance_after),
            reference: m.reference,
            memo: m.memo,
            occurred_on: m.occurred_on,
            journal_entry_id: m.journal_entry_id,
            recorded_by: m.recorded_by,
            created_at: m.created_at,
        }
    }
}

#[derive(Object)]
pub struct MovementPage {
    pub items: Vec<MovementView>,
    pub total: u64,
    pub page: u64,
    pub per_page: u64,
}

#[derive(Object)]
pub struct SubLedgerView {
    pub unit_id: i64,
    /// Building, stairwell, number.
    pub unit: String,
    pub developer_held: bool,
    /// The owners now (the developer for a developer-held unit).
    pub owners: Vec<String>,
    pub initial_deposit: Option<Money>,
    pub balance: Money,
    /// 30% of the initial deposit: below it the unit must be topped up.
    pub top_up_line: Option<Money>,
    pub needs_top_up: bool,
}

impl From<SubLedger> for SubLedgerView {
    fn from(s: SubLedger) -> Self {
        SubLedgerView {
            unit_id: s.unit.unit.id,
            unit: s.unit.label(),
            developer_held: s.unit.unit.developer_held,
            owners: if s.unit.unit.developer_held { vec!["开发商 developer".into()] } else { s.unit.owners.iter().map(|(_, o)| o.name.clone()).collect() },
            initial_deposit: s.initial_deposit.map(Money::from_fen),
            balance: Money::from_fen(s.balance),
            top_up_line: s.initial_deposit.map(|d| Money::from_fen(super::rules::top_up_line(d))),
            needs_top_up: s.needs_top_up,
        }
    }
}

#[derive(Object)]
pub struct MismatchView {
    /// None: control-account lines that name no unit.
    pub unit_id: Option<i64>,
    pub sub_ledger: Money,
    pub journal: Money,
}

#[derive(Object)]
pub struct ReconciliationView {
    /// True when every sub-ledger equals its unit's control-account lines in the journal.
    pub agrees: bool,
    /// The fund control account (2242) in the journal.
    pub control_account: Money,
    /// The sum of every sub-ledger.
    pub sub_ledger_total: Money,
    /// The fund's bank account (1003).
    pub fund_bank: Money,
    pub mismatches: Vec<MismatchView>,
}

impl From<Reconciliation> for ReconciliationView {
    fn from(r: Reconciliation) -> Self {
        ReconciliationView {
            agrees: r.agrees(),
            control_account: Money::from_fen(r.control_account),
            sub_ledger_total: Money::from_fen(r.sub_ledger_total),
            fund_bank: Money::from_fen(r.fund_bank),
            mismatches: r
                .mismatches
                .into_iter()
                .map(|m| MismatchView { unit_id: m.unit_id, sub_ledger: Money::from_fen(m.sub_ledger), journal: Money::from_fen(m.journal) })
                .collect(),
        }
    }
}

#[derive(Object)]
pub struct CompoundFundView {
    pub compound_id: i64,
    pub check: ReconciliationView,
    pub units_below_top_up_line: u64,
    pub units: Vec<SubLedgerView>,
}

#[derive(Object)]
pub struct UnitFundView {
    pub sub_ledger: SubLedgerView,
    pub movements: Vec<MovementView>,
}

#[derive(Object)]
pub struct ShareView {
    pub unit_id: i64,
    pub unit: String,
    pub area: Area,
    pub share: Money,
    /// owner | developer
    pub payer: String,
}

#[derive(Object)]
pub struct ProjectView {
    pub id: i64,
    pub compound_id: i64,
    pub title: String,
    pub description: String,
    pub scope: String,
    pub scope_ids: Vec<i64>,
    pub budget: Money,
    /// The emergency it is (roof_leak, elevator_fault, ...), for a project that may spend on a notice.
    pub emergency: Option<String>,
    /// draft | voting | approved | rejected | in_progress | settled
    pub status: String,
    pub vote_id: Option<i64>,
    pub emergency_notice: Option<String>,
    pub emergency_noticed_at: Option<DateTime<Utc>>,
    pub approved_at: Option<DateTime<Utc>>,
    /// The last day of the approved plan's public notice; work starts the day after.
    pub notice_until: Option<NaiveDate>,
    pub started_at: Option<DateTime<Utc>>,
    pub actual_cost: Option<Money>,
    pub settled_at: Option<DateTime<Utc>>,
    pub journal_entry_id: Option<i64>,
    pub ticket_ids: Vec<i64>,
    /// planned (the budget split by area) until settled, then actual (what each sub-ledger paid).
    pub shares_are: String,
    pub shares: Vec<ShareView>,
}

async fn project_view(db: &sea_orm::DatabaseConnection, p: fund_project::Model) -> Result<ProjectView, Error> {
    let ticket_ids = projects::tickets_of(db, p.id).await?;
    let area = |hundredths: i64| Area::from_hundredths(hundredths).unwrap_or_else(|_| Area::from_hundredths(1).expect("0.01 m²"));
    let (shares_are, shares) = if p.status == projects::Status::Settled.as_str() {
        let stored = projects::shares_of(db, p.id).await?;
        let ids: Vec<i64> = stored.iter().map(|s| s.unit_id).collect();
        let units = entity::unit::Entity::find().filter(entity::unit::Column::Id.is_in(ids)).all(db).await?;
        let records = crate::registry::unit_records(db, units).await?;
        let label = |id: i64| records.iter().find(|r| r.unit.id == id).map(|r| r.label()).unwrap_or_default();
        ("actual", stored.into_iter().map(|s| ShareView { unit: label(s.unit_id), unit_id: s.unit_id, area: area(s.area), share: Money::from_fen(s.share), payer: s.payer }).collect())
    } else {
        let planned = projects::split(db, &p, Money::from_fen(p.budget)).await?;
        (
            "planned",
            planned
                .into_iter()
                .map(|l| ShareView { unit_id: l.unit.unit.id, unit: l.unit.label(), area: area(l.area), share: l.share, payer: l.payer.as_str().into() })
                .collect(),
        )
    };
    Ok(ProjectView {
        id: p.id,
        compound_id: p.compound_id,
        title: p.title,
        description: p.description,
        scope: p.scope_kind,
        scope_ids: serde_json::from_str(&p.scope_ids).unwrap_or_default(),
        budget: Money::from_fen(p.budget),
        emergency: p.emergency_kind,
        status: p.status,
        vote_id: p.vote_id,
        emergency_notice: p.emergency_notice,
        emergency_noticed_at: p.emergency_noticed_at,
        approved_at: p.approved_at,
        notice_until: p.notice_until,
        started_at: p.started_at,
        actual_cost: p.actual_cost.map(Money::from_fen),
        settled_at: p.settled_at,
        journal_entry_id: p.journal_entry_id,
        ticket_ids,
        shares_are: shares_are.into(),
        shares,
    })
}

/// Every unit's sub-ledger and the check, as the fund's page and the audit desk show them.
pub async fn compound_fund_view(db: &sea_orm::DatabaseConnection, compound_id: i64) -> Result<CompoundFundView, Error> {
    let check = super::reconcile(db, compound_id).await?;
    let units: Vec<SubLedgerView> = super::sub_ledgers(db, compound_id, None).await?.into_iter().map(SubLedgerView::from).collect();
    Ok(CompoundFundView { compound_id, check: check.into(), units_below_top_up_line: units.iter().filter(|u| u.needs_top_up).count() as u64, units })
}

async fn compound_for_fund(state: &AppState, actor: &Actor, compound_id: i64) -> Result<compound::Model, Error> {
    actor.require(Permission::ReadFund)?;
    find_visible::<compound::Entity>(&state.db, actor, compound_id).await
}

#[OpenApi(tag = "Tag::Funds")]
impl FundsApi {
    /// Set the compound's fund standard: initial deposit per m² or fixed (with the document it
    /// comes from), the allocation rule for interest and common income, the notice days.
    #[oai(path = "/compounds/:id/fund/policy", method = "put")]
    async fn set_policy(&self, auth: BearerAuth, id: Path<i64>, body: JsonBody<NewPolicy>) -> Reply<PolicyView> {
        Ok(Json(super::set_policy(&self.0.db, &auth.0, id.0, body.0).await?.into()))
    }

    #[oai(path = "/compounds/:id/fund/policy", method = "get")]
    async fn policy(&self, auth: BearerAuth, id: Path<i64>) -> Reply<PolicyView> {
        Ok(Json(super::get_policy(&self.0.db, &auth.0, id.0).await?.into()))
    }

    /// Record initial deposits received, computed by the standard: the units named, or every
    /// unit without one. A unit's initial deposit is recorded once. Honours Idempotency-Key.
    #[oai(path = "/compounds/:id/fund/deposits", method = "post")]
    async fn deposits(&self, auth: BearerAuth, id: Path<i64>, #[oai(name = "Idempotency-Key")] key: Header<Option<String>>, body: JsonBody<NewDeposits>) -> Reply<Vec<DepositView>> {
        let deposits = super::record_deposits(&self.0.db, &auth.0, id.0, body.0, key.0.as_deref()).await?;
        Ok(Json(deposits.into_iter().map(DepositView::from).collect()))
    }

    /// A top-up (续交) paid into the unit's sub-ledger. Honours Idempotency-Key.
    #[oai(path = "/units/:id/fund/top-ups", method = "post")]
    async fn top_up(&self, auth: BearerAuth, id: Path<i64>, #[oai(name = "Idempotency-Key")] key: Header<Option<String>>, body: JsonBody<NewTopUp>) -> Reply<MovementView> {
        Ok(Json(super::top_up(&self.0.db, &auth.0, id.0, body.0, key.0.as_deref()).await?.into()))
    }

    /// Allocate interest or owners' common-area income to every sub-ledger by the compound's
    /// rule, exactly to the fen (leftover fen to the largest remainders, then the lower unit id).
    /// Honours Idempotency-Key.
    #[oai(path = "/compounds/:id/fund/allocations", method = "post")]
    async fn allocate(&self, auth: BearerAuth, id: Path<i64>, #[oai(name = "Idempotency-Key")] key: Header<Option<String>>, body: JsonBody<NewAllocation>) -> Reply<Vec<MovementView>> {
        let movements = super::allocate(&self.0.db, &auth.0, id.0, body.0, key.0.as_deref()).await?;
        Ok(Json(movements.into_iter().map(MovementView::from).collect()))
    }

    /// Every unit's sub-ledger balance, and the check that they add up to the control account.
    #[oai(path = "/compounds/:id/fund", method = "get")]
    async fn compound_fund(&self, auth: BearerAuth, id: Path<i64>) -> Reply<CompoundFundView> {
        let compound = compound_for_fund(&self.0, &auth.0, id.0).await?;
        Ok(Json(compound_fund_view(&self.0.db, compound.id).await?))
    }

    /// The check alone: each unit's sub-ledger against its control-account lines in the journal.
    #[oai(path = "/compounds/:id/fund/check", method = "get")]
    async fn check(&self, auth: BearerAuth, id: Path<i64>) -> Reply<ReconciliationView> {
        let compound = compound_for_fund(&self.0, &auth.0, id.0).await?;
        Ok(Json(super::reconcile(&self.0.db, compound.id).await?.into()))
    }

    /// Units below 30% of their initial deposit (exactly 30% is not below).
    #[oai(path = "/compounds/:id/fund/low-balances", method = "get")]
    async fn low_balances(&self, auth: BearerAuth, id: Path<i64>) -> Reply<Vec<SubLedgerView>> {
        let compound = compound_for_fund(&self.0, &auth.0, id.0).await?;
        let low = super::sub_ledgers(&self.0.db, compound.id, None).await?.into_iter().filter(|s| s.needs_top_up);
        Ok(Json(low.map(SubLedgerView::from).collect()))
    }

    /// Every movement of every sub-ledger of the compound, oldest first.
    #[oai(path = "/compounds/:id/fund/movements", method = "get")]
    async fn movements(
        &self,
        auth: BearerAuth,
        id: Path<i64>,
        #[oai(validator(minimum(value = "1"), maximum(value = "1000000")))] page: Query<Option<u64>>,
        #[oai(validator(minimum(value = "1"), maximum(value = "500")))] per_page: Query<Option<u64>>,
    ) -> Reply<MovementPage> {
        let compound = compound_for_fund(&self.0, &auth.0, id.0).await?;
        let (page, per_page) = (page.0.unwrap_or(1), per_page.0.unwrap_or(100));
        let (items, total) = super::compound_movements(&self.0.db, compound.id, page, per_page).await?;
        Ok(Json(MovementPage { items: items.into_iter().map(MovementView::from).collect(), total, page, per_page }))
    }

    /// A unit's sub-ledger with its whole history (an owner: their own units; the balance stays
    /// with the unit when it is sold).
    #[oai(path = "/units/:id/fund", method = "get")]
    async fn unit_fund(&self, auth: BearerAuth, id: Path<i64>) -> Reply<UnitFundView> {
        let unit = super::readable_unit(&self.0.db, &auth.0, id.0).await?;
        let sub_ledger = super::sub_ledgers(&self.0.db, unit.compound_id, Some(unit.id)).await?.into_iter().next().ok_or(Error::NotFound("unit"))?;
        let movements = super::unit_movements(&self.0.db, unit.id).await?;
        Ok(Json(UnitFundView { sub_ledger: sub_ledger.into(), movements: movements.into_iter().map(MovementView::from).collect() }))
    }

    /// A repair to be paid from the fund; writes the plan's notice draft.
    #[oai(path = "/compounds/:id/fund/projects", method = "post")]
    async fn create_project(&self, auth: BearerAuth, id: Path<i64>, body: JsonBody<projects::NewProject>) -> Reply<ProjectView> {
        let project = projects::create(&self.0.db, &auth.0, id.0, body.0).await?;
        Ok(Json(project_view(&self.0.db, project).await?))
    }

    #[oai(path = "/compounds/:id/fund/projects", method = "get")]
    async fn projects(&self, auth: BearerAuth, id: Path<i64>) -> Reply<Vec<ProjectView>> {
        let mut views = Vec::new();
        for project in projects::list(&self.0.db, &auth.0, id.0).await? {
            let current = projects::get(&self.0.db, &auth.0, project.id).await?;
            views.push(project_view(&self.0.db, current).await?);
        }
        Ok(Json(views))
    }

    /// A project with its tickets and its split: planned over the budget, or as settled.
    #[oai(path = "/fund-projects/:id", method = "get")]
    async fn project(&self, auth: BearerAuth, id: Path<i64>) -> Reply<ProjectView> {
        let project = projects::get(&self.0.db, &auth.0, id.0).await?;
        Ok(Json(project_view(&self.0.db, project).await?))
    }

    /// Put a draft project to the owners of its scope (using the fund: a majority matter).
    #[oai(path = "/fund-projects/:id/vote", method = "post")]
    async fn put_to_vote(&self, auth: BearerAuth, id: Path<i64>, body: JsonBody<projects::VoteTimes>) -> Reply<ProjectView> {
        let project = projects::put_to_vote(&self.0.db, &auth.0, id.0, body.0).await?;
        Ok(Json(project_view(&self.0.db, project).await?))
    }

    /// An emergency repair's prior notice to the owners, published at once; approves the
    /// project without a vote.
    #[oai(path = "/fund-projects/:id/emergency-notice", method = "post")]
    async fn emergency_notice(&self, auth: BearerAuth, id: Path<i64>, body: JsonBody<projects::EmergencyNotice>) -> Reply<ProjectView> {
        let project = projects::record_emergency_notice(&self.0.db, &auth.0, id.0, body.0).await?;
        Ok(Json(project_view(&self.0.db, project).await?))
    }

    /// Start the work, once the approved plan's public notice has run.
    #[oai(path = "/fund-projects/:id/start", method = "post")]
    async fn start(&self, auth: BearerAuth, id: Path<i64>) -> Reply<ProjectView> {
        let project = projects::start(&self.0.db, &auth.0, id.0).await?;
        Ok(Json(project_view(&self.0.db, project).await?))
    }

    /// Settle with the actual cost: split over the scope's units by area and debited to their
    /// sub-ledgers in one entry; writes the spending notice draft. Honours Idempotency-Key.
    #[oai(path = "/fund-projects/:id/settlement", method = "post")]
    async fn settle(&self, auth: BearerAuth, id: Path<i64>, #[oai(name = "Idempotency-Key")] key: Header<Option<String>>, body: JsonBody<projects::Settlement>) -> Reply<ProjectView> {
        let project = projects::settle(&self.0.db, &auth.0, id.0, body.0, key.0.as_deref()).await?;
        Ok(Json(project_view(&self.0.db, project).await?))
    }
}
