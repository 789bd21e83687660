//! The test harness: the real server on port 0 against a fresh database, spoken to over HTTP.
//!
//! Without `WUYE_TEST_DATABASE_URL` each test gets its own SQLite file. With it (a PostgreSQL
//! server URL such as `postgres://postgres@127.0.0.1:5432/postgres`) each test gets its own
//! freshly created, randomly named PostgreSQL database.
#![allow(dead_code)]

pub mod fixtures;
pub mod smtp_sink;

use std::{
    collections::HashMap,
    sync::atomic::{AtomicU32, Ordering},
};

use reqwest::StatusCode;
use sea_orm::{ConnectionTrait, Database};
use serde_json::{Value, json};
use wuye::{
    Application, Config,
    auth::{NewAccount, Role},
};

pub const PASSWORD: &str = "correct-horse-42";
pub const ADMIN_EMAIL: &str = "root@platform.test";

pub struct TestApp {
    pub base: String,
    /// The metrics address (`GET /metrics`), when the server was started with `WUYE_METRICS_LISTEN`.
    pub metrics_base: Option<String>,
    pub client: reqwest::Client,
    pub database_url: String,
    /// The server's own database connection, for what no endpoint shows.
    pub db: sea_orm::DatabaseConnection,
    /// Where the server's email goes; with the stub transport (the tests' default), what it sent.
    pub mailer: wuye::mail::Mailer,
    sqlite_file: Option<std::path::PathBuf>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(file) = &self.sqlite_file {
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", file.display()));
            }
        }
    }
}

static NEXT: AtomicU32 = AtomicU32::new(0);

/// A database URL of a fresh, empty database, and the SQLite file to remove afterwards.
pub async fn fresh_database() -> (String, Option<std::path::PathBuf>) {
    let unique = format!("{}_{}_{}", std::process::id(), NEXT.fetch_add(1, Ordering::SeqCst), rand_suffix());
    match std::env::var("WUYE_TEST_DATABASE_URL") {
        Ok(server) if !server.is_empty() => {
            let name = format!("wuye_test_{unique}");
            let admin = Database::connect(&server).await.expect("connect to WUYE_TEST_DATABASE_URL");
            admin.execute_unprepared(&format!("CREATE DATABASE {name}")).await.expect("create test database");
            admin.close().await.ok();
            let (base, _) = server.rsplit_once('/').expect("a URL with a database name");
            (format!("{base}/{name}"), None)
        }
        _ => {
            let file = std::env::temp_dir().join(format!("wuye-test-{unique}.db"));
            (format!("sqlite://{}?mode=rwc", file.display()), Some(file))
        }
    }
}

fn rand_suffix() -> String {
    use std::time::{SystemTime, UNIX_EPOCH};
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().subsec_nanos();
    format!("{nanos:x}")
}

/// The settings of a test server: a port of its own, email kept in memory, and no scheduler
/// (so that no job fires in the middle of a test; the jobs tests switch it on).
pub fn test_config(database_url: &str, overrides: &[(&str, &str)]) -> Config {
    let defaults = [("WUYE_DATABASE_URL", database_url), ("WUYE_LISTEN", "127.0.0.1:0"), ("WUYE_SCHEDULER", "off"), ("WUYE_MAIL_TRANSPORT", "stub")];
    let mut vars: HashMap<String, String> = defaults.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    for (k, v) in overrides {
        vars.insert(k.to_string(), v.to_string());
    }
    Config::from_vars(&vars, database_url).expect("test config")
}

impl TestApp {
    pub async fn spawn() -> TestApp {
        TestApp::spawn_with(&[]).await
    }

    /// Starts the server with extra `WUYE_*` settings, and a platform administrator in place.
    pub async fn spawn_with(overrides: &[(&str, &str)]) -> TestApp {
        let (database_url, sqlite_file) = fresh_database().await;
        TestApp::start(database_url, sqlite_file, overrides).await
    }

