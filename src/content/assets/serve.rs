//! An asset's bytes. The URL content hands out carries the bytes' hash
//! (`/assets/{id}/{sha256}/{filename}`), so it never names other bytes: it is
//! served to be cached for a year (`immutable`), and bytes that change get a new
//! URL. `/assets/{id}` is the stable URL, a redirect to the current one that no
//! one caches. Drafts are 404 to anonymous readers, as their items are.
//!
//! The file is streamed from the store by `actix-files`, which answers `Range`
//! (206, and 416 for a range the file does not have) and `Last-Modified`; the
//! ETag is the hash.

use actix_files::NamedFile;
use actix_web::http::header::{self, ContentDisposition, DispositionParam, DispositionType};
use actix_web::{HttpRequest, HttpResponse, web};

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};

use tokio::sync::Semaphore;

use super::kinds::ALLOWED;
use super::variants::{self, Variant};
use super::{Asset, Assets};
use super::{imaging, signed};
use crate::engine::Resource;
use crate::engine::read::access_of;
use crate::platform::auth::Caller;
use crate::platform::db::Db;
use crate::platform::error::{AppError, AppResult};
use crate::platform::http::conditional;
use crate::platform::openapi::problems::{BadParameter, BadToken, Invalid, NotFound, Unavailable};
use crate::platform::openapi::{Answer, Doc, Security, params};
use crate::platform::storage::{FileStore, Uploads};

/// What a browser may do with an asset it opens: nothing but show it (no script,
/// no plugins, no forms, no requests), in a sandbox of its own.
pub const ASSET_POLICY: &str = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; \
    sandbox; frame-ancestors 'none'";

/// The URL of an asset's bytes as content hands it out.
pub fn url_of(asset: &Asset) -> String {
    format!("/assets/{}/{}/{}", asset.id, asset.sha256, asset.filename)
}

/// The asset `id`, if the caller may see it (or a signed URL lets them).
pub(super) async fn visible(
    db: &Db,
    caller: &Caller,
    id: String,
    signed: bool,
) -> AppResult<Asset> {
    let access = if signed {
        crate::platform::visibility::Access::Everything
    } else {
        access_of(caller)
    };
    let key = id.clone();
    let found = db
        .run(move |conn| Assets::find(conn, &(), &key, false))
        .await?
        .filter(|asset| access.may_see(asset.status, asset.published_at));
    found.ok_or_else(|| AppError::NotFound(format!("there is no asset {id}")))
}

pub async fn get_file(
    db: Db,
    caller: Caller,
    req: HttpRequest,
    path: web::Path<(String, String, String)>,
    uploads: web::Data<Uploads>,
    keys: web::Data<crate::platform::auth::JwtKeys>,
) -> AppResult<HttpResponse> {
    let (id, sha256, filename) = path.into_inner();
    let (query, signature) = signed::signature_of(req.query_string());
    let now = chrono::Utc::now().timestamp();
    let signed = signature.as_ref().is_some_and(|(expires, signature)| {
        *expires > now && keys.signed(&format!("{}:{expires}", req.path()), signature)
    });
    if signature.is_some() && !signed {
        return Err(AppError::NotFound(
            "the signed URL has expired or is not one this service signed".to_owned(),
        ));
    }
    let asset = visible(&db, &caller, id, signed).await?;
    let variant = Variant::parse(&query, &asset.media_type)?;
    if asset.sha256 != sha256 || asset.filename != filename {
        return Err(AppError::NotFound(format!(
            "asset {} is at {}",
            asset.id,
            url_of(&asset)
        )));
    }
    let store = &uploads.store;
    let file = match variant {
        None => Served {
            name: FileStore::name_of(&asset.sha256),
            media_type: asset.media_type.clone(),
            filename: asset.filename.clone(),
            etag: format!("\"{}\"", asset.sha256),
            inline: ALLOWED
                .iter()
                .any(|kind| kind.media_type == asset.media_type && kind.inline),
        },
        Some(variant)
            if variant.focus.as_deref()
                != variants::focus_of(variant.fit, asset.focal_x.zip(asset.focal_y)).as_deref() =>
        {
            // The crop a URL names is the asset's own: another is sent where it is.
            let focus = variants::focus_of(variant.fit, asset.focal_x.zip(asset.focal_y));
            let mut location = format!("{}?{}", url_of(&asset), variant.query(focus.as_deref()));
            if let Some((expires, signature)) = &signature {
                location.push_str(&format!("&expires={expires}&signature={signature}"));
            }
            return Ok(HttpResponse::Found()
                .insert_header((header::LOCATION, location))
                .insert_header((header::CACHE_CONTROL, "no-cache"))
                .finish());
        }
        Some(variant) => Served {
            name: made(store, &asset, &variant).await?,
            media_type: variant.format.media_type().to_owned(),
            filename: variant.filename(&asset.filename),
            etag: format!("\"{}-{}\"", asset.sha256, variant.key()),
            inline: true,
        },
    };
    let cache_control = match signature {
        // Anyone with the URL may read it until it expires, and no shared cache.
        Some((expires, _)) => format!("private, max-age={}", expires - now),
        // A draft, or a published asset read with a token: not for shared caches.
        None if caller.is_authenticated() => "private, max-age=31536000, immutable".to_owned(),
        None => "public, max-age=31536000, immutable".to_owned(),
    };
    file.answer(store, &req, &cache_control).await
}

