//! The file store: bytes kept under a directory by their SHA-256
//! (`<dir>/<first two hex digits>/<hash>`), so identical bytes are kept once.
//! A file is received into a temporary file beside its final place, hashed as it
//! arrives, flushed to disk (`fsync`), and only then renamed into place: a file
//! under its hash is always whole. Receiving streams: at most one buffer of
//! `CHUNK` bytes is held in memory, and the disk is written off the async
//! workers. With object storage configured (`remote`), the store sends every file
//! it keeps there too, and fetches from there what it does not hold.

pub mod remote;
mod writer;

use std::fs::{self, File};
use std::io::Write;
use std::path::PathBuf;

use actix_web::web;
use futures_util::{Stream, StreamExt};

use crate::platform::random;
use writer::Writer;

/// Files being fetched from object storage, by their local path.
type Fetches = std::collections::HashMap<PathBuf, std::sync::Arc<tokio::sync::Mutex<()>>>;
static FETCHING: std::sync::LazyLock<std::sync::Mutex<Fetches>> =
    std::sync::LazyLock::new(std::sync::Mutex::default);

/// Bytes gathered before each write to disk.
const CHUNK: usize = 256 * 1024;
/// The first bytes of a file, which say what it is (`Received::head`).
pub const HEAD: usize = 64 * 1024;

#[derive(Debug, Clone)]
pub struct FileStore {
    dir: PathBuf,
    remote: Option<remote::Remote>,
}

/// A file received into the store's temporary space: not yet under its hash.
#[derive(Debug)]
pub struct Received {
    pub sha256: String,
    pub size: u64,
    /// Its first `HEAD` bytes (fewer if it is smaller).
    pub head: Vec<u8>,
    /// Removed when it is dropped unless kept (empty once it is kept or discarded).
    temporary: PathBuf,
}

impl Drop for Received {
    /// A request that went away (its deadline passed) leaves no file behind.
    fn drop(&mut self) {
        if !self.temporary.as_os_str().is_empty() {
            let _ = fs::remove_file(&self.temporary);
        }
    }
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
        Self {
            dir: dir.into(),
            remote: None,
        }
    }

    /// The store with object storage behind it.
    pub fn with_remote(self, remote: remote::Remote) -> Self {
        Self {
            remote: Some(remote),
            ..self
        }
    }

    pub fn remote(&self) -> Option<&remote::Remote> {
        self.remote.as_ref()
    }

    /// The name of the bytes with this hash (a lower-case hex SHA-256), under the
    /// store's directory and in object storage.
    pub fn name_of(sha256: &str) -> String {
        format!("{}/{sha256}", sha256.get(..2).unwrap_or("00"))
    }

    /// The name of a variant of the bytes with this hash (`key` names it among
    /// them), beside the originals.
    pub fn variant_name(sha256: &str, key: &str) -> String {
        format!("variants/{sha256}/{key}")
    }

    /// Where the file `name` is on local disk (if it is there).
    pub fn local(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// The local path of the file `name`, fetched from object storage first if it
    /// is only there; `None` if neither holds it.
    pub async fn present(&self, name: &str) -> std::io::Result<Option<PathBuf>> {
        let path = self.local(name);
        if path.is_file() {
            return Ok(Some(path));
        }
        let Some(remote) = &self.remote else {
            return Ok(None);
        };
        // Readers that ask at once for a file this instance lacks wait for the
        // first to fetch it, rather than each fetching it whole.
        let lock = FETCHING
            .lock()
            .map_err(|_| std::io::Error::other("the fetches' lock"))?
            .entry(path.clone())
            .or_default()
            .clone();
        let fetched = {
            let _fetching = lock.lock().await;
            if path.is_file() {
                Ok(Some(path.clone()))
            } else {
                self.fetch(remote, name, &path).await
            }
        };
        if let Ok(mut fetching) = FETCHING.lock() {
            fetching.remove(&path);
        }
        fetched
    }

    /// Fetches `name` from object storage to `path`; `None` if it is not there.
    async fn fetch(
        &self,
        remote: &remote::Remote,
        name: &str,
        path: &std::path::Path,
    ) -> std::io::Result<Option<PathBuf>> {
        let Some(stream) = remote.read(name).await? else {
            return Ok(None);
        };
        let received = match self.receive(remote::bytes_of(stream), u64::MAX).await {
            Ok(received) => received,
            Err(ReceiveError::Disk(error)) => return Err(error),
            Err(other) => return Err(std::io::Error::other(format!("{other:?}"))),
        };
        // An original is named by its hash: bytes that are not those are refused.
        let original = !name.starts_with("variants/");
        if original && !name.ends_with(&format!("/{}", received.sha256)) {
            return Err(std::io::Error::other(format!(
                "object storage's {name} holds other bytes (SHA-256 {})",
                received.sha256
            )));
        }
        self.place(received, path.to_path_buf()).await?;
        Ok(Some(path.to_path_buf()))
    }

    /// Sends the local file `name` to object storage, if there is one.
    pub async fn share(&self, name: &str) -> std::io::Result<()> {
        match &self.remote {
            Some(remote) => remote.send(name, &self.local(name)).await,
            None => Ok(()),
        }
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
    /// were stored before), in object storage too if there is one, and gives its
    /// path.
    pub async fn keep(&self, received: Received) -> std::io::Result<PathBuf> {
        let name = Self::name_of(&received.sha256);
        let target = self.place(received, self.local(&name)).await?;
        self.share(&name).await?;
        Ok(target)
    }

    /// Puts a received file at `target`, unless a file is there already.
    async fn place(&self, mut received: Received, target: PathBuf) -> std::io::Result<PathBuf> {
        let temporary = std::mem::take(&mut received.temporary);
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
    pub async fn discard(&self, mut received: Received) {
        let temporary = std::mem::take(&mut received.temporary);
        let _ = web::block(move || fs::remove_file(temporary)).await;
    }
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
