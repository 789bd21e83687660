//! Faults and recovery: wuye killed with SIGKILL in the middle of a bill run, its PostgreSQL
//! restarted under a stream of cashier payments, the primary killed and its synchronous standby
//! promoted, two replicas serving one day's work with clients alternating between them, and
//! backups taken under payments and restored. Each ends by itself and compares what is on
//! record with what a run without the fault records. (An SMTP server going away for a while is
//! `an_smtp_outage_delays_every_message_and_loses_or_doubles_none` in tests/mail.rs.)
mod common;

use std::{
    collections::BTreeMap,
    process::Command,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, AtomicU32, Ordering},
    },
};

use common::*;
use sea_orm::{ActiveModelTrait, ConnectionTrait, DatabaseConnection, EntityTrait, Set};

// ---------------------------------------------------------------------------------------------
// 1. kill -9 in the middle of a bill run
// ---------------------------------------------------------------------------------------------

/// Enough units that the bill run takes a few seconds, compound by compound.
const COMPOUNDS: usize = 24;
const UNITS_PER_COMPOUND: usize = 100;

/// A fresh database, migrated, with one company of `COMPOUNDS` compounds of
/// `UNITS_PER_COMPOUND` units each and two monthly fee items per compound: the same rows,
/// in the same order, every time.
async fn city(database_url: &str) -> DatabaseConnection {
    use entity::{building, company, compound, fee_item, stairwell, unit};
    let db = wuye::db::connect(database_url).await.expect("connect");
    wuye::db::migrate(&db).await.expect("migrate");
    let now = chrono::Utc::now();
    let company = company::ActiveModel { name: Set("城市物业".into()), created_at: Set(now), ..Default::default() }.insert(&db).await.unwrap();
    let from = chrono::NaiveDate::from_ymd_opt(2020, 1, 1).unwrap();
    for c in 0..COMPOUNDS {
        let compound = compound::ActiveModel {
            company_id: Set(company.id),
            name: Set(format!("小区{c:03}")),
            address: Set(format!("街道{c}号")),
            time_zone: Set("Asia/Shanghai".into()),
            created_at: Set(now),
            ..Default::default()
        }
        .insert(&db)
        .await
        .unwrap();
        let building = building::ActiveModel { company_id: Set(company.id), compound_id: Set(compound.id), name: Set("1栋".into()), created_at: Set(now), ..Default::default() }
            .insert(&db)
            .await
            .unwrap();
        let stairwell = stairwell::ActiveModel {
            company_id: Set(company.id),
            compound_id: Set(compound.id),
            building_id: Set(building.id),
            name: Set("1单元".into()),
            created_at: Set(now),
            ..Default::default()
        }
        .insert(&db)
        .await
        .unwrap();
        let units = (0..UNITS_PER_COMPOUND).map(|u| unit::ActiveModel {
            company_id: Set(company.id),
            compound_id: Set(compound.id),
            building_id: Set(building.id),
            stairwell_id: Set(stairwell.id),
            floor: Set((u / 4 + 1) as i32),
            number: Set(format!("{}{:02}", u / 4 + 1, u % 4 + 1)),
            unit_use: Set("residential".into()),
            // 50.00 to 109.99 m², in hundredths.
            registered_area: Set(Some(5000 + ((c * 7919 + u * 104_729) % 6000) as i64)),
            surveyed_area: Set(None),
            contract_area: Set(None),
            developer_held: Set(u % 50 == 7),
            vacant: Set(false),
            created_at: Set(now),
            ..Default::default()
        });
        unit::Entity::insert_many(units).exec_without_returning(&db).await.unwrap();
        let item = |name: &str, kind: &str, rate: Option<&str>, amount: Option<i64>| fee_item::ActiveModel {
            company_id: Set(company.id),
            compound_id: Set(compound.id),
            name: Set(name.into()),
            kind: Set(kind.into()),
            rate: Set(rate.map(Into::into)),
            amount: Set(amount),
            scope_kind: Set("compound".into()),
            scope_ids: Set("[]".into()),
            unit_uses: Set(r#"["residential","commercial"]"#.into()),
            cycle: Set("monthly".into()),
            due_days: Set(15),
            rounding: Set("half_up".into()),
            late_fee_grace_days: Set(0),
            effective_from: Set(from),
            created_at: Set(now),
            ..Default::default()
        };
        fee_item::Entity::insert_many([item("物业费", "rate_area", Some("1.20"), None), item("垃圾清运费", "fixed", None, Some(1500))])
            .exec_without_returning(&db)
            .await
            .unwrap();
    }
    db
}

/// One number from a raw query.
async fn scalar(db: &DatabaseConnection, sql: &str) -> i64 {
    let row = db.query_one_raw(wuye::db::statement(db, sql, vec![])).await.unwrap().expect("a row");
    row.try_get_by_index::<i64>(0).unwrap()
}

/// Every bill by compound, unit, fee item and period, with its amount, payer and due date.
async fn bills_on_record(db: &DatabaseConnection) -> Vec<(String, String, String, String, i64, String, String)> {
    let sql = "SELECT c.name, u.number, f.name, b.period, b.amount, b.payer, b.due_date FROM bills b \
               JOIN compounds c ON c.id = b.compound_id JOIN units u ON u.id = b.unit_id JOIN fee_items f ON f.id = b.fee_item_id \
               ORDER BY c.name, u.number, f.name, b.period";
    let rows = db.query_all_raw(wuye::db::statement(db, sql, vec![])).await.unwrap();
    rows.iter()
        .map(|r| {
            let due: chrono::NaiveDate = r.try_get_by_index(6).unwrap();
            (
                r.try_get_by_index(0).unwrap(),
                r.try_get_by_index(1).unwrap(),
                r.try_get_by_index(2).unwrap(),
                r.try_get_by_index(3).unwrap(),
                r.try_get_by_index(4).unwrap(),
                r.try_get_by_index(5).unwrap(),
                due.to_string(),
            )
        })
        .collect()
}

/// Debits and credits per compound and account over the whole journal.
async fn ledger_balances(db: &DatabaseConnection) -> BTreeMap<(String, String), (i64, i64)> {
    let sql = "SELECT c.name, l.account, CAST(SUM(l.debit) AS BIGINT), CAST(SUM(l.credit) AS BIGINT) FROM journal_lines l \
               JOIN compounds c ON c.id = l.compound_id GROUP BY c.name, l.account";
    let rows = db.query_all_raw(wuye::db::statement(db, sql, vec![])).await.unwrap();
    rows.iter()
        .map(|r| ((r.try_get_by_index(0).unwrap(), r.try_get_by_index(1).unwrap()), (r.try_get_by_index(2).unwrap(), r.try_get_by_index(3).unwrap())))
        .collect()
}

/// Removes a SQLite file and its journal files when the test ends, however it ends.
struct Remove(Option<std::path::PathBuf>);

impl Drop for Remove {
    fn drop(&mut self) {
        if let Some(file) = &self.0 {
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", file.display()));
            }
        }
    }
}

