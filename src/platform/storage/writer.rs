//! The temporary file an upload is written to, hashed as it is written.

use std::fs::{self, File};
use std::io::Write;
use std::path::PathBuf;

use actix_web::web;
use sha2::{Digest, Sha256};

/// The temporary file being written, and the hash of what it holds so far.
/// Dropped before it is finished (the upload's deadline passed while it was being
/// written), it removes its file.
pub(super) struct Writer {
    file: File,
    hasher: Sha256,
    path: PathBuf,
}

impl Drop for Writer {
    fn drop(&mut self) {
        if !self.path.as_os_str().is_empty() {
            let _ = fs::remove_file(&self.path);
        }
    }
}

impl Writer {
    pub(super) async fn create(path: PathBuf) -> std::io::Result<Self> {
        web::block(move || -> std::io::Result<Self> {
            if let Some(parent) = path.parent() {
                fs::create_dir_all(parent)?;
            }
            Ok(Self {
                file: File::create_new(&path)?,
                hasher: Sha256::new(),
                path,
            })
        })
        .await
        .map_err(std::io::Error::other)?
    }

    pub(super) async fn write(mut self, bytes: Vec<u8>) -> std::io::Result<Self> {
        web::block(move || -> std::io::Result<Self> {
            self.hasher.update(&bytes);
            self.file.write_all(&bytes)?;
            Ok(self)
        })
        .await
        .map_err(std::io::Error::other)?
    }

    /// Writes the rest, flushes the file to disk and gives its hash.
    pub(super) async fn finish(self, rest: Vec<u8>) -> std::io::Result<String> {
        let writer = self.write(rest).await?;
        web::block(move || -> std::io::Result<String> {
            let mut writer = writer;
            writer.file.sync_all()?;
            // Finished: the file is `Received`'s now.
            writer.path = PathBuf::new();
            Ok(crate::platform::hex::encode(
                &writer.hasher.clone().finalize(),
            ))
        })
        .await
        .map_err(std::io::Error::other)?
    }

    pub(super) async fn discard(self) {
        let _ = web::block(move || drop(self)).await;
    }
}
