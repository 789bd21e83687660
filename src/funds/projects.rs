//! Repair projects paid from the maintenance fund. Lifecycle: draft -> voting -> approved or
//! rejected -> public notice for the compound's notice days -> in progress -> settled. Settling
//! apportions the actual cost over the scope's units by area and debits each sub-ledger. Money
//! leaves the fund only with a passed vote, or for an emergency with a recorded prior notice to
//! the owners. Each step writes its notice: the plan, the per-unit split, the spending.
use chrono::{DateTime, Duration, Utc};
use sea_orm::{DatabaseConnection, ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter, QueryOrder};

use super::{FundPosting, MovementKind, post_to_sub_ledgers, rules};
use crate::{
    idempotency,
    auth::{
        Actor, Permission,
        tenancy::{find_visible, lock_visible},
    },
    billing::rules::Payer,
    error::{Error, Result},
    ledger::{self, Account, Line},
    notices::{self, NoticeCategory, NewNotice},
    registry::{self, Scope, ScopeKind},
    tickets::CostRoute,
    types::{Money, required_lines, required_text},
    votes::{self, NewVote, rules::Matter},
};
use entity::{compound, fund_project, fund_project_share, fund_project_ticket, ticket, vote};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Draft,
    Voting,
    Approved,
    Rejected,
    InProgress,
    Settled,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Draft => "draft",
            Status::Voting => "voting",
            Status::Approved => "approved",
            Status::Rejected => "rejected",
            Status::InProgress => "in_progress",
            Status::Settled => "settled",
        }
    }
}

/// The emergencies that may spend from the fund on a recorded prior notice instead of a vote.
#[derive(Clone, Copy, Debug, PartialEq, Eq, poem_openapi::Enum, serde::Deserialize)]
#[oai(rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum EmergencyKind {
    RoofLeak,
    /// A dangerous elevator fault.
    ElevatorFault,
    PumpFailure,
    FallingFacade,
    DrainageFailure,
    FireSystemFailure,
}

impl EmergencyKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EmergencyKind::RoofLeak => "roof_leak",
            EmergencyKind::ElevatorFault => "elevator_fault",
            EmergencyKind::PumpFailure => "pump_failure",
            EmergencyKind::FallingFacade => "falling_facade",
            EmergencyKind::DrainageFailure => "drainage_failure",
            EmergencyKind::FireSystemFailure => "fire_system_failure",
        }
    }
}

#[derive(poem_openapi::Object, serde::Deserialize)]
pub struct NewProject {
    pub title: String,
    pub description: String,
    #[oai(default = "ScopeKind::compound")]
    #[serde(default = "ScopeKind::compound")]
    pub scope: ScopeKind,
    #[oai(default)]
    #[serde(default)]
    pub scope_ids: Vec<i64>,
    /// The most the project may spend: what the owners vote on, or the emergency's cap.
    pub budget: Money,
    /// For an emergency only: which one. It may then spend after a recorded prior notice to the
    /// owners instead of a vote.
    pub emergency: Option<EmergencyKind>,
    /// Repair tickets routed to the maintenance fund that this project carries out.
    #[oai(default)]
    #[serde(default)]
    pub ticket_ids: Vec<i64>,
}

/// A unit's part of a cost.
pub struct ShareLine {
    pub unit: registry::UnitRecord,
    pub area: i64,
    pub share: Money,
    pub payer: Payer,
}

/// Splits `amount` over the scope's units by area share, exactly to the fen. Developer-held
/// units' shares are the developer's: debited to the sub-ledgers it holds, and named as its.
pub async fn split(db: &impl ConnectionTrait, project: &fund_project::Model, amount: Money) -> Result<Vec<ShareLine>> {
    let scope = Scope::stored(&project.scope_kind, &project.scope_ids)?;
    let units = registry::unit_records(db, scope.units(db, project.compound_id).await?).await?;
    let areas: Vec<i64> = units.iter().map(|u| registry::unit_area(&u.unit)).collect();
    let shares = rules::spread(amount, &areas).map_err(|problem| Error::conflict("scope", problem))?;
    Ok(units
        .into_iter()
        .zip(areas)
        .zip(shares)
        .map(|((unit, area), share)| ShareLine { payer: if unit.unit.developer_held { Payer::Developer } else { Payer::Owner }, unit, area, share })
        .collect())
}

