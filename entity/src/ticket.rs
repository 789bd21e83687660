use sea_orm::entity::prelude::*;

/// A repair ticket (报修工单): who filed what for which unit, where it stands, its deadlines.
/// Every change bumps `version` (two dispatchers at once: the second is refused) and is kept
/// in `ticket_events`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "tickets")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub company_id: i64,
    pub compound_id: i64,
    pub unit_id: i64,
    /// The owner it is for (and who is told about it).
    pub owner_id: Option<i64>,
    pub filed_by: i64,
    pub category: String,
    /// in_unit | common_area
    pub location: String,
    pub place: Option<String>,
    pub description: String,
    /// What the filer said: low | normal | urgent | emergency
    pub urgency: String,
    pub preferred_visit: Option<String>,
    pub status: String,
    /// p1 (most urgent) .. p4
    pub priority: String,
    pub assignee_id: Option<i64>,
    pub version: i32,
    pub response_due_at: DateTimeUtc,
    pub resolution_due_at: DateTimeUtc,
    /// The deadline the queue sorts by: response until accepted, then resolution.
    pub due_at: DateTimeUtc,
    pub accepted_at: Option<DateTimeUtc>,
    pub resolved_at: Option<DateTimeUtc>,
    pub closed_at: Option<DateTimeUtc>,
    /// Since when it is on hold (the SLA clock stops).
    pub paused_at: Option<DateTimeUtc>,
    pub paused_seconds: i64,
    pub response_escalated_at: Option<DateTimeUtc>,
    pub resolution_escalated_at: Option<DateTimeUtc>,
    pub reopen_count: i32,
    /// Why it was rejected, cancelled or put on hold, last.
    pub reason: Option<String>,
    pub rating: Option<i32>,
    pub rating_comment: Option<String>,
    /// The follow-up call (回访), as staff recorded it.
    pub follow_up: Option<String>,
    pub followed_up_at: Option<DateTimeUtc>,
    /// owner_bill | company | maintenance_fund
    pub cost_route: Option<String>,
    pub cost_bill_id: Option<i64>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
