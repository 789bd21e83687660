//! Faults (issue 8): wuye killed with SIGKILL in the middle of a bill run, its PostgreSQL
//! restarted under a stream of cashier payments, and two replicas serving one day's work with
//! clients alternating between them. Each ends by itself and compares what is on record with
//! what a run without the fault records. (An SMTP server going away for a while is
//! `an_smtp_outage_delays_every_message_and_loses_or_doubles_none` in tests/mail.rs.)
mod common;

use std::{
    collections::BTreeMap,
    process::{Command, Stdio},
};

use common::*;
use sea_orm::{ActiveModelTrait, ConnectionTrait, DatabaseConnection, EntityTrait, Set};

// ---------------------------------------------------------------------------------------------
// 1. kill -9 in the middle of a bill run
// ---------------------------------------------------------------------------------------------

/// Enough units that the bill run takes a few seconds, compound by compound.
const COMPOUNDS: usize = 24;
const UNITS_PER_COMPOUND: usize = 100;

/// The `wuye` binary on a database, quiet but for warnings.
fn wuye(database_url: &str, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_wuye"));
    command
        .args(args)
        .env("WUYE_DATABASE_URL", database_url)
        .env("WUYE_MAIL_TRANSPORT", "stub")
        .env("WUYE_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

/// Runs `wuye ARGS` to its end on a blocking thread, asserting it succeeded; returns its stdout.
async fn wuye_succeeds(database_url: &str, args: &[&str]) -> String {
    let mut command = wuye(database_url, args);
    let what = args.join(" ");
    let output = tokio::task::spawn_blocking(move || command.output()).await.unwrap().expect("start wuye");
    let (stdout, stderr) = (String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success(), "wuye {what} failed ({}):\n{stdout}\n{stderr}", output.status);
    stdout.into_owned()
}

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
