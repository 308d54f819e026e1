//! A private PostgreSQL cluster run with the machine's own server binaries. The
//! embedded default (`serve` without `DATABASE_URL`) keeps one under the data
//! directory; the tests start a throwaway one under the system temp dir with the
//! same pieces.
//!
//! `initdb` and `postgres` refuse to run as root. When this process is root, the
//! cluster is created and run as the unprivileged `postgres` system user, which must
//! own the cluster directory and be able to reach it.

use std::fs;
use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

mod files;
mod user;

pub use files::{read_private, write_private, write_private_for};
pub use user::ServerUser;

/// `initdb`, `pg_ctl` and `postgres`, from one directory.
#[derive(Debug, Clone)]
pub struct Binaries {
    pub dir: PathBuf,
}

impl Binaries {
    /// Looks in `bindir` if given, else in PATH, `pg_config --bindir`, and the
    /// versioned directories of Debian, RHEL and Homebrew (newest first).
    pub fn find(bindir: Option<&Path>) -> Result<Self, String> {
        if let Some(dir) = bindir {
            return if has_server_binaries(dir) {
                Ok(Self {
                    dir: dir.to_owned(),
                })
            } else {
                Err(format!(
                    "SEESAC_PG_BINDIR is {}, but initdb, pg_ctl and postgres are not all there; {}",
                    dir.display(),
                    missing_binaries_message()
                ))
            };
        }
        candidate_dirs()
            .into_iter()
            .find(|dir| has_server_binaries(dir))
            .map(|dir| Self { dir })
            .ok_or_else(missing_binaries_message)
    }

    pub fn program(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }
}

pub fn missing_binaries_message() -> String {
    "the PostgreSQL server binaries (initdb, pg_ctl, postgres) were not found in PATH, \
     in `pg_config --bindir` or in /usr/lib/postgresql/*/bin. Either install the PostgreSQL \
     server (Debian/Ubuntu: apt install postgresql; Fedora: dnf install postgresql-server; \
     macOS: brew install postgresql@16), or set SEESAC_PG_BINDIR to the directory that holds \
     them, or set DATABASE_URL (and JWT_SECRET) to use a PostgreSQL server that is already running"
        .to_owned()
}

fn has_server_binaries(dir: &Path) -> bool {
    ["initdb", "pg_ctl", "postgres"]
        .iter()
        .all(|name| dir.join(name).is_file())
}

fn candidate_dirs() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|path| std::env::split_paths(&path).collect())
        .unwrap_or_default();
    if let Ok(output) = Command::new("pg_config").arg("--bindir").output()
        && output.status.success()
    {
        dirs.push(PathBuf::from(
            String::from_utf8_lossy(&output.stdout).trim(),
        ));
    }
    for (parent, prefix) in [
        ("/usr/lib/postgresql", ""),
        ("/usr", "pgsql-"),
        ("/opt/homebrew/opt", "postgresql@"),
        ("/usr/local/opt", "postgresql@"),
    ] {
        let mut versioned: Vec<(u32, PathBuf)> = fs::read_dir(parent)
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|entry| {
                let name = entry.file_name().to_string_lossy().into_owned();
                let version = name.strip_prefix(prefix)?.split('.').next()?.parse().ok()?;
                Some((version, entry.path().join("bin")))
            })
            .collect();
        versioned.sort_by_key(|(version, _)| std::cmp::Reverse(*version));
        dirs.extend(versioned.into_iter().map(|(_, dir)| dir));
    }
    dirs.push(PathBuf::from("/usr/local/pgsql/bin"));
    dirs
}

/// One cluster directory and how to run commands on it.
#[derive(Debug, Clone)]
pub struct Cluster {
    pub data: PathBuf,
    pub binaries: Binaries,
    pub user: Option<ServerUser>,
}

impl Cluster {
    pub fn is_initialised(&self) -> bool {
        self.data.join("PG_VERSION").is_file()
    }

    /// Whether the cluster's directory is a real, empty directory of this process
    /// or of the server user.
    fn is_empty_and_ours(&self) -> bool {
        use std::os::unix::fs::MetadataExt;
        let owners = [
            Some(nix::unistd::geteuid().as_raw()),
            self.user.as_ref().map(|user| user.uid),
        ];
        fs::symlink_metadata(&self.data)
            .is_ok_and(|metadata| metadata.is_dir() && owners.contains(&Some(metadata.uid())))
            && fs::read_dir(&self.data).is_ok_and(|mut entries| entries.next().is_none())
    }

    fn command(&self, program: &str) -> Command {
        let mut command = Command::new(self.binaries.program(program));
        command
            .current_dir(&self.data)
            .env("LC_ALL", "C")
            .env_remove("PGDATA")
            .env_remove("PGPORT");
        if let Some(user) = &self.user {
            command.uid(user.uid).gid(user.gid);
        }
        command
    }

    fn run(&self, mut command: Command, what: &str) -> Result<(), String> {
        let output = command
            .output()
            .map_err(|e| format!("cannot run {what}: {e}"))?;
        if output.status.success() {
            Ok(())
        } else {
            Err(format!(
                "{what} failed: {}{}",
                String::from_utf8_lossy(&output.stderr).trim(),
                String::from_utf8_lossy(&output.stdout).trim()
            ))
        }
    }

