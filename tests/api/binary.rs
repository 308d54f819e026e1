//! The `seesac-api` binary as a user runs it: the embedded default, an external
//! database, and the subcommands.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use diesel::{Connection, RunQueryDsl};
use seesac_api::platform::db::cluster::{Binaries, Cluster, free_port};

use crate::helpers::{JWT_SECRET, TestDatabase};

const BINARY: &str = env!("CARGO_BIN_EXE_seesac-api");

pub(crate) fn command() -> Command {
    let mut command = Command::new(BINARY);
    command
        .env_remove("DATABASE_URL")
        .env_remove("JWT_SECRET")
        .env_remove("SEESAC_DATA_DIR")
        .env_remove("SEESAC_BIND")
        .env_remove("SEESAC_PG_BINDIR")
        .env("RUST_LOG", "info")
        // A .env file in the working directory must not leak into the test.
        .current_dir(std::env::temp_dir());
    command
}

/// A running `seesac-api serve`, its log going to a file.
pub(crate) struct Served {
    pub(crate) child: Child,
    pub(crate) address: String,
    log: PathBuf,
}

impl Served {
    pub(crate) fn start(mut command: Command, log: PathBuf) -> Self {
        let port = free_port().unwrap();
        let file = std::fs::File::create(&log).unwrap();
        let child = command
            .env("SEESAC_BIND", format!("127.0.0.1:{port}"))
            .stdout(file.try_clone().unwrap())
            .stderr(file)
            .spawn()
            .expect("the binary starts");
        Self {
            child,
            address: format!("http://127.0.0.1:{port}"),
            log,
        }
    }

    pub(crate) async fn wait_ready(&mut self, client: &awc::Client) {
        let started = Instant::now();
        loop {
            if let Ok(response) = client.get(format!("{}/readyz", self.address)).send().await
                && response.status() == 200
            {
                return;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("seesac-api exited with {status}:\n{}", self.log());
            }
            assert!(
                started.elapsed() < Duration::from_secs(120),
                "not ready:\n{}",
                self.log()
            );
            actix_web::rt::time::sleep(Duration::from_millis(200)).await;
        }
    }

    pub(crate) fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// SIGKILL: the process dies at once, as in a crash.
    pub(crate) fn kill9(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    /// SIGTERM, as a service manager would send it; waits for a clean exit.
    pub(crate) fn terminate(self) -> String {
        Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        self.wait_exit()
    }

    /// Waits for a clean exit after a signal already sent; the log.
    fn wait_exit(mut self) -> String {
        let started = Instant::now();
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "no exit after SIGTERM:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(100));
        };
        assert!(status.success(), "exit {status}:\n{}", self.log());
        self.log()
    }
}

async fn get_json(client: &awc::Client, url: &str) -> serde_json::Value {
    let mut response = client.get(url).send().await.unwrap();
    assert_eq!(response.status(), 200, "{url}");
    response.json().limit(16 * 1024 * 1024).await.unwrap()
}

