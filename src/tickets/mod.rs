//! Repair tickets (报修工单): owners file them (or staff for an owner who phones), the service
//! desk triages and assigns them, technicians work them, the owner confirms or reopens, rates
//! the work, and staff follow up. Every change is a new version of the ticket (a stale version
//! is refused, so two dispatchers never overwrite each other) and an entry in its history.
//! Deadlines come from SLA targets per category and priority; time on hold does not count.
pub mod api;
pub mod emails;
pub mod rules;

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait, FromQueryResult, JoinType, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, QueryTrait, Set,
    sea_query::{Asterisk, Expr, Func},
};

use crate::{
    auth::{Actor, Permission, Role, tenancy::find_visible},
    config::Config,
    error::{Error, Result},
    jobs::Counts,
    mail::{self, NewEmail},
    registry,
    types::{Money, required_lines, required_text},
};
use entity::{compound, owner, ownership, sla_target, technician_group, ticket, ticket_comment, ticket_event, ticket_photo, ticket_photo_data, unit, user, user_compound};
pub use rules::{Category, Location, Priority, Side, Status, Targets, Urgency};

// ---------------------------------------------------------------------------------------------
// Who sees a ticket, and as whom they act on it
// ---------------------------------------------------------------------------------------------

/// A ticket the actor may see: owners the tickets of the units they own, filed since their
/// ownership began (not a seller's), technicians those assigned to them, the service desk their
/// company's (compounds). Anything else is "not found".
pub async fn find_ticket(db: &impl ConnectionTrait, actor: &Actor, id: i64) -> Result<ticket::Model> {
    actor.require(Permission::ReadTickets)?;
    let visible = match actor.role {
        Role::Owner => ticket::Entity::find_by_id(id).filter(owners_tickets(db, actor).await?).one(db).await?,
        _ => match find_visible::<ticket::Entity>(db, actor, id).await {
            Ok(ticket) => Some(ticket).filter(|t| actor.role != Role::Technician || t.assignee_id == Some(actor.user_id)),
            Err(Error::NotFound(_)) => None,
            Err(error) => return Err(error),
        },
    };
    visible.ok_or(Error::NotFound("ticket"))
}

/// The tickets an owner's login may see: of each unit they own, those filed since the day
/// their ownership began (in the compound's time).
async fn owners_tickets(db: &impl ConnectionTrait, actor: &Actor) -> Result<Condition> {
    let mut any = Condition::any();
    for unit_id in registry::owned_unit_ids(db, actor).await? {
        let (Some(since), Some(unit)) = (registry::ownership_start(db, actor, unit_id).await?, unit::Entity::find_by_id(unit_id).one(db).await?) else { continue };
        let zone = compound::Entity::find_by_id(unit.compound_id).one(db).await?.and_then(|c| c.time_zone.parse::<chrono_tz::Tz>().ok()).unwrap_or(chrono_tz::Asia::Shanghai);
        let from = since.and_hms_opt(0, 0, 0).and_then(|t| t.and_local_timezone(zone).earliest()).map_or(DateTime::<Utc>::MIN_UTC, |t| t.with_timezone(&Utc));
        any = any.add(Condition::all().add(ticket::Column::UnitId.eq(unit_id)).add(ticket::Column::CreatedAt.gte(from)));
    }
    // No unit: a condition nothing meets.
    Ok(if any.is_empty() { Condition::all().add(ticket::Column::Id.lt(0)) } else { any })
}

fn side_of(actor: &Actor) -> Side {
    match actor.role {
        Role::Owner => Side::Owner,
        Role::Technician => Side::Technician,
        _ => Side::Desk,
    }
}

pub(crate) fn status_of(ticket: &ticket::Model) -> Status {
    Status::parse(&ticket.status).unwrap_or(Status::Submitted)
}

// ---------------------------------------------------------------------------------------------
// Filing
// ---------------------------------------------------------------------------------------------

#[derive(poem_openapi::Object, serde::Deserialize)]
pub struct NewTicket {
    pub unit_id: i64,
    pub category: Category,
    pub location: Location,
    /// Where in the common parts (required there) or in the flat.
    pub place: Option<String>,
    pub description: String,
    #[oai(default = "normal_urgency")]
    #[serde(default = "normal_urgency")]
    pub urgency: Urgency,
    /// When the owner can let a technician in, in their words ("工作日晚上").
    pub preferred_visit: Option<String>,
    /// Staff filing for an owner who phoned: which owner of the unit (default: its first owner).
    pub owner_id: Option<i64>,
}

fn normal_urgency() -> Urgency {
    Urgency::Normal
}

pub const MAX_DESCRIPTION: usize = 2000;
pub const MAX_COMMENT: usize = 2000;

pub async fn file_ticket(db: &DatabaseConnection, actor: &Actor, new: NewTicket) -> Result<ticket::Model> {
    actor.require(Permission::FileTickets)?;
    let description = required_lines("description", &new.description, MAX_DESCRIPTION)?;
    let place = optional_text("place", new.place.as_deref(), 200)?;
    let preferred_visit = optional_text("preferred_visit", new.preferred_visit.as_deref(), 100)?;
    if new.location == Location::CommonArea && place.is_none() {
        return Err(Error::invalid("place", "say where in the common parts (building, stairwell, floor...)"));
    }
    let (unit, owner_id) = unit_and_owner(db, actor, new.unit_id, new.owner_id).await?;
    let priority = new.category.default_priority(new.urgency);
    let targets = targets_for(db, unit.compound_id, new.category, priority).await?;
    let now = Utc::now();
    let txn = crate::db::begin(db).await?;
    let filed = ticket::ActiveModel {
        company_id: Set(unit.company_id),
        compound_id: Set(unit.compound_id),
        unit_id: Set(unit.id),
        owner_id: Set(owner_id),
        filed_by: Set(actor.user_id),
        category: Set(new.category.as_str().into()),
        location: Set(new.location.as_str().into()),
        place: Set(place),
        description: Set(description),
        urgency: Set(new.urgency.as_str().into()),
        preferred_visit: Set(preferred_visit),
        status: Set(Status::Submitted.as_str().into()),
        priority: Set(priority.as_str().into()),
        version: Set(1),
        response_due_at: Set(now + targets.response()),
        resolution_due_at: Set(now + targets.resolution()),
        due_at: Set(now + targets.response()),
        paused_seconds: Set(0),
        reopen_count: Set(0),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    record(&txn, actor, &filed, "filed", None, Some(Status::Submitted.as_str()), None, false).await?;
    txn.commit().await?;
    Ok(filed)
}

fn optional_text(field: &str, value: Option<&str>, max_chars: usize) -> Result<Option<String>> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        Some(text) => Ok(Some(required_lines(field, text, max_chars)?)),
        None => Ok(None),
    }
}