    /// Starts the server on a database of the caller's (a private PostgreSQL cluster, say),
    /// with a platform administrator in place.
    pub async fn spawn_on(database_url: &str, overrides: &[(&str, &str)]) -> TestApp {
        TestApp::start(database_url.to_string(), None, overrides).await
    }

    async fn start(database_url: String, sqlite_file: Option<std::path::PathBuf>, overrides: &[(&str, &str)]) -> TestApp {
        let app = Application::build(test_config(&database_url, overrides)).await.expect("build the application");
        let admin = NewAccount {
            company_id: None,
            role: Role::PlatformAdmin,
            name: "Platform admin".into(),
            email: Some(ADMIN_EMAIL.into()),
            phone: None,
            password: PASSWORD.into(),
            compound_ids: vec![],
            owner_ids: vec![],
        };
        wuye::auth::create_account(app.db(), admin).await.expect("create the platform administrator");
        TestApp::serve(app, database_url, sqlite_file)
    }

    /// A second server on this one's database, as another replica would be.
    pub async fn replica(&self, overrides: &[(&str, &str)]) -> TestApp {
        let app = Application::build(test_config(&self.database_url, overrides)).await.expect("build the replica");
        TestApp::serve(app, self.database_url.clone(), None)
    }

    /// The server again on a database it used before (a restore, a promoted standby): no
    /// platform administrator is added, the accounts and sessions on record are used.
    pub async fn reopen(database_url: &str, overrides: &[(&str, &str)]) -> TestApp {
        let app = Application::build(test_config(database_url, overrides)).await.expect("build the application");
        TestApp::serve(app, database_url.to_string(), None)
    }

    /// A client of a server running in a process of its own (`wuye serve`) at `base`, with a
    /// connection of the test's to that server's database.
    pub async fn attach(base: &str, database_url: &str) -> TestApp {
        let db = wuye::db::connect(database_url).await.expect("connect to the server's database");
        let mailer = wuye::mail::Mailer::new(&test_config(database_url, &[]).mail).expect("a stub mailer");
        TestApp { base: base.to_string(), metrics_base: None, client: reqwest::Client::new(), database_url: database_url.to_string(), db, mailer, sqlite_file: None }
    }

    fn serve(app: wuye::App, database_url: String, sqlite_file: Option<std::path::PathBuf>) -> TestApp {
        let base = format!("http://127.0.0.1:{}", app.port());
        let metrics_base = app.metrics_port().map(|port| format!("http://127.0.0.1:{port}"));
        let (db, mailer) = (app.db().clone(), app.mailer().clone());
        tokio::spawn(app.run_until_stopped());
        TestApp { base, metrics_base, client: reqwest::Client::new(), database_url, db, mailer, sqlite_file }
    }

