//! Webhooks: subscriptions, signed deliveries to a receiver the test runs on
//! 127.0.0.1, retries, pausing, redelivery, the check against private targets,
//! several instances, and a crash between commit and delivery. Nothing is ever
//! sent to an address other than 127.0.0.1.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

use crate::binary::{Served, TempDir, command};
use crate::helpers::{JWT_SECRET, Options, TestApp, TestDatabase, page, scheduled_page};
use seesac_api::app::config::ServerLimits;
use seesac_api::features::webhooks::WebhookSettings;

/// One request the receiver got.
#[derive(Debug, Clone)]
pub struct Received {
    headers: HashMap<String, String>,
    body: Vec<u8>,
}

impl Received {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }

    fn header(&self, name: &str) -> &str {
        self.headers.get(name).map_or("", String::as_str)
    }
}

/// An HTTP receiver on 127.0.0.1 that records what it gets and answers with the
/// status `answer` gives for the nth request (from 0). It stops when dropped, and
/// after a minute in any case.
pub struct Receiver {
    address: SocketAddr,
    got: Arc<Mutex<Vec<Received>>>,
    stop: Arc<AtomicBool>,
}

/// How the receiver answers one request.
struct Answer {
    status: u16,
    body: String,
    delay: Duration,
}

impl Receiver {
    pub fn start(answer: impl Fn(usize) -> u16 + Send + Sync + 'static) -> Self {
        Self::answering(move |n| Answer {
            status: answer(n),
            body: "ok".to_owned(),
            delay: Duration::ZERO,
        })
    }

    fn answering(answer: impl Fn(usize) -> Answer + Send + Sync + 'static) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let address = listener.local_addr().unwrap();
        let got = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (record, stopped) = (got.clone(), stop.clone());
        let answer = Arc::new(answer);
        std::thread::spawn(move || {
            let started = Instant::now();
            let mut served = 0;
            while !stopped.load(Ordering::Relaxed) && started.elapsed() < Duration::from_secs(60) {
                let Ok((mut stream, _)) = listener.accept() else {
                    std::thread::sleep(Duration::from_millis(5));
                    continue;
                };
                let (answer, record, n) = (answer.clone(), record.clone(), served);
                served += 1;
                // Each request on a thread of its own, as a real receiver would.
                std::thread::spawn(move || {
                    stream.set_nonblocking(false).unwrap();
                    stream
                        .set_read_timeout(Some(Duration::from_secs(5)))
                        .unwrap();
                    let Some(received) = read_request(&mut stream) else {
                        return;
                    };
                    let Answer {
                        status,
                        body,
                        delay,
                    } = answer(n);
                    record.lock().unwrap().push(received);
                    std::thread::sleep(delay);
                    let reply = format!(
                        "HTTP/1.1 {status} Whatever\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                        body.len()
                    );
                    let _ = stream.write_all(reply.as_bytes());
                });
            }
        });
        Self { address, got, stop }
    }

    pub fn url(&self) -> String {
        format!("http://{}/hooks", self.address)
    }

    pub fn received(&self) -> Vec<Received> {
        self.got.lock().unwrap().clone()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

fn read_request(stream: &mut std::net::TcpStream) -> Option<Received> {
    let mut data = Vec::new();
    let mut buffer = [0u8; 4096];
    let head_end = loop {
        let n = stream.read(&mut buffer).ok()?;
        if n == 0 {
            return None;
        }
        data.extend_from_slice(&buffer[..n]);
        if let Some(end) = data.windows(4).position(|w| w == b"\r\n\r\n") {
            break end + 4;
        }
    };
    let head = String::from_utf8_lossy(&data[..head_end]).into_owned();
    let headers: HashMap<String, String> = head
        .lines()
        .skip(1)
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_owned()))
        .collect();
    let length: usize = headers
        .get("content-length")
        .and_then(|l| l.parse().ok())
        .unwrap_or(0);
    while data.len() < head_end + length {
        let n = stream.read(&mut buffer).ok()?;
        if n == 0 {
            break;
        }
        data.extend_from_slice(&buffer[..n]);
    }
    Some(Received {
        headers,
        body: data[head_end..].to_vec(),
    })
}

