//! Start-up time of `wuye serve` on an empty SQLite file: from spawning the process until
//! `GET /health` answers 200, migrations included. Ten runs, each on a new file.
//!
//!     cargo bench --bench startup
use std::{
    io::{BufRead, BufReader, Read, Write},
    net::TcpStream,
    process::{Command, Stdio},
    time::{Duration, Instant},
};

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

fn main() {
    let binary = env!("CARGO_BIN_EXE_wuye");
    let mut times = Vec::new();
    for run in 0..10 {
        let file = std::env::temp_dir().join(format!("wuye-startup-{}-{run}.db", std::process::id()));
        let started = Instant::now();
        let mut child = Command::new(binary)
            .arg("serve")
            .env("WUYE_DATABASE_URL", format!("sqlite://{}?mode=rwc", file.display()))
            .env("WUYE_LISTEN", "127.0.0.1:0")
            .env("WUYE_LOG", "warn")
            .stdout(Stdio::piped())
            .spawn()
            .expect("start wuye serve");
        // The first line says where it listens: "wuye is listening on http://127.0.0.1:PORT ...".
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut line).expect("read the first line");
        let port: u16 = line
            .split("http://127.0.0.1:")
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("no port in {line:?}"));
        while !health_ok(port) {
            assert!(started.elapsed() < Duration::from_secs(30), "wuye did not answer /health within 30 s");
        }
        times.push(started.elapsed());
        child.kill().ok();
        child.wait().ok();
        let _ = std::fs::remove_file(&file);
    }
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!("wuye serve on an empty SQLite file, spawn to first 200 from /health, 10 runs:");
    println!("  min {:.0} ms, median {:.0} ms, max {:.0} ms", ms(times[0]), ms(times[times.len() / 2]), ms(times[times.len() - 1]));
}
