//! Object storage behind the file store (`SEESAC_STORAGE_URL=s3://…`): S3 or any
//! server that speaks its protocol, through `object_store`. The object store holds
//! every file under the same names as the local store (`<2 hex>/<sha256>`,
//! `variants/<sha256>/<key>`), so that several instances share them. Each instance
//! keeps what it served under its data directory as a cache: a file never changes
//! under its name, so a cached copy is never stale, and bytes are served from
//! local disk (`Range`, `sendfile`) whatever holds them.

use std::io::Read;
use std::path::Path;
use std::sync::Arc;

use actix_web::web;
use futures_util::{StreamExt, TryStreamExt};
use object_store::aws::AmazonS3Builder;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload, WriteMultipart};

/// The size of the parts of a multipart upload (S3 takes 5 MiB and more), and of
/// the largest file sent in one request.
const PART: usize = 8 << 20;

#[derive(Clone)]
pub struct Remote {
    store: Arc<dyn ObjectStore>,
    /// Prepended to every name (the URL's path).
    prefix: String,
    /// The URL without its credentials, for messages.
    pub described: String,
}

impl std::fmt::Debug for Remote {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.described)
    }
}

/// An object in the store: its name (without the prefix), when it was last
/// written, its size.
#[derive(Debug)]
pub struct Object {
    pub name: String,
    pub modified: std::time::SystemTime,
    pub size: u64,
}

impl Remote {
    /// `s3://[KEY:SECRET@]bucket[/prefix][?endpoint=URL][&region=NAME]`. Without
    /// credentials in the URL, they come from `AWS_ACCESS_KEY_ID` and
    /// `AWS_SECRET_ACCESS_KEY` (or the platform's, as the AWS SDKs find them).
    pub fn parse(raw: &str) -> Result<Self, String> {
        let bad = |detail: String| format!("SEESAC_STORAGE_URL {detail}");
        let url = url::Url::parse(raw).map_err(|e| bad(format!("is not a URL: {e}")))?;
        if url.scheme() != "s3" {
            return Err(bad(format!(
                "must start with s3:// (object storage) or be unset (files under the data \
                 directory), not {}://",
                url.scheme()
            )));
        }
        let bucket = url
            .host_str()
            .filter(|bucket| !bucket.is_empty())
            .ok_or_else(|| bad("names no bucket (s3://bucket)".to_owned()))?;
        // A bucket that does not answer fails a request within seconds (a 503),
        // not after object_store's default of ten retries over three minutes.
        let retry = object_store::RetryConfig {
            max_retries: 3,
            retry_timeout: std::time::Duration::from_secs(30),
            ..object_store::RetryConfig::default()
        };
        let mut builder = AmazonS3Builder::from_env()
            .with_bucket_name(bucket)
            .with_region("us-east-1")
            .with_retry(retry);
        let mut described = format!("s3://{bucket}{}", url.path());
        if !url.username().is_empty() {
            let secret = url
                .password()
                .ok_or_else(|| bad("gives an access key without its secret".to_owned()))?;
            let decode = |text: &str| {
                percent_encoding::percent_decode_str(text)
                    .decode_utf8_lossy()
                    .into_owned()
            };
            builder = builder
                .with_access_key_id(decode(url.username()))
                .with_secret_access_key(decode(secret));
        }
        for (name, value) in url.query_pairs() {
            match name.as_ref() {
                "endpoint" => {
                    builder = builder
                        .with_endpoint(value.as_ref())
                        .with_allow_http(value.starts_with("http://"));
                }
                "region" => builder = builder.with_region(value.as_ref()),
                other => {
                    return Err(bad(format!(
                        "has {other:?}, which is not one of endpoint and region"
                    )));
                }
            }
        }
        if let Some(query) = url.query() {
            described.push('?');
            described.push_str(query);
        }
        let store = builder
            .build()
            .map_err(|e| bad(format!("cannot be used: {e}")))?;
        Ok(Self {
            store: Arc::new(store),
            prefix: url.path().trim_matches('/').to_owned(),
            described,
        })
    }

