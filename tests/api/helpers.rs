//! Test helpers: a real PostgreSQL (`DATABASE_URL`, or a throwaway cluster started
//! for this run), a fresh database per test cloned from a migrated template, the
//! application served on a random port, and a small HTTP client.

use std::net::TcpListener;
use std::rc::Rc;
use std::sync::OnceLock;
use std::time::Duration;

use actix_web::dev::ServerHandle;
use actix_web::http::header::{HeaderMap, HeaderName, HeaderValue};
use actix_web::http::{Method, StatusCode};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use seesac_api::app::config::ServerLimits;
use seesac_api::platform::auth::{JwtKeys, Role};
use seesac_api::platform::db::{self, cluster::Binaries};

use crate::cluster::Disposable;
use seesac_api::app::startup::{self, AppState};
use serde_json::Value;
use sha2::{Digest, Sha256};

pub const JWT_SECRET: &str = "test-secret-test-secret-test-secret-0123456789";

/// The PostgreSQL server the tests use, and the migrated template they clone.
struct Server {
    url: url::Url,
    template: String,
    _cluster: Option<Disposable>,
}

fn server() -> &'static Server {
    static SERVER: OnceLock<Server> = OnceLock::new();
    SERVER.get_or_init(|| {
        // Before the first connection: OpenSSL must not clean up at exit.
        seesac_api::platform::db::init_tls();
        let (url, cluster) = match std::env::var("DATABASE_URL") {
            Ok(url) if !url.trim().is_empty() => (url, None),
            _ => {
                let bindir = std::env::var_os("SEESAC_PG_BINDIR").map(std::path::PathBuf::from);
                let binaries = Binaries::find(bindir.as_deref()).expect(
                    "the tests need PostgreSQL: set DATABASE_URL, or install the server binaries",
                );
                let cluster =
                    Disposable::start(binaries).expect("cannot start a PostgreSQL for the tests");
                (cluster.url.clone(), Some(cluster))
            }
        };
        let url = url::Url::parse(&url).expect("DATABASE_URL is not a URL");
        let template = prepare_template(&url);
        Server {
            url,
            template,
            _cluster: cluster,
        }
    })
}

pub fn database_url(name: &str) -> String {
    let mut url = server().url.clone();
    url.set_path(&format!("/{name}"));
    url.to_string()
}

/// The address of the PostgreSQL server, for the outage proxy.
pub fn database_address() -> String {
    let url = &server().url;
    format!(
        "{}:{}",
        url.host_str().unwrap_or("127.0.0.1"),
        url.port().unwrap_or(5432)
    )
}

#[derive(QueryableByName)]
struct Name {
    #[diesel(sql_type = Text)]
    datname: String,
}

/// One migrated template per set of migrations, shared by every run that has the
/// same migrations (its name carries their hash).
fn prepare_template(url: &url::Url) -> String {
    let mut hasher = Sha256::new();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
    let mut files: Vec<_> = walk(&dir);
    files.sort();
    for file in files {
        hasher.update(file.to_string_lossy().as_bytes());
        hasher.update(std::fs::read(&file).expect("cannot read a migration"));
    }
    let hash: String = hasher
        .finalize()
        .iter()
        .take(6)
        .map(|b| format!("{b:02x}"))
        .collect();
    let name = format!("seesac_test_template_{hash}");
    let mut conn =
        PgConnection::establish(url.as_str()).expect("cannot connect to the test PostgreSQL");
    diesel::sql_query("SELECT pg_advisory_lock(7172001)")
        .execute(&mut conn)
        .expect("lock");
    let exists = diesel::sql_query("SELECT datname FROM pg_database WHERE datname = $1")
        .bind::<Text, _>(&name)
        .load::<Name>(&mut conn)
        .expect("list databases")
        .iter()
        .any(|row| row.datname == name);
    if !exists {
        let building = format!("{name}_building_{}", std::process::id());
        diesel::sql_query(format!("DROP DATABASE IF EXISTS {building}"))
            .execute(&mut conn)
            .expect("drop");
        diesel::sql_query(format!("CREATE DATABASE {building}"))
            .execute(&mut conn)
            .expect("create template");
        {
            let mut template =
                PgConnection::establish(&with_path(url, &building)).expect("connect to template");
            db::migrate(&mut template).expect("migrate the template");
        }
        diesel::sql_query(format!("ALTER DATABASE {building} RENAME TO {name}"))
            .execute(&mut conn)
            .expect("rename");
    }
    diesel::sql_query("SELECT pg_advisory_unlock(7172001)")
        .execute(&mut conn)
        .expect("unlock");
    name
}

fn with_path(url: &url::Url, name: &str) -> String {
    let mut url = url.clone();
    url.set_path(&format!("/{name}"));
    url.to_string()
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).expect("read migrations").flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(walk(&path))
        } else {
            files.push(path)
        }
    }
    files
}

