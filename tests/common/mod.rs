//! The test harness: the real server on port 0 against a fresh database, spoken to over HTTP.
//!
//! Without `WUYE_TEST_DATABASE_URL` each test gets its own SQLite file. With it (a PostgreSQL
//! server URL such as `postgres://postgres@127.0.0.1:5432/postgres`) each test gets its own
//! freshly created, randomly named PostgreSQL database.
#![allow(dead_code)]

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
    pub client: reqwest::Client,
    pub database_url: String,
    sqlite_file: Option<std::path::PathBuf>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(file) = &self.sqlite_file {
            let _ = std::fs::remove_file(file);
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

pub fn test_config(database_url: &str, overrides: &[(&str, &str)]) -> Config {
    let mut vars: HashMap<String, String> =
        [("WUYE_DATABASE_URL", database_url), ("WUYE_LISTEN", "127.0.0.1:0")].iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
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
        let base = format!("http://127.0.0.1:{}", app.port());
        tokio::spawn(app.run_until_stopped());
        TestApp { base, client: reqwest::Client::new(), database_url, sqlite_file }
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

/// Asserts an error response has the one problem shape, and returns it.
pub fn assert_problem(status: StatusCode, body: &Value, expected_status: StatusCode, code: &str) {
    assert_eq!(status, expected_status, "{body}");
    assert_eq!(body["code"], code, "{body}");
    assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()), "{body}");
}
