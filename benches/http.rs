//! The HTTP API under load on PostgreSQL. A city-scale slice of data: 3,000 compounds with
//! 1,000,000 tickets (about a third open, the closed ones due up to a year ago); in the first `--billed-compounds` of them, 330 units
//! each with an owner, a property fee with a late fee, and a year of bills made by the real bill
//! run (with its ledger entries). The real server runs on port 0 and a load generator in this
//! process keeps `--concurrency` requests in flight for `--seconds` against each of:
//!   1. `GET /health` (which asks the database), the baseline; and `GET /auth/me` as the owner,
//!      which only checks the token: the floor under every authenticated read;
//!   2. an owner's bill list (`GET /units/{id}/bills`, as the owner: a year of bills with late fees);
//!   3. the dispatcher's queue: one compound's open tickets, soonest deadline first, 50 a page;
//!   4. filing a ticket (`POST /tickets`, by the desk for an owner);
//!   5. a cashier payment (`POST /units/{id}/payments`, each with its own Idempotency-Key, unit
//!      after unit across all the billed compounds, as a busy desk of a big company would).
//!
//! Each reports requests/s and p50/p99 latency, and its ratio to 1.
//!
//!     cargo bench --bench http -- [--server postgres://postgres@127.0.0.1:5432/postgres] \
//!         [--tickets 1000000] [--billed-compounds 100] [--seconds 10] [--concurrency 32] [--page 50]
//!
//! TCP by default, as deployments connect; `--server 'postgres://postgres@localhost/postgres?host=/var/run/postgresql'`
//! for the Unix socket.
mod common;

use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use common::{BenchDatabase, arg};
use futures_util::{StreamExt, stream};
use sea_orm::{ConnectionTrait, DatabaseConnection};
use serde_json::{Value, json};
use wuye::{
    Application,
    auth::{self, Actor, NewAccount, Role},
    billing,
    types::Period,
};

const COMPOUNDS: i64 = 3000;
/// 11 buildings x 3 stairwells x 10 units: a typical renovated compound.
const UNITS_PER_COMPOUND: i64 = 330;
const PASSWORD: &str = "bench-password-1";

fn number(name: &str, default: &str) -> u64 {
    arg(name).unwrap_or(default.into()).parse().unwrap_or_else(|_| panic!("{name} is a number"))
}

async fn exec(db: &DatabaseConnection, sql: &str) -> u64 {
    db.execute_unprepared(sql).await.unwrap_or_else(|e| panic!("{sql}: {e}")).rows_affected()
}

async fn count(db: &DatabaseConnection, sql: &str) -> i64 {
    let row = db.query_one_raw(sea_orm::Statement::from_string(db.get_database_backend(), sql)).await.unwrap().unwrap();
    row.try_get("", "n").unwrap()
}