/// A fresh database cloned from the template; dropped when the guard is.
pub struct TestDatabase {
    pub name: String,
    pub url: String,
}

impl TestDatabase {
    /// A migrated database.
    pub fn new() -> Self {
        Self::create(&format!("TEMPLATE {}", server().template))
    }

    /// A database with nothing in it, not even the tables.
    pub fn empty() -> Self {
        Self::create("")
    }

    fn create(options: &str) -> Self {
        let server = server();
        let name = format!("seesac_test_{}", uuid::Uuid::new_v4().simple());
        let mut conn = PgConnection::establish(server.url.as_str()).expect("connect");
        diesel::sql_query(format!("CREATE DATABASE {name} {options}"))
            .execute(&mut conn)
            .expect("cannot create a test database");
        let url = database_url(&name);
        Self { name, url }
    }

    pub fn connect(&self) -> PgConnection {
        PgConnection::establish(&self.url).expect("connect to the test database")
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Ok(mut conn) = PgConnection::establish(server().url.as_str()) {
            let _ = diesel::sql_query(format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ))
            .execute(&mut conn);
        }
    }
}

/// What `TestApp::spawn_with` can change.
#[derive(Default)]
pub struct Options {
    pub cors_origins: Vec<String>,
    /// Reach the database through this port of 127.0.0.1 (an outage proxy).
    pub database_port: Option<u16>,
    pub seed: bool,
    /// Rate limits, timeouts and the connection cap (the service's defaults if not).
    pub limits: Option<ServerLimits>,
    /// Serve Prometheus metrics on a port of their own (`TestApp::metrics`).
    pub metrics: bool,
    /// Serve this database instead of a new one: a second instance of the service.
    pub database: Option<Rc<TestDatabase>>,
}

/// The application, served on a random port, over its own database.
pub struct TestApp {
    pub address: String,
    /// The URL of the metrics, if `Options::metrics` asked for them.
    pub metrics: Option<String>,
    pub database: Rc<TestDatabase>,
    pub keys: JwtKeys,
    client: awc::Client,
    handle: ServerHandle,
}

impl TestApp {
    pub async fn spawn() -> Self {
        Self::spawn_with(Options::default()).await
    }

    /// With the organisation's sample content loaded.
    pub async fn seeded() -> Self {
        Self::spawn_with(Options {
            seed: true,
            ..Options::default()
        })
        .await
    }

    pub async fn spawn_with(options: Options) -> Self {
        // Errors the service logs (a 500's cause) show with a failing test's output.
        let _ = env_logger::builder().is_test(true).try_init();
        let database = options
            .database
            .unwrap_or_else(|| Rc::new(TestDatabase::new()));
        if options.seed {
            let mut conn = database.connect();
            seesac_api::app::seed::load(&mut conn).expect("the sample content loads");
            // Numbered now, so that the sequencer's announcement of the seed cannot
            // empty the read cache after a test has seen it on.
            seesac_api::features::changes::number_all(&mut conn).expect("the seed is numbered");
        }
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let address = format!("http://{}", listener.local_addr().expect("address"));
        let url = match options.database_port {
            Some(port) => {
                let mut url = url::Url::parse(&database.url).expect("url");
                url.set_host(Some("127.0.0.1")).expect("host");
                url.set_port(Some(port)).expect("port");
                url.to_string()
            }
            None => database.url.clone(),
        };
        let pool = db::pool(&url, 10);
        let keys = JwtKeys::new(JWT_SECRET.as_bytes());
        let state = AppState {
            pool,
            database_url: url.clone(),
            keys: keys.clone(),
            cors_origins: options.cors_origins,
            limits: options.limits.unwrap_or_default(),
        };
        let metrics_listener = options
            .metrics
            .then(|| TcpListener::bind("127.0.0.1:0").expect("bind the metrics"));
        let metrics = metrics_listener
            .as_ref()
            .map(|listener| format!("http://{}/metrics", listener.local_addr().expect("address")));
        let server =
            startup::run_with_metrics(listener, metrics_listener, state).expect("the app starts");
        let handle = server.handle();
        actix_web::rt::spawn(server);
        // Idle connections are not reused after 2 s: the server closes them after
        // its keep-alive of 5 s, and a request sent on one it is closing fails
        // (seen after a test spent seconds writing rows straight to the database).
        let client = awc::Client::builder()
            .timeout(Duration::from_secs(30))
            .disable_redirects()
            .connector(awc::Connector::new().conn_keep_alive(Duration::from_secs(2)))
            .finish();
        Self {
            address,
            metrics,
            database,
            keys,
            client,
            handle,
        }
    }

    /// Another instance of the service, on this one's database.
    pub async fn another_instance(&self) -> Self {
        Self::spawn_with(Options {
            database: Some(self.database.clone()),
            ..Options::default()
        })
        .await
    }

