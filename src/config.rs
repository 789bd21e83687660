//! Configuration: safe defaults, overridden by `WUYE_*` environment variables, validated once at
//! start-up so that a bad value stops the service with a message that names the variable.
//!
//! Every credential is held in a [`Secret`] (the database URL in a [`DatabaseUrl`], which hides
//! its password): printing the configuration, or a value of it, shows `***` in its place.
use std::{collections::HashMap, net::SocketAddr};

/// A credential (a password, a key, a token): `Debug` and `Display` show `***`, so it cannot
/// reach a log line, an error or a command's output by accident. [`Secret::expose`] hands it
/// to the one place that uses it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("***")
    }
}

impl std::fmt::Display for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("***")
    }
}

/// `WUYE_DATABASE_URL`. Shown (`Debug`, `Display`) with its password as `***`, in the user part
/// or as a `password` parameter; [`DatabaseUrl::expose`] gives the whole URL to connect with.
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseUrl {
    url: Secret,
    shown: String,
}

impl DatabaseUrl {
    /// Refuses what is not a URL (without echoing it: it may hold a password).
    pub fn parse(text: &str) -> Result<DatabaseUrl, String> {
        if !(text.starts_with("sqlite:") || text.starts_with("postgres://") || text.starts_with("postgresql://")) {
            return Err("WUYE_DATABASE_URL must start with sqlite:, postgres:// or postgresql://".into());
        }
        let mut shown = url::Url::parse(text)
            .map_err(|e| format!("WUYE_DATABASE_URL is not a valid URL ({e}); its value is not shown, as it may hold a password"))?;
        if shown.password().is_some() {
            let _ = shown.set_password(Some("***"));
        }
        let query: Vec<(String, String)> = shown.query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
        if query.iter().any(|(k, _)| k.contains("password")) {
            let hidden = query.iter().map(|(k, v)| (k.as_str(), if k.contains("password") { "***" } else { v.as_str() }));
            shown.query_pairs_mut().clear().extend_pairs(hidden);
        }
        Ok(DatabaseUrl { url: Secret::new(text), shown: shown.to_string() })
    }

    pub fn expose(&self) -> &str {
        self.url.expose()
    }
}

impl std::fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.shown)
    }
}

impl std::fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.shown)
    }
}

#[derive(Clone, Debug)]
pub struct Config {
    /// `WUYE_DATABASE_URL`: `sqlite://FILE?mode=rwc` or `postgres://user@host/db`.
    pub database_url: DatabaseUrl,
    /// `WUYE_LISTEN`: address and port to serve HTTP on.
    pub listen: SocketAddr,
    /// `WUYE_METRICS_LISTEN`: address and port of `GET /metrics` (Prometheus), apart from the
    /// public port. Unset (the default): no metrics are served.
    pub metrics_listen: Option<SocketAddr>,
    /// `WUYE_LOG`: the log filter, e.g. `info` or `wuye=debug,info`.
    pub log_filter: String,
    /// `WUYE_LOG_FORMAT`: text (default) or json, one object a line for a log collector.
    pub log_format: LogFormat,
    /// `WUYE_SESSION_HOURS`: how long a login stays valid.
    pub session_hours: i64,
    /// `WUYE_LOGIN_MAX_FAILURES` failed logins for one account within
    /// `WUYE_LOGIN_WINDOW_MINUTES` lock further attempts until the window has passed.
    pub login_max_failures: u64,
    pub login_window_minutes: i64,
    /// `WUYE_MAX_BODY_BYTES`: the largest request body accepted.
    pub max_body_bytes: usize,
    /// `WUYE_GATEWAY_SECRET`: the key the built-in payment gateway signs callbacks with. Unset,
    /// a random key is made at start-up, so no callback can be forged (nor accepted).
    pub gateway_secret: Secret,
    /// `WUYE_GATEWAY_CHECKOUT`: on, the built-in gateway's own checkout page lets an owner
    /// confirm an online payment with no money moving: for demonstrations only. Default off;
    /// on by default under `wuye demo`.
    pub gateway_checkout: bool,
    /// `WUYE_PUBLIC_URL`: where owners reach wuye, for the links in emails. Default: the listen address.
    pub public_url: String,
    pub mail: MailConfig,
    pub jobs: JobsConfig,
    /// `WUYE_TICKET_REOPEN_DAYS`: how long after a ticket is resolved its owner may reopen it.
    pub ticket_reopen_days: i64,
    /// `WUYE_TICKET_AUTO_CLOSE_DAYS`: a resolved ticket the owner neither confirms nor reopens
    /// is closed this many days after it was resolved.
    pub ticket_auto_close_days: i64,
}