pub(crate) fn run(mut command: Command, stdin: &str) -> Output {
    use std::io::Write;
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

pub(crate) struct TempDir(pub(crate) PathBuf);

impl TempDir {
    pub(crate) fn new() -> Self {
        let dir = std::env::temp_dir().join(format!(
            "seesac-binary-test-{}",
            uuid::Uuid::new_v4().simple()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[actix_web::test]
async fn the_embedded_default_sets_itself_up_serves_the_sample_content_and_stops_cleanly() {
    let binaries = Binaries::find(None).expect("this test needs the PostgreSQL server binaries");
    let temp = TempDir::new();
    let data = temp.0.join("data");
    let client = awc::Client::builder()
        .timeout(Duration::from_secs(30))
        .finish();

    let mut first = command();
    first.env("SEESAC_DATA_DIR", &data);
    let mut served = Served::start(first, temp.0.join("first.log"));
    served.wait_ready(&client).await;
    let pages = get_json(&client, &format!("{}/api/v1/pages", served.address)).await;
    assert_eq!(pages["meta"]["total"], 8);
    let password_file = data.join("admin-password");
    assert_eq!(mode(&password_file), 0o600);
    let password = std::fs::read_to_string(&password_file)
        .unwrap()
        .trim()
        .to_owned();
    let mut login = client
        .post(format!("{}/api/v1/auth/token", served.address))
        .send_json(&serde_json::json!({"username": "admin", "password": password}))
        .await
        .unwrap();
    assert_eq!(login.status(), 200);
    let token: serde_json::Value = login.json().await.unwrap();
    assert_eq!(token["token_type"], "Bearer");
    // The service works as a role that reads and writes rows and nothing more; the
    // superuser only migrates.
    let port = Cluster {
        data: data.join("postgres"),
        binaries: binaries.clone(),
        user: seesac_api::platform::db::cluster::ServerUser::for_this_process().unwrap(),
    }
    .running_port()
    .expect("the embedded server runs");
    let secret = |name: &str| {
        std::fs::read_to_string(data.join(name))
            .unwrap()
            .trim()
            .to_owned()
    };
    assert_eq!(mode(&data.join("db-app-password")), 0o600);
    let mut owner = diesel::PgConnection::establish(&format!(
        "postgres://seesac:{}@127.0.0.1:{port}/seesac",
        secret("db-password")
    ))
    .unwrap();
    #[derive(diesel::QueryableByName)]
    struct Role {
        #[diesel(sql_type = diesel::sql_types::Text)]
        usename: String,
    }
    let roles: Vec<String> = diesel::sql_query(
        "SELECT DISTINCT usename::text AS usename FROM pg_stat_activity \
         WHERE datname = 'seesac' AND pid <> pg_backend_pid() AND backend_type = 'client backend'",
    )
    .load::<Role>(&mut owner)
    .unwrap()
    .into_iter()
    .map(|role| role.usename)
    .collect();
    assert_eq!(roles, ["seesac_app"], "the pool's connections");
    let mut service = diesel::PgConnection::establish(&format!(
        "postgres://seesac_app:{}@127.0.0.1:{port}/seesac",
        secret("db-app-password")
    ))
    .unwrap();
    assert_schema_is_out_of_reach(&mut service);
    drop((owner, service));
    let log = served.terminate();
    assert!(
        !log.contains(&password),
        "the password is never logged, only where it is:\n{log}"
    );
    assert!(log.contains("admin-password"), "{log}");
    assert_eq!(mode(&data.join("jwt-secret")), 0o600);
    assert!(log.contains("stopped the embedded PostgreSQL"), "{log}");
    let user = seesac_api::platform::db::cluster::ServerUser::for_this_process().unwrap();
    let cluster = Cluster {
        data: data.join("postgres"),
        binaries,
        user,
    };
    assert!(
        !data.join("postgres/postmaster.pid").exists(),
        "PostgreSQL is still running"
    );

    let mut second = command();
    second.env("SEESAC_DATA_DIR", &data);
    let mut served = Served::start(second, temp.0.join("second.log"));
    served.wait_ready(&client).await;
    let pages = get_json(&client, &format!("{}/api/v1/pages", served.address)).await;
    assert_eq!(
        pages["meta"]["total"], 8,
        "the second run reuses the content"
    );
    assert_eq!(
        std::fs::read_to_string(&password_file).unwrap().trim(),
        password
    );
    let log = served.terminate();
    assert!(
        !log.contains("creating the embedded PostgreSQL cluster"),
        "{log}"
    );
    assert!(
        !log.contains(&password),
        "the password is not logged again:\n{log}"
    );
    assert!(cluster.running_port().is_none());

    // A signing key that is empty, readable by others or a symlink may have been
    // planted (or left by a full disk): the service refuses to start on it.
    let secret_file = data.join("jwt-secret");
    let secret = std::fs::read_to_string(&secret_file).unwrap();
    let elsewhere = temp.0.join("planted-secret");
    std::fs::write(&elsewhere, "a".repeat(64)).unwrap();
    std::fs::set_permissions(&elsewhere, std::fs::Permissions::from_mode(0o600)).unwrap();
    let plant = |refusal: &str| match refusal {
        "is 0 bytes long" => std::fs::write(&secret_file, "").unwrap(),
        "not a private file" => {
            std::fs::write(&secret_file, &secret).unwrap();
            std::fs::set_permissions(&secret_file, std::fs::Permissions::from_mode(0o644)).unwrap();
        }
        _ => {
            std::fs::remove_file(&secret_file).unwrap();
            std::os::unix::fs::symlink(&elsewhere, &secret_file).unwrap();
        }
    };
    for refusal in ["is 0 bytes long", "not a private file", "symbolic link"] {
        plant(refusal);
        let mut start = command();
        start
            .env("SEESAC_DATA_DIR", &data)
            .env("SEESAC_BIND", format!("127.0.0.1:{}", free_port().unwrap()));
        let output = run(start, "");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            !output.status.success(),
            "started on a planted secret: {stderr}"
        );
        assert!(stderr.contains(refusal), "{refusal}: {stderr}");
        assert!(stderr.contains("jwt-secret"), "{stderr}");
    }
    assert!(cluster.running_port().is_none(), "stopped after refusing");
}

#[actix_web::test]
async fn a_data_directory_with_shell_characters_in_its_name_reaches_no_shell() {
    let temp = TempDir::new();
    let witness =
        std::env::temp_dir().join(format!("seesac-injected-{}", uuid::Uuid::new_v4().simple()));
    // Were the path ever put in a shell command line, in quotes or not, the quote
    // would end the quoting and the command would run.
    let data = temp.0.join(format!(
        "it's \"$(touch {})\" `touch {}` data",
        witness.display(),
        witness.display()
    ));
    let client = awc::Client::builder()
        .timeout(Duration::from_secs(30))
        .finish();
    let mut serve = command();
    serve.env("SEESAC_DATA_DIR", &data);
    let mut served = Served::start(serve, temp.0.join("serve.log"));
    served.wait_ready(&client).await;
    let pages = get_json(&client, &format!("{}/api/v1/pages", served.address)).await;
    assert_eq!(pages["meta"]["total"], 8);
    let log = served.terminate();
    assert!(log.contains("stopped the embedded PostgreSQL"), "{log}");
    assert!(data.join("postgres/PG_VERSION").is_file());
    assert!(!witness.exists(), "a shell ran a command from the path");
}

#[test]
fn without_postgresql_binaries_the_embedded_default_says_what_to_install_and_fails() {
    let temp = TempDir::new();
    let mut serve = command();
    serve
        .env("SEESAC_DATA_DIR", temp.0.join("data"))
        .env("SEESAC_PG_BINDIR", temp.0.join("no-postgres-here"));
    let output = run(serve, "");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("apt install postgresql"), "{stderr}");
    assert!(
        stderr.contains("SEESAC_PG_BINDIR") && stderr.contains("DATABASE_URL"),
        "{stderr}"
    );
}

#[test]
fn with_database_url_a_missing_or_short_jwt_secret_is_refused() {
    let database = TestDatabase::new();
    let mut missing = command();
    missing.env("DATABASE_URL", &database.url);
    let output = run(missing, "");
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("JWT_SECRET is required"));

    let mut short = command();
    short
        .env("DATABASE_URL", &database.url)
        .env("JWT_SECRET", "0123456789");
    let output = run(short, "");
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("at least 32 bytes"));
}

#[actix_web::test]
async fn with_database_url_it_migrates_on_start_and_loads_nothing_until_seed() {
    let database = TestDatabase::empty();
    let client = awc::Client::builder()
        .timeout(Duration::from_secs(30))
        .finish();
    let temp = TempDir::new();
    let mut serve = command();
    serve
        .env("DATABASE_URL", &database.url)
        .env("JWT_SECRET", JWT_SECRET);
    let mut served = Served::start(serve, temp.0.join("serve.log"));
    served.wait_ready(&client).await;
    let pages = get_json(&client, &format!("{}/api/v1/pages", served.address)).await;
    assert_eq!(pages["meta"]["total"], 0);

    for expected in ["created 8 pages", "created 0 pages"] {
        let mut seed = command();
        seed.arg("seed").env("DATABASE_URL", &database.url);
        let output = run(seed, "");
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(String::from_utf8_lossy(&output.stdout).contains(expected));
    }
    // Another process wrote: the server hears of it when the change log is
    // numbered, within a second.
    let mut pages = serde_json::Value::Null;
    for _ in 0..40 {
        pages = get_json(&client, &format!("{}/api/v1/pages", served.address)).await;
        if pages["meta"]["total"] == 8 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(pages["meta"]["total"], 8);
    served.terminate();
}

/// The service's role reads and writes rows, and cannot change the schema, the
/// record of migrations or history: the change log (which keeps every version of
/// content, the revisions) and the audit log are written by the database alone.
#[track_caller]
fn assert_schema_is_out_of_reach(service: &mut diesel::PgConnection) {
    // It reads and writes rows (the statements fail otherwise)...
    diesel::sql_query("SELECT slug FROM pages LIMIT 1")
        .execute(service)
        .expect("the service's role reads rows");
    diesel::sql_query("UPDATE pages SET position = position")
        .execute(service)
        .expect("the service's role writes rows");
    // ...and nothing more.
    for forbidden in [
        "DROP TABLE pages",
        "ALTER TABLE pages ADD COLUMN planted text",
        "CREATE TABLE planted (x int)",
        "DELETE FROM __diesel_schema_migrations",
        "TRUNCATE changes",
        "UPDATE changes SET action = 'deleted'",
        "DELETE FROM changes",
        "INSERT INTO changes (type, key, action, version, item) \
         VALUES ('page', 'forged', 'created', 1, '{}')",
        "UPDATE audit SET actor = 'someone else'",
        "DELETE FROM audit",
        "INSERT INTO audit (actor, type, key, action, patch) \
         VALUES ('forged', 'page', 'x', 'created', '[]')",
        // The revisions are the change log's entries now: no table of their own.
        "UPDATE revisions SET version = 1",
        "DELETE FROM revisions",
        "INSERT INTO revisions DEFAULT VALUES",
    ] {
        let refused = diesel::sql_query(forbidden).execute(service);
        assert!(refused.is_err(), "the service's role may: {forbidden}");
    }
}

#[actix_web::test]
async fn with_a_migration_url_the_service_runs_as_a_role_that_only_reads_and_writes_rows() {
    let database = TestDatabase::empty();
    let role = format!("svc_{}", &uuid::Uuid::new_v4().simple().to_string()[..12]);
    let mut owner = database.connect();
    diesel::sql_query(format!(
        "CREATE ROLE {role} LOGIN PASSWORD 'service-password'"
    ))
    .execute(&mut owner)
    .unwrap();
    let mut service_url = url::Url::parse(&database.url).unwrap();
    service_url.set_username(&role).unwrap();
    service_url.set_password(Some("service-password")).unwrap();
    let client = awc::Client::builder()
        .timeout(Duration::from_secs(30))
        .finish();
    let temp = TempDir::new();
    let mut serve = command();
    serve
        .env("DATABASE_URL", service_url.as_str())
        .env("DATABASE_MIGRATION_URL", &database.url)
        .env("JWT_SECRET", JWT_SECRET);
    let mut served = Served::start(serve, temp.0.join("serve.log"));
    served.wait_ready(&client).await;
    diesel::sql_query(
        "INSERT INTO users (username, password_hash, role, token_stamp) \
         VALUES ('admin', 'no login', 'admin', '5eed0000-0000-4000-8000-00000000a111')",
    )
    .execute(&mut owner)
    .unwrap();
    let admin = seesac_api::platform::auth::JwtKeys::new(JWT_SECRET.as_bytes())
        .issue(
            "admin",
            "5eed0000-0000-4000-8000-00000000a111",
            seesac_api::platform::auth::Role::Admin,
        )
        .unwrap();
    let base = served.address.clone();
    let created = client
        .post(format!("{base}/api/v1/pages"))
        .insert_header(("authorization", format!("Bearer {admin}")))
        .send_json(
            &serde_json::json!({"slug": "mission", "title": "Mission", "body": "SEESAC works."}),
        )
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let deleted = client
        .delete(format!("{base}/api/v1/pages/mission"))
        .insert_header(("authorization", format!("Bearer {admin}")))
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 204);
    let mut service = diesel::PgConnection::establish(service_url.as_str()).unwrap();
    assert_schema_is_out_of_reach(&mut service);
    drop(service);
    served.terminate();
    // The role goes with the test: its rights here first, then the role.
    diesel::sql_query(format!("DROP OWNED BY {role}"))
        .execute(&mut owner)
        .unwrap();
    drop(owner);
    drop(database);
    let mut server =
        diesel::PgConnection::establish(&crate::helpers::database_url("postgres")).unwrap();
    diesel::sql_query(format!("DROP ROLE {role}"))
        .execute(&mut server)
        .unwrap();
}

#[actix_web::test]
async fn json_logs_give_one_line_per_request_with_its_route_status_caller_and_id() {
    let database = TestDatabase::new();
    let client = awc::Client::builder()
        .timeout(Duration::from_secs(30))
        .finish();
    let temp = TempDir::new();
    let mut serve = command();
    serve
        .env("DATABASE_URL", &database.url)
        .env("JWT_SECRET", JWT_SECRET)
        .env("SEESAC_LOG_FORMAT", "json");
    let mut served = Served::start(serve, temp.0.join("serve.log"));
    served.wait_ready(&client).await;
    let missing = client
        .get(format!(
            "{}/api/v1/pages/secret-plans?fields=slug",
            served.address
        ))
        .insert_header(("x-request-id", "trace-me-1"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    let log = served.terminate();
    let lines: Vec<serde_json::Value> = log
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|_| panic!("not JSON: {line}")))
        .collect();
    assert!(
        lines
            .iter()
            .all(|line| line["ts"].is_string() && line["level"].is_string())
    );
    let request = lines
        .iter()
        .find(|line| line["request_id"] == "trace-me-1")
        .unwrap_or_else(|| panic!("no line for the request:\n{log}"));
    assert_eq!(request["method"], "GET");
    assert_eq!(request["route"], "/api/v1/pages/{slug}");
    assert_eq!(request["status"], 404);
    assert_eq!(request["caller"], "anonymous");
    assert!(request["duration_ms"].as_f64().is_some_and(|ms| ms >= 0.0));
    assert!(
        !log.contains("secret-plans"),
        "paths are logged as templates"
    );
}

#[actix_web::test]
async fn a_write_in_flight_when_sigterm_comes_is_finished_and_kept() {
    let database = TestDatabase::new();
    let mut conn = database.connect();
    seesac_api::app::seed::load(&mut conn).unwrap();
    diesel::sql_query(
        "INSERT INTO users (username, password_hash, role, token_stamp) \
         VALUES ('admin', 'no login', 'admin', '5eed0000-0000-4000-8000-00000000a111')",
    )
    .execute(&mut conn)
    .unwrap();
    let admin = seesac_api::platform::auth::JwtKeys::new(JWT_SECRET.as_bytes())
        .issue(
            "admin",
            "5eed0000-0000-4000-8000-00000000a111",
            seesac_api::platform::auth::Role::Admin,
        )
        .unwrap();
    let client = awc::Client::builder()
        .timeout(Duration::from_secs(60))
        .finish();
    let temp = TempDir::new();
    let mut serve = command();
    serve
        .env("DATABASE_URL", &database.url)
        .env("JWT_SECRET", JWT_SECRET);
    let mut served = Served::start(serve, temp.0.join("serve.log"));
    served.wait_ready(&client).await;
    // A batch big enough to be still running when the signal comes.
    let items: Vec<serde_json::Value> = (1000..2000)
        .map(|year| {
            serde_json::json!({"metric": "women-in-armed-forces", "area": "RS",
                "period_start": format!("{year}-01-01"), "period_end": format!("{year}-12-31"),
                "value": 5, "status": "published"})
        })
        .collect();
    let batch = client
        .post(format!("{}/api/v1/observations/batch", served.address))
        .insert_header(("authorization", format!("Bearer {admin}")))
        .send_json(&serde_json::json!({ "items": items }));
    // The figures' table is held, so the batch is surely still running when the
    // signal comes, and after: it finishes only once the table is let go.
    use diesel::connection::SimpleConnection;
    conn.batch_execute("BEGIN; LOCK TABLE observations IN EXCLUSIVE MODE")
        .unwrap();
    let pid = served.child.id().to_string();
    let signal = async {
        actix_web::rt::time::sleep(Duration::from_millis(500)).await;
        Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        actix_web::rt::time::sleep(Duration::from_millis(500)).await;
        conn.batch_execute("COMMIT").unwrap();
        conn
    };
    let (answer, mut conn) = futures_util::future::join(batch, signal).await;
    let answer = answer.expect("the batch is answered, not cut off");
    assert_eq!(answer.status(), 200, "{}", served.log());
    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let kept: Count = diesel::sql_query(
        "SELECT count(*) AS n FROM observations WHERE area = 'RS' AND period_start < '2000-01-01'",
    )
    .get_result(&mut conn)
    .unwrap();
    assert_eq!(kept.n, 1000, "every acknowledged figure is kept");
    let log = served.wait_exit();
    assert!(log.contains("stopped serving"), "{log}");
}

#[test]
fn users_create_reads_the_password_from_standard_input() {
    use argon2::PasswordVerifier;
    let database = TestDatabase::new();
    let mut create = command();
    create
        .args(["users", "create", "--username", "alice", "--role", "editor"])
        .env("DATABASE_URL", &database.url);
    let output = run(create, "a long enough passphrase\n");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );

    let user = seesac_api::admin::users::find(&mut database.connect(), "alice")
        .unwrap()
        .unwrap();
    assert_eq!(user.role, "editor");
    let hash = argon2::PasswordHash::new(&user.password_hash).unwrap();
    assert!(
        argon2::Argon2::default()
            .verify_password(b"a long enough passphrase", &hash)
            .is_ok()
    );

    let mut again = command();
    again
        .args(["users", "create", "--username", "alice", "--role", "admin"])
        .env("DATABASE_URL", &database.url);
    assert!(
        !run(again, "another passphrase!\n").status.success(),
        "a second alice is refused"
    );
    let mut empty = command();
    empty
        .args(["users", "create", "--username", "bob", "--role", "admin"])
        .env("DATABASE_URL", &database.url);
    assert!(
        !run(empty, "").status.success(),
        "an empty password is refused"
    );
}

