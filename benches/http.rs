//! Tickets under load on PostgreSQL: 1,000,000 tickets over 3,000 compounds (about a third
//! open), the real server on port 0, and a load generator in this process that keeps
//! `--concurrency` requests in flight for `--seconds` against each of:
//!   1. `GET /health` (which asks the database), the baseline;
//!   2. the dispatcher's queue: one compound's open tickets, soonest deadline first, 50 a page;
//!   3. filing a ticket (`POST /tickets`, by the desk for an owner).
//!
//! Each reports requests/s and p50/p99 latency; 2 and 3 also as a ratio to 1.
//!
//!     cargo bench --bench http -- --server 'postgres://postgres@localhost/postgres?host=/var/run/postgresql' \
//!         [--tickets 1000000] [--seconds 10] [--concurrency 32]
mod common;

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use common::{BenchDatabase, arg};
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};
use wuye::{
    Application,
    auth::{self, Actor, NewAccount, Role},
    registry,
};

const COMPOUNDS: i64 = 3000;
const PASSWORD: &str = "bench-password-1";

#[tokio::main]
async fn main() {
    let tickets: i64 = arg("--tickets").unwrap_or("1000000".into()).parse().expect("--tickets is a number");
    let seconds: u64 = arg("--seconds").unwrap_or("10".into()).parse().expect("--seconds is a number");
    let concurrency: usize = arg("--concurrency").unwrap_or("32".into()).parse().expect("--concurrency is a number");
    let database = BenchDatabase::create().await;
    assert!(database.postgres, "this bench generates its data with PostgreSQL's generate_series: pass --server");
    let db = wuye::db::connect(&database.url).await.expect("connect");
    wuye::db::migrate(&db).await.expect("migrate");
    println!("database: {}; {} cores", database.version(&db).await, std::thread::available_parallelism().map_or(0, |n| n.get()));

    // The data set, generated in the database.
    let started = Instant::now();
    let exec = |sql: String| {
        let db = db.clone();
        async move { db.execute_unprepared(&sql).await.unwrap_or_else(|e| panic!("{sql}: {e}")).rows_affected() }
    };
    exec("INSERT INTO companies (name, created_at) VALUES ('Bench Property Co.', now())".into()).await;
    exec(format!(
        "INSERT INTO compounds (company_id, name, address, time_zone, created_at) SELECT 1, '小区' || g, '街道' || g || '号', 'Asia/Shanghai', now() FROM generate_series(1, {COMPOUNDS}) g"
    ))
    .await;
    let rows = exec(format!(
        "INSERT INTO tickets (company_id, compound_id, unit_id, owner_id, filed_by, category, location, place, description, urgency, preferred_visit, \
         status, priority, assignee_id, version, response_due_at, resolution_due_at, due_at, accepted_at, resolved_at, closed_at, paused_at, paused_seconds, \
         response_escalated_at, resolution_escalated_at, reopen_count, reason, rating, rating_comment, follow_up, followed_up_at, cost_route, cost_bill_id, created_at, updated_at) \
         SELECT 1, 1 + g % {COMPOUNDS}, g, NULL, 1, \
           (ARRAY['gas','plumbing','roof_leak','electrical','elevator','fire_safety','street_lights','barrier_free','parking','walls','doors','other'])[1 + g % 12], \
           'in_unit', NULL, '厨房水管漏水，请尽快处理 ' || g, 'normal', NULL, \
           CASE WHEN (g / {COMPOUNDS}) % 3 = 0 THEN (ARRAY['submitted','accepted','assigned','in_progress','on_hold'])[1 + (g / {COMPOUNDS} / 3) % 5] ELSE 'closed' END, \
           'p3', NULL, 1, now() + make_interval(mins => g % 5000), now() + make_interval(mins => g % 50000), now() + make_interval(mins => g % 50000), \
           NULL, NULL, NULL, NULL, 0, NULL, NULL, 0, NULL, NULL, NULL, NULL, NULL, NULL, NULL, now() - make_interval(mins => g % 100000), now() \
         FROM generate_series(1, {tickets}) g"
    ))
    .await;
    exec("ANALYZE".into()).await;
    let generated = started.elapsed();
    println!("data set: {rows} tickets over {COMPOUNDS} compounds in {:.1} s = {:.0} rows/s", generated.as_secs_f64(), rows as f64 / generated.as_secs_f64());

    // A real unit with an owner in compound 1, and a dispatcher.
    let system = Actor::system();
    let building = registry::create_building(&db, &system, 1, "1栋").await.expect("building");
    let stairwell = registry::create_stairwell(&db, &system, building.id, "1单元").await.expect("stairwell");
    let facts: registry::UnitFacts = serde_json::from_value(json!({ "floor": 3, "number": "301", "unit_use": "residential", "registered_area": "88.60" })).expect("unit facts");
    let unit = registry::create_unit(&db, &system, stairwell.id, facts).await.expect("unit");
    let dispatcher = NewAccount {
        company_id: Some(1),
        role: Role::Dispatcher,
        name: "Bench dispatcher".into(),
        email: Some("dispatcher@bench.test".into()),
        phone: None,
        password: PASSWORD.into(),
        compound_ids: vec![],
        owner_ids: vec![],
    };
    auth::create_account(&db, dispatcher).await.expect("dispatcher");

    let config = common::config(&database.url, &[("WUYE_LISTEN", "127.0.0.1:0"), ("WUYE_SCHEDULER", "off")]);
    let app = Application::build_with(config, db.clone()).await.expect("build");
    let base = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped());
    let client = reqwest::Client::builder().pool_max_idle_per_host(concurrency).build().unwrap();
    let login: Value = client
        .post(format!("{base}/auth/login"))
        .json(&json!({ "login": "dispatcher@bench.test", "password": PASSWORD }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = login["token"].as_str().expect("token").to_string();
    let queue: Value = client.get(format!("{base}/tickets?compound_id=1&limit=50")).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
    println!("compound 1's queue: {} open tickets on the first page, counts {}", queue["items"].as_array().map_or(0, Vec::len), queue["counts"]);

    let load = Load { client, base, token, concurrency, duration: Duration::from_secs(seconds) };
    let health = load.run(|c, base, _| c.get(format!("{base}/health"))).await;
    let page: u64 = arg("--page").unwrap_or("50".into()).parse().expect("--page is a number");
    let queue = load.run(move |c, base, token| c.get(format!("{base}/tickets?compound_id=1&limit={page}")).bearer_auth(token)).await;
    let unit_id = unit.id;
    let filing = load
        .run(move |c, base, token| {
            c.post(format!("{base}/tickets"))
                .bearer_auth(token)
                .json(&json!({ "unit_id": unit_id, "category": "plumbing", "location": "in_unit", "description": "厨房水管漏水" }))
        })
        .await;
    println!("{concurrency} requests in flight, {seconds} s each:");
    for (name, result) in [("GET /health (baseline)", &health), ("GET /tickets?compound_id=1 (queue)", &queue), ("POST /tickets (filing)", &filing)] {
        println!(
            "  {name:<36} {:>8.0} req/s  p50 {:>6.1} ms  p99 {:>6.1} ms  ({} requests, {} not 2xx)  ratio to /health {:.2}",
            result.rate(),
            result.percentile(0.50),
            result.percentile(0.99),
            result.latencies.len(),
            result.failures,
            result.rate() / health.rate()
        );
    }
    db.close().await.ok();
    database.drop_it().await;
}

struct Load {
    client: reqwest::Client,
    base: String,
    token: String,
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
    /// Keeps `concurrency` requests in flight until the time is up.
    async fn run<F>(&self, request: F) -> Outcome
    where
        F: Fn(&reqwest::Client, &str, &str) -> reqwest::RequestBuilder + Send + Sync + 'static,
    {
        let request = Arc::new(request);
        let started = Instant::now();
        let deadline = started + self.duration;
        let mut workers = tokio::task::JoinSet::new();
        for _ in 0..self.concurrency {
            let (client, base, token, request) = (self.client.clone(), self.base.clone(), self.token.clone(), request.clone());
            workers.spawn(async move {
                let (mut latencies, mut failures) = (Vec::new(), 0);
                while Instant::now() < deadline {
                    let sent = Instant::now();
                    match request(&client, &base, &token).send().await {
                        Ok(response) if response.status().is_success() => {
                            let _ = response.bytes().await;
                            latencies.push(sent.elapsed());
                        }
                        _ => failures += 1,
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