    pub async fn request(&self, method: reqwest::Method, path: &str, token: Option<&str>, body: Option<Value>) -> (StatusCode, Value) {
        let mut request = self.client.request(method, format!("{}{}", self.base, path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("send request");
        read(response).await
    }

    pub async fn get(&self, path: &str, token: &str) -> (StatusCode, Value) {
        self.request(reqwest::Method::GET, path, Some(token), None).await
    }

    pub async fn post(&self, path: &str, token: &str, body: Value) -> (StatusCode, Value) {
        self.request(reqwest::Method::POST, path, Some(token), Some(body)).await
    }

    pub async fn patch(&self, path: &str, token: &str, body: Value) -> (StatusCode, Value) {
        self.request(reqwest::Method::PATCH, path, Some(token), Some(body)).await
    }

    /// Posts raw bytes (a CSV upload).
    pub async fn upload(&self, path: &str, token: &str, bytes: Vec<u8>) -> (StatusCode, Value) {
        let response = self
            .client
            .post(format!("{}{}", self.base, path))
            .bearer_auth(token)
            .header("content-type", "application/octet-stream")
            .body(bytes)
            .send()
            .await
            .expect("send upload");
        read(response).await
    }

    pub async fn login(&self, login: &str, password: &str) -> (StatusCode, Value) {
        self.request(reqwest::Method::POST, "/auth/login", None, Some(json!({ "login": login, "password": password }))).await
    }

    /// Logs in and returns the bearer token, failing the test otherwise.
    pub async fn token(&self, login: &str) -> String {
        let (status, body) = self.login(login, PASSWORD).await;
        assert_eq!(status, StatusCode::OK, "login {login}: {body}");
        body["token"].as_str().expect("token").to_string()
    }

    pub async fn admin(&self) -> String {
        self.token(ADMIN_EMAIL).await
    }

    /// Creates a company with one compound, building, stairwell, two units (one owned, one
    /// developer-held), one owner, and one login per company role.
    pub async fn tenant(&self, name: &str) -> Tenant {
        let admin = self.admin().await;
        let (status, company) = self.post("/companies", &admin, json!({ "name": name })).await;
        assert_eq!(status, StatusCode::OK, "{company}");
        let company_id = company["id"].as_i64().unwrap();
        let slug: String = name.chars().filter(|c| c.is_ascii_alphanumeric()).collect::<String>().to_lowercase();
        let login = |role: &str| format!("{role}@{slug}.test");
        let (status, body) = self
            .post(
                "/users",
                &admin,
                json!({ "role": "company_admin", "name": "Boss", "email": login("company_admin"), "password": PASSWORD, "company_id": company_id }),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let boss = self.token(&login("company_admin")).await;
        let (_, compound) = self.post("/compounds", &boss, json!({ "name": format!("{name} 花园"), "address": "1 Road" })).await;
        let compound_id = compound["id"].as_i64().expect("compound id");
        let (_, building) = self.post(&format!("/compounds/{compound_id}/buildings"), &boss, json!({ "name": "1栋" })).await;
        let building_id = building["id"].as_i64().expect("building id");
        let (_, stairwell) = self.post(&format!("/buildings/{building_id}/stairwells"), &boss, json!({ "name": "1单元" })).await;
        let stairwell_id = stairwell["id"].as_i64().expect("stairwell id");
        let (_, unit) = self
            .post(&format!("/stairwells/{stairwell_id}/units"), &boss, json!({ "floor": 3, "number": "301", "unit_use": "residential", "registered_area": "88.60" }))
            .await;
        let unit_id = unit["id"].as_i64().expect("unit id");
        let (_, held) = self
            .post(
                &format!("/stairwells/{stairwell_id}/units"),
                &boss,
                json!({ "floor": 3, "number": "302", "unit_use": "residential", "surveyed_area": "72.35", "developer_held": true }),
            )
            .await;
        let developer_unit_id = held["id"].as_i64().expect("unit id");
        let (_, owner) = self
            .post(&format!("/compounds/{compound_id}/owners"), &boss, json!({ "name": "王建国", "phone": "13800131234", "email": format!("owner@{slug}.test") }))
            .await;
        let owner_id = owner["id"].as_i64().expect("owner id");
        let (status, body) =
            self.post(&format!("/units/{unit_id}/owners"), &boss, json!({ "owner_id": owner_id, "started_on": "2012-05-01" })).await;
        assert_eq!(status, StatusCode::OK, "{body}");

        let mut tokens = HashMap::new();
        tokens.insert(Role::PlatformAdmin, admin.clone());
        tokens.insert(Role::CompanyAdmin, boss.clone());
        for role in [Role::Manager, Role::Cashier, Role::Dispatcher, Role::Technician, Role::Committee, Role::Owner] {
            let mut account = json!({ "role": role.as_str(), "name": role.as_str(), "email": login(role.as_str()), "password": PASSWORD });
            if role == Role::Committee {
                account["compound_ids"] = json!([compound_id]);
            }
            if role == Role::Owner {
                account["owner_ids"] = json!([owner_id]);
            }
            let (status, body) = self.post("/users", &boss, account).await;
            assert_eq!(status, StatusCode::OK, "create {role:?}: {body}");
            tokens.insert(role, self.token(&login(role.as_str())).await);
        }
        Tenant { company_id, compound_id, building_id, stairwell_id, unit_id, developer_unit_id, owner_id, tokens }
    }
}

async fn read(response: reqwest::Response) -> (StatusCode, Value) {
    let status = response.status();
    let text = response.text().await.expect("read body");
    let value = if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap_or(Value::String(text)) };
    (status, value)
}

pub struct Tenant {
    pub company_id: i64,
    pub compound_id: i64,
    pub building_id: i64,
    pub stairwell_id: i64,
    pub unit_id: i64,
    pub developer_unit_id: i64,
    pub owner_id: i64,
    pub tokens: HashMap<Role, String>,
}

impl Tenant {
    pub fn token(&self, role: Role) -> &str {
        &self.tokens[&role]
    }
}

/// Lifts the database's append-only guard from `table`, as whoever owns the database could, so
/// that a test can change its rows behind the service's back.
pub async fn lift_append_only_guard(db: &impl ConnectionTrait, table: &str) {
    let statements = match db.get_database_backend() {
        sea_orm::DatabaseBackend::Postgres => vec![format!("ALTER TABLE {table} DISABLE TRIGGER {table}_append_only")],
        _ => ["update", "delete"].map(|change| format!("DROP TRIGGER {table}_append_only_{change}")).to_vec(),
    };
    for sql in statements {
        db.execute_unprepared(&sql).await.expect("lift the append-only guard");
    }
}

/// Today in the fixtures' compounds (Asia/Shanghai).
pub fn today() -> chrono::NaiveDate {
    chrono::Utc::now().with_timezone(&chrono_tz::Asia::Shanghai).date_naive()
}

/// The period ("2026-11") a day falls in.
pub fn period_of(date: chrono::NaiveDate) -> String {
    use chrono::Datelike;
    format!("{:04}-{:02}", date.year(), date.month())
}

/// A one-off bill of `amount` on one unit that fell due `days_ago` days ago (a fee item and a
/// bill run of its own, by the manager), optionally with a daily late-fee rate. Returns the bill.
pub async fn overdue_bill(app: &TestApp, tenant: &Tenant, unit_id: i64, name: &str, amount: &str, days_ago: i64, late_fee_rate: Option<&str>) -> Value {
    use chrono::Datelike;
    let due = today() - chrono::Duration::days(days_ago);
    let manager = tenant.token(Role::Manager);
    let mut item = json!({
        "name": name, "kind": "fixed", "amount": amount, "cycle": "one_off", "due_days": due.day() - 1,
        "scope": "units", "scope_ids": [unit_id], "effective_from": period_of(due)
    });
    if let Some(rate) = late_fee_rate {
        item["late_fee"] = json!({ "daily_rate": rate });
    }
    let (status, body) = app.post(&format!("/compounds/{}/fee-items", tenant.compound_id), manager, item).await;
    assert_eq!(status, StatusCode::OK, "fee item {name}: {body}");
    let item_id = body["id"].clone();
    let (status, body) = app.post(&format!("/compounds/{}/bill-runs", tenant.compound_id), manager, json!({ "period": period_of(due) })).await;
    assert_eq!(status, StatusCode::OK, "bill run for {name}: {body}");
    let (status, bills) = app.get(&format!("/units/{unit_id}/bills"), manager).await;
    assert_eq!(status, StatusCode::OK, "{bills}");
    let bill = bills.as_array().unwrap().iter().find(|b| b["fee_item_id"] == item_id).cloned().unwrap_or_else(|| panic!("no bill of {name}: {bills}"));
    assert_eq!(bill["due_date"], due.to_string(), "{bill}");
    bill
}

// ---------------------------------------------------------------------------------------------
// The `wuye` command itself
// ---------------------------------------------------------------------------------------------

/// The `wuye` binary on a database, quiet but for warnings.
pub fn wuye(database_url: &str, args: &[&str]) -> std::process::Command {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_wuye"));
    command
        .args(args)
        .env("WUYE_DATABASE_URL", database_url)
        .env("WUYE_MAIL_TRANSPORT", "stub")
        .env("WUYE_LOG", "warn")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    command
}

/// Runs `wuye ARGS` to its end on a blocking thread, asserting it succeeded; returns its stdout.
pub async fn wuye_succeeds(database_url: &str, args: &[&str]) -> String {
    let mut command = wuye(database_url, args);
    let what = args.join(" ");
    let output = tokio::task::spawn_blocking(move || command.output()).await.unwrap().expect("start wuye");
    let (stdout, stderr) = (String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success(), "wuye {what} failed ({}):\n{stdout}\n{stderr}", output.status);
    stdout.into_owned()
}

/// Waits until `check` returns Some (polling every 50 ms), for at most `seconds`.
pub async fn eventually<T, F, Fut>(seconds: u64, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(seconds);
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(std::time::Instant::now() < deadline, "gave up after {seconds} s waiting for {what}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// Server settings with the scheduler and outbox worker running but every schedule off, so
/// that jobs run only when a test starts them.
pub const WORKERS_ON: &[(&str, &str)] = &[
    ("WUYE_SCHEDULER", "on"),
    ("WUYE_WORKER_POLL_MS", "50"),
    ("WUYE_JOB_BILL_RUN", "off"),
    ("WUYE_JOB_LATE_FEES", "off"),
    ("WUYE_JOB_ARREARS_REMINDERS", "off"),
    ("WUYE_JOB_SESSION_CLEANUP", "off"),
    ("WUYE_JOB_TICKET_SLA", "off"),
    ("WUYE_JOB_TICKET_AUTO_CLOSE", "off"),
    ("WUYE_JOB_FUND_TOP_UPS", "off"),
    ("WUYE_JOB_VOTES", "off"),
    ("WUYE_JOB_NOTICES", "off"),
];

/// `WORKERS_ON` with more settings.
pub fn workers_on(more: &[(&'static str, &'static str)]) -> Vec<(&'static str, &'static str)> {
    let mut settings: Vec<(&str, &str)> = WORKERS_ON.iter().filter(|(k, _)| !more.iter().any(|(m, _)| m == k)).copied().collect();
    settings.extend_from_slice(more);
    settings
}

/// Starts `job` over HTTP as `token` and waits for each of its runs to end; returns the runs.
pub async fn run_job(app: &TestApp, token: &str, job: &str) -> Vec<Value> {
    let (status, runs) = app.post("/jobs/runs", token, json!({ "job": job })).await;
    assert_eq!(status, StatusCode::ACCEPTED, "start {job}: {runs}");
    let mut finished = Vec::new();
    for run in runs.as_array().unwrap() {
        let path = format!("/jobs/runs/{}", run["id"]);
        let done = eventually(60, &format!("{job} run {} to end", run["id"]), || async {
            let (status, run) = app.get(&path, token).await;
            assert_eq!(status, StatusCode::OK, "{run}");
            matches!(run["status"].as_str(), Some("succeeded" | "failed")).then_some(run)
        })
        .await;
        finished.push(done);
    }
    finished
}

/// Asserts an error response has the one problem shape, and returns it.
pub fn assert_problem(status: StatusCode, body: &Value, expected_status: StatusCode, code: &str) {
    assert_eq!(status, expected_status, "{body}");
    assert_eq!(body["code"], code, "{body}");
    assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()), "{body}");
}

// ---------------------------------------------------------------------------------------------
// Compounds built from a spreadsheet, votes and paper ballots (the fund and vote tests)
// ---------------------------------------------------------------------------------------------

/// One flat of a test compound: building, stairwell, number, floor, m², its owner (name and
/// phone: one phone is one person), whether they are the unit's designated voter.
pub struct Flat<'a> {
    pub building: &'a str,
    pub stairwell: &'a str,
    pub number: String,
    pub floor: i32,
    pub area: String,
    /// None: developer-held; Some(("", "")): no owner on record.
    pub owner: Option<(String, String)>,
    pub designated_voter: bool,
    pub email: Option<String>,
}

impl Flat<'_> {
    fn row(&self) -> String {
        let (held, name, phone) = match &self.owner {
            None => ("yes", String::new(), String::new()),
            Some((name, phone)) => ("no", name.clone(), phone.clone()),
        };
        let (voter, since) = if name.is_empty() { ("", "") } else { (if self.designated_voter { "yes" } else { "no" }, "2015-01-01") };
        let email = self.email.as_deref().unwrap_or_default();
        format!("{},{},{},{},residential,{},,{held},no,{name},{phone},{email},{voter},{since}", self.building, self.stairwell, self.number, self.floor, self.area)
    }
}

