//! Request bodies: a JSON object, checked for media type (415), size (413) and
//! syntax (400); `reading` reads it into a body type.

use actix_web::http::header;
use actix_web::{HttpRequest, web};
use serde::Deserialize;
use serde_json::Value;

use crate::platform::error::{AppError, AppResult};
use crate::platform::validate::json_type;

/// The largest request body accepted.
pub const BODY_LIMIT: usize = 1024 * 1024;

/// Reads a request body that must be a JSON object: checked for media type (415),
/// size (413) and syntax (400). Handlers call it after authorising, so an anonymous
/// write is a 401 whatever its body.
pub async fn json_object(
    req: &HttpRequest,
    payload: web::Payload,
) -> AppResult<serde_json::Map<String, Value>> {
    check_media_type(req)?;
    let too_large = AppError::PayloadTooLarge { limit: BODY_LIMIT };
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|length| length > BODY_LIMIT) {
        return Err(too_large);
    }
    parse_object(&read_limited(req, payload).await?)
}

/// How long a request body may take to arrive (`SEESAC_BODY_TIMEOUT`), as the
/// application's data.
#[derive(Debug, Clone, Copy)]
pub struct BodyTimeout(pub std::time::Duration);

impl Default for BodyTimeout {
    fn default() -> Self {
        Self(std::time::Duration::from_secs(20))
    }
}

/// A whole request body, at most `BODY_LIMIT` bytes (413 beyond), arriving within
/// the body timeout (408 beyond: a body trickled in a byte at a time would
/// otherwise hold its connection and its memory as long as the client likes).
pub async fn read_limited(req: &HttpRequest, payload: web::Payload) -> AppResult<web::Bytes> {
    let timeout = req
        .app_data::<web::Data<BodyTimeout>>()
        .map_or(BodyTimeout::default().0, |timeout| timeout.0);
    actix_web::rt::time::timeout(timeout, payload.to_bytes_limited(BODY_LIMIT))
        .await
        .map_err(|_| AppError::RequestTimeout)?
        .map_err(|_| AppError::PayloadTooLarge { limit: BODY_LIMIT })?
        .map_err(|error| AppError::bad_request("/", format!("the body could not be read: {error}")))
}

/// The media type of a request's body, lowercase, without parameters.
fn essence(req: &HttpRequest) -> Option<String> {
    let value = req.headers().get(header::CONTENT_TYPE)?;
    Some(
        value
            .to_str()
            .unwrap_or_default()
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase(),
    )
}

/// Whether a request's body is JSON: `application/json`, or any `+json` type
/// (merge patches among them) but JSON Patch (RFC 6902), which is a different
/// language from the merge patches we take.
pub fn is_json(req: &HttpRequest) -> bool {
    essence(req).is_some_and(|essence| {
        essence == "application/json"
            || (essence.starts_with("application/")
                && essence.ends_with("+json")
                && essence != "application/json-patch+json")
    })
}

fn check_media_type(req: &HttpRequest) -> AppResult<()> {
    match essence(req) {
        _ if is_json(req) => Ok(()),
        None => Err(AppError::UnsupportedMediaType(
            "send the body as JSON, with Content-Type: application/json".to_owned(),
        )),
        Some(essence) => Err(AppError::UnsupportedMediaType(format!(
            "the body is {essence}; send JSON, with Content-Type: application/json \
             (or application/merge-patch+json for PATCH)"
        ))),
    }
}

pub fn parse_object(bytes: &[u8]) -> AppResult<serde_json::Map<String, Value>> {
    let value: Value = serde_json::from_slice(bytes).map_err(|error| {
        let place = format!("line {}, column {}", error.line(), error.column());
        let detail = match error.classify() {
            serde_json::error::Category::Eof => {
                format!("the body is not valid JSON: it ends too early ({place})")
            }
            _ => format!("the body is not valid JSON: it breaks the syntax at {place}"),
        };
        AppError::bad_request("/", detail)
    })?;
    if let Some(pointer) = find_nul(&value, String::new()) {
        return Err(AppError::invalid(
            pointer,
            "text may not contain NUL characters",
        ));
    }
    match value {
        Value::Object(object) => Ok(object),
        other => Err(AppError::bad_request(
            "/",
            format!("the body must be a JSON object, not {}", json_type(&other)),
        )),
    }
}

/// PostgreSQL text cannot hold NUL, so it is refused here rather than failing there.
fn find_nul(value: &Value, at: String) -> Option<String> {
    match value {
        Value::String(text) if text.contains('\0') => {
            Some(if at.is_empty() { "/".into() } else { at })
        }
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, item)| find_nul(item, format!("{at}/{i}"))),
        Value::Object(object) => object.iter().find_map(|(key, item)| {
            if key.contains('\0') {
                Some(format!("{at}/"))
            } else {
                find_nul(item, format!("{at}/{}", pointer_escape(key)))
            }
        }),
        _ => None,
    }
}

pub(super) fn pointer_escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

/// Lists of integers in bodies take any JSON numbers that are whole
/// (`validate::whole_number`). Use with `#[serde(default, deserialize_with =
/// "whole_number::optional_list")]`; a single one is a type that reads it (a
/// `Position`).
pub mod whole_number {
    use serde::de::Error;

    use super::{Deserialize, Value};
    use crate::platform::validate;

    pub fn optional_list<'de, D: serde::Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Vec<i64>>, D::Error> {
        Option::<Vec<Value>>::deserialize(d)?
            .map(|values| {
                values
                    .into_iter()
                    .map(|value| validate::whole_number(value).map_err(D::Error::custom))
                    .collect()
            })
            .transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_must_be_json_objects_without_nul() {
        assert!(matches!(
            parse_object(b"{\"a\": \"x\\u0000y\"}"),
            Err(AppError::Validation(_))
        ));
        assert!(parse_object(b"{\"title\": \"Mission\"}").is_ok());
        for bad in [&b"[1]"[..], b"\"x\"", b"{\"a\":", b""] {
            assert!(
                matches!(parse_object(bad), Err(AppError::BadRequest { .. })),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn a_whole_number_with_a_fraction_of_zero_is_an_integer() {
        use crate::platform::http::reading::from_object;
        use crate::platform::validate::Position;

        #[derive(serde::Deserialize, Debug, utoipa::ToSchema)]
        struct Body {
            position: Option<Position>,
            #[serde(default, deserialize_with = "whole_number::optional_list")]
            goals: Option<Vec<i64>>,
        }
        let read =
            |json: &str| from_object::<Body>(parse_object(json.as_bytes()).unwrap_or_default());
        let body = read(r#"{"position": 104.0, "goals": [5, 16.0]}"#).ok();
        assert_eq!(body.as_ref().and_then(|b| b.position), Some(Position(104)));
        assert_eq!(body.and_then(|b| b.goals), Some(vec![5, 16]));
        assert!(read(r#"{}"#).is_ok_and(|b| b.position.is_none() && b.goals.is_none()));
        for bad in [
            r#"{"position": 1.5}"#,
            r#"{"position": "1"}"#,
            r#"{"goals": [1, 2.5]}"#,
        ] {
            assert!(matches!(read(bad), Err(AppError::Validation(_))), "{bad}");
        }
    }
}
