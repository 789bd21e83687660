//! A real SMTP server for the mail tests, on 127.0.0.1, that keeps what it receives.
//!
//! By default a small server of our own on tokio: no TLS, no authentication, enough SMTP for
//! lettre's client (EHLO/HELO, MAIL, RCPT, DATA with dot-unstuffing, RSET, NOOP, QUIT). With
//! `WUYE_TEST_SMTP_SINK=aiosmtpd` it is Debian's aiosmtpd writing to a maildir instead, as an
//! independent check that what wuye sends is what a stock mail server accepts.
//!
//! Either way: [`SmtpSink::start`] picks a free port, [`SmtpSink::stop`] stops accepting and
//! drops open connections (so a client's pooled connection breaks), [`SmtpSink::restart`]
//! listens again on the same port, and [`SmtpSink::messages`] gives each message received, as
//! raw RFC 5322 text, in the order received.
#![allow(dead_code)]

use std::{
    path::PathBuf,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use tokio::{
    io::{AsyncBufReadExt, AsyncWriteExt, BufReader},
    net::{TcpListener, TcpSocket, TcpStream},
    sync::watch,
    task::{JoinHandle, JoinSet},
};

/// The aiosmtpd the Debian package installs (the pyenv `python3` on PATH has none).
const SYSTEM_PYTHON: &str = "/usr/bin/python3";

pub struct SmtpSink {
    port: u16,
    kind: Kind,
}

enum Kind {
    Native { messages: Arc<Mutex<Vec<String>>>, running: Option<Running> },
    Aiosmtpd { dir: PathBuf, child: Option<std::process::Child> },
}

/// The accept loop of the native server while it listens.
struct Running {
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl SmtpSink {
    /// Starts a sink on a free port: the native one, or aiosmtpd when
    /// `WUYE_TEST_SMTP_SINK=aiosmtpd`.
    pub async fn start() -> SmtpSink {
        match std::env::var("WUYE_TEST_SMTP_SINK").as_deref() {
            Ok("aiosmtpd") => SmtpSink::start_aiosmtpd().await,
            Ok("") | Ok("native") | Err(_) => SmtpSink::start_native().await,
            Ok(other) => panic!("WUYE_TEST_SMTP_SINK must be aiosmtpd or native, got {other:?}"),
        }
    }

    pub async fn start_native() -> SmtpSink {
        let messages = Arc::new(Mutex::new(Vec::new()));
        let listener = bind(0).await;
        let port = listener.local_addr().expect("sink address").port();
        let running = serve(listener, messages.clone());
        SmtpSink { port, kind: Kind::Native { messages, running: Some(running) } }
    }

    pub async fn start_aiosmtpd() -> SmtpSink {
        let port = {
            let probe = std::net::TcpListener::bind("127.0.0.1:0").expect("find a free port");
            probe.local_addr().expect("probe address").port()
        };
        let dir = std::env::temp_dir().join(format!("wuye-smtp-sink-{}-{port}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let mut sink = SmtpSink { port, kind: Kind::Aiosmtpd { dir, child: None } };
        sink.launch_aiosmtpd().await;
        sink
    }

    /// The port it listens on, the same across restarts.
    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn is_aiosmtpd(&self) -> bool {
        matches!(self.kind, Kind::Aiosmtpd { .. })
    }

    /// Stops accepting and drops every open connection. Returns once the port is closed.
    pub async fn stop(&mut self) {
        match &mut self.kind {
            Kind::Native { running, .. } => {
                if let Some(Running { stop, task }) = running.take() {
                    let _ = stop.send(true);
                    task.await.expect("the sink's accept loop");
                }
            }
            Kind::Aiosmtpd { child, .. } => {
                if let Some(mut child) = child.take() {
                    child.kill().expect("kill aiosmtpd");
                    child.wait().expect("reap aiosmtpd");
                }
            }
        }
        // The listener is gone once nothing answers on the port.
        wait_until(10, "the sink's port to close", || std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err()).await;
    }

    /// Listens again, on the same port; what was received before is kept.
    pub async fn restart(&mut self) {
        let port = self.port;
        match &mut self.kind {
            Kind::Native { messages, running } => {
                assert!(running.is_none(), "restart a sink that is stopped");
                *running = Some(serve(bind(port).await, messages.clone()));
            }
            Kind::Aiosmtpd { child, .. } => {
                assert!(child.is_none(), "restart a sink that is stopped");
                self.launch_aiosmtpd().await;
            }
        }
    }

    /// Each message received, as raw RFC 5322 text, oldest first.
    pub fn messages(&self) -> Vec<String> {
        match &self.kind {
            Kind::Native { messages, .. } => messages.lock().expect("sink messages").clone(),
            Kind::Aiosmtpd { dir, .. } => read_maildir(dir),
        }
    }

    async fn launch_aiosmtpd(&mut self) {
        let port = self.port;
        let Kind::Aiosmtpd { dir, child } = &mut self.kind else { unreachable!("an aiosmtpd sink") };
        // std's process: tokio's `process` feature is not enabled in this crate.
        let mut spawned = std::process::Command::new(SYSTEM_PYTHON)
            .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}"), "-c", "aiosmtpd.handlers.Mailbox"])
            .arg(&*dir)
            .stdin(std::process::Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("start {SYSTEM_PYTHON} -m aiosmtpd (apt-get install python3-aiosmtpd): {e}"));
        // Ready once it accepts a connection (it answers with its greeting).
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = spawned.try_wait().expect("aiosmtpd status") {
                panic!("aiosmtpd exited at start with {status} (port {port} taken, or python3-aiosmtpd missing?)");
            }
            if Instant::now() >= deadline {
                let _ = spawned.kill();
                let _ = spawned.wait();
                panic!("aiosmtpd did not accept connections on port {port} within 20 s");
            }
            if let Ok(stream) = TcpStream::connect(("127.0.0.1", port)).await {
                let mut greeting = String::new();
                let mut reader = BufReader::new(stream);
                if reader.read_line(&mut greeting).await.is_ok() && greeting.starts_with("220") {
                    let _ = reader.get_mut().write_all(b"QUIT\r\n").await;
                    break;
                }
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        *child = Some(spawned);
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        match &mut self.kind {
            Kind::Native { running, .. } => {
                if let Some(Running { stop, task }) = running.take() {
                    let _ = stop.send(true);
                    task.abort();
                }
            }
            Kind::Aiosmtpd { dir, child } => {
                if let Some(mut child) = child.take() {
                    let _ = child.kill();
                    let _ = child.wait();
                }
                let _ = std::fs::remove_dir_all(dir);
            }
        }
    }
}

async fn wait_until(seconds: u64, what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    while !check() {
        assert!(Instant::now() < deadline, "gave up after {seconds} s waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Binds 127.0.0.1:`port` with SO_REUSEADDR, so that a restart gets the port back although
/// the connections it dropped linger in TIME_WAIT.
async fn bind(port: u16) -> TcpListener {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let socket = TcpSocket::new_v4().expect("sink socket");
        socket.set_reuseaddr(true).expect("SO_REUSEADDR");
        match socket.bind(([127, 0, 0, 1], port).into()).and_then(|()| socket.listen(128)) {
            Ok(listener) => return listener,
            // The port can be briefly busy right after a stop; a restart waits for it.
            Err(_) if port != 0 && Instant::now() < deadline => tokio::time::sleep(Duration::from_millis(50)).await,
            Err(error) => panic!("bind the SMTP sink on 127.0.0.1:{port}: {error}"),
        }
    }
}

/// Accepts connections until told to stop; then drops the listener and every connection.
fn serve(listener: TcpListener, messages: Arc<Mutex<Vec<String>>>) -> Running {
    let (stop, mut stopped) = watch::channel(false);
    let task = tokio::spawn(async move {
        let mut connections = JoinSet::new();
        loop {
            tokio::select! {
                accepted = listener.accept() => {
                    if let Ok((stream, _)) = accepted {
                        connections.spawn(session(stream, messages.clone()));
                    }
                }
                Some(_) = connections.join_next(), if !connections.is_empty() => {}
                _ = stopped.changed() => break,
            }
        }
        drop(listener);
        // Aborting a session drops its socket: the client sees the connection close.
        connections.shutdown().await;
    });
    Running { stop, task }
}

/// One SMTP conversation. Errors simply end it.
async fn session(stream: TcpStream, messages: Arc<Mutex<Vec<String>>>) {
    let _ = converse(stream, messages).await;
}

async fn converse(stream: TcpStream, messages: Arc<Mutex<Vec<String>>>) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read);
    write.write_all(b"220 sink.test ESMTP wuye test sink\r\n").await?;
    let mut greeted = false;
    let mut from: Option<String> = None;
    let mut recipients: Vec<String> = Vec::new();
    let mut line = Vec::new();
    loop {
        line.clear();
        if lines.read_until(b'\n', &mut line).await? == 0 {
            return Ok(());
        }
        let command = String::from_utf8_lossy(&line).trim_end_matches(['\r', '\n']).to_string();
        let verb = command.split_whitespace().next().unwrap_or("").to_ascii_uppercase();
        let argument = command.get(verb.len()..).unwrap_or("").trim();
        let reply: &[u8] = match verb.as_str() {
            "EHLO" => {
                greeted = true;
                (from, recipients) = (None, Vec::new());
                b"250-sink.test greets you\r\n250-8BITMIME\r\n250 SIZE 10485760\r\n"
            }
            "HELO" => {
                greeted = true;
                (from, recipients) = (None, Vec::new());
                b"250 sink.test\r\n"
            }
            "MAIL" if !greeted => b"503 5.5.1 EHLO first\r\n",
            "MAIL" if from.is_some() => b"503 5.5.1 nested MAIL command\r\n",
            "MAIL" if argument.to_ascii_uppercase().starts_with("FROM:") => {
                from = Some(argument[5..].trim().to_string());
                b"250 2.1.0 OK\r\n"
            }
            "RCPT" if from.is_none() => b"503 5.5.1 MAIL first\r\n",
            "RCPT" if argument.to_ascii_uppercase().starts_with("TO:") => {
                recipients.push(argument[3..].trim().to_string());
                b"250 2.1.5 OK\r\n"
            }
            "MAIL" | "RCPT" => b"501 5.5.4 syntax error in parameters\r\n",
            "DATA" if recipients.is_empty() => b"503 5.5.1 RCPT first\r\n",
            "DATA" => {
                write.write_all(b"354 end data with <CR><LF>.<CR><LF>\r\n").await?;
                let mut text = Vec::new();
                loop {
                    line.clear();
                    if lines.read_until(b'\n', &mut line).await? == 0 {
                        // The client went away mid-message: nothing was delivered.
                        return Ok(());
                    }
                    let content = line.strip_suffix(b"\n").unwrap_or(&line);
                    let content = content.strip_suffix(b"\r").unwrap_or(content);
                    if content == b"." {
                        break;
                    }
                    // Dot-unstuffing (RFC 5321 4.5.2).
                    let content = content.strip_prefix(b".").unwrap_or(content);
                    text.extend_from_slice(content);
                    text.extend_from_slice(b"\r\n");
                }
                messages.lock().expect("sink messages").push(String::from_utf8_lossy(&text).into_owned());
                (from, recipients) = (None, Vec::new());
                b"250 2.0.0 OK: queued\r\n"
            }
            "RSET" => {
                (from, recipients) = (None, Vec::new());
                b"250 2.0.0 OK\r\n"
            }
            "NOOP" => b"250 2.0.0 OK\r\n",
            "VRFY" => b"252 2.0.0 cannot verify\r\n",
            "QUIT" => {
                write.write_all(b"221 2.0.0 bye\r\n").await?;
                return Ok(());
            }
            // No STARTTLS and no AUTH: this relay offers neither.
            _ => b"502 5.5.2 command not implemented\r\n",
        };
        write.write_all(reply).await?;
    }
}

/// The messages aiosmtpd's Mailbox handler wrote, oldest first (by delivery time, then name).
fn read_maildir(dir: &std::path::Path) -> Vec<String> {
    let mut files: Vec<(std::time::SystemTime, String, PathBuf)> = Vec::new();
    for sub in ["new", "cur"] {
        let Ok(entries) = std::fs::read_dir(dir.join(sub)) else { continue };
        for entry in entries.flatten() {
            let path = entry.path();
            let modified = entry.metadata().and_then(|m| m.modified()).unwrap_or(std::time::UNIX_EPOCH);
            files.push((modified, entry.file_name().to_string_lossy().into_owned(), path));
        }
    }
    files.sort();
    files.into_iter().filter_map(|(_, _, path)| std::fs::read(path).ok()).map(|bytes| String::from_utf8_lossy(&bytes).into_owned()).collect()
}
