//! Owners' votes (表决) under Civil Code Art. 278 and the rule sets in `vote_rule_sets`.
//!
//! A vote is scheduled, opens (its electorate fixed then: units, areas, voters), takes ballots
//! until it closes, and is decided once, at closing: the tally is stored, published as a
//! notice, and handed to what the vote decides (a fund project, an elevator plan). Opening and
//! closing happen when the time comes, by the `votes` job or by whoever reads the vote first,
//! whichever is earlier; a locked, conditional change makes each happen exactly once.
pub mod api;
pub mod rules;

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Duration, NaiveDate, Utc};
use sea_orm::{QuerySelect, 
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction, EntityTrait, QueryFilter, QueryOrder,
};

use crate::{
    auth::{Actor, Permission, Role, tenancy::find_visible},
    error::{Error, Result},
    jobs::Counts,
    notices::{self, NewNotice},
    registry::{self, Scope, ScopeKind},
    types::{format_hundredths, required_lines, required_text},
};
use entity::{ballot, ballot_scan, compound, owner, vote, vote_elector, vote_rule_set, vote_unit};
use rules::{Choice, Count, Matter, Outcome, RuleSet};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Scheduled,
    Open,
    Closed,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Scheduled => "scheduled",
            Status::Open => "open",
            Status::Closed => "closed",
        }
    }
}

/// A vote as the request gives it.
#[derive(poem_openapi::Object, serde::Deserialize)]
pub struct NewVote {
    pub title: String,
    pub description: Option<String>,
    pub matter: Matter,
    #[oai(default = "ScopeKind::compound")]
    #[serde(default = "ScopeKind::compound")]
    pub scope: ScopeKind,
    /// The buildings, stairwells or units of the scope.
    #[oai(default)]
    #[serde(default)]
    pub scope_ids: Vec<i64>,
    /// When ballots open; now when left out.
    pub opens_at: Option<DateTime<Utc>>,
    pub closes_at: DateTime<Utc>,
    /// A rule set's code (`GET /vote-rule-sets`); left out: the national rules in force on the
    /// opening day.
    pub rule_set: Option<String>,
}

/// The longest a vote may run.
const MAX_DAYS_OPEN: i64 = 366;

pub async fn rule_sets(db: &impl ConnectionTrait) -> Result<Vec<vote_rule_set::Model>> {
    Ok(vote_rule_set::Entity::find().order_by_asc(vote_rule_set::Column::EffectiveFrom).all(db).await?)
}

/// The rule set named, or the newest national one in force on `day`; refused when it is not in
/// force on that day or does not decide the matter.
async fn rule_set_for(db: &impl ConnectionTrait, code: Option<&str>, day: NaiveDate, matter: Matter) -> Result<vote_rule_set::Model> {
    let all = rule_sets(db).await?;
    let in_force = |r: &vote_rule_set::Model| r.effective_from <= day && r.effective_to.is_none_or(|to| day <= to);
    let rule_set = match code {
        Some(code) => {
            let rule_set = all.into_iter().find(|r| r.code == code).ok_or_else(|| Error::invalid("rule_set", format!("{code:?} is not a rule set (see GET /vote-rule-sets)")))?;
            if !in_force(&rule_set) {
                return Err(Error::invalid("rule_set", format!("{} is not in force on the opening day {day}", rule_set.code)));
            }
            rule_set
        }
        None => all
            .into_iter()
            .rev()
            .find(|r| r.region == "national" && in_force(r))
            .ok_or_else(|| Error::invalid("opens_at", format!("no national rule set is in force on {day}")))?,
    };
    if !parsed_rules(&rule_set)?.decides(matter) {
        return Err(Error::invalid("rule_set", format!("{} does not decide {}", rule_set.code, matter.as_str())));
    }
    Ok(rule_set)
}

pub fn parsed_rules(row: &vote_rule_set::Model) -> Result<RuleSet> {
    Ok(RuleSet::from_row(row).ok_or_else(|| anyhow::anyhow!("rule set {} is broken", row.code))?)
}

/// Creates a vote: staff or the committee of the compound.
pub async fn create(db: &DatabaseConnection, actor: &Actor, compound_id: i64, new: NewVote) -> Result<vote::Model> {
    actor.require(Permission::OpenVotes)?;
    let compound = find_visible::<compound::Entity>(db, actor, compound_id).await?;
    let txn = crate::db::begin(db).await?;
    let vote = insert_vote(&txn, actor, &compound, new).await?;
    txn.commit().await?;
    bring_up_to_date(db, vote).await
}

