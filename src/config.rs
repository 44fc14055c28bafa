//! Typed configuration, validated on every start of a request from the raw variables the
//! platform hands over. A bad value is a [`ConfigError`] that names the variable.
use crate::uri::Uri;
use std::collections::BTreeMap;
use std::fmt;

/// Every variable Gatehouse reads; the platform collects exactly these.
pub const VARIABLES: &[&str] = &[
    "PUBLIC_URL",
    "KEY_ENCRYPTION_SECRET",
    "ADMIN_CLIENT_ID",
    "ADMIN_CLIENT_SECRET",
    "ACCESS_TOKEN_TTL",
    "ID_TOKEN_TTL",
    "REFRESH_TOKEN_TTL_DAYS",
    "SESSION_TTL",
    "DEV_MAILBOX",
    "REPORT_D1_ROUND_TRIPS",
    "SIMULATED_D1_RTT_MS",
    "PASSWORD_HASH_MEMORY_KIB",
    "PASSWORD_HASH_ITERATIONS",
    "CODE_SENDS_PER_HOUR_PER_NETWORK",
    "CODE_SENDS_PER_HOUR",
];

pub type Vars = BTreeMap<String, String>;

#[derive(Debug, Clone, PartialEq)]
pub struct ConfigError {
    pub variable: &'static str,
    pub problem: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.variable, self.problem)
    }
}

/// The validated configuration. Secrets never appear in its `Debug`.
#[derive(Clone)]
pub struct Config {
    /// Origin the provider is reached at, without a trailing slash; `None` means "the
    /// origin of each request" (local development).
    pub public_url: Option<String>,
    pub key_encryption_secret: String,
    pub admin_client_id: String,
    pub admin_client_secret: String,
    /// Default access-token lifetime in seconds.
    pub access_token_ttl: i64,
    /// ID-token lifetime in seconds.
    pub id_token_ttl: i64,
    /// Refresh-token lifetime in days, unless the app sets its own.
    pub refresh_token_ttl_days: i64,
    /// Browser sign-in session lifetime in seconds.
    pub session_ttl: i64,
    /// Development only: messages go to a mailbox page instead of a connector.
    pub dev_mailbox: bool,
    /// Development and benchmarks: each response says how many D1 round trips it took.
    pub report_d1_round_trips: bool,
    /// Benchmarks only: every D1 round trip first waits this long (milliseconds).
    pub simulated_d1_rtt_ms: i64,
    /// Argon2id parameters for new password hashes.
    pub password_hash: crate::crypto::password::Params,
    /// How many codes (email and SMS) one client network (an IPv4 address, an IPv6 /64)
    /// may have sent within an hour.
    pub code_sends_per_hour_per_network: i64,
    /// How many codes may be sent within an hour in all.
    pub code_sends_per_hour: i64,
}

/// Whether `host` names this machine: `localhost`, a `*.localhost` name (RFC 6761), or a
/// loopback address.
pub fn is_loopback_host(host: &str) -> bool {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    host == "localhost"
        || host.ends_with(".localhost")
        || bare
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("public_url", &self.public_url)
            .field("admin_client_id", &self.admin_client_id)
            .field("access_token_ttl", &self.access_token_ttl)
            .finish_non_exhaustive()
    }
}

fn err(variable: &'static str, problem: impl Into<String>) -> ConfigError {
    ConfigError {
        variable,
        problem: problem.into(),
    }
}

fn optional<'a>(vars: &'a Vars, name: &str) -> Option<&'a str> {
    vars.get(name).map(|s| s.trim()).filter(|s| !s.is_empty())
}

fn required<'a>(vars: &'a Vars, name: &'static str) -> Result<&'a str, ConfigError> {
    optional(vars, name).ok_or_else(|| err(name, "is not set"))
}

fn secret(vars: &Vars, name: &'static str) -> Result<String, ConfigError> {
    let v = required(vars, name)?;
    if v.chars().count() < 32 {
        return Err(err(name, "must be at least 32 characters long"));
    }
    Ok(v.to_owned())
}

fn seconds(
    vars: &Vars,
    name: &'static str,
    default: i64,
    min: i64,
    max: i64,
) -> Result<i64, ConfigError> {
    bounded(vars, name, (default, min, max), "a whole number of seconds")
}

