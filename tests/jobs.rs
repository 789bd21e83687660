//! Scheduled jobs: each tick runs once across replicas, missed ticks are caught up by policy,
//! failed runs are retried and then left failed, and running a job again changes nothing twice.
mod common;

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Datelike, Duration, Utc};
use common::*;
use reqwest::StatusCode;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use serde_json::{Value, json};
use wuye::auth::Role;

/// The scheduled runs of a job on record, from the database.
async fn scheduled_runs(app: &TestApp, job: &str) -> Vec<entity::job_run::Model> {
    entity::job_run::Entity::find()
        .filter(entity::job_run::Column::Job.eq(job))
        .filter(entity::job_run::Column::Trigger.eq("schedule"))
        .all(&app.db)
        .await
        .unwrap()
}

async fn count<E: EntityTrait>(app: &TestApp) -> u64
where
    E::Model: Sync,
{
    use sea_orm::PaginatorTrait;
    E::find().count(&app.db).await.unwrap()
}

#[tokio::test]
async fn two_replicas_run_each_tick_of_an_every_second_job_exactly_once() {
    let app = TestApp::spawn().await;
    let alpha = app.tenant("Alpha").await;
    let beta = app.tenant("Beta").await;
    // Two overdue bills in each company, on units whose owners have email.
    overdue_bill(&app, &alpha, alpha.unit_id, "装修垃圾清运费", "120.00", 10, None).await;
    overdue_bill(&app, &alpha, alpha.unit_id, "门禁卡工本费", "30.00", 45, None).await;
    overdue_bill(&app, &beta, beta.unit_id, "装修垃圾清运费", "80.00", 100, None).await;

    // Two replicas that tick every second, beside the first server (which ticks not at all).
    let every_second = workers_on(&[("WUYE_JOB_ARREARS_REMINDERS", "* * * * * *")]);
    let first = app.replica(&every_second).await;
    let _second = app.replica(&every_second).await;

    // Wait for five ticks run to their end.
    let runs = eventually(30, "five ticks of both companies", || async {
        let runs = scheduled_runs(&first, "arrears_reminders").await;
        let done: BTreeSet<DateTime<Utc>> = runs.iter().filter(|r| r.status == "succeeded").map(|r| r.scheduled_for).collect();
        (done.len() >= 5).then_some(runs)
    })
    .await;

    // Every second from the first tick to the last has one run per company, never two, and
    // each run was carried out once (one attempt).
    let mut by_tick: BTreeMap<DateTime<Utc>, Vec<&entity::job_run::Model>> = BTreeMap::new();
    for run in &runs {
        by_tick.entry(run.scheduled_for).or_default().push(run);
    }
    let ticks: Vec<DateTime<Utc>> = by_tick.keys().copied().collect();
    for pair in ticks.windows(2) {
        assert_eq!(pair[1] - pair[0], Duration::seconds(1), "a tick was skipped between {} and {}", pair[0], pair[1]);
    }
    for (tick, runs) in &by_tick {
        let companies: Vec<Option<i64>> = runs.iter().map(|r| r.company_id).collect();
        assert_eq!(companies.len(), 2, "tick {tick}: {runs:?}");
        assert!(companies.contains(&Some(alpha.company_id)) && companies.contains(&Some(beta.company_id)), "tick {tick}: {runs:?}");
        for run in runs.iter().filter(|r| r.status != "queued") {
            assert_eq!(run.attempts, 1, "run {} was carried out more than once: {run:?}", run.id);
        }
    }

    // The effect happened once: one reminder per unit and stage (Alpha's unit has two bills at
    // two stages; Beta's one), one email each, and the runs' own counts add up to exactly that.
    let finished: Vec<&entity::job_run::Model> = runs.iter().filter(|r| r.status == "succeeded").collect();
    let counted: i64 = finished.iter().map(|r| serde_json::from_str::<Value>(r.counts.as_deref().unwrap()).unwrap()["reminders"].as_i64().unwrap()).sum();
    assert_eq!(count::<entity::reminder::Entity>(&app).await, 3);
    assert_eq!(counted, 3, "the runs claim {counted} reminders");
    assert_eq!(count::<entity::reminder_bill::Entity>(&app).await, 3);
    assert_eq!(count::<entity::outbox_message::Entity>(&app).await, 3);
}

