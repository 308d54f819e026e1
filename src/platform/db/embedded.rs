//! The embedded default: with no `DATABASE_URL`, seesac-api keeps its own PostgreSQL
//! cluster under `$SEESAC_DATA_DIR/postgres`: `initdb` on the first run, started on a
//! private port of 127.0.0.1 with a generated password, stopped when we exit, reused
//! on the next run.
//!
//! The data directory holds, besides the cluster: `seesac.lock` (held by the process
//! that owns the running cluster), and `db-password` (the superuser's, which
//! migrates), `db-app-password` (the service's role, `seesac_app`, which only reads
//! and writes rows), `jwt-secret` and `admin-password`, all mode 0600.

use std::fs::{self, File, TryLockError};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use diesel::prelude::*;
use diesel::sql_types::Text;

use super::cluster::{Binaries, Cluster, ServerUser, free_port, read_private, write_private};

const SUPERUSER: &str = "seesac";
/// The role the service runs as: rows only, no schema.
const SERVICE_ROLE: &str = "seesac_app";
const DATABASE: &str = "seesac";

#[derive(Debug)]
pub struct Embedded {
    pub data_dir: PathBuf,
    /// The service's role, which reads and writes rows.
    pub url: String,
    /// The superuser, which owns the schema and migrates.
    pub owner_url: String,
    cluster: Cluster,
    /// Whether we started the server (or adopted one a crashed run left behind) and
    /// so must stop it.
    owns_server: bool,
    _lock: Option<File>,
}

impl Embedded {
    /// Starts (or, with `shared`, joins) the cluster. `serve` needs it for itself;
    /// commands such as `users create` may join one a running `serve` owns. Without
    /// `create`, a data directory without a cluster is an error and nothing is made:
    /// a backup must not be the export of a database made for it.
    pub fn start(
        data_dir: &Path,
        pg_bindir: Option<&Path>,
        shared: bool,
        create: bool,
    ) -> Result<Self, String> {
        let data_dir = absolute(data_dir)?;
        if !create && !data_dir.join("postgres").join("PG_VERSION").exists() {
            return Err(format!(
                "there is no database in {}: nothing was created. Point SEESAC_DATA_DIR at the \
                 data directory `seesac-api serve` uses, or DATABASE_URL at the database",
                data_dir.display()
            ));
        }
        let user = ServerUser::for_this_process()?;
        // The secrets in here are ours alone; the server user only needs to pass through.
        prepare_data_dir(&data_dir, if user.is_some() { 0o711 } else { 0o700 })?;
        if let Some(user) = &user {
            // Before anything is created in it.
            user.check_reachable(&data_dir)?;
        }

        let lock = take_lock(&data_dir, shared)?;

        let binaries = Binaries::find(pg_bindir)?;
        let cluster = Cluster {
            data: data_dir.join("postgres"),
            binaries,
            user,
        };
        let password_file = data_dir.join("db-password");
        initialise(&cluster, lock.is_some(), &password_file)?;
        let password = read_private(&password_file)?
            .ok_or_else(|| format!("{} is missing", password_file.display()))?;

        let (port, owns_server) = run_server(&cluster, lock.is_some())?;
        let base = format!(
            "postgres://{SUPERUSER}:{}@127.0.0.1:{port}",
            password.trim()
        );
        create_database(&format!("{base}/postgres"))?;
        let owner_url = format!("{base}/{DATABASE}");
        let service_password = service_role(&owner_url, &data_dir.join("db-app-password"))?;
        let embedded = Self {
            url: format!(
                "postgres://{SERVICE_ROLE}:{service_password}@127.0.0.1:{port}/{DATABASE}"
            ),
            owner_url,
            data_dir,
            cluster,
            owns_server,
            _lock: lock,
        };
        Ok(embedded)
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.data_dir.join(name)
    }
}

