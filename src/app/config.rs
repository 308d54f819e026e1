//! Configuration, read from the environment only (a `.env` file is loaded first if
//! there is one). Every variable the service reads:
//!
//! | variable | default | meaning |
//! |---|---|---|
//! | `DATABASE_URL` | unset | PostgreSQL to use. Unset: run the embedded cluster under `$SEESAC_DATA_DIR/postgres`. |
//! | `DATABASE_MIGRATION_URL` | `DATABASE_URL` | the role that owns the schema: it migrates and grants `DATABASE_URL`'s role its rows |
//! | `SEESAC_BIND` | `127.0.0.1:8080` | address and port to listen on |
//! | `JWT_SECRET` | generated (embedded) | HS256 signing secret, at least 32 bytes; required with `DATABASE_URL` |
//! | `SEESAC_DATA_DIR` | `./data` | where the embedded default keeps its cluster and secrets, and where uploaded files are kept (`assets/`) |
//! | `SEESAC_CORS_ORIGINS` | none | comma-separated browser origins allowed by CORS, or `*` |
//! | `SEESAC_PG_BINDIR` | searched | directory holding `initdb`, `pg_ctl` and `postgres` for the embedded default |
//! | `SEESAC_DB_POOL_SIZE` | `10` | connections in the pool |
//! | `SEESAC_TRUSTED_PROXIES` | none | comma-separated addresses of reverse proxies whose `X-Forwarded-For` names the client |
//! | `SEESAC_WRITE_RATE_LIMIT` | `3000` | writes per minute per caller (token or user) |
//! | `SEESAC_HEADER_TIMEOUT` | `5` | seconds a client has to send a request's headers |
//! | `SEESAC_BODY_TIMEOUT` | `20` | seconds a client has to send a request's body |
//! | `SEESAC_MAX_CONNECTIONS` | `1000` | open connections at most; more wait to be accepted |
//! | `SEESAC_UPLOAD_MAX_BYTES` | `104857600` | the largest upload (100 MiB); each type of file has its own limit too |
//! | `SEESAC_UPLOAD_TIMEOUT` | `300` | seconds a client has to send an upload |
//! | `SEESAC_STORAGE_URL` | none | `s3://[KEY:SECRET@]bucket[/prefix]?endpoint=URL&region=NAME`: files in object storage, shared by every instance (each keeps a cache under its data directory) |
//! | `SEESAC_ASSET_LIMITS` | none | size limits of file types instead of their defaults (20 MiB images, 100 MiB documents), `media/type=bytes` space-separated; `0` refuses the type |
//! | `SEESAC_READ_CACHE_BYTES` | `16777216` | bytes of anonymous answers the read cache keeps (16 MiB); `0` turns it off |
//! | `SEESAC_WEBHOOKS_DELIVERY` | `on` | `off`: this instance makes no webhook deliveries (events wait for one that does) |
//! | `SEESAC_WEBHOOKS_ALLOW_PRIVATE` | `false` | `true` lets webhooks reach private, loopback and link-local addresses (off, against SSRF) |
//! | `SEESAC_WEBHOOKS_POLL_MS` | `1000` | how often each instance looks for webhook deliveries to make |
//! | `SEESAC_WEBHOOKS_RETRY_BASE_MS` | `30000` | the first retry's delay; each next one doubles it, with jitter, at most 6 hours |
//! | `SEESAC_WEBHOOKS_RETRY_FOR_SECS` | `86400` | how long a delivery is retried before it is marked failed (a day) |
//! | `SEESAC_LOCALES` | `en sq bs hr mk cnr>sr-Latn ro sr-Latn sr-Cyrl uk` | the locales content is served in, the default first; `a>b` makes `a` fall back to `b` before the default |
//! | `SEESAC_LOCALE_ALIASES` | `sr=sr-Latn sr-RS=sr-Latn sr-ME=cnr ...` | tags browsers send, mapped to enabled locales (`tag=locale`, space-separated) |
//! | `SEESAC_METRICS_BIND` | unset | address and port for Prometheus metrics (`GET /metrics`); unset: none |
//! | `SEESAC_LOG_FORMAT` | `text` | `text`, or `json` for one JSON object per line (read in `main`) |
//! | `RUST_LOG` | `info` | log filter (env_logger syntax) |

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::features::webhooks::WebhookSettings;
use crate::platform::locale::{DEFAULT_ALIASES, DEFAULT_LOCALES, Locales};
use crate::platform::storage::remote::Remote;
use crate::platform::storage::{FileStore, Uploads};

