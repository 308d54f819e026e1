//! Webhooks: admins subscribe a URL to events; the service delivers each event to
//! every subscription that wants it, signed as the Standard Webhooks specification
//! says, at least once, in order per item, retried with backoff for a day.
//!
//! - `events`: which event a change of the change log is, and its payload;
//! - `outbox`: deliveries made from the change log, claimed and settled in the
//!   database (so several instances never deliver one at once, and a crash loses
//!   nothing);
//! - `send`: one delivery over HTTP, signed, to an address that passed the check
//!   against private networks after DNS resolution;
//! - `subscriptions`: the subscriptions, a resource on the engine, for admins;
//! - `deliveries`: their delivery logs, and redelivery.
//!
//! `run` is the loop every instance runs beside the server.

pub mod deliveries;
pub mod events;
pub mod outbox;
pub mod send;
pub mod subscriptions;

use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::sync::Arc;
use std::time::Duration;

use actix_web::web;

use crate::engine::Kind;
use crate::platform::db::PgPool;

/// The resources of webhooks on the engine: the subscriptions.
pub static RESOURCES: &[&dyn Kind] = &[&subscriptions::Webhooks];

/// Turns `host:port` into addresses: the system's resolver, or a test's.
pub type Resolve = Arc<dyn Fn(&str) -> std::io::Result<Vec<SocketAddr>> + Send + Sync>;

/// How deliveries are made.
#[derive(Clone)]
pub struct WebhookSettings {
    /// Whether this instance delivers (`SEESAC_WEBHOOKS_DELIVERY=off`: it does not,
    /// and events wait for an instance that does).
    pub deliver: bool,
    /// Deliver to private, loopback and link-local addresses too
    /// (`SEESAC_WEBHOOKS_ALLOW_PRIVATE=true`): off, against SSRF.
    pub allow_private: bool,
    /// How often each instance looks for work.
    pub poll: Duration,
    /// The first retry's delay; each next one doubles it (with jitter).
    pub retry_base: Duration,
    /// How long a delivery is retried before it is marked failed.
    pub retry_for: Duration,
    /// The whole of one attempt: connecting, sending, and reading the answer.
    pub timeout: Duration,
    pub resolve: Resolve,
}

impl std::fmt::Debug for WebhookSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookSettings")
            .field("deliver", &self.deliver)
            .field("allow_private", &self.allow_private)
            .field("poll", &self.poll)
            .field("retry_base", &self.retry_base)
            .field("retry_for", &self.retry_for)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl Default for WebhookSettings {
    fn default() -> Self {
        Self {
            deliver: true,
            allow_private: false,
            poll: Duration::from_secs(1),
            retry_base: Duration::from_secs(30),
            retry_for: Duration::from_secs(24 * 3600),
            timeout: Duration::from_secs(10),
            resolve: Arc::new(|netloc: &str| netloc.to_socket_addrs().map(Iterator::collect)),
        }
    }
}

/// Addresses no webhook may reach unless the operator allows private targets:
/// loopback, private, link-local, shared (CGNAT), unspecified, multicast,
/// broadcast, documentation, benchmarking and reserved ranges, in IPv4 and IPv6.
/// An IPv6 address that carries an IPv4 one counts as it, or is refused whole:
/// IPv4-mapped (`::ffff:0:0/96`) and 6to4 (`2002::/16`) as their IPv4 address;
/// IPv4-compatible (`::/96`), NAT64 (`64:ff9b::/96`, `64:ff9b:1::/48`) and Teredo
/// (`2001::/32`) always, as is the deprecated site-local `fec0::/10`.
pub fn is_private(ip: IpAddr) -> bool {
    match ip.to_canonical() {
        IpAddr::V4(v4) => is_private_v4(v4),
        IpAddr::V6(v6) => is_private_v6(v6),
    }
}

fn is_private_v4(v4: std::net::Ipv4Addr) -> bool {
    let [a, b, c, _] = v4.octets();
    v4.is_private()
        || v4.is_loopback()
        || v4.is_link_local()
        || v4.is_unspecified()
        || v4.is_broadcast()
        || v4.is_multicast()
        || v4.is_documentation()
        || a == 0
        || (a == 100 && (64..128).contains(&b))
        || (a == 192 && b == 0 && c == 0)
        || (a == 198 && (b == 18 || b == 19))
        || a >= 240
}

fn is_private_v6(v6: std::net::Ipv6Addr) -> bool {
    let s = v6.segments();
    let ipv4_compatible = s[..6].iter().all(|&segment| segment == 0);
    let six_to_four = s[0] == 0x2002;
    if six_to_four {
        let [a, b] = s[1].to_be_bytes();
        let [c, d] = s[2].to_be_bytes();
        return is_private_v4(std::net::Ipv4Addr::new(a, b, c, d));
    }
    ipv4_compatible
        || v6.is_multicast()
        || (s[0] & 0xfe00) == 0xfc00
        || (s[0] & 0xffc0) == 0xfe80
        || (s[0] & 0xffc0) == 0xfec0
        || (s[0] == 0x2001 && s[1] == 0x0db8)
        || (s[0] == 0x2001 && s[1] == 0x0000)
        || (s[0] == 0x0064 && s[1] == 0xff9b && (s[2] == 0 || s[2] == 1))
        || (s[0] == 0x0100 && s[1..4].iter().all(|&segment| segment == 0))
}

/// Delivers what is due, for as long as the server runs: every `poll`, turns new
/// changes into deliveries, then claims and sends what is due, a few at a time.
pub async fn run(pool: PgPool, settings: WebhookSettings) {
    const AT_ONCE: i64 = 8;
    loop {
        actix_web::rt::time::sleep(settings.poll).await;
        let claim_pool = pool.clone();
        let claim_settings = settings.clone();
        let claimed = web::block(move || -> Result<Vec<outbox::Claimed>, String> {
            let mut conn = claim_pool.get().map_err(|e| e.to_string())?;
            outbox::fan_out(&mut conn, claim_settings.retry_for).map_err(|e| e.to_string())?;
            outbox::claim(&mut conn, AT_ONCE).map_err(|e| e.to_string())
        })
        .await;
        let claimed = match claimed {
            Ok(Ok(claimed)) => claimed,
            Ok(Err(error)) => {
                log::debug!("webhook deliveries not claimed, tried again soon: {error}");
                continue;
            }
            Err(error) => {
                log::warn!("webhook work did not run: {error}");
                continue;
            }
        };
        // Every send starts on the blocking pool at once; then each is awaited.
        let sends: Vec<_> = claimed
            .into_iter()
            .map(|delivery| {
                let pool = pool.clone();
                let settings = settings.clone();
                web::block(move || {
                    let outcome = send::deliver(&delivery, &settings);
                    let settled = pool.get().map_err(|e| e.to_string()).and_then(|mut conn| {
                        outbox::settle(&mut conn, &delivery, &outcome, &settings)
                            .map_err(|e| e.to_string())
                    });
                    if let Err(error) = settled {
                        // The lease runs out and another attempt is made: at least once.
                        log::warn!("webhook delivery {} not settled: {error}", delivery.id);
                    }
                })
            })
            .collect();
        for sent in sends {
            if let Err(error) = sent.await {
                log::warn!("webhook delivery did not run: {error}");
            }
        }
    }
}
