//! Scheduled jobs that fire exactly once across replicas.
//!
//! Each job has a cron schedule evaluated in a time zone. Every replica's scheduler looks at the
//! schedules and writes a `job_runs` row per due tick (per company, for company jobs) under a
//! unique `tick_key`: whichever replica writes it first has scheduled the tick, the others'
//! inserts do nothing. Runs are then claimed one at a time by any replica (`FOR UPDATE SKIP
//! LOCKED` on PostgreSQL; a single UPDATE statement, which SQLite runs as an immediate write) and
//! held by a lease that the working replica renews, so a run whose replica died is taken over.
//! A failed run is retried with doubling waits up to a limit, then left failed.
//!
//! The jobs' effects are idempotent on their own (a bill per unit, item and period; a reminder
//! per bill and stage), so a run repeated by hand, or taken over after a crash, changes nothing
//! twice.
pub mod api;

use std::{collections::BTreeMap, str::FromStr, time::Duration};

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseBackend, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set, sea_query::OnConflict,
};
use tokio::sync::watch;

use crate::{
    AppState,
    auth::{self, Actor, Permission},
    billing, funds, notices, payments, reminders, tickets, votes,
    config::Config,
    error::{Error, Result},
    types::Period,
};
use entity::{company, job_run};

/// The jobs there are. A job belongs to the area it works on; its schedule is configuration.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, poem_openapi::Enum, serde::Deserialize)]
#[oai(rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum Job {
    /// The monthly bill run of every compound, then prepaid balances drawn onto the new bills.
    BillRun,
    /// Writes each overdue bill's late fee down as of today.
    LateFees,
    /// Arrears reminders in stages: friendly, second, formal written demand (催缴函).
    ArrearsReminders,
    /// Removes expired and revoked sessions and old failed-login records.
    SessionCleanup,
    /// Escalates repair tickets past their response or resolution deadline to the managers.
    TicketSla,
    /// Closes tickets resolved some days ago that their owners neither confirmed nor reopened.
    TicketAutoClose,
    /// Tells owners whose maintenance-fund sub-ledger fell below 30% of the initial deposit.
    FundTopUps,
    /// Opens and closes owners' votes whose time has come, publishing each result.
    Votes,
    /// Publishes (and emails) the notices scheduled for now.
    Notices,
}

/// What a tick missed while no replica was running does when one comes back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CatchUp {
    /// Each missed tick runs, the newest `at_most` of them (the bill run of each missed month;
    /// an outage longer than that is an incident to bill by hand, not to replay unseen).
    Each { at_most: usize },
    /// Only the latest missed tick runs (today's reminders cover yesterday's).
    Latest,
}

impl CatchUp {
    pub fn describe(self) -> String {
        match self {
            CatchUp::Each { at_most } => format!("each missed tick, at most {at_most}"),
            CatchUp::Latest => "the latest missed tick".into(),
        }
    }
}

/// However late a round, it records at most this many ticks of a job.
const MAX_TICKS_PER_ROUND: usize = 100;

