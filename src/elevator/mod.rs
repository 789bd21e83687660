//! Elevator retrofits (加装电梯): a stairwell's cost-sharing plan, its consent vote under a
//! chosen local rule, and, once it passes, the households' shares as one-off bills (optionally
//! in instalments) and an elevator running-cost fee item by the plan's floor coefficients.
pub mod api;
pub mod rules;

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use sea_orm::{QuerySelect, DatabaseConnection, ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter, QueryOrder};

use crate::{
    idempotency,
    auth::{
        Actor, Permission,
        tenancy::{find_visible, lock_visible},
    },
    billing::{
        self, FeeKind, NewFeeItem, OneOffBills, RoundingRule,
        rules::{Charged, Cycle, Payer, split_exactly},
    },
    error::{Error, Result},
    ledger::Account,
    registry::{self, Scope, ScopeKind},
    types::{Money, Period, Rate, required_text},
    votes::{self, NewVote, rules::Matter},
};
use entity::{compound, elevator_plan, elevator_share, fee_item, stairwell, unit, vote};
use rules::{Household, SharingMethod, Terms};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Voting,
    Approved,
    Rejected,
    Billed,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Voting => "voting",
            Status::Approved => "approved",
            Status::Rejected => "rejected",
            Status::Billed => "billed",
        }
    }
}

#[derive(poem_openapi::Object, serde::Deserialize)]
pub struct NewPlan {
    pub title: String,
    pub total_cost: Money,
    /// Government subsidies; the owners pay the rest.
    #[oai(default)]
    #[serde(default)]
    pub subsidies: Money,
    pub method: SharingMethod,
    /// area_coefficient: floor -> coefficient ({"3": "0.7"}); floor_percentage: floor ->
    /// percent of the owners' part ({"3": "10"}); unit_coefficient: unit id -> coefficient.
    pub coefficients: BTreeMap<String, Rate>,
    /// Floors that pay nothing (typically 1 and 2).
    #[oai(default)]
    #[serde(default)]
    pub exempt_floors: Vec<i32>,
    /// The local consent rule the stairwell votes by (`GET /vote-rule-sets`).
    pub rule_set: String,
    /// When the consent vote opens; now when left out.
    pub opens_at: Option<DateTime<Utc>>,
    pub closes_at: DateTime<Utc>,
}

fn parse_coefficients(coefficients: &BTreeMap<String, Rate>) -> Result<BTreeMap<i64, Decimal>> {
    coefficients
        .iter()
        .map(|(key, rate)| key.trim().parse::<i64>().map(|k| (k, rate.value())).map_err(|_| Error::invalid("coefficients", format!("{key:?} is not a floor or unit number"))))
        .collect()
}

/// The stairwell's flats in unit-id order, with their areas.
async fn households(db: &impl ConnectionTrait, stairwell: &stairwell::Model) -> Result<Vec<(unit::Model, Household)>> {
    let units = Scope::new(ScopeKind::Stairwells, &[stairwell.id]).units(db, stairwell.compound_id).await?;
    Ok(units
        .into_iter()
        .map(|u| {
            let household = Household { unit_id: u.id, floor: u.floor, area: registry::unit_area(&u) };
            (u, household)
        })
        .collect())
}