/// Webhooks that may reach the test's receiver, polled and retried quickly.
pub fn quick(retry_for: Duration) -> ServerLimits {
    ServerLimits {
        webhooks: WebhookSettings {
            allow_private: true,
            poll: Duration::from_millis(30),
            retry_base: Duration::from_millis(40),
            retry_for,
            ..WebhookSettings::default()
        },
        ..ServerLimits::default()
    }
}

/// The app with the sample content and these limits.
pub async fn app_with(limits: ServerLimits) -> TestApp {
    TestApp::spawn_with(Options {
        limits: Some(limits),
        seed: true,
        ..Options::default()
    })
    .await
}

/// Waits, at most 20 seconds, until `done` says so.
pub async fn until(what: &str, mut done: impl FnMut() -> bool) {
    let started = Instant::now();
    while !done() {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "waited in vain for {what}"
        );
        actix_web::rt::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Reads `path` as an admin until `done` says so (at most 20 seconds); the last read.
async fn read_until(app: &TestApp, path: &str, done: impl Fn(&Value) -> bool) -> Value {
    let admin = app.admin();
    let started = Instant::now();
    loop {
        let read = app.get_as(&admin, path).await.ok(200);
        if done(&read) {
            return read;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "waited in vain: {read}"
        );
        actix_web::rt::time::sleep(Duration::from_millis(30)).await;
    }
}

pub async fn subscribe(app: &TestApp, url: &str, events: Value) -> Value {
    app.post(
        &app.admin(),
        "/api/v1/webhooks",
        json!({"url": url, "events": events, "description": "the test's receiver"}),
    )
    .await
    .ok(201)
}

/// Checks a delivery's signature as the Standard Webhooks specification says a
/// receiver must.
fn verify(secret: &str, received: &Received) {
    let key = STANDARD
        .decode(secret.strip_prefix("whsec_").unwrap())
        .unwrap();
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).unwrap();
    mac.update(
        format!(
            "{}.{}.",
            received.header("webhook-id"),
            received.header("webhook-timestamp")
        )
        .as_bytes(),
    );
    mac.update(&received.body);
    let expected = format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()));
    assert_eq!(received.header("webhook-signature"), expected);
    let timestamp: i64 = received.header("webhook-timestamp").parse().unwrap();
    assert!((chrono::Utc::now().timestamp() - timestamp).abs() < 60);
}

