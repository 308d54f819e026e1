//! The file store: bytes kept under a directory by their SHA-256
//! (`<dir>/<first two hex digits>/<hash>`), so identical bytes are kept once.
//! A file is received into a temporary file beside its final place, hashed as it
//! arrives, flushed to disk (`fsync`), and only then renamed into place: a file
//! under its hash is always whole. Receiving streams: at most one buffer of
//! `CHUNK` bytes is held in memory, and the disk is written off the async
//! workers.

use std::fs::{self, File};
use std::io::Write;
use std::path::PathBuf;

use actix_web::web;
use futures_util::{Stream, StreamExt};
use sha2::{Digest, Sha256};

use crate::platform::random;

/// Bytes gathered before each write to disk.
const CHUNK: usize = 256 * 1024;
/// The first bytes of a file, which say what it is (`Received::head`).
pub const HEAD: usize = 64 * 1024;

#[derive(Debug, Clone)]
pub struct FileStore {
    dir: PathBuf,
}

/// A file received into the store's temporary space: not yet under its hash.
#[derive(Debug)]
pub struct Received {
    pub sha256: String,
    pub size: u64,
    /// Its first `HEAD` bytes (fewer if it is smaller).
    pub head: Vec<u8>,
    temporary: PathBuf,
}

/// Why a file was not received.
#[derive(Debug)]
pub enum ReceiveError {
    /// It was longer than the limit (in bytes).
    TooLarge(u64),
    /// It had no bytes.
    Empty,
    /// The client's stream failed (it went away, or was too slow).
    Client(String),
    /// The disk failed.
    Disk(std::io::Error),
}

impl From<std::io::Error> for ReceiveError {
    fn from(error: std::io::Error) -> Self {
        Self::Disk(error)
    }
}

impl FileStore {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// Where the bytes with this hash are (a lower-case hex SHA-256).
    pub fn path_of(&self, sha256: &str) -> PathBuf {
        let prefix = sha256.get(..2).unwrap_or("00");
        self.dir.join(prefix).join(sha256)
    }

    /// Where a variant of the bytes with this hash is kept (`key` names it among
    /// them), beside the originals.
    pub fn variant_path(&self, sha256: &str, key: &str) -> PathBuf {
        self.dir.join("variants").join(sha256).join(key)
    }

    /// Writes `bytes` to `path` whole or not at all: to a temporary file beside it,
    /// flushed, then renamed into place. Blocking: for `web::block`.
    pub fn write_whole(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
        let parent = path
            .parent()
            .ok_or_else(|| std::io::Error::other("a path without a directory"))?;
        fs::create_dir_all(parent)?;
        let temporary = parent.join(format!(".{}", random::hex(8)));
        let mut file = File::create_new(&temporary)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        fs::rename(&temporary, path)?;
        File::open(parent)?.sync_all()
    }