#[tokio::main]
async fn main() {
    let tickets = number("--tickets", "1000000");
    let billed_compounds = number("--billed-compounds", "100") as i64;
    let seconds = number("--seconds", "10");
    let concurrency = number("--concurrency", "32") as usize;
    let page = number("--page", "50");
    let database = BenchDatabase::create_on_postgres().await;
    let db = wuye::db::connect(&database.url).await.expect("connect");
    wuye::db::migrate(&db).await.expect("migrate");
    println!("database: {}; {} cores", database.version(&db).await, std::thread::available_parallelism().map_or(0, |n| n.get()));

    // The registry and the tickets, generated in the database.
    let started = Instant::now();
    let mut rows = exec(&db, "INSERT INTO companies (name, created_at) VALUES ('Bench Property Co.', now())").await;
    rows += exec(&db, &format!("INSERT INTO compounds (company_id, name, address, time_zone, created_at) SELECT 1, '小区' || g, '街道' || g || '号', 'Asia/Shanghai', now() FROM generate_series(1, {COMPOUNDS}) g")).await;
    rows += exec(&db, &format!("INSERT INTO buildings (company_id, compound_id, name, created_at) SELECT 1, c, b || '栋', now() FROM generate_series(1, {billed_compounds}) c, generate_series(1, 11) b")).await;
    rows += exec(&db, "INSERT INTO stairwells (company_id, compound_id, building_id, name, created_at) SELECT 1, b.compound_id, b.id, s || '单元', now() FROM buildings b, generate_series(1, 3) s").await;
    rows += exec(
        &db,
        "INSERT INTO units (company_id, compound_id, building_id, stairwell_id, floor, number, unit_use, registered_area, surveyed_area, contract_area, developer_held, vacant, created_at) \
         SELECT 1, s.compound_id, s.building_id, s.id, (u - 1) / 2 + 1, (((u - 1) / 2 + 1) * 100 + (u - 1) % 2 + 1)::text, 'residential', \
                6000 + (s.id * 7 + u * 13) % 6000, NULL, NULL, false, false, now() \
         FROM stairwells s, generate_series(1, 10) u",
    )
    .await;
    rows += exec(&db, "INSERT INTO owners (company_id, compound_id, name, phone, email, id_number_masked, user_id, created_at) SELECT 1, u.compound_id, '业主' || u.id, NULL, NULL, NULL, NULL, now() FROM units u ORDER BY u.id").await;
    // Owner i owns unit i: both were numbered in the same order.
    rows += exec(&db, "INSERT INTO ownerships (company_id, compound_id, unit_id, owner_id, designated_voter, started_on, ended_on, created_at) SELECT 1, u.compound_id, u.id, u.id, true, DATE '2015-01-01', NULL, now() FROM units u").await;
    // The property fee: 1.20 元/m² a month, due 15 days into the month, 0.03% a day once overdue.
    rows += exec(
        &db,
        "INSERT INTO fee_items (company_id, compound_id, name, kind, rate, scope_kind, scope_ids, unit_uses, cycle, due_days, rounding, late_fee_daily_rate, late_fee_grace_days, effective_from, created_at) \
         SELECT 1, c.id, '物业费', 'rate_area', '1.20', 'compound', '[]', '[\"residential\",\"commercial\"]', 'monthly', 15, 'half_up', '0.0003', 0, DATE '2020-01-01', now() \
         FROM compounds c WHERE c.id <= (SELECT MAX(compound_id) FROM units)",
    )
    .await;
    rows += exec(
        &db,
        &format!(
            "INSERT INTO tickets (company_id, compound_id, unit_id, owner_id, filed_by, category, location, place, description, urgency, preferred_visit, \
             status, priority, assignee_id, version, response_due_at, resolution_due_at, due_at, accepted_at, resolved_at, closed_at, paused_at, paused_seconds, \
             response_escalated_at, resolution_escalated_at, reopen_count, reason, rating, rating_comment, follow_up, followed_up_at, cost_route, cost_bill_id, created_at, updated_at) \
             SELECT 1, 1 + g % {COMPOUNDS}, g, NULL, 1, \
               (ARRAY['gas','plumbing','roof_leak','electrical','elevator','fire_safety','street_lights','barrier_free','parking','walls','doors','other'])[1 + g % 12], \
               'in_unit', NULL, '厨房水管漏水，请尽快处理 ' || g, 'normal', NULL, \
               CASE WHEN (g / {COMPOUNDS}) % 3 = 0 THEN (ARRAY['submitted','accepted','assigned','in_progress','on_hold'])[1 + (g / {COMPOUNDS} / 3) % 5] ELSE 'closed' END, \
               'p3', NULL, 1, now() + make_interval(mins => g % 5000), now() + make_interval(mins => g % 50000), \
               CASE WHEN (g / {COMPOUNDS}) % 3 = 0 THEN now() + make_interval(mins => g % 50000) ELSE now() - make_interval(mins => 50000 + g % 500000) END, \
               NULL, NULL, NULL, NULL, 0, NULL, NULL, 0, NULL, NULL, NULL, NULL, NULL, NULL, NULL, now() - make_interval(mins => g % 100000), now() \
             FROM generate_series(1, {tickets}) g"
        ),
    )
    .await;
    let generated = started.elapsed().as_secs_f64();
    let units = count(&db, "SELECT COUNT(*) AS n FROM units").await;
    println!("data set: {rows} rows ({tickets} tickets over {COMPOUNDS} compounds, {units} units with owners) in {generated:.1} s = {:.0} rows/s", rows as f64 / generated);

    // A year of bills, by the real bill run: the twelve months up to this one.
    let started = Instant::now();
    let this_month = Period::containing(chrono::Utc::now().date_naive());
    let first = Period::new(this_month.year() - 1, this_month.month()).expect("a period a year back").plus_months(1);
    let runs: Vec<(i64, Period)> = (0..12).flat_map(|k| (1..=billed_compounds).map(move |compound| (compound, first.plus_months(k)))).collect();
    let system = Actor::system();
    let bills: u64 = stream::iter(runs)
        .map(|(compound, period)| {
            let (db, system) = (&db, &system);
            async move { billing::run_bills(db, system, compound, period, billing::RunMode::Bill).await.expect("bill run").bills_created }
        })
        .buffer_unordered(2)
        .fold(0, |sum, n| async move { sum + n })
        .await;
    let billing = started.elapsed().as_secs_f64();
    // What a freshly loaded database does next on its own (autovacuum of the million new
    // tickets, a checkpoint of the load's WAL), done before the clock starts, not during it: on
    // two cores either takes a core away from whichever endpoint it overlaps.
    exec(&db, "VACUUM ANALYZE").await;
    exec(&db, "CHECKPOINT").await;
    println!("a year of bills: {bills} bills ({} per unit) by the bill run in {billing:.1} s = {:.0} bills/s", bills as i64 / units.max(1), bills as f64 / billing);

    // The staff, and an owner with a login: the owner of a unit in the middle of compound 1.
    let owned_unit = UNITS_PER_COMPOUND / 2;
    for (role, email, owner_ids) in
        [(Role::Dispatcher, "dispatcher@bench.test", vec![]), (Role::Cashier, "cashier@bench.test", vec![]), (Role::Owner, "owner@bench.test", vec![owned_unit])]
    {
        let account = NewAccount {
            company_id: Some(1),
            role,
            name: format!("Bench {}", role.as_str()),
            email: Some(email.into()),
            phone: None,
            password: PASSWORD.into(),
            compound_ids: vec![],
            owner_ids,
        };
        auth::create_account(&db, account).await.expect("account");
    }

    // Metrics on, as a deployment runs it: their cost is in every figure below.
    let config = common::config(&database.url, &[("WUYE_LISTEN", "127.0.0.1:0"), ("WUYE_SCHEDULER", "off"), ("WUYE_METRICS_LISTEN", "127.0.0.1:0")]);
    let app = Application::build_with(config, db.clone()).await.expect("build");
    let base = format!("http://127.0.0.1:{}", app.port());
    let metrics = format!("http://127.0.0.1:{}/metrics", app.metrics_port().expect("the metrics address"));
    tokio::spawn(app.run_until_stopped());
    let client = reqwest::Client::builder().pool_max_idle_per_host(concurrency).build().unwrap();
    let login = async |email: &str| -> String {
        let answer: Value =
            client.post(format!("{base}/auth/login")).json(&json!({ "login": email, "password": PASSWORD })).send().await.unwrap().json().await.unwrap();
        answer["token"].as_str().expect("token").to_string()
    };
    let (dispatcher, cashier, owner) = (login("dispatcher@bench.test").await, login("cashier@bench.test").await, login("owner@bench.test").await);
    let queue: Value = client.get(format!("{base}/tickets?compound_id=1&limit={page}")).bearer_auth(&dispatcher).send().await.unwrap().json().await.unwrap();
    println!("compound 1's queue: {} open tickets on the first page, counts {}", queue["items"].as_array().map_or(0, Vec::len), queue["counts"]);
    let owned: Value = client.get(format!("{base}/units/{owned_unit}/bills")).bearer_auth(&owner).send().await.unwrap().json().await.unwrap();
    let owned = owned.as_array().expect("the owner's bills");
    println!("the owner's bill list: {} bills, the first {} with late fee {}", owned.len(), owned[0]["amount"], owned[0]["late_fee"]);

    let load = Load { client, base, concurrency, duration: Duration::from_secs(seconds) };
    let health = load.run(|c, base, _| c.get(format!("{base}/health"))).await;
    // The floor under every read: the owner's token checked, and nothing else asked.
    let owner_for_me = owner.clone();
    let me = load.run(move |c, base, _| c.get(format!("{base}/auth/me")).bearer_auth(&owner_for_me)).await;
    let owner_bills = load.run(move |c, base, _| c.get(format!("{base}/units/{owned_unit}/bills")).bearer_auth(&owner)).await;
    let dispatcher_for_queue = dispatcher.clone();
    let queue = load.run(move |c, base, _| c.get(format!("{base}/tickets?compound_id=1&limit={page}")).bearer_auth(&dispatcher_for_queue)).await;
    let filing = load
        .run(move |c, base, _| {
            c.post(format!("{base}/tickets"))
                .bearer_auth(&dispatcher)
                .json(&json!({ "unit_id": owned_unit, "category": "plumbing", "location": "in_unit", "description": "厨房水管漏水" }))
        })
        .await;
    // What /metrics says of the payments, before and after their run.
    let watched = ["wuye_http_requests_total{operation=\"POST /units/{id}/payments\"", "wuye_http_request_duration_seconds_count{operation=\"POST /units/{id}/payments\"", "wuye_payments_written_total", "wuye_db_pool_connections"];
    let scrape = async |client: &reqwest::Client| -> Vec<String> {
        let text = client.get(&metrics).send().await.unwrap().text().await.unwrap();
        text.lines().filter(|line| watched.iter().any(|w| line.starts_with(w))).map(str::to_string).collect()
    };
    let before = scrape(&load.client).await;
    // Steps of 331 units: each payment in the next compound, every unit visited before any twice.
    let run_id = std::process::id();
    let payments = load
        .run(move |c, base, n| {
            let unit = 1 + (n as i64 * (UNITS_PER_COMPOUND + 1)) % units;
            c.post(format!("{base}/units/{unit}/payments"))
                .bearer_auth(&cashier)
                .header("Idempotency-Key", format!("bench-{run_id}-{n}"))
                .json(&json!({ "method": "cash", "amount": "100.00" }))
        })
        .await;

    let after = scrape(&load.client).await;
    println!("GET /metrics before the payments run: {}", if before.is_empty() { "(no payment series yet)".to_string() } else { before.join("; ") });
    println!("GET /metrics after it: {}", after.join("; "));
    println!("{concurrency} requests in flight, {seconds} s each:");
    println!("| endpoint | requests/s | p50 | p99 | ratio to `/health` |");
    println!("|---|---|---|---|---|");
    for (name, result) in [
        ("`GET /health` (baseline)", &health),
        ("`GET /auth/me` (owner: the token check alone)", &me),
        ("`GET /units/{id}/bills` (owner)", &owner_bills),
        ("`GET /tickets?compound_id=1` (queue)", &queue),
        ("`POST /tickets` (filing)", &filing),
        ("`POST /units/{id}/payments` (cashier)", &payments),
    ] {
        println!(
            "| {name} | {:.0} | {:.1} ms | {:.1} ms | {:.2} |{}",
            result.rate(),
            result.percentile(0.50),
            result.percentile(0.99),
            result.rate() / health.rate(),
            if result.failures > 0 { format!(" {} not 2xx!", result.failures) } else { String::new() }
        );
    }
    // The work was done: every acknowledged payment is booked once, and the ledger still verifies.
    let booked = count(&db, "SELECT COUNT(*) AS n FROM payments").await;
    assert_eq!(booked as usize, payments.latencies.len(), "one payment per acknowledged request");
    let check = wuye::ledger::verify(&db, 1).await.expect("verify");
    assert!(check.first_break.is_none(), "compound 1's ledger verifies");
    db.close().await.ok();
    database.drop_it().await;
}

