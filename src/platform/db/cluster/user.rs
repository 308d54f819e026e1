//! The unprivileged user PostgreSQL runs as when this process is root, and what it
//! may reach: a root process cannot run the server itself.

use std::fs;
use std::path::Path;

use super::files::open_nofollow;

const SERVER_USER: &str = "postgres";

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

    /// Whether this user may `access` (an `r`/`w`/`x` bit: 4, 2, 1) the directory
    /// `dir`, by its owner, group and mode, as the kernel decides for a process of
    /// this user. Worked out here rather than by running a program as the user, so
    /// that no path ever reaches a shell.
    fn may(&self, access: u32, dir: &Path) -> bool {
        use std::os::unix::fs::MetadataExt;
        let Ok(metadata) = fs::metadata(dir) else {
            return false;
        };
        if !metadata.is_dir() {
            return false;
        }
        // Only the primary group: the server is started with `Command::uid`, which
        // drops supplementary groups.
        let shift = if metadata.uid() == self.uid {
            6
        } else if metadata.gid() == self.gid {
            3
        } else {
            0
        };
        (metadata.mode() >> shift) & access == access
    }

    /// Checks that this user can reach `dir`, and names the directory in the way if
    /// it cannot: a data directory in a closed home (root's, or a `mktemp -d`) fails
    /// with a message that says what to do, instead of an initdb riddle.
    pub fn check_reachable(&self, dir: &Path) -> Result<(), String> {
        // The real path: a symlink on the way must not hide a closed directory.
        let real = fs::canonicalize(dir).unwrap_or_else(|_| dir.to_owned());
        if real.ancestors().all(|ancestor| self.may(1, ancestor)) {
            return Ok(());
        }
        let dir = real.as_path();
        let mut blocked = dir.to_owned();
        for ancestor in dir.ancestors().collect::<Vec<_>>().into_iter().rev() {
            if !self.may(1, ancestor) {
                blocked = ancestor.to_owned();
                break;
            }
        }
        Err(format!(
            "the data directory {dir} is out of reach of the '{user}' user that PostgreSQL runs as \
             (this process is root, and PostgreSQL refuses to run as root): '{user}' cannot enter \
             {blocked}. Either let it pass (chmod o+x {blocked}), or set SEESAC_DATA_DIR to a \
             directory it can reach (for example SEESAC_DATA_DIR=/var/lib/seesac-api), or run \
             seesac-api as an ordinary user",
            dir = dir.display(),
            user = self.name,
            blocked = blocked.display(),
        ))
    }

    /// Like `check_reachable`, and the user may also write there.
    pub fn check_writable(&self, dir: &Path) -> Result<(), String> {
        self.check_reachable(dir)?;
        if self.may(2, dir) {
            Ok(())
        } else {
            Err(format!(
                "the '{}' user cannot write to {}",
                self.name,
                dir.display()
            ))
        }
    }

    /// Hands a file or directory we just created to this user, through the open
    /// file, never by following a path that might have become a symlink.
    pub fn give(&self, path: &Path) -> Result<(), String> {
        let file = open_nofollow(path)?;
        std::os::unix::fs::fchown(&file, Some(self.uid), Some(self.gid))
            .map_err(|e| format!("cannot chown {}: {e}", path.display()))
    }
}