#[actix_web::test]
async fn admins_manage_subscriptions_and_see_the_secret_once() {
    let app = TestApp::spawn().await;
    let admin = app.admin();
    let created = subscribe(
        &app,
        "https://hooks.example.org/seesac",
        json!(["page.*", "page.published"]),
    )
    .await;
    let secret = created["secret"].as_str().unwrap();
    assert!(secret.starts_with("whsec_"));
    assert_eq!(STANDARD.decode(&secret[6..]).unwrap().len(), 32);
    assert_eq!(created["events"], json!(["page.*", "page.published"]));
    assert_eq!(created["active"], true);
    let id = created["id"].as_str().unwrap();
    let path = format!("/api/v1/webhooks/{id}");
    let read = app.get_as(&admin, &path).await.ok(200);
    assert!(read.get("secret").is_none(), "{read}");
    assert!(
        !app.get_as(&admin, "/api/v1/webhooks")
            .await
            .ok(200)
            .to_string()
            .contains(secret)
    );

    let changed = app
        .patch(&admin, &path, json!({"events": ["*"], "active": false}))
        .await
        .ok(200);
    assert_eq!(changed["events"], json!(["*"]));
    assert_eq!(changed["active"], false);
    assert_eq!(changed["url"], "https://hooks.example.org/seesac");
    let cleared = app
        .patch(&admin, &path, json!({"url": null, "active": null}))
        .await
        .problem(422, "validation_failed");
    assert_eq!(cleared["errors"][0]["pointer"], "/url");
    assert_eq!(
        app.get_as(&admin, &path).await.ok(200)["url"],
        "https://hooks.example.org/seesac"
    );

    // What is not a subscription writes nothing.
    let before = app.count("SELECT count(*) AS n FROM webhooks");
    let invalid = app
        .post(
            &admin,
            "/api/v1/webhooks",
            json!({"url": "ftp://example.org/x", "events": ["page.upserted"]}),
        )
        .await
        .problem(422, "validation_failed");
    let pointers: Vec<&str> = invalid["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["pointer"].as_str().unwrap())
        .collect();
    assert_eq!(pointers, ["/url", "/events/0"]);
    app.post(
        &admin,
        "/api/v1/webhooks",
        json!({"url": "https://example.org/"}),
    )
    .await
    .problem(422, "validation_failed");
    app.post(
        &admin,
        "/api/v1/webhooks",
        json!({"url": "https://example.org/", "events": ["*"], "secret": "mine"}),
    )
    .await
    .problem(422, "validation_failed");
    assert_eq!(app.count("SELECT count(*) AS n FROM webhooks"), before);

    app.get_as(&app.editor(), "/api/v1/webhooks")
        .await
        .problem(403, "forbidden");
    assert_eq!(app.delete(&admin, &path).await.status(), 204);
    app.get_as(&admin, &path).await.problem(404, "not_found");
}

#[actix_web::test]
async fn private_and_loopback_targets_are_refused_when_subscribed_and_after_resolution() {
    // The operator's default: no private targets. The resolver is the test's, so
    // no name is looked up and nothing is sent anywhere.
    let asked = Arc::new(Mutex::new(Vec::<String>::new()));
    let noted = asked.clone();
    let limits = ServerLimits {
        webhooks: WebhookSettings {
            poll: Duration::from_millis(30),
            retry_base: Duration::from_millis(40),
            resolve: Arc::new(move |netloc: &str| {
                noted.lock().unwrap().push(netloc.to_owned());
                Ok(vec!["10.0.0.7:80".parse().unwrap()])
            }),
            ..WebhookSettings::default()
        },
        ..ServerLimits::default()
    };
    let app = app_with(limits).await;
    let admin = app.admin();
    for url in [
        "http://127.0.0.1:9/hooks",
        "http://[::1]/hooks",
        "http://169.254.169.254/latest/meta-data",
        "http://localhost/hooks",
    ] {
        let refused = app
            .post(
                &admin,
                "/api/v1/webhooks",
                json!({"url": url, "events": ["*"]}),
            )
            .await
            .problem(422, "validation_failed");
        assert_eq!(refused["errors"][0]["pointer"], "/url", "{url}");
    }
    assert_eq!(app.count("SELECT count(*) AS n FROM webhooks"), 0);

    // A name is checked when it is resolved, at delivery: this one resolves to a
    // private address, so the attempt fails before any connection.
    let created = subscribe(&app, "http://hooks.example.test/seesac", json!(["page.*"])).await;
    let id = created["id"].as_str().unwrap().to_owned();
    app.post(
        &app.editor(),
        "/api/v1/pages",
        page("annual-report", "Annual report"),
    )
    .await
    .ok(201);
    let log = format!("/api/v1/webhooks/{id}/deliveries");
    let delivery =
        read_until(&app, &log, |log| !log["data"][0]["last_error"].is_null()).await["data"][0]
            .clone();
    assert_eq!(delivery["status"], "pending");
    assert!(delivery["last_status"].is_null());
    let error = delivery["last_error"].as_str().unwrap();
    assert!(
        error.contains("10.0.0.7") && error.contains("private"),
        "{error}"
    );
    assert!(
        asked
            .lock()
            .unwrap()
            .iter()
            .all(|n| n == "hooks.example.test:80")
    );
    assert!(!asked.lock().unwrap().is_empty());
}

/// IPv6 addresses that carry an IPv4 address, or reach a site's own network, are
/// refused at subscription and at delivery; a 6to4 address of a public IPv4
/// address is not (it is only subscribed: nothing is sent to it).
#[actix_web::test]
async fn ipv6_forms_of_private_addresses_are_refused_when_subscribed_and_after_resolution() {
    let limits = ServerLimits {
        webhooks: WebhookSettings {
            poll: Duration::from_millis(30),
            retry_base: Duration::from_millis(40),
            // 6to4 around 192.168.1.1.
            resolve: Arc::new(|_: &str| Ok(vec!["[2002:c0a8:101::1]:80".parse().unwrap()])),
            ..WebhookSettings::default()
        },
        ..ServerLimits::default()
    };
    let app = app_with(limits).await;
    let admin = app.admin();
    for url in [
        // IPv4-compatible ::/96, around 127.0.0.1 and 10.0.0.1.
        "http://[::127.0.0.1]/hooks",
        "http://[::a00:1]/hooks",
        // Site-local.
        "http://[fec0::1]/hooks",
        // 6to4 around 192.168.1.1 and 127.0.0.1.
        "http://[2002:c0a8:101::1]/hooks",
        "http://[2002:7f00:1::]/hooks",
        // Teredo.
        "http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/hooks",
        // NAT64, and IPv4-mapped, as before.
        "http://[64:ff9b::a00:1]/hooks",
        "http://[::ffff:127.0.0.1]/hooks",
    ] {
        let refused = app
            .post(
                &admin,
                "/api/v1/webhooks",
                json!({"url": url, "events": ["*"]}),
            )
            .await
            .problem(422, "validation_failed");
        assert_eq!(refused["errors"][0]["pointer"], "/url", "{url}");
    }
    assert_eq!(app.count("SELECT count(*) AS n FROM webhooks"), 0);
    let public = app
        .post(
            &admin,
            "/api/v1/webhooks",
            json!({"url": "http://[2002:808:808::1]/hooks", "events": ["*"], "active": false}),
        )
        .await
        .ok(201);
    assert_eq!(public["active"], false);

    let created = subscribe(&app, "http://hooks.example.test/seesac", json!(["page.*"])).await;
    let id = created["id"].as_str().unwrap().to_owned();
    app.post(
        &app.editor(),
        "/api/v1/pages",
        page("annual-report", "Annual report"),
    )
    .await
    .ok(201);
    let log = format!("/api/v1/webhooks/{id}/deliveries");
    let delivery =
        read_until(&app, &log, |log| !log["data"][0]["last_error"].is_null()).await["data"][0]
            .clone();
    let error = delivery["last_error"].as_str().unwrap();
    assert!(
        error.contains("2002:c0a8:101::1") && error.contains("private"),
        "{error}"
    );
    assert!(delivery["last_status"].is_null());
}

#[actix_web::test]
async fn an_event_is_delivered_signed_with_its_id_and_in_order_per_item() {
    let app = app_with(quick(Duration::from_secs(30))).await;
    let receiver = Receiver::start(|_| 204);
    let created = subscribe(&app, &receiver.url(), json!(["page.*"])).await;
    let secret = created["secret"].as_str().unwrap().to_owned();
    let id = created["id"].as_str().unwrap().to_owned();
    let editor = app.editor();
    let mut report = page("annual-report", "Annual report");
    report["status"] = json!("published");
    app.post(&editor, "/api/v1/pages", report).await.ok(201);
    for n in 1..=3 {
        app.patch(
            &editor,
            "/api/v1/pages/annual-report",
            json!({"title": format!("Annual report {n}")}),
        )
        .await
        .ok(200);
    }
    // Not wanted: a funder.
    app.post(
        &editor,
        "/api/v1/funders",
        json!({"slug": "a-new-funder", "name": "A new funder", "kind": "government", "status": "published"}),
    )
    .await
    .ok(201);
    until("four deliveries", || receiver.received().len() >= 4).await;
    actix_web::rt::time::sleep(Duration::from_millis(200)).await;
    let received = receiver.received();
    assert_eq!(received.len(), 4, "{received:?}");
    for delivery in &received {
        verify(&secret, delivery);
        assert_eq!(delivery.header("content-type"), "application/json");
    }
    let events: Vec<Value> = received.iter().map(Received::json).collect();
    let kinds: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        [
            "page.published",
            "page.updated",
            "page.updated",
            "page.updated"
        ]
    );
    let versions: Vec<i64> = events
        .iter()
        .map(|e| e["data"]["version"].as_i64().unwrap())
        .collect();
    assert_eq!(versions, [1, 2, 3, 4], "in order per item");
    assert_eq!(events[0]["data"]["key"], "annual-report");
    assert_eq!(events[0]["data"]["url"], "/api/v1/pages/annual-report");
    assert_eq!(
        events[0]["data"]["links"],
        json!({"self": "/api/v1/pages/annual-report"})
    );
    assert_eq!(events[0]["data"]["actor"], "user:test-editor");
    assert!(events[0]["timestamp"].as_str().unwrap().ends_with('Z'));

    let log = app
        .get_as(&app.admin(), &format!("/api/v1/webhooks/{id}/deliveries"))
        .await
        .ok(200);
    assert_eq!(log["meta"]["total"], 4);
    let newest = &log["data"][0];
    assert_eq!(newest["status"], "delivered");
    assert_eq!(newest["attempts"], 1);
    assert_eq!(newest["last_status"], 204);
    assert!(newest["last_response"].is_null(), "a 204 has no body");
    assert!(newest["last_duration_ms"].is_number());
    // The id a receiver de-duplicates by is the delivery's.
    let ids: Vec<&str> = received.iter().map(|r| r.header("webhook-id")).collect();
    assert!(ids.contains(&newest["id"].as_str().unwrap()));
}