fn days(vars: &Vars, name: &'static str, default: i64) -> Result<i64, ConfigError> {
    match optional(vars, name) {
        None => Ok(default),
        Some(v) => match v.parse::<i64>() {
            Ok(n) if (1..=180).contains(&n) => Ok(n),
            _ => Err(err(
                name,
                format!("must be a whole number of days from 1 to 180, not `{v}`"),
            )),
        },
    }
}

fn public_url(vars: &Vars) -> Result<Option<String>, ConfigError> {
    const NAME: &str = "PUBLIC_URL";
    let Some(raw) = optional(vars, NAME) else {
        return Ok(None);
    };
    let url = Uri::parse(raw).ok_or_else(|| err(NAME, format!("is not a URL: `{raw}`")))?;
    if !url.is_web() {
        return Err(err(
            NAME,
            format!("must be an http(s) origin such as https://auth.example.com, not `{raw}`"),
        ));
    }
    if !matches!(url.path, "" | "/") || url.query.is_some() || url.fragment.is_some() {
        return Err(err(
            NAME,
            format!("must be an origin without a path, query or fragment, not `{raw}`"),
        ));
    }
    Ok(url.origin())
}

/// A whole number from `min` to `max`, absent meaning `default`.
fn number(
    vars: &Vars,
    name: &'static str,
    default: i64,
    min: i64,
    max: i64,
) -> Result<i64, ConfigError> {
    bounded(vars, name, (default, min, max), "a whole number")
}

/// `name` as a number within `(default, min, max)`; the error says it must be `what`.
fn bounded(
    vars: &Vars,
    name: &'static str,
    (default, min, max): (i64, i64, i64),
    what: &str,
) -> Result<i64, ConfigError> {
    match optional(vars, name) {
        None => Ok(default),
        Some(v) => match v.parse::<i64>() {
            Ok(n) if (min..=max).contains(&n) => Ok(n),
            _ => Err(err(
                name,
                format!("must be {what} from {min} to {max}, not `{v}`"),
            )),
        },
    }
}

/// `true` or `false`, absent meaning `false`.
fn flag(vars: &Vars, name: &'static str) -> Result<bool, ConfigError> {
    match optional(vars, name) {
        None | Some("false") => Ok(false),
        Some("true") => Ok(true),
        Some(v) => Err(err(name, format!("must be true or false, not `{v}`"))),
    }
}

