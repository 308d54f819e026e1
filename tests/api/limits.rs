//! What one client may ask of the server: logins per client and per username,
//! writes per caller, how long a body or the headers may take, how many
//! connections at once. Each answer beyond a limit is a 429 or a 408 that writes
//! nothing and says when to come back.

use std::time::{Duration, Instant};

use actix_web::http::Method;
use seesac_api::app::config::ServerLimits;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::{Options, Response, TestApp, page};

const PASSWORD: &str = "a long and unguessable passphrase";

async fn app_with(limits: ServerLimits) -> TestApp {
    TestApp::spawn_with(Options {
        limits: Some(limits),
        ..Options::default()
    })
    .await
}

/// An account with a real password.
async fn account(app: &TestApp, username: &str) {
    let body = json!({"username": username, "password": PASSWORD, "role": "editor"});
    app.post(&app.admin(), "/api/v1/users", body).await.ok(201);
}

async fn login(
    app: &TestApp,
    path: &str,
    username: &str,
    password: &str,
    client: &str,
) -> Response {
    let mut request = app
        .request(Method::POST, path)
        .json(json!({"username": username, "password": password}));
    if !client.is_empty() {
        request = request.header("x-forwarded-for", client);
    }
    request.send().await
}

/// Asserts a 429 of the named policy, with `Retry-After` and the draft's fields.
#[track_caller]
fn limited(response: &Response, policy: &str, quota: u32, window: u64) -> u64 {
    response.problem(429, "too_many_requests");
    let retry_after: u64 = response
        .header("retry-after")
        .and_then(|value| value.parse().ok())
        .expect("Retry-After in seconds");
    assert!((1..=window).contains(&retry_after), "{retry_after}");
    assert_eq!(
        response.header("ratelimit-policy").as_deref(),
        Some(format!("\"{policy}\";q={quota};w={window}").as_str())
    );
    assert_eq!(
        response.header("ratelimit").as_deref(),
        Some(format!("\"{policy}\";r=0;t={retry_after}").as_str())
    );
    retry_after
}

#[actix_web::test]
async fn ten_failed_logins_for_a_username_lock_it_for_the_window_whatever_the_password() {
    let app = app_with(ServerLimits::default()).await;
    account(&app, "editor-rs").await;
    account(&app, "editor-me").await;
    for attempt in 1..=10 {
        let response = login(
            &app,
            "/api/v1/auth/token",
            "editor-rs",
            &format!("guess {attempt}"),
            "",
        )
        .await;
        response.problem(401, "unauthorized");
    }
    // The right password now changes nothing until the window has passed.
    let locked = login(&app, "/api/v1/auth/token", "editor-rs", PASSWORD, "").await;
    let retry_after = limited(&locked, "login-failures", 10, 900);
    assert!(retry_after > 800, "the window is 15 minutes: {retry_after}");
    assert!(
        locked.json()["detail"]
            .as_str()
            .unwrap()
            .contains("failed logins")
    );
    assert!(!locked.json().to_string().contains("access_token"));
    // Another username, from the same client, is not locked.
    login(&app, "/api/v1/auth/token", "editor-me", PASSWORD, "")
        .await
        .ok(200);
    // A username that does not exist is locked the same way: the lock does not tell
    // which usernames are real.
    for attempt in 1..=10 {
        login(
            &app,
            "/api/v1/auth/token",
            "nobody",
            &format!("guess {attempt}"),
            "",
        )
        .await
        .problem(401, "unauthorized");
    }
    limited(
        &login(&app, "/api/v1/auth/token", "nobody", "guess", "").await,
        "login-failures",
        10,
        900,
    );
}