#[actix_web::test]
async fn a_receiver_that_fails_and_recovers_gets_the_event_once_it_answers() {
    let app = app_with(quick(Duration::from_secs(30))).await;
    // 500, then no answer at all (a 503), then 200.
    let receiver = Receiver::start(|n| match n {
        0 => 500,
        1 => 503,
        _ => 200,
    });
    let created = subscribe(&app, &receiver.url(), json!(["observation.upserted"])).await;
    let id = created["id"].as_str().unwrap().to_owned();
    app.patch(
        &app.editor(),
        "/api/v1/impact-metrics/women-in-armed-forces/observations/5eed0000-0000-4000-8000-000000000703",
        json!({"value": 7}),
    )
    .await
    .ok(200);
    let log = format!("/api/v1/webhooks/{id}/deliveries");
    until("three attempts", || receiver.received().len() >= 3).await;
    let delivery =
        read_until(&app, &log, |log| log["data"][0]["status"] == "delivered").await["data"][0]
            .clone();
    assert_eq!(delivery["attempts"], 3);
    assert_eq!(delivery["last_status"], 200);
    assert_eq!(delivery["last_response"], "ok");
    let received = receiver.received();
    assert_eq!(received.len(), 3);
    // The same event each time, under the same id.
    assert!(
        received
            .iter()
            .all(|r| r.header("webhook-id") == received[0].header("webhook-id"))
    );
    assert!(received.iter().all(|r| r.body == received[0].body));
    assert_eq!(received[0].json()["type"], "observation.upserted");
}

