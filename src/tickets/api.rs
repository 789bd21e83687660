//! Ticket endpoints (tag `tickets`): filing, the queue, the workflow, assignment, comments,
//! photos, rating, follow-up, cost routing, SLA targets, technician groups and statistics.
use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use poem_openapi::{
    ApiResponse, Object, OpenApi,
    param::{Path, Query},
    payload::Json,
};

use super::{Assignment, Category, CostRoute, Figures, NewTechnicianGroup, NewTicket, Priority, QueueFilter, SlaTarget, Status, Transition};
use crate::{
    AppState,
    auth::{Actor, Role, api::BearerAuth},
    error::ApiError,
    http::{Area as Tag, ImageFile, ImageUpload, JsonAnswer, JsonBody, rfc3339},
    types::Money,
};
use entity::{ticket, ticket_comment, ticket_event, ticket_photo};

pub struct TicketsApi(pub AppState);

type Reply<T> = Result<Json<T>, ApiError>;

/// Answered in the queue with [`JsonAnswer`] (serde), so it derives `Serialize` too.
#[derive(Object, serde::Serialize)]
pub struct TicketView {
    pub id: i64,
    pub compound_id: i64,
    pub unit_id: i64,
    pub owner_id: Option<i64>,
    pub filed_by: i64,
    pub category: String,
    pub location: String,
    pub place: Option<String>,
    pub description: String,
    pub urgency: String,
    pub preferred_visit: Option<String>,
    pub status: String,
    pub priority: String,
    pub assignee_id: Option<i64>,
    /// Send it back with the next change; a ticket changed meanwhile refuses the change (409).
    pub version: i32,
    #[serde(serialize_with = "rfc3339::at")]
    pub response_due_at: DateTime<Utc>,
    #[serde(serialize_with = "rfc3339::at")]
    pub resolution_due_at: DateTime<Utc>,
    /// The deadline that counts now: response until accepted, then resolution.
    #[serde(serialize_with = "rfc3339::at")]
    pub due_at: DateTime<Utc>,
    /// Past its deadline and not on hold.
    pub overdue: bool,
    /// Accepted after its response deadline (or still not accepted past it).
    pub response_late: bool,
    /// Resolved after its resolution deadline (or still open past it; the clock stands on hold).
    pub resolution_late: bool,
    #[serde(serialize_with = "rfc3339::maybe")]
    pub accepted_at: Option<DateTime<Utc>>,
    #[serde(serialize_with = "rfc3339::maybe")]
    pub resolved_at: Option<DateTime<Utc>>,
    #[serde(serialize_with = "rfc3339::maybe")]
    pub closed_at: Option<DateTime<Utc>>,
    #[serde(serialize_with = "rfc3339::maybe")]
    pub on_hold_since: Option<DateTime<Utc>>,
    /// Seconds spent on hold, not counted against the deadlines.
    pub paused_seconds: i64,
    pub reopen_count: i32,
    pub reason: Option<String>,
    pub rating: Option<i32>,
    pub rating_comment: Option<String>,
    /// The follow-up call's note (staff only).
    pub follow_up: Option<String>,
    pub cost_route: Option<String>,
    pub cost_bill_id: Option<i64>,
    #[serde(serialize_with = "rfc3339::at")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "rfc3339::at")]
    pub updated_at: DateTime<Utc>,
}