#[actix_web::test]
async fn bad_logins_sent_all_at_once_for_one_username_still_get_only_ten_tries() {
    let app = app_with(ServerLimits {
        trusted_proxies: vec!["127.0.0.1".parse().unwrap()],
        ..ServerLimits::default()
    })
    .await;
    account(&app, "editor-rs").await;
    // Nine failures, one at a time: one try is left.
    for n in 0..9 {
        login(
            &app,
            "/api/v1/auth/token",
            "editor-rs",
            &format!("first {n}"),
            "198.51.100.9",
        )
        .await
        .problem(401, "unauthorized");
    }
    // Then a burst from many addresses, so that no per-client limit stands in the
    // way: only one of them may try a password.
    let attempts = (0..16).map(|n| {
        let app = &app;
        async move {
            login(
                app,
                "/api/v1/auth/token",
                "editor-rs",
                &format!("guess {n}"),
                &format!("203.0.113.{n}"),
            )
            .await
        }
    });
    let answers = futures_util::future::join_all(attempts).await;
    let statuses: Vec<u16> = answers.iter().map(Response::status).collect();
    assert!(
        statuses.iter().all(|s| [401, 429].contains(s)),
        "{statuses:?}"
    );
    let tried = 9 + statuses.iter().filter(|s| **s == 401).count();
    assert_eq!(tried, 10, "passwords tried for one username: {statuses:?}");
    limited(
        &login(
            &app,
            "/api/v1/auth/token",
            "editor-rs",
            PASSWORD,
            "198.51.100.1",
        )
        .await,
        "login-failures",
        10,
        900,
    );
}

#[actix_web::test]
async fn a_client_gets_thirty_logins_a_minute_whatever_path_variant_or_forwarded_header_it_sends() {
    let app = app_with(ServerLimits::default()).await;
    account(&app, "editor-rs").await;
    // The encoded variant reaches the same handler, and counts against the same
    // bucket; a forged X-Forwarded-For from an untrusted peer buys nothing.
    for attempt in 0..30 {
        let path = if attempt % 2 == 0 {
            "/api/v1/auth/token"
        } else {
            "/api/v1/auth/%74oken"
        };
        let response = login(
            &app,
            path,
            &format!("guess-{attempt}"),
            "wrong",
            &format!("203.0.113.{attempt}"),
        )
        .await;
        response.problem(401, "unauthorized");
        if attempt == 0 {
            assert_eq!(
                response.header("ratelimit-policy").as_deref(),
                Some("\"logins\";q=30;w=60")
            );
            assert_eq!(
                response.header("ratelimit").as_deref(),
                Some("\"logins\";r=29;t=60")
            );
        }
    }
    for path in ["/api/v1/auth/token", "/api/v1/auth/%74oken"] {
        limited(
            &login(&app, path, "editor-rs", PASSWORD, "198.51.100.1").await,
            "logins",
            30,
            60,
        );
    }
}

#[actix_web::test]
async fn behind_a_trusted_proxy_each_forwarded_client_has_its_own_logins_and_a_flood_leaves_room() {
    let app = app_with(ServerLimits {
        trusted_proxies: vec!["127.0.0.1".parse().unwrap()],
        ..ServerLimits::default()
    })
    .await;
    account(&app, "editor-rs").await;
    // Client A floods: 40 bad logins at once.
    let flood = (0..40).map(|attempt| {
        let app = &app;
        async move {
            login(
                app,
                "/api/v1/auth/token",
                &format!("guess-{attempt}"),
                "wrong",
                "203.0.113.7",
            )
            .await
        }
    });
    let honest = async {
        // Client B comes while A's flood is running.
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
        login(
            &app,
            "/api/v1/auth/token",
            "editor-rs",
            PASSWORD,
            "198.51.100.20",
        )
        .await
    };
    let (flooded, honest) =
        futures_util::future::join(futures_util::future::join_all(flood), honest).await;
    honest.ok(200);
    let statuses: Vec<u16> = flooded.iter().map(Response::status).collect();
    assert!(
        statuses.iter().all(|s| [401, 429].contains(s)),
        "{statuses:?}"
    );
    assert!(
        statuses.iter().filter(|s| **s == 429).count() >= 10,
        "A is held to its own 30: {statuses:?}"
    );
    // A is limited; B, behind the same proxy, is not.
    limited(
        &login(
            &app,
            "/api/v1/auth/token",
            "editor-rs",
            PASSWORD,
            "203.0.113.7",
        )
        .await,
        "logins",
        30,
        60,
    );
    login(
        &app,
        "/api/v1/auth/token",
        "editor-rs",
        PASSWORD,
        "198.51.100.20",
    )
    .await
    .ok(200);
}