/// The smallest JWT secret we accept (RFC 7518 section 3.2: at least the hash size).
pub const MIN_JWT_SECRET_BYTES: usize = 32;

#[derive(Debug, Clone)]
pub struct Config {
    pub database_url: Option<String>,
    pub database_migration_url: Option<String>,
    pub bind: String,
    pub metrics_bind: Option<String>,
    pub jwt_secret: Option<String>,
    pub data_dir: PathBuf,
    pub cors_origins: Vec<String>,
    pub pg_bindir: Option<PathBuf>,
    pub pool_size: u32,
    pub limits: ServerLimits,
}

/// What one client may ask of the server (how fast, how slowly, how much at once),
/// and how it serves: webhooks, locales.
#[derive(Debug, Clone)]
pub struct ServerLimits {
    pub writes_per_minute: u32,
    pub trusted_proxies: Vec<IpAddr>,
    pub header_timeout: Duration,
    pub body_timeout: Duration,
    pub max_connections: usize,
    /// What the read cache (`cache`) may hold, in bytes; 0: no cache.
    pub read_cache_bytes: u64,
    /// How webhooks are delivered.
    pub webhooks: WebhookSettings,
    /// The locales content is served in.
    pub locales: Locales,
    /// Where uploaded files go, and how large and slow they may be.
    pub uploads: Uploads,
}

impl Default for ServerLimits {
    fn default() -> Self {
        Self {
            writes_per_minute: 3000,
            trusted_proxies: Vec::new(),
            header_timeout: Duration::from_secs(5),
            body_timeout: Duration::from_secs(20),
            max_connections: 1000,
            read_cache_bytes: 16 << 20,
            webhooks: WebhookSettings::default(),
            locales: Locales::default(),
            uploads: Uploads::default(),
        }
    }
}

/// A whole number from `range`, or what the message says.
fn number_in(
    var: &impl Fn(&str) -> Option<String>,
    name: &str,
    range: std::ops::RangeInclusive<u64>,
    default: u64,
) -> Result<u64, String> {
    match var(name) {
        None => Ok(default),
        Some(raw) => raw
            .trim()
            .parse::<u64>()
            .ok()
            .filter(|n| range.contains(n))
            .ok_or_else(|| {
                format!(
                    "{name} must be a number from {} to {}, not {raw:?}",
                    range.start(),
                    range.end()
                )
            }),
    }
}

/// A duration from `range` in whole units of `unit` (`Duration::from_secs`,
/// `Duration::from_millis`), or what the message says.
fn duration(
    var: &impl Fn(&str) -> Option<String>,
    name: &str,
    range: std::ops::RangeInclusive<u64>,
    default: Duration,
    unit: fn(u64) -> Duration,
) -> Result<Duration, String> {
    let default_units = default.as_nanos() / unit(1).as_nanos();
    number_in(var, name, range, default_units as u64).map(unit)
}