#[test]
fn the_openapi_subcommand_prints_the_committed_document() {
    let mut openapi = command();
    openapi.arg("openapi");
    let output = run(openapi, "");
    assert!(output.status.success());
    let committed =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/openapi.json"))
            .unwrap();
    assert_eq!(String::from_utf8_lossy(&output.stdout), committed);
}

#[test]
fn a_data_directory_the_server_user_cannot_reach_is_named_with_the_fix() {
    if !nix::unistd::geteuid().is_root() {
        // Only root hands the cluster to another user; as anyone else it is ours.
        return;
    }
    let temp = TempDir::new();
    let closed = temp.0.join("closed");
    std::fs::create_dir(&closed).unwrap();
    std::fs::set_permissions(&closed, std::fs::Permissions::from_mode(0o700)).unwrap();
    let mut serve = command();
    serve.env("SEESAC_DATA_DIR", closed.join("data"));
    let output = run(serve, "");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&format!("chmod o+x {}", closed.display())),
        "{stderr}"
    );
    assert!(stderr.contains("SEESAC_DATA_DIR"), "{stderr}");
    assert!(
        !closed.join("data/postgres").exists(),
        "nothing is created before the check"
    );
}

/// Runs `serve` on `data`, which must fail at once; its standard error.
fn refused(data: &Path) -> String {
    let mut serve = command();
    serve
        .env("SEESAC_DATA_DIR", data)
        .env("SEESAC_BIND", format!("127.0.0.1:{}", free_port().unwrap()));
    let output = run(serve, "");
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(
        !output.status.success(),
        "started on {}: {stderr}",
        data.display()
    );
    stderr
}