impl TicketView {
    fn new(t: ticket::Model, actor: &Actor) -> Self {
        let status = super::status_of(&t);
        let now = Utc::now();
        let overdue = status.is_open() && status != Status::OnHold && t.due_at < now;
        let clock = t.paused_at.unwrap_or(now);
        let response_late = match t.accepted_at {
            Some(at) => at > t.response_due_at,
            None => status.is_open() && clock > t.response_due_at,
        };
        let resolution_late = match t.resolved_at {
            Some(at) => at > t.resolution_due_at,
            None => status.is_open() && clock > t.resolution_due_at,
        };
        let staff = actor.role != Role::Owner;
        TicketView {
            id: t.id,
            compound_id: t.compound_id,
            unit_id: t.unit_id,
            owner_id: t.owner_id,
            filed_by: t.filed_by,
            category: t.category,
            location: t.location,
            place: t.place,
            description: t.description,
            urgency: t.urgency,
            preferred_visit: t.preferred_visit,
            status: t.status,
            priority: t.priority,
            assignee_id: t.assignee_id,
            version: t.version,
            response_due_at: t.response_due_at,
            resolution_due_at: t.resolution_due_at,
            due_at: t.due_at,
            overdue,
            response_late,
            resolution_late,
            accepted_at: t.accepted_at,
            resolved_at: t.resolved_at,
            closed_at: t.closed_at,
            on_hold_since: t.paused_at,
            paused_seconds: t.paused_seconds,
            reopen_count: t.reopen_count,
            reason: t.reason,
            rating: t.rating,
            rating_comment: t.rating_comment,
            follow_up: if staff { t.follow_up } else { None },
            cost_route: t.cost_route,
            cost_bill_id: t.cost_bill_id,
            created_at: t.created_at,
            updated_at: t.updated_at,
        }
    }
}

#[derive(Object)]
pub struct CommentView {
    pub id: i64,
    pub author_id: i64,
    pub author_role: String,
    pub author_name: String,
    pub body: String,
    /// Staff only; never shown to the owner.
    pub internal: bool,
    pub created_at: DateTime<Utc>,
}

impl From<ticket_comment::Model> for CommentView {
    fn from(c: ticket_comment::Model) -> Self {
        CommentView { id: c.id, author_id: c.author_id, author_role: c.author_role, author_name: c.author_name, body: c.body, internal: c.internal, created_at: c.created_at }
    }
}

#[derive(Object)]
pub struct EventView {
    pub id: i64,
    /// 0: the system (a scheduled job).
    pub actor_id: i64,
    pub actor_role: String,
    /// filed, status, priority, assignee, comment, photo, rating, follow_up, cost, escalated
    pub kind: String,
    pub from: Option<String>,
    pub to: Option<String>,
    pub note: Option<String>,
    pub at: DateTime<Utc>,
}

impl From<ticket_event::Model> for EventView {
    fn from(e: ticket_event::Model) -> Self {
        EventView { id: e.id, actor_id: e.actor_id, actor_role: e.actor_role, kind: e.kind, from: e.from_value, to: e.to_value, note: e.note, at: e.at }
    }
}

#[derive(Object)]
pub struct PhotoView {
    pub id: i64,
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
    /// GET it with the same token.
    pub url: String,
    pub created_at: DateTime<Utc>,
}

impl From<ticket_photo::Model> for PhotoView {
    fn from(p: ticket_photo::Model) -> Self {
        PhotoView { url: format!("/ticket-photos/{}", p.id), id: p.id, content_type: p.content_type, size: p.size, sha256: p.sha256, created_at: p.created_at }
    }
}

#[derive(Object)]
pub struct TicketDetailView {
    pub ticket: TicketView,
    pub comments: Vec<CommentView>,
    /// Every change, oldest first (owners do not see internal ones).
    pub history: Vec<EventView>,
    pub photos: Vec<PhotoView>,
}

#[derive(Object, serde::Serialize)]
pub struct TicketPage {
    /// Soonest deadline first.
    pub items: Vec<TicketView>,
    /// The technicians the page's tickets are assigned to, by name.
    pub assignees: Vec<Technician>,
    /// Pass as `after` for the next page; absent on the last page.
    pub next: Option<String>,
    /// Tickets of each status that match the other filters.
    pub counts: BTreeMap<String, u64>,
}

#[derive(Object, serde::Deserialize)]
pub struct NewComment {
    pub body: String,
    /// For staff only, never shown to the owner.
    #[oai(default)]
    #[serde(default)]
    pub internal: bool,
}

#[derive(Object, serde::Deserialize)]
pub struct Rating {
    /// 1 (poor) to 5 (excellent).
    pub score: i32,
    pub comment: Option<String>,
}

#[derive(Object, serde::Deserialize)]
pub struct FollowUp {
    /// What the owner said on the follow-up call (回访).
    pub note: String,
}

#[derive(Object, serde::Deserialize)]
pub struct RouteCost {
    pub route: CostRoute,
    /// For `owner_bill`: the amount billed to the owner.
    pub amount: Option<Money>,
}