#[tokio::test]
async fn a_bill_run_killed_midway_and_run_again_bills_each_unit_once_like_a_clean_run() {
    let (killed_url, killed_file) = fresh_database().await;
    let (clean_url, clean_file) = fresh_database().await;
    let _remove = (Remove(killed_file), Remove(clean_file));
    let killed = city(&killed_url).await;
    let clean = city(&clean_url).await;
    let expected = (COMPOUNDS * UNITS_PER_COMPOUND * 2) as i64;

    // The monthly bill run as `wuye jobs run` starts it, killed with SIGKILL once some
    // compounds are billed and before all are.
    let mut child = wuye(&killed_url, &["jobs", "run", "bill_run"]).spawn().expect("start wuye jobs run bill_run");
    let billed = eventually(60, "the bill run to have billed some compounds", || {
        let ended = child.try_wait().expect("the bill run's status");
        let killed = &killed;
        async move {
            assert!(ended.is_none(), "the bill run ended ({ended:?}) before it could be killed");
            let n = scalar(killed, "SELECT COUNT(*) FROM bills").await;
            (n > 0).then_some(n)
        }
    })
    .await;
    child.kill().expect("kill -9 wuye");
    let status = child.wait().unwrap();
    assert!(!status.success(), "killed, not finished: {status}");
    let left = scalar(&killed, "SELECT COUNT(*) FROM bills").await;
    assert!(left >= billed && left < expected, "killed midway: {left} of {expected} bills on record");
    // Only whole compounds: a compound's bills and its journal entry commit together or not at all.
    assert_eq!(left % (UNITS_PER_COMPOUND as i64 * 2), 0, "{left} bills is not a whole number of compounds");
    eprintln!("killed after {left} of {expected} bills");

    // Run again: the rest is billed, nothing twice.
    wuye_succeeds(&killed_url, &["jobs", "run", "bill_run"]).await;
    wuye_succeeds(&clean_url, &["jobs", "run", "bill_run"]).await;
    let duplicates = scalar(&killed, "SELECT COUNT(*) FROM (SELECT unit_id FROM bills GROUP BY unit_id, fee_item_id, period HAVING COUNT(*) > 1) d").await;
    assert_eq!(duplicates, 0, "a unit billed twice for one fee item and period");
    let (after_kill, after_clean) = (bills_on_record(&killed).await, bills_on_record(&clean).await);
    assert_eq!(after_kill.len() as i64, expected);
    assert_eq!(after_kill, after_clean, "the bills after the kill and the rerun are those of a clean run");
    let total = |bills: &[(String, String, String, String, i64, String, String)]| bills.iter().map(|b| b.4).sum::<i64>();
    assert_eq!(total(&after_kill), total(&after_clean));
    assert_eq!(ledger_balances(&killed).await, ledger_balances(&clean).await, "the journal's totals per compound and account");
    for url in [&killed_url, &clean_url] {
        let verified = wuye_succeeds(url, &["ledger", "verify"]).await;
        assert_eq!(verified.lines().filter(|l| l.contains(": intact,")).count(), COMPOUNDS, "{verified}");
    }
}

// ---------------------------------------------------------------------------------------------
// 2. PostgreSQL restarted under load
// ---------------------------------------------------------------------------------------------

/// PostgreSQL's programs: Debian keeps each installed major version under /usr/lib/postgresql;
/// the newest is taken, as `.ci/run` does for the shared server.
fn postgres_bin() -> std::path::PathBuf {
    let versions = std::fs::read_dir("/usr/lib/postgresql").expect("PostgreSQL installed under /usr/lib/postgresql");
    let newest = versions.filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<u32>().ok()).max();
    std::path::Path::new("/usr/lib/postgresql").join(newest.expect("a PostgreSQL version").to_string()).join("bin")
}

/// A PostgreSQL cluster of the test's own (the suite's shared server must stay up for the
/// other tests), on a free port with trust authentication. Stopped and deleted when dropped,
/// also when the test fails.
struct PrivatePostgres {
    dir: std::path::PathBuf,
    port: u16,
    /// Server settings, `name=value`, given at every start.
    settings: Vec<String>,
}

