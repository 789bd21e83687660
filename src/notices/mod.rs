//! Notices (公告) to a compound's owners: written by staff or the committee (or by the fund's
//! steps and the votes), addressed to the compound, some buildings or stairwells, published now
//! or at a set time, acknowledged by owners, emailed at once for emergencies and outages and
//! otherwise to the owners who asked for every notice.
//!
//! Disclosures (fee schedules, fund use, vote results, annual accounts) are never changed or
//! deleted once published: a correction is a new notice that supersedes the old, and both stay.
pub mod api;

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, DatabaseTransaction, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect,
};

use crate::{
    auth::{
        Actor, Permission, Role,
        tenancy::{find_visible, lock_visible},
    },
    error::{Error, Result},
    jobs::Counts,
    mail::{self, NewEmail},
    registry::{self, Scope, ScopeKind},
    types::{optional_filter, required_lines, required_text},
};
use entity::{compound, notice, notice_attachment, notice_attachment_data, notice_read, owner};

#[derive(Clone, Copy, Debug, PartialEq, Eq, poem_openapi::Enum, serde::Deserialize)]
#[oai(rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum NoticeCategory {
    General,
    FeeSchedule,
    FundUse,
    VoteResult,
    AnnualAccounts,
    Outage,
    Emergency,
}

impl NoticeCategory {
    pub const ALL: [NoticeCategory; 7] = [
        NoticeCategory::General,
        NoticeCategory::FeeSchedule,
        NoticeCategory::FundUse,
        NoticeCategory::VoteResult,
        NoticeCategory::AnnualAccounts,
        NoticeCategory::Outage,
        NoticeCategory::Emergency,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            NoticeCategory::General => "general",
            NoticeCategory::FeeSchedule => "fee_schedule",
            NoticeCategory::FundUse => "fund_use",
            NoticeCategory::VoteResult => "vote_result",
            NoticeCategory::AnnualAccounts => "annual_accounts",
            NoticeCategory::Outage => "outage",
            NoticeCategory::Emergency => "emergency",
        }
    }

    pub fn parse(text: &str) -> Option<NoticeCategory> {
        NoticeCategory::ALL.into_iter().find(|c| c.as_str() == text)
    }

    /// Disclosures (公示) stay as published, for good.
    pub fn is_disclosure(self) -> bool {
        matches!(self, NoticeCategory::FeeSchedule | NoticeCategory::FundUse | NoticeCategory::VoteResult | NoticeCategory::AnnualAccounts)
    }

    /// Emailed to every owner addressed at once, whatever their preference.
    pub fn is_urgent(self) -> bool {
        matches!(self, NoticeCategory::Outage | NoticeCategory::Emergency)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, poem_openapi::Enum, serde::Deserialize)]
#[oai(rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum BodyFormat {
    Plain,
    /// A safe subset of Markdown: raw HTML is shown as text, links only to http(s) and mail.
    Markdown,
}

impl BodyFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            BodyFormat::Plain => "plain",
            BodyFormat::Markdown => "markdown",
        }
    }

    pub fn plain() -> BodyFormat {
        BodyFormat::Plain
    }
}

/// A notice's body as HTML that is safe to show: plain text escaped with its line breaks kept;
/// Markdown rendered with any HTML in it turned back into text and links other than http(s)
/// and mailto dropped (their text kept).
pub fn body_html(format: &str, body: &str) -> String {
    use pulldown_cmark::{CowStr, Event, LinkType, Parser, Tag, TagEnd, html};
    if format != BodyFormat::Markdown.as_str() {
        return body.split('\n').map(|line| escape(line.trim_end_matches('\r'))).collect::<Vec<_>>().join("<br>\n");
    }
    let safe_link = |url: &str| {
        let url = url.trim().to_ascii_lowercase();
        url.starts_with("https://") || url.starts_with("http://") || url.starts_with("mailto:")
    };
    let mut dropped_links = 0usize;
    let events = Parser::new(body).filter_map(|event| match event {
        Event::Html(raw) | Event::InlineHtml(raw) => Some(Event::Text(raw)),
        Event::Start(Tag::Image { dest_url, title, .. }) => Some(Event::Text(CowStr::from(format!("[{title}]({dest_url})")))),
        Event::End(TagEnd::Image) => None,
        Event::Start(Tag::Link { link_type, dest_url, title, id }) => {
            if link_type == LinkType::Email || safe_link(&dest_url) {
                Some(Event::Start(Tag::Link { link_type, dest_url, title, id }))
            } else {
                dropped_links += 1;
                None
            }
        }
        Event::End(TagEnd::Link) if dropped_links > 0 => {
            dropped_links -= 1;
            None
        }
        other => Some(other),
    });
    let mut out = String::new();
    html::push_html(&mut out, events);
    out
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;")
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Draft,
    Scheduled,
    Published,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Draft => "draft",
            Status::Scheduled => "scheduled",
            Status::Published => "published",
        }
    }
}