/// A file as it is served.
struct Served {
    /// Its name in the store.
    name: String,
    media_type: String,
    filename: String,
    etag: String,
    inline: bool,
}

impl Served {
    async fn answer(
        self,
        store: &FileStore,
        req: &HttpRequest,
        cache_control: &str,
    ) -> AppResult<HttpResponse> {
        let if_none_match = req
            .headers()
            .get(header::IF_NONE_MATCH)
            .and_then(|value| value.to_str().ok());
        if conditional::none_match(if_none_match, &self.etag) {
            return Ok(HttpResponse::NotModified()
                .insert_header((header::ETAG, self.etag))
                .insert_header((header::CACHE_CONTROL, cache_control))
                .finish());
        }
        let media_type: actix_web::mime::Mime = self
            .media_type
            .parse()
            .map_err(|_| AppError::internal(format!("a stored media type: {}", self.media_type)))?;
        let missing = || {
            // The row is here and its file is not: copied without the data
            // directory's assets, or an instance without the others' files.
            log::error!("the file of an asset is missing: {}", self.name);
            AppError::Unavailable("the asset's file is not in this instance's store".to_owned())
        };
        let path = store
            .present(&self.name)
            .await
            .map_err(|error| {
                log::error!("the file {} could not be fetched: {error}", self.name);
                AppError::Unavailable("the asset's file could not be fetched".to_owned())
            })?
            .ok_or_else(missing)?;
        let file = NamedFile::open_async(&path)
            .await
            .map_err(|error| match error.kind() {
                std::io::ErrorKind::NotFound => missing(),
                _ => AppError::internal(format!("{}: {error}", path.display())),
            })?
            .set_content_type(media_type)
            .set_content_disposition(ContentDisposition {
                disposition: if self.inline {
                    DispositionType::Inline
                } else {
                    DispositionType::Attachment
                },
                parameters: vec![DispositionParam::Filename(self.filename)],
            })
            .use_etag(false);
        let mut response = file.into_response(req);
        let headers = response.headers_mut();
        for (name, value) in [
            (header::ETAG, self.etag.as_str()),
            (header::CACHE_CONTROL, cache_control),
            (header::CONTENT_SECURITY_POLICY, ASSET_POLICY),
        ] {
            if let Ok(value) = header::HeaderValue::from_str(value) {
                headers.insert(name, value);
            }
        }
        Ok(response)
    }
}

/// Variants being made, by their path: a second request for one waits for the
/// first to make it, then serves it.
static MAKING: LazyLock<Mutex<HashMap<std::path::PathBuf, Arc<tokio::sync::Mutex<()>>>>> =
    LazyLock::new(Mutex::default);
/// At most two variants are made at once: each holds a decoded image.
static DECODING: Semaphore = Semaphore::const_new(2);

