//! Conditional requests and caching: strong ETags over the exact bytes of an
//! answer, `If-None-Match` and 304 on reads, `If-Match` and `If-None-Match: *` on
//! writes (412), and the caching headers of reads and writes.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::platform::auth::Caller;
use crate::platform::error::{AppError, AppResult};

/// A strong ETag over the exact bytes of a representation.
pub fn etag_of(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    // The first 16 bytes in hex, quoted.
    let mut tag = String::with_capacity(34);
    tag.push('"');
    crate::platform::hex::push(&mut tag, &digest[..16]);
    tag.push('"');
    tag
}

/// The entity tags of an `If-Match` or `If-None-Match` header.
pub fn tags(value: &str) -> impl Iterator<Item = &str> {
    value
        .split(',')
        .map(str::trim)
        .filter(|tag| !tag.is_empty())
}

/// `If-None-Match` on a read (weak comparison).
fn not_modified(req: &HttpRequest, etag: &str) -> bool {
    none_match(
        req.headers()
            .get(header::IF_NONE_MATCH)
            .and_then(|v| v.to_str().ok()),
        etag,
    )
}

/// Whether a read's `If-None-Match` names this ETag: then the answer is 304.
pub fn none_match(if_none_match: Option<&str>, etag: &str) -> bool {
    if_none_match
        .is_some_and(|header| tags(header).any(|tag| tag == "*" || weakly_equal(tag, etag)))
}

/// Public answers may be cached by anyone for a minute; answers for a token are
/// the caller's alone.
pub fn cache_control(caller: &Caller) -> &'static str {
    if caller.is_authenticated() {
        "private, no-store"
    } else {
        "public, max-age=60"
    }
}

/// What changes a read's answer besides its URL: the caller, the origin (CORS),
/// and JSON or CSV.
pub const VARY: &str = "Authorization, Origin, Accept, Accept-Language";

/// A JSON read: ETag, 304 for a matching `If-None-Match`, caching headers. The
/// body is serialised as it is written (a list's envelope is not copied into a
/// `Value` first).
pub fn read(
    req: &HttpRequest,
    caller: &Caller,
    body: &impl serde::Serialize,
    extra: &[(header::HeaderName, String)],
) -> HttpResponse {
    let bytes = serde_json::to_vec(body).unwrap_or_default();
    read_bytes(req, caller, bytes, "application/json", extra)
}

/// A read of any media type: ETag over its bytes, 304, caching headers.
pub fn read_bytes(
    req: &HttpRequest,
    caller: &Caller,
    bytes: Vec<u8>,
    content_type: &str,
    extra: &[(header::HeaderName, String)],
) -> HttpResponse {
    let etag = etag_of(&bytes);
    read_tagged(req, caller, bytes.into(), &etag, content_type, extra)
}

/// A read whose bytes and ETag were made once, ahead of time (the OpenAPI
/// document): ETag, 304, caching headers.
pub fn read_tagged(
    req: &HttpRequest,
    caller: &Caller,
    bytes: actix_web::web::Bytes,
    etag: &str,
    content_type: &str,
    extra: &[(header::HeaderName, String)],
) -> HttpResponse {
    let unchanged = not_modified(req, etag);
    let mut response = if unchanged {
        HttpResponse::NotModified()
    } else {
        let mut ok = HttpResponse::Ok();
        ok.content_type(content_type.to_owned());
        ok
    };
    response
        .insert_header((header::ETAG, etag.to_owned()))
        .insert_header((header::CACHE_CONTROL, cache_control(caller)))
        .insert_header((header::VARY, VARY));
    for (name, value) in extra {
        response.insert_header((name.clone(), value.clone()));
    }
    if unchanged {
        response.finish()
    } else {
        response.body(bytes)
    }
}

/// The answer to a write: the item as it now is, with its ETag.
pub fn written(status: StatusCode, body: &Value, location: Option<String>) -> HttpResponse {
    written_tagged(status, body, None, location)
}

/// The answer to a write, with the ETag stored with the item if it has one (content
/// does), or one over the answer's bytes.
pub fn written_tagged(
    status: StatusCode,
    body: &Value,
    etag: Option<&str>,
    location: Option<String>,
) -> HttpResponse {
    let bytes = serde_json::to_vec(body).unwrap_or_default();
    let etag = etag.map_or_else(|| etag_of(&bytes), str::to_owned);
    let mut response = HttpResponse::build(status);
    response
        .content_type("application/json")
        .insert_header((header::ETAG, etag))
        .insert_header((header::CACHE_CONTROL, "no-store"));
    if let Some(location) = location {
        response.insert_header((header::LOCATION, location));
    }
    response.body(bytes)
}

/// The conditional headers of a write, read before the work leaves the request.
/// RFC 9110 section 13.2.2: they are evaluated before the body is, so a stale tag is
/// a 412 even when the body is invalid too.
#[derive(Debug, Clone, Default)]
pub struct Preconditions {
    if_match: Option<String>,
    if_none_match: Option<String>,
}

impl Preconditions {
    pub fn of(req: &HttpRequest) -> Self {
        // An unreadable header still counts as sent: it can match nothing.
        let text = |name| {
            req.headers()
                .get(name)
                .map(|v: &header::HeaderValue| v.to_str().unwrap_or_default().to_owned())
        };
        Self {
            if_match: text(header::IF_MATCH),
            if_none_match: text(header::IF_NONE_MATCH),
        }
    }

    /// Whether neither header was sent: then there is nothing to check.
    pub fn is_empty(&self) -> bool {
        self.if_match.is_none() && self.if_none_match.is_none()
    }

    /// Checks them against the current ETag of the item, `None` if it does not exist:
    /// `If-Match` (strong comparison) must name it, `If-None-Match` (weak
    /// comparison; `*` for any) must not.
    pub fn check(&self, current: Option<&str>) -> AppResult<()> {
        if let (Some(if_none_match), Some(current)) = (&self.if_none_match, current)
            && tags(if_none_match).any(|tag| tag == "*" || weakly_equal(tag, current))
        {
            return Err(AppError::PreconditionFailed(
                "If-None-Match names the item as it is (or is *, and the item exists); nothing \
                 was written"
                    .to_owned(),
            ));
        }
        let Some(if_match) = &self.if_match else {
            return Ok(());
        };
        let matches =
            current.is_some_and(|current| tags(if_match).any(|tag| tag == "*" || tag == current));
        match (matches, current) {
            (true, _) => Ok(()),
            (false, None) => Err(AppError::PreconditionFailed(
                "If-Match was sent, but the item does not exist".into(),
            )),
            (false, Some(_)) => Err(AppError::PreconditionFailed(
                "the item has changed since you read it: If-Match does not match its ETag; read \
                 it again and retry"
                    .to_owned(),
            )),
        }
    }
}

/// Weak comparison (RFC 9110 section 8.8.3.2): the tags without `W/` are equal.
fn weakly_equal(a: &str, b: &str) -> bool {
    a.trim_start_matches("W/") == b.trim_start_matches("W/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn etags_are_strong_and_follow_the_bytes() {
        let a = etag_of(b"{\"a\":1}");
        assert!(a.starts_with('"') && a.ends_with('"') && a.len() == 34);
        assert_eq!(a, etag_of(b"{\"a\":1}"));
        assert_ne!(a, etag_of(b"{\"a\":2}"));
        // The first half of the SHA-256 in lower-case hex, as `sha256sum` prints it.
        assert_eq!(a, "\"015abd7f5cc57a2dd94b7590f04ad808\"");
    }
}
