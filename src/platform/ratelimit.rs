//! Rate limits: how often one client may try to log in, how often one username may
//! fail, how often one caller may write. One mechanism for all of them, a sliding
//! log of the last `quota` events per key, kept in memory and bounded in keys.
//!
//! Keys are never paths, so the variants of a path (case, a trailing slash,
//! encoded characters) cannot buy more attempts: a login is counted for its client
//! and its username, a write for its caller, whatever URL reached the handler.
//!
//! A limit answered with a 429 carries `Retry-After` and the `RateLimit-Policy` and
//! `RateLimit` fields of the IETF draft (draft-ietf-httpapi-ratelimit-headers);
//! answers within a limit carry the fields too, so that a client can pace itself.

use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use actix_web::http::header::{HeaderMap, HeaderName, HeaderValue};

/// What a limit allows: `quota` events per `window`, per key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// Its name in the `RateLimit` fields.
    pub name: &'static str,
    pub quota: u32,
    pub window: Duration,
}

/// Where a key stands against its policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Standing {
    pub policy: Policy,
    /// Events still allowed now.
    pub remaining: u32,
    /// Seconds until the oldest counted event leaves the window (0: none counted).
    pub reset: u64,
}

impl Standing {
    /// The fields of the draft: `RateLimit-Policy: "login";q=10;w=900` and
    /// `RateLimit: "login";r=0;t=540`.
    pub fn headers(&self) -> [(HeaderName, HeaderValue); 2] {
        let name = self.policy.name;
        let policy = format!(
            "\"{name}\";q={};w={}",
            self.policy.quota,
            self.policy.window.as_secs()
        );
        let limit = format!("\"{name}\";r={};t={}", self.remaining, self.reset);
        let value = |text: String| {
            HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static(""))
        };
        [
            (HeaderName::from_static("ratelimit-policy"), value(policy)),
            (HeaderName::from_static("ratelimit"), value(limit)),
        ]
    }

    /// Whole seconds to wait before trying again, at least 1.
    pub fn retry_after(&self) -> u64 {
        self.reset.max(1)
    }
}

/// The keys a limiter remembers at most: beyond, the least recently active are
/// forgotten, so that a flood of made-up usernames costs bounded memory.
const MAX_KEYS: usize = 50_000;

/// A sliding log per key.
#[derive(Debug)]
pub struct Limiter {
    policy: Policy,
    log: Mutex<HashMap<String, VecDeque<Instant>>>,
}

impl Limiter {
    pub fn new(policy: Policy) -> Self {
        Self {
            policy,
            log: Mutex::new(HashMap::new()),
        }
    }

    pub fn policy(&self) -> Policy {
        self.policy
    }

    /// Where `key` stands, without counting anything: `Err` if it has no room left.
    pub fn check(&self, key: &str) -> Result<Standing, Standing> {
        self.with(key, false)
    }

    /// Counts an event for `key` if the policy has room for one (`Ok`, where it
    /// stands after), or counts nothing (`Err`). The look and the count are one
    /// step: requests that arrive together cannot all find the last place free.
    pub fn hit(&self, key: &str) -> Result<Standing, Standing> {
        self.with(key, true)
    }

    /// Forgets `key`'s events (a successful login clears its failures).
    pub fn clear(&self, key: &str) {
        if let Ok(mut log) = self.log.lock() {
            log.remove(key);
        }
    }

    fn with(&self, key: &str, count: bool) -> Result<Standing, Standing> {
        let now = Instant::now();
        let window = self.policy.window;
        let quota = self.policy.quota as usize;
        let Ok(mut log) = self.log.lock() else {
            // A panic elsewhere poisoned it; limiting nothing beats failing everything.
            return Ok(self.standing(quota, None, now));
        };
        if count && !log.contains_key(key) && log.len() >= MAX_KEYS {
            forget_idle(&mut log, now, window, quota);
        }
        let events = log.entry(key.to_owned()).or_default();
        while events
            .front()
            .is_some_and(|at| now.duration_since(*at) >= window)
        {
            events.pop_front();
        }
        let full = events.len() >= quota;
        if count && !full {
            events.push_back(now);
        }
        let used = events.len();
        let oldest = events.front().copied();
        if used == 0 {
            log.remove(key);
        }
        let standing = self.standing(quota.saturating_sub(used), oldest, now);
        if full || (!count && used >= quota) {
            Err(standing)
        } else {
            Ok(standing)
        }
    }