/// The name of `asset`'s `variant` in the store, made first if neither this
/// instance nor object storage has it yet (and then shared).
async fn made(store: &FileStore, asset: &Asset, variant: &Variant) -> AppResult<String> {
    let name = FileStore::variant_name(&asset.sha256, &variant.key());
    let path = store.local(&name);
    if path.is_file() {
        return Ok(name);
    }
    let lock = MAKING
        .lock()
        .map_err(|_| AppError::internal("the variants' lock"))?
        .entry(path.clone())
        .or_default()
        .clone();
    let made = {
        let _making = lock.lock().await;
        if path.is_file() || store.present(&name).await.ok().flatten().is_some() {
            Ok(())
        } else {
            let _decoding = DECODING
                .acquire()
                .await
                .map_err(|_| AppError::internal("the decoders' semaphore"))?;
            let original = store
                .present(&FileStore::name_of(&asset.sha256))
                .await
                .map_err(AppError::internal)?
                .ok_or_else(|| {
                    AppError::Unavailable("the asset's file is not in this instance's store".into())
                })?;
            let (target, variant) = (path.clone(), variant.clone());
            let focal = asset.focal_x.zip(asset.focal_y);
            web::block(move || -> AppResult<()> {
                let bytes = imaging::make(&original, &variant, focal)?;
                FileStore::write_whole(&target, &bytes).map_err(AppError::internal)
            })
            .await
            .map_err(AppError::internal)??;
            store
                .share(&name)
                .await
                .map_err(|error| super::upload::unkept(&error))
        }
    };
    if let Ok(mut making) = MAKING.lock() {
        making.remove(&path);
    }
    made.map(|()| name)
}

pub fn get_file_doc() -> Doc {
    Doc::new("get_asset_file", "assets", "Read an asset's bytes")
        .describe(
            "The file, as the asset's `url` names it: the URL carries the bytes' SHA-256, \
             so it is cached for a year (`immutable`). An image's variant (another size or \
             format) is asked for with `preset`, or `w`, `h`, `fit`, `format` and `q` from a \
             fixed grid; it is made once, on its first request, and served like the original \
             (a 422 for an image that cannot be decoded within the bounds). `Range` asks for part of it (206; 416 \
             if the file has no such range). Images and PDFs are shown inline, other \
             documents downloaded; every file is served with `nosniff` and a sandboxing \
             Content-Security-Policy. A draft is 404 without a token that may read drafts.",
        )
        .security(Security::Public)
        .path_param(
            "The asset's id",
            Some("5eed0000-0000-4000-8000-000000000901"),
        )
        .path_param("The SHA-256 of its bytes, in hex", None)
        .path_param("Its file name", Some("seesac-logo.png"))
        .params(variant_params())
        .answer(
            Answer::with_content(200, "The file", "application/octet-stream", binary())
                .header("ETag", "The bytes' SHA-256, quoted")
                .header(
                    "Cache-Control",
                    "public (private with a token), max-age=31536000, immutable",
                ),
        )
        .answer(Answer::with_content(
            206,
            "Part of the file",
            "application/octet-stream",
            binary(),
        ))
        .answer(Answer::not_modified())
        .problems::<(BadParameter, BadToken, NotFound, Invalid, Unavailable)>()
}

/// The query of an image's variant: a preset, or a size, fit, format and quality
/// from the grid.
pub fn variant_params() -> Vec<utoipa::openapi::path::Parameter> {
    use utoipa::openapi::ObjectBuilder;
    use utoipa::openapi::schema::Type;
    let texts = |values: Vec<String>| {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .enum_values(Some(values))
    };
    let sizes = || texts(variants::SIZES.iter().map(ToString::to_string).collect());
    let names = |names: &[&str]| texts(names.iter().map(|name| (*name).to_owned()).collect());
    let presets: Vec<&str> = variants::PRESETS.iter().map(|preset| preset.name).collect();
    vec![
        params::query_param(
            "preset",
            "An image's variant by name: thumb (160 x 160, cover), \
            card (640 x 400, cover), hero (1600 x 900, cover), full (1920 wide, inside); instead of w, h and fit",
            names(&presets),
        ),
        params::query_param(
            "w",
            "An image's variant this wide at most, in pixels",
            sizes(),
        ),
        params::query_param(
            "h",
            "An image's variant this high at most, in pixels",
            sizes(),
        ),
        params::query_param(
            "fit",
            "cover (the size, cropped around the focal point; the default with w and h), \
            contain (the size, the whole image inside, the rest transparent or white), inside (within \
            the size, proportions kept; the default with one of them). Never larger than the original",
            names(&["cover", "contain", "inside"]),
        ),
        params::query_param(
            "format",
            "The variant's format (the original's by default); WebP variants are lossless",
            names(&["webp", "jpeg", "png"]),
        ),
        params::query_param(
            "q",
            "A JPEG variant's quality (80 by default)",
            texts(
                variants::QUALITIES
                    .iter()
                    .map(ToString::to_string)
                    .collect(),
            ),
        ),
    ]
}

/// The schema of a file's bytes.
pub fn binary() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .content_media_type("application/octet-stream")
        .into()
}