/// A notice written by the service itself (a vote's result, a fund project's steps).
pub struct NewNotice {
    pub company_id: i64,
    pub compound_id: i64,
    pub category: NoticeCategory,
    pub title: String,
    pub body: String,
    pub audience: Scope,
    /// What it reports on, e.g. "vote:3".
    pub source: String,
    pub published: bool,
}

/// Writes a notice in the caller's transaction, as a draft or published (and then emailed).
pub async fn write(txn: &DatabaseTransaction, actor: &Actor, new: NewNotice) -> Result<notice::Model> {
    let now = Utc::now();
    let written = notice::ActiveModel {
        company_id: Set(new.company_id),
        compound_id: Set(new.compound_id),
        category: Set(new.category.as_str().into()),
        title: Set(new.title),
        body: Set(new.body),
        body_format: Set(BodyFormat::Plain.as_str().into()),
        audience_kind: Set(new.audience.kind.as_str().into()),
        audience_ids: Set(new.audience.ids_json()),
        status: Set(if new.published { Status::Published } else { Status::Draft }.as_str().into()),
        pinned: Set(false),
        source: Set(Some(new.source)),
        supersedes_id: Set(None),
        created_by: Set(actor.user_id),
        author_role: Set(author_role(actor)),
        created_at: Set(now),
        publish_at: Set(new.published.then_some(now)),
        published_at: Set(new.published.then_some(now)),
        expires_at: Set(None),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    if new.published {
        email_audience(txn, &written).await?;
    }
    Ok(written)
}

fn author_role(actor: &Actor) -> String {
    if actor.user_id == 0 { "system".into() } else { actor.role.as_str().into() }
}

// ---------------------------------------------------------------------------------------------
// Writing, scheduling, publishing, correcting
// ---------------------------------------------------------------------------------------------

/// A notice as staff or the committee write it.
#[derive(poem_openapi::Object, serde::Deserialize)]
pub struct NoticeDraft {
    pub category: NoticeCategory,
    pub title: String,
    pub body: String,
    #[oai(default = "BodyFormat::plain")]
    #[serde(default = "BodyFormat::plain")]
    pub body_format: BodyFormat,
    /// compound (the default), buildings or stairwells.
    #[oai(default = "ScopeKind::compound")]
    #[serde(default = "ScopeKind::compound")]
    pub audience: ScopeKind,
    #[oai(default)]
    #[serde(default)]
    pub audience_ids: Vec<i64>,
    /// Kept as a draft, published later by `POST /notices/{id}/publication`.
    #[oai(default)]
    #[serde(default)]
    pub draft: bool,
    /// When it is published: now when left out.
    pub publish_at: Option<DateTime<Utc>>,
    /// When it leaves the owners' list (it stays on record).
    pub expires_at: Option<DateTime<Utc>>,
    #[oai(default)]
    #[serde(default)]
    pub pinned: bool,
    /// The published notice this one corrects; both stay visible.
    pub supersedes_id: Option<i64>,
}

const MAX_BODY_CHARS: usize = 20_000;

/// Checks the parts a draft and a change share.
fn checked_text(title: &str, body: &str) -> Result<(String, String)> {
    Ok((required_text("title", title, 200)?, required_lines("body", body, MAX_BODY_CHARS)?))
}

async fn checked_audience(db: &impl ConnectionTrait, compound_id: i64, kind: ScopeKind, ids: &[i64]) -> Result<Scope> {
    if kind == ScopeKind::Units {
        return Err(Error::invalid("audience", "a notice goes to the compound, buildings or stairwells"));
    }
    if ids.len() > 1000 {
        return Err(Error::invalid("audience_ids", "at most 1000 buildings or stairwells"));
    }
    let scope = Scope::new(kind, ids);
    scope.check(db, compound_id).await.map_err(|e| match e {
        Error::Invalid { message, .. } => Error::invalid("audience_ids", message),
        other => other,
    })?;
    Ok(scope)
}

fn checked_times(publish_at: Option<DateTime<Utc>>, expires_at: Option<DateTime<Utc>>) -> Result<()> {
    let now = Utc::now();
    if publish_at.is_some_and(|at| at > now + chrono::Duration::days(366)) {
        return Err(Error::invalid("publish_at", "publish_at must be within a year"));
    }
    if let Some(expires) = expires_at {
        if expires <= publish_at.unwrap_or(now).max(now) {
            return Err(Error::invalid("expires_at", "expires_at must be after the notice is published"));
        }
    }
    Ok(())
}

pub async fn create(db: &DatabaseConnection, actor: &Actor, compound_id: i64, draft: NoticeDraft) -> Result<notice::Model> {
    actor.require(Permission::WriteNotices)?;
    let compound = find_visible::<compound::Entity>(db, actor, compound_id).await?;
    let (title, body) = checked_text(&draft.title, &draft.body)?;
    let audience = checked_audience(db, compound.id, draft.audience, &draft.audience_ids).await?;
    checked_times(draft.publish_at, draft.expires_at)?;
    if let Some(old) = draft.supersedes_id {
        let superseded = notice::Entity::find_by_id(old).one(db).await?.filter(|n| n.compound_id == compound.id);
        if superseded.is_none_or(|n| n.status != Status::Published.as_str()) {
            return Err(Error::invalid("supersedes_id", format!("notice {old} is not a published notice of this compound")));
        }
    }
    let now = Utc::now();
    let publish_at = draft.publish_at.filter(|at| *at > now);
    let status = match (draft.draft, publish_at) {
        (true, _) => Status::Draft,
        (false, Some(_)) => Status::Scheduled,
        (false, None) => Status::Published,
    };
    let txn = crate::db::begin(db).await?;
    let written = notice::ActiveModel {
        company_id: Set(compound.company_id),
        compound_id: Set(compound.id),
        category: Set(draft.category.as_str().into()),
        title: Set(title),
        body: Set(body),
        body_format: Set(draft.body_format.as_str().into()),
        audience_kind: Set(audience.kind.as_str().into()),
        audience_ids: Set(audience.ids_json()),
        status: Set(status.as_str().into()),
        pinned: Set(draft.pinned),
        source: Set(None),
        supersedes_id: Set(draft.supersedes_id),
        created_by: Set(actor.user_id),
        author_role: Set(author_role(actor)),
        created_at: Set(now),
        publish_at: Set(if status == Status::Published { Some(now) } else { publish_at }),
        published_at: Set((status == Status::Published).then_some(now)),
        expires_at: Set(draft.expires_at),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    if status == Status::Published {
        email_audience(&txn, &written).await?;
    }
    txn.commit().await?;
    Ok(written)
}

/// What a change may alter; every field is optional.
#[derive(poem_openapi::Object, serde::Deserialize)]
pub struct NoticeChanges {
    pub title: Option<String>,
    pub body: Option<String>,
    pub body_format: Option<BodyFormat>,
    pub category: Option<NoticeCategory>,
    pub audience: Option<ScopeKind>,
    pub audience_ids: Option<Vec<i64>>,
    pub publish_at: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
    pub pinned: Option<bool>,
}

/// What is done to a notice.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Step {
    Change,
    Delete,
    Attach,
    Publish,
}

/// A notice to change, locked: within reach of a writer of notices on the side that wrote it
/// (the committee's by the committee, the company's and the service's by company staff), never
/// a published disclosure, and, for one the service wrote (a vote's, a fund project's), only
/// to publish it as written.
async fn for_change(txn: &DatabaseTransaction, actor: &Actor, id: i64, step: Step) -> Result<notice::Model> {
    actor.require(Permission::WriteNotices)?;
    let notice = lock_visible::<notice::Entity>(txn, actor, id).await?;
    let committee_wrote = notice.author_role == Role::Committee.as_str();
    if committee_wrote != (actor.role == Role::Committee) {
        return Err(Error::Forbidden("a notice is changed by the side that wrote it: the committee's by the committee, the company's by its staff"));
    }
    let disclosure = NoticeCategory::parse(&notice.category).is_some_and(NoticeCategory::is_disclosure);
    if disclosure && notice.status == Status::Published.as_str() {
        return Err(Error::conflict("status", "a published disclosure is never changed: publish a correction that supersedes it (supersedes_id)"));
    }
    if notice.source.is_some() && step != Step::Publish {
        return Err(Error::conflict("source", "this notice reports a vote or a fund project as the service wrote it: it may only be published"));
    }
    Ok(notice)
}

/// Changes a draft or scheduled notice; of a published notice (not a disclosure) only whether
/// it is pinned and when it expires.
pub async fn change(db: &DatabaseConnection, actor: &Actor, id: i64, changes: NoticeChanges) -> Result<notice::Model> {
    let txn = crate::db::begin(db).await?;
    let current = for_change(&txn, actor, id, Step::Change).await?;
    let published = current.status == Status::Published.as_str();
    let content_changed = changes.title.is_some()
        || changes.body.is_some()
        || changes.body_format.is_some()
        || changes.category.is_some()
        || changes.audience.is_some()
        || changes.audience_ids.is_some()
        || changes.publish_at.is_some();
    if published && content_changed {
        return Err(Error::conflict("status", "a published notice keeps its content: change only pinned or expires_at, or publish a correction"));
    }
    let (title, body) = checked_text(changes.title.as_deref().unwrap_or(&current.title), changes.body.as_deref().unwrap_or(&current.body))?;
    let audience = if changes.audience.is_some() || changes.audience_ids.is_some() {
        let kind = match changes.audience {
            Some(kind) => kind,
            None => audience_of(&current)?.kind,
        };
        let ids = match &changes.audience_ids {
            Some(ids) => ids.clone(),
            None => serde_json::from_str(&current.audience_ids).map_err(anyhow::Error::from)?,
        };
        checked_audience(&txn, current.compound_id, kind, &ids).await?
    } else {
        audience_of(&current)?
    };
    let publish_at = changes.publish_at.or(current.publish_at);
    let expires_at = changes.expires_at.or(current.expires_at);
    checked_times(if published { current.published_at } else { publish_at }, expires_at)?;
    let mut active: notice::ActiveModel = current.clone().into();
    active.title = Set(title);
    active.body = Set(body);
    if let Some(format) = changes.body_format {
        active.body_format = Set(format.as_str().into());
    }
    if let Some(category) = changes.category {
        active.category = Set(category.as_str().into());
    }
    active.audience_kind = Set(audience.kind.as_str().into());
    active.audience_ids = Set(audience.ids_json());
    active.expires_at = Set(expires_at);
    if let Some(pinned) = changes.pinned {
        active.pinned = Set(pinned);
    }
    if !published {
        active.publish_at = Set(publish_at);
        // A set time makes a draft waiting on it scheduled; a scheduled notice stays scheduled.
        if current.status == Status::Scheduled.as_str() || changes.publish_at.is_some() {
            active.status = Set(Status::Scheduled.as_str().into());
        }
    }
    let changed = active.update(&txn).await?;
    txn.commit().await?;
    Ok(changed)
}

/// Deletes a notice never published, and returns it as it was; a published one stays on record
/// (let it expire).
pub async fn delete(db: &DatabaseConnection, actor: &Actor, id: i64) -> Result<notice::Model> {
    let txn = crate::db::begin(db).await?;
    let notice = for_change(&txn, actor, id, Step::Delete).await?;
    if notice.status == Status::Published.as_str() {
        return Err(Error::conflict("status", "a published notice stays on record: set expires_at to take it off the owners' list"));
    }
    let attachments = notice_attachment::Entity::find().filter(notice_attachment::Column::NoticeId.eq(notice.id)).all(&txn).await?;
    notice_attachment_data::Entity::delete_many().filter(notice_attachment_data::Column::AttachmentId.is_in(attachments.iter().map(|a| a.id))).exec(&txn).await?;
    notice_attachment::Entity::delete_many().filter(notice_attachment::Column::NoticeId.eq(notice.id)).exec(&txn).await?;
    notice::Entity::delete_by_id(notice.id).exec(&txn).await?;
    txn.commit().await?;
    Ok(notice)
}

/// Publishes a draft or scheduled notice now (and emails it).
pub async fn publish_now(db: &DatabaseConnection, actor: &Actor, id: i64) -> Result<notice::Model> {
    let txn = crate::db::begin(db).await?;
    let notice = for_change(&txn, actor, id, Step::Publish).await?;
    if notice.status == Status::Published.as_str() {
        return Err(Error::conflict("status", "the notice is published already"));
    }
    let published = publish(&txn, notice).await?;
    txn.commit().await?;
    Ok(published)
}

async fn publish(txn: &DatabaseTransaction, notice: notice::Model) -> Result<notice::Model> {
    let now = Utc::now();
    let mut active: notice::ActiveModel = notice.into();
    active.status = Set(Status::Published.as_str().into());
    active.published_at = Set(Some(now));
    active.publish_at = Set(Some(now));
    let published = active.update(txn).await?;
    // On record whatever its expiry; an email about what has already expired helps no one.
    if published.expires_at.is_none_or(|at| at > now) {
        email_audience(txn, &published).await?;
    }
    Ok(published)
}

/// The scheduled job: publishes (and emails) the company's notices whose time has come, each
/// once, whichever replica gets there first.
pub async fn publish_due(db: &DatabaseConnection, company_id: i64) -> Result<Counts> {
    let due = notice::Entity::find()
        .filter(notice::Column::CompanyId.eq(company_id))
        .filter(notice::Column::Status.eq(Status::Scheduled.as_str()))
        .filter(notice::Column::PublishAt.lte(Utc::now()))
        .order_by_asc(notice::Column::Id)
        .all(db)
        .await?;
    let mut counts = Counts::from([("published", 0), ("failed", 0)]);
    for candidate in due {
        // One notice that cannot go out must not hold up the others: logged, counted, retried.
        match publish_scheduled(db, candidate.id).await {
            Ok(true) => *counts.entry("published").or_default() += 1,
            Ok(false) => {}
            Err(error) => {
                tracing::error!(notice = candidate.id, %error, "could not publish the scheduled notice");
                *counts.entry("failed").or_default() += 1;
            }
        }
    }
    Ok(counts)
}

/// Publishes one scheduled notice under its row lock, unless another replica or a manager got
/// there first.
async fn publish_scheduled(db: &DatabaseConnection, id: i64) -> Result<bool> {
    let txn = crate::db::begin(db).await?;
    let Some(current) = notice::Entity::find_by_id(id).lock_exclusive().one(&txn).await? else { return Ok(false) };
    if current.status != Status::Scheduled.as_str() {
        return Ok(false);
    }
    publish(&txn, current).await?;
    txn.commit().await?;
    Ok(true)
}

// ---------------------------------------------------------------------------------------------
// The audience: who it is addressed to, who read it, who is emailed
// ---------------------------------------------------------------------------------------------

fn audience_of(notice: &notice::Model) -> Result<Scope> {
    Scope::stored(&notice.audience_kind, &notice.audience_ids)
}

/// The owners a notice is addressed to: the current owners of the units in its audience.
pub async fn audience_owners(db: &impl ConnectionTrait, notice: &notice::Model) -> Result<Vec<owner::Model>> {
    let units = audience_of(notice)?.units(db, notice.compound_id).await?;
    let unit_ids: Vec<i64> = units.iter().map(|u| u.id).collect();
    let mut seen = BTreeSet::new();
    let mut owners = Vec::new();
    for (_, list) in registry::current_owners(db, &unit_ids).await? {
        for (_, owner) in list {
            if seen.insert(owner.id) {
                owners.push(owner);
            }
        }
    }
    owners.sort_by_key(|o| o.id);
    Ok(owners)
}

/// Emails a notice just published: emergencies and outages to every owner addressed who has an
/// email address, other notices to those who asked for every notice.
async fn email_audience(txn: &DatabaseTransaction, notice: &notice::Model) -> Result<()> {
    let urgent = NoticeCategory::parse(&notice.category).is_some_and(NoticeCategory::is_urgent);
    let compound = compound::Entity::find_by_id(notice.compound_id).one(txn).await?.ok_or(Error::NotFound("compound"))?;
    for owner in audience_owners(txn, notice).await? {
        let Some(address) = owner.email.clone().filter(|_| urgent || owner.email_every_notice) else { continue };
        mail::enqueue(
            txn,
            NewEmail {
                company_id: notice.company_id,
                compound_id: notice.compound_id,
                kind: "notice",
                reference: Some(format!("notice:{}", notice.id)),
                recipient: address,
                recipient_name: owner.name.clone(),
                subject: format!("{} 公告：{}", compound.name, notice.title),
                body: notice.body.clone(),
                language: crate::config::Language::Zh,
            },
        )
        .await?;
    }
    Ok(())
}

/// How many of the audience have read each notice: (audience, read). The compound's units and
/// owners are loaded once, and the reads in one query, however many notices.
pub async fn read_counts(db: &impl ConnectionTrait, notices: &[notice::Model]) -> Result<HashMap<i64, (u64, u64)>> {
    let mut counts = HashMap::new();
    let reads = notice_read::Entity::find().filter(notice_read::Column::NoticeId.is_in(notices.iter().map(|n| n.id))).all(db).await?;
    let compounds: BTreeSet<i64> = notices.iter().map(|n| n.compound_id).collect();
    for compound_id in compounds {
        let units = Scope::new(ScopeKind::Compound, &[]).units(db, compound_id).await?;
        let owners = registry::current_owners(db, &units.iter().map(|u| u.id).collect::<Vec<_>>()).await?;
        for notice in notices.iter().filter(|n| n.compound_id == compound_id) {
            let audience = audience_of(notice)?;
            let addressed: BTreeSet<i64> =
                units.iter().filter(|u| audience.contains(u)).flat_map(|u| owners.get(&u.id).into_iter().flatten().map(|(_, o)| o.id)).collect();
            let read = reads.iter().filter(|r| r.notice_id == notice.id && addressed.contains(&r.owner_id)).count() as u64;
            counts.insert(notice.id, (addressed.len() as u64, read));
        }
    }
    Ok(counts)
}

/// Whether an owner's login has acknowledged the notice.
pub async fn has_read(db: &impl ConnectionTrait, actor: &Actor, notice_id: i64) -> Result<bool> {
    let owners = owner::Entity::find().filter(owner::Column::UserId.eq(actor.user_id)).all(db).await?;
    let read = notice_read::Entity::find()
        .filter(notice_read::Column::NoticeId.eq(notice_id))
        .filter(notice_read::Column::OwnerId.is_in(owners.iter().map(|o| o.id)))
        .count(db)
        .await?;
    Ok(read > 0)
}

// ---------------------------------------------------------------------------------------------
// Reading: staff and the committee, and owners
// ---------------------------------------------------------------------------------------------

/// A compound's notices for staff and the committee, newest first; `source` narrows them to one
/// record's ("vote:3").
pub async fn list(db: &impl ConnectionTrait, actor: &Actor, compound_id: i64, source: Option<&str>, page: u64, per_page: u64) -> Result<Vec<notice::Model>> {
    actor.require(Permission::ReadNotices)?;
    let compound = find_visible::<compound::Entity>(db, actor, compound_id).await?;
    let mut select = notice::Entity::find().filter(notice::Column::CompoundId.eq(compound.id));
    if let Some(source) = optional_filter("source", source)? {
        select = select.filter(notice::Column::Source.eq(source));
    }
    Ok(select.order_by_desc(notice::Column::Id).offset((page - 1) * per_page).limit(per_page).all(db).await?)
}

/// The owner records an owner's login speaks for, with the units they own now.
async fn my_owners(db: &impl ConnectionTrait, actor: &Actor) -> Result<(Vec<owner::Model>, Vec<entity::unit::Model>)> {
    let owners = owner::Entity::find().filter(owner::Column::UserId.eq(actor.user_id)).all(db).await?;
    let unit_ids = registry::owned_unit_ids(db, actor).await?;
    let units = entity::unit::Entity::find().filter(entity::unit::Column::Id.is_in(unit_ids)).all(db).await?;
    Ok((owners, units))
}

fn addressed_to(notice: &notice::Model, units: &[entity::unit::Model]) -> bool {
    audience_of(notice).is_ok_and(|audience| units.iter().any(|u| u.compound_id == notice.compound_id && audience.contains(u)))
}

fn is_current(notice: &notice::Model, now: DateTime<Utc>) -> bool {
    notice.status == Status::Published.as_str() && notice.expires_at.is_none_or(|at| at > now)
}

/// A notice as its reader may see it: staff and the committee within their reach (any state);
/// an owner, a published notice addressed to one of their units (expired ones too, by id).
pub async fn get(db: &impl ConnectionTrait, actor: &Actor, id: i64) -> Result<notice::Model> {
    if actor.role != Role::Owner {
        actor.require(Permission::ReadNotices)?;
        return find_visible::<notice::Entity>(db, actor, id).await;
    }
    actor.require(Permission::ReadOwnNotices)?;
    let notice = notice::Entity::find_by_id(id).one(db).await?.ok_or(Error::NotFound("notice"))?;
    let (_, units) = my_owners(db, actor).await?;
    if notice.status != Status::Published.as_str() || !addressed_to(&notice, &units) {
        return Err(Error::NotFound("notice"));
    }
    Ok(notice)
}

/// An owner's notices: published, not expired, addressed to one of their units; pinned first,
/// then newest. With whether they have read each.
pub async fn my_notices(db: &impl ConnectionTrait, actor: &Actor) -> Result<Vec<(notice::Model, bool)>> {
    actor.require(Permission::ReadOwnNotices)?;
    let (owners, units) = my_owners(db, actor).await?;
    let compounds: BTreeSet<i64> = units.iter().map(|u| u.compound_id).collect();
    let now = Utc::now();
    let notices = notice::Entity::find()
        .filter(notice::Column::CompoundId.is_in(compounds))
        .filter(notice::Column::Status.eq(Status::Published.as_str()))
        .filter(Condition::any().add(notice::Column::ExpiresAt.is_null()).add(notice::Column::ExpiresAt.gt(now)))
        .order_by_desc(notice::Column::Pinned)
        .order_by_desc(notice::Column::PublishedAt)
        .order_by_desc(notice::Column::Id)
        .all(db)
        .await?;
    let read: BTreeSet<i64> = notice_read::Entity::find()
        .filter(notice_read::Column::OwnerId.is_in(owners.iter().map(|o| o.id)))
        .all(db)
        .await?
        .into_iter()
        .map(|r| r.notice_id)
        .collect();
    Ok(notices
        .into_iter()
        .filter(|n| is_current(n, now) && addressed_to(n, &units))
        .map(|n| {
            let seen = read.contains(&n.id);
            (n, seen)
        })
        .collect())
}

/// An owner acknowledges reading a notice (for each of their owner records in its compound);
/// saying it twice changes nothing.
pub async fn acknowledge(db: &DatabaseConnection, actor: &Actor, id: i64) -> Result<notice::Model> {
    actor.require(Permission::ReadOwnNotices)?;
    let notice = get(db, actor, id).await?;
    let (owners, _) = my_owners(db, actor).await?;
    for owner in owners.iter().filter(|o| o.compound_id == notice.compound_id) {
        let already = notice_read::Entity::find_by_id((notice.id, owner.id)).one(db).await?;
        if already.is_none() {
            let row = notice_read::ActiveModel { notice_id: Set(notice.id), owner_id: Set(owner.id), compound_id: Set(notice.compound_id), user_id: Set(actor.user_id), read_at: Set(Utc::now()) };
            // Two taps at once: the second finds the first.
            if let Err(error) = notice_read::Entity::insert(row).exec_without_returning(db).await {
                if !matches!(error.sql_err(), Some(sea_orm::SqlErr::UniqueConstraintViolation(_))) {
                    return Err(error.into());
                }
            }
        }
    }
    Ok(notice)
}

/// Whether the owner receives every notice by email, or only emergencies and outages: the choice
/// is kept on each of their owner records, which [`set_email_preference`] sets together.
pub async fn email_preference(db: &DatabaseConnection, actor: &Actor) -> Result<bool> {
    actor.require(Permission::ReadOwnNotices)?;
    let owners = owner::Entity::find().filter(owner::Column::UserId.eq(actor.user_id)).all(db).await?;
    Ok(owners.iter().any(|o| o.email_every_notice))
}

/// Sets whether the owner receives every notice by email, or only emergencies and outages.
pub async fn set_email_preference(db: &DatabaseConnection, actor: &Actor, every_notice: bool) -> Result<()> {
    actor.require(Permission::ReadOwnNotices)?;
    owner::Entity::update_many()
        .col_expr(owner::Column::EmailEveryNotice, sea_orm::sea_query::Expr::value(every_notice))
        .filter(owner::Column::UserId.eq(actor.user_id))
        .exec(db)
        .await?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Attachments
// ---------------------------------------------------------------------------------------------

pub const MAX_ATTACHMENTS: usize = 10;
pub const MAX_ATTACHMENT_BYTES: usize = 8 * 1024 * 1024;

/// A PDF or an image, told by its bytes.
fn attachment_type(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(b"%PDF-") { Some("application/pdf") } else { crate::http::image_type(bytes) }
}

/// Attaches a file to a notice not yet published.
pub async fn attach(db: &DatabaseConnection, actor: &Actor, id: i64, filename: &str, bytes: Vec<u8>) -> Result<notice_attachment::Model> {
    actor.require(Permission::WriteNotices)?;
    let filename = required_text("filename", filename, 200)?;
    if filename.contains(['/', '\\']) {
        return Err(Error::invalid("filename", "filename is a name, not a path"));
    }
    if bytes.is_empty() || bytes.len() > MAX_ATTACHMENT_BYTES {
        return Err(Error::invalid("file", format!("an attachment is 1 byte to {} MB", MAX_ATTACHMENT_BYTES / 1024 / 1024)));
    }
    let content_type = attachment_type(&bytes).ok_or_else(|| Error::invalid("file", "an attachment is a PDF, JPEG, PNG or WebP file (told by its content)"))?;
    use sha2::Digest;
    let sha256 = hex::encode(sha2::Sha256::digest(&bytes));
    let txn = crate::db::begin(db).await?;
    let notice = for_change(&txn, actor, id, Step::Attach).await?;
    if notice.status == Status::Published.as_str() {
        return Err(Error::conflict("status", "attachments go with a notice before it is published"));
    }
    let count = notice_attachment::Entity::find().filter(notice_attachment::Column::NoticeId.eq(notice.id)).count(&txn).await?;
    if count as usize >= MAX_ATTACHMENTS {
        return Err(Error::conflict("file", format!("a notice has at most {MAX_ATTACHMENTS} attachments")));
    }
    let attachment = notice_attachment::ActiveModel {
        notice_id: Set(notice.id),
        company_id: Set(notice.company_id),
        compound_id: Set(notice.compound_id),
        filename: Set(filename),
        content_type: Set(content_type.into()),
        size: Set(bytes.len() as i64),
        sha256: Set(sha256),
        uploaded_by: Set(actor.user_id),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    notice_attachment_data::ActiveModel { attachment_id: Set(attachment.id), data: Set(bytes) }.insert(&txn).await?;
    txn.commit().await?;
    Ok(attachment)
}

pub async fn attachments_of(db: &impl ConnectionTrait, notice_ids: &[i64]) -> Result<Vec<notice_attachment::Model>> {
    Ok(notice_attachment::Entity::find()
        .filter(notice_attachment::Column::NoticeId.is_in(notice_ids.iter().copied()))
        .order_by_asc(notice_attachment::Column::Id)
        .all(db)
        .await?)
}

/// An attachment's bytes, for whoever may read its notice.
pub async fn attachment(db: &DatabaseConnection, actor: &Actor, id: i64) -> Result<(notice_attachment::Model, Vec<u8>)> {
    actor.require(if actor.role == Role::Owner { Permission::ReadOwnNotices } else { Permission::ReadNotices })?;
    let attachment = notice_attachment::Entity::find_by_id(id).one(db).await?.ok_or(Error::NotFound("attachment"))?;
    get(db, actor, attachment.notice_id).await.map_err(|_| Error::NotFound("attachment"))?;
    let data = notice_attachment_data::Entity::find_by_id(attachment.id).one(db).await?.ok_or(Error::NotFound("attachment"))?;
    Ok((attachment, data.data))
}

/// The notice that supersedes each of these, if any.
pub async fn superseded_by(db: &impl ConnectionTrait, ids: &[i64]) -> Result<HashMap<i64, i64>> {
    let later = notice::Entity::find().filter(notice::Column::SupersedesId.is_in(ids.iter().copied())).filter(notice::Column::Status.eq(Status::Published.as_str())).all(db).await?;
    Ok(later.into_iter().filter_map(|n| n.supersedes_id.map(|old| (old, n.id))).collect())
}