/// A new compound of the tenant's company holding exactly `flats`, imported from a CSV file.
pub async fn compound_of(app: &TestApp, tenant: &Tenant, name: &str, flats: &[Flat<'_>]) -> i64 {
    let boss = tenant.token(Role::CompanyAdmin);
    let (status, compound) = app.post("/compounds", boss, json!({ "name": name, "address": "9 Road" })).await;
    assert_eq!(status, StatusCode::OK, "{compound}");
    let compound_id = compound["id"].as_i64().unwrap();
    let mut file = String::from("Building,Stairwell,Number,Floor,Use,Registered_Area,Surveyed_Area,Developer_Held,Vacant,Owner_Name,Owner_Phone,Owner_Email,Designated_Voter,Owned_Since\n");
    for flat in flats {
        file.push_str(&flat.row());
        file.push('\n');
    }
    let (status, report) = app.upload(&format!("/compounds/{compound_id}/import"), boss, file.into_bytes()).await;
    assert_eq!(status, StatusCode::OK, "import: {report}");
    let units: std::collections::HashSet<(&str, &str, &str)> = flats.iter().map(|f| (f.building, f.stairwell, f.number.as_str())).collect();
    assert_eq!(report["units_created"], units.len(), "co-owners share a unit's rows: {report}");
    compound_id
}

/// A flat of building 1, stairwell 1, owned by a person of its own (name and phone from `n`).
pub fn owned_flat(n: usize, floor: i32, area: &str) -> Flat<'static> {
    Flat {
        building: "1栋",
        stairwell: "1单元",
        number: format!("{floor}{n:03}"),
        floor,
        area: area.into(),
        owner: Some((format!("业主{n}"), format!("139{n:08}"))),
        designated_voter: true,
        email: None,
    }
}

