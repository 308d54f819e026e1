//! The embedded default: with no `DATABASE_URL`, seesac-api keeps its own PostgreSQL
//! cluster under `$SEESAC_DATA_DIR/postgres`: `initdb` on the first run, started on a
//! private port of 127.0.0.1 with a generated password, stopped when we exit, reused
//! on the next run.
//!
//! The data directory holds, besides the cluster: `seesac.lock` (held by the process
//! that owns the running cluster), and `db-password`, `jwt-secret` and
//! `admin-password`, all mode 0600.

use std::fs::{self, File, TryLockError};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use diesel::prelude::*;
use diesel::sql_types::Text;

use super::cluster::{Binaries, Cluster, ServerUser, free_port, read_private, write_private};
use crate::config::Config;

const SUPERUSER: &str = "seesac";
const DATABASE: &str = "seesac";

#[derive(Debug)]
pub struct Embedded {
    pub data_dir: PathBuf,
    pub url: String,
    cluster: Cluster,
    /// Whether we started the server (or adopted one a crashed run left behind) and
    /// so must stop it.
    owns_server: bool,
    _lock: Option<File>,
}

impl Embedded {
    /// Starts (or, with `shared`, joins) the cluster. `serve` needs it for itself;
    /// commands such as `users create` may join one a running `serve` owns.
    pub fn start(config: &Config, shared: bool) -> Result<Self, String> {
        let data_dir = absolute(&config.data_dir)?;
        let user = ServerUser::for_this_process()?;
        fs::create_dir_all(&data_dir)
            .map_err(|e| format!("cannot create {}: {e}", data_dir.display()))?;
        // The secrets in here are ours alone; the server user only needs to pass through.
        let mode = if user.is_some() { 0o711 } else { 0o700 };
        fs::set_permissions(&data_dir, fs::Permissions::from_mode(mode))
            .map_err(|e| format!("cannot set the mode of {}: {e}", data_dir.display()))?;
        if let Some(user) = &user {
            // Before anything is created in it.
            user.check_reachable(&data_dir)?;
        }

        let lock_path = data_dir.join("seesac.lock");
        let lock = File::create(&lock_path)
            .map_err(|e| format!("cannot create {}: {e}", lock_path.display()))?;
        let lock = match lock.try_lock() {
            Ok(()) => Some(lock),
            Err(TryLockError::WouldBlock) if shared => None,
            Err(TryLockError::WouldBlock) => {
                return Err(format!(
                    "another seesac-api is already serving from {}; stop it first, or set \
                     SEESAC_DATA_DIR to use another data directory",
                    data_dir.display()
                ));
            }
            Err(TryLockError::Error(e)) => {
                return Err(format!("cannot lock {}: {e}", lock_path.display()));
            }
        };

        let binaries = Binaries::find(config.pg_bindir.as_deref())?;
        let cluster = Cluster {
            data: data_dir.join("postgres"),
            binaries,
            user,
        };
        let password_file = data_dir.join("db-password");
        if !cluster.is_initialised() {
            if lock.is_none() {
                return Err(
                    "another seesac-api is setting up the embedded database; try again".to_owned(),
                );
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
            let password = crate::random::hex(24);
            write_private(&password_file, &password)?;
            cluster.init(SUPERUSER, &password)?;
        } else if let Some(user) = &cluster.user {
            user.check_writable(&cluster.data)?;
        }
        let password = read_private(&password_file)?
            .ok_or_else(|| format!("{} is missing", password_file.display()))?;

        let (port, owns_server) = match (cluster.running_port(), &lock) {
            // A server left running by a run that crashed: adopt it, and stop it later.
            (Some(port), Some(_)) => (port, true),
            (Some(port), None) => (port, false),
            (None, None) => {
                return Err(
                    "another seesac-api holds the embedded database but it is not running".into(),
                );
            }
            (None, Some(_)) => {
                let port = free_port()?;
                log::info!("starting the embedded PostgreSQL on 127.0.0.1:{port}");
                cluster.start(port)?;
                (port, true)
            }
        };
        let base = format!(
            "postgres://{SUPERUSER}:{}@127.0.0.1:{port}",
            password.trim()
        );
        let embedded = Self {
            url: format!("{base}/{DATABASE}"),
            data_dir,
            cluster,
            owns_server,
            _lock: lock,
        };
        create_database(&format!("{base}/postgres"))?;
        Ok(embedded)
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.data_dir.join(name)
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

fn absolute(path: &Path) -> Result<PathBuf, String> {
    std::path::absolute(path).map_err(|e| format!("cannot resolve {}: {e}", path.display()))
}

#[derive(QueryableByName)]
struct Name {
    #[diesel(sql_type = Text)]
    datname: String,
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