#[test]
fn a_data_directory_another_user_could_plant_files_in_is_refused_untouched() {
    let temp = TempDir::new();
    // A signing key someone planted, which would let them sign admin tokens.
    let plant = |dir: &Path| {
        std::fs::write(dir.join("jwt-secret"), "p".repeat(64)).unwrap();
        std::fs::set_permissions(
            dir.join("jwt-secret"),
            std::fs::Permissions::from_mode(0o600),
        )
        .unwrap();
    };

    let open = temp.0.join("open");
    std::fs::create_dir(&open).unwrap();
    std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o777)).unwrap();
    plant(&open);
    let stderr = refused(&open);
    assert!(
        stderr.contains("writable by its group or by others"),
        "{stderr}"
    );
    assert!(
        stderr.contains("SEESAC_DATA_DIR=/var/lib/seesac-api"),
        "{stderr}"
    );
    assert_eq!(
        mode(&open),
        0o777,
        "a directory it did not create keeps its mode"
    );

    let real = temp.0.join("real");
    std::fs::create_dir(&real).unwrap();
    std::fs::set_permissions(&real, std::fs::Permissions::from_mode(0o711)).unwrap();
    let link = temp.0.join("link");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    let stderr = refused(&link);
    assert!(stderr.contains("is a symbolic link"), "{stderr}");

    if nix::unistd::geteuid().is_root() {
        // Made by someone else, with the right mode: still not ours.
        let foreign = temp.0.join("foreign");
        std::fs::create_dir(&foreign).unwrap();
        plant(&foreign);
        std::fs::set_permissions(&foreign, std::fs::Permissions::from_mode(0o711)).unwrap();
        std::os::unix::fs::chown(&foreign, Some(65534), Some(65534)).unwrap();
        let stderr = refused(&foreign);
        assert!(stderr.contains("belongs to uid 65534"), "{stderr}");
        assert!(!foreign.join("seesac.lock").exists());
    }
    for dir in [&open, &real] {
        assert!(
            !dir.join("seesac.lock").exists(),
            "nothing is created in it"
        );
        assert!(!dir.join("postgres").exists(), "nothing is created in it");
    }
}