/// Checks and writes a vote in the caller's transaction (a fund project and an elevator plan
/// open theirs with their own record).
pub async fn insert_vote(txn: &DatabaseTransaction, actor: &Actor, compound: &compound::Model, new: NewVote) -> Result<vote::Model> {
    let title = required_text("title", &new.title, 200)?;
    let description = match &new.description {
        Some(text) => required_lines("description", text, 5000)?,
        None => String::new(),
    };
    let now = Utc::now();
    let opens_at = new.opens_at.unwrap_or(now);
    if opens_at < now - Duration::minutes(5) {
        return Err(Error::invalid("opens_at", "opens_at must not be in the past"));
    }
    // Owners need time to read and vote; an hour is the least a vote runs.
    if new.closes_at < opens_at + Duration::hours(1) {
        return Err(Error::invalid("closes_at", "closes_at must be at least an hour after opens_at"));
    }
    if new.closes_at - opens_at > Duration::days(MAX_DAYS_OPEN) {
        return Err(Error::invalid("closes_at", format!("a vote runs at most {MAX_DAYS_OPEN} days")));
    }
    let opening_day = registry::local_today_at(compound, opens_at);
    let rule_set = rule_set_for(txn, new.rule_set.as_deref(), opening_day, new.matter).await?;
    let scope = Scope::new(new.scope, &new.scope_ids);
    scope.check(txn, compound.id).await?;
    if scope.units(txn, compound.id).await?.is_empty() {
        return Err(Error::invalid("scope_ids", "the scope holds no unit, so no one could vote"));
    }
    Ok(vote::ActiveModel {
        company_id: Set(compound.company_id),
        compound_id: Set(compound.id),
        title: Set(title),
        description: Set(description),
        matter: Set(new.matter.as_str().into()),
        scope_kind: Set(scope.kind.as_str().into()),
        scope_ids: Set(scope.ids_json()),
        rule_set: Set(rule_set.code),
        opens_at: Set(opens_at),
        closes_at: Set(new.closes_at),
        status: Set(Status::Scheduled.as_str().into()),
        created_by: Set(actor.user_id),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(txn)
    .await?)
}

/// [`bring_up_to_date`] for a vote known by id (a project's or a plan's), whoever reads it.
pub async fn decide_if_due(db: &DatabaseConnection, vote_id: i64) -> Result<()> {
    if let Some(vote) = vote::Entity::find_by_id(vote_id).one(db).await? {
        bring_up_to_date(db, vote).await?;
    }
    Ok(())
}

/// Opens or closes the vote if its time has come, exactly once whoever gets there first.
pub async fn bring_up_to_date(db: &DatabaseConnection, vote: vote::Model) -> Result<vote::Model> {
    let now = Utc::now();
    let due = (vote.status == Status::Scheduled.as_str() && vote.opens_at <= now) || (vote.status == Status::Open.as_str() && vote.closes_at <= now);
    if !due {
        return Ok(vote);
    }
    let txn = crate::db::begin(db).await?;
    let mut current = vote::Entity::find_by_id(vote.id).lock_exclusive().one(&txn).await?.ok_or(Error::NotFound("vote"))?;
    if current.status == Status::Scheduled.as_str() && current.opens_at <= now {
        current = open(&txn, current).await?;
    }
    if current.status == Status::Open.as_str() && current.closes_at <= now {
        current = close(&txn, current).await?;
    }
    txn.commit().await?;
    Ok(current)
}

/// Fixes the electorate: every unit in scope with its area (registered, else surveyed, else
/// contract) and its voter. One owner of several units is one voter with all their area;
/// co-owners vote through their designated voter; all developer-held units are one voter.
async fn open(txn: &DatabaseTransaction, vote: vote::Model) -> Result<vote::Model> {
    let scope = Scope::stored(&vote.scope_kind, &vote.scope_ids)?;
    let units = scope.units(txn, vote.compound_id).await?;
    let unit_ids: Vec<i64> = units.iter().map(|u| u.id).collect();
    let owners = registry::current_owners(txn, &unit_ids).await?;
    // The voter of each unit: Some(owner id), or None for the developer; units with no known
    // owner have no voter but still count.
    let mut voters: Vec<(i64, i64, Option<Option<i64>>)> = Vec::with_capacity(units.len());
    let mut names: HashMap<i64, String> = HashMap::new();
    for unit in &units {
        let area = registry::unit_area(unit);
        let voter = if unit.developer_held {
            Some(None)
        } else {
            let current = owners.get(&unit.id).map(Vec::as_slice).unwrap_or_default();
            for (_, owner) in current {
                names.insert(owner.id, owner.name.clone());
            }
            let designations: Vec<(i64, bool)> = current.iter().map(|(o, _)| (o.owner_id, o.designated_voter)).collect();
            registry::rules::designated_voter(&designations).ok().map(Some)
        };
        voters.push((unit.id, area, voter));
    }
    let mut electors: BTreeMap<Option<i64>, vote_elector::Model> = BTreeMap::new();
    for (_, area, voter) in &voters {
        let Some(owner_id) = voter else { continue };
        match electors.get_mut(owner_id) {
            Some(elector) => elector.area += area,
            None => {
                let name = owner_id.map_or_else(|| "开发商 developer".to_string(), |id| names.get(&id).cloned().unwrap_or_default());
                let elector = vote_elector::ActiveModel {
                    vote_id: Set(vote.id),
                    owner_id: Set(*owner_id),
                    developer: Set(owner_id.is_none()),
                    name: Set(name),
                    area: Set(0),
                    ..Default::default()
                }
                .insert(txn)
                .await?;
                electors.insert(*owner_id, vote_elector::Model { area: *area, ..elector });
            }
        }
    }
    for elector in electors.values() {
        vote_elector::ActiveModel { id: Set(elector.id), area: Set(elector.area), ..Default::default() }.update(txn).await?;
    }
    let rows = voters.iter().map(|(unit_id, area, voter)| vote_unit::ActiveModel {
        vote_id: Set(vote.id),
        unit_id: Set(*unit_id),
        area: Set(*area),
        elector_id: Set(voter.and_then(|v| electors.get(&v)).map(|e| e.id)),
    });
    vote_unit::Entity::insert_many(rows).exec_without_returning(txn).await?;
    let without_voter = voters.iter().filter(|(_, _, v)| v.is_none()).count() as i64;
    let mut active: vote::ActiveModel = vote.into();
    active.status = Set(Status::Open.as_str().into());
    active.opened_at = Set(Some(Utc::now()));
    active.total_area = Set(Some(voters.iter().map(|(_, area, _)| area).sum()));
    // A unit whose owner is not known still has an owner, who counts against the thresholds.
    active.total_headcount = Set(Some(electors.len() as i64 + without_voter));
    Ok(active.update(txn).await?)
}

/// The electorate's counts and each elector's last ballot.
pub async fn counts(db: &impl ConnectionTrait, vote: &vote::Model) -> Result<rules::Counts> {
    let electors: HashMap<i64, vote_elector::Model> =
        vote_elector::Entity::find().filter(vote_elector::Column::VoteId.eq(vote.id)).all(db).await?.into_iter().map(|e| (e.id, e)).collect();
    let mut counts = rules::Counts { electorate: Count { area: vote.total_area.unwrap_or(0), headcount: vote.total_headcount.unwrap_or(0) }, ..rules::Counts::default() };
    for (elector_id, choice) in last_ballots(db, vote.id).await? {
        let area = electors.get(&elector_id).map_or(0, |e| e.area);
        match choice {
            Choice::Agree => counts.agree.add(area),
            Choice::Disagree => counts.disagree.add(area),
            Choice::Abstain => counts.abstain.add(area),
        }
    }
    Ok(counts)
}

/// Each elector's last ballot: the one that counts.
async fn last_ballots(db: &impl ConnectionTrait, vote_id: i64) -> Result<BTreeMap<i64, Choice>> {
    let ballots = ballot::Entity::find().filter(ballot::Column::VoteId.eq(vote_id)).order_by_asc(ballot::Column::Id).all(db).await?;
    let mut last = BTreeMap::new();
    for ballot in ballots {
        let choice = Choice::parse(&ballot.choice).ok_or_else(|| anyhow::anyhow!("ballot {} has choice {:?}", ballot.id, ballot.choice))?;
        last.insert(ballot.elector_id, choice);
    }
    Ok(last)
}

pub async fn outcome(db: &impl ConnectionTrait, vote: &vote::Model) -> Result<Outcome> {
    if let Some(result) = &vote.result {
        return Ok(serde_json::from_str(result).map_err(|e| anyhow::anyhow!("stored result of vote {}: {e}", vote.id))?);
    }
    let rule_set = vote_rule_set::Entity::find_by_id(vote.rule_set.clone()).one(db).await?.ok_or_else(|| anyhow::anyhow!("rule set {} missing", vote.rule_set))?;
    let matter = Matter::parse(&vote.matter).ok_or_else(|| anyhow::anyhow!("vote {} has matter {:?}", vote.id, vote.matter))?;
    Ok(rules::tally(&parsed_rules(&rule_set)?, matter, counts(db, vote).await?))
}

/// Decides the vote: the tally is stored and never recomputed, published as a notice, and
/// passed to what the vote decides.
async fn close(txn: &DatabaseTransaction, vote: vote::Model) -> Result<vote::Model> {
    let outcome = outcome(txn, &vote).await?;
    let notice = notices::write(
        txn,
        &Actor::system(),
        NewNotice {
            company_id: vote.company_id,
            compound_id: vote.compound_id,
            category: notices::NoticeCategory::VoteResult,
            title: format!("表决结果 Vote result: {}", vote.title),
            body: result_text(&vote, &outcome),
            audience: Scope::stored(&vote.scope_kind, &vote.scope_ids)?,
            source: format!("vote:{}", vote.id),
            published: true,
        },
    )
    .await?;
    let mut active: vote::ActiveModel = vote.into();
    active.status = Set(Status::Closed.as_str().into());
    active.closed_at = Set(Some(Utc::now()));
    active.result = Set(Some(serde_json::to_string(&outcome).map_err(anyhow::Error::from)?));
    active.passed = Set(Some(outcome.passed));
    active.result_notice_id = Set(Some(notice.id));
    let closed = active.update(txn).await?;
    crate::funds::projects::vote_decided(txn, &closed).await?;
    crate::elevator::vote_decided(txn, &closed).await?;
    Ok(closed)
}

fn result_text(vote: &vote::Model, outcome: &Outcome) -> String {
    let c = &outcome.counts;
    let p = c.participating();
    let mut text = format!(
        "{}\n\n规则 Rules: {}\n总面积 Total area: {} m²; 总人数 Owners: {}\n参与 Took part: {} m², {} owners\n同意 Agree: {} m², {}\n反对 Disagree: {} m², {}\n弃权 Abstain: {} m², {}\n\n结果 Result: {}",
        vote.title,
        vote.rule_set,
        format_hundredths(c.electorate.area),
        c.electorate.headcount,
        format_hundredths(p.area),
        p.headcount,
        format_hundredths(c.agree.area),
        c.agree.headcount,
        format_hundredths(c.disagree.area),
        c.disagree.headcount,
        format_hundredths(c.abstain.area),
        c.abstain.headcount,
        if outcome.passed { "通过 passed" } else { "未通过 failed" },
    );
    for reason in &outcome.reasons {
        text.push_str(&format!("\n- {reason}"));
    }
    text
}

/// A vote the actor may see: staff and the committee within their reach; an owner, a vote of a
/// compound where they own a unit.
pub async fn visible_vote(db: &DatabaseConnection, actor: &Actor, id: i64) -> Result<vote::Model> {
    if actor.role != Role::Owner {
        actor.require(Permission::ReadVotes)?;
        return bring_up_to_date(db, find_visible::<vote::Entity>(db, actor, id).await?).await;
    }
    // An owner sees the votes of compounds where they own a unit, and those they stand in the
    // electorate of (having sold since it opened).
    actor.require(Permission::CastBallots)?;
    let vote = vote::Entity::find_by_id(id).one(db).await?.ok_or(Error::NotFound("vote"))?;
    let units = registry::owned_unit_ids(db, actor).await?;
    let owns_there = entity::unit::Entity::find().filter(entity::unit::Column::Id.is_in(units)).filter(entity::unit::Column::CompoundId.eq(vote.compound_id)).one(db).await?.is_some();
    if !owns_there && my_electors(db, actor, vote.id).await?.is_empty() {
        return Err(Error::NotFound("vote"));
    }
    bring_up_to_date(db, vote).await
}

pub async fn list(db: &DatabaseConnection, actor: &Actor, compound_id: i64) -> Result<Vec<vote::Model>> {
    actor.require(Permission::ReadVotes)?;
    let compound = find_visible::<compound::Entity>(db, actor, compound_id).await?;
    let votes = vote::Entity::find().filter(vote::Column::CompoundId.eq(compound.id)).order_by_desc(vote::Column::Id).all(db).await?;
    let mut current = Vec::with_capacity(votes.len());
    for vote in votes {
        current.push(bring_up_to_date(db, vote).await?);
    }
    Ok(current)
}

/// The electors an owner's login speaks for in a vote (one, or none; several only if they hold
/// owner records in the vote's compound under two names).
pub async fn my_electors(db: &impl ConnectionTrait, actor: &Actor, vote_id: i64) -> Result<Vec<vote_elector::Model>> {
    if actor.role != Role::Owner {
        return Ok(Vec::new());
    }
    let owners = owner::Entity::find().filter(owner::Column::UserId.eq(actor.user_id)).all(db).await?;
    Ok(vote_elector::Entity::find()
        .filter(vote_elector::Column::VoteId.eq(vote_id))
        .filter(vote_elector::Column::OwnerId.is_in(owners.into_iter().map(|o| o.id)))
        .order_by_asc(vote_elector::Column::Id)
        .all(db)
        .await?)
}

/// The votes in whose electorate an owner stands, newest first.
pub async fn my_votes(db: &DatabaseConnection, actor: &Actor) -> Result<Vec<vote::Model>> {
    actor.require(Permission::CastBallots)?;
    let owners = owner::Entity::find().filter(owner::Column::UserId.eq(actor.user_id)).all(db).await?;
    let electors = vote_elector::Entity::find().filter(vote_elector::Column::OwnerId.is_in(owners.into_iter().map(|o| o.id))).all(db).await?;
    let votes = vote::Entity::find().filter(vote::Column::Id.is_in(electors.into_iter().map(|e| e.vote_id))).order_by_desc(vote::Column::Id).all(db).await?;
    let mut current = Vec::with_capacity(votes.len());
    for vote in votes {
        current.push(bring_up_to_date(db, vote).await?);
    }
    Ok(current)
}

/// How a ballot reached us.
pub enum Channel {
    /// Cast by the owner themself, logged in.
    Online,
    /// A signed paper ballot recorded by staff, with its scan.
    Paper { scan: Vec<u8>, content_type: &'static str },
}

/// Ballots are taken only between the opening and the closing.
fn refuse_unless_open(vote: &vote::Model, now: DateTime<Utc>) -> Result<()> {
    if vote.status == Status::Open.as_str() && now < vote.closes_at {
        return Ok(());
    }
    let when = if vote.status == Status::Scheduled.as_str() { format!("it opens at {}", vote.opens_at) } else { format!("it closed at {}", vote.closes_at) };
    Err(Error::conflict("vote", format!("the vote is not open: {when}")))
}

/// Writes a ballot while the vote is open: the vote row is locked, so a ballot is either in
/// before the close and counted, or refused.
async fn write_ballot(db: &DatabaseConnection, actor: &Actor, vote: &vote::Model, elector_id: i64, choice: Choice, channel: Channel) -> Result<ballot::Model> {
    let txn = crate::db::begin(db).await?;
    let current = vote::Entity::find_by_id(vote.id).lock_exclusive().one(&txn).await?.ok_or(Error::NotFound("vote"))?;
    let now = Utc::now();
    refuse_unless_open(&current, now)?;
    let (channel_name, scan) = match channel {
        Channel::Online => ("online", None),
        Channel::Paper { scan, content_type } => ("paper", Some((scan, content_type))),
    };
    let ballot = ballot::ActiveModel {
        vote_id: Set(vote.id),
        elector_id: Set(elector_id),
        choice: Set(choice.as_str().into()),
        channel: Set(channel_name.into()),
        cast_by: Set(actor.user_id),
        cast_at: Set(now),
        scan_content_type: Set(scan.as_ref().map(|(_, t)| t.to_string())),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    if let Some((data, _)) = scan {
        ballot_scan::ActiveModel { ballot_id: Set(ballot.id), data: Set(data) }.insert(&txn).await?;
    }
    txn.commit().await?;
    Ok(ballot)
}

/// An owner casts (or changes) their ballot. Only the voter of units in scope votes: a
/// co-owner who is not the designated voter, or an owner outside the scope, is refused.
pub async fn cast(db: &DatabaseConnection, actor: &Actor, vote_id: i64, choice: Choice) -> Result<ballot::Model> {
    actor.require(Permission::CastBallots)?;
    let vote = visible_vote(db, actor, vote_id).await?;
    refuse_unless_open(&vote, Utc::now())?;
    let electors = my_electors(db, actor, vote.id).await?;
    if electors.is_empty() {
        return Err(Error::Forbidden("only the owners of the units in the vote's scope vote, as fixed when it opened; co-owners vote through their designated voter"));
    }
    // One person entered twice as an owner (two names, one login) votes as both.
    let mut cast = None;
    for elector in electors {
        cast = Some(write_ballot(db, actor, &vote, elector.id, choice, Channel::Online).await?);
    }
    cast.ok_or_else(|| anyhow::anyhow!("no ballot written").into())
}

/// Staff record a signed paper ballot for an elector, with its scan; it is marked as paper.
pub async fn record_paper_ballot(db: &DatabaseConnection,
    actor: &Actor,
    vote_id: i64,
    elector_id: i64,
    choice: Choice,
    scan: Vec<u8>,
) -> Result<ballot::Model> {
    actor.require(Permission::RecordPaperBallots)?;
    let vote = visible_vote(db, actor, vote_id).await?;
    let elector = vote_elector::Entity::find_by_id(elector_id)
        .one(db)
        .await?
        .filter(|e| e.vote_id == vote.id)
        .ok_or_else(|| Error::invalid("elector_id", format!("{elector_id} is not an elector of vote {}", vote.id)))?;
    let content_type = crate::http::checked_image("scan", &scan)?;
    write_ballot(db, actor, &vote, elector.id, choice, Channel::Paper { scan, content_type }).await
}

pub async fn electorate(db: &DatabaseConnection, actor: &Actor, vote_id: i64) -> Result<(vote::Model, Vec<vote_elector::Model>, Vec<vote_unit::Model>)> {
    actor.require(Permission::ReadVotes)?;
    let vote = visible_vote(db, actor, vote_id).await?;
    let electors = vote_elector::Entity::find().filter(vote_elector::Column::VoteId.eq(vote.id)).order_by_asc(vote_elector::Column::Id).all(db).await?;
    let units = vote_unit::Entity::find().filter(vote_unit::Column::VoteId.eq(vote.id)).order_by_asc(vote_unit::Column::UnitId).all(db).await?;
    Ok((vote, electors, units))
}

/// Every ballot of the vote, superseded ones included, oldest first.
pub async fn ballots(db: &impl ConnectionTrait, vote_id: i64) -> Result<Vec<ballot::Model>> {
    Ok(ballot::Entity::find().filter(ballot::Column::VoteId.eq(vote_id)).order_by_asc(ballot::Column::Id).all(db).await?)
}

pub async fn ballot_scan(db: &DatabaseConnection, actor: &Actor, ballot_id: i64) -> Result<(ballot::Model, Vec<u8>)> {
    actor.require(Permission::ReadVotes)?;
    let ballot = ballot::Entity::find_by_id(ballot_id).one(db).await?.ok_or(Error::NotFound("ballot"))?;
    visible_vote(db, actor, ballot.vote_id).await.map_err(|_| Error::NotFound("ballot"))?;
    let scan = ballot_scan::Entity::find_by_id(ballot.id).one(db).await?.ok_or(Error::NotFound("scan"))?;
    Ok((ballot, scan.data))
}

/// The scheduled job: opens and closes the company's votes whose time has come.
pub async fn open_and_close_due(db: &DatabaseConnection, company_id: i64) -> Result<Counts> {
    let now = Utc::now();
    let due = vote::Entity::find()
        .filter(vote::Column::CompanyId.eq(company_id))
        .filter(
            sea_orm::Condition::any()
                .add(sea_orm::Condition::all().add(vote::Column::Status.eq(Status::Scheduled.as_str())).add(vote::Column::OpensAt.lte(now)))
                .add(sea_orm::Condition::all().add(vote::Column::Status.eq(Status::Open.as_str())).add(vote::Column::ClosesAt.lte(now))),
        )
        .order_by_asc(vote::Column::Id)
        .all(db)
        .await?;
    let mut counts = Counts::from([("opened", 0), ("closed", 0), ("failed", 0)]);
    for vote in due {
        let (id, before) = (vote.id, vote.status.clone());
        // One vote that cannot be decided must not hold up the others: it is logged, counted,
        // and tried again next time.
        let after = match bring_up_to_date(db, vote).await {
            Ok(after) => after,
            Err(error) => {
                tracing::error!(vote = id, %error, "could not open or close the vote");
                *counts.entry("failed").or_default() += 1;
                continue;
            }
        };
        if before == Status::Scheduled.as_str() && after.status != before {
            *counts.entry("opened").or_default() += 1;
        }
        if after.status == Status::Closed.as_str() && before != after.status {
            *counts.entry("closed").or_default() += 1;
        }
    }
    Ok(counts)
}