#[actix_web::test]
async fn deliveries_that_keep_failing_are_marked_failed_the_subscription_paused_and_an_admin_redelivers()
 {
    let app = app_with(quick(Duration::from_millis(300))).await;
    let failing = Arc::new(AtomicBool::new(true));
    let answer = failing.clone();
    let receiver = Receiver::start(move |_| {
        if answer.load(Ordering::Relaxed) {
            500
        } else {
            200
        }
    });
    let created = subscribe(&app, &receiver.url(), json!(["page.created"])).await;
    let id = created["id"].as_str().unwrap().to_owned();
    let editor = app.editor();
    for n in 0..5 {
        app.post(
            &editor,
            "/api/v1/pages",
            page(&format!("report-{n}"), "Report"),
        )
        .await
        .ok(201);
    }
    let admin = app.admin();
    let path = format!("/api/v1/webhooks/{id}");
    let webhook = read_until(&app, &path, |webhook| webhook["active"] == false).await;
    assert_eq!(webhook["failures"], 5);
    assert!(
        webhook["paused_reason"]
            .as_str()
            .unwrap()
            .contains("5 deliveries")
    );
    let failed = app
        .get_as(&admin, &format!("{path}/deliveries?status=failed"))
        .await
        .ok(200);
    assert_eq!(failed["meta"]["total"], 5);
    let delivery = failed["data"][0].clone();
    assert!(delivery["attempts"].as_i64().unwrap() >= 1);
    assert_eq!(delivery["last_status"], 500);

    // Paused: a new event waits.
    app.post(&editor, "/api/v1/pages", page("report-5", "Report"))
        .await
        .ok(201);
    actix_web::rt::time::sleep(Duration::from_millis(300)).await;
    let attempts = receiver.received().len();

    // The receiver is mended; the admin resumes the subscription and redelivers.
    failing.store(false, Ordering::Relaxed);
    let resumed = app
        .patch(&admin, &path, json!({"active": true}))
        .await
        .ok(200);
    assert_eq!(resumed["failures"], 0);
    assert!(resumed["paused_reason"].is_null());
    let redelivered = app
        .request(
            actix_web::http::Method::POST,
            &format!(
                "{path}/deliveries/{}/redeliver",
                delivery["id"].as_str().unwrap()
            ),
        )
        .bearer(&admin)
        .send()
        .await
        .ok(202);
    assert_eq!(redelivered["status"], "pending");
    let again = format!("{path}/deliveries/{}", delivery["id"].as_str().unwrap());
    let state = read_until(&app, &again, |state| state["status"] == "delivered").await;
    assert_eq!(state["last_status"], 200);
    // The event that came while it was paused is delivered too.
    read_until(
        &app,
        &format!("{path}/deliveries?status=delivered"),
        |log| log["meta"]["total"] == 2,
    )
    .await;
    assert!(receiver.received().len() > attempts);
    assert!(
        receiver
            .received()
            .iter()
            .any(|r| r.header("webhook-id") == delivery["id"].as_str().unwrap())
    );
    app.get_as(&admin, &format!("{path}/deliveries?status=lost"))
        .await
        .problem(400, "invalid_request");
}

