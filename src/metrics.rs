//! Prometheus metrics of a running wuye, served as `GET /metrics` on `WUYE_METRICS_LISTEN` only
//! (never on the public port, where owners are).
//!
//! What happens in the process is counted where it happens, with the `metrics` macros:
//! requests ([`crate::http`]), job runs ([`crate::jobs`]), email deliveries ([`crate::mail`]),
//! bills and payments written. What the database knows (the pool, the outbox) is read when the
//! metrics are scraped, so a replica that just started reports the outbox as it is.
//!
//! One recorder serves the whole process (tests build several applications in one process; each
//! scrape reads its own pool and database).
use std::sync::OnceLock;

use chrono::{DateTime, Utc};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use sea_orm::{ConnectionTrait, DatabaseBackend, DatabaseConnection};

use crate::AppState;

/// Request and job latencies, in seconds: from a cached read to a slow bill run.
const LATENCY_BUCKETS: [f64; 14] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 60.0];

static RECORDER: OnceLock<PrometheusHandle> = OnceLock::new();

/// Installs the process's recorder, once: the first application built with metrics does.
/// Until then the counting macros count nothing.
pub fn install() -> &'static PrometheusHandle {
    RECORDER.get_or_init(|| {
        let handle = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), &LATENCY_BUCKETS)
            .expect("latency buckets are not empty")
            .install_recorder()
            .expect("no other metrics recorder is installed in this process");
        describe();
        handle
    })
}

fn describe() {
    use ::metrics::{describe_counter, describe_gauge, describe_histogram};
    describe_counter!("wuye_http_requests_total", "Requests answered, by operation (method and path template) and status");
    describe_histogram!("wuye_http_request_duration_seconds", ::metrics::Unit::Seconds, "Time to answer a request, by operation");
    describe_gauge!("wuye_db_pool_connections", "Database pool connections, in use and idle");
    describe_counter!("wuye_job_runs_total", "Job runs ended, by job and outcome (succeeded, retried, failed)");
    describe_histogram!("wuye_job_run_duration_seconds", ::metrics::Unit::Seconds, "Time a job run took, by job");
    describe_gauge!("wuye_outbox_messages", "Outbox messages not yet sent, by status (pending, sending, failed)");
    describe_gauge!("wuye_outbox_oldest_undelivered_age_seconds", "Age of the oldest message waiting to be sent; 0 when none waits");
    describe_counter!("wuye_outbox_deliveries_total", "Delivery attempts, by outcome (sent, retried, failed)");
    describe_counter!("wuye_bills_written_total", "Bills written by committed bill runs");
    describe_counter!("wuye_payments_written_total", "Payments taken and committed, by method (desk and online)");
}

/// Drains histogram samples into their buckets; run every few seconds and before each scrape.
pub fn upkeep() {
    install().run_upkeep();
}

/// The Prometheus text of everything, with the pool and the outbox read now.
pub async fn render(state: &AppState) -> String {
    observe_pool(&state.db);
    if let Err(error) = observe_outbox(&state.db).await {
        // The scrape still answers; the outbox gauges keep their last values.
        tracing::warn!(error = %crate::error::chain(&error), "metrics: could not read the outbox");
    }
    upkeep();
    install().render()
}

fn observe_pool(db: &DatabaseConnection) {
    let (size, idle) = match db.get_database_backend() {
        DatabaseBackend::Postgres => {
            let pool = db.get_postgres_connection_pool();
            (pool.size(), pool.num_idle())
        }
        _ => {
            let pool = db.get_sqlite_connection_pool();
            (pool.size(), pool.num_idle())
        }
    };
    let idle = idle as u32;
    ::metrics::gauge!("wuye_db_pool_connections", "state" => "in_use").set(size.saturating_sub(idle) as f64);
    ::metrics::gauge!("wuye_db_pool_connections", "state" => "idle").set(idle as f64);
}

/// Counts what waits in the outbox, through its status index (sent messages, the bulk of the
/// table, are not read).
async fn observe_outbox(db: &DatabaseConnection) -> Result<(), sea_orm::DbErr> {
    let sql = "SELECT status, COUNT(*) AS n, MIN(created_at) AS oldest FROM outbox WHERE status IN ('pending', 'sending', 'failed') GROUP BY status";
    let rows = db.query_all_raw(crate::db::statement(db, sql, vec![])).await?;
    let mut oldest_waiting: Option<DateTime<Utc>> = None;
    for status in ["pending", "sending", "failed"] {
        let row = rows.iter().find(|r| r.try_get::<String>("", "status").is_ok_and(|s| s == status));
        let count = row.map_or(Ok(0), |r| r.try_get::<i64>("", "n"))?;
        ::metrics::gauge!("wuye_outbox_messages", "status" => status).set(count as f64);
        if status != "failed"
            && let Some(oldest) = row.map(|r| r.try_get::<DateTime<Utc>>("", "oldest")).transpose()?
        {
            oldest_waiting = Some(oldest_waiting.map_or(oldest, |o| o.min(oldest)));
        }
    }
    let age = oldest_waiting.map_or(0.0, |oldest| (Utc::now() - oldest).num_milliseconds().max(0) as f64 / 1000.0);
    ::metrics::gauge!("wuye_outbox_oldest_undelivered_age_seconds").set(age);
    Ok(())
}