#[derive(Object)]
pub struct SlaView {
    pub category: Category,
    pub priority: Priority,
    pub response_minutes: i32,
    pub resolution_minutes: i32,
    /// Set by the compound (else the default).
    pub own: bool,
}

#[derive(Object, serde::Deserialize)]
pub struct SetSla {
    pub targets: Vec<SlaTarget>,
}

#[derive(Object)]
pub struct GroupView {
    pub id: i64,
    pub compound_id: i64,
    pub name: String,
    pub categories: Vec<String>,
    pub member_ids: Vec<i64>,
    /// The members with their names, in the order of `member_ids`.
    pub members: Vec<Technician>,
}

/// A technician, by user id and name.
#[derive(Object, serde::Serialize)]
pub struct Technician {
    pub id: i64,
    pub name: String,
}

impl From<super::TechnicianGroup> for GroupView {
    fn from(super::TechnicianGroup { group, members }: super::TechnicianGroup) -> Self {
        GroupView {
            id: group.id,
            compound_id: group.compound_id,
            name: group.name,
            categories: serde_json::from_str(&group.categories).unwrap_or_default(),
            member_ids: members.iter().map(|(id, _)| *id).collect(),
            members: members.into_iter().map(|(id, name)| Technician { id, name }).collect(),
        }
    }
}

#[derive(Object)]
pub struct FiguresView {
    pub filed: u64,
    pub resolved: u64,
    /// Minutes from filing to acceptance.
    pub response_minutes_median: Option<i64>,
    pub response_minutes_p90: Option<i64>,
    /// Minutes from filing to resolution, time on hold not counted.
    pub resolution_minutes_median: Option<i64>,
    pub resolution_minutes_p90: Option<i64>,
    /// Share of the resolved tickets resolved by their deadline.
    pub sla_met_percent: Option<f64>,
    pub ratings: u64,
    pub rating_mean: Option<f64>,
    /// Share of the resolved tickets their owners reopened.
    pub reopened_percent: Option<f64>,
}

impl From<Figures> for FiguresView {
    fn from(f: Figures) -> Self {
        FiguresView {
            filed: f.filed,
            resolved: f.resolved,
            response_minutes_median: f.response_median,
            response_minutes_p90: f.response_p90,
            resolution_minutes_median: f.resolution_median,
            resolution_minutes_p90: f.resolution_p90,
            sla_met_percent: f.sla_met_percent,
            ratings: f.ratings,
            rating_mean: f.rating_mean,
            reopened_percent: f.reopened_percent,
        }
    }
}

#[derive(Object)]
pub struct TechnicianFigures {
    pub technician_id: i64,
    pub name: String,
    pub figures: FiguresView,
}

#[derive(Object)]
pub struct StatsView {
    pub compound_id: i64,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub all: FiguresView,
    pub by_category: BTreeMap<String, FiguresView>,
    pub by_technician: Vec<TechnicianFigures>,
    /// By the month the tickets were filed in ("2026-11"), in the compound's time.
    pub by_month: BTreeMap<String, FiguresView>,
}

#[derive(ApiResponse)]
pub enum Filed {
    #[oai(status = 201)]
    Created(Json<TicketView>),
}

#[OpenApi(tag = "Tag::Tickets")]
impl TicketsApi {
    /// File a repair ticket: an owner for their own unit, the desk for an owner who phones.
    #[oai(path = "/tickets", method = "post")]
    async fn file(&self, auth: BearerAuth, body: JsonBody<NewTicket>) -> Result<Filed, ApiError> {
        let filed = super::file_ticket(&self.0.db, &auth.0, body.0).await?;
        Ok(Filed::Created(Json(TicketView::new(filed, &auth.0))))
    }