#[actix_web::test]
async fn two_instances_deliver_every_event_exactly_once_between_them() {
    let limits = quick(Duration::from_secs(30));
    let first = app_with(limits.clone()).await;
    let second = TestApp::spawn_with(Options {
        database: Some(first.database.clone()),
        limits: Some(limits),
        ..Options::default()
    })
    .await;
    let receiver = Receiver::start(|_| 200);
    subscribe(&first, &receiver.url(), json!(["*"])).await;
    let editor = first.editor();
    for n in 0..15 {
        first
            .post(&editor, "/api/v1/pages", page(&format!("a-{n}"), "A"))
            .await
            .ok(201);
        second
            .post(&editor, "/api/v1/pages", page(&format!("b-{n}"), "B"))
            .await
            .ok(201);
    }
    until("thirty deliveries", || receiver.received().len() >= 30).await;
    actix_web::rt::time::sleep(Duration::from_millis(500)).await;
    let received = receiver.received();
    let mut ids: Vec<&str> = received.iter().map(|r| r.header("webhook-id")).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(received.len(), 30, "no event twice");
    assert_eq!(ids.len(), 30);
    assert_eq!(
        first.count("SELECT count(*) AS n FROM webhook_deliveries WHERE status = 'delivered' AND attempts = 1"),
        30
    );
}

#[actix_web::test]
async fn an_event_committed_before_a_crash_is_delivered_after_the_restart() {
    let database = TestDatabase::new();
    let admin = seesac_api::platform::auth::JwtKeys::new(JWT_SECRET.as_bytes())
        .issue(
            "admin",
            "5eed0000-0000-4000-8000-00000000a111",
            seesac_api::platform::auth::Role::Admin,
        )
        .unwrap();
    {
        use diesel::RunQueryDsl;
        diesel::sql_query(
            "INSERT INTO users (username, password_hash, role, token_stamp) \
         VALUES ('admin', 'no login', 'admin', '5eed0000-0000-4000-8000-00000000a111')",
        )
        .execute(&mut database.connect())
        .unwrap();
    }
    let receiver = Receiver::start(|_| 200);
    let client = awc::Client::builder()
        .timeout(Duration::from_secs(30))
        .finish();
    let temp = TempDir::new();
    let serve = |poll_ms: &str| {
        let mut serve = command();
        serve
            .env("DATABASE_URL", &database.url)
            .env("JWT_SECRET", JWT_SECRET)
            .env("SEESAC_WEBHOOKS_ALLOW_PRIVATE", "true")
            .env("SEESAC_WEBHOOKS_POLL_MS", poll_ms);
        serve
    };
    // The first run looks for work only once a minute: it dies before it does.
    let mut first = Served::start(serve("60000"), temp.0.join("first.log"));
    first.wait_ready(&client).await;
    let post = |address: &str, path: &str, body: Value| {
        client
            .post(format!("{address}{path}"))
            .insert_header(("authorization", format!("Bearer {admin}")))
            .send_json(&body)
    };
    let subscribed = post(
        &first.address,
        "/api/v1/webhooks",
        json!({"url": receiver.url(), "events": ["page.*"]}),
    )
    .await
    .unwrap();
    assert_eq!(subscribed.status(), 201);
    let written = post(
        &first.address,
        "/api/v1/pages",
        page("annual-report", "Annual report"),
    )
    .await
    .unwrap();
    assert_eq!(written.status(), 201, "{}", first.log());
    first.kill9();
    assert!(receiver.received().is_empty());

    let mut second = Served::start(serve("50"), temp.0.join("second.log"));
    second.wait_ready(&client).await;
    until("the delivery after the restart", || {
        !receiver.received().is_empty()
    })
    .await;
    actix_web::rt::time::sleep(Duration::from_millis(300)).await;
    let received = receiver.received();
    assert_eq!(received.len(), 1, "{}", second.log());
    assert_eq!(received[0].json()["type"], "page.created");
    assert_eq!(received[0].json()["data"]["key"], "annual-report");
    second.kill9();
}

