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

use super::kinds::ALLOWED;
use super::{Asset, Assets};
use crate::engine::Resource;
use crate::engine::read::access_of;
use crate::platform::auth::Caller;
use crate::platform::db::Db;
use crate::platform::error::{AppError, AppResult};
use crate::platform::http::conditional;
use crate::platform::openapi::problems::{BadToken, NotFound, Unavailable};
use crate::platform::openapi::{Answer, Doc, Security};
use crate::platform::query::Params;
use crate::platform::storage::Uploads;

/// What a browser may do with an asset it opens: nothing but show it (no script,
/// no plugins, no forms, no requests), in a sandbox of its own.
pub const ASSET_POLICY: &str = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; \
    sandbox; frame-ancestors 'none'";

/// The URL of an asset's bytes as content hands it out.
pub fn url_of(asset: &Asset) -> String {
    format!("/assets/{}/{}/{}", asset.id, asset.sha256, asset.filename)
}

/// The asset `id`, if the caller may see it.
async fn visible(db: &Db, caller: &Caller, id: String) -> AppResult<Asset> {
    let access = access_of(caller);
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
) -> AppResult<HttpResponse> {
    Params::none(req.query_string())?;
    let (id, sha256, filename) = path.into_inner();
    let asset = visible(&db, &caller, id).await?;
    if asset.sha256 != sha256 || asset.filename != filename {
        return Err(AppError::NotFound(format!(
            "asset {} is at {}",
            asset.id,
            url_of(&asset)
        )));
    }
    let etag = format!("\"{}\"", asset.sha256);
    let cache_control = if caller.is_authenticated() {
        // A draft, or a published asset read with a token: not for shared caches.
        "private, max-age=31536000, immutable"
    } else {
        "public, max-age=31536000, immutable"
    };
    let if_none_match = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|value| value.to_str().ok());
    if conditional::none_match(if_none_match, &etag) {
        return Ok(HttpResponse::NotModified()
            .insert_header((header::ETAG, etag))
            .insert_header((header::CACHE_CONTROL, cache_control))
            .finish());
    }
    let inline = ALLOWED
        .iter()
        .any(|kind| kind.media_type == asset.media_type && kind.inline);
    let media_type: actix_web::mime::Mime = asset
        .media_type
        .parse()
        .map_err(|_| AppError::internal(format!("a stored media type: {}", asset.media_type)))?;
    let file = NamedFile::open_async(uploads.store.path_of(&asset.sha256))
        .await
        .map_err(|error| AppError::internal(format!("asset {}: {error}", asset.id)))?
        .set_content_type(media_type)
        .set_content_disposition(ContentDisposition {
            disposition: if inline {
                DispositionType::Inline
            } else {
                DispositionType::Attachment
            },
            parameters: vec![DispositionParam::Filename(asset.filename.clone())],
        })
        .use_etag(false);
    let mut response = file.into_response(&req);
    let headers = response.headers_mut();
    for (name, value) in [
        (header::ETAG, etag.as_str()),
        (header::CACHE_CONTROL, cache_control),
        (header::CONTENT_SECURITY_POLICY, ASSET_POLICY),
    ] {
        if let Ok(value) = header::HeaderValue::from_str(value) {
            headers.insert(name, value);
        }
    }
    Ok(response)
}

/// The stable URL: a redirect to where the asset's bytes are now.
pub async fn get_current(
    db: Db,
    caller: Caller,
    req: HttpRequest,
    path: web::Path<String>,
) -> AppResult<HttpResponse> {
    Params::none(req.query_string())?;
    let asset = visible(&db, &caller, path.into_inner()).await?;
    Ok(HttpResponse::Found()
        .insert_header((header::LOCATION, url_of(&asset)))
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .finish())
}

pub fn get_file_doc() -> Doc {
    Doc::new("get_asset_file", "assets", "Read an asset's bytes")
        .describe(
            "The file, as the asset's `url` names it: the URL carries the bytes' SHA-256, \
             so it is cached for a year (`immutable`). `Range` asks for part of it (206; 416 \
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
        .problems::<(BadToken, NotFound, Unavailable)>()
}

pub fn get_current_doc() -> Doc {
    Doc::new("get_asset_current", "assets", "Go to an asset's bytes")
        .describe("A stable URL for an asset: a 302 to its `url`, which no one caches.")
        .security(Security::Public)
        .path_param(
            "The asset's id",
            Some("5eed0000-0000-4000-8000-000000000901"),
        )
        .answer(
            Answer::empty(302, "Found: `Location` is the asset's `url`")
                .header("Location", "The asset's url"),
        )
        .problems::<(BadToken, NotFound, Unavailable)>()
}

/// The schema of a file's bytes.
pub fn binary() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .content_media_type("application/octet-stream")
        .into()
}
