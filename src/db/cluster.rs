//! A private PostgreSQL cluster run with the machine's own server binaries. The
//! embedded default (`serve` without `DATABASE_URL`) keeps one under the data
//! directory; the tests start a throwaway one under the system temp dir with the
//! same pieces.
//!
//! `initdb` and `postgres` refuse to run as root. When this process is root, the
//! cluster is created and run as the unprivileged `postgres` system user, which must
//! own the cluster directory and be able to reach it.

use std::fs;
use std::io::Write;
use std::net::TcpListener;
use std::os::unix::fs::{PermissionsExt, chown};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const SERVER_USER: &str = "postgres";

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

/// The unprivileged user the cluster runs as when this process is root.
#[derive(Debug, Clone)]
pub struct ServerUser {
    pub name: String,
    pub uid: u32,
    pub gid: u32,
}

impl ServerUser {
    /// `None` when this process is not root: the cluster then runs as ourselves.
    pub fn for_this_process() -> Result<Option<Self>, String> {
        if !nix::unistd::geteuid().is_root() {
            return Ok(None);
        }
        match nix::unistd::User::from_name(SERVER_USER) {
            Ok(Some(user)) => Ok(Some(Self {
                name: user.name,
                uid: user.uid.as_raw(),
                gid: user.gid.as_raw(),
            })),
            _ => Err(format!(
                "running as root: PostgreSQL refuses to run as root, and there is no '{SERVER_USER}' \
                 user to run it as. Create one (useradd --system {SERVER_USER}), run seesac-api as an \
                 ordinary user, or set DATABASE_URL to use a running server"
            )),
        }
    }

    /// Whether this user passes `test <flag> dir` (`-x`: may enter, `-w`: may write).
    fn passes(&self, flag: &str, dir: &Path) -> Result<bool, String> {
        Command::new("/bin/sh")
            .args(["-c", &format!("test -d \"$1\" && test {flag} \"$1\""), "sh"])
            .arg(dir)
            .uid(self.uid)
            .gid(self.gid)
            .current_dir("/")
            .status()
            .map(|status| status.success())
            .map_err(|e| format!("cannot run /bin/sh as {}: {e}", self.name))
    }

    /// Checks that this user can reach `dir`, and names the directory in the way if
    /// it cannot: a data directory in a closed home (root's, or a `mktemp -d`) fails
    /// with a message that says what to do, instead of an initdb riddle.
    pub fn check_reachable(&self, dir: &Path) -> Result<(), String> {
        if self.passes("-x", dir)? {
            return Ok(());
        }
        let mut blocked = dir.to_owned();
        for ancestor in dir.ancestors().collect::<Vec<_>>().into_iter().rev() {
            if !self.passes("-x", ancestor)? {
                blocked = ancestor.to_owned();
                break;
            }
        }
        Err(format!(
            "the data directory {dir} is out of reach of the '{user}' user that PostgreSQL runs as \
             (this process is root, and PostgreSQL refuses to run as root): '{user}' cannot enter \
             {blocked}. Either let it pass (chmod o+x {blocked}), or set SEESAC_DATA_DIR to a \
             directory it can reach (for example SEESAC_DATA_DIR=/var/tmp/seesac-data), or run \
             seesac-api as an ordinary user",
            dir = dir.display(),
            user = self.name,
            blocked = blocked.display(),
        ))
    }

    /// Like `check_reachable`, and the user may also write there.
    pub fn check_writable(&self, dir: &Path) -> Result<(), String> {
        self.check_reachable(dir)?;
        if self.passes("-w", dir)? {
            Ok(())
        } else {
            Err(format!(
                "the '{}' user cannot write to {}",
                self.name,
                dir.display()
            ))
        }
    }

    pub fn give(&self, path: &Path) -> Result<(), String> {
        chown(path, Some(self.uid), Some(self.gid))
            .map_err(|e| format!("cannot chown {}: {e}", path.display()))
    }
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
        fs::create_dir_all(&self.data)
            .map_err(|e| format!("cannot create {}: {e}", self.data.display()))?;
        fs::set_permissions(&self.data, fs::Permissions::from_mode(0o700))
            .map_err(|e| format!("cannot restrict {}: {e}", self.data.display()))?;
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
        write_private(&pwfile, password)?;
        if let Some(user) = &self.user {
            user.give(&pwfile)?;
        }
        command
            .arg("--auth=scram-sha-256")
            .arg(format!("--pwfile={}", pwfile.display()));
        let result = self.run(command, "initdb");
        let _ = fs::remove_file(&pwfile);
        result
    }

    /// Starts the server in the background with `pg_ctl` and waits until it accepts
    /// connections. The server gets its own process group, so a Ctrl-C in the terminal
    /// reaches seesac-api, which then stops it in order.
    pub fn start(&self, port: u16) -> Result<(), String> {
        let mut command = self.command("pg_ctl");
        command
            .arg("start")
            .arg("-D")
            .arg(&self.data)
            .args(["-w", "-t", "60", "-s"])
            .arg("-l")
            .arg(self.data.join("server.log"))
            .arg("-o")
            .arg(format!(
                "-p {port} -c listen_addresses=127.0.0.1 -c unix_socket_directories='' \
                 -c lc_messages=C"
            ))
            .stdin(Stdio::null())
            .process_group(0);
        self.run(command, "pg_ctl start").map_err(|e| {
            format!(
                "{e}\n(the server's log is {})",
                self.data.join("server.log").display()
            )
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

/// Writes a file only its owner can read, atomically: a new file under an
/// unpredictable name beside it (created exclusively, never through a symlink),
/// written and synced, then renamed over `path`. A crash leaves the old file or the
/// new one, never an empty or half-written one; a symlink planted at `path` is
/// replaced, not followed.
pub fn write_private(path: &Path, contents: &str) -> Result<(), String> {
    use std::os::unix::fs::OpenOptionsExt;
    let failed = |e: std::io::Error| format!("cannot write {}: {e}", path.display());
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temporary = path.with_file_name(format!(".{name}.{}.tmp", crate::random::hex(8)));
    let written = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .custom_flags(nix::libc::O_NOFOLLOW)
        .open(&temporary)
        .and_then(|mut file| {
            file.write_all(contents.as_bytes())?;
            file.sync_all()
        })
        .and_then(|()| fs::rename(&temporary, path));
    if let Err(error) = written {
        let _ = fs::remove_file(&temporary);
        return Err(failed(error));
    }
    Ok(())
}

/// Reads a secret file written by `write_private`, refusing one that is a symlink,
/// not a plain file, not owned by this process's user or readable by anyone else:
/// such a file may have been planted. `None` if there is none.
pub fn read_private(path: &Path) -> Result<Option<String>, String> {
    use std::io::Read;
    use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
    let mut file = match fs::OpenOptions::new()
        .read(true)
        .custom_flags(nix::libc::O_NOFOLLOW)
        .open(path)
    {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) if e.raw_os_error() == Some(nix::libc::ELOOP) => {
            return Err(format!(
                "{} is a symbolic link; a secret file must be a plain file: remove it",
                path.display()
            ));
        }
        Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
    };
    let metadata = file
        .metadata()
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let ours = nix::unistd::geteuid().as_raw();
    if !metadata.is_file() || metadata.uid() != ours || metadata.mode() & 0o077 != 0 {
        return Err(format!(
            "{} is not a private file of this user (uid {ours}, mode 600): it may have been \
             planted; remove it, and check who else can write to its directory",
            path.display()
        ));
    }
    let mut text = String::new();
    file.read_to_string(&mut text)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    Ok(Some(text))
}