#[actix_web::test]
async fn a_slow_receiver_times_out_and_a_long_answer_is_read_only_in_part() {
    let mut limits = quick(Duration::from_secs(30));
    limits.webhooks.timeout = Duration::from_millis(300);
    let app = app_with(limits).await;
    // First a receiver that takes two seconds, then one that answers at length.
    let receiver = Receiver::answering(|n| Answer {
        status: 200,
        body: "x".repeat(10_000),
        delay: if n == 0 {
            Duration::from_secs(2)
        } else {
            Duration::ZERO
        },
    });
    let created = subscribe(&app, &receiver.url(), json!(["page.created"])).await;
    let id = created["id"].as_str().unwrap().to_owned();
    app.post(
        &app.editor(),
        "/api/v1/pages",
        page("annual-report", "Annual report"),
    )
    .await
    .ok(201);
    let log = format!("/api/v1/webhooks/{id}/deliveries");
    let delivery =
        read_until(&app, &log, |log| log["data"][0]["status"] == "delivered").await["data"][0]
            .clone();
    assert_eq!(
        delivery["attempts"], 2,
        "the slow attempt timed out: {delivery}"
    );
    assert_eq!(
        delivery["last_response"].as_str().unwrap().len(),
        1024,
        "at most 1 KiB of an answer is read"
    );
}

#[actix_web::test]
async fn a_scheduled_publication_is_an_event_when_its_time_comes() {
    let app = app_with(quick(Duration::from_secs(30))).await;
    let receiver = Receiver::start(|_| 200);
    subscribe(&app, &receiver.url(), json!(["page.published"])).await;
    let at = chrono::Utc::now() + chrono::Duration::seconds(2);
    let scheduled = scheduled_page("annual-report", "Annual report", at);
    app.post(&app.editor(), "/api/v1/pages", scheduled)
        .await
        .ok(201);
    actix_web::rt::time::sleep(Duration::from_millis(800)).await;
    assert!(receiver.received().is_empty(), "not before its time");
    until("the publication", || !receiver.received().is_empty()).await;
    let event = receiver.received()[0].json();
    assert_eq!(event["type"], "page.published");
    assert_eq!(event["data"]["key"], "annual-report");
    assert!(chrono::Utc::now() >= at);
}

#[actix_web::test]
async fn the_delivery_log_forgets_settled_deliveries_after_thirty_days_and_keeps_pending_ones() {
    let app = app_with(quick(Duration::from_secs(30))).await;
    let receiver = Receiver::start(|_| 200);
    let created = subscribe(&app, &receiver.url(), json!(["page.created"])).await;
    let id = created["id"].as_str().unwrap().to_owned();
    for slug in ["report-1", "report-2"] {
        app.post(&app.editor(), "/api/v1/pages", page(slug, "Report"))
            .await
            .ok(201);
    }
    read_until(
        &app,
        &format!("/api/v1/webhooks/{id}/deliveries?status=delivered"),
        |log| log["meta"]["total"] == 2,
    )
    .await;
    app.execute(
        "UPDATE webhook_deliveries SET created_at = now() - interval '31 days' \
         WHERE position = (SELECT min(position) FROM webhook_deliveries)",
    );
    app.execute(
        "INSERT INTO webhook_deliveries (webhook, position, event, item, payload, give_up_at, \
                                         created_at, next_attempt_at) \
         SELECT webhook, position + 1000, event, item, payload, now() + interval '1 day', \
                now() - interval '40 days', now() + interval '1 hour' \
           FROM webhook_deliveries LIMIT 1",
    );
    let pruned =
        seesac_api::features::webhooks::outbox::prune(&mut app.database.connect()).unwrap();
    assert_eq!(pruned, 1);
    assert_eq!(app.count("SELECT count(*) AS n FROM webhook_deliveries"), 2);
    assert_eq!(
        app.count("SELECT count(*) AS n FROM webhook_deliveries WHERE status = 'pending'"),
        1,
        "an old pending delivery stays"
    );
}
