//! One delivery attempt: the payload POSTed with the Standard Webhooks headers
//! (`webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64 HMAC-SHA256>`)
//! to an address checked against private networks after DNS resolution, within a
//! time limit, reading back at most `RESPONSE_BYTES` of the answer, following no
//! redirect.

use std::io::Read;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::outbox::Claimed;
use super::{WebhookSettings, is_private};

/// What is kept of a receiver's answer, at most.
pub const RESPONSE_BYTES: u64 = 1024;
/// The prefix of a webhook secret, as the Standard Webhooks libraries expect it.
pub const SECRET_PREFIX: &str = "whsec_";

/// A new secret: `whsec_` and 32 random bytes in base64.
pub fn new_secret() -> String {
    format!(
        "{SECRET_PREFIX}{}",
        STANDARD.encode(crate::platform::random::bytes(32))
    )
}

/// `v1,<signature>` of a delivery: HMAC-SHA256, keyed with the secret's bytes, of
/// `<id>.<timestamp>.<body>`, in base64.
pub fn signature(secret: &str, id: &str, timestamp: i64, body: &[u8]) -> String {
    let key = STANDARD
        .decode(secret.strip_prefix(SECRET_PREFIX).unwrap_or(secret))
        .unwrap_or_default();
    let mut mac = match Hmac::<Sha256>::new_from_slice(&key) {
        Ok(mac) => mac,
        Err(_) => return String::new(),
    };
    mac.update(format!("{id}.{timestamp}.").as_bytes());
    mac.update(body);
    format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
}

/// Why a URL may not be a webhook's, checked when it is subscribed (no DNS: a
/// name is checked when it is resolved, at each delivery).
pub fn refuse_url(raw: &str, allow_private: bool) -> Option<String> {
    if !raw.is_ascii() {
        return Some(
            "must be an ASCII URI (RFC 3986): an international name in its xn-- form, other \
             characters percent-encoded"
                .to_owned(),
        );
    }
    let Ok(url) = url::Url::parse(raw) else {
        return Some("must be an absolute http or https URL".to_owned());
    };
    if !matches!(url.scheme(), "http" | "https") {
        return Some("must be an http or https URL".to_owned());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Some("must not carry credentials: the signature proves who sends".to_owned());
    }
    if url.fragment().is_some() {
        return Some("must not have a fragment".to_owned());
    }
    let private = match url.host() {
        None => return Some("must name a host".to_owned()),
        Some(url::Host::Ipv4(ip)) => is_private(IpAddr::V4(ip)),
        Some(url::Host::Ipv6(ip)) => is_private(IpAddr::V6(ip)),
        Some(url::Host::Domain(name)) => {
            let name = name.trim_end_matches('.').to_ascii_lowercase();
            name == "localhost" || name.ends_with(".localhost")
        }
    };
    (private && !allow_private).then(|| {
        "must not point to a private, loopback or link-local address (the operator may allow \
         them with SEESAC_WEBHOOKS_ALLOW_PRIVATE=true)"
            .to_owned()
    })
}

/// How an attempt went.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The receiver's status code, if it answered.
    pub status: Option<i32>,
    /// Why it did not count as delivered, if it did not.
    pub error: Option<String>,
    /// The start of the receiver's answer.
    pub response: Option<String>,
    pub duration: Duration,
}

impl Outcome {
    /// A 2xx answer.
    pub fn delivered(&self) -> bool {
        self.error.is_none() && self.status.is_some_and(|s| (200..300).contains(&s))
    }
}