    fn path(&self, name: &str) -> ObjectPath {
        if self.prefix.is_empty() {
            ObjectPath::from(name)
        } else {
            ObjectPath::from(format!("{}/{name}", self.prefix))
        }
    }

    /// Whether the store holds `name`.
    pub async fn has(&self, name: &str) -> std::io::Result<bool> {
        match self.store.head(&self.path(name)).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(error) => Err(std::io::Error::other(error)),
        }
    }

    /// Sends the local file `local` to the store as `name`, unless it is there:
    /// in one request if it is small, else in parts of `PART` bytes, one read
    /// from disk while the one before is sent.
    pub async fn send(&self, name: &str, local: &Path) -> std::io::Result<()> {
        if self.has(name).await? {
            return Ok(());
        }
        let path = self.path(name);
        let mut file = Some(std::fs::File::open(local)?);
        let (mut first, more) = next_part(&mut file).await?;
        if !more {
            let payload = PutPayload::from(std::mem::take(&mut first));
            self.store
                .put(&path, payload)
                .await
                .map_err(std::io::Error::other)?;
            return Ok(());
        }
        let upload = self
            .store
            .put_multipart(&path)
            .await
            .map_err(std::io::Error::other)?;
        let mut writer = WriteMultipart::new_with_chunk_size(upload, PART);
        writer.write(&first);
        loop {
            writer
                .wait_for_capacity(1)
                .await
                .map_err(std::io::Error::other)?;
            let (part, more) = next_part(&mut file).await?;
            writer.write(&part);
            if !more {
                break;
            }
        }
        writer.finish().await.map_err(std::io::Error::other)?;
        Ok(())
    }

    /// The bytes of `name`, as a stream; `None` if the store does not hold it.
    pub async fn read(
        &self,
        name: &str,
    ) -> std::io::Result<
        Option<impl futures_util::Stream<Item = Result<web::Bytes, object_store::Error>> + Unpin>,
    > {
        match self.store.get(&self.path(name)).await {
            Ok(found) => Ok(Some(found.into_stream())),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(error) => Err(std::io::Error::other(error)),
        }
    }

    /// Every object under the prefix.
    pub async fn objects(&self) -> std::io::Result<Vec<Object>> {
        let prefix = (!self.prefix.is_empty()).then(|| ObjectPath::from(self.prefix.as_str()));
        let listed: Vec<object_store::ObjectMeta> = self
            .store
            .list(prefix.as_ref())
            .try_collect()
            .await
            .map_err(std::io::Error::other)?;
        Ok(listed
            .into_iter()
            .map(|meta| {
                let full = meta.location.to_string();
                let name = full
                    .strip_prefix(&format!("{}/", self.prefix))
                    .unwrap_or(&full)
                    .to_owned();
                Object {
                    name,
                    modified: meta.last_modified.into(),
                    size: meta.size,
                }
            })
            .collect())
    }

    pub async fn delete(&self, name: &str) -> std::io::Result<()> {
        match self.store.delete(&self.path(name)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(error) => Err(std::io::Error::other(error)),
        }
    }
}

/// The next `PART` bytes of `file` (read off the async workers), and whether there
/// are more; the file is gone once it is read whole.
async fn next_part(file: &mut Option<std::fs::File>) -> std::io::Result<(Vec<u8>, bool)> {
    let Some(open) = file.take() else {
        return Ok((Vec::new(), false));
    };
    let (open, part) = web::block(move || -> std::io::Result<(std::fs::File, Vec<u8>)> {
        let mut part = Vec::with_capacity(PART);
        (&open).take(PART as u64).read_to_end(&mut part)?;
        Ok((open, part))
    })
    .await
    .map_err(std::io::Error::other)??;
    let more = part.len() == PART;
    if more {
        *file = Some(open);
    }
    Ok((part, more))
}

/// The items of `stream`, ignoring their errors' types: what `FileStore::receive`
/// takes.
pub fn bytes_of<S>(
    stream: S,
) -> impl futures_util::Stream<Item = Result<web::Bytes, String>> + Unpin
where
    S: futures_util::Stream<Item = Result<web::Bytes, object_store::Error>> + Unpin,
{
    stream.map(|item| item.map_err(|error| error.to_string()))
}
