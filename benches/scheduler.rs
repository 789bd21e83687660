//! Scheduler overhead with 10,000 queued job runs: the runs of a cheap job (the session
//! clean-up, two DELETEs) are queued, then one replica's scheduler claims, runs and records
//! every one of them. Reported beside the baseline of calling the same job body as many times
//! directly, on the same database, as a ratio and as overhead per run.
//!
//!     cargo bench --bench scheduler -- [--runs 10000] [--server postgres://postgres@127.0.0.1:5432/postgres]
//!
//! Without `--server` it runs on a new SQLite file. With it, it creates and drops its own
//! database on that PostgreSQL server.
mod common;

use std::time::Instant;

use chrono::Utc;
use common::{BenchDatabase, arg};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};
use wuye::AppState;

#[tokio::main]
async fn main() {
    let runs: usize = arg("--runs").unwrap_or("10000".into()).parse().expect("--runs is a number");
    let database = BenchDatabase::create().await;
    let url = database.url.clone();
    let config = common::config(&url, &[]);
    let db = wuye::db::connect(&url).await.expect("connect");
    wuye::db::migrate(&db).await.expect("migrate");
    println!("database: {}", database.version(&db).await);

    // Baseline: the job's own work, as many times, directly.
    let started = Instant::now();
    for _ in 0..runs {
        wuye::auth::remove_expired_sessions(&db, &config).await.expect("clean-up");
    }
    let direct = started.elapsed();

    // The same number of runs queued, then worked off by the scheduler.
    let now = Utc::now();
    let rows: Vec<entity::job_run::ActiveModel> = (0..runs)
        .map(|i| entity::job_run::ActiveModel {
            job: Set("session_cleanup".into()),
            company_id: Set(None),
            tick_key: Set(format!("bench-{i}")),
            scheduled_for: Set(now),
            trigger: Set("manual".into()),
            status: Set("queued".into()),
            attempts: Set(0),
            max_attempts: Set(3),
            next_attempt_at: Set(now),
            created_at: Set(now),
            ..Default::default()
        })
        .collect();
    for chunk in rows.chunks(1000) {
        entity::job_run::Entity::insert_many(chunk.to_vec()).exec_without_returning(&db).await.expect("queue runs");
    }
    let state = AppState { db: db.clone(), config: std::sync::Arc::new(config), wakeups: Default::default() };
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let started = Instant::now();
    let scheduler = tokio::spawn(wuye::jobs::run_scheduler(state, stopped));
    let succeeded = || entity::job_run::Entity::find().filter(entity::job_run::Column::Status.eq("succeeded")).count(&db);
    while succeeded().await.unwrap() < runs as u64 {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let scheduled = started.elapsed();
    stop.send(true).unwrap();
    scheduler.await.unwrap();

    let per_run_ms = |d: std::time::Duration| d.as_secs_f64() * 1000.0 / runs as f64;
    println!("job body called directly: {runs} times in {:.2} s = {:.3} ms each", direct.as_secs_f64(), per_run_ms(direct));
    println!(
        "through the scheduler:    {runs} queued runs claimed, run and recorded in {:.2} s = {:.0} runs/s, {:.3} ms each",
        scheduled.as_secs_f64(),
        runs as f64 / scheduled.as_secs_f64(),
        per_run_ms(scheduled)
    );
    println!("scheduler overhead per run: {:.3} ms; ratio scheduler / direct: {:.2}x", per_run_ms(scheduled) - per_run_ms(direct), scheduled.as_secs_f64() / direct.as_secs_f64());

    db.close().await.ok();
    database.drop_it().await;
}