/// The HTTP client of one delivery: its time limits, no redirects, and a resolver
/// that refuses private addresses unless they are allowed.
fn agent(settings: &WebhookSettings) -> ureq::Agent {
    let resolve = settings.resolve.clone();
    let allow_private = settings.allow_private;
    ureq::AgentBuilder::new()
        .timeout_connect(settings.timeout.min(Duration::from_secs(5)))
        .timeout(settings.timeout)
        .redirects(0)
        .user_agent(concat!(
            "seesac-api/",
            env!("CARGO_PKG_VERSION"),
            " (webhooks)"
        ))
        .resolver(move |netloc: &str| {
            let addresses = resolve(netloc)?;
            match addresses.iter().find(|address| is_private(address.ip())) {
                Some(address) if !allow_private => Err(std::io::Error::new(
                    std::io::ErrorKind::PermissionDenied,
                    format!(
                        "{netloc} resolves to {}, a private, loopback or link-local address",
                        address.ip()
                    ),
                )),
                _ => Ok(addresses),
            }
        })
        .build()
}

/// The status of a receiver's answer and the start of its body, if any was read.
fn read_answer(response: ureq::Response) -> (i32, Option<String>) {
    let status = i32::from(response.status());
    let mut text = Vec::new();
    let kept = response
        .into_reader()
        .take(RESPONSE_BYTES)
        .read_to_end(&mut text)
        .is_ok();
    (
        status,
        (kept && !text.is_empty()).then(|| String::from_utf8_lossy(&text).into_owned()),
    )
}

/// Sends one delivery.
pub fn deliver(delivery: &Claimed, settings: &WebhookSettings) -> Outcome {
    let started = Instant::now();
    let outcome = |status: Option<i32>, error: Option<String>, response: Option<String>| Outcome {
        status,
        error,
        response,
        duration: started.elapsed(),
    };
    if let Some(refused) = refuse_url(&delivery.url, settings.allow_private) {
        return outcome(None, Some(format!("the URL {refused}")), None);
    }
    let body = serde_json::to_vec(&delivery.payload).unwrap_or_default();
    let id = delivery.id.to_string();
    let timestamp = chrono::Utc::now().timestamp();
    let sent = agent(settings)
        .post(&delivery.url)
        .set("content-type", "application/json")
        .set("webhook-id", &id)
        .set("webhook-timestamp", &timestamp.to_string())
        .set(
            "webhook-signature",
            &signature(&delivery.secret, &id, timestamp, &body),
        )
        .send_bytes(&body);
    match sent {
        Ok(response) => {
            let (status, text) = read_answer(response);
            // 3xx counts as a failure: redirects are not followed.
            let error =
                (!(200..300).contains(&status)).then(|| format!("the receiver answered {status}"));
            outcome(Some(status), error, text)
        }
        Err(ureq::Error::Status(_, response)) => {
            let (status, text) = read_answer(response);
            outcome(
                Some(status),
                Some(format!("the receiver answered {status}")),
                text,
            )
        }
        Err(ureq::Error::Transport(transport)) => outcome(None, Some(transport.to_string()), None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_are_those_of_the_standard_webhooks_specification() {
        // The example of the specification's reference libraries.
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let body = br#"{"test": 2432232314}"#;
        assert_eq!(
            signature(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
        assert!(new_secret().starts_with("whsec_"));
        assert_ne!(new_secret(), new_secret());
    }

    #[test]
    fn private_and_loopback_targets_are_refused_unless_allowed() {
        for url in [
            "http://127.0.0.1:8080/hook",
            "http://10.0.0.5/hook",
            "http://192.168.1.10/",
            "http://169.254.169.254/latest/meta-data",
            "http://[::1]/",
            "http://[fd00::1]/",
            "http://[::ffff:127.0.0.1]/",
            "http://localhost:3000/",
            "http://api.localhost/",
            "http://0.0.0.0/",
            "http://100.64.0.1/",
        ] {
            assert!(refuse_url(url, false).is_some(), "{url}");
            assert!(refuse_url(url, true).is_none(), "{url}");
        }
        for url in ["https://hooks.example.org/seesac", "http://93.184.216.34/x"] {
            assert!(refuse_url(url, false).is_none(), "{url}");
        }
        for url in [
            "ftp://example.org/",
            "https://user:pw@example.org/",
            "hooks",
            "https://example.org/#x",
            "https://ęĕh¡/",
        ] {
            assert!(refuse_url(url, true).is_some(), "{url}");
        }
    }
}