#[test]
fn a_lock_file_planted_as_a_symlink_is_refused_and_its_target_untouched() {
    let temp = TempDir::new();
    let data = temp.0.join("data");
    std::fs::create_dir(&data).unwrap();
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o711)).unwrap();
    let victim = temp.0.join("victim");
    std::fs::write(&victim, "precious").unwrap();
    std::os::unix::fs::symlink(&victim, data.join("seesac.lock")).unwrap();
    let stderr = refused(&data);
    assert!(stderr.contains("seesac.lock"), "{stderr}");
    assert!(stderr.contains("symlink"), "{stderr}");
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
    use std::os::unix::fs::MetadataExt;
    assert_eq!(
        std::fs::metadata(&victim).unwrap().uid(),
        nix::unistd::geteuid().as_raw(),
        "not handed to anyone"
    );
}

#[actix_web::test]
async fn an_api_tokens_secret_never_appears_in_a_log_line() {
    let database = TestDatabase::new();
    diesel::sql_query(
        "INSERT INTO users (username, password_hash, role, token_stamp) \
         VALUES ('admin', 'no login', 'admin', '5eed0000-0000-4000-8000-00000000a111')",
    )
    .execute(&mut database.connect())
    .unwrap();
    let admin = seesac_api::platform::auth::JwtKeys::new(JWT_SECRET.as_bytes())
        .issue(
            "admin",
            "5eed0000-0000-4000-8000-00000000a111",
            seesac_api::platform::auth::Role::Admin,
        )
        .unwrap();
    let client = awc::Client::builder()
        .timeout(Duration::from_secs(30))
        .finish();
    let temp = TempDir::new();
    let mut serve = command();
    serve
        .env("DATABASE_URL", &database.url)
        .env("JWT_SECRET", JWT_SECRET)
        // As much as the service logs.
        .env("RUST_LOG", "trace");
    let mut served = Served::start(serve, temp.0.join("serve.log"));
    served.wait_ready(&client).await;
    let base = served.address.clone();
    let expires = (chrono::Utc::now() + chrono::Duration::days(7)).to_rfc3339();
    let mut created = client
        .post(format!("{base}/api/v1/tokens"))
        .insert_header(("authorization", format!("Bearer {admin}")))
        .send_json(
            &serde_json::json!({"name": "preview", "scopes": ["content:read"],
                                       "expires_at": expires}),
        )
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let created: serde_json::Value = created.json().await.unwrap();
    let secret = created["token"].as_str().unwrap().to_owned();
    let id = created["id"].as_str().unwrap().to_owned();

    let status = |response: awc::ClientResponse<_>| response.status().as_u16();
    let get = |token: String| {
        client
            .get(format!("{base}/api/v1/pages?status=draft"))
            .insert_header(("authorization", format!("Bearer {token}")))
            .send()
    };
    assert_eq!(status(get(secret.clone()).await.unwrap()), 200);
    let revoked = client
        .delete(format!("{base}/api/v1/tokens/{id}"))
        .insert_header(("authorization", format!("Bearer {admin}")))
        .send()
        .await
        .unwrap();
    assert_eq!(status(revoked), 204);
    assert_eq!(status(get(secret.clone()).await.unwrap()), 401);
    let typo = format!("{}x", &secret[..secret.len() - 1]);
    assert_eq!(status(get(typo).await.unwrap()), 401);

    let log = served.terminate();
    assert!(
        log.contains("/api/v1/tokens"),
        "the requests were logged:\n{log}"
    );
    // Not the secret, not its random part, not even most of it.
    assert!(
        !log.contains(&secret["seesac_at_".len()..secret.len() - 10]),
        "the secret is in the log:\n{log}"
    );
}