impl Job {
    pub const ALL: [Job; 9] = [
        Job::BillRun,
        Job::LateFees,
        Job::ArrearsReminders,
        Job::SessionCleanup,
        Job::TicketSla,
        Job::TicketAutoClose,
        Job::FundTopUps,
        Job::Votes,
        Job::Notices,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Job::BillRun => "bill_run",
            Job::LateFees => "late_fees",
            Job::ArrearsReminders => "arrears_reminders",
            Job::SessionCleanup => "session_cleanup",
            Job::TicketSla => "ticket_sla",
            Job::TicketAutoClose => "ticket_auto_close",
            Job::FundTopUps => "fund_top_ups",
            Job::Votes => "votes",
            Job::Notices => "notices",
        }
    }

    pub fn parse(name: &str) -> Option<Job> {
        Job::ALL.into_iter().find(|job| job.name() == name)
    }

    /// Cron with seconds: second minute hour day-of-month month day-of-week.
    pub fn default_schedule(self) -> &'static str {
        match self {
            // 01:00 on the 1st: the month's bills exist from its first morning.
            Job::BillRun => "0 0 1 1 * *",
            // 00:10 every day, after the day has turned in the compound.
            Job::LateFees => "0 10 0 * * *",
            // 10:00 every day: a letter that arrives in office hours.
            Job::ArrearsReminders => "0 0 10 * * *",
            Job::SessionCleanup => "0 30 * * * *",
            // Every five minutes: a gas leak's deadline is fifteen.
            Job::TicketSla => "0 */5 * * * *",
            Job::TicketAutoClose => "0 0 3 * * *",
            // 09:30 every day, after the night's postings.
            Job::FundTopUps => "0 30 9 * * *",
            // Every minute: a vote closes at its minute, and its result is published then.
            Job::Votes => "0 * * * * *",
            // Every minute: a notice set for 08:00 is out at 08:00.
            Job::Notices => "0 * * * * *",
        }
    }

    pub fn catch_up(self) -> CatchUp {
        match self {
            Job::BillRun => CatchUp::Each { at_most: 3 },
            Job::LateFees | Job::ArrearsReminders | Job::SessionCleanup | Job::TicketSla | Job::TicketAutoClose | Job::FundTopUps | Job::Votes | Job::Notices => CatchUp::Latest,
        }
    }

    /// Company jobs run once per company per tick, each run recorded for that company and
    /// visible to its managers; platform jobs run once.
    pub fn per_company(self) -> bool {
        !matches!(self, Job::SessionCleanup)
    }

    fn env_name(self) -> String {
        format!("WUYE_JOB_{}", self.name().to_uppercase())
    }
}

/// A job's schedule as configured: `None` when switched off.
#[derive(Clone, Debug)]
pub struct JobSchedule {
    pub job: Job,
    pub expression: String,
    pub cron: Option<cron::Schedule>,
    pub zone: Tz,
}

impl JobSchedule {
    /// The ticks after `after`, up to and including `until`.
    fn ticks(&self, after: DateTime<Utc>, until: DateTime<Utc>) -> Vec<DateTime<Utc>> {
        let Some(cron) = &self.cron else { return Vec::new() };
        let ticks: Vec<DateTime<Utc>> =
            cron.after(&after.with_timezone(&self.zone)).map(|t| t.with_timezone(&Utc)).take_while(|t| *t <= until).collect();
        ticks[ticks.len().saturating_sub(MAX_TICKS_PER_ROUND)..].to_vec()
    }

    /// The cron expression, or "off".
    pub fn shown(&self) -> &str {
        if self.cron.is_some() { &self.expression } else { "off" }
    }

    pub fn next_fire_times(&self, after: DateTime<Utc>, count: usize) -> Vec<DateTime<Utc>> {
        let Some(cron) = &self.cron else { return Vec::new() };
        cron.after(&after.with_timezone(&self.zone)).take(count).map(|t| t.with_timezone(&Utc)).collect()
    }
}