/// The compound's units by number.
pub async fn units_by_number(app: &TestApp, token: &str, compound_id: i64) -> HashMap<String, i64> {
    let (status, body) = app.get(&format!("/units?compound_id={compound_id}&per_page=500"), token).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["items"].as_array().unwrap().iter().map(|u| (u["number"].as_str().unwrap().to_string(), u["id"].as_i64().unwrap())).collect()
}

/// A login for an owner of the compound, by the owner's name; returns its token.
pub async fn owner_login(app: &TestApp, tenant: &Tenant, compound_id: i64, owner_name: &str) -> String {
    let boss = tenant.token(Role::CompanyAdmin);
    let (status, owners) = app.get(&format!("/owners?compound_id={compound_id}&per_page=500"), boss).await;
    assert_eq!(status, StatusCode::OK, "{owners}");
    let items = owners.get("items").unwrap_or(&owners).as_array().unwrap().clone();
    let owner = items.iter().find(|o| o["name"] == owner_name).unwrap_or_else(|| panic!("no owner {owner_name}: {owners}"));
    let n = NEXT_LOGIN.fetch_add(1, Ordering::SeqCst);
    let login = format!("owner{n}-{}@owners.test", tenant.company_id);
    let account = json!({ "role": "owner", "name": owner_name, "email": login, "password": PASSWORD, "owner_ids": [owner["id"]] });
    let (status, body) = app.post("/users", boss, account).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    app.token(&login).await
}