struct Load {
    client: reqwest::Client,
    base: String,
    concurrency: usize,
    duration: Duration,
}

struct Outcome {
    latencies: Vec<Duration>,
    failures: usize,
    elapsed: Duration,
}

impl Outcome {
    fn rate(&self) -> f64 {
        self.latencies.len() as f64 / self.elapsed.as_secs_f64()
    }

    fn percentile(&self, share: f64) -> f64 {
        let mut sorted = self.latencies.clone();
        sorted.sort();
        let rank = ((share * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len().max(1));
        sorted.get(rank - 1).map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    }
}

impl Load {
    /// Keeps `concurrency` requests in flight until the time is up. `request` builds the n-th
    /// request of the run (n counts from 0 across all workers).
    async fn run<F>(&self, request: F) -> Outcome
    where
        F: Fn(&reqwest::Client, &str, u64) -> reqwest::RequestBuilder + Send + Sync + 'static,
    {
        let request = Arc::new(request);
        let sent_so_far = Arc::new(AtomicU64::new(0));
        let started = Instant::now();
        let deadline = started + self.duration;
        let mut workers = tokio::task::JoinSet::new();
        for _ in 0..self.concurrency {
            let (client, base, request, sent_so_far) = (self.client.clone(), self.base.clone(), request.clone(), sent_so_far.clone());
            workers.spawn(async move {
                let (mut latencies, mut failures) = (Vec::new(), 0);
                while Instant::now() < deadline {
                    let n = sent_so_far.fetch_add(1, Ordering::Relaxed);
                    let sent = Instant::now();
                    match request(&client, &base, n).send().await {
                        Ok(response) if response.status().is_success() => {
                            let _ = response.bytes().await;
                            latencies.push(sent.elapsed());
                        }
                        Ok(response) => {
                            if failures == 0 {
                                eprintln!("{} {}", response.status(), response.text().await.unwrap_or_default());
                            }
                            failures += 1;
                        }
                        Err(error) => {
                            if failures == 0 {
                                eprintln!("{error}");
                            }
                            failures += 1;
                        }
                    }
                }
                (latencies, failures)
            });
        }
        let mut outcome = Outcome { latencies: Vec::new(), failures: 0, elapsed: Duration::ZERO };
        while let Some(joined) = workers.join_next().await {
            let (latencies, failures) = joined.expect("a load worker");
            outcome.latencies.extend(latencies);
            outcome.failures += failures;
        }
        outcome.elapsed = started.elapsed();
        outcome
    }
}