/// Reads `WUYE_JOB_<NAME>`, `WUYE_JOB_<NAME>_ZONE` and `WUYE_JOBS_ZONE`; refuses an unknown
/// `WUYE_JOB_*` name so that a misspelt job is not silently left on its default.
pub fn schedules_from_vars(vars: &std::collections::HashMap<String, String>) -> Result<Vec<JobSchedule>, String> {
    let get = |name: &str| vars.get(name).map(|v| v.trim()).filter(|v| !v.is_empty());
    let default_zone = get("WUYE_JOBS_ZONE").unwrap_or("Asia/Shanghai");
    let default_zone: Tz = default_zone.parse().map_err(|_| format!("WUYE_JOBS_ZONE must be an IANA zone like Asia/Shanghai, got {default_zone:?}"))?;
    let mut known: Vec<String> = vec!["WUYE_JOB_MAX_ATTEMPTS".into(), "WUYE_JOB_RETRY_SECONDS".into()];
    let mut schedules = Vec::new();
    for job in Job::ALL {
        let name = job.env_name();
        let zone_name = format!("{name}_ZONE");
        let expression = get(&name).unwrap_or(job.default_schedule()).to_string();
        let cron = if expression == "off" {
            None
        } else {
            Some(cron::Schedule::from_str(&expression).map_err(|e| {
                format!("{name} must be a cron expression with seconds (\"0 0 10 * * *\" is 10:00 daily) or off, got {expression:?}: {e}")
            })?)
        };
        let zone = match get(&zone_name) {
            Some(zone) => zone.parse().map_err(|_| format!("{zone_name} must be an IANA zone like Asia/Shanghai, got {zone:?}"))?,
            None => default_zone,
        };
        schedules.push(JobSchedule { job, expression, cron, zone });
        known.extend([name, zone_name]);
    }
    if let Some(unknown) = vars.keys().filter(|k| k.starts_with("WUYE_JOB_")).find(|k| !known.contains(k)) {
        let names: Vec<&str> = Job::ALL.iter().map(|j| j.name()).collect();
        return Err(format!("{unknown} names no job; the jobs are {}", names.join(", ")));
    }
    Ok(schedules)
}

/// What a run did, by name ("bills": 120).
pub type Counts = BTreeMap<&'static str, i64>;

#[derive(Clone, Copy, Debug, PartialEq, Eq, poem_openapi::Enum)]
#[oai(rename_all = "snake_case")]
pub enum RunStatus {
    /// Waiting for its time (a retry waits for its backoff).
    Queued,
    Running,
    Succeeded,
    /// Failed on its last attempt; trigger the job again to retry.
    Failed,
}

impl RunStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Queued => "queued",
            RunStatus::Running => "running",
            RunStatus::Succeeded => "succeeded",
            RunStatus::Failed => "failed",
        }
    }
}

/// How long a claimed run is held without being renewed; renewed every third of it.
const LEASE: Duration = Duration::from_secs(60);

/// The scheduler and job runner of one replica, until `stop` turns true. Two loops: one
/// records the ticks as they come, the other claims and runs what is due, so a long run never
/// delays the recording of the next tick.
pub async fn run_scheduler(state: AppState, stop: watch::Receiver<bool>) {
    tokio::join!(record_ticks_as_they_come(&state, stop.clone()), run_due_jobs(&state, stop));
}

async fn record_ticks_as_they_come(state: &AppState, mut stop: watch::Receiver<bool>) {
    let mut last = match last_ticks(&state.db, &state.config).await {
        Ok(last) => last,
        Err(error) => {
            tracing::error!(error = %error, "scheduler could not read its last ticks; starting from now");
            BTreeMap::new()
        }
    };
    let started = Utc::now();
    // The first round after start catches up with what was missed while no replica ran, by
    // each job's policy; later rounds record every tick since the round before.
    let mut catching_up = true;
    loop {
        let now = Utc::now();
        for schedule in &state.config.jobs.schedules {
            let since = *last.get(&schedule.job).unwrap_or(&started);
            match record_ticks(&state.db, &state.config, schedule, since, now, catching_up).await {
                Ok(Some(newest)) => {
                    last.insert(schedule.job, newest);
                    state.wakeups.jobs.notify_one();
                }
                Ok(None) => {}
                // The ticks stay unrecorded; the next round tries them again.
                Err(error) => tracing::error!(job = schedule.job.name(), error = %error, "could not record ticks"),
            }
        }
        catching_up = false;
        let next_tick = state.config.jobs.schedules.iter().filter_map(|s| s.next_fire_times(now, 1).pop()).min();
        let until_tick = next_tick.and_then(|t| (t - Utc::now()).to_std().ok()).unwrap_or(state.config.jobs.poll);
        tokio::select! {
            _ = tokio::time::sleep(until_tick.min(state.config.jobs.poll)) => {}
            _ = stop.changed() => return,
        }
    }
}

