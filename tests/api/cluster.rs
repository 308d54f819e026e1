//! The tests' own PostgreSQL, when `DATABASE_URL` does not name one: a throwaway
//! cluster under the system temp dir, built with the same pieces as the embedded
//! default (`Cluster`, run as the `postgres` user when we are root), on a free port
//! of 127.0.0.1, without fsync.
//!
//! The server runs under a small shell watchdog that reads our end of a pipe: when
//! the test process exits, however it exits, the pipe closes and the watchdog stops
//! the server and deletes the directory.
//!
//! It runs with `LANGUAGE=de`, so that a database whose `lc_messages` is a real
//! locale (`C.UTF-8`) answers in German: the test that errors are classified
//! whatever the server's language uses one (see `errors.rs`).

use std::fs;
use std::os::unix::process::CommandExt;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

use diesel::Connection;
use seesac_api::platform::db::cluster::{Binaries, Cluster, ServerUser, free_port};

pub struct Disposable {
    pub url: String,
    _watchdog: Child,
    _lifeline: ChildStdin,
}

impl Disposable {
    pub fn start(binaries: Binaries) -> Result<Self, String> {
        let user = ServerUser::for_this_process()?;
        let base = std::env::temp_dir().join(format!(
            "seesac-test-{}-{}",
            std::process::id(),
            free_port()?
        ));
        fs::create_dir_all(&base).map_err(|e| format!("cannot create {}: {e}", base.display()))?;
        if let Some(user) = &user {
            user.give(&base)?;
        }
        let cluster = Cluster {
            data: base.join("data"),
            binaries,
            user,
        };
        let password = seesac_api::platform::random::hex(16);
        cluster.init("postgres", &password)?;
        let port = free_port()?;
        let script = "\"$1\" -D \"$2\" -p \"$3\" -c listen_addresses=127.0.0.1 -c unix_socket_directories= \
                      -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300 \
                      >\"$4/server.log\" 2>&1 </dev/null & server=$!; \
                      cat >/dev/null; kill -INT $server; wait $server; rm -rf \"$4\"";
        let mut command = Command::new("/bin/sh");
        command
            .args(["-c", script, "sh"])
            .arg(cluster.binaries.program("postgres"))
            .arg(&cluster.data)
            .arg(port.to_string())
            .arg(&base)
            .current_dir(&base)
            .env("LANGUAGE", "de")
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0);
        if let Some(user) = &cluster.user {
            command.uid(user.uid).gid(user.gid);
        }
        let mut child = command
            .spawn()
            .map_err(|e| format!("cannot start the test cluster: {e}"))?;
        let lifeline = child.stdin.take().ok_or("the watchdog has no stdin")?;
        let url = format!("postgres://postgres:{password}@127.0.0.1:{port}/postgres");
        wait_until_ready(&url, Duration::from_secs(30)).map_err(|e| {
            let log = fs::read_to_string(base.join("server.log")).unwrap_or_default();
            format!("{e}\n{log}")
        })?;
        Ok(Self {
            url,
            _watchdog: child,
            _lifeline: lifeline,
        })
    }
}

/// Polls until PostgreSQL at `url` answers.
fn wait_until_ready(url: &str, timeout: Duration) -> Result<(), String> {
    let started = Instant::now();
    loop {
        match diesel::PgConnection::establish(url) {
            Ok(_) => return Ok(()),
            Err(e) if started.elapsed() > timeout => {
                return Err(format!("PostgreSQL did not start: {e}"));
            }
            Err(_) => std::thread::sleep(Duration::from_millis(100)),
        }
    }
}