/// Takes the data directory's lock, which the process that owns the running
/// cluster holds. With `shared`, a lock another process holds is no error: the
/// answer is then `None`, and we join its cluster.
fn take_lock(data_dir: &Path, shared: bool) -> Result<Option<File>, String> {
    let lock_path = data_dir.join("seesac.lock");
    let lock = open_lock(&lock_path)?;
    match lock.try_lock() {
        Ok(()) => Ok(Some(lock)),
        Err(TryLockError::WouldBlock) if shared => Ok(None),
        Err(TryLockError::WouldBlock) => Err(format!(
            "another seesac-api is already serving from {}; stop it first, or set \
             SEESAC_DATA_DIR to use another data directory",
            data_dir.display()
        )),
        Err(TryLockError::Error(e)) => Err(format!("cannot lock {}: {e}", lock_path.display())),
    }
}

/// Creates the cluster on the first run, with a new superuser password kept in
/// `password_file`; only the holder of the lock may.
fn initialise(cluster: &Cluster, locked: bool, password_file: &Path) -> Result<(), String> {
    if cluster.is_initialised() {
        if let Some(user) = &cluster.user {
            user.check_writable(&cluster.data)?;
        }
        return Ok(());
    }
    if !locked {
        return Err("another seesac-api is setting up the embedded database; try again".to_owned());
    }
    if fs::read_dir(&cluster.data).is_ok_and(|mut entries| entries.next().is_some()) {
        return Err(format!(
            "{} exists but is not a PostgreSQL cluster; move it away or set SEESAC_DATA_DIR",
            cluster.data.display()
        ));
    }
    log::info!(
        "creating the embedded PostgreSQL cluster in {}",
        cluster.data.display()
    );
    let password = crate::platform::random::hex(24);
    write_private(password_file, &password)?;
    cluster.init(SUPERUSER, &password)
}

/// The port of the cluster's server, started if it is not running, and whether we
/// must stop it when we exit.
fn run_server(cluster: &Cluster, locked: bool) -> Result<(u16, bool), String> {
    match (cluster.running_port(), locked) {
        // A server left running by a run that crashed: adopt it, and stop it later.
        (Some(port), true) => Ok((port, true)),
        (Some(port), false) => Ok((port, false)),
        (None, false) => {
            Err("another seesac-api holds the embedded database but it is not running".into())
        }
        (None, true) => {
            let port = free_port()?;
            log::info!("starting the embedded PostgreSQL on 127.0.0.1:{port}");
            cluster.start(port)?;
            Ok((port, true))
        }
    }
}

impl Drop for Embedded {
    fn drop(&mut self) {
        if self.owns_server {
            match self.cluster.stop() {
                Ok(()) => log::info!("stopped the embedded PostgreSQL"),
                Err(e) => log::error!("could not stop the embedded PostgreSQL: {e}"),
            }
        }
    }
}

/// Makes sure the data directory is one no one else can plant files in: a real
/// directory (not a symlink) owned by this process's user and writable by no one
/// else. One that does not exist yet is created with `mode`; one that exists is
/// checked, never changed: its mode is its owner's choice.
fn prepare_data_dir(dir: &Path, mode: u32) -> Result<(), String> {
    use std::os::unix::fs::{DirBuilderExt, MetadataExt};
    let created = match fs::DirBuilder::new().mode(mode).create(dir) {
        Ok(()) => true,
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => false,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            // Its parents are created as any directory would be; the data
            // directory itself is created, and so owned, by us.
            if let Some(parent) = dir.parent() {
                fs::create_dir_all(parent)
                    .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
            }
            fs::DirBuilder::new()
                .mode(mode)
                .create(dir)
                .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
            true
        }
        Err(e) => return Err(format!("cannot create {}: {e}", dir.display())),
    };
    let metadata =
        fs::symlink_metadata(dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
    let ours = nix::unistd::geteuid().as_raw();
    let refuse = |why: String| {
        Err(format!(
            "the data directory {} {why}, so another user could plant files in it (a signing \
             key, a lock that is a symlink). Use a directory of this user's own that only it \
             can write to: create it yourself (mkdir -m 700), or let seesac-api create it, \
             for example SEESAC_DATA_DIR=/var/lib/seesac-api as root or ./data as anyone else",
            dir.display()
        ))
    };
    if metadata.file_type().is_symlink() {
        return refuse("is a symbolic link".to_owned());
    }
    if !metadata.is_dir() {
        return refuse("is not a directory".to_owned());
    }
    if metadata.uid() != ours {
        return refuse(format!(
            "belongs to uid {}, not to this process's user (uid {ours})",
            metadata.uid()
        ));
    }
    if metadata.mode() & 0o022 != 0 {
        return refuse(format!(
            "is writable by its group or by others (mode {:o})",
            metadata.mode() & 0o7777
        ));
    }
    if created {
        // The mode asked for, whatever the umask made of it; through the directory
        // just checked, not its path again.
        use std::os::unix::fs::OpenOptionsExt;
        fs::OpenOptions::new()
            .read(true)
            .custom_flags(nix::libc::O_DIRECTORY | nix::libc::O_NOFOLLOW)
            .open(dir)
            .and_then(|handle| handle.set_permissions(fs::Permissions::from_mode(mode)))
            .map_err(|e| format!("cannot set the mode of {}: {e}", dir.display()))?;
    }
    Ok(())
}