/// Email: how it leaves, and how hard the outbox tries.
#[derive(Clone, Debug)]
pub struct MailConfig {
    pub transport: MailTransport,
    /// `WUYE_MAIL_FROM`: the From address, e.g. `物业服务中心 <service@example.com>`.
    pub from: String,
    /// `WUYE_MAIL_LANGUAGE`: zh (default) or en, the language of the letters.
    pub language: Language,
    /// `WUYE_MAIL_MAX_ATTEMPTS`: attempts before a message is left failed for a manager to retry.
    pub max_attempts: i32,
    /// `WUYE_MAIL_RETRY_SECONDS`: the first wait after a failed attempt; each next wait doubles.
    pub retry_seconds: i64,
}

/// `WUYE_MAIL_TRANSPORT`: file (default), smtp or stub.
#[derive(Clone, Debug)]
pub enum MailTransport {
    /// `.eml` files in `WUYE_MAIL_DIR` (default `mail`): no mail server needed.
    File { dir: std::path::PathBuf },
    /// `WUYE_SMTP_HOST`, `WUYE_SMTP_PORT` (default 587, or 465 with tls), `WUYE_SMTP_SECURITY`
    /// (starttls, the default; tls; or none, for a local relay), `WUYE_SMTP_USERNAME` and
    /// `WUYE_SMTP_PASSWORD` (both or neither).
    Smtp { host: String, port: u16, security: SmtpSecurity, credentials: Option<(String, Secret)> },
    /// Kept in memory (for tests).
    Stub,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SmtpSecurity {
    StartTls,
    Tls,
    None,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Language {
    Zh,
    En,
}

impl Language {
    pub fn as_str(self) -> &'static str {
        match self {
            Language::Zh => "zh",
            Language::En => "en",
        }
    }
}

/// The scheduler and the background workers.
#[derive(Clone, Debug)]
pub struct JobsConfig {
    /// `WUYE_SCHEDULER`: on (default) or off. Off, this replica serves HTTP only: no scheduled
    /// ticks, no job runs, no email delivery (another replica does them).
    pub enabled: bool,
    /// `WUYE_JOB_<NAME>` (a cron expression with seconds, or `off`) and `WUYE_JOB_<NAME>_ZONE`
    /// (default `WUYE_JOBS_ZONE`, itself default Asia/Shanghai), for each job in `wuye jobs list`.
    pub schedules: Vec<crate::jobs::JobSchedule>,
    /// `WUYE_JOB_MAX_ATTEMPTS`: attempts of a failing run before it is left failed.
    pub max_attempts: i32,
    /// `WUYE_JOB_RETRY_SECONDS`: the first wait before a failed run is retried; each next doubles.
    pub retry_seconds: i64,
    /// `WUYE_WORKER_POLL_MS`: how often the workers look for due work.
    pub poll: std::time::Duration,
}

pub const DEFAULT_DATABASE_URL: &str = "sqlite://wuye.db?mode=rwc";

/// What `wuye demo` starts from instead of the defaults: a database of its own, and the built-in
/// checkout on so that online payment can be walked through. A variable set in the environment
/// still wins (`WUYE_GATEWAY_CHECKOUT=off wuye demo` has no checkout).
pub const DEMO_DEFAULTS: &[(&str, &str)] = &[("WUYE_DATABASE_URL", "sqlite://wuye-demo.db?mode=rwc"), ("WUYE_GATEWAY_CHECKOUT", "on")];

impl Config {
    /// Reads the process environment over `defaults` (`DEMO_DEFAULTS` or none).
    pub fn from_env(defaults: &[(&str, &str)]) -> Result<Config, String> {
        let vars: HashMap<String, String> = std::env::vars().filter(|(k, _)| k.starts_with("WUYE_")).collect();
        Config::from_vars(&over(defaults, vars), DEFAULT_DATABASE_URL)
    }

