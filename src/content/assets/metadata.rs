//! An asset's metadata, checked: what a body (or an upload's query and form)
//! says, with what the server derived from the bytes.

use serde_json::Value;
use utoipa::ToSchema;

use super::{ALT_MAX, Asset, AssetBody, AssetRecord, Derived, kinds};
use crate::content::Publication;
use crate::platform::error::{AppError, AppResult};
use crate::platform::validate::{Check, Name};

impl Derived {
    /// What a kept version of an asset says of its bytes.
    pub(super) fn kept(stored: &Value) -> AppResult<Self> {
        let text = |name: &str| stored.get(name).and_then(Value::as_str).map(str::to_owned);
        let number = |name: &str| {
            stored
                .get(name)
                .and_then(Value::as_i64)
                .and_then(|n| i32::try_from(n).ok())
        };
        let (Some(media_type), Some(sha256), Some(size)) = (
            text("media_type"),
            text("sha256"),
            stored.get("size").and_then(Value::as_i64),
        ) else {
            return Err(AppError::conflict(
                "this version does not say which file the asset had",
            ));
        };
        Ok(Self {
            media_type,
            size,
            sha256,
            width: number("width"),
            height: number("height"),
        })
    }
}

/// The record of an asset from its metadata (`body`) and what the server derived
/// from its bytes; every mistake is named in one answer.
pub fn metadata(
    body: AssetBody,
    derived: Derived,
    existing: Option<&Asset>,
) -> AppResult<AssetRecord> {
    let mut check = Check::default();
    let publication = Publication::of(&mut check, body.status, body.published_at, existing);
    let filename = check.parsed("filename", body.filename, kinds::filename);
    let alt = check.optional_text("alt", body.alt, ALT_MAX);
    if derived.width.is_some() && alt.is_none() && !check.names("alt") {
        check.fail(
            "alt",
            "is required for an image: say what it shows, for those who cannot see it",
        );
    }
    let focal_x = unit("focal_x", body.focal_x, &mut check);
    let focal_y = unit("focal_y", body.focal_y, &mut check);
    if focal_x.is_some() != focal_y.is_some() {
        check.fail("focal_y", "is given with focal_x, or neither is");
    }
    let record = AssetRecord {
        filename: filename.unwrap_or_default(),
        media_type: derived.media_type,
        size: derived.size,
        sha256: derived.sha256,
        width: derived.width,
        height: derived.height,
        title: check.text("title", body.title, Name::MAX),
        alt,
        credit: check.optional_text("credit", body.credit, 200),
        licence: check.optional_text("licence", body.licence, 200),
        focal_x,
        focal_y,
        tags: tags(body.tags, &mut check),
        status: publication.status,
        published_at: publication.published_at,
    };
    if record.filename.is_empty() && !check.names("filename") {
        check.fail("filename", crate::platform::validate::REQUIRED);
    }
    check.finish(record)
}

/// A tag, as the document describes it: ASCII letters (kept in lower case),
/// digits and `-`.
pub struct AssetTag;

impl utoipa::PartialSchema for AssetTag {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .pattern(Some("^[a-zA-Z0-9-]{1,50}$"))
            .examples(["eu"])
            .into()
    }
}

impl ToSchema for AssetTag {}

/// The most tags, and the longest.
const MAX_TAGS: usize = 20;
const MAX_TAG_CHARS: usize = 50;

/// Tags: lower-case letters, digits and `-`, each once, in the order given.
fn tags(raw: Option<Vec<String>>, check: &mut Check) -> Vec<String> {
    let mut tags: Vec<String> = Vec::new();
    for tag in raw.unwrap_or_default() {
        let tag = tag.to_ascii_lowercase();
        let valid = (1..=MAX_TAG_CHARS).contains(&tag.len())
            && tag.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
        if !valid {
            check.fail(
                "tags",
                format!("each tag is 1 to {MAX_TAG_CHARS} letters, digits and -, not {tag:?}"),
            );
            return Vec::new();
        }
        if !tags.contains(&tag) {
            tags.push(tag);
        }
    }
    if tags.len() > MAX_TAGS {
        check.fail("tags", format!("at most {MAX_TAGS} tags"));
    }
    tags
}

/// A number from 0 to 1.
fn unit(field: &str, raw: Option<f64>, check: &mut Check) -> Option<f32> {
    let value = raw?;
    if (0.0..=1.0).contains(&value) {
        #[allow(clippy::cast_possible_truncation)]
        Some(value as f32)
    } else {
        check.fail(field, "must be between 0 and 1");
        None
    }
}
