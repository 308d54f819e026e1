//! Uploading a file: `POST /api/v1/assets` with the file as the body, its name in
//! `Content-Disposition` and its metadata in the query string. The body streams
//! to the file store as it arrives, with its own size limit and deadline (not the
//! 1 MiB and 20 s of JSON bodies); what the file is, its size, hash and an
//! image's size are read from the bytes. A refused upload leaves nothing behind.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};

use super::form;
use super::kinds::{self, FileKind};
use super::{AssetBody, Assets, Derived};
use crate::engine::Resource;
use crate::engine::write::create_input;
use crate::platform::auth::Caller;
use crate::platform::db::Db;
use crate::platform::error::{AppError, AppResult, FieldError, codes};
use crate::platform::idempotency::Streamed;
use crate::platform::openapi::problems::{
    BadParameter, FileTooLarge, Forbidden, Invalid, NoToken, Unavailable, UnsupportedFile,
};
use crate::platform::openapi::{Answer, Doc, Security, params};
use crate::platform::query::Params;
use crate::platform::storage::{ReceiveError, Received, Uploads};
use utoipa::openapi::{ObjectBuilder, Type};

/// The most pixels an image may have (a decompression bomb has many more).
pub const MAX_PIXELS: u64 = 50_000_000;

pub async fn upload(
    db: Db,
    caller: Caller,
    req: HttpRequest,
    payload: web::Payload,
    uploads: web::Data<Uploads>,
) -> AppResult<HttpResponse> {
    // Nothing is read before the caller may write and the query is understood.
    caller.require(Assets::DESCRIPTOR.write)?;
    metadata_of(req.query_string())?;
    let receiving = async {
        if is_multipart(&req) {
            let form = form::receive(&req, payload, &uploads).await?;
            let query = [req.query_string(), &form.fields]
                .into_iter()
                .filter(|part| !part.is_empty())
                .collect::<Vec<_>>()
                .join("&");
            Ok((form.received, query, form.filename))
        } else {
            let received = (uploads.store)
                .receive(payload, uploads.max_bytes)
                .await
                .map_err(refused)?;
            Ok::<_, AppError>((received, req.query_string().to_owned(), disposed_name(&req)))
        }
    };
    // A received file that is not kept is removed when it is dropped.
    let (received, query, given_name) = actix_web::rt::time::timeout(uploads.timeout, receiving)
        .await
        .map_err(|_| AppError::RequestTimeout)??;
    let body = metadata_of(&query)?;
    let derived = derive(&received, &uploads)?;
    let body = AssetBody {
        filename: body
            .filename
            .or(given_name)
            .or_else(|| Some("file".to_owned())),
        ..body
    };
    let record = super::metadata(body, derived, None)?;
    let key = Streamed::claim(&db, &caller, &req, &query, &received.sha256).await?;
    if let Streamed::Replay(answer) = key {
        return Ok(answer);
    }
    let kept = (uploads.store).keep(received).await;
    let created = match kept {
        Ok(_) => create_input::<Assets>(&db, caller, &req, record).await,
        Err(error) => Err(unkept(&error)),
    };
    key.finish(&db, created).await
}

/// The answer to a file received and not kept: the disk, or the object storage
/// behind it, failed; the service's trouble, not the request's (logged).
pub fn unkept(error: &std::io::Error) -> AppError {
    log::error!("an asset's file could not be kept: {error}");
    AppError::Unavailable("the file could not be stored; try again later".to_owned())
}

/// The metadata a query string (and a form's text parts) gives.
fn metadata_of(query: &str) -> AppResult<AssetBody> {
    let mut params = Params::parse(query)?;
    let mut number = |name: &str| -> AppResult<Option<f64>> {
        params
            .take(name)
            .map(|raw| {
                raw.trim()
                    .parse::<f64>()
                    .map_err(|_| AppError::bad_request(name, format!("{name} must be a number")))
            })
            .transpose()
    };
    let focal_x = number("focal_x")?;
    let focal_y = number("focal_y")?;
    let body = AssetBody {
        filename: params.take("filename"),
        title: params.take("title"),
        alt: params.take("alt"),
        credit: params.take("credit"),
        licence: params.take("licence"),
        focal_x,
        focal_y,
        tags: params.take("tags").map(|tags| {
            tags.split(',')
                .map(str::trim)
                .filter(|tag| !tag.is_empty())
                .map(str::to_owned)
                .collect()
        }),
        status: params.take("status"),
        published_at: params.take("published_at"),
    };
    params.finish()?;
    Ok(body)
}

/// The file's name from `Content-Disposition`.
fn disposed_name(req: &HttpRequest) -> Option<String> {
    req.headers()
        .get(header::CONTENT_DISPOSITION)
        .and_then(|value| header::ContentDisposition::from_raw(value).ok())
        .and_then(|disposition| disposition.get_filename().map(kinds::saved_name))
}

fn is_multipart(req: &HttpRequest) -> bool {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| {
            value
                .trim_start()
                .to_ascii_lowercase()
                .starts_with("multipart/")
        })
}

/// The answer to an upload that was not received.
pub fn refused(error: ReceiveError) -> AppError {
    match error {
        ReceiveError::TooLarge(limit) => AppError::PayloadTooLarge {
            limit: usize::try_from(limit).unwrap_or(usize::MAX),
        },
        ReceiveError::Empty => {
            FieldError::coded(codes::REQUIRED, "/file", "the file is empty").into()
        }
        ReceiveError::Client(detail) => {
            AppError::bad_request("file", format!("the upload did not arrive whole: {detail}"))
        }
        ReceiveError::Disk(error) => AppError::internal(error),
    }
}