    /// The Prometheus metrics (`Options::metrics`), checked to be OpenMetrics text.
    pub async fn metrics_text(&self) -> String {
        let url = self.metrics.clone().expect("spawned with Options::metrics");
        let mut answer = awc::Client::default().get(&url).send().await.unwrap();
        assert_eq!(answer.status(), 200);
        let content_type = answer
            .headers()
            .get("content-type")
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        assert!(
            content_type.starts_with("application/openmetrics-text"),
            "{content_type}"
        );
        String::from_utf8(answer.body().await.unwrap().to_vec()).unwrap()
    }

    /// Waits (up to ten seconds) until `/readyz` says the read cache is `state`.
    pub async fn wait_for_read_cache(&self, state: &str) {
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        loop {
            let ready = self.get("/readyz").await;
            if ready.status() == 200 && ready.json()["read_cache"] == state {
                return;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the read cache is not {state}: {}",
                ready.json()
            );
            actix_web::rt::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// A person's token for `test-admin` or `test-editor`, who exist.
    pub fn token(&self, role: Role) -> String {
        self.user(&format!("test-{}", role.as_str()), role)
    }

    /// A user with this role (created if need be), and a token for them. Tokens
    /// are checked against the users on every request.
    pub fn user(&self, username: &str, role: Role) -> String {
        diesel::sql_query(
            "INSERT INTO users (username, password_hash, role) VALUES ($1, 'no login', $2) \
             ON CONFLICT (username) DO NOTHING",
        )
        .bind::<Text, _>(username)
        .bind::<Text, _>(role.as_str())
        .execute(&mut self.database.connect())
        .expect("the user is created");
        let stamp = stamp_of(&mut self.database.connect(), username);
        self.keys.issue(username, &stamp, role).expect("token")
    }

    pub fn admin(&self) -> String {
        self.token(Role::Admin)
    }

    pub fn editor(&self) -> String {
        self.token(Role::Editor)
    }

    /// A request builder: `app.request(Method::GET, "/api/v1/pages")`.
    pub fn request(&self, method: Method, path: &str) -> Request<'_> {
        Request {
            app: self,
            method,
            path: path.to_owned(),
            headers: Vec::new(),
            body: None,
        }
    }

    pub async fn get(&self, path: &str) -> Response {
        self.request(Method::GET, path).send().await
    }

    pub async fn get_as(&self, token: &str, path: &str) -> Response {
        self.request(Method::GET, path).bearer(token).send().await
    }

    pub async fn post(&self, token: &str, path: &str, body: Value) -> Response {
        self.request(Method::POST, path)
            .bearer(token)
            .json(body)
            .send()
            .await
    }

    pub async fn put(&self, token: &str, path: &str, body: Value) -> Response {
        self.request(Method::PUT, path)
            .bearer(token)
            .json(body)
            .send()
            .await
    }

    pub async fn patch(&self, token: &str, path: &str, body: Value) -> Response {
        self.request(Method::PATCH, path)
            .bearer(token)
            .merge_patch(body)
            .send()
            .await
    }

    pub async fn delete(&self, token: &str, path: &str) -> Response {
        self.request(Method::DELETE, path)
            .bearer(token)
            .send()
            .await
    }

    /// Runs SQL on the test database and returns one bigint: for assertions on
    /// what is really stored.
    /// Empties the blocks of the sample "Who we are" page, which name every
    /// metric, so that a test may delete one.
    pub async fn without_page_blocks(&self) {
        let editor = self.editor();
        self.patch(
            &editor,
            "/api/v1/pages/who-we-are",
            serde_json::json!({"blocks": []}),
        )
        .await
        .ok(200);
    }

    pub fn count(&self, sql: &str) -> i64 {
        #[derive(QueryableByName)]
        struct Count {
            #[diesel(sql_type = BigInt)]
            n: i64,
        }
        diesel::sql_query(sql)
            .get_result::<Count>(&mut self.database.connect())
            .expect("count query")
            .n
    }

    /// Runs a statement that changes the database; how many rows it touched.
    pub fn execute(&self, sql: &str) -> usize {
        diesel::sql_query(sql)
            .execute(&mut self.database.connect())
            .expect("the statement runs")
    }

    pub fn text(&self, sql: &str) -> Option<String> {
        #[derive(QueryableByName)]
        struct One {
            #[diesel(sql_type = diesel::sql_types::Nullable<Text>)]
            value: Option<String>,
        }
        diesel::sql_query(sql)
            .get_result::<One>(&mut self.database.connect())
            .ok()
            .and_then(|row| row.value)
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        // Asks the server to stop (the command is sent at once; nothing to await
        // here). The database is then dropped with its connections.
        drop(self.handle.stop(false));
    }
}

pub struct Request<'a> {
    app: &'a TestApp,
    method: Method,
    path: String,
    headers: Vec<(String, String)>,
    body: Option<(String, Vec<u8>)>,
}