    /// Tickets, soonest deadline first: the desk's queue, a technician's own work, an owner's
    /// own tickets. Without `status`, the open ones. Page with `after`.
    #[oai(path = "/tickets", method = "get")]
    #[allow(clippy::too_many_arguments)]
    async fn queue(
        &self,
        auth: BearerAuth,
        compound_id: Query<Option<i64>>,
        status: Query<Option<Status>>,
        category: Query<Option<Category>>,
        priority: Query<Option<Priority>>,
        assignee_id: Query<Option<i64>>,
        /// Only tickets past their deadline.
        overdue: Query<Option<bool>>,
        after: Query<Option<String>>,
        #[oai(validator(minimum(value = "1"), maximum(value = "200")))] limit: Query<Option<u64>>,
    ) -> Result<JsonAnswer<TicketPage>, ApiError> {
        let filter = QueueFilter {
            compound_id: compound_id.0,
            status: status.0,
            category: category.0,
            priority: priority.0,
            assignee_id: assignee_id.0,
            overdue: overdue.0.unwrap_or(false),
        };
        let page = super::queue(&self.0.db, &auth.0, filter, after.0.as_deref(), limit.0.unwrap_or(50)).await?;
        Ok(JsonAnswer(TicketPage {
            items: page.items.into_iter().map(|t| TicketView::new(t, &auth.0)).collect(),
            assignees: page.assignees.into_iter().map(|(id, name)| Technician { id, name }).collect(),
            next: page.next,
            counts: page.counts.into_iter().map(|(s, n)| (s.as_str().to_string(), n)).collect(),
        }))
    }

    /// One ticket with its comments, history and photos.
    #[oai(path = "/tickets/:id", method = "get")]
    async fn get(&self, auth: BearerAuth, id: Path<i64>) -> Reply<TicketDetailView> {
        let d = super::detail(&self.0.db, &auth.0, id.0).await?;
        Ok(Json(TicketDetailView {
            ticket: TicketView::new(d.ticket, &auth.0),
            comments: d.comments.into_iter().map(Into::into).collect(),
            history: d.history.into_iter().map(Into::into).collect(),
            photos: d.photos.into_iter().map(Into::into).collect(),
        }))
    }

    /// Move a ticket: accept (with a priority), start, hold (with a note), resume, resolve,
    /// close, reopen, cancel, reject (with a note). A move its state does not allow is a 409
    /// that lists the allowed ones.
    #[oai(path = "/tickets/:id/transitions", method = "post")]
    async fn transition(&self, auth: BearerAuth, id: Path<i64>, body: JsonBody<Transition>) -> Reply<TicketView> {
        let moved = super::transition(&self.0.db, &self.0.config, &auth.0, id.0, body.0).await?;
        Ok(Json(TicketView::new(moved, &auth.0)))
    }

    /// Assign a ticket to a technician, or to the least-loaded member of the group that takes
    /// its category.
    #[oai(path = "/tickets/:id/assignment", method = "post")]
    async fn assign(&self, auth: BearerAuth, id: Path<i64>, body: JsonBody<Assignment>) -> Reply<TicketView> {
        let assigned = super::assign(&self.0.db, &self.0.config, &auth.0, id.0, body.0).await?;
        Ok(Json(TicketView::new(assigned, &auth.0)))
    }

    /// Comment on a ticket; staff may keep a note internal.
    #[oai(path = "/tickets/:id/comments", method = "post")]
    async fn comment(&self, auth: BearerAuth, id: Path<i64>, body: JsonBody<NewComment>) -> Reply<CommentView> {
        let c = body.0;
        Ok(Json(super::comment(&self.0.db, &self.0.config, &auth.0, id.0, &c.body, c.internal).await?.into()))
    }

    /// Add a photo (JPEG, PNG or WebP, told by its bytes; at most 5 MB, 6 a ticket).
    #[oai(path = "/tickets/:id/photos", method = "post")]
    async fn add_photo(&self, auth: BearerAuth, id: Path<i64>, body: ImageUpload) -> Reply<PhotoView> {
        Ok(Json(super::add_photo(&self.0.db, &auth.0, id.0, body.into_bytes()).await?.into()))
    }

    /// A ticket's photo, for whoever may see the ticket.
    #[oai(path = "/ticket-photos/:id", method = "get")]
    async fn photo(&self, auth: BearerAuth, id: Path<i64>) -> Result<ImageFile, ApiError> {
        let (photo, bytes) = super::photo(&self.0.db, &auth.0, id.0).await?;
        Ok(ImageFile::new(&photo.content_type, bytes))
    }