/// Creates the plan with every household's share, and opens its consent vote over the
/// stairwell (an alteration: the special majority) under the chosen rule.
pub async fn create_plan(db: &DatabaseConnection, actor: &Actor, stairwell_id: i64, new: NewPlan) -> Result<elevator_plan::Model> {
    actor.require(Permission::ManageElevatorPlans)?;
    let stairwell = find_visible::<stairwell::Entity>(db, actor, stairwell_id).await?;
    let compound = compound::Entity::find_by_id(stairwell.compound_id).one(db).await?.ok_or(Error::NotFound("compound"))?;
    let title = required_text("title", &new.title, 200)?;
    if !new.total_cost.is_positive() {
        return Err(Error::invalid("total_cost", "total_cost must be greater than 0"));
    }
    if new.subsidies.fen() < 0 || new.subsidies >= new.total_cost {
        return Err(Error::invalid("subsidies", "subsidies must be at least 0 and less than total_cost"));
    }
    let owners_part = Money::from_fen(new.total_cost.fen() - new.subsidies.fen());
    let coefficients = parse_coefficients(&new.coefficients)?;
    let exempt: BTreeSet<i32> = new.exempt_floors.iter().copied().collect();
    let flats = households(db, &stairwell).await?;
    if flats.is_empty() {
        return Err(Error::invalid("stairwell", "the stairwell has no units"));
    }
    let terms = Terms { method: new.method, coefficients: &coefficients, exempt_floors: &exempt };
    let households: Vec<Household> = flats.iter().map(|(_, h)| h.clone()).collect();
    let shares = rules::shares(owners_part, &households, &terms).map_err(|problem| Error::invalid("coefficients", problem))?;
    let txn = crate::db::begin(db).await?;
    // One live plan a stairwell: two passed plans would bill its households twice.
    stairwell::Entity::find_by_id(stairwell.id).lock_exclusive().one(&txn).await?;
    let live = elevator_plan::Entity::find()
        .filter(elevator_plan::Column::StairwellId.eq(stairwell.id))
        .filter(elevator_plan::Column::Status.is_in([Status::Voting.as_str(), Status::Approved.as_str(), Status::Billed.as_str()]))
        .one(&txn)
        .await?;
    if let Some(live) = live {
        return Err(Error::conflict("stairwell", format!("the stairwell already has plan {} ({}); a new plan follows a rejected one", live.id, live.status)));
    }
    let vote = votes::insert_vote(
        &txn,
        actor,
        &compound,
        NewVote {
            title: format!("加装电梯 Elevator retrofit: {title}"),
            description: Some(format!("总费用 Total cost {}; 补贴 subsidies {}; 业主承担 owners' part {owners_part}", new.total_cost, new.subsidies)),
            matter: Matter::AlterationOrRebuilding,
            scope: ScopeKind::Stairwells,
            scope_ids: vec![stairwell.id],
            opens_at: new.opens_at,
            closes_at: new.closes_at,
            rule_set: Some(new.rule_set.clone()),
        },
    )
    .await?;
    let plan = elevator_plan::ActiveModel {
        company_id: Set(compound.company_id),
        compound_id: Set(compound.id),
        stairwell_id: Set(stairwell.id),
        title: Set(title),
        total_cost: Set(new.total_cost.fen()),
        subsidies: Set(new.subsidies.fen()),
        owners_part: Set(owners_part.fen()),
        method: Set(new.method.as_str().into()),
        coefficients: Set(serde_json::to_string(&coefficients.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect::<BTreeMap<_, _>>()).map_err(anyhow::Error::from)?),
        exempt_floors: Set(serde_json::to_string(&exempt).map_err(anyhow::Error::from)?),
        vote_id: Set(vote.id),
        status: Set(Status::Voting.as_str().into()),
        created_by: Set(actor.user_id),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    for ((unit, household), share) in flats.iter().zip(shares) {
        elevator_share::ActiveModel {
            plan_id: Set(plan.id),
            unit_id: Set(unit.id),
            floor: Set(household.floor),
            area: Set(household.area),
            weight: Set(share.weight.normalize().to_string()),
            share: Set(share.share.fen()),
            payer: Set(if unit.developer_held { Payer::Developer } else { Payer::Owner }.as_str().into()),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
    }
    txn.commit().await?;
    votes::bring_up_to_date(db, vote).await?;
    Ok(plan)
}

/// A plan within the actor's reach, its vote's outcome taken in first.
pub async fn get(db: &DatabaseConnection, actor: &Actor, id: i64) -> Result<elevator_plan::Model> {
    actor.require(Permission::ReadVotes)?;
    let plan = find_visible::<elevator_plan::Entity>(db, actor, id).await?;
    if plan.status != Status::Voting.as_str() {
        return Ok(plan);
    }
    votes::decide_if_due(db, plan.vote_id).await?;
    find_visible::<elevator_plan::Entity>(db, actor, id).await
}

pub async fn list(db: &impl ConnectionTrait, actor: &Actor, stairwell_id: i64) -> Result<Vec<elevator_plan::Model>> {
    actor.require(Permission::ReadVotes)?;
    let stairwell = find_visible::<stairwell::Entity>(db, actor, stairwell_id).await?;
    Ok(elevator_plan::Entity::find().filter(elevator_plan::Column::StairwellId.eq(stairwell.id)).order_by_desc(elevator_plan::Column::Id).all(db).await?)
}

pub async fn shares_of(db: &impl ConnectionTrait, plan_id: i64) -> Result<Vec<elevator_share::Model>> {
    Ok(elevator_share::Entity::find().filter(elevator_share::Column::PlanId.eq(plan_id)).order_by_asc(elevator_share::Column::UnitId).all(db).await?)
}

/// Takes a closed consent vote's result into its plan.
pub async fn vote_decided(txn: &DatabaseTransaction, vote: &vote::Model) -> Result<()> {
    let Some(plan) = elevator_plan::Entity::find().filter(elevator_plan::Column::VoteId.eq(vote.id)).one(txn).await? else { return Ok(()) };
    if plan.status != Status::Voting.as_str() {
        return Ok(());
    }
    let mut active: elevator_plan::ActiveModel = plan.into();
    active.status = Set(if vote.passed == Some(true) { Status::Approved } else { Status::Rejected }.as_str().into());
    active.update(txn).await?;
    Ok(())
}

/// A plan to change, locked, in one of the allowed states.
async fn for_change(txn: &DatabaseTransaction, actor: &Actor, id: i64, allowed: &[Status]) -> Result<elevator_plan::Model> {
    actor.require(Permission::ManageElevatorPlans)?;
    let plan = lock_visible::<elevator_plan::Entity>(txn, actor, id).await?;
    Error::unless_status("plan", &plan.status, &allowed.iter().map(|s| s.as_str()).collect::<Vec<_>>())?;
    Ok(plan)
}

#[derive(poem_openapi::Object, serde::Deserialize)]
pub struct ShareBilling {
    /// 1 for a single bill per household; up to 24 monthly instalments.
    #[oai(default = "one")]
    #[serde(default = "one")]
    pub instalments: u32,
    /// The first instalment's due date; each further one a month later.
    pub first_due: NaiveDate,
}

fn one() -> u32 {
    1
}

/// Turns the approved plan's shares into one-off bills (developer-held flats billed to the
/// developer), each share split exactly into its instalments.
pub async fn bill_shares(db: &DatabaseConnection, actor: &Actor, id: i64, billing: ShareBilling, key: Option<&str>) -> Result<(elevator_plan::Model, Vec<entity::bill::Model>)> {
    actor.require(Permission::ManageElevatorPlans)?;
    if !(1..=24).contains(&billing.instalments) {
        return Err(Error::invalid("instalments", "instalments must be from 1 to 24"));
    }
    // Takes in the vote's outcome, if it closed meanwhile.
    get(db, actor, id).await?;
    let request = serde_json::json!(["elevator_bills", id, billing.instalments, billing.first_due]);
    idempotency::once(db, actor, key, &request, async |txn| {
        let plan = for_change(txn, actor, id, &[Status::Approved]).await?;
        let today = registry::compound_today(txn, plan.compound_id).await?;
        if billing.first_due < today || billing.first_due > today + chrono::Duration::days(366) {
            return Err(Error::invalid("first_due", "first_due must be from today to a year from now"));
        }
        let shares: Vec<elevator_share::Model> = shares_of(txn, plan.id).await?.into_iter().filter(|s| s.share > 0).collect();
        // Who pays is who holds the flat now: a flat the developer sold during the vote is the buyer's.
        let held: BTreeSet<i64> = unit::Entity::find()
            .filter(unit::Column::Id.is_in(shares.iter().map(|s| s.unit_id)))
            .filter(unit::Column::DeveloperHeld.eq(true))
            .all(txn)
            .await?
            .into_iter()
            .map(|u| u.id)
            .collect();
        let equal = vec![Decimal::ONE; billing.instalments as usize];
        let mut instalments: Vec<(Period, NaiveDate, Vec<Charged>)> = (0..billing.instalments)
            .map(|i| {
                let due = billing.first_due + chrono::Months::new(i);
                (Period::containing(due), due, Vec::new())
            })
            .collect();
        for share in &shares {
            let parts = split_exactly(Money::from_fen(share.share), &equal).map_err(|e| anyhow::anyhow!("instalments of share {}: {e}", share.id))?;
            let payer = if held.contains(&share.unit_id) { Payer::Developer } else { Payer::Owner };
            for (instalment, part) in instalments.iter_mut().zip(parts) {
                if part.is_positive() {
                    instalment.2.push(Charged { unit_id: share.unit_id, amount: part, payer });
                }
            }
        }
        instalments.retain(|i| !i.2.is_empty());
        let (item, _) = billing::one_off_bills(
            txn,
            actor,
            OneOffBills {
                company_id: plan.company_id,
                compound_id: plan.compound_id,
                item_name: format!("加装电梯分摊 {} (plan {})", plan.title, plan.id),
                credit: Account::ElevatorCollections,
                memo: format!("elevator retrofit shares, plan {}", plan.id),
                instalments,
            },
        )
        .await?;
        let mut active: elevator_plan::ActiveModel = plan.into();
        active.status = Set(Status::Billed.as_str().into());
        active.share_fee_item_id = Set(Some(item.id));
        active.update(txn).await?;
        Ok(id)
    })
    .await?;
    let plan = find_visible::<elevator_plan::Entity>(db, actor, id).await?;
    let bills = entity::bill::Entity::find().filter(entity::bill::Column::FeeItemId.eq(plan.share_fee_item_id.unwrap_or_default())).order_by_asc(entity::bill::Column::Id).all(db).await?;
    Ok((plan, bills))
}

#[derive(poem_openapi::Object, serde::Deserialize)]
pub struct RunningCosts {
    pub name: String,
    /// 元 per m² per month before the floor's coefficient.
    pub rate: Rate,
    pub effective_from: Period,
    /// Floor -> coefficient; left out, the plan's own (an area_coefficient plan).
    pub floor_coefficients: Option<BTreeMap<String, Rate>>,
}

/// Creates the stairwell's monthly elevator running-cost fee item (electricity, maintenance,
/// inspection) by floor coefficients, from the plan: its coefficients and exempt floors unless
/// others are given.
pub async fn running_cost_fee_item(db: &DatabaseConnection, actor: &Actor, id: i64, costs: RunningCosts) -> Result<fee_item::Model> {
    actor.require(Permission::ManageElevatorPlans)?;
    actor.require(Permission::ManageFees)?;
    if costs.rate.value().is_zero() {
        return Err(Error::invalid("rate", "rate must be above 0"));
    }
    // Takes in the vote's outcome, if it closed meanwhile.
    get(db, actor, id).await?;
    let txn = crate::db::begin(db).await?;
    let plan = for_change(&txn, actor, id, &[Status::Approved, Status::Billed]).await?;
    if let Some(item) = plan.running_cost_fee_item_id {
        return Err(Error::conflict("status", format!("the plan's running-cost fee item exists already: {item}")));
    }
    let floor_coefficients = match costs.floor_coefficients {
        Some(given) => given,
        None if plan.method == SharingMethod::AreaCoefficient.as_str() => {
            let stored: BTreeMap<String, String> = serde_json::from_str(&plan.coefficients).map_err(anyhow::Error::from)?;
            let exempt: BTreeSet<i32> = serde_json::from_str(&plan.exempt_floors).map_err(anyhow::Error::from)?;
            stored
                .into_iter()
                .filter(|(floor, _)| floor.parse::<i32>().is_ok_and(|f| !exempt.contains(&f)))
                .map(|(floor, value)| value.parse::<Rate>().map(|rate| (floor, rate)).map_err(|e| anyhow::anyhow!("stored coefficient: {e}")))
                .collect::<std::result::Result<_, _>>()?
        }
        None => return Err(Error::invalid("floor_coefficients", "this plan is not by floor coefficients: give floor_coefficients")),
    };
    let item = billing::create_fee_item(
        &txn,
        actor,
        plan.compound_id,
        NewFeeItem {
            name: costs.name,
            kind: FeeKind::FloorCoefficient,
            rate: Some(costs.rate),
            amount: None,
            split: None,
            floor_coefficients,
            scope: ScopeKind::Stairwells,
            scope_ids: vec![plan.stairwell_id],
            unit_uses: Vec::new(),
            cycle: Cycle::Monthly,
            due_days: 30,
            rounding: RoundingRule::half_up(),
            late_fee: None,
            vacancy_ratio: None,
            effective_from: costs.effective_from,
            effective_to: None,
        },
    )
    .await?;
    elevator_plan::ActiveModel { id: Set(plan.id), running_cost_fee_item_id: Set(Some(item.id)), ..Default::default() }.update(&txn).await?;
    txn.commit().await?;
    Ok(item)
}
