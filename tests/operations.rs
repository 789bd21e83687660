//! Running wuye for real (issue 18): no secret in any log line, answer or command output; the
//! metrics address; request ids that find a request's log lines; health for load balancers;
//! and the staff action log written before the change it records.
mod common;

use std::process::{Child, Stdio};

use common::*;
use reqwest::StatusCode;
use sea_orm::{ConnectionTrait, EntityTrait, QueryOrder};
use serde_json::{Value, json};
use wuye::auth::Role;

/// The tests of this binary that serve requests in this process take turns with the metrics
/// test: the process has one metrics recorder, and that test counts exactly what it did.
static IN_PROCESS: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Credentials no output may ever hold. None is a real one: the test server trusts every
/// connection from this machine whatever its password.
const DATABASE_PASSWORD: &str = "db-canary-Q7x2";
const SMTP_PASSWORD: &str = "smtp-canary-Q7x2";
const GATEWAY_SECRET: &str = "gateway-canary-Q7x2-0123456789";

fn postgres(db: &impl ConnectionTrait) -> bool {
    db.get_database_backend() == sea_orm::DatabaseBackend::Postgres
}

/// The same PostgreSQL URL with `password` in its user part.
fn with_password(url: &str, password: &str) -> String {
    let mut url = url::Url::parse(url).expect("a database URL");
    url.set_password(Some(password)).expect("a URL that takes a password");
    url.to_string()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// `wuye ARGS` run to its end: its exit status, standard output and standard error.
async fn wuye_output(mut command: std::process::Command) -> (bool, String, String) {
    let output = tokio::task::spawn_blocking(move || command.output()).await.unwrap().expect("start wuye");
    (output.status.success(), String::from_utf8_lossy(&output.stdout).into_owned(), String::from_utf8_lossy(&output.stderr).into_owned())
}

/// Asserts that no credential appears in `text`, naming where it came from.
fn assert_no_secret(what: &str, text: &str) {
    for secret in [DATABASE_PASSWORD, SMTP_PASSWORD, GATEWAY_SECRET] {
        assert!(!text.contains(secret), "{what} holds a secret:\n{text}");
    }
}

/// A `wuye serve` process, and its SQLite file; killed and removed if the test ends early.
struct Serving {
    child: Option<Child>,
    sqlite_file: Option<std::path::PathBuf>,
}

impl Drop for Serving {
    fn drop(&mut self) {
        if let Some(child) = &mut self.child {
            let _ = child.kill();
            let _ = child.wait();
        }
        if let Some(file) = &self.sqlite_file {
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", file.display()));
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_reaches_a_log_line_an_answer_or_a_command_output() {
    let (fresh, sqlite_file) = fresh_database().await;
    let mut server = Serving { child: None, sqlite_file };
    let probe = wuye::db::connect(&fresh).await.unwrap();
    let on_postgres = postgres(&probe);
    probe.close().await.ok();
    // SQLite has no password to leak; PostgreSQL's URL carries one.
    let url = if on_postgres { with_password(&fresh, DATABASE_PASSWORD) } else { fresh.clone() };
    let secrets = |command: &mut std::process::Command| {
        command
            .env("WUYE_GATEWAY_SECRET", GATEWAY_SECRET)
            .env("WUYE_MAIL_TRANSPORT", "smtp")
            .env("WUYE_SMTP_HOST", "127.0.0.1")
            .env("WUYE_SMTP_PORT", free_port().to_string())
            .env("WUYE_SMTP_SECURITY", "none")
            .env("WUYE_SMTP_USERNAME", "office")
            .env("WUYE_SMTP_PASSWORD", SMTP_PASSWORD);
    };

    // wuye migrate says which database it brought up to date, its password hidden.
    let mut migrate = wuye(&url, &["migrate"]);
    secrets(&mut migrate);
    let (ok, stdout, stderr) = wuye_output(migrate).await;
    assert!(ok, "{stdout}{stderr}");
    assert_no_secret("wuye migrate", &format!("{stdout}{stderr}"));
    assert!(stdout.contains("is up to date"), "{stdout}");
    if on_postgres {
        assert!(stdout.contains("postgres:***@"), "the URL is named with its password hidden: {stdout}");
    }
    let mut admin = wuye(&url, &["admin", "create", "--email", ADMIN_EMAIL, "--name", "平台管理员"]);
    admin.env("WUYE_ADMIN_PASSWORD", PASSWORD);
    secrets(&mut admin);
    let (ok, stdout, stderr) = wuye_output(admin).await;
    assert!(ok, "{stdout}{stderr}");
    assert_no_secret("wuye admin create", &format!("{stdout}{stderr}"));

    // wuye serve, logging everything it logs at debug, as JSON, its mail server unreachable.
    let port = free_port();
    let mut serve = wuye(&url, &["serve"]);
    secrets(&mut serve);
    serve
        .env("WUYE_LISTEN", format!("127.0.0.1:{port}"))
        .env("WUYE_METRICS_LISTEN", format!("127.0.0.1:{}", free_port()))
        .env("WUYE_LOG", "debug")
        .env("WUYE_LOG_FORMAT", "json")
        .env("WUYE_SCHEDULER", "on")
        .env("WUYE_WORKER_POLL_MS", "50")
        .stdin(Stdio::null());
    for job in ["BILL_RUN", "LATE_FEES", "ARREARS_REMINDERS", "SESSION_CLEANUP", "TICKET_SLA", "TICKET_AUTO_CLOSE", "FUND_TOP_UPS", "VOTES", "NOTICES"] {
        serve.env(format!("WUYE_JOB_{job}"), "off");
    }
    server.child = Some(serve.spawn().expect("start wuye serve"));
    let base = format!("http://127.0.0.1:{port}");
    let app = TestApp::attach(&base, &fresh).await;
    eventually(60, "wuye serve to answer", || {
        assert!(server.child.as_mut().unwrap().try_wait().unwrap().is_none(), "wuye serve stopped");
        async { app.client.get(format!("{base}/health")).send().await.ok().filter(|r| r.status().is_success()) }
    })
    .await;

    // A working morning: accounts, a payment, an outage notice emailed to an owner, mistakes.
    let tenant = app.tenant("Secrets").await;
    let mut answers = String::new();
    let request_id = "desk-payment-0001";
    let paid = app
        .client
        .post(format!("{base}/units/{}/payments", tenant.unit_id))
        .bearer_auth(tenant.token(Role::Cashier))
        .header("X-Request-Id", request_id)
        .json(&json!({ "method": "cash", "amount": "50.00" }))
        .send()
        .await
        .unwrap();
    assert_eq!(paid.status(), StatusCode::OK);
    assert_eq!(paid.headers()["x-request-id"], request_id, "the answer carries the caller's request id");
    answers.push_str(&paid.text().await.unwrap());
    let outage = json!({ "category": "outage", "title": "停水通知", "body": "明日 9:00-12:00 停水。" });
    let (status, notice) = app.post(&format!("/compounds/{}/notices", tenant.compound_id), tenant.token(Role::Manager), outage).await;
    assert_eq!(status, StatusCode::OK, "{notice}");
    let paths = ["/health", "/health/live", "/health/ready", "/openapi.json", "/auth/me", "/no-such-page", "/outbox", "/jobs"];
    for path in paths {
        let response = app.client.get(format!("{base}{path}")).bearer_auth(tenant.token(Role::Manager)).send().await.unwrap();
        let headers = format!("{:?}", response.headers());
        answers.push_str(&format!("{path}: {headers} {}\n", response.text().await.unwrap()));
    }
    let (_, refused) = app.login(ADMIN_EMAIL, "not-the-password").await;
    answers.push_str(&refused.to_string());
    // The email is tried against the unreachable server, and left for a retry.
    eventually(30, "a failed delivery attempt", || async {
        let (_, outbox) = app.get("/outbox", tenant.token(Role::Manager)).await;
        outbox.to_string().contains("\"attempts\":1").then_some(())
    })
    .await;
    let (_, outbox) = app.get("/outbox", tenant.token(Role::Manager)).await;
    answers.push_str(&outbox.to_string());
    assert_no_secret("the answers", &answers);

    // Stopped as an orchestrator stops it; then every line it wrote is read.
    let child = server.child.take().unwrap();
    let stopped = std::process::Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(stopped.success());
    let output = tokio::task::spawn_blocking(move || child.wait_with_output()).await.unwrap().unwrap();
    assert!(output.status.success(), "wuye serve stops cleanly on SIGTERM: {}", output.status);
    let (stdout, stderr) = (String::from_utf8_lossy(&output.stdout).into_owned(), String::from_utf8_lossy(&output.stderr).into_owned());
    assert_no_secret("wuye serve's output", &format!("{stdout}{stderr}"));
    assert!(stdout.contains(&format!("wuye is listening on http://127.0.0.1:{port}")), "{stdout}");

    // Every log line is one JSON object; the ready line names the database, password hidden.
    let lines: Vec<Value> = stderr.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not a JSON log line ({e}): {l}"))).collect();
    let ready = lines.iter().find(|l| l["message"] == "ready").unwrap_or_else(|| panic!("no ready line:\n{stderr}"));
    if on_postgres {
        assert!(ready["database"].as_str().is_some_and(|d| d.contains(":***@")), "{ready}");
    }
    assert!(lines.iter().any(|l| l["level"] == "WARN" || l["level"] == "ERROR"), "the failed delivery was logged:\n{stderr}");
    // The payment's request id finds its lines, the answer's among them.
    let of_request: Vec<&Value> =
        lines.iter().filter(|l| l["spans"].as_array().is_some_and(|spans| spans.iter().any(|s| s["request_id"] == request_id))).collect();
    let answered = of_request.iter().find(|l| l["message"] == "answered").unwrap_or_else(|| panic!("no answer line for {request_id}:\n{stderr}"));
    assert_eq!(answered["status"], 200, "{answered}");
    assert!(of_request.iter().all(|l| l["spans"][0]["path"] == format!("/units/{}/payments", tenant.unit_id)), "{of_request:?}");

    // A command that cannot reach its database says why, whole, and still shows no password.
    let unreachable = if on_postgres {
        with_password(&format!("postgres://postgres@127.0.0.1:{}/postgres", free_port()), DATABASE_PASSWORD)
    } else {
        format!("sqlite://{}/no-such-folder/wuye.db?mode=rwc", std::env::temp_dir().display())
    };
    let mut migrate = wuye(&unreachable, &["migrate"]);
    secrets(&mut migrate);
    let (ok, stdout, stderr) = wuye_output(migrate).await;
    assert!(!ok, "{stdout}{stderr}");
    assert_no_secret("a failed wuye migrate", &format!("{stdout}{stderr}"));
    let cause = if on_postgres { "refused" } else { "unable to open database file" };
    assert!(stderr.to_lowercase().contains(cause), "the cause is named: {stderr}");

    // wuye import on a database that fails under it names the failure, not just "database error".
    app.db.execute_unprepared("ALTER TABLE units RENAME TO units_moved_away").await.unwrap();
    let csv = std::env::temp_dir().join(format!("wuye-import-{}.csv", std::process::id()));
    std::fs::write(&csv, "building,stairwell,number,floor,use,registered_area\n2栋,1单元,101,1,住宅,60.00\n").unwrap();
    let compound = tenant.compound_id.to_string();
    let mut import = wuye(&url, &["import", "--compound", &compound, &csv.display().to_string()]);
    secrets(&mut import);
    let (ok, stdout, stderr) = wuye_output(import).await;
    std::fs::remove_file(&csv).ok();
    app.db.execute_unprepared("ALTER TABLE units_moved_away RENAME TO units").await.unwrap();
    assert!(!ok, "{stdout}{stderr}");
    assert_no_secret("a failed wuye import", &format!("{stdout}{stderr}"));
    assert!(stderr.contains("database error: ") && stderr.contains("units"), "the cause chain is kept: {stderr}");
}

/// The sum of the samples of `name` whose labels include every one of `labels`.
fn sample(metrics: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    let matching: Vec<f64> = metrics
        .lines()
        .filter(|line| !line.starts_with('#'))
        .filter_map(|line| {
            let (series, value) = line.rsplit_once(' ')?;
            let (series_name, series_labels) = series.split_once('{').map_or((series, ""), |(n, l)| (n, l.trim_end_matches('}')));
            let wanted = labels.iter().all(|(k, v)| series_labels.split(',').any(|pair| pair == format!("{k}=\"{v}\"")));
            (series_name == name && wanted).then(|| value.parse().ok()).flatten()
        })
        .collect();
    (!matching.is_empty()).then(|| matching.iter().sum())
}

async fn scrape(app: &TestApp) -> String {
    let metrics = app.metrics_base.as_deref().expect("a metrics address");
    let response = app.client.get(format!("{metrics}/metrics")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers()["content-type"].to_str().unwrap().starts_with("text/plain"));
    response.text().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_metrics_address_shows_requests_the_pool_jobs_the_outbox_and_money_written() {
    let _alone = IN_PROCESS.lock().await;
    // Workers on, mail to a server that is not there: the outbox fills and waits.
    let port = free_port().to_string();
    let mut settings = workers_on(&[("WUYE_METRICS_LISTEN", "127.0.0.1:0"), ("WUYE_MAIL_TRANSPORT", "smtp"), ("WUYE_SMTP_HOST", "127.0.0.1"), ("WUYE_SMTP_SECURITY", "none")]);
    settings.push(("WUYE_SMTP_PORT", port.as_str()));
    let app = TestApp::spawn_with(&settings).await;
    let tenant = app.tenant("Metrics").await;
    let (manager, cashier) = (tenant.token(Role::Manager), tenant.token(Role::Cashier));

    // Owners' port has no metrics.
    let (status, _) = app.get("/metrics", manager).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let before = scrape(&app).await;
    let paying = "POST /units/{id}/payments";
    let counted = |text: &str, name: &str, labels: &[(&str, &str)]| sample(text, name, labels).unwrap_or(0.0);
    for amount in ["20.00", "30.00"] {
        let (status, paid) = app.post(&format!("/units/{}/payments", tenant.unit_id), cashier, json!({ "method": "cash", "amount": amount })).await;
        assert_eq!(status, StatusCode::OK, "{paid}");
    }
    let (status, refused) = app.post(&format!("/units/{}/payments", tenant.unit_id), cashier, json!({ "method": "cash", "amount": "-1" })).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{refused}");
    let (status, _) = app.post(&format!("/compounds/{}/fee-items", tenant.compound_id), manager, json!({ "name": "物业费", "kind": "rate_area", "rate": "1.20", "cycle": "monthly", "due_days": 15, "effective_from": "2026-01" })).await;
    assert_eq!(status, StatusCode::OK);
    let (status, run) = app.post(&format!("/compounds/{}/bill-runs", tenant.compound_id), manager, json!({ "period": "2099-01" })).await;
    assert_eq!(status, StatusCode::OK, "{run}");
    let billed = run["bills_created"].as_f64().unwrap();
    assert!(billed >= 1.0, "{run}");
    let runs = run_job(&app, manager, "late_fees").await;
    assert_eq!(runs[0]["status"], "succeeded", "{runs:?}");
    let outage = json!({ "category": "outage", "title": "停电通知", "body": "今晚 22:00 检修停电。" });
    let (status, _) = app.post(&format!("/compounds/{}/notices", tenant.compound_id), manager, outage).await;
    assert_eq!(status, StatusCode::OK);
    eventually(30, "the email's failed attempt", || async {
        let text = scrape(&app).await;
        (counted(&text, "wuye_outbox_deliveries_total", &[("outcome", "retried")]) > counted(&before, "wuye_outbox_deliveries_total", &[("outcome", "retried")])).then_some(())
    })
    .await;
    let after = scrape(&app).await;

    // Exactly what this test did (no other test serves requests in this process meanwhile).
    let moved = |name: &str, labels: &[(&str, &str)]| counted(&after, name, labels) - counted(&before, name, labels);
    assert_eq!(moved("wuye_http_requests_total", &[("operation", paying), ("status", "200")]), 2.0, "{after}");
    assert_eq!(moved("wuye_http_requests_total", &[("operation", paying), ("status", "400")]), 1.0, "{after}");
    assert_eq!(moved("wuye_http_request_duration_seconds_count", &[("operation", paying)]), 3.0, "{after}");
    assert_eq!(moved("wuye_http_request_duration_seconds_bucket", &[("operation", paying), ("le", "+Inf")]), 3.0, "a histogram: {after}");
    assert_eq!(moved("wuye_payments_written_total", &[("method", "cash")]), 2.0, "{after}");
    assert_eq!(moved("wuye_bills_written_total", &[]), billed, "{after}");
    assert_eq!(moved("wuye_job_runs_total", &[("job", "late_fees"), ("outcome", "succeeded")]), 1.0, "{after}");
    assert_eq!(moved("wuye_job_run_duration_seconds_count", &[("job", "late_fees")]), 1.0, "{after}");
    // What the database holds now: this server's pool and its outbox.
    let pool = |state| sample(&after, "wuye_db_pool_connections", &[("state", state)]).unwrap_or_else(|| panic!("no pool gauge: {after}"));
    assert!(pool("in_use") + pool("idle") >= 1.0, "{after}");
    assert!(sample(&after, "wuye_outbox_messages", &[("status", "pending")]).is_some_and(|n| n >= 1.0), "{after}");
    let age = sample(&after, "wuye_outbox_oldest_undelivered_age_seconds", &[]).expect("the oldest waiting message's age");
    assert!(age > 0.0, "{after}");
    // Unmatched paths share one label, and made-up methods another, so probing cannot grow
    // the series without bound.
    app.get("/no/such/path/1", manager).await;
    app.get("/no/such/path/2", manager).await;
    let made_up = reqwest::Method::from_bytes(b"FOO123").unwrap();
    let (status, _) = app.request(made_up, &format!("/compounds/{}", tenant.compound_id), Some(manager), None).await;
    assert!(status.is_client_error(), "{status}");
    let probed = scrape(&app).await;
    assert!(!probed.contains("/no/such/path") && !probed.contains("FOO123"), "{probed}");
    assert_eq!(counted(&probed, "wuye_http_requests_total", &[("operation", "unmatched")]) - counted(&after, "wuye_http_requests_total", &[("operation", "unmatched")]), 2.0, "{probed}");
    assert!(sample(&probed, "wuye_http_requests_total", &[("operation", "OTHER /compounds/{id}")]).is_some(), "{probed}");
}

#[tokio::test]
async fn every_answer_has_a_request_id_and_health_says_live_and_ready() {
    let _turn = IN_PROCESS.lock().await;
    let app = TestApp::spawn().await;
    let with_id = |id: &str| app.client.get(format!("{}/health", app.base)).header("X-Request-Id", id).send();
    let kept = with_id("lb-7f3a:2").await.unwrap();
    assert_eq!(kept.headers()["x-request-id"], "lb-7f3a:2", "a sane id is kept");
    let replaced = with_id("two words").await.unwrap();
    let made = replaced.headers()["x-request-id"].to_str().unwrap().to_string();
    assert!(made.len() == 32 && made.bytes().all(|b| b.is_ascii_hexdigit()), "an insane one is replaced: {made}");
    let unknown = app.client.get(format!("{}/no-such-page", app.base)).send().await.unwrap();
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    assert!(unknown.headers().contains_key("x-request-id"), "errors have one too");
    let first = app.client.get(format!("{}/health", app.base)).send().await.unwrap().headers()["x-request-id"].clone();
    let second = app.client.get(format!("{}/health", app.base)).send().await.unwrap().headers()["x-request-id"].clone();
    assert_ne!(first, second, "each request its own");

    let health = |path: &'static str| {
        let app = &app;
        async move {
            let response = app.client.get(format!("{}{path}", app.base)).send().await.unwrap();
            (response.status(), response.json::<Value>().await.unwrap())
        }
    };
    assert_eq!(health("/health/live").await, (StatusCode::OK, json!({ "status": "live" })));
    let (status, ready) = health("/health/ready").await;
    assert_eq!((status, &ready["status"]), (StatusCode::OK, &json!("ready")), "{ready}");

    // A schema behind this build (the newest migration not applied): not ready, still live.
    let newest = app.db.query_one_raw(wuye::db::statement(&app.db, "SELECT version FROM seaql_migrations ORDER BY version DESC LIMIT 1", vec![])).await.unwrap().unwrap();
    let newest: String = newest.try_get("", "version").unwrap();
    app.db.execute_raw(wuye::db::statement(&app.db, "DELETE FROM seaql_migrations WHERE version = $1", vec![newest.clone().into()])).await.unwrap();
    let (status, ready) = health("/health/ready").await;
    assert_eq!((status, &ready["status"], &ready["pending"]), (StatusCode::SERVICE_UNAVAILABLE, &json!("migrations pending"), &json!(1)), "{ready}");
    assert_eq!(health("/health/live").await.0, StatusCode::OK);
    let record = |version: &str| wuye::db::statement(&app.db, "INSERT INTO seaql_migrations (version, applied_at) VALUES ($1, $2)", vec![version.into(), 0i64.into()]);
    app.db.execute_raw(record(&newest)).await.unwrap();
    assert_eq!(health("/health/ready").await.0, StatusCode::OK);
    // A schema ahead of this build (a newer replica migrated it): this one steps aside.
    app.db.execute_raw(record("m20991231_000099_from_a_newer_build")).await.unwrap();
    let (status, ready) = health("/health/ready").await;
    assert_eq!((status, &ready["status"], &ready["unknown"]), (StatusCode::SERVICE_UNAVAILABLE, &json!("schema newer than this build"), &json!(1)), "{ready}");
    app.db.execute_unprepared("DELETE FROM seaql_migrations WHERE version = 'm20991231_000099_from_a_newer_build'").await.unwrap();
    assert_eq!(health("/health/ready").await.0, StatusCode::OK);
}

/// Makes every write of `change` (insert or update) to the staff action log fail, as a full
/// disk or a lost connection would, until [`heal_log`].
async fn break_log(db: &impl ConnectionTrait, change: &str) {
    let statements = if postgres(db) {
        vec![
            "CREATE OR REPLACE FUNCTION test_broken_log() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'the log disk is full'; END $$".to_string(),
            format!("CREATE TRIGGER test_broken_log BEFORE {change} ON staff_actions FOR EACH ROW EXECUTE FUNCTION test_broken_log()"),
        ]
    } else {
        vec![format!("CREATE TRIGGER test_broken_log BEFORE {change} ON staff_actions BEGIN SELECT RAISE(ABORT, 'the log disk is full'); END")]
    };
    for sql in statements {
        db.execute_unprepared(&sql).await.unwrap();
    }
}

async fn heal_log(db: &impl ConnectionTrait) {
    let sql = if postgres(db) { "DROP TRIGGER test_broken_log ON staff_actions" } else { "DROP TRIGGER test_broken_log" };
    db.execute_unprepared(sql).await.unwrap();
}

#[tokio::test]
async fn a_change_the_staff_log_cannot_record_is_refused_and_one_whose_outcome_is_lost_stays_on_record() {
    let _turn = IN_PROCESS.lock().await;
    let app = TestApp::spawn().await;
    let tenant = app.tenant("Log").await;
    let (cashier, committee) = (tenant.token(Role::Cashier), tenant.token(Role::Committee));
    let payments = format!("/units/{}/payments", tenant.unit_id);
    let count_payments = async || entity::payment::Entity::find().all(&app.db).await.unwrap().len();

    // The log cannot be written: the payment is refused untried, and nothing moves.
    break_log(&app.db, "INSERT").await;
    let (status, problem) = app.post(&payments, cashier, json!({ "method": "cash", "amount": "88.00" })).await;
    assert_problem(status, &problem, StatusCode::SERVICE_UNAVAILABLE, "staff_log_unavailable");
    assert_eq!(count_payments().await, 0, "no payment without its log row");
    assert!(entity::journal_entry::Entity::find().all(&app.db).await.unwrap().is_empty(), "nothing journalled");
    // Owners' own actions are not staff changes and go on.
    let ticket = json!({ "unit_id": tenant.unit_id, "category": "plumbing", "location": "in_unit", "description": "水管漏水" });
    let (status, filed) = app.post("/tickets", tenant.token(Role::Owner), ticket).await;
    assert_eq!(status, StatusCode::CREATED, "{filed}");
    heal_log(&app.db).await;

    // The outcome cannot be recorded: the payment stands, and so does the row saying what was
    // asked, shown on the committee's desk as having no recorded outcome.
    break_log(&app.db, "UPDATE").await;
    let (status, paid) = app.post(&payments, cashier, json!({ "method": "cash", "amount": "66.00" })).await;
    assert_eq!(status, StatusCode::OK, "{paid}");
    heal_log(&app.db).await;
    assert_eq!(count_payments().await, 1);
    let newest = entity::staff_action::Entity::find().order_by_desc(entity::staff_action::Column::Id).one(&app.db).await.unwrap().unwrap();
    assert_eq!((newest.path.as_str(), newest.status, newest.after.as_deref()), (payments.as_str(), None, None), "{newest:?}");
    assert_eq!(newest.compound_id, Some(tenant.compound_id), "placed by its path before the change");
    assert!(newest.request.as_deref().is_some_and(|r| r.contains("66.00")), "{newest:?}");
    let (status, desk) = app.get(&format!("/compounds/{}/audit/staff-actions", tenant.compound_id), committee).await;
    assert_eq!(status, StatusCode::OK, "{desk}");
    let shown = desk["items"].as_array().unwrap().iter().find(|a| a["id"] == newest.id).unwrap_or_else(|| panic!("not on the desk: {desk}"));
    assert_eq!(shown["status"], Value::Null, "{shown}");

    // Working again: the next change is asked, made and completed.
    let (status, _) = app.post(&payments, cashier, json!({ "method": "cash", "amount": "11.00" })).await;
    assert_eq!(status, StatusCode::OK);
    let newest = entity::staff_action::Entity::find().order_by_desc(entity::staff_action::Column::Id).one(&app.db).await.unwrap().unwrap();
    assert_eq!(newest.status, Some(200));
    assert!(newest.after.as_deref().is_some_and(|a| a.contains("11.00")), "{newest:?}");
    // A completed row is not completed again, nor changed otherwise.
    let again = wuye::db::statement(&app.db, "UPDATE staff_actions SET status = 500 WHERE id = $1", vec![newest.id.into()]);
    let error = app.db.execute_raw(again).await.expect_err("a completed row is final").to_string();
    assert!(error.contains("staff_actions is append-only"), "{error}");
}

#[tokio::test]
async fn the_staff_log_keeps_its_rows_and_its_guard_through_the_migration_that_writes_it_ahead() {
    use migration::MigratorTrait;
    let (url, sqlite_file) = fresh_database().await;
    let _cleanup = Serving { child: None, sqlite_file };
    let db = wuye::db::connect(&url).await.unwrap();
    // A database as the eighth session left it, with a row its log wrote after a change.
    migration::Migrator::up(&db, Some(9)).await.unwrap();
    let at = chrono::DateTime::parse_from_rfc3339("2026-11-28T09:30:00.123456Z").unwrap().with_timezone(&chrono::Utc);
    let old_row = wuye::db::statement(
        &db,
        "INSERT INTO staff_actions (company_id, compound_id, user_id, user_name, role, method, path, status, ip, user_agent, request, before, after, at) \
         VALUES (1, 2, 3, '刘出纳', 'cashier', 'POST', '/units/7/payments', 200, '127.0.0.1', 'desk', '{\"amount\":\"1.00\"}', NULL, '{\"id\":11}', $1)",
        vec![at.into()],
    );
    db.execute_raw(old_row).await.unwrap();

    wuye::db::migrate(&db).await.unwrap();
    let rows = entity::staff_action::Entity::find().all(&db).await.unwrap();
    assert_eq!(rows.len(), 1, "{rows:?}");
    let row = &rows[0];
    assert_eq!(
        (row.company_id, row.compound_id, row.user_id, row.user_name.as_str(), row.method.as_str(), row.path.as_str(), row.status, row.at),
        (Some(1), Some(2), 3, "刘出纳", "POST", "/units/7/payments", Some(200), at),
        "{row:?}"
    );
    assert_eq!((row.request.as_deref(), row.before.as_deref(), row.after.as_deref()), (Some(r#"{"amount":"1.00"}"#), None, Some(r#"{"id":11}"#)));

    // The guard is back: the old row, complete, cannot change or go.
    for sql in ["UPDATE staff_actions SET path = '/elsewhere'", "UPDATE staff_actions SET status = 500", "DELETE FROM staff_actions"] {
        let error = db.execute_unprepared(sql).await.expect_err(sql).to_string();
        assert!(error.contains("staff_actions is append-only"), "{sql}: {error}");
    }
    // A new row, written ahead, is completed once with its outcome and its compound, and no more.
    let asked = wuye::db::statement(
        &db,
        "INSERT INTO staff_actions (company_id, user_id, user_name, role, method, path, ip, user_agent, at) VALUES (1, 3, '刘出纳', 'cashier', 'POST', '/tickets', '127.0.0.1', 'desk', $1)",
        vec![at.into()],
    );
    db.execute_raw(asked).await.unwrap();
    let id: i64 = db.query_one_raw(wuye::db::statement(&db, "SELECT MAX(id) AS id FROM staff_actions", vec![])).await.unwrap().unwrap().try_get("", "id").unwrap();
    let changing_more = wuye::db::statement(&db, "UPDATE staff_actions SET status = 201, user_name = '别人' WHERE id = $1", vec![id.into()]);
    assert!(db.execute_raw(changing_more).await.is_err(), "a completion changes nothing but the outcome");
    let completing = wuye::db::statement(&db, "UPDATE staff_actions SET status = 201, after = '{}', compound_id = 2 WHERE id = $1", vec![id.into()]);
    db.execute_raw(completing).await.expect("the one completion");
    let again = wuye::db::statement(&db, "UPDATE staff_actions SET status = 500 WHERE id = $1", vec![id.into()]);
    assert!(db.execute_raw(again).await.is_err(), "completed once");
    let completed = entity::staff_action::Entity::find_by_id(id).one(&db).await.unwrap().unwrap();
    assert_eq!((completed.status, completed.compound_id, completed.after.as_deref()), (Some(201), Some(2), Some("{}")));
    db.close().await.ok();
}