impl PrivatePostgres {
    /// A directory and a free port for a new cluster; nothing started yet.
    fn prepare(settings: &[&str]) -> PrivatePostgres {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let dir = std::env::temp_dir().join(format!("wuye-faults-pg-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("the cluster's directory");
        let cluster = PrivatePostgres { dir, port, settings: settings.iter().map(|s| s.to_string()).collect() };
        // The server refuses to run as root: the cluster belongs to the postgres user.
        let owned = Command::new("chown").arg("postgres:postgres").arg(&cluster.dir).status().expect("chown");
        assert!(owned.success(), "chown the cluster's directory to postgres");
        cluster
    }

    fn start(settings: &[&str]) -> PrivatePostgres {
        let cluster = PrivatePostgres::prepare(settings);
        cluster.run("initdb", &["-D", &cluster.data(), "-A", "trust", "-U", "postgres", "--no-sync"]);
        cluster.run("pg_ctl", &["start", "-w", "-D", &cluster.data(), "-l", &cluster.log(), "-o", &cluster.options()]);
        cluster
    }

    /// A streaming standby of the primary on `primary_port`, copied from it with
    /// `pg_basebackup -R` and named `name` to it (for `synchronous_standby_names`).
    fn standby_of(primary_port: u16, name: &str) -> PrivatePostgres {
        let standby = PrivatePostgres::prepare(&[]);
        let port = primary_port.to_string();
        standby.run("pg_basebackup", &["-h", "127.0.0.1", "-p", &port, "-U", "postgres", "-D", &standby.data(), "-R", "-X", "stream", "--no-sync"]);
        let conninfo = format!("\nprimary_conninfo = 'host=127.0.0.1 port={primary_port} user=postgres application_name={name}'\n");
        let auto_conf = std::path::Path::new(&standby.data()).join("postgresql.auto.conf");
        let mut settings = std::fs::read_to_string(&auto_conf).expect("pg_basebackup -R writes postgresql.auto.conf");
        settings.push_str(&conninfo);
        std::fs::write(&auto_conf, settings).unwrap();
        standby.run("pg_ctl", &["start", "-w", "-D", &standby.data(), "-l", &standby.log(), "-o", &standby.options()]);
        standby
    }

    /// The server process killed with SIGKILL, as when its machine fails.
    fn kill(&self) {
        let pid = std::fs::read_to_string(std::path::Path::new(&self.data()).join("postmaster.pid")).expect("the server's pid file");
        let pid = pid.lines().next().expect("the pid").trim().to_string();
        let killed = Command::new("kill").args(["-KILL", &pid]).status().unwrap();
        assert!(killed.success(), "kill -9 {pid}");
    }

    /// A standby made the primary: it stops following and takes writes.
    fn promote(&self) {
        self.run("pg_ctl", &["promote", "-w", "-D", &self.data()]);
    }

    fn data(&self) -> String {
        self.dir.join("data").display().to_string()
    }

    fn log(&self) -> String {
        self.dir.join("server.log").display().to_string()
    }

    fn options(&self) -> String {
        let settings: String = self.settings.iter().map(|s| format!(" -c {s}")).collect();
        format!("-p {} -c listen_addresses=127.0.0.1 -k {}{settings}", self.port, self.dir.display())
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// One of PostgreSQL's programs as the postgres user, asserting it succeeded.
    fn run(&self, program: &str, args: &[&str]) {
        let output = Command::new("runuser")
            .args(["-u", "postgres", "--"])
            .arg(postgres_bin().join(program))
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("run {program}: {e}"));
        let log = std::fs::read_to_string(self.log()).unwrap_or_default();
        assert!(output.status.success(), "{program} {args:?}: {}\n{}\n{log}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    }

    /// A fast restart: every session is cut, the server shuts down cleanly and comes back.
    fn restart(&self) {
        self.run("pg_ctl", &["restart", "-w", "-m", "fast", "-D", &self.data(), "-l", &self.log(), "-o", &self.options()]);
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        let _ = Command::new("runuser")
            .args(["-u", "postgres", "--"])
            .arg(postgres_bin().join("pg_ctl"))
            .args(["stop", "-w", "-m", "immediate", "-D", &self.data()])
            .output();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// What a cashier's client was told: the key, the amount, the answer.
struct Acknowledged {
    key: String,
    fen: i64,
    payment: serde_json::Value,
}

/// What a desk does when a payment gets no answer.
#[derive(Clone, Copy, PartialEq)]
enum OnFailure {
    /// Tries the same request again (same Idempotency-Key) until it is acknowledged.
    Retry,
    /// Stops taking payments, keeping the unanswered one for later (its server is gone).
    Stop,
}

/// Four cashier desks taking payments for one unit back to back, each payment with its own
/// Idempotency-Key, as a busy office does.
struct Desks {
    stop: Arc<AtomicBool>,
    acknowledged: Arc<Mutex<Vec<Acknowledged>>>,
    /// Payments sent that got no answer (with `OnFailure::Stop`): key and amount in fen.
    unanswered: Arc<Mutex<Vec<(String, i64)>>>,
    failures: Arc<AtomicU32>,
    desks: Vec<tokio::task::JoinHandle<()>>,
}

fn fen_text(fen: i64) -> String {
    format!("{}.{:02}", fen / 100, fen % 100)
}

impl Desks {
    fn open(app: &TestApp, unit_id: i64, cashier: &str, on_failure: OnFailure) -> Desks {
        let url = format!("{}/units/{unit_id}/payments", app.base);
        let (stop, acknowledged, unanswered, failures) =
            (Arc::new(AtomicBool::new(false)), Arc::new(Mutex::new(Vec::new())), Arc::new(Mutex::new(Vec::new())), Arc::new(AtomicU32::new(0)));
        let desks = (1..=4)
            .map(|desk| {
                let (client, url, cashier) = (app.client.clone(), url.clone(), cashier.to_string());
                let (stop, acknowledged, unanswered, failures) = (stop.clone(), acknowledged.clone(), unanswered.clone(), failures.clone());
                tokio::spawn(async move {
                    for n in 1.. {
                        if stop.load(Ordering::SeqCst) {
                            break;
                        }
                        let key = format!("desk-{desk}-{n}");
                        let fen = desk * 100 + n % 100;
                        let answer = match on_failure {
                            OnFailure::Retry => {
                                let (payment, failed) = pay_until_acknowledged(&client, &url, &cashier, &key, &fen_text(fen)).await;
                                failures.fetch_add(failed, Ordering::SeqCst);
                                Some(payment)
                            }
                            OnFailure::Stop => pay_once(&client, &url, &cashier, &key, &fen_text(fen)).await,
                        };
                        match answer {
                            Some(payment) => acknowledged.lock().unwrap().push(Acknowledged { key, fen, payment }),
                            None => {
                                unanswered.lock().unwrap().push((key, fen));
                                break;
                            }
                        }
                    }
                })
            })
            .collect();
        Desks { stop, acknowledged, unanswered, failures, desks }
    }

    fn count(&self) -> usize {
        self.acknowledged.lock().unwrap().len()
    }

    /// The payment ids acknowledged so far.
    fn acknowledged_ids(&self) -> Vec<i64> {
        self.acknowledged.lock().unwrap().iter().map(|a| a.payment["id"].as_i64().unwrap()).collect()
    }

    async fn wait_for(&self, payments: usize, what: &str) {
        eventually(120, what, || async { (self.count() >= payments).then_some(()) }).await;
    }

    /// Closes the desks once their payments in hand are answered (or, with `OnFailure::Stop`,
    /// given up); returns what was acknowledged and what was not.
    async fn close(self) -> (Vec<Acknowledged>, Vec<(String, i64)>, u32) {
        self.stop.store(true, Ordering::SeqCst);
        for desk in self.desks {
            desk.await.expect("a desk's client");
        }
        let acknowledged = std::mem::take(&mut *self.acknowledged.lock().unwrap());
        let unanswered = std::mem::take(&mut *self.unanswered.lock().unwrap());
        (acknowledged, unanswered, self.failures.load(Ordering::SeqCst))
    }
}

/// Posts a cashier payment as a real client does: a failure (no answer, or a 5xx) is retried
/// with the same Idempotency-Key until the server acknowledges it. Returns the answer and the
/// failed attempts.
async fn pay_until_acknowledged(client: &reqwest::Client, url: &str, token: &str, key: &str, amount: &str) -> (serde_json::Value, u32) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let mut failures = 0;
    loop {
        if let Some(payment) = pay_once(client, url, token, key, amount).await {
            return (payment, failures);
        }
        failures += 1;
        assert!(std::time::Instant::now() < deadline, "payment {key} not acknowledged within a minute of retries");
        // A real client's back-off before trying the same request again.
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// One attempt at a cashier payment: its answer, or None when there was none (a lost
/// connection, a 5xx). A refusal (4xx) fails the test: these payments are all valid.
async fn pay_once(client: &reqwest::Client, url: &str, token: &str, key: &str, amount: &str) -> Option<serde_json::Value> {
    let sent = client.post(url).bearer_auth(token).header("Idempotency-Key", key).json(&serde_json::json!({ "method": "cash", "amount": amount })).send().await;
    match sent {
        Ok(response) if response.status().is_success() => response.json().await.ok(),
        Ok(response) => {
            let status = response.status();
            let body = response.text().await.unwrap_or_default();
            assert!(status.is_server_error(), "payment {key} refused: {status} {body}");
            None
        }
        Err(error) => {
            assert!(!error.is_builder(), "{error}");
            None
        }
    }
}

/// Every acknowledged payment is on record once, with its receipt (numbered without gaps) and
/// its journal entry; nothing else was booked; the ledger verifies; the prepaid balance is the
/// sum of all of them.
async fn assert_booked_once(app: &TestApp, tenant: &Tenant, acknowledged: &[Acknowledged]) {
    use wuye::auth::Role;
    let payments = entity::payment::Entity::find().all(&app.db).await.unwrap();
    let receipts = entity::receipt::Entity::find().all(&app.db).await.unwrap();
    let entries = entity::journal_entry::Entity::find().all(&app.db).await.unwrap();
    assert_eq!(payments.len(), acknowledged.len(), "payments on record vs acknowledged");
    let by_id: BTreeMap<i64, &entity::payment::Model> = payments.iter().map(|p| (p.id, p)).collect();
    let mut receipt_numbers = Vec::new();
    for ack in acknowledged {
        let id = ack.payment["id"].as_i64().unwrap_or_else(|| panic!("{}: {}", ack.key, ack.payment));
        let payment = by_id.get(&id).unwrap_or_else(|| panic!("payment {} acknowledged as {id} is not on record", ack.key));
        assert_eq!((payment.amount, payment.status.as_str()), (ack.fen, "posted"), "{}", ack.key);
        let receipts: Vec<&entity::receipt::Model> = receipts.iter().filter(|r| r.payment_id == id).collect();
        assert_eq!(receipts.len(), 1, "receipts of {}: {receipts:?}", ack.key);
        assert_eq!(ack.payment["receipt"]["number"], format!("{}-{:06}", receipts[0].year, receipts[0].number), "{}", ack.key);
        receipt_numbers.push(receipts[0].number);
        let reference = format!("payment:{id}");
        let booked: Vec<&entity::journal_entry::Model> = entries.iter().filter(|e| e.reference == reference).collect();
        assert_eq!(booked.len(), 1, "journal entries of {}: {booked:?}", ack.key);
        assert_eq!(booked[0].id, payment.journal_entry_id, "{}", ack.key);
    }
    receipt_numbers.sort();
    assert_eq!(receipt_numbers, (1..=acknowledged.len() as i64).collect::<Vec<_>>(), "receipt numbers unique and without gaps");
    let (status, verified) = app.get(&format!("/compounds/{}/ledger/verification", tenant.compound_id), tenant.token(Role::Committee)).await;
    assert_eq!((status, &verified["intact"]), (reqwest::StatusCode::OK, &serde_json::json!(true)), "{verified}");
    let prepaid = acknowledged.iter().map(|a| a.fen).sum::<i64>();
    let (_, balance) = app.get(&format!("/units/{}/balance", tenant.unit_id), tenant.token(Role::Cashier)).await;
    assert_eq!(balance["prepaid"], fen_text(prepaid), "{balance}");
}

fn on_postgres() -> bool {
    std::env::var("WUYE_TEST_DATABASE_URL").is_ok_and(|url| !url.is_empty())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn payments_acknowledged_while_postgresql_restarts_are_each_booked_once() {
    if !on_postgres() {
        eprintln!("skipped: restarting PostgreSQL needs its binaries and runs when the suite runs on PostgreSQL (WUYE_TEST_DATABASE_URL)");
        return;
    }
    use wuye::auth::Role;
    let postgres = Arc::new(tokio::task::spawn_blocking(|| PrivatePostgres::start(&[])).await.unwrap());
    let app = TestApp::spawn_on(&postgres.url(), &[]).await;
    let tenant = app.tenant("Alpha").await;

    let desks = Desks::open(&app, tenant.unit_id, tenant.token(Role::Cashier), OnFailure::Retry);
    desks.wait_for(20, "the first payments").await;
    let restarting = postgres.clone();
    tokio::task::spawn_blocking(move || restarting.restart()).await.unwrap();
    let at_restart = desks.count();
    // wuye was not restarted: it must reconnect by itself for any more payment to go through.
    desks.wait_for(at_restart + 40, "payments after the restart").await;
    let (acknowledged, _, failures) = desks.close().await;
    eprintln!("{} payments acknowledged, {at_restart} before the restart; {failures} failed attempts retried", acknowledged.len());
    assert_booked_once(&app, &tenant, &acknowledged).await;
}

// ---------------------------------------------------------------------------------------------
// 3. The primary killed, its synchronous standby promoted
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_synchronous_standby_promoted_after_the_primary_is_killed_has_every_acknowledged_payment_once() {
    if !on_postgres() {
        eprintln!("skipped: the standby test starts PostgreSQL clusters of its own and runs when the suite runs on PostgreSQL (WUYE_TEST_DATABASE_URL)");
        return;
    }
    if !postgres_bin().join("pg_basebackup").exists() {
        eprintln!("skipped: pg_basebackup is not installed in {}", postgres_bin().display());
        return;
    }
    use wuye::auth::Role;
    // A commit returns once the standby has it on disk.
    let primary = tokio::task::spawn_blocking(|| {
        PrivatePostgres::start(&["wal_level=replica", "max_wal_senders=4", "synchronous_standby_names=standby1", "synchronous_commit=on"])
    })
    .await
    .unwrap();
    let primary_port = primary.port;
    let standby = tokio::task::spawn_blocking(move || PrivatePostgres::standby_of(primary_port, "standby1")).await.unwrap();
    eventually(60, "the standby to be the synchronous one", || async {
        let admin = sea_orm::Database::connect(primary.url()).await.ok()?;
        let row = admin.query_one_raw(wuye::db::statement(&admin, "SELECT sync_state FROM pg_stat_replication WHERE application_name = 'standby1'", vec![])).await.ok()??;
        admin.close().await.ok();
        (row.try_get::<String>("", "sync_state").ok()? == "sync").then_some(())
    })
    .await;

    let app = TestApp::spawn_on(&primary.url(), &[]).await;
    let tenant = app.tenant("Standby").await;
    let desks = Desks::open(&app, tenant.unit_id, tenant.token(Role::Cashier), OnFailure::Stop);
    desks.wait_for(24, "the first payments").await;
    // The primary's machine fails: no shutdown, no last write.
    tokio::task::spawn_blocking(move || primary.kill()).await.unwrap();
    let (mut acknowledged, unanswered, _) = desks.close().await;
    eprintln!("{} payments acknowledged before the primary died, {} sent without an answer", acknowledged.len(), unanswered.len());
    assert!(!unanswered.is_empty(), "every desk lost its server");

    // The standby becomes the primary, wuye is started on it, and every desk sends again what
    // it had no answer to, with the same Idempotency-Key.
    let standby = tokio::task::spawn_blocking(move || {
        standby.promote();
        standby
    })
    .await
    .unwrap();
    let promoted = TestApp::reopen(&standby.url(), &[]).await;
    let url = format!("{}/units/{}/payments", promoted.base, tenant.unit_id);
    let on_standby = entity::payment::Entity::find().all(&promoted.db).await.unwrap().len();
    assert!(on_standby >= acknowledged.len(), "the standby holds {on_standby} payments of {} acknowledged", acknowledged.len());
    eprintln!("the promoted standby holds {on_standby} payments: {} of the unanswered had committed", on_standby - acknowledged.len());
    for (key, fen) in &unanswered {
        let (payment, _) = pay_until_acknowledged(&promoted.client, &url, tenant.token(Role::Cashier), key, &fen_text(*fen)).await;
        acknowledged.push(Acknowledged { key: key.clone(), fen: *fen, payment });
    }
    assert_booked_once(&promoted, &tenant, &acknowledged).await;
    // Each key names one payment: a retry of one the standby already had was answered from it.
    let keys = entity::idempotency_key::Entity::find().all(&promoted.db).await.unwrap();
    for ack in &acknowledged {
        let held: Vec<_> = keys.iter().filter(|k| k.key == ack.key).collect();
        assert_eq!(held.len(), 1, "{}: {held:?}", ack.key);
        assert_eq!(held[0].response, ack.payment["id"].to_string(), "{}", ack.key);
    }
}

// ---------------------------------------------------------------------------------------------
// 5. Backups and restore
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_online_backup_holds_every_payment_acknowledged_before_it_began() {
    use wuye::auth::Role;
    let app = TestApp::spawn().await;
    let tenant = app.tenant("Backup").await;
    let copy = std::env::temp_dir().join(format!("wuye-backup-{}-{}.db", std::process::id(), tenant.compound_id));
    let _remove = Remove(Some(copy.clone()));
    let copy_text = copy.display().to_string();
    if on_postgres() {
        let refused = tokio::task::spawn_blocking({
            let mut command = wuye(&app.database_url, &["backup", &copy_text]);
            move || command.output()
        })
        .await
        .unwrap()
        .unwrap();
        let stderr = String::from_utf8_lossy(&refused.stderr);
        assert!(!refused.status.success() && stderr.contains("pg_dump"), "PostgreSQL is backed up with pg_dump: {stderr}");
        assert!(!copy.exists(), "nothing written");
        return;
    }

    // A busy desk; the backup is taken in the middle of it.
    let desks = Desks::open(&app, tenant.unit_id, tenant.token(Role::Cashier), OnFailure::Retry);
    desks.wait_for(10, "the first payments").await;
    let before_backup = desks.acknowledged_ids();
    let said = wuye_succeeds(&app.database_url, &["backup", &copy_text]).await;
    assert!(said.contains(&copy_text), "{said}");
    let at_end = desks.count();
    desks.wait_for(at_end + 10, "payments after the backup").await;
    let (acknowledged, _, _) = desks.close().await;

    // A backup is not overwritten by the next one.
    let mut again = wuye(&app.database_url, &["backup", &copy_text]);
    let again = tokio::task::spawn_blocking(move || again.output()).await.unwrap().unwrap();
    assert!(!again.status.success() && String::from_utf8_lossy(&again.stderr).contains("exists already"), "{again:?}");

    // The copy opens, its ledger verifies, and it holds every payment acknowledged before the
    // backup began, with its receipt; what it holds beyond those is a whole payment each.
    let as_taken = std::fs::read(&copy).unwrap();
    let verified = wuye_succeeds(&format!("sqlite://{copy_text}"), &["ledger", "verify"]).await;
    assert!(verified.contains(": intact,"), "{verified}");
    assert!(std::fs::read(&copy).unwrap() == as_taken, "checking the copy left it as it was");
    let restored = wuye::db::connect(&format!("sqlite://{copy_text}")).await.unwrap();
    let in_copy: Vec<i64> = entity::payment::Entity::find().all(&restored).await.unwrap().iter().map(|p| p.id).collect();
    for id in &before_backup {
        assert!(in_copy.contains(id), "payment {id} was acknowledged before the backup began but is not in it");
    }
    let all: Vec<i64> = acknowledged.iter().map(|a| a.payment["id"].as_i64().unwrap()).collect();
    assert!(in_copy.iter().all(|id| all.contains(id)), "the copy holds only payments that were made");
    let receipts = entity::receipt::Entity::find().all(&restored).await.unwrap();
    let mut numbers: Vec<i64> = receipts.iter().map(|r| r.number).collect();
    numbers.sort();
    assert_eq!(numbers, (1..=in_copy.len() as i64).collect::<Vec<_>>(), "one receipt a payment, without gaps");
    restored.close().await.ok();
    eprintln!("{} payments acknowledged before the backup, {} in it, {} in all", before_backup.len(), in_copy.len(), all.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_pg_dump_taken_under_payments_restores_into_a_database_whose_books_verify() {
    if !on_postgres() {
        eprintln!("skipped: the restore drill is PostgreSQL's (pg_dump and pg_restore); it runs when the suite runs on PostgreSQL (WUYE_TEST_DATABASE_URL)");
        return;
    }
    use wuye::auth::Role;
    let app = TestApp::spawn().await;
    let tenant = app.tenant("Restore").await;
    let (manager, committee) = (tenant.token(Role::Manager), tenant.token(Role::Committee));
    let policy = serde_json::json!({ "deposit_basis": "per_m2", "deposit_rate": "90", "source": "市住建委 2019 年第 3 号", "notice_days": 7 });
    let (status, body) = app.request(reqwest::Method::PUT, &format!("/compounds/{}/fund/policy", tenant.compound_id), Some(manager), Some(policy)).await;
    assert_eq!(status, reqwest::StatusCode::OK, "{body}");
    let (status, body) = app.post(&format!("/compounds/{}/fund/deposits", tenant.compound_id), manager, serde_json::json!({ "received_on": "2026-11-01" })).await;
    assert_eq!(status, reqwest::StatusCode::OK, "{body}");

    let dump = std::env::temp_dir().join(format!("wuye-restore-{}-{}.dump", std::process::id(), tenant.compound_id));
    let _remove = Remove(Some(dump.clone()));
    let desks = Desks::open(&app, tenant.unit_id, tenant.token(Role::Cashier), OnFailure::Retry);
    desks.wait_for(10, "the first payments").await;
    let before_dump = desks.acknowledged_ids();
    let pg_dump = std::process::Command::new(postgres_bin().join("pg_dump")).args(["-Fc", "-f"]).arg(&dump).arg(&app.database_url).output().unwrap();
    assert!(pg_dump.status.success(), "pg_dump: {}", String::from_utf8_lossy(&pg_dump.stderr));
    let at_end = desks.count();
    desks.wait_for(at_end + 10, "payments after the dump").await;
    desks.close().await;

    // A fresh database, the dump restored into it, wuye started on it.
    let (restored_url, _) = fresh_database().await;
    let pg_restore = std::process::Command::new(postgres_bin().join("pg_restore")).args(["--no-owner", "-d", &restored_url]).arg(&dump).output().unwrap();
    assert!(pg_restore.status.success(), "pg_restore: {}", String::from_utf8_lossy(&pg_restore.stderr));
    let verified = wuye_succeeds(&restored_url, &["ledger", "verify"]).await;
    assert!(verified.contains(": intact,"), "{verified}");
    let restored = TestApp::reopen(&restored_url, &[]).await;
    let (status, check) = restored.get(&format!("/compounds/{}/fund/check", tenant.compound_id), committee).await;
    assert_eq!((status, &check["agrees"]), (reqwest::StatusCode::OK, &serde_json::json!(true)), "{check}");
    let (status, verification) = restored.get(&format!("/compounds/{}/ledger/verification", tenant.compound_id), committee).await;
    assert_eq!((status, &verification["intact"]), (reqwest::StatusCode::OK, &serde_json::json!(true)), "{verification}");
    let in_restore: Vec<i64> = entity::payment::Entity::find().all(&restored.db).await.unwrap().iter().map(|p| p.id).collect();
    for id in &before_dump {
        assert!(in_restore.contains(id), "payment {id} was acknowledged before the dump began but is not restored");
    }
    // The restored database takes payments, numbering receipts on from the last restored one.
    let (status, paid) = restored.post(&format!("/units/{}/payments", tenant.unit_id), tenant.token(Role::Cashier), serde_json::json!({ "method": "cash", "amount": "1.00" })).await;
    assert_eq!(status, reqwest::StatusCode::OK, "{paid}");
    let number: i64 = paid["receipt"]["number"].as_str().unwrap()[5..].parse().unwrap();
    assert_eq!(number, in_restore.len() as i64 + 1, "{paid}");
}

// ---------------------------------------------------------------------------------------------
// 4. Two replicas, clients alternating between them
// ---------------------------------------------------------------------------------------------

const GATEWAY_SECRET: &str = "faults-test-gateway-secret-2026";

/// The servers a day's clients talk to, each request to the next one in turn (no load balancer).
struct Alternating<'a> {
    apps: Vec<&'a TestApp>,
    next: std::sync::atomic::AtomicUsize,
}

impl Alternating<'_> {
    fn new(apps: Vec<&TestApp>) -> Alternating<'_> {
        Alternating { apps, next: Default::default() }
    }

    fn app(&self) -> &TestApp {
        self.apps[self.next.fetch_add(1, std::sync::atomic::Ordering::SeqCst) % self.apps.len()]
    }

    /// Sends a request to the next server, asserting a 2xx answer; returns its body.
    async fn send(&self, method: reqwest::Method, path: &str, token: &str, body: Option<serde_json::Value>) -> serde_json::Value {
        let (status, answer) = self.app().request(method, path, Some(token), body).await;
        assert!(status.is_success(), "{path}: {status} {answer}");
        answer
    }

    async fn get(&self, path: &str, token: &str) -> serde_json::Value {
        self.send(reqwest::Method::GET, path, token, None).await
    }

    async fn post(&self, path: &str, token: &str, body: serde_json::Value) -> serde_json::Value {
        self.send(reqwest::Method::POST, path, token, Some(body)).await
    }

    async fn upload(&self, path: &str, token: &str, bytes: &[u8]) -> serde_json::Value {
        let (status, answer) = self.app().upload(path, token, bytes.to_vec()).await;
        assert!(status.is_success(), "{path}: {status} {answer}");
        answer
    }

    /// A cashier payment with an Idempotency-Key, retried once on the other server as a client
    /// that lost the answer would: both answers name one payment.
    async fn pay(&self, unit_id: i64, token: &str, key: &str, amount: &str) -> serde_json::Value {
        let mut answers = Vec::new();
        for _ in 0..2 {
            let app = self.app();
            let response = app
                .client
                .post(format!("{}/units/{unit_id}/payments", app.base))
                .bearer_auth(token)
                .header("Idempotency-Key", key)
                .json(&serde_json::json!({ "method": "cash", "amount": amount }))
                .send()
                .await
                .unwrap();
            assert!(response.status().is_success(), "payment {key}: {}", response.status());
            answers.push(response.json::<serde_json::Value>().await.unwrap());
        }
        assert_eq!(answers[0], answers[1], "a retried payment answers the first one");
        answers.remove(0)
    }

    /// The built-in gateway's signed callback, as the gateway would post it.
    async fn callback(&self, body: &str) -> serde_json::Value {
        let app = self.app();
        let signature = wuye::payments::gateway::BuiltinGateway::sign(GATEWAY_SECRET, body.as_bytes());
        let response = app
            .client
            .post(format!("{}/gateway/builtin/callback", app.base))
            .header("content-type", "application/octet-stream")
            .header("X-Wuye-Signature", signature)
            .body(body.to_string())
            .send()
            .await
            .unwrap();
        assert!(response.status().is_success(), "callback: {}", response.status());
        response.json().await.unwrap()
    }
}

/// What a day leaves on record that must not depend on how many replicas served it.
#[derive(Debug, PartialEq)]
struct DayOutcome {
    /// (period, bills created, total) of each bill run, by hand and by the job.
    bill_runs: Vec<(String, i64, String)>,
    /// (unit number, amount, to prepaid, receipt number) of each cashier payment.
    desk_payments: Vec<(String, String, String, String)>,
    /// The online order's amount, and the callback's answers (first, replayed).
    online: (String, String, String),
    /// The repair ticket's status and version at the end of the day.
    ticket: (String, i64),
    /// Bills: count and amounts in fen; receipts: count and numbers.
    bills: (usize, i64),
    receipts: Vec<String>,
    /// (account code, debits, credits) of the compound's trial balance.
    trial_balance: Vec<(String, String, String)>,
}

/// One working day of a compound's office, spread over `servers`.
async fn a_day(servers: &Alternating<'_>, home: &TestApp) -> DayOutcome {
    use wuye::auth::Role;
    let tenant = home.tenant("Alpha").await;
    let (boss, manager, cashier, owner) =
        (tenant.token(Role::CompanyAdmin), tenant.token(Role::Manager), tenant.token(Role::Cashier), tenant.token(Role::Owner));
    let compound = tenant.compound_id;

    // Morning: the registry gets a new building from a spreadsheet; the property fee is set.
    let csv = "building,stairwell,number,floor,use,registered_area\n2栋,1单元,101,1,住宅,60.00\n2栋,1单元,102,1,住宅,75.50\n2栋,1单元,201,2,住宅,90.25\n2栋,1单元,202,2,住宅,66.10\n";
    let report = servers.upload(&format!("/compounds/{compound}/import"), boss, csv.as_bytes()).await;
    assert_eq!(report["units_created"], 4, "{report}");
    let units = servers.get(&format!("/units?compound_id={compound}&per_page=500"), manager).await;
    let units: BTreeMap<String, i64> = units["items"].as_array().unwrap().iter().map(|u| (u["number"].as_str().unwrap().to_string(), u["id"].as_i64().unwrap())).collect();
    servers
        .post(
            &format!("/compounds/{compound}/fee-items"),
            manager,
            serde_json::json!({ "name": "物业费", "kind": "rate_area", "rate": "1.20", "cycle": "monthly", "due_days": 15, "effective_from": "2026-01" }),
        )
        .await;

    // The bill run, twice: the second, on the other server, bills nothing.
    let mut bill_runs = Vec::new();
    for _ in 0..2 {
        let run = servers.post(&format!("/compounds/{compound}/bill-runs"), manager, serde_json::json!({ "period": "2099-11" })).await;
        bill_runs.push(("2099-11".to_string(), run["bills_created"].as_i64().unwrap(), run["total"].as_str().unwrap().to_string()));
    }

    // The cashier's desk: every new flat pays something, some more than owed.
    let mut desk_payments = Vec::new();
    for (i, number) in ["101", "102", "201", "202"].into_iter().enumerate() {
        let amount = format!("{}.00", 40 + 30 * i);
        let paid = servers.pay(units[number], cashier, &format!("desk-{number}"), &amount).await;
        desk_payments.push((number.to_string(), amount, paid["to_prepaid"].as_str().unwrap().to_string(), paid["receipt"]["number"].as_str().unwrap().to_string()));
    }

    // The owner pays their bill online; the gateway's callback arrives twice.
    let bills = servers.get(&format!("/units/{}/bills", tenant.unit_id), owner).await;
    let bill_id = bills[0]["id"].as_i64().unwrap();
    let order = servers.post("/payment-orders", owner, serde_json::json!({ "unit_id": tenant.unit_id, "bill_ids": [bill_id] })).await;
    let paid = serde_json::json!({ "order_id": order["id"], "amount": order["amount"], "transaction_id": "wx-day-1" }).to_string();
    let (first, replayed) = (servers.callback(&paid).await, servers.callback(&paid).await);
    assert_eq!(first["payment_id"], replayed["payment_id"], "{first} {replayed}");
    let online = (order["amount"].as_str().unwrap().to_string(), first["status"].as_str().unwrap().to_string(), replayed["status"].as_str().unwrap().to_string());

    // A leak: filed, accepted, assigned, worked, resolved and closed, each step on the next server.
    let filed = servers
        .post("/tickets", owner, serde_json::json!({ "unit_id": tenant.unit_id, "category": "plumbing", "location": "in_unit", "description": "厨房水管漏水", "urgency": "normal" }))
        .await;
    let ticket = format!("/tickets/{}", filed["id"]);
    let (desk, technician) = (tenant.token(Role::Dispatcher), tenant.token(Role::Technician));
    let technician_id = servers.get("/auth/me", technician).await["user_id"].clone();
    servers.post(&format!("{ticket}/transitions"), desk, serde_json::json!({ "to": "accepted", "version": 1 })).await;
    servers.post(&format!("{ticket}/assignment"), desk, serde_json::json!({ "version": 2, "technician_id": technician_id })).await;
    servers.post(&format!("{ticket}/transitions"), technician, serde_json::json!({ "to": "in_progress", "version": 3 })).await;
    servers.post(&format!("{ticket}/transitions"), technician, serde_json::json!({ "to": "resolved", "version": 4 })).await;
    let closed = servers.post(&format!("{ticket}/transitions"), owner, serde_json::json!({ "to": "closed", "version": 5 })).await;
    let ticket = (closed["status"].as_str().unwrap().to_string(), closed["version"].as_i64().unwrap());

    // The month's bill run started by hand as a job: whichever replica's worker takes it, once.
    let runs = servers.post("/jobs/runs", manager, serde_json::json!({ "job": "bill_run" })).await;
    assert_eq!(runs.as_array().map(Vec::len), Some(1), "{runs}");
    let run_path = format!("/jobs/runs/{}", runs[0]["id"]);
    let run = eventually(60, "the bill run job to end", || async {
        let run = servers.get(&run_path, manager).await;
        matches!(run["status"].as_str(), Some("succeeded" | "failed")).then_some(run)
    })
    .await;
    assert_eq!((run["status"].as_str(), run["attempts"].as_i64()), (Some("succeeded"), Some(1)), "{run}");
    bill_runs.push((period_of(today()), run["counts"]["bills"].as_i64().unwrap(), String::new()));

    // Evening: the books, as the committee sees them.
    let verified = servers.get(&format!("/compounds/{compound}/ledger/verification"), tenant.token(Role::Committee)).await;
    assert_eq!(verified["intact"], true, "{verified}");
    let text = |v: &serde_json::Value| v.as_str().unwrap_or_default().to_string();
    let trial_balance = verified["trial_balance"].as_array().unwrap().iter().map(|a| (text(&a["code"]), text(&a["debit"]), text(&a["credit"]))).collect();
    let all_bills = entity::bill::Entity::find().all(&home.db).await.unwrap();
    let mut receipts: Vec<String> = entity::receipt::Entity::find().all(&home.db).await.unwrap().iter().map(|r| format!("{}-{:06}", r.year, r.number)).collect();
    receipts.sort();
    DayOutcome {
        bill_runs,
        desk_payments,
        online,
        ticket,
        bills: (all_bills.len(), all_bills.iter().map(|b| b.amount).sum()),
        receipts,
        trial_balance,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_replicas_with_clients_alternating_end_the_day_as_one_replica_does() {
    // Every replica with its scheduler and workers on, and a job ticking every second.
    let settings = workers_on(&[("WUYE_GATEWAY_SECRET", GATEWAY_SECRET), ("WUYE_JOB_TICKET_SLA", "* * * * * *")]);
    let first = TestApp::spawn_with(&settings).await;
    let second = first.replica(&settings).await;
    let alone = TestApp::spawn_with(&settings).await;

    let two = a_day(&Alternating::new(vec![&first, &second]), &first).await;
    let one = a_day(&Alternating::new(vec![&alone]), &alone).await;
    assert_eq!(two, one, "two replicas end the day as one does");
    // Receipt numbers: one each, no gaps (five payments: four at the desk, one online).
    let numbers: Vec<i64> = two.receipts.iter().map(|r| r[5..].parse().unwrap()).collect();
    assert_eq!(numbers, (1..=5).collect::<Vec<_>>(), "{:?}", two.receipts);

    // Each tick of the every-second job ran once, on one replica or the other, in one attempt.
    // A quick day may have seen fewer than three ticks: the replicas tick on while we wait.
    let scheduled_ticks = || async {
        let runs = entity::job_run::Entity::find().all(&first.db).await.unwrap();
        let runs: Vec<entity::job_run::Model> = runs.into_iter().filter(|r| r.job == "ticket_sla" && r.trigger == "schedule").collect();
        let finished = runs.iter().filter(|r| r.finished_at.is_some()).count();
        (finished >= 3).then_some(runs)
    };
    let ticks = eventually(30, "three finished ticks of the every-second job", scheduled_ticks).await;
    let ticks: Vec<&entity::job_run::Model> = ticks.iter().collect();
    let mut per_tick: BTreeMap<(chrono::DateTime<chrono::Utc>, Option<i64>), usize> = BTreeMap::new();
    for run in &ticks {
        *per_tick.entry((run.scheduled_for, run.company_id)).or_default() += 1;
    }
    assert!(per_tick.len() >= 3, "the day lasted a few ticks: {ticks:?}");
    assert!(per_tick.values().all(|n| *n == 1), "a tick ran twice: {per_tick:?}");
    for run in ticks.iter().filter(|r| r.status == "succeeded") {
        assert_eq!(run.attempts, 1, "{run:?}");
    }
    let claimed_by: std::collections::BTreeSet<&str> = ticks.iter().filter_map(|r| r.claimed_by.as_deref()).collect();
    eprintln!("{} ticks, run by {} replica(s)", per_tick.len(), claimed_by.len());
}