    pub fn from_vars(vars: &HashMap<String, String>, default_database_url: &str) -> Result<Config, String> {
        let get = |name: &str| vars.get(name).map(|v| v.trim()).filter(|v| !v.is_empty());
        let database_url = DatabaseUrl::parse(get("WUYE_DATABASE_URL").unwrap_or(default_database_url))?;
        let listen = get("WUYE_LISTEN").unwrap_or("127.0.0.1:8080");
        let listen: SocketAddr = listen
            .parse()
            .map_err(|_| format!("WUYE_LISTEN must be an address and port like 127.0.0.1:8080, got {listen:?}"))?;
        let metrics_listen = get("WUYE_METRICS_LISTEN")
            .map(|text| text.parse::<SocketAddr>().map_err(|_| format!("WUYE_METRICS_LISTEN must be an address and port like 127.0.0.1:9100, got {text:?}")))
            .transpose()?;
        if metrics_listen.is_some_and(|m| m.port() != 0 && m == listen) {
            return Err("WUYE_METRICS_LISTEN must differ from WUYE_LISTEN: metrics are not for the public port".into());
        }
        let log_filter = get("WUYE_LOG").unwrap_or("info").to_string();
        tracing_subscriber::EnvFilter::try_new(&log_filter).map_err(|e| format!("WUYE_LOG must be a log filter like info or wuye=debug,info, got {log_filter:?}: {e}"))?;
        let log_format = match get("WUYE_LOG_FORMAT").unwrap_or("text") {
            "text" => LogFormat::Text,
            "json" => LogFormat::Json,
            other => return Err(format!("WUYE_LOG_FORMAT must be text or json, got {other:?}")),
        };
        let mail = MailConfig {
            transport: mail_transport(&get)?,
            from: {
                let from = get("WUYE_MAIL_FROM").unwrap_or("物业服务中心 <noreply@wuye.localhost>");
                from.parse::<lettre::message::Mailbox>()
                    .map_err(|_| format!("WUYE_MAIL_FROM must be an address like 物业服务中心 <service@example.com>, got {from:?}"))?;
                from.to_string()
            },
            language: match get("WUYE_MAIL_LANGUAGE").unwrap_or("zh") {
                "zh" => Language::Zh,
                "en" => Language::En,
                other => return Err(format!("WUYE_MAIL_LANGUAGE must be zh or en, got {other:?}")),
            },
            max_attempts: number(get("WUYE_MAIL_MAX_ATTEMPTS"), "WUYE_MAIL_MAX_ATTEMPTS", 8, 1..=100)?,
            retry_seconds: number(get("WUYE_MAIL_RETRY_SECONDS"), "WUYE_MAIL_RETRY_SECONDS", 60, 1..=24 * 3600)?,
        };
        let jobs = JobsConfig {
            enabled: switch(get("WUYE_SCHEDULER"), "WUYE_SCHEDULER", true)?,
            schedules: crate::jobs::schedules_from_vars(vars)?,
            max_attempts: number(get("WUYE_JOB_MAX_ATTEMPTS"), "WUYE_JOB_MAX_ATTEMPTS", 3, 1..=100)?,
            retry_seconds: number(get("WUYE_JOB_RETRY_SECONDS"), "WUYE_JOB_RETRY_SECONDS", 60, 1..=24 * 3600)?,
            poll: std::time::Duration::from_millis(number(get("WUYE_WORKER_POLL_MS"), "WUYE_WORKER_POLL_MS", 1000, 10..=60_000)?),
        };
        let public_url = match get("WUYE_PUBLIC_URL") {
            Some(url) => url.trim_end_matches('/').to_string(),
            // Listening on every interface: the machine's own name is the best guess.
            None if listen.ip().is_unspecified() => format!("http://localhost:{}", listen.port()),
            None => format!("http://{listen}"),
        };
        if !(public_url.starts_with("http://") || public_url.starts_with("https://")) {
            return Err(format!("WUYE_PUBLIC_URL must start with http:// or https://, got {public_url:?}"));
        }
        let ticket_reopen_days = number(get("WUYE_TICKET_REOPEN_DAYS"), "WUYE_TICKET_REOPEN_DAYS", 7, 1..=365)?;
        let ticket_auto_close_days = number(get("WUYE_TICKET_AUTO_CLOSE_DAYS"), "WUYE_TICKET_AUTO_CLOSE_DAYS", 7, 1..=365)?;
        if ticket_auto_close_days < ticket_reopen_days {
            return Err(format!(
                "WUYE_TICKET_AUTO_CLOSE_DAYS ({ticket_auto_close_days}) must not be shorter than WUYE_TICKET_REOPEN_DAYS ({ticket_reopen_days}): an owner may reopen a repair until it closes"
            ));
        }
        Ok(Config {
            database_url,
            listen,
            metrics_listen,
            log_filter,
            log_format,
            public_url,
            mail,
            jobs,
            ticket_reopen_days,
            ticket_auto_close_days,
            session_hours: number(get("WUYE_SESSION_HOURS"), "WUYE_SESSION_HOURS", 12, 1..=24 * 90)?,
            login_max_failures: number(get("WUYE_LOGIN_MAX_FAILURES"), "WUYE_LOGIN_MAX_FAILURES", 5, 1..=100)?,
            login_window_minutes: number(get("WUYE_LOGIN_WINDOW_MINUTES"), "WUYE_LOGIN_WINDOW_MINUTES", 15, 1..=24 * 60)?,
            max_body_bytes: number(get("WUYE_MAX_BODY_BYTES"), "WUYE_MAX_BODY_BYTES", 10 << 20, 1024..=100 << 20)?,
            gateway_checkout: switch(get("WUYE_GATEWAY_CHECKOUT"), "WUYE_GATEWAY_CHECKOUT", false)?,
            gateway_secret: match get("WUYE_GATEWAY_SECRET") {
                Some(secret) if secret.len() < 16 => return Err("WUYE_GATEWAY_SECRET must have at least 16 characters".into()),
                Some(secret) => Secret::new(secret),
                None => {
                    use rand::RngCore;
                    let mut key = [0u8; 32];
                    rand::rng().fill_bytes(&mut key);
                    Secret::new(hex::encode(key))
                }
            },
        })
    }
}

/// `vars` over `defaults`: a variable left blank counts as unset, as everywhere here.
fn over(defaults: &[(&str, &str)], mut vars: HashMap<String, String>) -> HashMap<String, String> {
    for (name, value) in defaults {
        if vars.get(*name).is_none_or(|v| v.trim().is_empty()) {
            vars.insert(name.to_string(), value.to_string());
        }
    }
    vars
}

fn mail_transport<'a>(get: &impl Fn(&str) -> Option<&'a str>) -> Result<MailTransport, String> {
    match get("WUYE_MAIL_TRANSPORT").unwrap_or("file") {
        "file" => Ok(MailTransport::File { dir: get("WUYE_MAIL_DIR").unwrap_or("mail").into() }),
        "stub" => Ok(MailTransport::Stub),
        "smtp" => {
            let host = get("WUYE_SMTP_HOST").ok_or("WUYE_SMTP_HOST must be set when WUYE_MAIL_TRANSPORT is smtp")?.to_string();
            let security = match get("WUYE_SMTP_SECURITY").unwrap_or("starttls") {
                "starttls" => SmtpSecurity::StartTls,
                "tls" => SmtpSecurity::Tls,
                "none" => SmtpSecurity::None,
                other => return Err(format!("WUYE_SMTP_SECURITY must be starttls, tls or none, got {other:?}")),
            };
            let default_port = if security == SmtpSecurity::Tls { 465 } else { 587 };
            let port = number(get("WUYE_SMTP_PORT"), "WUYE_SMTP_PORT", default_port, 1..=65535)?;
            let credentials = match (get("WUYE_SMTP_USERNAME"), get("WUYE_SMTP_PASSWORD")) {
                (Some(user), Some(password)) => Some((user.to_string(), Secret::new(password))),
                (None, None) => None,
                _ => return Err("WUYE_SMTP_USERNAME and WUYE_SMTP_PASSWORD must be set together".into()),
            };
            Ok(MailTransport::Smtp { host, port, security, credentials })
        }
        other => Err(format!("WUYE_MAIL_TRANSPORT must be file, smtp or stub, got {other:?}")),
    }
}

