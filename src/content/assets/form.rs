//! An upload as `multipart/form-data`, as a browser's form or `curl -F` sends it:
//! the file in the part named `file`, the metadata in text parts (`title`, `alt`,
//! …), before or after it. The file part streams to the store like a raw body;
//! the text parts are small and few.

use actix_multipart::Multipart;
use actix_web::{HttpRequest, web};
use futures_util::StreamExt;

use crate::platform::error::{AppError, AppResult, FieldError, codes};
use crate::platform::storage::{Received, Uploads};

/// The most text parts, and the longest.
const MAX_FIELDS: usize = 16;
const MAX_FIELD_BYTES: usize = 4096;

/// What a form brought: the file, its name, and the text parts as
/// `application/x-www-form-urlencoded` (to be read like the query string).
pub struct Form {
    pub received: Received,
    pub filename: Option<String>,
    pub fields: String,
}

pub async fn receive(
    req: &HttpRequest,
    payload: web::Payload,
    uploads: &Uploads,
) -> AppResult<Form> {
    let mut parts = Multipart::new(req.headers(), payload);
    let mut fields = url::form_urlencoded::Serializer::new(String::new());
    let (mut count, mut file): (usize, Option<(Received, Option<String>)>) = (0, None);
    while let Some(part) = parts.next().await {
        let mut part = part.map_err(malformed)?;
        let name = part.name().unwrap_or_default().to_owned();
        if name == "file" {
            if file.is_some() {
                return Err(AppError::bad_request(
                    "file",
                    "the form has more than one part named file: one file per upload",
                ));
            }
            let filename = part
                .content_disposition()
                .and_then(|disposition| disposition.get_filename())
                .map(super::kinds::saved_name);
            let received = uploads
                .store
                .receive(&mut part, uploads.max_bytes)
                .await
                .map_err(super::upload::refused)?;
            file = Some((received, filename));
            continue;
        }
        count += 1;
        let mut text = Vec::new();
        while let Some(chunk) = part.next().await {
            text.extend_from_slice(&chunk.map_err(malformed)?);
            if text.len() > MAX_FIELD_BYTES {
                return Err(AppError::bad_request(
                    name,
                    format!("a form's text part has at most {MAX_FIELD_BYTES} bytes"),
                ));
            }
        }
        if count > MAX_FIELDS {
            return Err(AppError::bad_request(
                name,
                format!("a form has at most {MAX_FIELDS} text parts besides the file"),
            ));
        }
        let text = String::from_utf8(text)
            .map_err(|_| AppError::bad_request(name.clone(), "must be UTF-8 text"))?;
        fields.append_pair(&name, &text);
    }
    let Some((received, filename)) = file else {
        return Err(FieldError::coded(
            codes::REQUIRED,
            "/file",
            "the form has no part named file: send the file as `file` (curl -F file=@report.pdf)",
        )
        .into());
    };
    Ok(Form {
        received,
        filename,
        fields: fields.finish(),
    })
}

fn malformed(error: actix_multipart::MultipartError) -> AppError {
    AppError::bad_request(
        "body",
        format!("the multipart/form-data body is malformed: {error}"),
    )
}

/// The form's schema, for the document.
pub fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
    use utoipa::openapi::{ObjectBuilder, Type};
    let text = |description: &str| {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some(description))
    };
    let unit = |description: &str| {
        ObjectBuilder::new()
            .schema_type(Type::Number)
            .minimum(Some(0.0))
            .maximum(Some(1.0))
            .description(Some(description))
    };
    ObjectBuilder::new()
        .property(
            "file",
            ObjectBuilder::new()
                .schema_type(Type::String)
                .content_media_type("application/octet-stream")
                .description(Some("The file, its name in the part's filename")),
        )
        .required("file")
        .property("title", text("What it is called on the site (required)"))
        .property(
            "alt",
            text("An image's alternative text (required for images)"),
        )
        .property("credit", text("Whom to credit"))
        .property("licence", text("Its licence"))
        .property(
            "filename",
            text("The name it is saved under, instead of the part's"),
        )
        .property(
            "focal_x",
            unit("An image's focal point from the left (0) to the right (1)"),
        )
        .property(
            "focal_y",
            unit("An image's focal point from the top (0) to the bottom (1)"),
        )
        .property("tags", text("Tags, comma-separated: `logo,eu`"))
        .property("status", text("draft (the default), published or archived"))
        .property("published_at", text("RFC 3339"))
        .description(Some(
            "A file and its metadata as a form: the file in the part named file, the \
             metadata in text parts (or in the query string, not both)",
        ))
        .into()
}