#[tokio::test]
async fn missed_bill_runs_each_run_once_and_a_missed_daily_job_once() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("Alpha").await;
    let manager = tenant.token(Role::Manager);
    let (status, body) = app
        .post(
            &format!("/compounds/{}/fee-items", tenant.compound_id),
            manager,
            json!({ "name": "物业费", "kind": "rate_area", "rate": "1.20", "cycle": "monthly", "due_days": 15, "effective_from": "2020-01" }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // The last bill run on record was three months ago, and the late-fee job last ran a week
    // ago: every replica has been down since.
    let shanghai = chrono_tz::Asia::Shanghai;
    let today = today();
    let month_start = |months_back: u32| {
        let first = today.with_day(1).unwrap() - chrono::Months::new(months_back);
        first.and_hms_opt(1, 0, 0).unwrap().and_local_timezone(shanghai).unwrap().with_timezone(&Utc)
    };
    let week_ago = (today - Duration::days(7)).and_hms_opt(0, 10, 0).unwrap().and_local_timezone(shanghai).unwrap().with_timezone(&Utc);
    for (job, tick) in [("bill_run", month_start(3)), ("late_fees", week_ago)] {
        entity::job_run::ActiveModel {
            job: Set(job.into()),
            company_id: Set(Some(tenant.company_id)),
            tick_key: Set(format!("{job}@{}#company:{}", tick.to_rfc3339(), tenant.company_id)),
            scheduled_for: Set(tick),
            trigger: Set("schedule".into()),
            status: Set("succeeded".into()),
            attempts: Set(1),
            max_attempts: Set(3),
            next_attempt_at: Set(tick),
            created_at: Set(tick),
            ..Default::default()
        }
        .insert(&app.db)
        .await
        .unwrap();
    }

    // A replica comes back with the default schedules.
    let back = app.replica(&[("WUYE_SCHEDULER", "on"), ("WUYE_WORKER_POLL_MS", "50")]).await;
    // The 1st of the last two months and of this one (unless this month's is yet to come).
    let expected_ticks: Vec<DateTime<Utc>> = (0..4).rev().map(month_start).filter(|t| *t <= Utc::now()).collect();
    let runs = eventually(30, "the caught-up runs to end", || async {
        let bill_runs = scheduled_runs(&back, "bill_run").await;
        let late_fees = scheduled_runs(&back, "late_fees").await;
        let all_done = bill_runs.iter().chain(&late_fees).all(|r| r.status == "succeeded");
        (all_done && bill_runs.len() == expected_ticks.len() && late_fees.len() == 2).then_some((bill_runs, late_fees))
    })
    .await;
    // Each missed month's bill run ran.
    let mut bill_ticks: Vec<DateTime<Utc>> = runs.0.iter().map(|r| r.scheduled_for).collect();
    bill_ticks.sort();
    assert_eq!(bill_ticks, expected_ticks);
    // The daily job ran once, for the latest missed tick only.
    let latest_late_fee_tick = today.and_hms_opt(0, 10, 0).unwrap().and_local_timezone(shanghai).unwrap().with_timezone(&Utc);
    let latest_late_fee_tick =
        if latest_late_fee_tick > Utc::now() { latest_late_fee_tick - Duration::days(1) } else { latest_late_fee_tick };
    assert!(runs.1.iter().any(|r| r.scheduled_for == latest_late_fee_tick), "{:?}", runs.1);

    // The bills of those months exist, once each: 106.32 for the unit of 88.60 m².
    let (status, bills) = app.get(&format!("/units/{}/bills", tenant.unit_id), manager).await;
    assert_eq!(status, StatusCode::OK, "{bills}");
    let periods: Vec<&str> = bills.as_array().unwrap().iter().map(|b| b["period"].as_str().unwrap()).collect();
    let expected: Vec<String> = expected_ticks[1..].iter().map(|t| period_of(t.with_timezone(&shanghai).date_naive())).collect();
    assert_eq!(periods, expected, "{bills}");
    assert!(bills.as_array().unwrap().iter().all(|b| b["amount"] == "106.32"), "{bills}");
    // Billed today, they are due 15 days from today, not from the months they cover: nobody is
    // late on a bill before it exists.
    let due = (today + Duration::days(15)).to_string();
    assert!(bills.as_array().unwrap().iter().all(|b| b["due_date"] == due.as_str() && b["late_fee"] == "0.00"), "{bills}");

    // Another replica coming back finds nothing missed: no new run, no new bill (by the time a
    // job started by hand has run through, its start-up round is long done).
    let again = app.replica(&[("WUYE_SCHEDULER", "on"), ("WUYE_WORKER_POLL_MS", "50")]).await;
    run_job(&again, manager, "late_fees").await;
    assert_eq!(scheduled_runs(&again, "bill_run").await.len(), expected_ticks.len());
    assert_eq!(count::<entity::bill::Entity>(&app).await, 2 * expected.len() as u64, "two units, each month once");
}

#[tokio::test]
async fn a_failing_run_is_retried_with_backoff_then_left_failed_and_runs_again_once_fixed() {
    let app = TestApp::spawn_with(&workers_on(&[("WUYE_JOB_MAX_ATTEMPTS", "2"), ("WUYE_JOB_RETRY_SECONDS", "1")])).await;
    let tenant = app.tenant("Alpha").await;
    let manager = tenant.token(Role::Manager);
    let (status, item) = app
        .post(
            &format!("/compounds/{}/fee-items", tenant.compound_id),
            manager,
            json!({ "name": "物业费", "kind": "rate_area", "rate": "1.20", "cycle": "monthly", "effective_from": "2020-01" }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{item}");
    // A fee item broken in the database: the bill run cannot work out whom it bills.
    let item_id = item["id"].as_i64().unwrap();
    let broken = entity::fee_item::Entity::find_by_id(item_id).one(&app.db).await.unwrap().unwrap();
    let mut active: entity::fee_item::ActiveModel = broken.clone().into();
    active.scope_kind = Set("nowhere".into());
    active.update(&app.db).await.unwrap();

    let runs = run_job(&app, manager, "bill_run").await;
    assert_eq!(runs.len(), 1, "{runs:?}");
    let run = &runs[0];
    assert_eq!((run["status"].as_str(), run["attempts"].as_i64(), run["max_attempts"].as_i64()), (Some("failed"), Some(2), Some(2)), "{run}");
    assert!(run["error"].as_str().is_some_and(|e| !e.is_empty()), "{run}");
    // The retry waited its backoff: at least a second after the first attempt.
    let (next, created) = (run["next_attempt_at"].as_str().unwrap(), run["scheduled_for"].as_str().unwrap());
    let waited = next.parse::<DateTime<Utc>>().unwrap() - created.parse::<DateTime<Utc>>().unwrap();
    assert!(waited >= Duration::seconds(1), "retried after {waited}");
    // Visible as failed in the list, and nothing was billed.
    let (status, failed) = app.get("/jobs/runs?status=failed&job=bill_run", manager).await;
    assert_eq!(status, StatusCode::OK, "{failed}");
    assert_eq!(failed.as_array().unwrap().iter().map(|r| r["id"].clone()).collect::<Vec<_>>(), vec![run["id"].clone()]);
    assert_eq!(count::<entity::bill::Entity>(&app).await, 0);

    // Fixed, and started again by hand: it bills.
    entity::fee_item::ActiveModel::from(broken).reset_all().update(&app.db).await.unwrap();
    let runs = run_job(&app, manager, "bill_run").await;
    assert_eq!(runs[0]["status"], "succeeded", "{runs:?}");
    assert_eq!(runs[0]["counts"]["bills"], 2, "{runs:?}");
}

#[tokio::test]
async fn running_the_bill_run_and_the_late_fee_accrual_twice_changes_nothing_twice() {
    let app = TestApp::spawn_with(WORKERS_ON).await;
    let tenant = app.tenant("Alpha").await;
    let manager = tenant.token(Role::Manager);
    // The domain notes' late fee: 1,275.84 overdue 100 days at 0.03% a day is 38.28.
    let bill = overdue_bill(&app, &tenant, tenant.unit_id, "维修分摊", "1275.84", 100, Some("0.0003")).await;
    let (status, body) = app
        .post(
            &format!("/compounds/{}/fee-items", tenant.compound_id),
            manager,
            json!({ "name": "物业费", "kind": "rate_area", "rate": "1.20", "cycle": "monthly", "effective_from": "2020-01" }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let first = run_job(&app, manager, "bill_run").await;
    let second = run_job(&app, manager, "bill_run").await;
    assert_eq!((first[0]["status"].as_str(), first[0]["counts"]["bills"].as_i64()), (Some("succeeded"), Some(2)), "{first:?}");
    assert_eq!((second[0]["status"].as_str(), second[0]["counts"]["bills"].as_i64()), (Some("succeeded"), Some(0)), "{second:?}");
    let this_month = period_of(today());
    let (_, bills) = app.get(&format!("/units/{}/bills", tenant.unit_id), manager).await;
    assert_eq!(bills.as_array().unwrap().iter().filter(|b| b["period"] == this_month.as_str()).count(), 1, "{bills}");

    // The accrual writes the late fee down on the bill, exactly; a second run on the same day
    // has nothing to do.
    let first = run_job(&app, manager, "late_fees").await;
    assert_eq!(first[0]["counts"]["bills"], 1, "{first:?}");
    let stored = entity::bill::Entity::find_by_id(bill["id"].as_i64().unwrap()).one(&app.db).await.unwrap().unwrap();
    assert_eq!((stored.late_fee_accrued, stored.late_fee_accrued_through), (3828, Some(today())), "{stored:?}");
    assert_eq!(stored.late_fee_fen_days, 127_584 * 100);
    let second = run_job(&app, manager, "late_fees").await;
    assert_eq!(second[0]["counts"]["bills"], 0, "{second:?}");
    let (_, shown) = app.get(&format!("/bills/{}", bill["id"]), tenant.token(Role::Owner)).await;
    assert_eq!(shown["bill"]["late_fee"], "38.28", "{shown}");
}

#[tokio::test]
async fn the_session_clean_up_is_the_platforms_and_removes_only_dead_sessions() {
    let app = TestApp::spawn_with(WORKERS_ON).await;
    let tenant = app.tenant("Alpha").await;
    let live = tenant.token(Role::Cashier).to_string();
    // One session past its expiry, one logged out.
    let expired = app.token("manager@alpha.test").await;
    let logged_out = app.token("manager@alpha.test").await;
    let (status, _) = app.post("/auth/logout", &logged_out, json!({})).await;
    assert_eq!(status, StatusCode::OK);
    let hash = wuye::auth::token_hash(&expired);
    let session = entity::session::Entity::find().filter(entity::session::Column::TokenHash.eq(hash)).one(&app.db).await.unwrap().unwrap();
    let mut active: entity::session::ActiveModel = session.into();
    active.expires_at = Set(Utc::now() - Duration::minutes(1));
    active.update(&app.db).await.unwrap();
    let admin = app.admin().await;
    let before = count::<entity::session::Entity>(&app).await;

    for role in [Role::CompanyAdmin, Role::Manager] {
        let (status, body) = app.post("/jobs/runs", tenant.token(role), json!({ "job": "session_cleanup" })).await;
        assert_problem(status, &body, StatusCode::FORBIDDEN, "forbidden");
    }
    let runs = run_job(&app, &admin, "session_cleanup").await;
    assert_eq!((runs.len(), runs[0]["status"].as_str(), runs[0]["company_id"].clone()), (1, Some("succeeded"), Value::Null), "{runs:?}");
    assert_eq!(runs[0]["counts"]["sessions"], 2, "{runs:?}");
    assert_eq!(count::<entity::session::Entity>(&app).await, before - 2);
    let (status, me) = app.get("/auth/me", &live).await;
    assert_eq!((status, me["role"].as_str()), (StatusCode::OK, Some("cashier")), "{me}");
}

#[tokio::test]
async fn the_job_list_shows_each_schedule_in_its_zone_and_runs_are_the_companys_own() {
    let app = TestApp::spawn_with(&[("WUYE_JOB_LATE_FEES", "0 0 3 * * *"), ("WUYE_JOB_LATE_FEES_ZONE", "UTC"), ("WUYE_JOB_SESSION_CLEANUP", "off")]).await;
    let alpha = app.tenant("Alpha").await;
    let beta = app.tenant("Beta").await;
    let (status, jobs) = app.get("/jobs", alpha.token(Role::Manager)).await;
    assert_eq!(status, StatusCode::OK, "{jobs}");
    let job = |name: &str| jobs.as_array().unwrap().iter().find(|j| j["name"] == name).cloned().unwrap();
    let late_fees = job("late_fees");
    assert_eq!((late_fees["schedule"].as_str(), late_fees["time_zone"].as_str()), (Some("0 0 3 * * *"), Some("UTC")), "{late_fees}");
    let next: Vec<DateTime<Utc>> = late_fees["next_fire_times"].as_array().unwrap().iter().map(|t| t.as_str().unwrap().parse().unwrap()).collect();
    assert_eq!(next.len(), 5);
    for pair in next.windows(2) {
        assert_eq!(pair[1] - pair[0], Duration::days(1));
    }
    assert!(next.iter().all(|t| t.format("%H:%M:%S").to_string() == "03:00:00" && *t > Utc::now()), "{next:?}");
    // The bill run keeps its default: 01:00 on the 1st in Shanghai, which is 17:00 UTC the day before.
    let bill_run = job("bill_run");
    assert_eq!((bill_run["schedule"].as_str(), bill_run["time_zone"].as_str(), bill_run["catch_up"].as_str()), (Some("0 0 1 1 * *"), Some("Asia/Shanghai"), Some("each missed tick, at most 3")));
    assert!(bill_run["next_fire_times"][0].as_str().unwrap().contains("T17:00:00"), "{bill_run}");
    assert_eq!(job("session_cleanup")["schedule"], "off");

    // Each company sees its own runs; a platform administrator sees all.
    let (status, mine) = app.post("/jobs/runs", alpha.token(Role::Manager), json!({ "job": "arrears_reminders" })).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{mine}");
    let (status, theirs) = app.post("/jobs/runs", beta.token(Role::CompanyAdmin), json!({ "job": "arrears_reminders" })).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{theirs}");
    let ids = |runs: &Value| runs.as_array().unwrap().iter().map(|r| r["id"].as_i64().unwrap()).collect::<BTreeSet<_>>();
    let (_, alpha_sees) = app.get("/jobs/runs", alpha.token(Role::Manager)).await;
    assert_eq!(ids(&alpha_sees), ids(&mine));
    let (_, admin_sees) = app.get("/jobs/runs?job=arrears_reminders", &app.admin().await).await;
    assert_eq!(ids(&admin_sees), ids(&mine).union(&ids(&theirs)).copied().collect());
    let (status, body) = app.get(&format!("/jobs/runs/{}", theirs[0]["id"]), alpha.token(Role::Manager)).await;
    assert_problem(status, &body, StatusCode::NOT_FOUND, "not_found");
    // Staff limited to one compound neither see nor start jobs, which work on the whole company.
    let (status, body) = app
        .post(
            "/users",
            alpha.token(Role::CompanyAdmin),
            json!({ "role": "manager", "name": "Limited", "email": "limited@alpha.test", "password": PASSWORD, "compound_ids": [alpha.compound_id] }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let limited = app.token("limited@alpha.test").await;
    for (status, body) in [app.get("/jobs/runs", &limited).await, app.get("/jobs", &limited).await, app.post("/jobs/runs", &limited, json!({ "job": "late_fees" })).await] {
        assert_problem(status, &body, StatusCode::FORBIDDEN, "forbidden");
    }
    // A job that does not exist is named in the refusal.
    let (status, body) = app.post("/jobs/runs", alpha.token(Role::Manager), json!({ "job": "billrun" })).await;
    assert_eq!((status, body["field"].as_str()), (StatusCode::BAD_REQUEST, Some("job")), "{body}");
}
