//! Elevator-retrofit endpoints (tag `votes`): a stairwell's cost-sharing plan with its consent
//! vote, the shares as bills, and the running-cost fee item.
use chrono::{DateTime, NaiveDate, Utc};
use poem_openapi::{
    Object, OpenApi,
    param::{Header, Path},
    payload::Json,
};

use super::{NewPlan, RunningCosts, ShareBilling};
use crate::{
    AppState,
    auth::api::BearerAuth,
    billing::api::FeeItemView,
    error::{ApiError, Error},
    http::{Area as Tag, JsonBody},
    types::{Money, format_hundredths},
};
use entity::elevator_plan;

pub struct ElevatorApi(pub AppState);

type Reply<T> = Result<Json<T>, ApiError>;

#[derive(Object)]
pub struct HouseholdShareView {
    pub unit_id: i64,
    pub floor: i32,
    /// m²
    pub area: String,
    /// The floor's coefficient x area, the floor's percentage, or the flat's coefficient.
    pub weight: String,
    pub share: Money,
    /// owner | developer
    pub payer: String,
}

#[derive(Object)]
pub struct PlanView {
    pub id: i64,
    pub compound_id: i64,
    pub stairwell_id: i64,
    pub title: String,
    pub total_cost: Money,
    pub subsidies: Money,
    /// Total cost minus subsidies: what the shares add up to.
    pub owners_part: Money,
    pub method: String,
    pub coefficients: std::collections::BTreeMap<String, String>,
    pub exempt_floors: Vec<i32>,
    /// The consent vote (`GET /votes/{id}`).
    pub vote_id: i64,
    /// voting | approved | rejected | billed
    pub status: String,
    /// The fee item its shares were billed under (`GET /units/{id}/bills` shows them).
    pub share_fee_item_id: Option<i64>,
    pub running_cost_fee_item_id: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub shares: Vec<HouseholdShareView>,
}

async fn plan_view(db: &sea_orm::DatabaseConnection, p: elevator_plan::Model) -> Result<PlanView, Error> {
    let shares = super::shares_of(db, p.id).await?;
    Ok(PlanView {
        id: p.id,
        compound_id: p.compound_id,
        stairwell_id: p.stairwell_id,
        title: p.title,
        total_cost: Money::from_fen(p.total_cost),
        subsidies: Money::from_fen(p.subsidies),
        owners_part: Money::from_fen(p.owners_part),
        method: p.method,
        coefficients: serde_json::from_str(&p.coefficients).unwrap_or_default(),
        exempt_floors: serde_json::from_str(&p.exempt_floors).unwrap_or_default(),
        vote_id: p.vote_id,
        status: p.status,
        share_fee_item_id: p.share_fee_item_id,
        running_cost_fee_item_id: p.running_cost_fee_item_id,
        created_at: p.created_at,
        shares: shares
            .into_iter()
            .map(|s| HouseholdShareView { unit_id: s.unit_id, floor: s.floor, area: format_hundredths(s.area), weight: s.weight, share: Money::from_fen(s.share), payer: s.payer })
            .collect(),
    })
}

#[derive(Object)]
pub struct ShareBillView {
    pub bill_id: i64,
    pub unit_id: i64,
    pub period: String,
    pub amount: Money,
    pub due_date: NaiveDate,
    pub payer: String,
}

#[derive(Object)]
pub struct BilledPlanView {
    pub plan: PlanView,
    pub bills: Vec<ShareBillView>,
}

#[OpenApi(tag = "Tag::Votes")]
impl ElevatorApi {
    /// A stairwell's elevator-retrofit plan: every household's share of the owners' part
    /// (adding up to it exactly), and its consent vote under the chosen local rule.
    #[oai(path = "/stairwells/:id/elevator-plans", method = "post")]
    async fn create(&self, auth: BearerAuth, id: Path<i64>, body: JsonBody<NewPlan>) -> Reply<PlanView> {
        let plan = super::create_plan(&self.0.db, &auth.0, id.0, body.0).await?;
        Ok(Json(plan_view(&self.0.db, plan).await?))
    }

    #[oai(path = "/stairwells/:id/elevator-plans", method = "get")]
    async fn list(&self, auth: BearerAuth, id: Path<i64>) -> Reply<Vec<PlanView>> {
        let mut views = Vec::new();
        for plan in super::list(&self.0.db, &auth.0, id.0).await? {
            views.push(plan_view(&self.0.db, super::get(&self.0.db, &auth.0, plan.id).await?).await?);
        }
        Ok(Json(views))
    }

    #[oai(path = "/elevator-plans/:id", method = "get")]
    async fn get(&self, auth: BearerAuth, id: Path<i64>) -> Reply<PlanView> {
        let plan = super::get(&self.0.db, &auth.0, id.0).await?;
        Ok(Json(plan_view(&self.0.db, plan).await?))
    }

    /// Once the consent vote has passed: the shares as one-off bills, in up to 24 monthly
    /// instalments, each share split exactly; developer-held flats billed to the developer.
    /// Honours Idempotency-Key.
    #[oai(path = "/elevator-plans/:id/bills", method = "post")]
    async fn bills(&self, auth: BearerAuth, id: Path<i64>, #[oai(name = "Idempotency-Key")] key: Header<Option<String>>, body: JsonBody<ShareBilling>) -> Reply<BilledPlanView> {
        let (plan, bills) = super::bill_shares(&self.0.db, &auth.0, id.0, body.0, key.0.as_deref()).await?;
        Ok(Json(BilledPlanView {
            plan: plan_view(&self.0.db, plan).await?,
            bills: bills
                .into_iter()
                .map(|b| ShareBillView { bill_id: b.id, unit_id: b.unit_id, period: b.period, amount: Money::from_fen(b.amount), due_date: b.due_date, payer: b.payer })
                .collect(),
        }))
    }

    /// The stairwell's monthly elevator running-cost fee item by floor coefficients, from the plan.
    #[oai(path = "/elevator-plans/:id/running-cost-fee-item", method = "post")]
    async fn running_costs(&self, auth: BearerAuth, id: Path<i64>, body: JsonBody<RunningCosts>) -> Reply<FeeItemView> {
        Ok(Json(super::running_cost_fee_item(&self.0.db, &auth.0, id.0, body.0).await?.into()))
    }
}
