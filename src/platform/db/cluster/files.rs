//! Secret files, private to their owner: written atomically and never through a
//! symlink, and read only if nobody else could have planted them.

use std::fs;
use std::io::Write;
use std::path::Path;

use super::ServerUser;

/// Opens a file or directory for reading without following a symlink at its end.
pub(super) fn open_nofollow(path: &Path) -> Result<fs::File, String> {
    use std::os::unix::fs::OpenOptionsExt;
    fs::OpenOptions::new()
        .read(true)
        .custom_flags(nix::libc::O_NOFOLLOW)
        .open(path)
        .map_err(|e| format!("cannot open {} (a symlink is refused): {e}", path.display()))
}

/// Writes a file only its owner can read, atomically: a new file under an
/// unpredictable name beside it (created exclusively, never through a symlink),
/// written and synced, then renamed over `path`. A crash leaves the old file or the
/// new one, never an empty or half-written one; a symlink planted at `path` is
/// replaced, not followed.
pub fn write_private(path: &Path, contents: &str) -> Result<(), String> {
    write_private_for(path, contents, None)
}

/// `write_private`, the file then owned by `owner` (given through the open file,
/// before it takes its name).
pub fn write_private_for(
    path: &Path,
    contents: &str,
    owner: Option<&ServerUser>,
) -> Result<(), String> {
    use std::os::unix::fs::OpenOptionsExt;
    let failed = |e: std::io::Error| format!("cannot write {}: {e}", path.display());
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temporary = path.with_file_name(format!(".{name}.{}.tmp", crate::platform::random::hex(8)));
    let written = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .custom_flags(nix::libc::O_NOFOLLOW)
        .open(&temporary)
        .and_then(|mut file| {
            if let Some(owner) = owner {
                std::os::unix::fs::fchown(&file, Some(owner.uid), Some(owner.gid))?;
            }
            file.write_all(contents.as_bytes())?;
            file.sync_all()
        })
        .and_then(|()| fs::rename(&temporary, path))
        // The rename itself is made durable too.
        .and_then(|()| match path.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => fs::File::open(parent)?.sync_all(),
            _ => Ok(()),
        });
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