    /// The owner rates the work, once it is resolved.
    #[oai(path = "/tickets/:id/rating", method = "post")]
    async fn rate(&self, auth: BearerAuth, id: Path<i64>, body: JsonBody<Rating>) -> Reply<TicketView> {
        let r = body.0;
        Ok(Json(TicketView::new(super::rate(&self.0.db, &auth.0, id.0, r.score, r.comment).await?, &auth.0)))
    }

    /// Record the follow-up call (回访) of a resolved or closed ticket.
    #[oai(path = "/tickets/:id/follow-up", method = "post")]
    async fn follow_up(&self, auth: BearerAuth, id: Path<i64>, body: JsonBody<FollowUp>) -> Reply<TicketView> {
        Ok(Json(TicketView::new(super::follow_up(&self.0.db, &auth.0, id.0, &body.0.note).await?, &auth.0)))
    }

    /// Say who pays for a resolved repair: the owner (a one-off bill), the company, or the
    /// maintenance fund.
    #[oai(path = "/tickets/:id/cost", method = "post")]
    async fn route_cost(&self, auth: BearerAuth, id: Path<i64>, body: JsonBody<RouteCost>) -> Reply<TicketView> {
        let c = body.0;
        Ok(Json(TicketView::new(super::route_cost(&self.0.db, &auth.0, id.0, c.route, c.amount).await?, &auth.0)))
    }

    /// A compound's SLA targets, every category and priority.
    #[oai(path = "/compounds/:id/sla", method = "get")]
    async fn sla(&self, auth: BearerAuth, id: Path<i64>) -> Reply<Vec<SlaView>> {
        let table = super::sla_table(&self.0.db, &auth.0, id.0).await?;
        Ok(Json(
            table
                .into_iter()
                .map(|(category, priority, t, own)| SlaView { category, priority, response_minutes: t.response_minutes, resolution_minutes: t.resolution_minutes, own })
                .collect(),
        ))
    }

    /// Set a compound's own SLA targets (for tickets filed or triaged from now on).
    #[oai(path = "/compounds/:id/sla", method = "put")]
    async fn set_sla(&self, auth: BearerAuth, id: Path<i64>, body: JsonBody<SetSla>) -> Reply<Vec<SlaView>> {
        super::set_sla(&self.0.db, &auth.0, id.0, body.0.targets).await?;
        self.sla(auth, id).await
    }

    /// Create a technician group: who takes which categories in a compound.
    #[oai(path = "/compounds/:id/technician-groups", method = "post")]
    async fn create_group(&self, auth: BearerAuth, id: Path<i64>, body: JsonBody<NewTechnicianGroup>) -> Reply<GroupView> {
        Ok(Json(super::create_group(&self.0.db, &auth.0, id.0, body.0).await?.into()))
    }

    /// A compound's technician groups.
    #[oai(path = "/compounds/:id/technician-groups", method = "get")]
    async fn list_groups(&self, auth: BearerAuth, id: Path<i64>) -> Reply<Vec<GroupView>> {
        Ok(Json(super::list_groups(&self.0.db, &auth.0, id.0).await?.into_iter().map(Into::into).collect()))
    }

    /// Statistics of a compound's tickets filed in a date range: volume, response and
    /// resolution times (median, 90th percentile), SLA compliance, satisfaction, reopen rate,
    /// by category and by technician.
    #[oai(path = "/compounds/:id/ticket-stats", method = "get")]
    async fn stats(&self, auth: BearerAuth, id: Path<i64>, from: Query<NaiveDate>, to: Query<NaiveDate>) -> Reply<StatsView> {
        let s = super::stats(&self.0.db, &auth.0, id.0, from.0, to.0).await?;
        Ok(Json(StatsView {
            compound_id: id.0,
            from: from.0,
            to: to.0,
            all: s.all.into(),
            by_category: s.by_category.into_iter().map(|(c, f)| (c, f.into())).collect(),
            by_technician: s.by_technician.into_iter().map(|(technician_id, name, f)| TechnicianFigures { technician_id, name, figures: f.into() }).collect(),
            by_month: s.by_month.into_iter().map(|(m, f)| (m, f.into())).collect(),
        }))
    }
}
