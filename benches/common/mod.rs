//! What the benches share: their arguments and a database of their own.
#![allow(dead_code)]

pub mod dataset;

use sea_orm::{ConnectionTrait, Database, DatabaseConnection};

/// The value after `--name` on the command line.
pub fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned()
}

/// A database of the bench's own: a new SQLite file, or with `--server URL` a new database on
/// that PostgreSQL server. Dropped by [`BenchDatabase::drop_it`].
pub struct BenchDatabase {
    pub url: String,
    pub postgres: bool,
    admin: Option<(DatabaseConnection, String)>,
}

/// PostgreSQL over TCP, as containers and remote deployments reach it.
pub const TCP_SERVER: &str = "postgres://postgres@127.0.0.1:5432/postgres";

impl BenchDatabase {
    /// SQLite, or the PostgreSQL server of `--server`.
    pub async fn create() -> BenchDatabase {
        BenchDatabase::create_on(arg("--server")).await
    }

    /// The PostgreSQL server of `--server`, by default [`TCP_SERVER`].
    pub async fn create_on_postgres() -> BenchDatabase {
        BenchDatabase::create_on(Some(arg("--server").unwrap_or_else(|| TCP_SERVER.to_string()))).await
    }

    async fn create_on(server: Option<String>) -> BenchDatabase {
        match server {
            Some(server) => {
                let name = format!("wuye_bench_{}", std::process::id());
                let admin = Database::connect(&server).await.expect("connect to the PostgreSQL server");
                admin.execute_unprepared(&format!("CREATE DATABASE {name}")).await.expect("create the bench database");
                // The same server, our database: replace the database name, keep any ?host=... query.
                let (address, query) = server.split_once('?').map_or((server.as_str(), String::new()), |(a, q)| (a, format!("?{q}")));
                let url = format!("{}/{name}{query}", address.rsplit_once('/').expect("a server URL with a database").0);
                BenchDatabase { url, postgres: true, admin: Some((admin, name)) }
            }
            None => {
                let file = std::env::temp_dir().join(format!("wuye-bench-{}.db", std::process::id()));
                BenchDatabase { url: format!("sqlite://{}?mode=rwc", file.display()), postgres: false, admin: None }
            }
        }
    }

    /// "PostgreSQL 15.x" or "SQLite 3.x", for the report.
    pub async fn version(&self, db: &DatabaseConnection) -> String {
        let (label, sql) = if self.postgres { ("PostgreSQL", "SELECT version() AS v") } else { ("SQLite", "SELECT sqlite_version() AS v") };
        let row = db.query_one_raw(sea_orm::Statement::from_string(db.get_database_backend(), sql)).await.unwrap().unwrap();
        let version: String = row.try_get("", "v").unwrap();
        if self.postgres { version.split(" on ").next().unwrap_or(&version).to_string() } else { format!("{label} {version}") }
    }

    pub async fn drop_it(self) {
        match self.admin {
            Some((admin, name)) => {
                admin.execute_unprepared(&format!("DROP DATABASE {name} WITH (FORCE)")).await.expect("drop the bench database");
            }
            None => {
                let _ = std::fs::remove_file(self.url.trim_start_matches("sqlite://").trim_end_matches("?mode=rwc"));
            }
        }
    }
}

/// Settings for a bench server on `url`: every job schedule off, email kept in memory, and
/// any `more` on top.
pub fn config(url: &str, more: &[(&str, &str)]) -> wuye::Config {
    let mut vars: std::collections::HashMap<String, String> = [
        ("WUYE_DATABASE_URL", url),
        ("WUYE_JOB_BILL_RUN", "off"),
        ("WUYE_JOB_LATE_FEES", "off"),
        ("WUYE_JOB_ARREARS_REMINDERS", "off"),
        ("WUYE_JOB_SESSION_CLEANUP", "off"),
        ("WUYE_JOB_TICKET_SLA", "off"),
        ("WUYE_JOB_TICKET_AUTO_CLOSE", "off"),
        ("WUYE_MAIL_TRANSPORT", "stub"),
        ("WUYE_WORKER_POLL_MS", "20"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    for (k, v) in more {
        vars.insert(k.to_string(), v.to_string());
    }
    wuye::Config::from_vars(&vars, url).expect("bench config")
}