/// The unit a ticket is filed for and the owner it is for: an owner files for their own units
/// only; staff for any unit they reach, for one of its current owners.
async fn unit_and_owner(db: &impl ConnectionTrait, actor: &Actor, unit_id: i64, owner_id: Option<i64>) -> Result<(unit::Model, Option<i64>)> {
    let current = |unit_id| async move { Ok::<_, Error>(registry::ownership_histories(db, &[unit_id]).await?.remove(&unit_id).unwrap_or_default()) };
    if actor.role == Role::Owner {
        if !registry::owned_unit_ids(db, actor).await?.contains(&unit_id) {
            return Err(Error::NotFound("unit"));
        }
        let unit = unit::Entity::find_by_id(unit_id).one(db).await?.ok_or(Error::NotFound("unit"))?;
        let mine = current(unit_id)
            .await?
            .into_iter()
            .find(|(o, person)| o.ended_on.is_none() && person.user_id == Some(actor.user_id))
            .map(|(_, person)| person.id);
        return Ok((unit, mine));
    }
    let unit = find_visible::<unit::Entity>(db, actor, unit_id).await?;
    let owners: Vec<owner::Model> = current(unit_id).await?.into_iter().filter(|(o, _)| o.ended_on.is_none()).map(|(_, person)| person).collect();
    let owner_id = match owner_id {
        Some(id) if owners.iter().any(|o| o.id == id) => Some(id),
        Some(_) => return Err(Error::invalid("owner_id", "the owner_id is not a current owner of the unit")),
        None => owners.first().map(|o| o.id),
    };
    Ok((unit, owner_id))
}

// ---------------------------------------------------------------------------------------------
// SLA targets
// ---------------------------------------------------------------------------------------------

/// The compound's own target for a category and priority, else the default.
pub async fn targets_for(db: &impl ConnectionTrait, compound_id: i64, category: Category, priority: Priority) -> Result<Targets> {
    let own = sla_target::Entity::find()
        .filter(sla_target::Column::CompoundId.eq(compound_id))
        .filter(sla_target::Column::Category.eq(category.as_str()))
        .filter(sla_target::Column::Priority.eq(priority.as_str()))
        .one(db)
        .await?;
    Ok(own.map_or(rules::default_targets(category, priority), |t| own_targets(&t)))
}

fn own_targets(t: &sla_target::Model) -> Targets {
    Targets { response_minutes: t.response_minutes, resolution_minutes: t.resolution_minutes }
}

/// Every category and priority of a compound with its targets, and whether they are its own.
pub async fn sla_table(db: &impl ConnectionTrait, actor: &Actor, compound_id: i64) -> Result<Vec<(Category, Priority, Targets, bool)>> {
    actor.require(Permission::DispatchTickets)?;
    let compound = find_visible::<compound::Entity>(db, actor, compound_id).await?;
    let own: HashMap<(String, String), sla_target::Model> = sla_target::Entity::find()
        .filter(sla_target::Column::CompoundId.eq(compound.id))
        .all(db)
        .await?
        .into_iter()
        .map(|t| ((t.category.clone(), t.priority.clone()), t))
        .collect();
    let mut table = Vec::new();
    for category in Category::ALL {
        for priority in Priority::ALL {
            let row = match own.get(&(category.as_str().to_string(), priority.as_str().to_string())) {
                Some(t) => (category, priority, own_targets(t), true),
                None => (category, priority, rules::default_targets(category, priority), false),
            };
            table.push(row);
        }
    }
    Ok(table)
}

#[derive(poem_openapi::Object, serde::Deserialize)]
pub struct SlaTarget {
    pub category: Category,
    pub priority: Priority,
    pub response_minutes: i32,
    pub resolution_minutes: i32,
}