/// The split as published: unit, area, share, and who pays (the owner or the developer), but
/// no names: a published notice is kept for good and reaches every owner of the scope.
fn split_text(lines: &[ShareLine]) -> String {
    lines
        .iter()
        .map(|l| {
            let payer = if l.payer == Payer::Developer { "开发商 developer" } else { "业主 owner" };
            format!("{}\t{} m²\t{}\t{payer}", l.unit.label(), crate::types::format_hundredths(l.area), l.share)
        })
        .collect::<Vec<_>>()
        .join("\n")
}

async fn write_notice(txn: &DatabaseTransaction, actor: &Actor, project: &fund_project::Model, category: NoticeCategory, title: String, body: String, published: bool) -> Result<()> {
    notices::write(
        txn,
        actor,
        NewNotice {
            company_id: project.company_id,
            compound_id: project.compound_id,
            category,
            title,
            body,
            audience: Scope::stored(&project.scope_kind, &project.scope_ids)?,
            source: format!("fund_project:{}", project.id),
            published,
        },
    )
    .await?;
    Ok(())
}

pub async fn create(db: &DatabaseConnection, actor: &Actor, compound_id: i64, new: NewProject) -> Result<fund_project::Model> {
    actor.require(Permission::ManageFundProjects)?;
    let compound = find_visible::<compound::Entity>(db, actor, compound_id).await?;
    let title = required_text("title", &new.title, 200)?;
    let description = required_lines("description", &new.description, 5000)?;
    if !new.budget.is_positive() {
        return Err(Error::invalid("budget", "budget must be greater than 0"));
    }
    let scope = Scope::new(new.scope, &new.scope_ids);
    scope.check(db, compound.id).await?;
    let tickets = ticket::Entity::find().filter(ticket::Column::Id.is_in(new.ticket_ids.iter().copied())).filter(ticket::Column::CompoundId.eq(compound.id)).all(db).await?;
    for id in &new.ticket_ids {
        let ticket = tickets.iter().find(|t| t.id == *id).ok_or_else(|| Error::invalid("ticket_ids", format!("ticket {id} is not a ticket of this compound")))?;
        if ticket.cost_route.as_deref() != Some(CostRoute::MaintenanceFund.as_str()) {
            return Err(Error::invalid("ticket_ids", format!("ticket {id} is not routed to the maintenance fund")));
        }
    }
    let txn = crate::db::begin(db).await?;
    let linked = fund_project_ticket::Entity::find().filter(fund_project_ticket::Column::TicketId.is_in(new.ticket_ids.iter().copied())).one(&txn).await?;
    if let Some(link) = linked {
        return Err(Error::conflict("ticket_ids", format!("ticket {} already belongs to project {}", link.ticket_id, link.project_id)));
    }
    let project = fund_project::ActiveModel {
        company_id: Set(compound.company_id),
        compound_id: Set(compound.id),
        title: Set(title),
        description: Set(description),
        scope_kind: Set(scope.kind.as_str().into()),
        scope_ids: Set(scope.ids_json()),
        budget: Set(new.budget.fen()),
        emergency_kind: Set(new.emergency.map(|kind| kind.as_str().to_string())),
        status: Set(Status::Draft.as_str().into()),
        created_by: Set(actor.user_id),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    let mut ticket_ids = new.ticket_ids.clone();
    ticket_ids.sort_unstable();
    ticket_ids.dedup();
    for ticket_id in ticket_ids {
        fund_project_ticket::ActiveModel { project_id: Set(project.id), ticket_id: Set(ticket_id) }.insert(&txn).await?;
    }
    let planned = split(&txn, &project, new.budget).await?;
    let body = format!(
        "{}\n\n预算 Budget: {}\n{}\n\n按面积分摊预估 Estimated split by area:\n{}",
        project.description,
        new.budget,
        if project.emergency_kind.is_some() { "应急维修 Emergency repair" } else { "须经业主表决 Needs the owners' vote" },
        split_text(&planned)
    );
    write_notice(&txn, actor, &project, NoticeCategory::FundUse, format!("维修资金使用方案 Repair plan: {}", project.title), body, false).await?;
    txn.commit().await?;
    Ok(project)
}

/// A project within the actor's reach, its vote's outcome taken in first.
pub async fn get(db: &DatabaseConnection, actor: &Actor, id: i64) -> Result<fund_project::Model> {
    actor.require(Permission::ReadFund)?;
    let project = find_visible::<fund_project::Entity>(db, actor, id).await?;
    match project.vote_id.filter(|_| project.status == Status::Voting.as_str()) {
        Some(vote_id) => {
            votes::decide_if_due(db, vote_id).await?;
            find_visible::<fund_project::Entity>(db, actor, id).await
        }
        None => Ok(project),
    }
}

pub async fn list(db: &impl ConnectionTrait, actor: &Actor, compound_id: i64) -> Result<Vec<fund_project::Model>> {
    actor.require(Permission::ReadFund)?;
    let compound = find_visible::<compound::Entity>(db, actor, compound_id).await?;
    Ok(fund_project::Entity::find().filter(fund_project::Column::CompoundId.eq(compound.id)).order_by_desc(fund_project::Column::Id).all(db).await?)
}

pub async fn tickets_of(db: &impl ConnectionTrait, project_id: i64) -> Result<Vec<i64>> {
    let links = fund_project_ticket::Entity::find().filter(fund_project_ticket::Column::ProjectId.eq(project_id)).order_by_asc(fund_project_ticket::Column::TicketId).all(db).await?;
    Ok(links.into_iter().map(|l| l.ticket_id).collect())
}

pub async fn shares_of(db: &impl ConnectionTrait, project_id: i64) -> Result<Vec<fund_project_share::Model>> {
    Ok(fund_project_share::Entity::find().filter(fund_project_share::Column::ProjectId.eq(project_id)).order_by_asc(fund_project_share::Column::UnitId).all(db).await?)
}

/// A project to change: staff who manage projects, locked for the change.
async fn for_change(txn: &DatabaseTransaction, actor: &Actor, id: i64, allowed: &[Status]) -> Result<fund_project::Model> {
    actor.require(Permission::ManageFundProjects)?;
    let project = lock_visible::<fund_project::Entity>(txn, actor, id).await?;
    Error::unless_status("project", &project.status, &allowed.iter().map(|s| s.as_str()).collect::<Vec<_>>())?;
    Ok(project)
}

#[derive(poem_openapi::Object, serde::Deserialize)]
pub struct VoteTimes {
    /// Now when left out.
    pub opens_at: Option<DateTime<Utc>>,
    pub closes_at: DateTime<Utc>,
    /// Left out: the national rules in force on the opening day.
    pub rule_set: Option<String>,
}

/// Puts a draft project to the owners of its scope (using the fund: a majority matter).
pub async fn put_to_vote(db: &DatabaseConnection, actor: &Actor, id: i64, times: VoteTimes) -> Result<fund_project::Model> {
    let txn = crate::db::begin(db).await?;
    let project = for_change(&txn, actor, id, &[Status::Draft]).await?;
    let compound = compound::Entity::find_by_id(project.compound_id).one(&txn).await?.ok_or(Error::NotFound("compound"))?;
    let scope = Scope::stored(&project.scope_kind, &project.scope_ids)?;
    let vote = votes::insert_vote(
        &txn,
        actor,
        &compound,
        NewVote {
            title: format!("使用维修资金 Using the fund: {}", project.title),
            description: Some(format!("{}\n\n预算 Budget: {}", project.description, Money::from_fen(project.budget))),
            matter: Matter::UsingTheFund,
            scope: scope.kind,
            scope_ids: scope.ids.into_iter().collect(),
            opens_at: times.opens_at,
            closes_at: times.closes_at,
            rule_set: times.rule_set,
        },
    )
    .await?;
    let mut active: fund_project::ActiveModel = project.into();
    active.status = Set(Status::Voting.as_str().into());
    active.vote_id = Set(Some(vote.id));
    let project = active.update(&txn).await?;
    txn.commit().await?;
    votes::bring_up_to_date(db, vote).await?;
    Ok(project)
}

#[derive(poem_openapi::Object, serde::Deserialize)]
pub struct EmergencyNotice {
    /// What the owners are told before the money is spent: the danger, the repair, the cost.
    pub text: String,
}

/// Records the prior notice of an emergency repair, published to the owners at once; the
/// project is then approved without a vote.
pub async fn record_emergency_notice(db: &DatabaseConnection, actor: &Actor, id: i64, notice: EmergencyNotice) -> Result<fund_project::Model> {
    actor.require(Permission::ManageFundProjects)?;
    let text = required_lines("text", &notice.text, 5000)?;
    let txn = crate::db::begin(db).await?;
    let project = for_change(&txn, actor, id, &[Status::Draft]).await?;
    if project.emergency_kind.is_none() {
        return Err(Error::conflict("emergency", "only an emergency repair may spend on a prior notice; put this project to the owners' vote"));
    }
    write_notice(&txn, actor, &project, NoticeCategory::Emergency, format!("应急维修告知 Emergency repair: {}", project.title), text.clone(), true).await?;
    let now = Utc::now();
    let mut active: fund_project::ActiveModel = project.into();
    active.emergency_notice = Set(Some(text));
    active.emergency_noticed_at = Set(Some(now));
    active.emergency_noticed_by = Set(Some(actor.user_id));
    active.status = Set(Status::Approved.as_str().into());
    active.approved_at = Set(Some(now));
    let project = active.update(&txn).await?;
    txn.commit().await?;
    Ok(project)
}

/// Takes a closed vote's result into its project: approved (then on public notice, with the
/// split drafted) or rejected.
pub async fn vote_decided(txn: &DatabaseTransaction, vote: &vote::Model) -> Result<()> {
    let Some(project) = fund_project::Entity::find().filter(fund_project::Column::VoteId.eq(vote.id)).one(txn).await? else { return Ok(()) };
    if project.status != Status::Voting.as_str() {
        return Ok(());
    }
    let passed = vote.passed == Some(true);
    let mut active: fund_project::ActiveModel = project.clone().into();
    if passed {
        let notice_days = super::policy_of(txn, project.compound_id).await.map_or(7, |p| p.notice_days);
        let today = registry::compound_today(txn, project.compound_id).await?;
        active.status = Set(Status::Approved.as_str().into());
        active.approved_at = Set(Some(Utc::now()));
        active.notice_until = Set((notice_days > 0).then(|| today + Duration::days(notice_days as i64 - 1)));
        // The public notice (公示) of the approved plan and its split runs from today.
        let split_lines = match split(txn, &project, Money::from_fen(project.budget)).await {
            Ok(lines) => split_text(&lines),
            Err(problem) => format!("({problem})"),
        };
        let body = format!(
            "业主表决通过 The owners approved the plan (vote {}).\n公示至 On public notice until: {}\n\n按面积分摊 Split by area of {}:\n{split_lines}",
            vote.id,
            (today + Duration::days(notice_days.max(1) as i64 - 1)),
            Money::from_fen(project.budget)
        );
        write_notice(txn, &Actor::system(), &project, NoticeCategory::FundUse, format!("维修资金分摊 Per-unit split: {}", project.title), body, true).await?;
    } else {
        active.status = Set(Status::Rejected.as_str().into());
        // Its tickets are free for a new plan.
        fund_project_ticket::Entity::delete_many().filter(fund_project_ticket::Column::ProjectId.eq(project.id)).exec(txn).await?;
    }
    active.update(txn).await?;
    Ok(())
}

/// Work starts once the approved plan's public notice has run (an emergency starts at once).
pub async fn start(db: &DatabaseConnection, actor: &Actor, id: i64) -> Result<fund_project::Model> {
    actor.require(Permission::ManageFundProjects)?;
    // Takes in the vote's outcome, if it closed meanwhile.
    get(db, actor, id).await?;
    let txn = crate::db::begin(db).await?;
    let project = for_change(&txn, actor, id, &[Status::Approved]).await?;
    let today = registry::compound_today(&txn, project.compound_id).await?;
    if let Some(until) = project.notice_until.filter(|until| today <= *until) {
        return Err(Error::conflict("status", format!("the plan is on public notice until {until}; work may start the day after")));
    }
    let mut active: fund_project::ActiveModel = project.into();
    active.status = Set(Status::InProgress.as_str().into());
    active.started_at = Set(Some(Utc::now()));
    let project = active.update(&txn).await?;
    txn.commit().await?;
    Ok(project)
}

#[derive(poem_openapi::Object, serde::Deserialize)]
pub struct Settlement {
    /// The repair's actual cost, paid from the fund.
    pub actual_cost: Money,
}

/// Settles the project with its actual cost: apportioned over the scope's units by area,
/// each share debited to its sub-ledger, the whole paid out of the fund's bank account, in one
/// transaction. Refused without a passed vote or a recorded emergency notice, and when the fund
/// does not hold the cost.
pub async fn settle(db: &DatabaseConnection, actor: &Actor, id: i64, settlement: Settlement, key: Option<&str>) -> Result<fund_project::Model> {
    actor.require(Permission::ManageFundProjects)?;
    let cost = settlement.actual_cost;
    if !cost.is_positive() {
        return Err(Error::invalid("actual_cost", "actual_cost must be greater than 0"));
    }
    let request = serde_json::json!(["fund_settlement", id, cost.fen()]);
    idempotency::once(db, actor, key, &request, async |txn| {
        let project = for_change(txn, actor, id, &[Status::InProgress]).await?;
        let vote_passed = match project.vote_id {
            Some(vote_id) => vote::Entity::find_by_id(vote_id).one(txn).await?.is_some_and(|v| v.passed == Some(true)),
            None => false,
        };
        let emergency_noticed = project.emergency_kind.is_some() && project.emergency_noticed_at.is_some();
        if !vote_passed && !emergency_noticed {
            return Err(Error::conflict("status", "the fund pays only with the owners' approving vote, or for an emergency with a recorded prior notice"));
        }
        if cost.fen() > project.budget {
            return Err(Error::conflict("actual_cost", format!("the owners approved at most {}; a higher cost needs a new approval", Money::from_fen(project.budget))));
        }
        let compound = compound::Entity::find_by_id(project.compound_id).one(txn).await?.ok_or(Error::NotFound("compound"))?;
        let mut chain = ledger::lock_chain(txn, compound.id).await?;
        let lines = split(txn, &project, cost).await?;
        // Each unit pays from its own sub-ledger, never from its neighbours' money: a unit that holds
        // less than its share must be topped up first (Order 165: the owner makes up the shortfall).
        let balances = super::sub_ledger_balances(txn, compound.id).await?;
        let short: Vec<String> = lines
            .iter()
            .filter_map(|l| {
                let held = balances.get(&l.unit.unit.id).copied().unwrap_or(0);
                (held < l.share.fen()).then(|| format!("{} holds {} of its {}", l.unit.label(), Money::from_fen(held), l.share))
            })
            .collect();
        if !short.is_empty() {
            return Err(Error::conflict("actual_cost", format!("top these sub-ledgers up first (POST /units/{{id}}/fund/top-ups): {}", short.join("; "))));
        }
        let movements = post_to_sub_ledgers(
            txn,
            &mut chain,
            actor,
            &compound,
            FundPosting {
                kind: MovementKind::Repair,
                reference: format!("fund_project:{}", project.id),
                memo: format!("repair: {}", project.title),
                occurred_on: registry::local_today(&compound),
                per_unit: lines.iter().map(|l| (l.unit.unit.id, Money::from_fen(-l.share.fen()))).collect(),
                other_side: vec![Line::credit(Account::FundBank, cost.fen())],
            },
        )
        .await?;
        for line in &lines {
            let movement_id = movements.iter().find(|m| m.unit_id == line.unit.unit.id).map(|m| m.id);
            fund_project_share::ActiveModel {
                project_id: Set(project.id),
                unit_id: Set(line.unit.unit.id),
                area: Set(line.area),
                share: Set(line.share.fen()),
                payer: Set(line.payer.as_str().into()),
                movement_id: Set(movement_id),
                ..Default::default()
            }
            .insert(txn)
            .await?;
        }
        let entry_id = movements.first().map(|m| m.journal_entry_id);
        let body = format!("实际费用 Actual cost: {cost}\n预算 Budget: {}\n\n各户分摊 Debited per unit:\n{}", Money::from_fen(project.budget), split_text(&lines));
        write_notice(txn, actor, &project, NoticeCategory::FundUse, format!("维修资金使用结算 Spending: {}", project.title), body, false).await?;
        let mut active: fund_project::ActiveModel = project.into();
        active.status = Set(Status::Settled.as_str().into());
        active.actual_cost = Set(Some(cost.fen()));
        active.settled_at = Set(Some(Utc::now()));
        active.journal_entry_id = Set(entry_id);
        active.update(txn).await?;
        Ok(id)
    })
    .await?;
    find_visible::<fund_project::Entity>(db, actor, id).await
}
