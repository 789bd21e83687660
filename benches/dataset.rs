//! The city-scale data set generator as a benchmark: builds the data set (see
//! `benches/common/dataset.rs`) on a new database and reports rows per table, seconds and rows
//! per second, and that a sample compound's ledger verifies.
//!
//!     cargo bench --bench dataset -- [--units 1000000] [--tickets 1000000] \
//!         [--server postgres://postgres@127.0.0.1:5432/postgres]
//!
//! Without `--server` it builds on a new SQLite file. It drops its database at the end unless
//! `--keep` is given (then it prints the URL).
mod common;

use common::{BenchDatabase, arg, dataset};

#[tokio::main]
async fn main() {
    let units: u64 = arg("--units").unwrap_or("1000000".into()).parse().expect("--units is a number");
    let tickets: u64 = arg("--tickets").unwrap_or(units.to_string()).parse().expect("--tickets is a number");
    let database = BenchDatabase::create().await;
    let db = wuye::db::connect(&database.url).await.expect("connect");
    wuye::db::migrate(&db).await.expect("migrate");
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!("database: {}; {cores} cores", database.version(&db).await);

    let report = dataset::build(&db, units, tickets).await;
    println!("{} units in {} compounds, {tickets} tickets:", report.units, report.compounds);
    println!("  {:<22} {:>12} {:>10} {:>12}", "table", "rows", "write s", "rows/s");
    for (table, (rows, seconds)) in &report.tables {
        println!("  {table:<22} {rows:>12} {seconds:>10.1} {:>12.0}", *rows as f64 / seconds.max(1e-9));
    }
    let rows = report.rows();
    println!("  {:<22} {rows:>12} {:>10.1} {:>12.0}  (wall clock, computing and writing overlapped)", "all", report.seconds, rows as f64 / report.seconds);
    let sample = &report.sample;
    assert!(sample.first_break.is_none(), "compound {}'s ledger breaks: {:?}", sample.compound_id, sample.first_break);
    assert_eq!(sample.debits, sample.credits);
    println!(
        "compound {}'s ledger verified: {} entries, {} lines, debits = credits = {} fen, chain intact",
        sample.compound_id, sample.entries, sample.lines, sample.debits
    );
    let peak = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmHWM:")).map(|l| l.split_whitespace().nth(1).unwrap_or("0").to_string()))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0);
    println!("peak memory of the generator: {peak:.0} MB");

    db.close().await.ok();
    if std::env::args().any(|a| a == "--keep") {
        println!("kept: {}", database.url);
    } else {
        database.drop_it().await;
    }
}