/// Six addresses flood the password checks, each with more logins at once than
/// its share; the admin, from a seventh that has not failed, logs in ten times
/// while they do, and is never refused: logins beyond the checks running wait
/// their turn, and only a client's own over-share is a 429.
#[actix_web::test]
async fn a_flood_from_many_addresses_never_refuses_a_correct_login_from_another() {
    let app = app_with(ServerLimits {
        trusted_proxies: vec!["127.0.0.1".parse().unwrap()],
        ..ServerLimits::default()
    })
    .await;
    account(&app, "editor-rs").await;
    let floods = (1..=6).map(|client| {
        let app = &app;
        async move {
            let mut statuses = Vec::new();
            for round in 0..7 {
                let wave = (0..4).map(|n| async move {
                    login(
                        app,
                        "/api/v1/auth/token",
                        &format!("guess-{client}-{round}-{n}"),
                        "wrong",
                        &format!("203.0.113.{client}"),
                    )
                    .await
                    .status()
                });
                statuses.extend(futures_util::future::join_all(wave).await);
            }
            statuses
        }
    });
    let honest = async {
        let mut statuses = Vec::new();
        for _ in 0..10 {
            actix_web::rt::time::sleep(Duration::from_millis(20)).await;
            let response = login(
                &app,
                "/api/v1/auth/token",
                "editor-rs",
                PASSWORD,
                "198.51.100.77",
            )
            .await;
            statuses.push(response.status());
        }
        statuses
    };
    let (flooded, honest) =
        futures_util::future::join(futures_util::future::join_all(floods), honest).await;
    assert_eq!(honest, [200; 10]);
    let flooded: Vec<u16> = flooded.into_iter().flatten().collect();
    assert!(
        flooded.iter().all(|s| [401, 429].contains(s)),
        "{flooded:?}"
    );
    // Each flooder sent four at a time where its share is two.
    assert!(flooded.contains(&429), "{flooded:?}");
    assert!(
        flooded.iter().filter(|s| **s == 401).count() >= 6 * 7,
        "{flooded:?}"
    );
}

#[actix_web::test]
async fn a_caller_past_its_writes_per_minute_gets_a_429_that_writes_nothing() {
    let app = app_with(ServerLimits {
        writes_per_minute: 5,
        ..ServerLimits::default()
    })
    .await;
    let editor = app.editor();
    for n in 1..=5 {
        let response = app
            .post(
                &editor,
                "/api/v1/pages",
                page(&format!("page-{n}"), "A page"),
            )
            .await;
        response.ok(201);
        assert_eq!(
            response.header("ratelimit").as_deref(),
            Some(format!("\"writes\";r={};t=60", 5 - n).as_str())
        );
    }
    let refused = app
        .post(&editor, "/api/v1/pages", page("page-6", "One too many"))
        .await;
    limited(&refused, "writes", 5, 60);
    let refused = app
        .patch(&editor, "/api/v1/pages/page-1", json!({"title": "Changed"}))
        .await;
    limited(&refused, "writes", 5, 60);
    assert_eq!(app.count("SELECT count(*) AS n FROM pages"), 5);
    assert_eq!(
        app.text("SELECT title AS value FROM pages WHERE slug = 'page-1'")
            .as_deref(),
        Some("A page")
    );
    // Reads are not writes; another caller has its own budget.
    app.get_as(&editor, "/api/v1/pages/page-1").await.ok(200);
    app.post(&app.admin(), "/api/v1/pages", page("page-6", "By another"))
        .await
        .ok(201);
}

/// Reads what the server sends until it closes the connection or `within` passes.
async fn read_until_closed(stream: &mut TcpStream, within: Duration) -> (String, bool) {
    let mut answer = Vec::new();
    let mut buffer = [0u8; 4096];
    let deadline = Instant::now() + within;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, stream.read(&mut buffer)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return (String::from_utf8_lossy(&answer).into_owned(), true),
            Ok(Ok(n)) => answer.extend_from_slice(&buffer[..n]),
            Err(_) => return (String::from_utf8_lossy(&answer).into_owned(), false),
        }
    }
}

fn address(app: &TestApp) -> String {
    app.address.trim_start_matches("http://").to_owned()
}