static NEXT_LOGIN: AtomicU32 = AtomicU32::new(1);

/// A minimal JPEG: what a scanned signed ballot is as far as the service can tell.
pub const SCAN: &[u8] = &[0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, b'J', b'F', b'I', b'F', 0x00, 0x01, 0xFF, 0xD9];

/// Creates a vote open now, closing in an hour, as `token`.
pub async fn open_vote(app: &TestApp, token: &str, compound_id: i64, body: Value) -> Value {
    let mut body = body;
    body["closes_at"] = json!((chrono::Utc::now() + chrono::Duration::days(7)).to_rfc3339());
    let (status, vote) = app.post(&format!("/compounds/{compound_id}/votes"), token, body).await;
    assert_eq!(status, StatusCode::OK, "create vote: {vote}");
    assert_eq!(vote["status"], "open", "{vote}");
    vote
}

/// The vote's electors by name.
pub async fn electors(app: &TestApp, token: &str, vote_id: i64) -> HashMap<String, Value> {
    let (status, electorate) = app.get(&format!("/votes/{vote_id}/electorate"), token).await;
    assert_eq!(status, StatusCode::OK, "{electorate}");
    electorate["electors"].as_array().unwrap().iter().map(|e| (e["name"].as_str().unwrap().to_string(), e.clone())).collect()
}