    /// Receives `stream` into a temporary file, hashing it, refusing it once it is
    /// longer than `limit` bytes; nothing is left behind if it fails.
    pub async fn receive<S, E>(&self, mut stream: S, limit: u64) -> Result<Received, ReceiveError>
    where
        S: Stream<Item = Result<web::Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        let temporary = self.dir.join("incoming").join(random::hex(16));
        let mut writer = Some(Writer::create(temporary.clone()).await?);
        let mut buffer: Vec<u8> = Vec::with_capacity(CHUNK);
        let mut head: Vec<u8> = Vec::new();
        let mut size: u64 = 0;
        let result = loop {
            let chunk = match stream.next().await {
                None => break Ok(()),
                Some(Err(error)) => break Err(ReceiveError::Client(error.to_string())),
                Some(Ok(chunk)) => chunk,
            };
            size = size.saturating_add(chunk.len() as u64);
            if size > limit {
                break Err(ReceiveError::TooLarge(limit));
            }
            if head.len() < HEAD {
                let take = (HEAD - head.len()).min(chunk.len());
                head.extend_from_slice(&chunk[..take]);
            }
            buffer.extend_from_slice(&chunk);
            if buffer.len() >= CHUNK
                && let Some(current) = writer.take()
            {
                let full = std::mem::replace(&mut buffer, Vec::with_capacity(CHUNK));
                writer = Some(current.write(full).await?);
            }
        };
        let Some(writer) = writer else {
            return Err(ReceiveError::Disk(std::io::Error::other(
                "the writer was lost",
            )));
        };
        if let Err(error) = result {
            writer.discard().await;
            return Err(error);
        }
        if size == 0 {
            writer.discard().await;
            return Err(ReceiveError::Empty);
        }
        let sha256 = writer.finish(buffer).await?;
        Ok(Received {
            sha256,
            size,
            head,
            temporary,
        })
    }

    /// Puts a received file under its hash (keeping the one there if the same bytes
    /// were stored before), and gives its path.
    pub async fn keep(&self, received: Received) -> std::io::Result<PathBuf> {
        let target = self.path_of(&received.sha256);
        let temporary = received.temporary;
        let place = target.clone();
        web::block(move || -> std::io::Result<()> {
            if place.exists() {
                return fs::remove_file(&temporary);
            }
            if let Some(parent) = place.parent() {
                fs::create_dir_all(parent)?;
            }
            fs::rename(&temporary, &place)?;
            // The rename is durable once its directory is.
            if let Some(parent) = place.parent() {
                File::open(parent)?.sync_all()?;
            }
            Ok(())
        })
        .await
        .map_err(std::io::Error::other)??;
        Ok(target)
    }

    /// Every file under the store, those being received included.
    pub fn files(&self) -> Vec<PathBuf> {
        fn walk(dir: &std::path::Path, files: &mut Vec<PathBuf>) {
            for entry in fs::read_dir(dir).into_iter().flatten().flatten() {
                let path = entry.path();
                if path.is_dir() {
                    walk(&path, files);
                } else {
                    files.push(path);
                }
            }
        }
        let mut files = Vec::new();
        walk(&self.dir, &mut files);
        files
    }

    /// Drops a received file that will not be kept.
    pub async fn discard(&self, received: Received) {
        let _ = web::block(move || fs::remove_file(received.temporary)).await;
    }
}

/// The temporary file being written, and the hash of what it holds so far.
struct Writer {
    file: File,
    hasher: Sha256,
    path: PathBuf,
}

impl Writer {
    async fn create(path: PathBuf) -> std::io::Result<Self> {
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

    async fn write(mut self, bytes: Vec<u8>) -> std::io::Result<Self> {
        web::block(move || -> std::io::Result<Self> {
            self.hasher.update(&bytes);
            self.file.write_all(&bytes)?;
            Ok(self)
        })
        .await
        .map_err(std::io::Error::other)?
    }

    /// Writes the rest, flushes the file to disk and gives its hash.
    async fn finish(self, rest: Vec<u8>) -> std::io::Result<String> {
        let writer = self.write(rest).await?;
        web::block(move || -> std::io::Result<String> {
            writer.file.sync_all()?;
            Ok(hex(&writer.hasher.finalize()))
        })
        .await
        .map_err(std::io::Error::other)?
    }

    async fn discard(self) {
        let path = self.path;
        drop(self.file);
        let _ = web::block(move || fs::remove_file(path)).await;
    }
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes.iter().fold(String::new(), |mut text, byte| {
        let _ = write!(text, "{byte:02x}");
        text
    })
}

/// Where uploads go and how much of them the service takes.
#[derive(Debug, Clone)]
pub struct Uploads {
    pub store: FileStore,
    /// The largest upload, in bytes, whatever its type (each type has its own
    /// limit too).
    pub max_bytes: u64,
    /// How long a client has to send an upload's body.
    pub timeout: std::time::Duration,
    /// Size limits for media types, instead of their defaults: `(media type,
    /// bytes)`; 0 refuses the type.
    pub type_limits: Vec<(String, u64)>,
}

impl Uploads {
    /// The limit of `media_type`: the configured one, or `default`.
    pub fn limit_of(&self, media_type: &str, default: u64) -> u64 {
        self.type_limits
            .iter()
            .find(|(listed, _)| listed == media_type)
            .map_or(default, |(_, limit)| *limit)
    }
}

impl Default for Uploads {
    /// The store in the system's temporary directory: what tests run with. The
    /// service's configuration puts it under its data directory.
    fn default() -> Self {
        Self {
            store: FileStore::new(std::env::temp_dir().join("seesac-assets")),
            max_bytes: 100 << 20,
            timeout: std::time::Duration::from_secs(300),
            type_limits: Vec::new(),
        }
    }
}