fn switch(value: Option<&str>, name: &str, default: bool) -> Result<bool, String> {
    match value {
        None => Ok(default),
        Some("on" | "true" | "1") => Ok(true),
        Some("off" | "false" | "0") => Ok(false),
        Some(other) => Err(format!("{name} must be on or off, got {other:?}")),
    }
}

fn number<T>(value: Option<&str>, name: &str, default: T, range: std::ops::RangeInclusive<T>) -> Result<T, String>
where
    T: std::str::FromStr + PartialOrd + std::fmt::Display + Copy,
{
    let Some(text) = value else { return Ok(default) };
    match text.parse::<T>() {
        Ok(n) if range.contains(&n) => Ok(n),
        _ => Err(format!("{name} must be a whole number from {} to {}, got {text:?}", range.start(), range.end())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn defaults_need_nothing_set() {
        let config = Config::from_vars(&vars(&[]), DEFAULT_DATABASE_URL).unwrap();
        assert_eq!(config.database_url.expose(), "sqlite://wuye.db?mode=rwc");
        assert_eq!(config.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(config.session_hours, 12);
    }

    #[test]
    fn the_demo_turns_the_checkout_on_unless_told_otherwise() {
        let demo = |pairs| Config::from_vars(&over(DEMO_DEFAULTS, vars(pairs)), DEFAULT_DATABASE_URL).unwrap();
        let config = demo(&[]);
        assert!(config.gateway_checkout);
        assert_eq!(config.database_url.expose(), "sqlite://wuye-demo.db?mode=rwc");
        assert!(!demo(&[("WUYE_GATEWAY_CHECKOUT", "off")]).gateway_checkout);
        assert!(demo(&[("WUYE_GATEWAY_CHECKOUT", " ")]).gateway_checkout);
        assert_eq!(demo(&[("WUYE_DATABASE_URL", "sqlite://x.db")]).database_url.expose(), "sqlite://x.db");
        assert!(!Config::from_vars(&vars(&[]), DEFAULT_DATABASE_URL).unwrap().gateway_checkout);
    }

    #[test]
    fn no_credential_is_shown() {
        let config = Config::from_vars(
            &vars(&[
                ("WUYE_DATABASE_URL", "postgres://wuye:pa55-in-user@db.example/wuye?sslmode=require&password=pa55-in-query"),
                ("WUYE_MAIL_TRANSPORT", "smtp"),
                ("WUYE_SMTP_HOST", "smtp.example"),
                ("WUYE_SMTP_USERNAME", "office"),
                ("WUYE_SMTP_PASSWORD", "pa55-smtp"),
                ("WUYE_GATEWAY_SECRET", "pa55-gateway-0123456789"),
            ]),
            DEFAULT_DATABASE_URL,
        )
        .unwrap();
        let shown = format!("{config:?} {}", config.database_url);
        for secret in ["pa55-in-user", "pa55-in-query", "pa55-smtp", "pa55-gateway"] {
            assert!(!shown.contains(secret), "{secret} shown in {shown}");
        }
        assert_eq!(config.database_url.to_string(), "postgres://wuye:***@db.example/wuye?sslmode=require&password=***");
        assert!(config.database_url.expose().contains("pa55-in-user"), "connecting still has the password");
        // A URL that does not parse is refused without being echoed.
        let error = Config::from_vars(&vars(&[("WUYE_DATABASE_URL", "postgres://wuye:pa55@db:port/wuye")]), DEFAULT_DATABASE_URL).unwrap_err();
        assert!(error.contains("WUYE_DATABASE_URL") && !error.contains("pa55"), "{error}");
    }

    #[test]
    fn bad_values_name_the_variable() {
        let cases = [
            ("WUYE_LISTEN", "localhost", "WUYE_LISTEN"),
            ("WUYE_DATABASE_URL", "mysql://x", "WUYE_DATABASE_URL"),
            ("WUYE_SESSION_HOURS", "0", "WUYE_SESSION_HOURS"),
            ("WUYE_LOGIN_MAX_FAILURES", "many", "WUYE_LOGIN_MAX_FAILURES"),
            ("WUYE_MAIL_TRANSPORT", "smtp", "WUYE_SMTP_HOST"),
            ("WUYE_MAIL_FROM", "nobody", "WUYE_MAIL_FROM"),
            ("WUYE_SCHEDULER", "maybe", "WUYE_SCHEDULER"),
            ("WUYE_JOB_LATE_FEES", "every day", "WUYE_JOB_LATE_FEES"),
            ("WUYE_JOB_LATE_FEES_ZONE", "Mars/Olympus", "WUYE_JOB_LATE_FEES_ZONE"),
            ("WUYE_JOB_BILLRUN", "0 0 1 1 * *", "WUYE_JOB_BILLRUN"),
            ("WUYE_TICKET_AUTO_CLOSE_DAYS", "3", "WUYE_TICKET_REOPEN_DAYS"),
            ("WUYE_METRICS_LISTEN", "9100", "WUYE_METRICS_LISTEN"),
            ("WUYE_METRICS_LISTEN", "127.0.0.1:8080", "WUYE_METRICS_LISTEN"),
            ("WUYE_LOG_FORMAT", "xml", "WUYE_LOG_FORMAT"),
            ("WUYE_LOG", "wuye=loud", "WUYE_LOG"),
        ];
        for (name, value, expected) in cases {
            let error = Config::from_vars(&vars(&[(name, value)]), DEFAULT_DATABASE_URL).unwrap_err();
            assert!(error.contains(expected), "{error}");
        }
    }
}
