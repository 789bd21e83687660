//! Bill-run benchmark on PostgreSQL: a city-scale registry (1,000,230 units in 3,031 compounds
//! by default), one per-area fee item per compound, then
//!   1. our bill run for every compound (bills and their ledger entries), against
//!   2. a raw `INSERT ... SELECT` of the same number of bill rows, on the same database,
//!
//! reported as a ratio, with the data set generation rate and the run's peak memory. Each phase
//! starts from a `CHECKPOINT`.
//!
//!     cargo bench --bench bill_run -- [--units 1000000] [--workers 2] [--server postgres://postgres@127.0.0.1:5432/postgres]
//!
//! The default is TCP, as every container and remote deployment connects; for the Unix socket
//! of a server on the same host: `--server 'postgres://postgres@localhost/postgres?host=/var/run/postgresql'`.
//!
//! It creates and finally drops its own database on that server.
use std::time::Instant;

use futures_util::{StreamExt, stream};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection};
use wuye::{auth::Actor, billing, types::Period};

/// 11 buildings x 3 stairwells x 10 units: a typical renovated compound.
const UNITS_PER_COMPOUND: u64 = 330;

fn arg(name: &str, default: &str) -> String {
    let args: Vec<String> = std::env::args().collect();
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned().unwrap_or_else(|| default.to_string())
}

fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| l.split_whitespace().nth(1)).and_then(|kb| kb.parse::<f64>().ok()))
        .map_or(0.0, |kb| kb / 1024.0)
}

async fn exec(db: &DatabaseConnection, sql: &str) -> u64 {
    db.execute_unprepared(sql).await.unwrap_or_else(|e| panic!("{sql}: {e}")).rows_affected()
}