#[actix_web::test]
async fn a_body_trickled_in_slower_than_the_body_timeout_is_a_408_that_writes_nothing() {
    let app = app_with(ServerLimits {
        body_timeout: Duration::from_secs(1),
        ..ServerLimits::default()
    })
    .await;
    let editor = app.editor();
    let body = serde_json::to_string(&page("trickled", "Trickled")).unwrap();
    for (path, token) in [
        ("/api/v1/pages", Some(&editor)),
        ("/api/v1/auth/token", None),
    ] {
        let mut stream = TcpStream::connect(address(&app)).await.unwrap();
        let mut head = format!(
            "POST {path} HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\n",
            body.len()
        );
        if let Some(token) = token {
            head.push_str(&format!("Authorization: Bearer {token}\r\n"));
        }
        head.push_str("\r\n");
        stream.write_all(head.as_bytes()).await.unwrap();
        let started = Instant::now();
        // One byte every 300 ms: the whole body would take a minute.
        let trickle = async {
            for byte in body.bytes() {
                if stream.write_all(&[byte]).await.is_err() {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(300)).await;
                if started.elapsed() > Duration::from_secs(3) {
                    break;
                }
            }
        };
        trickle.await;
        let (answer, closed) = read_until_closed(&mut stream, Duration::from_secs(5)).await;
        assert!(answer.starts_with("HTTP/1.1 408"), "{path}: {answer:?}");
        assert!(answer.contains("application/problem+json"), "{answer}");
        assert!(closed, "the connection is closed after a 408");
    }
    assert_eq!(app.count("SELECT count(*) AS n FROM pages"), 0);
}

#[actix_web::test]
async fn headers_trickled_in_slower_than_the_header_timeout_lose_the_connection() {
    let app = app_with(ServerLimits {
        header_timeout: Duration::from_secs(1),
        ..ServerLimits::default()
    })
    .await;
    let mut stream = TcpStream::connect(address(&app)).await.unwrap();
    stream
        .write_all(b"GET /api/v1/pages HTTP/1.1\r\nHost: test\r\n")
        .await
        .unwrap();
    let started = Instant::now();
    let mut closed_early = false;
    // 2.5 s of headers, then 1 s to close: well inside actix's own default of 5 s,
    // so only the configured timeout can close it.
    for n in 0..10 {
        tokio::time::sleep(Duration::from_millis(250)).await;
        if stream
            .write_all(format!("X-Slow-{n}: x\r\n").as_bytes())
            .await
            .is_err()
        {
            closed_early = true;
            break;
        }
    }
    let (answer, closed) = read_until_closed(&mut stream, Duration::from_secs(1)).await;
    assert!(
        closed_early || closed,
        "still open after {:?}",
        started.elapsed()
    );
    assert!(
        answer.is_empty() || answer.starts_with("HTTP/1.1 408"),
        "{answer:?}"
    );
    assert!(!answer.contains("\"data\""), "the request was never served");
}

#[actix_web::test]
async fn connections_beyond_the_cap_wait_until_one_closes() {
    let app = app_with(ServerLimits {
        max_connections: 2,
        ..ServerLimits::default()
    })
    .await;
    let request = b"GET /healthz HTTP/1.1\r\nHost: test\r\n\r\n";
    let mut open = Vec::new();
    for _ in 0..2 {
        let mut stream = TcpStream::connect(address(&app)).await.unwrap();
        stream.write_all(request).await.unwrap();
        let mut buffer = [0u8; 1024];
        let n = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buffer))
            .await
            .expect("served while under the cap")
            .unwrap();
        assert!(String::from_utf8_lossy(&buffer[..n]).starts_with("HTTP/1.1 200"));
        open.push(stream);
    }
    let mut third = TcpStream::connect(address(&app)).await.unwrap();
    third.write_all(request).await.unwrap();
    let mut buffer = [0u8; 1024];
    assert!(
        tokio::time::timeout(Duration::from_millis(1500), third.read(&mut buffer))
            .await
            .is_err(),
        "a third connection is not served while two are open"
    );
    drop(open.pop());
    let n = tokio::time::timeout(Duration::from_secs(10), third.read(&mut buffer))
        .await
        .expect("served once one closed")
        .unwrap();
    assert!(String::from_utf8_lossy(&buffer[..n]).starts_with("HTTP/1.1 200"));
}
