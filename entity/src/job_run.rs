use sea_orm::entity::prelude::*;

/// One run of a scheduled job: a tick of its schedule (once per company for company jobs) or a
/// manual trigger. The unique `tick_key` is the claim that makes a tick run once across replicas.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "job_runs")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub job: String,
    /// The company the run works for; None for platform jobs.
    pub company_id: Option<i64>,
    #[sea_orm(unique)]
    pub tick_key: String,
    /// The tick of the schedule (or the moment of a manual trigger).
    pub scheduled_for: DateTimeUtc,
    /// schedule | manual
    pub trigger: String,
    pub triggered_by: Option<i64>,
    /// queued | running | succeeded | failed
    pub status: String,
    pub attempts: i32,
    pub max_attempts: i32,
    pub next_attempt_at: DateTimeUtc,
    /// The replica working on it, until `lease_until`; an expired lease is claimed again.
    pub claimed_by: Option<String>,
    pub lease_until: Option<DateTimeUtc>,
    pub started_at: Option<DateTimeUtc>,
    pub finished_at: Option<DateTimeUtc>,
    /// JSON object of what the run did, e.g. {"bills": 120}
    pub counts: Option<String>,
    pub error: Option<String>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