/// Opens (creating if need be) the lock file without following a symlink and
/// without truncating anything, and checks it is a plain file of ours.
fn open_lock(path: &Path) -> Result<File, String> {
    use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
    let file = fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .custom_flags(nix::libc::O_NOFOLLOW)
        .open(path)
        .map_err(|e| {
            format!(
                "cannot open {} (it must be a plain file, not a symlink): {e}",
                path.display()
            )
        })?;
    let metadata = file
        .metadata()
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    if !metadata.is_file() || metadata.uid() != nix::unistd::geteuid().as_raw() {
        return Err(format!(
            "{} is not a plain file of this user: it may have been planted; remove it",
            path.display()
        ));
    }
    Ok(file)
}

fn absolute(path: &Path) -> Result<PathBuf, String> {
    std::path::absolute(path).map_err(|e| format!("cannot resolve {}: {e}", path.display()))
}

#[derive(QueryableByName)]
struct Name {
    #[diesel(sql_type = Text)]
    datname: String,
}

/// The service's own role, with the password kept in `password_file` (made on the
/// first start, set again on every start so the two agree). The migrations then
/// grant it its rows (`db::grant_rows_to`).
fn service_role(owner_url: &str, password_file: &Path) -> Result<String, String> {
    use diesel::connection::SimpleConnection;
    let password = match read_private(password_file)? {
        Some(password) => password.trim().to_owned(),
        None => {
            let password = crate::platform::random::hex(24);
            write_private(password_file, &password)?;
            password
        }
    };
    if password.is_empty() || !password.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(format!(
            "{} is not a password this service wrote; remove it",
            password_file.display()
        ));
    }
    let mut conn = super::connect(owner_url)?;
    conn.batch_execute(&format!(
        "DO $$ BEGIN \
             IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{SERVICE_ROLE}') THEN \
                 CREATE ROLE {SERVICE_ROLE} LOGIN; \
             END IF; \
         END $$; \
         ALTER ROLE {SERVICE_ROLE} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD '{password}'"
    ))
    .map_err(|e| format!("cannot set up the role {SERVICE_ROLE}: {e}"))?;
    Ok(password)
}

fn create_database(maintenance_url: &str) -> Result<(), String> {
    let mut conn = super::connect(maintenance_url)?;
    let existing: Vec<Name> =
        diesel::sql_query("SELECT datname FROM pg_database WHERE datname = $1")
            .bind::<Text, _>(DATABASE)
            .load(&mut conn)
            .map_err(|e| format!("cannot list databases: {e}"))?;
    if existing.iter().all(|row| row.datname != DATABASE) {
        diesel::sql_query(format!("CREATE DATABASE {DATABASE}"))
            .execute(&mut conn)
            .map_err(|e| format!("cannot create the database: {e}"))?;
    }
    Ok(())
}
