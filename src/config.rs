//! Configuration: safe defaults, overridden by `WUYE_*` environment variables, validated once at
//! start-up so that a bad value stops the service with a message that names the variable.
use std::{collections::HashMap, net::SocketAddr};

#[derive(Clone, Debug)]
pub struct Config {
    /// `WUYE_DATABASE_URL`: `sqlite://FILE?mode=rwc` or `postgres://user@host/db`.
    pub database_url: String,
    /// `WUYE_LISTEN`: address and port to serve HTTP on.
    pub listen: SocketAddr,
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
    pub gateway_secret: String,
}

pub const DEFAULT_DATABASE_URL: &str = "sqlite://wuye.db?mode=rwc";
pub const DEMO_DATABASE_URL: &str = "sqlite://wuye-demo.db?mode=rwc";

impl Config {
    /// Reads the process environment; `default_database_url` differs between `serve` and `demo`.
    pub fn from_env(default_database_url: &str) -> Result<Config, String> {
        let vars: HashMap<String, String> = std::env::vars().filter(|(k, _)| k.starts_with("WUYE_")).collect();
        Config::from_vars(&vars, default_database_url)
    }

    pub fn from_vars(vars: &HashMap<String, String>, default_database_url: &str) -> Result<Config, String> {
        let get = |name: &str| vars.get(name).map(|v| v.trim()).filter(|v| !v.is_empty());
        let database_url = get("WUYE_DATABASE_URL").unwrap_or(default_database_url).to_string();
        if !(database_url.starts_with("sqlite:") || database_url.starts_with("postgres://") || database_url.starts_with("postgresql://")) {
            return Err(format!(
                "WUYE_DATABASE_URL must start with sqlite:, postgres:// or postgresql://, got {database_url:?}"
            ));
        }
        let listen = get("WUYE_LISTEN").unwrap_or("127.0.0.1:8080");
        let listen = listen
            .parse()
            .map_err(|_| format!("WUYE_LISTEN must be an address and port like 127.0.0.1:8080, got {listen:?}"))?;
        Ok(Config {
            database_url,
            listen,
            session_hours: number(get("WUYE_SESSION_HOURS"), "WUYE_SESSION_HOURS", 12, 1..=24 * 90)?,
            login_max_failures: number(get("WUYE_LOGIN_MAX_FAILURES"), "WUYE_LOGIN_MAX_FAILURES", 5, 1..=100)?,
            login_window_minutes: number(get("WUYE_LOGIN_WINDOW_MINUTES"), "WUYE_LOGIN_WINDOW_MINUTES", 15, 1..=24 * 60)?,
            max_body_bytes: number(get("WUYE_MAX_BODY_BYTES"), "WUYE_MAX_BODY_BYTES", 10 << 20, 1024..=100 << 20)?,
            gateway_secret: match get("WUYE_GATEWAY_SECRET") {
                Some(secret) if secret.len() < 16 => return Err("WUYE_GATEWAY_SECRET must have at least 16 characters".into()),
                Some(secret) => secret.to_string(),
                None => {
                    use rand::RngCore;
                    let mut key = [0u8; 32];
                    rand::rng().fill_bytes(&mut key);
                    hex::encode(key)
                }
            },
        })
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
        assert_eq!(config.database_url, "sqlite://wuye.db?mode=rwc");
        assert_eq!(config.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(config.session_hours, 12);
    }

    #[test]
    fn bad_values_name_the_variable() {
        let cases = [
            ("WUYE_LISTEN", "localhost", "WUYE_LISTEN"),
            ("WUYE_DATABASE_URL", "mysql://x", "WUYE_DATABASE_URL"),
            ("WUYE_SESSION_HOURS", "0", "WUYE_SESSION_HOURS"),
            ("WUYE_LOGIN_MAX_FAILURES", "many", "WUYE_LOGIN_MAX_FAILURES"),
        ];
        for (name, value, expected) in cases {
            let error = Config::from_vars(&vars(&[(name, value)]), DEFAULT_DATABASE_URL).unwrap_err();
            assert!(error.contains(expected), "{error}");
        }
    }
}