    /// Creates the directory (owned by the server user) and runs `initdb` in it. The
    /// superuser authenticates with SCRAM and `password`, so that other local users
    /// stay out.
    pub fn init(&self, superuser: &str, password: &str) -> Result<(), String> {
        {
            use std::os::unix::fs::DirBuilderExt;
            // Created here, by us, exclusively: an existing directory (or a symlink
            // planted in its place) is an error, not something to take over.
            let created = fs::DirBuilder::new().mode(0o700).create(&self.data);
            if let Err(error) = created {
                // What a failed initdb leaves behind, an empty directory of ours, is
                // used again; anything else is not ours to take over.
                if error.kind() != std::io::ErrorKind::AlreadyExists || !self.is_empty_and_ours() {
                    return Err(format!("cannot create {}: {error}", self.data.display()));
                }
            }
        }
        if let Some(user) = &self.user {
            user.give(&self.data)?;
            user.check_writable(&self.data)?;
        }
        let mut command = self.command("initdb");
        command
            .arg("-D")
            .arg(&self.data)
            .args(["-U", superuser, "-E", "UTF8", "--no-locale"]);
        // The password travels in a file next to the cluster that only the server user
        // can read, and is removed as soon as initdb has read it.
        let parent = self.data.parent().unwrap_or(Path::new("/"));
        let pwfile = parent.join(format!(".initdb-pw-{}", std::process::id()));
        write_private_for(&pwfile, password, self.user.as_ref())?;
        command
            .arg("--auth=scram-sha-256")
            .arg(format!("--pwfile={}", pwfile.display()));
        let result = self.run(command, "initdb");
        let _ = fs::remove_file(&pwfile);
        result
    }

    /// Starts the server in the background and waits until it accepts connections.
    /// `postgres` is started directly, with its arguments as arguments: `pg_ctl
    /// start` would pass the data directory and the log file through a shell. The
    /// server gets its own process group, so a Ctrl-C in the terminal reaches
    /// seesac-api, which then stops it in order.
    pub fn start(&self, port: u16) -> Result<(), String> {
        use std::os::unix::fs::OpenOptionsExt;
        let log_path = self.data.join("server.log");
        // The cluster's directory belongs to the server user: what is there is
        // opened without following a symlink or waiting on a FIFO, and used only
        // if it is a plain file with no other name.
        let log = fs::OpenOptions::new()
            .append(true)
            .create(true)
            .mode(0o600)
            .custom_flags(nix::libc::O_NOFOLLOW | nix::libc::O_NONBLOCK)
            .open(&log_path)
            .map_err(|e| format!("cannot open {}: {e}", log_path.display()))?;
        {
            use std::os::unix::fs::MetadataExt;
            let metadata = log
                .metadata()
                .map_err(|e| format!("cannot read {}: {e}", log_path.display()))?;
            if !metadata.is_file() || metadata.nlink() != 1 {
                return Err(format!(
                    "{} is not a plain file of its own (a FIFO, a device or a hard link may \
                     have been planted): remove it",
                    log_path.display()
                ));
            }
        }
        let log_err = log
            .try_clone()
            .map_err(|e| format!("cannot open {}: {e}", log_path.display()))?;
        let mut command = self.command("postgres");
        command
            .arg("-D")
            .arg(&self.data)
            .args(["-p", &port.to_string()])
            .args(["-c", "listen_addresses=127.0.0.1"])
            .args(["-c", "unix_socket_directories="])
            .args(["-c", "lc_messages=C"])
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log_err)
            .process_group(0);
        let mut child = command
            .spawn()
            .map_err(|e| format!("cannot start postgres: {e}"))?;
        let failed = |what: String| {
            format!(
                "{what}\n(the server's log is {})",
                self.data.join("server.log").display()
            )
        };
        // Ready when the server says so in its pid file, as `pg_ctl -w` waits.
        let started = std::time::Instant::now();
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                return Err(failed(format!("postgres exited at start ({status})")));
            }
            if self.pid_file_says_ready(child.id()) {
                return Ok(());
            }
            if started.elapsed() > std::time::Duration::from_secs(60) {
                let _ = child.kill();
                return Err(failed(
                    "postgres did not start within 60 seconds".to_owned(),
                ));
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }

    /// Whether `postmaster.pid` names `pid` and says the server is ready (its
    /// eighth line, as PostgreSQL writes it for `pg_ctl`).
    fn pid_file_says_ready(&self, pid: u32) -> bool {
        fs::read_to_string(self.data.join("postmaster.pid")).is_ok_and(|text| {
            let lines: Vec<&str> = text.lines().collect();
            lines
                .first()
                .is_some_and(|first| first.trim() == pid.to_string())
                && lines.get(7).is_some_and(|status| status.trim() == "ready")
        })
    }

    pub fn stop(&self) -> Result<(), String> {
        let mut command = self.command("pg_ctl");
        command
            .arg("stop")
            .arg("-D")
            .arg(&self.data)
            .args(["-m", "fast", "-w", "-t", "60", "-s"]);
        self.run(command, "pg_ctl stop")
    }

    /// The port of the server running on this directory, if one is.
    pub fn running_port(&self) -> Option<u16> {
        let mut command = self.command("pg_ctl");
        command
            .arg("status")
            .arg("-D")
            .arg(&self.data)
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        if !command.status().ok()?.success() {
            return None;
        }
        // postmaster.pid: pid, data directory, start time, port, ...
        let pid_file = fs::read_to_string(self.data.join("postmaster.pid")).ok()?;
        pid_file.lines().nth(3)?.trim().parse().ok()
    }
}

/// A port nobody listens on right now.
pub fn free_port() -> Result<u16, String> {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .map_err(|e| format!("cannot find a free port: {e}"))
}