/// What the server reads from the bytes: their kind (refused if not one it
/// takes, or larger than that kind's limit), and an image's size.
fn derive(received: &Received, uploads: &Uploads) -> AppResult<Derived> {
    let kind: FileKind = kinds::sniff(&received.head).map_err(AppError::UnsupportedMediaType)?;
    let limit = uploads.limit_of(kind.media_type, kind.limit);
    if limit == 0 {
        return Err(AppError::UnsupportedMediaType(format!(
            "files of type {} are not taken here (SEESAC_ASSET_LIMITS)",
            kind.media_type
        )));
    }
    if received.size > limit {
        return Err(AppError::PayloadTooLarge {
            limit: usize::try_from(limit).unwrap_or(usize::MAX),
        });
    }
    let (width, height) = if kind.image {
        let size = imagesize::blob_size(&received.head).map_err(|_| {
            FieldError::coded(
                codes::INVALID,
                "/file",
                format!(
                    "the {} image's size cannot be read from its header",
                    kind.media_type
                ),
            )
        })?;
        let pixels = (size.width as u64).saturating_mul(size.height as u64);
        let (Ok(width), Ok(height)) = (i32::try_from(size.width), i32::try_from(size.height))
        else {
            return Err(too_many_pixels(pixels));
        };
        if pixels > MAX_PIXELS || pixels == 0 {
            return Err(too_many_pixels(pixels));
        }
        (Some(width), Some(height))
    } else {
        (None, None)
    };
    Ok(Derived {
        media_type: kind.media_type.to_owned(),
        size: i64::try_from(received.size).unwrap_or(i64::MAX),
        sha256: received.sha256.clone(),
        width,
        height,
    })
}

fn too_many_pixels(pixels: u64) -> AppError {
    FieldError::coded(
        codes::INVALID,
        "/file",
        format!("the image has {pixels} pixels; at most {MAX_PIXELS} are taken"),
    )
    .into()
}

/// The metadata an upload's query string takes.
fn upload_params() -> Vec<utoipa::openapi::path::Parameter> {
    let text = |name: &str, description: &str| {
        params::query_param(
            name,
            description,
            ObjectBuilder::new().schema_type(Type::String),
        )
    };
    let unit = |name: &str, description: &str| {
        let schema = ObjectBuilder::new()
            .schema_type(Type::Number)
            .minimum(Some(0.0))
            .maximum(Some(1.0));
        params::query_param(name, description, schema)
    };
    vec![
        text(
            "title",
            "What it is called on the site (required), at most 200 characters",
        ),
        text(
            "alt",
            "An image's alternative text (required for images), at most 1000 characters",
        ),
        text("credit", "Whom to credit, at most 200 characters"),
        text("licence", "Its licence, at most 200 characters"),
        text(
            "filename",
            "The name it is saved under, instead of Content-Disposition's",
        ),
        unit(
            "focal_x",
            "An image's focal point from the left (0) to the right (1)",
        ),
        unit(
            "focal_y",
            "An image's focal point from the top (0) to the bottom (1)",
        ),
        text("tags", "Tags, comma-separated: `logo,eu`"),
        text("status", "draft (the default), published or archived"),
        text(
            "published_at",
            "RFC 3339; publishing without it publishes now",
        ),
    ]
}

pub fn upload_doc() -> Doc {
    Doc::new("upload_asset", "assets", "Upload a file as a new asset")
        .describe(
            "The body is the file itself, streamed to storage as it arrives (up to its \
             type's limit: 20 MiB for JPEG, PNG and WebP images, 100 MiB for PDF and office \
             documents; at most `SEESAC_UPLOAD_MAX_BYTES`), with its name in \
             `Content-Disposition: attachment; filename=\"...\"` and the metadata in the \
             query string; or a `multipart/form-data` form with the file in the part \
             named `file` and the metadata in text parts (`curl -F file=@logo.png -F \
             title=Logo -F alt=...`). What the file is comes from its bytes, never from its \
             `Content-Type`: JPEG, PNG, WebP, PDF, Word, Excel, PowerPoint and OpenDocument \
             files are taken, nothing else (SVG neither: it can run script). An image needs \
             `alt`, and its width and height are read from it. Identical bytes are stored \
             once. `Idempotency-Key` is taken whatever the file's size: a retry with the \
             same key, parameters and bytes replays the first answer. The answer is the \
             asset, a draft unless `status` says otherwise; its `url` serves the bytes.",
        )
        .security(Security::Needs(Assets::DESCRIPTOR.write))
        .params(upload_params())
        .schema_named("File", super::serve::binary())
        .body("File", &["application/octet-stream"])
        .schema_named("FileForm", form::schema())
        .body_in("FileForm", "multipart/form-data")
        .item_schema::<super::Asset>()
        .schema::<super::AssetItem>()
        .answer(
            Answer::json(201, "The asset", "AssetItem")
                .header("Location", "The asset's URL")
                .header("ETag", "Its tag"),
        )
        .problems::<(
            BadParameter,
            NoToken,
            Forbidden,
            FileTooLarge,
            UnsupportedFile,
            Invalid,
            Unavailable,
        )>()
}