#[tokio::main]
async fn main() {
    let units: u64 = arg("--units", "1000000").parse().expect("--units is a number");
    let workers: usize = arg("--workers", "2").parse().expect("--workers is a number");
    let server = arg("--server", "postgres://postgres@127.0.0.1:5432/postgres");
    let compounds = units.div_ceil(UNITS_PER_COMPOUND);
    let name = format!("wuye_bench_{}", std::process::id());
    let admin = Database::connect(&server).await.expect("connect to the PostgreSQL server");
    exec(&admin, &format!("CREATE DATABASE {name}")).await;
    // The same server, our database: replace the database name, keep any ?host=... query.
    let (address, query) = server.split_once('?').map_or((server.as_str(), String::new()), |(a, q)| (a, format!("?{q}")));
    let url = format!("{}/{name}{query}", address.rsplit_once('/').expect("a server URL with a database").0);
    let db = wuye::db::connect(&url).await.expect("connect");
    wuye::db::migrate(&db).await.expect("migrate");
    let version = db.query_one_raw(sea_orm::Statement::from_string(db.get_database_backend(), "SHOW server_version")).await.unwrap().unwrap();
    let version: String = version.try_get("", "server_version").unwrap();

    // The data set, generated in the database.
    let started = Instant::now();
    exec(&db, "INSERT INTO companies (name, created_at) VALUES ('Bench Property Co.', now())").await;
    let mut rows = 1;
    rows += exec(&db, &format!("INSERT INTO compounds (company_id, name, address, time_zone, created_at) SELECT 1, '小区' || g, '街道' || g || '号', 'Asia/Shanghai', now() FROM generate_series(1, {compounds}) g")).await;
    rows += exec(&db, "INSERT INTO buildings (company_id, compound_id, name, created_at) SELECT 1, c.id, b || '栋', now() FROM compounds c, generate_series(1, 11) b").await;
    rows += exec(&db, "INSERT INTO stairwells (company_id, compound_id, building_id, name, created_at) SELECT 1, b.compound_id, b.id, s || '单元', now() FROM buildings b, generate_series(1, 3) s").await;
    rows += exec(
        &db,
        "INSERT INTO units (company_id, compound_id, building_id, stairwell_id, floor, number, unit_use, registered_area, surveyed_area, contract_area, developer_held, vacant, created_at) \
         SELECT 1, s.compound_id, s.building_id, s.id, (u - 1) / 2 + 1, (((u - 1) / 2 + 1) * 100 + (u - 1) % 2 + 1)::text, 'residential', \
                6000 + (s.id * 7 + u * 13) % 6000, NULL, NULL, u = 10 AND s.id % 7 = 0, u = 9 AND s.id % 5 = 0, now() \
         FROM stairwells s, generate_series(1, 10) u",
    )
    .await;
    rows += exec(
        &db,
        "INSERT INTO fee_items (company_id, compound_id, name, kind, rate, scope_kind, scope_ids, unit_uses, cycle, due_days, rounding, late_fee_grace_days, effective_from, created_at) \
         SELECT 1, c.id, '物业费', 'rate_area', '1.20', 'compound', '[]', '[\"residential\",\"commercial\"]', 'monthly', 15, 'half_up', 0, DATE '2026-01-01', now() FROM compounds c",
    )
    .await;
    let generation = started.elapsed().as_secs_f64();
    let unit_count = rows - 1 - compounds - compounds * 11 - compounds * 33 - compounds;
    let rss_before = peak_rss_mb();

    // Each timed phase starts from a checkpoint, so that neither pays for writing out the pages
    // the phase before it dirtied (the data set, our run's 2,000,000 rows).
    exec(&db, "CHECKPOINT").await;

    // 1. Our bill run, compound by compound, `workers` at a time.
    let period: Period = "2026-11".parse().unwrap();
    let actor = Actor::system();
    let started = Instant::now();
    let ids: Vec<i64> = (1..=compounds as i64).collect();
    let outcomes: Vec<u64> = stream::iter(ids)
        .map(|id| {
            let (db, actor) = (&db, &actor);
            async move { billing::run_bills(db, actor, id, period, billing::RunMode::Bill).await.expect("bill run").bills_created }
        })
        .buffer_unordered(workers)
        .collect()
        .await;
    let ours = started.elapsed().as_secs_f64();
    let billed: u64 = outcomes.iter().sum();
    let rss_after = peak_rss_mb();

    exec(&db, "CHECKPOINT").await;

    // 2. The baseline: the same number of bill rows, computed and inserted in one statement.
    let started = Instant::now();
    let raw = exec(
        &db,
        "INSERT INTO bills (company_id, compound_id, unit_id, fee_item_id, period, bill_run_id, payer, amount, adjusted, paid, late_fee_paid, late_fee_waived, late_fee_accrued, due_date, created_at) \
         SELECT u.company_id, u.compound_id, u.id, f.id, '2026-12', 0, CASE WHEN u.developer_held THEN 'developer' ELSE 'owner' END, \
                ROUND(120 * u.registered_area / 100.0), 0, 0, 0, 0, 0, DATE '2026-12-16', now() \
         FROM units u JOIN fee_items f ON f.compound_id = u.compound_id",
    )
    .await;
    let baseline = started.elapsed().as_secs_f64();

    let lines: i64 = db
        .query_one_raw(sea_orm::Statement::from_string(db.get_database_backend(), "SELECT COUNT(*) AS n FROM journal_lines"))
        .await
        .unwrap()
        .unwrap()
        .try_get("", "n")
        .unwrap();
    let check = wuye::ledger::verify(&db, compounds as i64).await.expect("verify");
    assert!(check.first_break.is_none(), "the last compound's ledger verifies");
    assert_eq!(billed, unit_count, "every unit billed once");
    assert_eq!(raw, unit_count);

    println!("machine: {} cores, PostgreSQL {version}", std::thread::available_parallelism().map_or(0, |n| n.get()));
    println!("data set: {unit_count} units in {compounds} compounds, {rows} rows in {generation:.1} s = {:.0} rows/s", rows as f64 / generation);
    println!("our bill run: {billed} bills + {lines} journal lines in {ours:.1} s = {:.0} bills/s ({workers} workers)", billed as f64 / ours);
    println!("raw INSERT ... SELECT: {raw} bill rows in {baseline:.1} s = {:.0} rows/s", raw as f64 / baseline);
    println!("ratio ours / raw: {:.2}x", ours / baseline);
    println!("peak memory of the bench process: {rss_after:.0} MB (before the run {rss_before:.0} MB)");

    db.close().await.ok();
    exec(&admin, &format!("DROP DATABASE {name}")).await;
}