/// Records a signed paper ballot for an elector, as staff.
pub async fn paper_ballot(app: &TestApp, token: &str, vote_id: i64, elector_id: i64, choice: &str) -> Value {
    let (status, ballot) = app.upload(&format!("/votes/{vote_id}/paper-ballots?elector_id={elector_id}&choice={choice}"), token, SCAN.to_vec()).await;
    assert_eq!(status, StatusCode::OK, "paper ballot: {ballot}");
    ballot
}

/// Brings the vote's closing time into the past (time passing, without waiting for it), then
/// reads it: the read closes it. Returns the closed vote.
pub async fn close_vote(app: &TestApp, token: &str, vote_id: i64) -> Value {
    use sea_orm::{ActiveModelTrait, Set};
    entity::vote::ActiveModel { id: Set(vote_id), closes_at: Set(chrono::Utc::now() - chrono::Duration::seconds(1)), ..Default::default() }
        .update(&app.db)
        .await
        .expect("move the closing time");
    let (status, vote) = app.get(&format!("/votes/{vote_id}"), token).await;
    assert_eq!(status, StatusCode::OK, "{vote}");
    assert_eq!(vote["status"], "closed", "{vote}");
    vote
}

/// Sells a unit today to a new owner (created with `name` and `phone`); returns the owner's id.
pub async fn sell(app: &TestApp, tenant: &Tenant, compound_id: i64, unit_id: i64, name: &str, phone: &str) -> i64 {
    let boss = tenant.token(Role::CompanyAdmin);
    let (status, owner) = app.post(&format!("/compounds/{compound_id}/owners"), boss, json!({ "name": name, "phone": phone })).await;
    assert_eq!(status, StatusCode::OK, "{owner}");
    let (status, sale) =
        app.post(&format!("/units/{unit_id}/sales"), boss, json!({ "date": today().to_string(), "buyers": [{ "owner_id": owner["id"], "designated_voter": true }] })).await;
    assert_eq!(status, StatusCode::OK, "{sale}");
    owner["id"].as_i64().unwrap()
}