impl ServerLimits {
    fn from_env(var: &impl Fn(&str) -> Option<String>) -> Result<Self, String> {
        let default = Self::default();
        let trusted_proxies = var("SEESAC_TRUSTED_PROXIES")
            .map(|raw| {
                raw.split(',')
                    .map(str::trim)
                    .filter(|hop| !hop.is_empty())
                    .map(|hop| {
                        hop.parse::<IpAddr>().map_err(|_| {
                            format!("SEESAC_TRUSTED_PROXIES: {hop:?} is not an IP address")
                        })
                    })
                    .collect::<Result<Vec<_>, _>>()
            })
            .transpose()?
            .unwrap_or_default();
        Ok(Self {
            writes_per_minute: u32::try_from(number_in(
                &var,
                "SEESAC_WRITE_RATE_LIMIT",
                1..=1_000_000,
                u64::from(default.writes_per_minute),
            )?)
            .unwrap_or(u32::MAX),
            trusted_proxies,
            header_timeout: duration(
                var,
                "SEESAC_HEADER_TIMEOUT",
                1..=300,
                default.header_timeout,
                Duration::from_secs,
            )?,
            body_timeout: duration(
                var,
                "SEESAC_BODY_TIMEOUT",
                1..=3600,
                default.body_timeout,
                Duration::from_secs,
            )?,
            max_connections: usize::try_from(number_in(
                &var,
                "SEESAC_MAX_CONNECTIONS",
                1..=1_000_000,
                default.max_connections as u64,
            )?)
            .unwrap_or(usize::MAX),
            read_cache_bytes: number_in(
                &var,
                "SEESAC_READ_CACHE_BYTES",
                0..=(1 << 40),
                default.read_cache_bytes,
            )?,
            webhooks: webhook_settings(var, default.webhooks)?,
            locales: Locales::parse(
                var("SEESAC_LOCALES").as_deref().unwrap_or(DEFAULT_LOCALES),
                var("SEESAC_LOCALE_ALIASES")
                    .as_deref()
                    .unwrap_or(DEFAULT_ALIASES),
            )
            .map_err(|error| format!("SEESAC_LOCALES or SEESAC_LOCALE_ALIASES: {error}"))?,
            uploads: default.uploads,
        })
    }
}

fn webhook_settings(
    var: &impl Fn(&str) -> Option<String>,
    default: WebhookSettings,
) -> Result<WebhookSettings, String> {
    let allow_private = match var("SEESAC_WEBHOOKS_ALLOW_PRIVATE")
        .as_deref()
        .map(str::trim)
    {
        None | Some("false") => false,
        Some("true") => true,
        Some(other) => {
            return Err(format!(
                "SEESAC_WEBHOOKS_ALLOW_PRIVATE must be true or false, not {other:?}"
            ));
        }
    };
    let deliver = match var("SEESAC_WEBHOOKS_DELIVERY").as_deref().map(str::trim) {
        None | Some("on") => true,
        Some("off") => false,
        Some(other) => {
            return Err(format!(
                "SEESAC_WEBHOOKS_DELIVERY must be on or off, not {other:?}"
            ));
        }
    };
    Ok(WebhookSettings {
        deliver,
        allow_private,
        poll: duration(
            var,
            "SEESAC_WEBHOOKS_POLL_MS",
            10..=60_000,
            default.poll,
            Duration::from_millis,
        )?,
        retry_base: duration(
            var,
            "SEESAC_WEBHOOKS_RETRY_BASE_MS",
            10..=3_600_000,
            default.retry_base,
            Duration::from_millis,
        )?,
        retry_for: duration(
            var,
            "SEESAC_WEBHOOKS_RETRY_FOR_SECS",
            1..=30 * 86_400,
            default.retry_for,
            Duration::from_secs,
        )?,
        ..default
    })
}

impl Config {
    pub fn from_env() -> Result<Self, String> {
        let var = |name: &str| {
            std::env::var(name)
                .ok()
                .filter(|value| !value.trim().is_empty())
        };
        let pool_size =
            u32::try_from(number_in(&var, "SEESAC_DB_POOL_SIZE", 1..=500, 10)?).unwrap_or(10);
        let data_dir = PathBuf::from(var("SEESAC_DATA_DIR").unwrap_or_else(|| "./data".to_owned()));
        let mut limits = ServerLimits::from_env(&var)?;
        let mut store = FileStore::new(data_dir.join("assets"));
        if let Some(url) = var("SEESAC_STORAGE_URL") {
            store = store.with_remote(Remote::parse(&url)?);
        }
        limits.uploads = Uploads {
            store,
            max_bytes: number_in(&var, "SEESAC_UPLOAD_MAX_BYTES", 1..=(1 << 40), 100 << 20)?,
            timeout: duration(
                &var,
                "SEESAC_UPLOAD_TIMEOUT",
                1..=86_400,
                limits.uploads.timeout,
                Duration::from_secs,
            )?,
            type_limits: type_limits(var("SEESAC_ASSET_LIMITS").as_deref())?,
        };
        Ok(Self {
            database_url: var("DATABASE_URL"),
            database_migration_url: var("DATABASE_MIGRATION_URL"),
            bind: var("SEESAC_BIND").unwrap_or_else(|| "127.0.0.1:8080".to_owned()),
            metrics_bind: var("SEESAC_METRICS_BIND"),
            jwt_secret: var("JWT_SECRET"),
            data_dir,
            cors_origins: parse_origins(var("SEESAC_CORS_ORIGINS").as_deref())?,
            pg_bindir: var("SEESAC_PG_BINDIR").map(PathBuf::from),
            pool_size,
            limits,
        })
    }
}