impl Config {
    pub fn from_vars(vars: &Vars) -> Result<Self, ConfigError> {
        let admin_client_id = required(vars, "ADMIN_CLIENT_ID")?;
        if admin_client_id.len() > 64
            || !admin_client_id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(err(
                "ADMIN_CLIENT_ID",
                "must be 1 to 64 characters of A-Z, a-z, 0-9, - and _",
            ));
        }
        let public_url = public_url(vars)?;
        let dev_mailbox = flag(vars, "DEV_MAILBOX")?;
        // The mailbox shows every code sent: it must never be on where others can reach it.
        if let (true, Some(url)) = (dev_mailbox, &public_url) {
            let host = Uri::parse(url).and_then(|u| u.host()).unwrap_or_default();
            if !is_loopback_host(&host) {
                return Err(err(
                    "DEV_MAILBOX",
                    format!(
                        "must not be true while PUBLIC_URL ({url}) is not a loopback address: \
                         the development mailbox would show everyone's codes"
                    ),
                ));
            }
        }
        Ok(Self {
            public_url,
            key_encryption_secret: secret(vars, "KEY_ENCRYPTION_SECRET")?,
            admin_client_id: admin_client_id.to_owned(),
            admin_client_secret: secret(vars, "ADMIN_CLIENT_SECRET")?,
            access_token_ttl: seconds(vars, "ACCESS_TOKEN_TTL", 3600, 60, 86_400)?,
            id_token_ttl: seconds(vars, "ID_TOKEN_TTL", 3600, 60, 86_400)?,
            refresh_token_ttl_days: days(vars, "REFRESH_TOKEN_TTL_DAYS", 14)?,
            session_ttl: seconds(vars, "SESSION_TTL", 14 * 86_400, 300, 180 * 86_400)?,
            dev_mailbox,
            report_d1_round_trips: flag(vars, "REPORT_D1_ROUND_TRIPS")?,
            simulated_d1_rtt_ms: number(vars, "SIMULATED_D1_RTT_MS", 0, 0, 5_000)?,
            password_hash: crate::crypto::password::Params {
                // A Workers isolate has 128 MB in all.
                memory_kib: u32::try_from(number(
                    vars,
                    "PASSWORD_HASH_MEMORY_KIB",
                    i64::from(crate::crypto::password::DEFAULT.memory_kib),
                    1024,
                    65_536,
                )?)
                .unwrap_or(crate::crypto::password::DEFAULT.memory_kib),
                iterations: u32::try_from(number(
                    vars,
                    "PASSWORD_HASH_ITERATIONS",
                    i64::from(crate::crypto::password::DEFAULT.iterations),
                    1,
                    10,
                )?)
                .unwrap_or(crate::crypto::password::DEFAULT.iterations),
            },
            code_sends_per_hour_per_network: number(
                vars,
                "CODE_SENDS_PER_HOUR_PER_NETWORK",
                20,
                1,
                1_000_000,
            )?,
            code_sends_per_hour: number(vars, "CODE_SENDS_PER_HOUR", 500, 1, 100_000_000)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn good() -> Vars {
        [
            ("KEY_ENCRYPTION_SECRET", "k".repeat(32)),
            ("ADMIN_CLIENT_ID", "admin".to_owned()),
            ("ADMIN_CLIENT_SECRET", "s".repeat(40)),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect()
    }

    fn with(name: &str, value: &str) -> Vars {
        let mut v = good();
        v.insert(name.into(), value.into());
        v
    }

    #[test]
    fn defaults_apply() {
        let c = Config::from_vars(&good()).unwrap();
        assert_eq!(c.public_url, None);
        assert_eq!(c.access_token_ttl, 3600);
        assert!(!format!("{c:?}").contains("sss"));
    }

    #[test]
    fn each_bad_value_names_its_variable() {
        let cases = [
            ("KEY_ENCRYPTION_SECRET", "short"),
            ("KEY_ENCRYPTION_SECRET", ""),
            ("ADMIN_CLIENT_SECRET", "short"),
            ("ADMIN_CLIENT_ID", "has space"),
            ("PUBLIC_URL", "not a url"),
            ("PUBLIC_URL", "ftp://example.com"),
            ("PUBLIC_URL", "https://example.com/auth"),
            ("ACCESS_TOKEN_TTL", "ten"),
            ("ACCESS_TOKEN_TTL", "10"),
            ("REFRESH_TOKEN_TTL_DAYS", "0"),
            ("SESSION_TTL", "x"),
        ];
        for (name, value) in cases {
            let e = Config::from_vars(&with(name, value)).unwrap_err();
            assert_eq!(e.variable, name, "{name}={value:?}");
        }
        let mut missing = good();
        missing.remove("ADMIN_CLIENT_ID");
        assert_eq!(
            Config::from_vars(&missing).unwrap_err().variable,
            "ADMIN_CLIENT_ID"
        );
    }

    #[test]
    fn the_dev_mailbox_refuses_a_public_url_that_is_not_loopback() {
        let mut v = good();
        v.insert("DEV_MAILBOX".into(), "true".into());
        v.insert("PUBLIC_URL".into(), "https://auth.example.com".into());
        let e = Config::from_vars(&v).unwrap_err();
        assert_eq!(e.variable, "DEV_MAILBOX");
        assert!(e.problem.contains("PUBLIC_URL"), "{}", e.problem);
        for ok in [
            "http://localhost:8787",
            "http://gatehouse.localhost",
            "http://127.0.0.1:8787",
            "http://[::1]:8787",
        ] {
            v.insert("PUBLIC_URL".into(), ok.into());
            assert!(Config::from_vars(&v).is_ok(), "{ok}");
        }
        assert!(!is_loopback_host("example.com"));
        assert!(!is_loopback_host("localhost.example.com"));
        assert!(!is_loopback_host("10.0.0.1"));
    }

    #[test]
    fn public_url_is_normalized_to_its_origin() {
        let c = Config::from_vars(&with("PUBLIC_URL", "https://Auth.Example.com/")).unwrap();
        assert_eq!(c.public_url.as_deref(), Some("https://auth.example.com"));
    }
}
