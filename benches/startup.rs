//! Start-up time and idle memory of `wuye serve` on an empty database: from spawning the
//! process until `GET /health` answers 200, migrations included, ten runs each on a new SQLite
//! file (or, with `--server`, on a new PostgreSQL database: the bench's own, emptied before each
//! run). Memory is the process's resident set (VmRSS) and its peak (VmHWM) once `/health`
//! answers, and after the last run has idled 5 s with its scheduler and workers polling.
//!
//!     cargo bench --bench startup
//!     cargo bench --bench startup -- --server postgres://postgres@127.0.0.1:5432/postgres
mod common;

use std::{
    io::{BufRead, BufReader, Read, Write},
    net::TcpStream,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use common::BenchDatabase;
use sea_orm::ConnectionTrait;

const RUNS: usize = 10;
const IDLE: Duration = Duration::from_secs(5);

fn health_ok(port: u16) -> bool {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else { return false };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    if stream.write_all(b"GET /health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").is_err() {
        return false;
    }
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    answer.starts_with("HTTP/1.1 200")
}

/// (VmRSS, VmHWM) of a process in MB.
fn memory_mb(child: &Child) -> (f64, f64) {
    let status = std::fs::read_to_string(format!("/proc/{}/status", child.id())).expect("the process's status");
    let field = |name: &str| {
        status.lines().find(|l| l.starts_with(name)).and_then(|l| l.split_whitespace().nth(1)).and_then(|kb| kb.parse::<f64>().ok()).map_or(0.0, |kb| kb / 1024.0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// Spawns `wuye serve` on `url` and waits for its first 200 from `/health`.
fn start(url: &str) -> (Child, Duration) {
    let started = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_wuye"))
        .arg("serve")
        .env("WUYE_DATABASE_URL", url)
        .env("WUYE_LISTEN", "127.0.0.1:0")
        .env("WUYE_LOG", "warn")
        .stdout(Stdio::piped())
        .spawn()
        .expect("start wuye serve");
    // The first line says where it listens: "wuye is listening on http://127.0.0.1:PORT ...".
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
    let mut line = String::new();
    stdout.read_line(&mut line).expect("read the first line");
    // Whatever it prints later is read too: a closed pipe would end it on its next line.
    std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
    let port: u16 = line
        .split("http://127.0.0.1:")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("no port in {line:?}"));
    while !health_ok(port) {
        assert!(started.elapsed() < Duration::from_secs(30), "wuye did not answer /health within 30 s");
    }
    (child, started.elapsed())
}

#[tokio::main]
async fn main() {
    let database = BenchDatabase::create().await;
    let db = wuye::db::connect(&database.url).await.expect("connect");
    let label = database.version(&db).await;
    let (mut times, mut rss) = (Vec::new(), Vec::new());
    let mut idle = None;
    for run in 0..RUNS {
        // An empty database each time.
        let file = std::env::temp_dir().join(format!("wuye-startup-{}-{run}.db", std::process::id()));
        let url = if database.postgres {
            db.execute_unprepared("DROP SCHEMA public CASCADE; CREATE SCHEMA public").await.expect("empty the database");
            database.url.clone()
        } else {
            format!("sqlite://{}?mode=rwc", file.display())
        };
        let (mut child, time) = start(&url);
        times.push(time);
        rss.push(memory_mb(&child).0);
        if run == RUNS - 1 {
            let after_start = memory_mb(&child);
            tokio::time::sleep(IDLE).await;
            idle = Some((after_start, memory_mb(&child)));
        }
        child.kill().ok();
        child.wait().ok();
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", file.display()));
        }
    }
    db.close().await.ok();
    database.drop_it().await;

    times.sort();
    rss.sort_by(f64::total_cmp);
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let ((rss_started, hwm_started), (rss_idle, hwm_idle)) = idle.expect("the last run idled");
    println!("wuye serve on an empty database ({label}), {} cores, spawn to first 200 from /health, {RUNS} runs:", std::thread::available_parallelism().map_or(0, |n| n.get()));
    println!("  start-up: min {:.0} ms, median {:.0} ms, max {:.0} ms", ms(times[0]), ms(times[RUNS / 2]), ms(times[RUNS - 1]));
    println!("  resident memory once started: median {:.1} MB (min {:.1}, max {:.1})", rss[RUNS / 2], rss[0], rss[RUNS - 1]);
    println!("  last run: VmRSS {rss_started:.1} MB, VmHWM {hwm_started:.1} MB once started; after {} s idle VmRSS {rss_idle:.1} MB, VmHWM {hwm_idle:.1} MB", IDLE.as_secs());
}