impl Request<'_> {
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    pub fn bearer(self, token: &str) -> Self {
        self.header("authorization", &format!("Bearer {token}"))
    }

    pub fn json(self, body: Value) -> Self {
        self.raw("application/json", serde_json::to_vec(&body).expect("json"))
    }

    pub fn merge_patch(self, body: Value) -> Self {
        self.raw(
            "application/merge-patch+json",
            serde_json::to_vec(&body).expect("json"),
        )
    }

    pub fn raw(mut self, content_type: &str, body: Vec<u8>) -> Self {
        self.body = Some((content_type.to_owned(), body));
        self
    }

    pub async fn send(self) -> Response {
        let url = format!("{}{}", self.app.address, self.path);
        let mut request = self.app.client.request(self.method, url);
        for (name, value) in &self.headers {
            request = request.insert_header((name.as_str(), value.as_str()));
        }
        let mut response = match self.body {
            Some((content_type, body)) => {
                request
                    .insert_header(("content-type", content_type.as_str()))
                    .send_body(body)
                    .await
            }
            None => request.send().await,
        }
        .expect("the request is answered");
        let body = response
            .body()
            .limit(64 * 1024 * 1024)
            .await
            .expect("the body is read");
        Response {
            status: response.status(),
            headers: response.headers().clone(),
            body: body.to_vec(),
        }
    }
}

#[derive(Debug)]
pub struct Response {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Response {
    pub fn status(&self) -> u16 {
        self.status.as_u16()
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|_| {
            panic!(
                "not JSON ({}): {}",
                self.status,
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(HeaderName::from_bytes(name.as_bytes()).expect("header name"))
            .and_then(|v: &HeaderValue| v.to_str().ok())
            .map(str::to_owned)
    }

    pub fn etag(&self) -> String {
        self.header("etag").expect("an ETag")
    }

    /// Asserts a problem+json error with this status and code, and returns it.
    #[track_caller]
    pub fn problem(&self, status: u16, code: &str) -> Value {
        assert_eq!(
            self.status(),
            status,
            "body: {}",
            String::from_utf8_lossy(&self.body)
        );
        assert_eq!(
            self.header("content-type").as_deref(),
            Some("application/problem+json")
        );
        let body = self.json();
        assert_eq!(body["status"], status);
        assert_eq!(body["code"], code);
        assert_eq!(
            body["request_id"].as_str(),
            self.header("x-request-id").as_deref(),
            "a problem quotes its request's id"
        );
        assert!(
            body["type"]
                .as_str()
                .is_some_and(|t| t.starts_with("/problems/")),
            "{body}"
        );
        assert!(
            body["title"].is_string() && body["detail"].is_string(),
            "{body}"
        );
        body
    }

    /// The JSON pointers named in a problem's `errors`.
    pub fn pointers(&self) -> Vec<String> {
        self.json()["errors"]
            .as_array()
            .map(|errors| {
                errors
                    .iter()
                    .filter_map(|e| e["pointer"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }

    #[track_caller]
    pub fn ok(&self, status: u16) -> Value {
        assert_eq!(
            self.status(),
            status,
            "body: {}",
            String::from_utf8_lossy(&self.body)
        );
        if self.body.is_empty() {
            Value::Null
        } else {
            self.json()
        }
    }
}

/// A problem body without its `request_id`, which is each request's own: for
/// comparing the problems of two requests.
pub fn without_request_id(mut problem: Value) -> Value {
    if let Some(object) = problem.as_object_mut() {
        object.remove("request_id");
    }
    problem
}

/// A page body for tests.
pub fn page(slug: &str, title: &str) -> Value {
    serde_json::json!({"slug": slug, "title": title, "body": format!("The {title} page.")})
}

/// A page body for tests, published from `at` on (a scheduled publication when
/// `at` is to come).
pub fn scheduled_page(slug: &str, title: &str, at: chrono::DateTime<chrono::Utc>) -> Value {
    let mut page = page(slug, title);
    page["status"] = serde_json::json!("published");
    page["published_at"] = serde_json::json!(at.to_rfc3339());
    page
}

/// The stamp a user's tokens carry now.
pub fn stamp_of(conn: &mut diesel::PgConnection, username: &str) -> String {
    #[derive(diesel::QueryableByName)]
    struct Stamp {
        #[diesel(sql_type = Text)]
        stamp: String,
    }
    diesel::sql_query("SELECT token_stamp::text AS stamp FROM users WHERE username = $1")
        .bind::<Text, _>(username)
        .get_result::<Stamp>(conn)
        .expect("the user exists")
        .stamp
}
