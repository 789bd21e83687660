//! Job endpoints (tag `jobs`): the schedules with their next fire times, the record of runs,
//! starting a job now.
use chrono::{DateTime, Utc};
use poem_openapi::{
    ApiResponse, Object, OpenApi,
    param::{Path, Query},
    payload::Json,
};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Select};

use super::{Job, RunStatus};
use crate::{
    AppState,
    auth::{Actor, api::BearerAuth},
    error::{ApiError, Error},
    http::{Area as Tag, JsonBody},
};
use entity::job_run;

pub struct JobsApi(pub AppState);

type Reply<T> = Result<Json<T>, ApiError>;

#[derive(Object)]
pub struct JobView {
    pub name: Job,
    /// Cron with seconds (second minute hour day month weekday), or "off".
    pub schedule: String,
    pub time_zone: String,
    /// What runs of the ticks missed while no replica ran, on coming back.
    pub catch_up: String,
    /// Company jobs run once per company; platform jobs once for all.
    pub per_company: bool,
    pub next_fire_times: Vec<DateTime<Utc>>,
}

#[derive(Object)]
pub struct JobRunView {
    pub id: i64,
    pub job: String,
    pub company_id: Option<i64>,
    /// The schedule's tick, or the moment of a manual start.
    pub scheduled_for: DateTime<Utc>,
    /// schedule | manual
    pub trigger: String,
    pub triggered_by: Option<i64>,
    pub status: String,
    pub attempts: i32,
    pub max_attempts: i32,
    /// When a queued run (a retry) is due.
    pub next_attempt_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    /// What the run did, e.g. {"bills": 120, "compounds": 3}.
    pub counts: Option<serde_json::Value>,
    pub error: Option<String>,
}

impl From<job_run::Model> for JobRunView {
    fn from(r: job_run::Model) -> Self {
        JobRunView {
            id: r.id,
            job: r.job,
            company_id: r.company_id,
            scheduled_for: r.scheduled_for,
            trigger: r.trigger,
            triggered_by: r.triggered_by,
            status: r.status,
            attempts: r.attempts,
            max_attempts: r.max_attempts,
            next_attempt_at: r.next_attempt_at,
            started_at: r.started_at,
            finished_at: r.finished_at,
            counts: r.counts.and_then(|c| serde_json::from_str(&c).ok()),
            error: r.error,
        }
    }
}

#[derive(Object, serde::Deserialize)]
pub struct StartJob {
    pub job: Job,
}

#[derive(ApiResponse)]
pub enum Queued {
    /// Queued: any replica with its scheduler on picks them up at once. Follow them in `GET /jobs/runs`.
    #[oai(status = 202)]
    Accepted(Json<Vec<JobRunView>>),
}

/// The runs the actor may see: their company's, or all for a platform administrator.
fn visible_runs(actor: &Actor) -> Result<Select<job_run::Entity>, Error> {
    super::may_run_jobs(actor)?;
    Ok(match actor.company_id {
        Some(company) => job_run::Entity::find().filter(job_run::Column::CompanyId.eq(company)),
        None => job_run::Entity::find(),
    })
}

#[OpenApi(tag = "Tag::Jobs")]
impl JobsApi {
    /// The jobs, their schedules and their next five fire times.
    #[oai(path = "/jobs", method = "get")]
    async fn list_jobs(&self, auth: BearerAuth) -> Reply<Vec<JobView>> {
        super::may_run_jobs(&auth.0)?;
        let now = Utc::now();
        Ok(Json(
            self.0
                .config
                .jobs
                .schedules
                .iter()
                .map(|s| JobView {
                    name: s.job,
                    schedule: s.shown().into(),
                    time_zone: s.zone.name().into(),
                    catch_up: s.job.catch_up().describe(),
                    per_company: s.job.per_company(),
                    next_fire_times: s.next_fire_times(now, 5),
                })
                .collect(),
        ))
    }

    /// Job runs, newest first: filter by job and status; page with `before_id` (the smallest id
    /// of the previous page).
    #[oai(path = "/jobs/runs", method = "get")]
    async fn list_runs(
        &self,
        auth: BearerAuth,
        job: Query<Option<Job>>,
        status: Query<Option<RunStatus>>,
        before_id: Query<Option<i64>>,
        #[oai(validator(minimum(value = "1"), maximum(value = "500")))] limit: Query<Option<u64>>,
    ) -> Reply<Vec<JobRunView>> {
        let mut query = visible_runs(&auth.0)?;
        if let Some(job) = job.0 {
            query = query.filter(job_run::Column::Job.eq(job.name()));
        }
        if let Some(status) = status.0 {
            query = query.filter(job_run::Column::Status.eq(status.as_str()));
        }
        if let Some(before) = before_id.0 {
            query = query.filter(job_run::Column::Id.lt(before));
        }
        let runs = query.order_by_desc(job_run::Column::Id).limit(limit.0.unwrap_or(50)).all(&self.0.db).await.map_err(Error::from)?;
        Ok(Json(runs.into_iter().map(Into::into).collect()))
    }

    /// One job run.
    #[oai(path = "/jobs/runs/:id", method = "get")]
    async fn get_run(&self, auth: BearerAuth, id: Path<i64>) -> Reply<JobRunView> {
        let run = visible_runs(&auth.0)?.filter(job_run::Column::Id.eq(id.0)).one(&self.0.db).await.map_err(Error::from)?;
        Ok(Json(run.ok_or(Error::NotFound("job run"))?.into()))
    }

    /// Start a job now, for the caller's company (a platform administrator: every company).
    /// Its effects are idempotent: a run repeated by hand bills nothing twice and sends no
    /// reminder twice.
    #[oai(path = "/jobs/runs", method = "post")]
    async fn run_job(&self, auth: BearerAuth, body: JsonBody<StartJob>) -> Result<Queued, ApiError> {
        let runs = super::trigger(&self.0.db, &self.0.config, &auth.0, body.0.job).await?;
        self.0.wakeups.jobs.notify_one();
        Ok(Queued::Accepted(Json(runs.into_iter().map(Into::into).collect())))
    }
}