    fn standing(&self, remaining: usize, oldest: Option<Instant>, now: Instant) -> Standing {
        let reset = oldest.map_or(0, |at| {
            let left = self.policy.window.saturating_sub(now.duration_since(at));
            // Rounded up: a client that waits `reset` seconds finds room.
            left.as_secs() + u64::from(left.subsec_nanos() > 0)
        });
        Standing {
            policy: self.policy,
            remaining: u32::try_from(remaining).unwrap_or(u32::MAX),
            reset,
        }
    }
}

/// Drops keys with nothing in the window, then, if still full, the tenth that was
/// active longest ago, but never a key at its quota: a flood of made-up usernames
/// must not free a locked one.
fn forget_idle(
    log: &mut HashMap<String, VecDeque<Instant>>,
    now: Instant,
    window: Duration,
    quota: usize,
) {
    log.retain(|_, events| {
        events
            .back()
            .is_some_and(|at| now.duration_since(*at) < window)
    });
    if log.len() >= MAX_KEYS {
        let mut last: Vec<(Instant, String)> = log
            .iter()
            .filter(|(_, events)| events.len() < quota)
            .filter_map(|(key, events)| events.back().map(|at| (*at, key.clone())))
            .collect();
        last.sort();
        for (_, key) in last.into_iter().take(MAX_KEYS / 10) {
            log.remove(&key);
        }
    }
}

/// The client a request comes from: the peer, unless the peer is a configured
/// proxy, in which case the nearest address in `X-Forwarded-For` that is not one.
/// A client that sends `X-Forwarded-For` itself, not through a trusted proxy, is
/// counted by its own address: the header buys it nothing.
pub fn client_address(
    peer: Option<SocketAddr>,
    headers: &HeaderMap,
    trusted_proxies: &[IpAddr],
) -> Option<IpAddr> {
    let mut client = peer?.ip().to_canonical();
    if !trusted_proxies.contains(&client) {
        return Some(client);
    }
    let hops: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(str::trim)
        .collect();
    // Right to left: each hop was added by the one after it; trust ends at the
    // first address that is not one of our proxies, or at one that is not an
    // address at all (then the last proxy is the client we know).
    for hop in hops.into_iter().rev() {
        let Ok(hop) = hop.parse::<IpAddr>().map(|ip| ip.to_canonical()) else {
            break;
        };
        client = hop;
        if !trusted_proxies.contains(&hop) {
            break;
        }
    }
    Some(client)
}

/// The key a client is counted under: its IPv4 address, or the /64 network of its
/// IPv6 address, since one IPv6 client holds a whole /64 and could rotate through it.
pub fn client_key(client: Option<IpAddr>) -> String {
    match client {
        Some(IpAddr::V6(v6)) => {
            let [a, b, c, d, ..] = v6.segments();
            format!("{a:x}:{b:x}:{c:x}:{d:x}::/64")
        }
        Some(ip) => ip.to_string(),
        None => String::new(),
    }
}

/// How many of one kind of expensive work each key may have running at once: a
/// client flooding the password checks holds at most its share of them, and the
/// others still get theirs.
#[derive(Debug, Default)]
pub struct InFlight {
    counts: std::sync::Arc<Mutex<HashMap<String, usize>>>,
}

/// One piece of work running for a key; dropping it ends it.
#[derive(Debug)]
pub struct Permit {
    counts: std::sync::Arc<Mutex<HashMap<String, usize>>>,
    key: String,
}

impl InFlight {
    /// A permit if `key` has fewer than `most` running.
    pub fn try_take(&self, key: &str, most: usize) -> Option<Permit> {
        let mut counts = self.counts.lock().ok()?;
        let running = counts.entry(key.to_owned()).or_default();
        if *running >= most {
            return None;
        }
        *running += 1;
        Some(Permit {
            counts: self.counts.clone(),
            key: key.to_owned(),
        })
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        if let Ok(mut counts) = self.counts.lock()
            && let Some(running) = counts.get_mut(&self.key)
        {
            *running = running.saturating_sub(1);
            if *running == 0 {
                counts.remove(&self.key);
            }
        }
    }
}