async fn run_due_jobs(state: &AppState, mut stop: watch::Receiver<bool>) {
    let instance = instance_name();
    loop {
        loop {
            if *stop.borrow() {
                return;
            }
            match claim(&state.db, &instance, None).await {
                Ok(Some(run)) => execute(state, &instance, run).await,
                Ok(None) => break,
                Err(error) => {
                    tracing::error!(error = %error, "could not claim a job run");
                    break;
                }
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(state.config.jobs.poll) => {}
            _ = state.wakeups.jobs.notified() => {}
            _ = stop.changed() => return,
        }
    }
}

/// This replica's name in `claimed_by`: its process id and a random part.
fn instance_name() -> String {
    format!("{}-{}", std::process::id(), random_hex())
}

fn random_hex() -> String {
    use rand::Rng;
    format!("{:08x}", rand::rng().random::<u32>())
}

/// The newest scheduled tick on record for each job, where the scheduler takes up on start:
/// ticks after it that were missed are caught up by the job's policy.
async fn last_ticks(db: &DatabaseConnection, config: &Config) -> Result<BTreeMap<Job, DateTime<Utc>>> {
    let mut last = BTreeMap::new();
    for schedule in &config.jobs.schedules {
        let newest: Option<DateTime<Utc>> = job_run::Entity::find()
            .select_only()
            .column_as(job_run::Column::ScheduledFor.max(), "newest")
            .filter(job_run::Column::Job.eq(schedule.job.name()))
            .filter(job_run::Column::Trigger.eq("schedule"))
            .into_tuple::<Option<DateTime<Utc>>>()
            .one(db)
            .await?
            .flatten();
        if let Some(newest) = newest {
            last.insert(schedule.job, newest);
        }
    }
    Ok(last)
}

/// Records the runs of the ticks after `since` up to `now`: all of them, or when catching up
/// after a stop, those the job's policy says. Returns the newest tick, if there was one.
async fn record_ticks(
    db: &DatabaseConnection,
    config: &Config,
    schedule: &JobSchedule,
    since: DateTime<Utc>,
    now: DateTime<Utc>,
    catching_up: bool,
) -> Result<Option<DateTime<Utc>>> {
    let ticks = schedule.ticks(since, now);
    let Some(newest) = ticks.last().copied() else { return Ok(None) };
    let chosen = match schedule.job.catch_up() {
        CatchUp::Latest if catching_up => vec![newest],
        CatchUp::Each { at_most } if catching_up => ticks[ticks.len().saturating_sub(at_most)..].to_vec(),
        _ => ticks,
    };
    let companies = companies_of(db, schedule.job, None).await?;
    let rows = chosen.iter().flat_map(|tick| companies.iter().map(move |company| new_run(config, schedule.job, *company, *tick, "schedule", None)));
    insert_runs(db, rows.collect()).await?;
    Ok(Some(newest))
}

/// The companies a run is made for: each company for company jobs (only `only`, when given),
/// the platform (None) for platform jobs.
async fn companies_of(db: &impl ConnectionTrait, job: Job, only: Option<i64>) -> Result<Vec<Option<i64>>> {
    if !job.per_company() {
        return Ok(vec![None]);
    }
    if let Some(company) = only {
        return Ok(vec![Some(company)]);
    }
    let ids: Vec<i64> = company::Entity::find().select_only().column(company::Column::Id).order_by_asc(company::Column::Id).into_tuple().all(db).await?;
    Ok(ids.into_iter().map(Some).collect())
}

fn new_run(config: &Config, job: Job, company: Option<i64>, at: DateTime<Utc>, trigger: &str, by: Option<i64>) -> job_run::ActiveModel {
    let whose = company.map_or("platform".to_string(), |c| format!("company:{c}"));
    let tick_key = match trigger {
        "schedule" => format!("{}@{}#{whose}", job.name(), at.to_rfc3339()),
        _ => format!("{}@{}#{whose}#manual:{}", job.name(), at.to_rfc3339(), random_hex()),
    };
    job_run::ActiveModel {
        job: Set(job.name().into()),
        company_id: Set(company),
        tick_key: Set(tick_key),
        scheduled_for: Set(at),
        trigger: Set(trigger.into()),
        triggered_by: Set(by),
        status: Set(RunStatus::Queued.as_str().into()),
        attempts: Set(0),
        max_attempts: Set(config.jobs.max_attempts),
        next_attempt_at: Set(at),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
}

/// Inserts runs, leaving alone any whose tick another replica has already recorded.
async fn insert_runs(db: &impl ConnectionTrait, rows: Vec<job_run::ActiveModel>) -> Result<()> {
    // In chunks: a round may hold many ticks of many companies, more than one statement's
    // parameters allow.
    for chunk in rows.chunks(500) {
        job_run::Entity::insert_many(chunk.to_vec())
            .on_conflict(OnConflict::column(job_run::Column::TickKey).do_nothing().to_owned())
            .exec_without_returning(db)
            .await?;
    }
    Ok(())
}

/// Takes the next due run (or run `only`) for this replica: a queued run whose time has come,
/// or a running one whose replica stopped renewing its lease.
async fn claim(db: &DatabaseConnection, instance: &str, only: Option<i64>) -> Result<Option<job_run::Model>> {
    let now = Utc::now();
    let skip_locked = if db.get_database_backend() == DatabaseBackend::Postgres { " FOR UPDATE SKIP LOCKED" } else { "" };
    let only_this = if only.is_some() { " AND id = $4" } else { "" };
    // Two conditions, each answered by its index: a run whose replica stopped renewing its
    // lease, then the longest-waiting queued run.
    for due in ["status = 'running' AND lease_until < $3", "status = 'queued' AND next_attempt_at <= $3"] {
        let sql = format!(
            "UPDATE job_runs SET status = 'running', claimed_by = $1, lease_until = $2, started_at = $3, attempts = attempts + 1 \
             WHERE id = (SELECT id FROM job_runs WHERE {due}{only_this} ORDER BY next_attempt_at, id LIMIT 1{skip_locked}) RETURNING *"
        );
        let mut values: Vec<sea_orm::Value> = vec![instance.into(), (now + LEASE).into(), now.into()];
        values.extend(only.map(Into::into));
        if let Some(run) = job_run::Entity::find().from_raw_sql(crate::db::statement(db, &sql, values)).one(db).await? {
            return Ok(Some(run));
        }
    }
    Ok(None)
}

/// Runs a claimed run to its end and records the outcome; a failure is queued again after a
/// wait that doubles with each attempt, until the run's attempts are spent.
async fn execute(state: &AppState, instance: &str, run: job_run::Model) {
    let Some(job) = Job::parse(&run.job) else {
        finish(&state.db, instance, &run, Err(format!("no job is called {}", run.job)), state.config.jobs.retry_seconds).await;
        return;
    };
    tracing::info!(job = job.name(), run = run.id, company = ?run.company_id, attempt = run.attempts, "job run starts");
    // Run it on its own task, so that a panic is a failed run rather than a dead scheduler, and
    // renew the lease while it works.
    let started = std::time::Instant::now();
    let work = tokio::spawn(perform(state.clone(), job, run.clone()));
    tokio::pin!(work);
    let mut renew = tokio::time::interval(LEASE / 3);
    renew.tick().await;
    let outcome = loop {
        tokio::select! {
            joined = &mut work => break match joined {
                Ok(Ok(counts)) => Ok(counts),
                Ok(Err(error)) => Err(crate::error::chain(&error)),
                Err(join_error) => Err(format!("the run panicked: {join_error}")),
            },
            _ = renew.tick() => {
                let renewed = job_run::Entity::update_many()
                    .col_expr(job_run::Column::LeaseUntil, sea_orm::sea_query::Expr::value(Utc::now() + LEASE))
                    .filter(job_run::Column::Id.eq(run.id))
                    .filter(job_run::Column::ClaimedBy.eq(instance))
                    .exec(&state.db)
                    .await;
                if let Err(error) = renewed {
                    tracing::warn!(run = run.id, error = %error, "could not renew the lease of a job run");
                }
            }
        }
    };
    metrics::histogram!("wuye_job_run_duration_seconds", "job" => job.name()).record(started.elapsed().as_secs_f64());
    if outcome.as_ref().is_ok_and(|counts| counts.get("emails").is_some_and(|n| *n > 0)) {
        state.wakeups.mail.notify_one();
    }
    finish(&state.db, instance, &run, outcome, state.config.jobs.retry_seconds).await;
}

async fn finish(db: &DatabaseConnection, instance: &str, run: &job_run::Model, outcome: std::result::Result<Counts, String>, retry_seconds: i64) {
    let now = Utc::now();
    let mut active = job_run::ActiveModel { lease_until: Set(None), ..Default::default() };
    match &outcome {
        Ok(counts) => {
            active.status = Set(RunStatus::Succeeded.as_str().into());
            active.finished_at = Set(Some(now));
            active.counts = Set(Some(serde_json::to_string(counts).unwrap_or_default()));
            active.error = Set(None);
            tracing::info!(job = %run.job, run = run.id, counts = ?counts, "job run succeeded");
            metrics::counter!("wuye_job_runs_total", "job" => run.job.clone(), "outcome" => "succeeded").increment(1);
        }
        Err(error) if run.attempts < run.max_attempts => {
            active.status = Set(RunStatus::Queued.as_str().into());
            active.next_attempt_at = Set(now + chrono::Duration::seconds(backoff_seconds(retry_seconds, run.attempts)));
            active.error = Set(Some(error.clone()));
            tracing::warn!(job = %run.job, run = run.id, attempt = run.attempts, error = %error, "job run failed; it will be retried");
            metrics::counter!("wuye_job_runs_total", "job" => run.job.clone(), "outcome" => "retried").increment(1);
        }
        Err(error) => {
            active.status = Set(RunStatus::Failed.as_str().into());
            active.finished_at = Set(Some(now));
            active.error = Set(Some(error.clone()));
            tracing::error!(job = %run.job, run = run.id, attempt = run.attempts, error = %error, "job run failed on its last attempt");
            metrics::counter!("wuye_job_runs_total", "job" => run.job.clone(), "outcome" => "failed").increment(1);
        }
    }
    // Only while this replica still holds the run: one that lost its lease leaves the record
    // to the replica that took over.
    let recorded = job_run::Entity::update_many()
        .set(active)
        .filter(job_run::Column::Id.eq(run.id))
        .filter(job_run::Column::ClaimedBy.eq(instance))
        .filter(job_run::Column::Status.eq(RunStatus::Running.as_str()))
        .exec(db)
        .await;
    if let Err(error) = recorded {
        tracing::error!(run = run.id, error = %error, "could not record the outcome of a job run");
    }
}

/// The wait before attempt `attempts + 1`: `base`, then doubling, at most a day.
pub fn backoff_seconds(base: i64, attempts: i32) -> i64 {
    let doublings = attempts.saturating_sub(1).clamp(0, 20) as u32;
    base.saturating_mul(1 << doublings).min(24 * 3600)
}

/// The job's effect for one company (or the platform) at one tick.
async fn perform(state: AppState, job: Job, run: job_run::Model) -> Result<Counts> {
    let db = &state.db;
    match (job, run.company_id) {
        (Job::BillRun, Some(company)) => monthly_bill_run(db, &state.config, company, run.scheduled_for).await,
        (Job::LateFees, Some(company)) => billing::accrue_late_fees(db, company).await,
        (Job::ArrearsReminders, Some(company)) => reminders::send_arrears_reminders(db, &state.config, company, run.id).await,
        (Job::SessionCleanup, _) => auth::remove_expired_sessions(db, &state.config).await,
        (Job::TicketSla, Some(company)) => tickets::escalate_overdue(db, &state.config, company).await,
        (Job::TicketAutoClose, Some(company)) => tickets::close_resolved(db, &state.config, company).await,
        (Job::FundTopUps, Some(company)) => funds::send_top_up_notices(db, &state.config, company).await,
        (Job::Votes, Some(company)) => votes::open_and_close_due(db, company).await,
        (Job::Notices, Some(company)) => notices::publish_due(db, company).await,
        (_, None) => Err(Error::invalid("job", format!("{} is a company job and this run names no company", job.name()))),
    }
}

/// The bill run of each of a company's compounds for the month the tick falls in (in the job's
/// zone), then its prepaid balances drawn onto the new bills. A second run of the same month
/// bills nothing (one bill per unit, item and period). A month billed late (a tick caught up
/// after an outage) gets its due date counted from the day it is billed: no owner is late on a
/// bill before it exists.
async fn monthly_bill_run(db: &DatabaseConnection, config: &Config, company_id: i64, tick: DateTime<Utc>) -> Result<Counts> {
    let zone = config.jobs.schedules.iter().find(|s| s.job == Job::BillRun).map_or(chrono_tz::Asia::Shanghai, |s| s.zone);
    let period = Period::containing(tick.with_timezone(&zone).date_naive());
    let system = Actor::system();
    let mut counts = Counts::from([("compounds", 0), ("bills", 0), ("prepaid_applied", 0)]);
    let compounds = crate::registry::company_compounds(db, company_id).await?;
    for compound in compounds {
        let issued_on = crate::registry::local_today(&compound);
        let outcome = billing::run_bills(db, &system, compound.id, period, billing::RunMode::BillIssuedOn(issued_on)).await?;
        let txn = crate::db::begin(db).await?;
        let applied = payments::apply_prepaid_balances(&txn, &system, compound.id).await?;
        txn.commit().await?;
        *counts.entry("compounds").or_default() += 1;
        *counts.entry("bills").or_default() += outcome.bills_created as i64;
        *counts.entry("prepaid_applied").or_default() += applied as i64;
    }
    Ok(counts)
}

/// Jobs work on a whole company, so they are for staff who reach all of it: not for staff
/// limited to some compounds.
pub fn may_run_jobs(actor: &Actor) -> Result<()> {
    actor.require(Permission::RunJobs)?;
    if actor.compounds.is_some() {
        return Err(Error::Forbidden("jobs work on the whole company; staff limited to some compounds cannot see or start them"));
    }
    Ok(())
}

/// Queues a run of `job` now: for the caller's company, or for every company when a platform
/// administrator asks. Platform jobs are for platform administrators only.
pub async fn trigger(db: &DatabaseConnection, config: &Config, actor: &Actor, job: Job) -> Result<Vec<job_run::Model>> {
    may_run_jobs(actor)?;
    if !job.per_company() && actor.company_id.is_some() {
        return Err(Error::Forbidden("this job works for the whole platform; only a platform administrator runs it"));
    }
    let now = Utc::now();
    let mut runs = Vec::new();
    for company in companies_of(db, job, actor.company_id).await? {
        runs.push(new_run(config, job, company, now, "manual", Some(actor.user_id)).insert(db).await?);
    }
    Ok(runs)
}

/// Runs `job` now in this process (`wuye jobs run`), waiting for the outcome of each run. A run
/// that a serving replica claims first is waited for instead.
pub async fn run_now(state: &AppState, job: Job) -> Result<Vec<job_run::Model>> {
    let runs = trigger(&state.db, &state.config, &Actor::system(), job).await?;
    let instance = instance_name();
    let mut finished = Vec::new();
    for run in runs {
        loop {
            if let Some(claimed) = claim(&state.db, &instance, Some(run.id)).await? {
                execute(state, &instance, claimed).await;
            }
            let current = job_run::Entity::find_by_id(run.id).one(&state.db).await?.ok_or(Error::NotFound("job run"))?;
            if current.status == RunStatus::Succeeded.as_str() || current.status == RunStatus::Failed.as_str() {
                finished.push(current);
                break;
            }
            // Queued for a retry, or running on another replica: look again shortly.
            tokio::time::sleep(state.config.jobs.poll).await;
        }
    }
    Ok(finished)
}