/// Sets a compound's own targets (each replaces the default, or its earlier own target).
/// Tickets filed from now on use them; a ticket's deadlines are fixed when it is filed or triaged.
pub async fn set_sla(db: &DatabaseConnection, actor: &Actor, compound_id: i64, targets: Vec<SlaTarget>) -> Result<()> {
    actor.require(Permission::ManageTicketSetup)?;
    let compound = find_visible::<compound::Entity>(db, actor, compound_id).await?;
    const MAX_MINUTES: i32 = 90 * 24 * 60;
    for t in &targets {
        if !(1..=MAX_MINUTES).contains(&t.response_minutes) || !(1..=MAX_MINUTES).contains(&t.resolution_minutes) {
            return Err(Error::invalid("targets", format!("minutes must be from 1 to {MAX_MINUTES} (90 days)")));
        }
        if t.response_minutes > t.resolution_minutes {
            return Err(Error::invalid("targets", "a ticket is answered before it is resolved: response_minutes must not exceed resolution_minutes"));
        }
    }
    let txn = crate::db::begin(db).await?;
    for t in targets {
        sla_target::Entity::delete_many()
            .filter(sla_target::Column::CompoundId.eq(compound.id))
            .filter(sla_target::Column::Category.eq(t.category.as_str()))
            .filter(sla_target::Column::Priority.eq(t.priority.as_str()))
            .exec(&txn)
            .await?;
        sla_target::ActiveModel {
            company_id: Set(compound.company_id),
            compound_id: Set(compound.id),
            category: Set(t.category.as_str().into()),
            priority: Set(t.priority.as_str().into()),
            response_minutes: Set(t.response_minutes),
            resolution_minutes: Set(t.resolution_minutes),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
    }
    txn.commit().await?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// The workflow
// ---------------------------------------------------------------------------------------------

#[derive(poem_openapi::Object, serde::Deserialize)]
pub struct Transition {
    pub to: Status,
    /// The version the caller last saw; a ticket changed since is refused (409).
    pub version: i32,
    /// Triage: the priority (default: the one it was filed with).
    pub priority: Option<Priority>,
    /// Required to reject or put on hold; kept in the history.
    pub note: Option<String>,
}

/// Moves a ticket to another state, if its state and the caller's side allow it.
pub async fn transition(db: &DatabaseConnection, config: &Config, actor: &Actor, id: i64, change: Transition) -> Result<ticket::Model> {
    let current = find_ticket(db, actor, id).await?;
    let side = side_of(actor);
    let from = status_of(&current);
    let allowed: Vec<Status> = rules::allowed(from, side).into_iter().filter(|s| *s != Status::Assigned).collect();
    if !allowed.contains(&change.to) {
        return Err(not_allowed(from, change.to, &allowed));
    }
    let note = optional_text("note", change.note.as_deref(), MAX_COMMENT)?;
    if matches!(change.to, Status::Rejected | Status::OnHold) && note.is_none() {
        return Err(Error::invalid("note", format!("say why the ticket is {}", change.to.as_str())));
    }
    let now = Utc::now();
    if change.to == Status::Reopened && current.resolved_at.is_some_and(|at| now - at > chrono::Duration::days(config.ticket_reopen_days)) {
        return Err(Error::conflict("to", format!("a ticket is reopened within {} days of being resolved; file a new one", config.ticket_reopen_days)));
    }
    let mut next = current.clone();
    next.status = change.to.as_str().into();
    let category = Category::parse(&current.category).unwrap_or(Category::Other);
    match change.to {
        Status::Accepted => {
            let priority = change.priority.unwrap_or(Priority::parse(&current.priority).unwrap_or(Priority::P3));
            let targets = targets_for(db, current.compound_id, category, priority).await?;
            next.priority = priority.as_str().into();
            next.accepted_at = Some(now);
            // The response deadline stays the one the ticket was filed with: triage answers it.
            next.resolution_due_at = current.created_at + targets.resolution() + chrono::Duration::seconds(current.paused_seconds);
            next.due_at = next.resolution_due_at;
        }
        Status::OnHold => {
            next.paused_at = Some(now);
            next.reason = note.clone();
        }
        Status::InProgress if from == Status::OnHold => {
            let paused = current.paused_at.map_or(0, |at| (now - at).num_seconds().max(0));
            next.paused_seconds += paused;
            next.paused_at = None;
            next.resolution_due_at += chrono::Duration::seconds(paused);
            next.due_at = next.resolution_due_at;
        }
        Status::Resolved => next.resolved_at = Some(now),
        Status::Closed => next.closed_at = Some(now),
        Status::Reopened => {
            let targets = targets_for(db, current.compound_id, category, Priority::parse(&current.priority).unwrap_or(Priority::P3)).await?;
            next.reopen_count += 1;
            next.resolved_at = None;
            next.resolution_due_at = now + targets.resolution();
            next.due_at = next.resolution_due_at;
        }
        Status::Rejected | Status::Cancelled => {
            next.reason = note.clone();
            next.closed_at = Some(now);
        }
        _ => {}
    }
    // A deadline moved is a new deadline: missing it is escalated again.
    if next.resolution_due_at != current.resolution_due_at {
        next.resolution_escalated_at = None;
    }
    let txn = crate::db::begin(db).await?;
    let saved = save(&txn, &current, next, change.version).await?;
    record(&txn, actor, &saved, "status", Some(from.as_str()), Some(change.to.as_str()), note.as_deref(), false).await?;
    if saved.priority != current.priority {
        record(&txn, actor, &saved, "priority", Some(&current.priority), Some(&saved.priority), None, false).await?;
    }
    if matches!(change.to, Status::Accepted | Status::Resolved | Status::Rejected | Status::OnHold | Status::Cancelled) && side != Side::Owner {
        tell_owner(&txn, config, &saved, emails::Update::Status { to: change.to, note: note.as_deref() }).await?;
    }
    txn.commit().await?;
    Ok(saved)
}

fn not_allowed(from: Status, to: Status, allowed: &[Status]) -> Error {
    let names: Vec<&str> = allowed.iter().map(|s| s.as_str()).collect();
    let allowed = match (names.is_empty(), from.is_open() || from == Status::Resolved) {
        (false, _) => names.join(", "),
        (true, true) => "nothing you may do from here".to_string(),
        (true, false) => format!("nothing: {} is where a ticket ends", from.as_str()),
    };
    Error::conflict("to", format!("a {} ticket cannot go to {} here; allowed: {allowed}", from.as_str(), to.as_str()))
}

/// Writes what `next` changed of `current`, if the ticket is still at `version`, as version + 1.
/// Only the changed columns: a mark another writer set meanwhile without a new version (the
/// SLA job's escalation) stays.
async fn save(txn: &impl ConnectionTrait, current: &ticket::Model, mut next: ticket::Model, version: i32) -> Result<ticket::Model> {
    use sea_orm::{Iterable, ModelTrait};
    if version != current.version {
        return Err(stale(current.version));
    }
    next.version = version + 1;
    next.updated_at = Utc::now();
    let mut changes = <ticket::ActiveModel as Default>::default();
    for column in ticket::Column::iter() {
        let value = next.get(column);
        if value != current.get(column) {
            changes.set(column, value);
        }
    }
    let written = ticket::Entity::update_many()
        .set(changes)
        .filter(ticket::Column::Id.eq(current.id))
        .filter(ticket::Column::Version.eq(version))
        .exec(txn)
        .await?;
    if written.rows_affected == 0 {
        return Err(stale(current.version + 1));
    }
    Ok(next)
}

fn stale(now_at: i32) -> Error {
    Error::conflict("version", format!("the ticket was changed by someone else meanwhile (it is at version {now_at} or later); reload it and decide again"))
}

#[derive(poem_openapi::Object, serde::Deserialize)]
pub struct Assignment {
    pub version: i32,
    /// The technician; without one, the ticket goes to the least-loaded member of the
    /// technician group that takes its category in the compound.
    pub technician_id: Option<i64>,
}

pub async fn assign(db: &DatabaseConnection, config: &Config, actor: &Actor, id: i64, assignment: Assignment) -> Result<ticket::Model> {
    actor.require(Permission::DispatchTickets)?;
    let current = find_ticket(db, actor, id).await?;
    let from = status_of(&current);
    let allowed = rules::allowed(from, Side::Desk);
    if !allowed.contains(&Status::Assigned) {
        return Err(not_allowed(from, Status::Assigned, &allowed));
    }
    let technician = match assignment.technician_id {
        Some(user_id) => technician_of(db, current.company_id, current.compound_id, user_id).await?,
        None => least_loaded_member(db, &current).await?,
    };
    let mut next = current.clone();
    next.status = Status::Assigned.as_str().into();
    next.assignee_id = Some(technician.id);
    let txn = crate::db::begin(db).await?;
    let saved = save(&txn, &current, next, assignment.version).await?;
    let before = current.assignee_id.map(|a| a.to_string());
    record(&txn, actor, &saved, "assignee", before.as_deref(), Some(&technician.id.to_string()), Some(&technician.name), false).await?;
    if from != Status::Assigned {
        record(&txn, actor, &saved, "status", Some(from.as_str()), Some(Status::Assigned.as_str()), None, false).await?;
    }
    tell_owner(&txn, config, &saved, emails::Update::Assigned { technician: &technician.name }).await?;
    txn.commit().await?;
    Ok(saved)
}

/// The login `user_id`, if it is an enabled technician of the company who works in the compound.
async fn technician_of(db: &impl ConnectionTrait, company_id: i64, compound_id: i64, user_id: i64) -> Result<user::Model> {
    let refused = || Error::invalid("technician_id", "not a technician of this compound's company who works in this compound");
    let account = user::Entity::find_by_id(user_id).one(db).await?.ok_or_else(refused)?;
    if account.role != Role::Technician.as_str() || account.company_id != Some(company_id) || account.disabled {
        return Err(refused());
    }
    let compounds: Vec<i64> = user_compound::Entity::find()
        .filter(user_compound::Column::UserId.eq(account.id))
        .all(db)
        .await?
        .into_iter()
        .map(|uc| uc.compound_id)
        .collect();
    if !compounds.is_empty() && !compounds.contains(&compound_id) {
        return Err(refused());
    }
    Ok(account)
}

/// The member of the compound's group for the ticket's category with the fewest open tickets
/// (ties: the lowest id).
async fn least_loaded_member(db: &impl ConnectionTrait, ticket: &ticket::Model) -> Result<user::Model> {
    let groups = technician_group::Entity::find().filter(technician_group::Column::CompoundId.eq(ticket.compound_id)).order_by_asc(technician_group::Column::Id).all(db).await?;
    let group = groups
        .into_iter()
        .find(|g| serde_json::from_str::<Vec<String>>(&g.categories).unwrap_or_default().contains(&ticket.category))
        .ok_or_else(|| Error::conflict("technician_id", format!("no technician group of this compound takes {} tickets: name a technician", ticket.category)))?;
    let mut members = member_ids(&group);
    members.sort_unstable();
    let mut best: Option<(u64, user::Model)> = None;
    for member in members {
        let Ok(account) = technician_of(db, ticket.company_id, ticket.compound_id, member).await else { continue };
        let load = ticket::Entity::find()
            .filter(ticket::Column::AssigneeId.eq(member))
            .filter(ticket::Column::Status.is_in(Status::OPEN.iter().map(|s| s.as_str())))
            .count(db)
            .await?;
        if best.as_ref().is_none_or(|(fewest, _)| load < *fewest) {
            best = Some((load, account));
        }
    }
    best.map(|(_, account)| account).ok_or_else(|| Error::conflict("technician_id", format!("the group {} has no technician who can take it", group.name)))
}

// ---------------------------------------------------------------------------------------------
// Conversation, photos, closing the loop
// ---------------------------------------------------------------------------------------------

pub async fn comment(db: &DatabaseConnection, config: &Config, actor: &Actor, id: i64, body: &str, internal: bool) -> Result<ticket_comment::Model> {
    let ticket = find_ticket(db, actor, id).await?;
    if internal && actor.role == Role::Owner {
        return Err(Error::invalid("internal", "internal notes are staff's; an owner's comment is always visible"));
    }
    let body = required_lines("body", body, MAX_COMMENT)?;
    let txn = crate::db::begin(db).await?;
    let saved = ticket_comment::ActiveModel {
        ticket_id: Set(ticket.id),
        compound_id: Set(ticket.compound_id),
        author_id: Set(actor.user_id),
        author_role: Set(actor.role.as_str().into()),
        author_name: Set(actor.name.clone()),
        body: Set(body.clone()),
        internal: Set(internal),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    record(&txn, actor, &ticket, "comment", None, None, Some(&body), internal).await?;
    if !internal && actor.role != Role::Owner {
        tell_owner(&txn, config, &ticket, emails::Update::Comment { by: &actor.name, body: &body }).await?;
    }
    txn.commit().await?;
    Ok(saved)
}

/// Adds a photo: JPEG, PNG or WebP as told by its bytes, at most 5 MB, at most 6 a ticket.
pub async fn add_photo(db: &DatabaseConnection, actor: &Actor, id: i64, bytes: Vec<u8>) -> Result<ticket_photo::Model> {
    let ticket = find_ticket(db, actor, id).await?;
    let content_type = crate::http::checked_image("photo", &bytes)?;
    use sha2::Digest;
    let sha256 = hex::encode(sha2::Sha256::digest(&bytes));
    let txn = crate::db::begin(db).await?;
    // Counted inside the transaction that adds it: PostgreSQL takes the ticket's row lock first.
    ticket::Entity::find_by_id(ticket.id).lock_exclusive().one(&txn).await?;
    let count = ticket_photo::Entity::find().filter(ticket_photo::Column::TicketId.eq(ticket.id)).count(&txn).await?;
    if count as usize >= rules::MAX_PHOTOS {
        return Err(Error::conflict("photo", format!("a ticket has at most {} photos", rules::MAX_PHOTOS)));
    }
    let photo = ticket_photo::ActiveModel {
        ticket_id: Set(ticket.id),
        company_id: Set(ticket.company_id),
        compound_id: Set(ticket.compound_id),
        content_type: Set(content_type.into()),
        size: Set(bytes.len() as i64),
        sha256: Set(sha256),
        uploaded_by: Set(actor.user_id),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    ticket_photo_data::ActiveModel { photo_id: Set(photo.id), data: Set(bytes) }.insert(&txn).await?;
    record(&txn, actor, &ticket, "photo", None, Some(&photo.id.to_string()), None, false).await?;
    txn.commit().await?;
    Ok(photo)
}

/// A photo and its bytes, for whoever may see its ticket.
pub async fn photo(db: &impl ConnectionTrait, actor: &Actor, photo_id: i64) -> Result<(ticket_photo::Model, Vec<u8>)> {
    actor.require(Permission::ReadTickets)?;
    let photo = ticket_photo::Entity::find_by_id(photo_id).one(db).await?.ok_or(Error::NotFound("photo"))?;
    match find_ticket(db, actor, photo.ticket_id).await {
        Err(Error::NotFound(_)) => return Err(Error::NotFound("photo")),
        other => other?,
    };
    let data = ticket_photo_data::Entity::find_by_id(photo.id).one(db).await?.ok_or(Error::NotFound("photo"))?;
    Ok((photo, data.data))
}

/// The owner rates the work, once, when it is resolved or closed.
pub async fn rate(db: &DatabaseConnection, actor: &Actor, id: i64, score: i32, remark: Option<String>) -> Result<ticket::Model> {
    if actor.role != Role::Owner {
        return Err(Error::Forbidden("the owner rates the work"));
    }
    let current = find_ticket(db, actor, id).await?;
    if !(1..=5).contains(&score) {
        return Err(Error::invalid("score", "score is from 1 (poor) to 5 (excellent)"));
    }
    if !matches!(status_of(&current), Status::Resolved | Status::Closed) {
        return Err(Error::conflict("score", "the work is rated once it is resolved"));
    }
    if current.rating.is_some() {
        return Err(Error::conflict("score", "the work has been rated already"));
    }
    let remark = optional_text("comment", remark.as_deref(), MAX_COMMENT)?;
    let mut next = current.clone();
    next.rating = Some(score);
    next.rating_comment = remark.clone();
    let txn = crate::db::begin(db).await?;
    let saved = save(&txn, &current, next, current.version).await?;
    record(&txn, actor, &saved, "rating", None, Some(&score.to_string()), remark.as_deref(), false).await?;
    txn.commit().await?;
    Ok(saved)
}

/// Staff record the follow-up call (回访) of a finished ticket.
pub async fn follow_up(db: &DatabaseConnection, actor: &Actor, id: i64, note: &str) -> Result<ticket::Model> {
    actor.require(Permission::DispatchTickets)?;
    let current = find_ticket(db, actor, id).await?;
    if !matches!(status_of(&current), Status::Resolved | Status::Closed) {
        return Err(Error::conflict("note", "the follow-up call is made once the work is resolved"));
    }
    let note = required_lines("note", note, MAX_COMMENT)?;
    let mut next = current.clone();
    next.follow_up = Some(note.clone());
    next.followed_up_at = Some(Utc::now());
    let txn = crate::db::begin(db).await?;
    let saved = save(&txn, &current, next, current.version).await?;
    record(&txn, actor, &saved, "follow_up", None, None, Some(&note), true).await?;
    txn.commit().await?;
    Ok(saved)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, poem_openapi::Enum, serde::Deserialize)]
#[oai(rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum CostRoute {
    /// A paid repair in the flat: a one-off bill for the owner.
    OwnerBill,
    /// The company bears it.
    Company,
    /// A common-area repair for the maintenance fund (linked to a project by the funds area).
    MaintenanceFund,
}

impl CostRoute {
    pub fn as_str(self) -> &'static str {
        match self {
            CostRoute::OwnerBill => "owner_bill",
            CostRoute::Company => "company",
            CostRoute::MaintenanceFund => "maintenance_fund",
        }
    }
}

/// Says who pays for the repair, once: the owner (a one-off bill, posted to the ledger), the
/// company, or the maintenance fund (common areas only).
pub async fn route_cost(db: &DatabaseConnection, actor: &Actor, id: i64, route: CostRoute, amount: Option<Money>) -> Result<ticket::Model> {
    actor.require(Permission::RouteRepairCosts)?;
    let current = find_ticket(db, actor, id).await?;
    if current.cost_route.is_some() {
        return Err(Error::conflict("route", "the cost of this repair has been routed already"));
    }
    if !matches!(status_of(&current), Status::Resolved | Status::Closed) {
        return Err(Error::conflict("route", "a repair's cost is routed once the work is resolved"));
    }
    let in_unit = current.location == Location::InUnit.as_str();
    let txn = crate::db::begin(db).await?;
    let mut next = current.clone();
    next.cost_route = Some(route.as_str().into());
    match (route, amount) {
        (CostRoute::OwnerBill, _) if !in_unit => return Err(Error::invalid("route", "only a repair inside the flat is billed to its owner")),
        (CostRoute::OwnerBill, Some(amount)) if amount.is_positive() => {
            let bill = crate::billing::bill_paid_repair(&txn, actor, &current, amount).await?;
            next.cost_bill_id = Some(bill.id);
        }
        (CostRoute::OwnerBill, _) => return Err(Error::invalid("amount", "a paid repair needs the amount to bill, above 0")),
        (CostRoute::MaintenanceFund, _) if in_unit => return Err(Error::invalid("route", "the maintenance fund pays for common parts only")),
        (_, Some(_)) => return Err(Error::invalid("amount", "an amount is given only to bill the owner")),
        _ => {}
    }
    let saved = save(&txn, &current, next, current.version).await?;
    let what = amount.map(|a| a.to_string());
    record(&txn, actor, &saved, "cost", None, Some(route.as_str()), what.as_deref(), true).await?;
    txn.commit().await?;
    Ok(saved)
}

// ---------------------------------------------------------------------------------------------
// History and the owner's emails
// ---------------------------------------------------------------------------------------------

#[allow(clippy::too_many_arguments)]
async fn record(
    txn: &impl ConnectionTrait,
    actor: &Actor,
    ticket: &ticket::Model,
    kind: &str,
    from: Option<&str>,
    to: Option<&str>,
    note: Option<&str>,
    internal: bool,
) -> Result<()> {
    ticket_event::ActiveModel {
        ticket_id: Set(ticket.id),
        compound_id: Set(ticket.compound_id),
        actor_id: Set(actor.user_id),
        actor_role: Set(if actor.user_id == 0 { "system".into() } else { actor.role.as_str().into() }),
        kind: Set(kind.into()),
        from_value: Set(from.map(str::to_string)),
        to_value: Set(to.map(str::to_string)),
        note: Set(note.map(str::to_string)),
        internal: Set(internal),
        at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    Ok(())
}

/// Emails the ticket's owner (if they have an address, and still own the unit) about a change
/// that matters to them.
async fn tell_owner(txn: &impl ConnectionTrait, config: &Config, ticket: &ticket::Model, update: emails::Update<'_>) -> Result<()> {
    let Some(owner_id) = ticket.owner_id else { return Ok(()) };
    let still_owns = ownership::Entity::find()
        .filter(ownership::Column::UnitId.eq(ticket.unit_id))
        .filter(ownership::Column::OwnerId.eq(owner_id))
        .filter(ownership::Column::EndedOn.is_null())
        .count(txn)
        .await?
        > 0;
    if !still_owns {
        return Ok(());
    }
    let Some(person) = owner::Entity::find_by_id(owner_id).one(txn).await? else { return Ok(()) };
    let Some(address) = person.email.clone() else { return Ok(()) };
    let (subject, body) = emails::owner_update(config, ticket, &person.name, update);
    mail::enqueue(
        txn,
        NewEmail {
            company_id: ticket.company_id,
            compound_id: ticket.compound_id,
            kind: "ticket_update",
            reference: Some(format!("ticket:{}", ticket.id)),
            recipient: address,
            recipient_name: person.name,
            subject,
            body,
            language: config.mail.language,
        },
    )
    .await?;
    Ok(())
}

/// A ticket with what its reader may see of it.
pub struct TicketDetail {
    pub ticket: ticket::Model,
    pub comments: Vec<ticket_comment::Model>,
    pub history: Vec<ticket_event::Model>,
    pub photos: Vec<ticket_photo::Model>,
}

/// The ticket with its comments, history and photos; owners do not see internal ones.
pub async fn detail(db: &impl ConnectionTrait, actor: &Actor, id: i64) -> Result<TicketDetail> {
    let ticket = find_ticket(db, actor, id).await?;
    let staff = actor.role != Role::Owner;
    let mut comments = ticket_comment::Entity::find().filter(ticket_comment::Column::TicketId.eq(ticket.id));
    let mut history = ticket_event::Entity::find().filter(ticket_event::Column::TicketId.eq(ticket.id));
    if !staff {
        comments = comments.filter(ticket_comment::Column::Internal.eq(false));
        history = history.filter(ticket_event::Column::Internal.eq(false));
    }
    Ok(TicketDetail {
        comments: comments.order_by_asc(ticket_comment::Column::Id).all(db).await?,
        history: history.order_by_asc(ticket_event::Column::Id).all(db).await?,
        photos: ticket_photo::Entity::find().filter(ticket_photo::Column::TicketId.eq(ticket.id)).order_by_asc(ticket_photo::Column::Id).all(db).await?,
        ticket,
    })
}

// ---------------------------------------------------------------------------------------------
// The queue
// ---------------------------------------------------------------------------------------------

#[derive(Default)]
pub struct QueueFilter {
    pub compound_id: Option<i64>,
    /// None: the open ones.
    pub status: Option<Status>,
    pub category: Option<Category>,
    pub priority: Option<Priority>,
    pub assignee_id: Option<i64>,
    /// Only tickets past their deadline (on-hold ones are not: their clock stands).
    pub overdue: bool,
}

pub struct QueuePage {
    pub items: Vec<ticket::Model>,
    /// The names of the technicians the page's tickets are assigned to, by user id.
    pub assignees: BTreeMap<i64, String>,
    /// Pass as `after` for the next page; None on the last.
    pub next: Option<String>,
    /// How many tickets of each status match the other filters.
    pub counts: BTreeMap<Status, u64>,
}

/// Tickets the actor may see, soonest deadline first, a page at a time: the desk's queue, a
/// technician's work list, an owner's own tickets.
pub async fn queue(db: &impl ConnectionTrait, actor: &Actor, filter: QueueFilter, after: Option<&str>, limit: u64) -> Result<QueuePage> {
    actor.require(Permission::ReadTickets)?;
    let mut scope = Condition::all();
    match actor.role {
        Role::Owner => scope = scope.add(owners_tickets(db, actor).await?),
        _ => {
            if let Some(company) = actor.company_id {
                scope = scope.add(ticket::Column::CompanyId.eq(company));
            }
            if let Some(compounds) = &actor.compounds {
                scope = scope.add(ticket::Column::CompoundId.is_in(compounds.iter().copied()));
            }
            if actor.role == Role::Technician {
                scope = scope.add(ticket::Column::AssigneeId.eq(actor.user_id));
            }
        }
    }
    if let Some(compound) = filter.compound_id {
        scope = scope.add(ticket::Column::CompoundId.eq(compound));
    }
    if let Some(category) = filter.category {
        scope = scope.add(ticket::Column::Category.eq(category.as_str()));
    }
    if let Some(priority) = filter.priority {
        scope = scope.add(ticket::Column::Priority.eq(priority.as_str()));
    }
    if let Some(assignee) = filter.assignee_id {
        scope = scope.add(ticket::Column::AssigneeId.eq(assignee));
    }
    if filter.overdue {
        let running: Vec<&str> = Status::OPEN.iter().filter(|s| **s != Status::OnHold).map(|s| s.as_str()).collect();
        scope = scope.add(ticket::Column::DueAt.lt(Utc::now())).add(ticket::Column::Status.is_in(running));
    }
    let counted: Vec<(String, i64)> = ticket::Entity::find()
        .select_only()
        .column(ticket::Column::Status)
        // COUNT(*), not of a column: the status-counts index answers it without reading tickets.
        .expr_as(Func::count(Expr::col(Asterisk)), "n")
        .filter(scope.clone())
        .group_by(ticket::Column::Status)
        .into_tuple()
        .all(db)
        .await?;
    let counts = counted.into_iter().filter_map(|(status, n)| Some((Status::parse(&status)?, n as u64))).collect();
    let wanted = match filter.status {
        Some(status) => ticket::Column::Status.eq(status.as_str()),
        // Written into the SQL, not bound: the planner then sees that this is the filter of the
        // open-tickets index (migration 000009) and reads the page from it, past no closed ticket.
        None => {
            use sea_orm::sea_query::ExprTrait;
            Expr::col((ticket::Entity, ticket::Column::Status)).is_in(Status::OPEN.map(|s| Expr::Constant(s.as_str().into())))
        }
    };
    let mut select = ticket::Entity::find().filter(scope).filter(wanted);
    if let Some((due, id)) = after.map(parse_cursor).transpose()? {
        select = select.filter(
            Condition::any().add(ticket::Column::DueAt.gt(due)).add(Condition::all().add(ticket::Column::DueAt.eq(due)).add(ticket::Column::Id.gt(id))),
        );
    }
    // The assigned technician's name comes in the same statement: the board names who has each ticket.
    let select = select
        .column_as(user::Column::Name, "assignee_name")
        .join(JoinType::LeftJoin, ticket::Entity::belongs_to(user::Entity).from(ticket::Column::AssigneeId).to(user::Column::Id).into())
        .order_by_asc(ticket::Column::DueAt)
        .order_by_asc(ticket::Column::Id)
        .limit(limit + 1);
    let rows = db.query_all_raw(select.build(db.get_database_backend())).await?;
    let mut items = Vec::with_capacity(rows.len());
    let mut assignees = BTreeMap::new();
    for row in rows.iter().take(limit as usize) {
        let ticket = ticket::Model::from_query_result(row, "")?;
        if let (Some(id), Some(name)) = (ticket.assignee_id, row.try_get::<Option<String>>("", "assignee_name")?) {
            assignees.insert(id, name);
        }
        items.push(ticket);
    }
    let next = (rows.len() as u64 > limit).then(|| {
        let last = items.last().expect("a full page");
        // Nanoseconds: SQLite keeps them (PostgreSQL microseconds), and the next page must start
        // exactly after this ticket.
        format!("{}_{}", last.due_at.timestamp_nanos_opt().unwrap_or_default(), last.id)
    });
    Ok(QueuePage { items, assignees, next, counts })
}

fn parse_cursor(text: &str) -> Result<(DateTime<Utc>, i64)> {
    let bad = || Error::invalid("after", "after is the `next` of the page before, as it was given");
    let (nanos, id) = text.split_once('_').ok_or_else(bad)?;
    let due = DateTime::from_timestamp_nanos(nanos.parse().map_err(|_| bad())?);
    Ok((due, id.parse().map_err(|_| bad())?))
}

// ---------------------------------------------------------------------------------------------
// Technician groups
// ---------------------------------------------------------------------------------------------

#[derive(poem_openapi::Object, serde::Deserialize)]
pub struct NewTechnicianGroup {
    pub name: String,
    pub categories: Vec<Category>,
    pub member_ids: Vec<i64>,
}

/// A technician group with its members' names: the dispatcher picks a technician by name.
pub struct TechnicianGroup {
    pub group: technician_group::Model,
    /// (user id, name), in the group's order.
    pub members: Vec<(i64, String)>,
}

/// A group's members' user ids, as the group lists them.
fn member_ids(group: &technician_group::Model) -> Vec<i64> {
    serde_json::from_str(&group.member_ids).unwrap_or_default()
}

/// The groups with their members' names, read in one query.
async fn with_member_names(db: &impl ConnectionTrait, groups: Vec<technician_group::Model>) -> Result<Vec<TechnicianGroup>> {
    let ids: Vec<i64> = groups.iter().flat_map(member_ids).collect();
    let names: HashMap<i64, String> =
        user::Entity::find().select_only().column(user::Column::Id).column(user::Column::Name).filter(user::Column::Id.is_in(ids)).into_tuple().all(db).await?.into_iter().collect();
    Ok(groups
        .into_iter()
        .map(|group| {
            // Accounts are disabled, never deleted: every member has a name.
            let members = member_ids(&group).into_iter().map(|id| (id, names.get(&id).cloned().unwrap_or_default())).collect();
            TechnicianGroup { group, members }
        })
        .collect())
}

pub async fn create_group(db: &impl ConnectionTrait, actor: &Actor, compound_id: i64, new: NewTechnicianGroup) -> Result<TechnicianGroup> {
    actor.require(Permission::ManageTicketSetup)?;
    let compound = find_visible::<compound::Entity>(db, actor, compound_id).await?;
    let name = required_text("name", &new.name, 100)?;
    if new.categories.is_empty() || new.member_ids.is_empty() {
        return Err(Error::invalid(if new.categories.is_empty() { "categories" } else { "member_ids" }, "a group takes at least one category and has at least one member"));
    }
    for member in &new.member_ids {
        technician_of(db, compound.company_id, compound.id, *member).await.map_err(|_| Error::invalid("member_ids", format!("{member} is not a technician of this company who works in this compound")))?;
    }
    let categories: Vec<&str> = new.categories.iter().map(|c| c.as_str()).collect();
    let group = technician_group::ActiveModel {
        company_id: Set(compound.company_id),
        compound_id: Set(compound.id),
        name: Set(name),
        categories: Set(serde_json::to_string(&categories).expect("strings")),
        member_ids: Set(serde_json::to_string(&new.member_ids).expect("numbers")),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(with_member_names(db, vec![group]).await?.remove(0))
}

pub async fn list_groups(db: &impl ConnectionTrait, actor: &Actor, compound_id: i64) -> Result<Vec<TechnicianGroup>> {
    actor.require(Permission::DispatchTickets)?;
    let compound = find_visible::<compound::Entity>(db, actor, compound_id).await?;
    let groups = technician_group::Entity::find().filter(technician_group::Column::CompoundId.eq(compound.id)).order_by_asc(technician_group::Column::Id).all(db).await?;
    with_member_names(db, groups).await
}

// ---------------------------------------------------------------------------------------------
// Scheduled: SLA escalation and closing resolved tickets
// ---------------------------------------------------------------------------------------------

/// The SLA job for one company: each open ticket past its response or resolution deadline (the
/// clock stands while on hold) is escalated once per deadline, by email to the managers of its
/// compound, and the escalation is in its history.
pub async fn escalate_overdue(db: &DatabaseConnection, config: &Config, company_id: i64) -> Result<Counts> {
    let now = Utc::now();
    let mut counts = Counts::from([("response", 0), ("resolution", 0), ("emails", 0)]);
    let open = ticket::Entity::find()
        .filter(ticket::Column::CompanyId.eq(company_id))
        .filter(ticket::Column::Status.is_in(Status::OPEN.iter().filter(|s| **s != Status::OnHold).map(|s| s.as_str())))
        .filter(
            Condition::any()
                .add(Condition::all().add(ticket::Column::AcceptedAt.is_null()).add(ticket::Column::ResponseEscalatedAt.is_null()).add(ticket::Column::ResponseDueAt.lt(now)))
                .add(Condition::all().add(ticket::Column::ResolutionEscalatedAt.is_null()).add(ticket::Column::ResolutionDueAt.lt(now))),
        )
        .all(db)
        .await?;
    for current in open {
        let which = if current.accepted_at.is_none() && current.response_escalated_at.is_none() && current.response_due_at < now { "response" } else { "resolution" };
        let managers = managers_of(db, current.company_id, current.compound_id).await?;
        let txn = crate::db::begin(db).await?;
        // Marked only if nobody else marked it meanwhile: escalated once per deadline.
        let column = if which == "response" { ticket::Column::ResponseEscalatedAt } else { ticket::Column::ResolutionEscalatedAt };
        let marked = ticket::Entity::update_many()
            .col_expr(column, Expr::value(now))
            .filter(ticket::Column::Id.eq(current.id))
            .filter(ticket::Column::Version.eq(current.version))
            .filter(column.is_null())
            .exec(&txn)
            .await?;
        if marked.rows_affected == 0 {
            continue;
        }
        record(&txn, &Actor::system(), &current, "escalated", None, Some(which), None, true).await?;
        let (subject, body) = emails::escalation(config, &current, which);
        for manager in &managers {
            let Some(address) = manager.email.clone() else { continue };
            mail::enqueue(
                &txn,
                NewEmail {
                    company_id: current.company_id,
                    compound_id: current.compound_id,
                    kind: "ticket_escalation",
                    reference: Some(format!("ticket:{}", current.id)),
                    recipient: address,
                    recipient_name: manager.name.clone(),
                    subject: subject.clone(),
                    body: body.clone(),
                    language: config.mail.language,
                },
            )
            .await?;
            *counts.entry("emails").or_default() += 1;
        }
        txn.commit().await?;
        *counts.entry(which).or_default() += 1;
    }
    Ok(counts)
}

/// Enabled managers and company administrators of the company who work in the compound.
async fn managers_of(db: &impl ConnectionTrait, company_id: i64, compound_id: i64) -> Result<Vec<user::Model>> {
    let staff = user::Entity::find()
        .filter(user::Column::CompanyId.eq(company_id))
        .filter(user::Column::Role.is_in([Role::Manager.as_str(), Role::CompanyAdmin.as_str()]))
        .filter(user::Column::Disabled.eq(false))
        .order_by_asc(user::Column::Id)
        .all(db)
        .await?;
    let limits = user_compound::Entity::find().filter(user_compound::Column::UserId.is_in(staff.iter().map(|u| u.id))).all(db).await?;
    Ok(staff
        .into_iter()
        .filter(|u| {
            let mine: Vec<i64> = limits.iter().filter(|l| l.user_id == u.id).map(|l| l.compound_id).collect();
            mine.is_empty() || mine.contains(&compound_id)
        })
        .collect())
}

/// Closes the company's tickets resolved more than the configured days ago that the owner
/// neither confirmed nor reopened.
pub async fn close_resolved(db: &DatabaseConnection, config: &Config, company_id: i64) -> Result<Counts> {
    let before = Utc::now() - chrono::Duration::days(config.ticket_auto_close_days);
    let stale = ticket::Entity::find()
        .filter(ticket::Column::CompanyId.eq(company_id))
        .filter(ticket::Column::Status.eq(Status::Resolved.as_str()))
        .filter(ticket::Column::ResolvedAt.lt(before))
        .all(db)
        .await?;
    let mut closed = 0;
    for current in stale {
        let mut next = current.clone();
        next.status = Status::Closed.as_str().into();
        next.closed_at = Some(Utc::now());
        let txn = crate::db::begin(db).await?;
        // A ticket the owner touched meanwhile keeps their word.
        match save(&txn, &current, next, current.version).await {
            Ok(saved) => {
                let note = format!("closed automatically {} days after it was resolved", config.ticket_auto_close_days);
                record(&txn, &Actor::system(), &saved, "status", Some(Status::Resolved.as_str()), Some(Status::Closed.as_str()), Some(&note), false).await?;
                txn.commit().await?;
                closed += 1;
            }
            Err(Error::Conflict { .. }) => continue,
            Err(error) => return Err(error),
        }
    }
    Ok(Counts::from([("closed", closed)]))
}

// ---------------------------------------------------------------------------------------------
// Statistics
// ---------------------------------------------------------------------------------------------

/// Figures of a group of tickets.
#[derive(Debug, Default, PartialEq)]
pub struct Figures {
    pub filed: u64,
    pub resolved: u64,
    /// Minutes from filing to acceptance.
    pub response_median: Option<i64>,
    pub response_p90: Option<i64>,
    /// Minutes from filing to resolution, time on hold not counted.
    pub resolution_median: Option<i64>,
    pub resolution_p90: Option<i64>,
    /// Share of resolved tickets resolved by their deadline, in percent (one decimal).
    pub sla_met_percent: Option<f64>,
    pub ratings: u64,
    /// Mean rating, two decimals.
    pub rating_mean: Option<f64>,
    /// Share of resolved tickets the owner reopened, in percent (one decimal).
    pub reopened_percent: Option<f64>,
}

fn figures(tickets: &[&ticket::Model]) -> Figures {
    let mut response: Vec<i64> = tickets.iter().filter_map(|t| Some((t.accepted_at? - t.created_at).num_minutes())).collect();
    let resolved: Vec<&&ticket::Model> = tickets.iter().filter(|t| t.resolved_at.is_some()).collect();
    let mut resolution: Vec<i64> = resolved.iter().filter_map(|t| Some((t.resolved_at? - t.created_at).num_minutes() - t.paused_seconds / 60)).collect();
    response.sort_unstable();
    resolution.sort_unstable();
    let met = resolved.iter().filter(|t| t.resolved_at.is_some_and(|at| at <= t.resolution_due_at)).count();
    let ratings: Vec<i32> = tickets.iter().filter_map(|t| t.rating).collect();
    let percent = |part: usize, whole: usize| (whole > 0).then(|| (part as f64 * 1000.0 / whole as f64).round() / 10.0);
    let ever_resolved = tickets.iter().filter(|t| t.resolved_at.is_some() || t.reopen_count > 0).count();
    Figures {
        filed: tickets.len() as u64,
        resolved: resolved.len() as u64,
        response_median: rules::percentile(&response, 0.5),
        response_p90: rules::percentile(&response, 0.9),
        resolution_median: rules::percentile(&resolution, 0.5),
        resolution_p90: rules::percentile(&resolution, 0.9),
        sla_met_percent: percent(met, resolved.len()),
        ratings: ratings.len() as u64,
        rating_mean: (!ratings.is_empty()).then(|| (ratings.iter().sum::<i32>() as f64 * 100.0 / ratings.len() as f64).round() / 100.0),
        reopened_percent: percent(tickets.iter().filter(|t| t.reopen_count > 0).count(), ever_resolved),
    }
}

pub struct TicketStats {
    pub all: Figures,
    pub by_category: BTreeMap<String, Figures>,
    /// By technician (user id and name).
    pub by_technician: Vec<(i64, String, Figures)>,
    /// By the month of filing, in the compound's time.
    pub by_month: BTreeMap<String, Figures>,
}

/// Statistics of a compound's tickets filed from `from` to `to` (in the compound's days).
pub async fn stats(db: &impl ConnectionTrait, actor: &Actor, compound_id: i64, from: NaiveDate, to: NaiveDate) -> Result<TicketStats> {
    actor.require(Permission::ReadTicketStats)?;
    let compound = find_visible::<compound::Entity>(db, actor, compound_id).await?;
    if from > to {
        return Err(Error::invalid("from", "from must not be after to"));
    }
    if (to - from).num_days() > 3660 {
        return Err(Error::invalid("to", "at most ten years at a time"));
    }
    let zone: chrono_tz::Tz = compound.time_zone.parse().unwrap_or(chrono_tz::Asia::Shanghai);
    let start = |day: NaiveDate| day.and_hms_opt(0, 0, 0).expect("midnight").and_local_timezone(zone).earliest().map(|t| t.with_timezone(&Utc));
    let (Some(begin), Some(end)) = (start(from), to.succ_opt().and_then(start)) else {
        return Err(Error::invalid("from", "the dates are out of range"));
    };
    let tickets = ticket::Entity::find()
        .filter(ticket::Column::CompoundId.eq(compound.id))
        .filter(ticket::Column::CreatedAt.gte(begin))
        .filter(ticket::Column::CreatedAt.lt(end))
        .all(db)
        .await?;
    let all: Vec<&ticket::Model> = tickets.iter().collect();
    let mut by_category: BTreeMap<String, Vec<&ticket::Model>> = BTreeMap::new();
    let mut by_technician: BTreeMap<i64, Vec<&ticket::Model>> = BTreeMap::new();
    let mut by_month: BTreeMap<String, Vec<&ticket::Model>> = BTreeMap::new();
    for t in &tickets {
        by_category.entry(t.category.clone()).or_default().push(t);
        by_month.entry(crate::types::Period::containing(t.created_at.with_timezone(&zone).date_naive()).to_string()).or_default().push(t);
        if let Some(assignee) = t.assignee_id {
            by_technician.entry(assignee).or_default().push(t);
        }
    }
    let names: HashMap<i64, String> =
        user::Entity::find().filter(user::Column::Id.is_in(by_technician.keys().copied())).all(db).await?.into_iter().map(|u| (u.id, u.name)).collect();
    Ok(TicketStats {
        all: figures(&all),
        by_category: by_category.into_iter().map(|(c, ts)| (c, figures(&ts))).collect(),
        by_technician: by_technician.into_iter().map(|(id, ts)| (id, names.get(&id).cloned().unwrap_or_default(), figures(&ts))).collect(),
        by_month: by_month.into_iter().map(|(m, ts)| (m, figures(&ts))).collect(),
    })
}