/// `SEESAC_ASSET_LIMITS`: `media/type=bytes`, space-separated.
fn type_limits(raw: Option<&str>) -> Result<Vec<(String, u64)>, String> {
    raw.unwrap_or_default()
        .split_whitespace()
        .map(|pair| {
            let (media_type, bytes) = pair.split_once('=').unwrap_or((pair, ""));
            match (media_type.contains('/'), bytes.parse::<u64>()) {
                (true, Ok(bytes)) => Ok((media_type.to_ascii_lowercase(), bytes)),
                _ => Err(format!(
                    "SEESAC_ASSET_LIMITS: {pair:?} is not media/type=bytes \
                     (for example application/pdf=209715200)"
                )),
            }
        })
        .collect()
}

/// Checks a configured JWT secret; the message says how to fix it.
pub fn check_jwt_secret(secret: &str) -> Result<(), String> {
    check_signing_key(secret, "JWT_SECRET")
}

/// A signing key, from `source` (a variable, a file), is long enough to be one.
pub fn check_signing_key(secret: &str, source: &str) -> Result<(), String> {
    if secret.len() < MIN_JWT_SECRET_BYTES {
        return Err(format!(
            "{source} is {} bytes long; it must be at least {MIN_JWT_SECRET_BYTES} bytes \
             (for example: openssl rand -hex 32)",
            secret.len()
        ));
    }
    Ok(())
}

/// `SEESAC_CORS_ORIGINS`: `*` or a comma-separated list of `scheme://host[:port]`.
pub fn parse_origins(raw: Option<&str>) -> Result<Vec<String>, String> {
    let Some(raw) = raw else {
        return Ok(Vec::new());
    };
    let mut origins = Vec::new();
    for origin in raw.split(',').map(str::trim).filter(|o| !o.is_empty()) {
        if origin != "*" {
            let parsed = url::Url::parse(origin).map_err(|_| {
                format!("SEESAC_CORS_ORIGINS: {origin:?} is not an origin like https://example.org")
            })?;
            let bare = parsed.path() == "/" && parsed.query().is_none() && !origin.ends_with('/');
            if !matches!(parsed.scheme(), "http" | "https") || parsed.host().is_none() || !bare {
                return Err(format!(
                    "SEESAC_CORS_ORIGINS: {origin:?} is not an origin like https://example.org (scheme and host, no path)"
                ));
            }
        }
        origins.push(origin.to_owned());
    }
    if origins.len() > 1 && origins.iter().any(|o| o == "*") {
        return Err("SEESAC_CORS_ORIGINS: use either * or a list of origins, not both".to_owned());
    }
    Ok(origins)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_parsed_and_checked() {
        assert_eq!(parse_origins(None), Ok(vec![]));
        assert_eq!(
            parse_origins(Some("https://seesac.org, http://localhost:3000")),
            Ok(vec![
                "https://seesac.org".to_owned(),
                "http://localhost:3000".to_owned()
            ])
        );
        assert_eq!(parse_origins(Some("*")), Ok(vec!["*".to_owned()]));
        assert!(parse_origins(Some("seesac.org")).is_err());
        assert!(parse_origins(Some("https://seesac.org/path")).is_err());
        assert!(parse_origins(Some("*,https://seesac.org")).is_err());
    }

    #[test]
    fn short_jwt_secrets_are_refused() {
        assert!(check_jwt_secret("too-short").is_err());
        assert!(check_jwt_secret(&"x".repeat(32)).is_ok());
    }
}
