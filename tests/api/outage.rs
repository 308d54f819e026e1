//! The database going away: 503 with Retry-After within about two seconds, never a
//! hang or a 500, and recovery without a restart when it returns.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use actix_web::rt::task::JoinHandle;
use tokio::net::{TcpListener, TcpStream};

use crate::helpers::{Options, TestApp, database_address, page};

/// A TCP proxy to PostgreSQL that the test can cut and restore.
struct Proxy {
    port: u16,
    target: String,
    tasks: Rc<RefCell<Vec<JoinHandle<()>>>>,
}

impl Proxy {
    async fn start(port: u16, target: String) -> Self {
        let listener = TcpListener::bind(("127.0.0.1", port))
            .await
            .expect("the proxy binds");
        let port = listener.local_addr().unwrap().port();
        let tasks: Rc<RefCell<Vec<JoinHandle<()>>>> = Rc::default();
        let connections = tasks.clone();
        let to = target.clone();
        let accept = actix_web::rt::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let to = to.clone();
                let connection = actix_web::rt::spawn(async move {
                    if let Ok(mut server) = TcpStream::connect(&to).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
                connections.borrow_mut().push(connection);
            }
        });
        tasks.borrow_mut().push(accept);
        Self {
            port,
            target,
            tasks,
        }
    }

    /// Refuses new connections and cuts the open ones.
    fn cut(&self) {
        for task in self.tasks.borrow_mut().drain(..) {
            task.abort();
        }
    }

    async fn restore(&self) -> Self {
        Self::start(self.port, self.target.clone()).await
    }
}

#[actix_web::test]
async fn with_the_database_down_requests_get_a_quick_503_and_recover_when_it_returns() {
    let proxy = Proxy::start(0, database_address()).await;
    let app = TestApp::spawn_with(Options {
        database_port: Some(proxy.port),
        ..Options::default()
    })
    .await;
    app.get("/api/v1/pages").await.ok(200);
    app.get("/readyz").await.ok(200);

    proxy.cut();
    actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    for request in [
        app.request(actix_web::http::Method::GET, "/api/v1/pages"),
        app.request(actix_web::http::Method::GET, "/api/v1/pages/mission"),
        app.request(actix_web::http::Method::GET, "/readyz"),
        app.request(actix_web::http::Method::POST, "/api/v1/pages")
            .bearer(&app.editor())
            .json(page("mission", "Mission")),
    ] {
        let started = Instant::now();
        let response = request.send().await;
        let elapsed = started.elapsed();
        response.problem(503, "unavailable");
        assert!(response.header("retry-after").is_some());
        // The cause is logged; callers learn nothing about where the database is.
        let body = String::from_utf8_lossy(&response.body).into_owned();
        for secret in ["127.0.0.1", &proxy.port.to_string(), "connection", "server"] {
            assert!(!body.contains(secret), "{secret} in {body}");
        }
        assert!(elapsed < Duration::from_secs(4), "the 503 took {elapsed:?}");
    }
    app.get("/healthz").await.ok(200);

    let _restored = proxy.restore().await;
    let started = Instant::now();
    loop {
        let response = app.get("/api/v1/pages").await;
        if response.status() == 200 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "no recovery: {}",
            response.status()
        );
        actix_web::rt::time::sleep(Duration::from_millis(200)).await;
    }
    app.post(&app.editor(), "/api/v1/pages", page("mission", "Mission"))
        .await
        .ok(201);
    assert_eq!(app.count("SELECT count(*) AS n FROM pages"), 1);
}

#[actix_web::test]
async fn pooled_connections_killed_while_idle_cost_at_most_one_503_each() {
    let app = TestApp::seeded().await;
    let token = app.editor();
    // Fill the pool: several requests at once.
    let reads = (0..10).map(|_| app.get_as(&token, "/api/v1/pages/mission"));
    for read in futures_util::future::join_all(reads).await {
        read.ok(200);
    }
    let killed = app.count(
        "SELECT count(pg_terminate_backend(pid)) AS n FROM pg_stat_activity \
         WHERE application_name = 'seesac-api' AND datname = current_database()",
    );
    assert!(killed >= 1, "no pooled connection to kill");
    // Each dead connection fails the one request that finds it, with a 503 that
    // says to retry, and is dropped; the pool then connects anew.
    let mut unavailable = 0;
    let mut details = Vec::new();
    for _ in 0..(killed + 3) {
        let response = app.get_as(&token, "/api/v1/pages/mission").await;
        match response.status() {
            200 => {}
            503 => {
                assert!(response.header("retry-after").is_some());
                unavailable += 1;
                details.push(String::from_utf8_lossy(&response.body).into_owned());
            }
            status => panic!("{status}: {}", String::from_utf8_lossy(&response.body)),
        }
    }
    assert!(
        unavailable <= killed,
        "{unavailable} 503s for {killed} connections: {details:?}"
    );
    app.get_as(&token, "/api/v1/pages/mission").await.ok(200);
    // A write after it is kept.
    app.patch(
        &token,
        "/api/v1/pages/mission",
        serde_json::json!({"title": "After"}),
    )
    .await
    .ok(200);
    assert_eq!(
        app.count("SELECT count(*) AS n FROM pages WHERE slug = 'mission' AND title = 'After'"),
        1
    );
}