/// The limits a running service applies.
#[derive(Debug)]
pub struct Limits {
    /// Password checks running per client.
    pub hashing: InFlight,
    /// Login attempts per client address.
    pub logins_per_client: Limiter,
    /// Failed logins per username.
    pub failures_per_username: Limiter,
    /// Writes per caller (token or user).
    pub writes_per_caller: Limiter,
    /// Proxies whose `X-Forwarded-For` names the client.
    pub trusted_proxies: Vec<IpAddr>,
}

/// After 10 failed logins for one username within 15 minutes, its logins are
/// refused until the window has passed.
pub const FAILURES_PER_USERNAME: Policy = Policy {
    name: "login-failures",
    quota: 10,
    window: Duration::from_secs(15 * 60),
};

/// 30 login attempts a minute from one client: a person who mistypes is never
/// near it; a guesser is held to one every two seconds.
pub const LOGINS_PER_CLIENT: Policy = Policy {
    name: "logins",
    quota: 30,
    window: Duration::from_secs(60),
};

impl Limits {
    /// `writes_per_minute` for each caller; the login policies are fixed.
    pub fn new(writes_per_minute: u32, trusted_proxies: Vec<IpAddr>) -> Self {
        Self {
            hashing: InFlight::default(),
            logins_per_client: Limiter::new(LOGINS_PER_CLIENT),
            failures_per_username: Limiter::new(FAILURES_PER_USERNAME),
            writes_per_caller: Limiter::new(Policy {
                name: "writes",
                quota: writes_per_minute,
                window: Duration::from_secs(60),
            }),
            trusted_proxies,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_gets_its_quota_and_then_waits_for_the_window() {
        assert_eq!(
            client_key(Some(
                "2001:db8:1:2:aaaa::1"
                    .parse()
                    .unwrap_or(IpAddr::from([0; 4]))
            )),
            "2001:db8:1:2::/64"
        );
        assert_eq!(
            client_key(Some(IpAddr::from([203, 0, 113, 9]))),
            "203.0.113.9"
        );
        let limiter = Limiter::new(Policy {
            name: "test",
            quota: 3,
            window: Duration::from_secs(60),
        });
        let remaining = |standing: Result<Standing, Standing>| standing.map(|s| s.remaining);
        assert_eq!(remaining(limiter.check("a")), Ok(3));
        assert_eq!(remaining(limiter.hit("a")), Ok(2));
        assert_eq!(remaining(limiter.hit("a")), Ok(1));
        assert_eq!(
            remaining(limiter.hit("a")),
            Ok(0),
            "the last one is allowed"
        );
        assert!(limiter.check("a").is_err());
        let Err(last) = limiter.hit("a") else {
            panic!("a fourth is refused");
        };
        assert!((59..=60).contains(&last.reset));
        assert_eq!(remaining(limiter.check("b")), Ok(3), "keys are separate");
        limiter.clear("a");
        assert_eq!(remaining(limiter.check("a")), Ok(3));
        let [(policy_name, policy), (_, limit)] = last.headers();
        assert_eq!(policy_name, "ratelimit-policy");
        assert_eq!(policy, "\"test\";q=3;w=60");
        assert!(
            limit
                .to_str()
                .unwrap_or_default()
                .starts_with("\"test\";r=0;t=")
        );
    }

    #[test]
    fn forwarded_addresses_count_only_through_a_trusted_proxy() {
        let proxy: IpAddr = "10.0.0.5".parse().unwrap_or(IpAddr::from([0, 0, 0, 0]));
        let peer = SocketAddr::new(proxy, 4000);
        let mut headers = HeaderMap::new();
        headers.insert(
            HeaderName::from_static("x-forwarded-for"),
            HeaderValue::from_static("203.0.113.9, 198.51.100.7, 10.0.0.5"),
        );
        assert_eq!(
            client_address(Some(peer), &headers, &[proxy]),
            Some(IpAddr::from([198, 51, 100, 7])),
            "the nearest address the proxy did not add itself"
        );
        assert_eq!(
            client_address(Some(peer), &headers, &[]),
            Some(proxy),
            "an untrusted peer is the client, whatever it forwards"
        );
        headers.insert(
            HeaderName::from_static("x-forwarded-for"),
            HeaderValue::from_static("not an address"),
        );
        assert_eq!(client_address(Some(peer), &headers, &[proxy]), Some(proxy));
    }
}
