//! `Idempotency-Key` (the IETF httpapi draft) on every POST: a retry with the same
//! key and the same request within 24 hours replays the first answer, status,
//! headers and body, marked `Idempotent-Replayed: true`, and writes nothing.
//!
//! - The same key with a different request (method, path, query, media type or
//!   body) is a 422; the same key while its first request still runs is a 409.
//! - Keys are scoped to the caller (`Caller::name`) and kept in PostgreSQL, so every
//!   instance of the service agrees; they are pruned after 24 hours. A request
//!   without a token has no caller to scope a key to, and its key is not looked at
//!   (an anonymous write is a 401 as ever; the login answers with a secret, which
//!   would not be kept anyway).
//! - Only answers that wrote are kept: a 4xx or a 5xx wrote nothing, and a retry
//!   runs again (and gets the same answer, unless what it refers to changed).
//! - An answer that carries a secret shown once (a login, a new API token) is not
//!   kept, nor one larger than `MAX_KEPT_BYTES`: a retry of either is a 409 that
//!   says so. What one caller keeps is bounded: past `MAX_BYTES_PER_CALLER` of
//!   answers, its oldest keys are forgotten (a retry with one of those runs again).
//! - A replay is for the rights that got the first answer: when the caller's rights
//!   have changed since (a new role, other scopes, a partner's areas or metrics),
//!   the request runs again and is checked as any other.
//! - The answer is stored after the request's own transaction commits. Should the
//!   service die in between, the key stays "running" until it is abandoned after
//!   two minutes, and a retry then runs again: the batch upserts by natural key, and
//!   a create finds its key taken (409), so nothing is written twice.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::{Method, StatusCode, header};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, HttpResponse, web};
use sha2::{Digest, Sha256};

use crate::platform::auth::{Caller, Identity};
use crate::platform::db::Db;
use crate::platform::error::{AppError, AppResult};
use crate::platform::http::body::read_limited;

mod store;

pub use store::prune;
use store::{Claim, claim, complete, release};

pub const HEADER: &str = "idempotency-key";
/// Marks a replayed answer (as Stripe and others do).
pub const REPLAYED: &str = "idempotent-replayed";
/// How long a key is kept.
pub const KEEP_HOURS: i32 = 24;
/// After this long, a first request that never finished is taken as abandoned.
const ABANDONED_AFTER_SECONDS: i32 = 120;
const MAX_KEY_LENGTH: usize = 255;
/// The largest answer kept for a replay.
pub const MAX_KEPT_BYTES: usize = 256 * 1024;
/// The answers one caller's keys keep in all, at most.
pub const MAX_BYTES_PER_CALLER: usize = 8 * 1024 * 1024;

/// Put into a response's extensions by a handler whose answer carries a secret that
/// is shown once: such an answer is never stored for a replay.
#[derive(Debug, Clone, Copy)]
pub struct ShownOnce;

/// The middleware: passes every request without a key, or that is not a POST.
pub async fn middleware(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let streamed = req
        .app_data::<web::Data<StreamedBodies>>()
        .is_some_and(|streamed| streamed.0.contains(&req.path()));
    if req.method() != Method::POST || !req.headers().contains_key(HEADER) || streamed {
        return Ok(next.call(req).await?.map_into_boxed_body());
    }
    let request = match Request::read(&mut req).await {
        Ok(Some(request)) => request,
        // No caller to scope the key to: the request runs as without one.
        Ok(None) => return Ok(next.call(req).await?.map_into_boxed_body()),
        Err(error) => return Ok(req.error_response(error)),
    };
    let db = req.extract::<Db>().await?;
    let claim = {
        let request = request.clone();
        db.run(move |conn| claim(conn, &request)).await
    };
    match claim {
        Ok(Claim::Mine) => {}
        Ok(Claim::Replay(answer)) => return Ok(req.into_response(answer.replay())),
        Err(error) => return Ok(req.error_response(error)),
    }
    req.set_payload(Payload::from(request.body.clone()));
    match next.call(req).await {
        Ok(response) => {
            let (http_request, response) = response.into_parts();
            let response = settle(&db, request, response.map_into_boxed_body()).await;
            Ok(ServiceResponse::new(http_request, response))
        }
        Err(error) => {
            // Not an answer to keep: the retry runs again.
            release(&db, request).await;
            Err(error)
        }
    }
}

/// Keeps the answer to a claimed key (released instead if it wrote nothing), and
/// gives it back.
async fn settle(db: &Db, request: Request, response: HttpResponse) -> HttpResponse {
    let status = response.status();
    let shown_once = response.extensions().get::<ShownOnce>().is_some();
    let headers: Vec<(header::HeaderName, header::HeaderValue)> = response
        .headers()
        .iter()
        .map(|(name, value)| (name.clone(), value.clone()))
        .collect();
    let Ok(body) = actix_web::body::to_bytes(response.into_body()).await else {
        release(db, request).await;
        let error = AppError::internal("the answer's body could not be read");
        return actix_web::ResponseError::error_response(&error);
    };
    let answer = Answer {
        status,
        headers: headers
            .iter()
            .filter(|(name, _)| kept(name))
            .filter_map(|(name, value)| {
                Some((name.as_str().to_owned(), value.to_str().ok()?.to_owned()))
            })
            .collect(),
        body: body.to_vec(),
    };
    if status.is_server_error() || status.is_client_error() {
        release(db, request).await;
    } else {
        let stored = {
            let answer = answer.clone();
            db.run(move |conn| complete(conn, &request, &answer, shown_once))
                .await
        };
        if let Err(error) = stored {
            log::warn!("the answer to an idempotency key was not stored: {error}");
        }
    }
    let mut rebuilt = HttpResponse::build(status);
    for (name, value) in headers {
        rebuilt.append_header((name, value));
    }
    rebuilt.body(body)
}

/// The paths whose POSTs stream their bodies, and so take `Idempotency-Key`
/// themselves (`Streamed`) rather than have the middleware buffer them: an
/// upload's file.
#[derive(Debug, Clone, Default)]
pub struct StreamedBodies(pub Vec<&'static str>);

/// A key on a request whose body was streamed to its end by its handler, claimed
/// with the hash of that body (computed as it streamed) in place of the body.
#[derive(Debug)]
pub enum Streamed {
    /// No key, or an anonymous caller: the request runs as without one.
    Unkeyed,
    /// The key is this request's: it runs, and `finish` keeps its answer.
    Mine(Box<Request>),
    /// The key has an answer: this is it, replayed; the request writes nothing.
    Replay(HttpResponse),
}

impl Streamed {
    /// Claims the request's key, if it has one, once its body is in: `query` is
    /// its parameters (with a form's text parts), `body_sha256` its file's hash.
    pub async fn claim(
        db: &Db,
        caller: &Caller,
        req: &actix_web::HttpRequest,
        query: &str,
        body_sha256: &str,
    ) -> AppResult<Self> {
        if !req.headers().contains_key(HEADER) || matches!(caller.identity, Identity::Anonymous) {
            return Ok(Self::Unkeyed);
        }
        let request = Request {
            caller: caller.name(),
            rights: caller.rights(),
            key: parse_key(req.headers().get(HEADER))?,
            fingerprint: fingerprint(
                req.method(),
                req.path(),
                query,
                req.headers(),
                body_sha256.as_bytes(),
            ),
            body: web::Bytes::new(),
        };
        let claimed = {
            let request = request.clone();
            db.run(move |conn| claim(conn, &request)).await?
        };
        Ok(match claimed {
            Claim::Mine => Self::Mine(Box::new(request)),
            Claim::Replay(answer) => Self::Replay(answer.replay()),
        })
    }

    /// The handler's answer, kept for the key (or the key released if it failed).
    pub async fn finish(self, db: &Db, answer: AppResult<HttpResponse>) -> AppResult<HttpResponse> {
        match (self, answer) {
            (Self::Mine(request), Ok(response)) => Ok(settle(db, *request, response).await),
            (Self::Mine(request), Err(error)) => {
                release(db, *request).await;
                Err(error)
            }
            (Self::Replay(response), _) => Ok(response),
            (Self::Unkeyed, answer) => answer,
        }
    }
}

/// Headers that belong to the answer itself, not to its transport.
fn kept(name: &header::HeaderName) -> bool {
    !matches!(
        name.as_str(),
        "content-length" | "date" | "connection" | "transfer-encoding" | "server-timing"
    )
}

/// What identifies a request under a key.
#[derive(Debug, Clone)]
pub struct Request {
    caller: String,
    /// What the caller may do now (`Caller::rights`).
    rights: String,
    key: String,
    fingerprint: Vec<u8>,
    body: web::Bytes,
}

impl Request {
    /// Reads the key, the caller and the body (put back for the handler); `None`
    /// for an anonymous caller, whose key is not looked at.
    async fn read(req: &mut ServiceRequest) -> AppResult<Option<Self>> {
        let key = parse_key(req.headers().get(HEADER))?;
        let caller = req.extract::<Caller>().await?;
        if matches!(caller.identity, Identity::Anonymous) {
            return Ok(None);
        }
        let payload = req
            .extract::<web::Payload>()
            .await
            .map_err(|_| AppError::internal("the body could not be taken"))?;
        let body = read_limited(req.request(), payload).await?;
        let fingerprint = fingerprint(
            req.method(),
            req.path(),
            req.query_string(),
            req.headers(),
            &body,
        );
        Ok(Some(Self {
            caller: caller.name(),
            rights: caller.rights(),
            key,
            fingerprint,
            body,
        }))
    }
}

/// What tells requests under one key apart: method, path, query, media type
/// (without its parameters: a form's boundary differs from one send to the next)
/// and body (or, for a streamed one, the body's hash).
fn fingerprint(
    method: &Method,
    path: &str,
    query: &str,
    headers: &header::HeaderMap,
    body: &[u8],
) -> Vec<u8> {
    let media_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    let mut hash = Sha256::new();
    for part in [
        method.as_str().as_bytes(),
        path.as_bytes(),
        query.as_bytes(),
        media_type.as_bytes(),
    ] {
        hash.update(part);
        hash.update([0]);
    }
    hash.update(body);
    hash.finalize().to_vec()
}

/// The key: a Structured Field string (`"…"`, as the draft has it) or, for a
/// shell's convenience, the bare text (anything that is not a valid, non-empty
/// string); 1 to 255 visible ASCII characters.
fn parse_key(value: Option<&header::HeaderValue>) -> AppResult<String> {
    let bad = |detail: &str| AppError::bad_request("Idempotency-Key", detail);
    let raw = value
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| bad("must be visible ASCII text"))?
        .trim();
    let key = sf_string(raw)
        .filter(|key| !key.is_empty())
        .unwrap_or_else(|| raw.to_owned());
    if key.is_empty() || key.len() > MAX_KEY_LENGTH {
        return Err(bad("must be 1 to 255 characters, e.g. a UUID"));
    }
    if !key.chars().all(|c| c.is_ascii_graphic() || c == ' ') {
        return Err(bad("must be visible ASCII text"));
    }
    Ok(key)
}

/// The content of a Structured Field string (RFC 8941), if `raw` is one.
fn sf_string(raw: &str) -> Option<String> {
    let inner = raw.strip_prefix('"')?.strip_suffix('"')?;
    let mut text = String::new();
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(escaped @ ('"' | '\\')) => text.push(escaped),
                _ => return None,
            },
            '"' => return None,
            c => text.push(c),
        }
    }
    Some(text)
}

/// The first answer to a key.
#[derive(Debug, Clone)]
struct Answer {
    status: StatusCode,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Answer {
    fn replay(self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status);
        for (name, value) in self.headers {
            response.append_header((name, value));
        }
        response.insert_header((REPLAYED, "true"));
        response.body(self.body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(raw: &str) -> AppResult<String> {
        parse_key(Some(
            &header::HeaderValue::from_str(raw)
                .unwrap_or_else(|_| header::HeaderValue::from_static("\u{7f}")),
        ))
    }

    #[test]
    fn keys_are_structured_strings_or_bare_text() {
        assert_eq!(key("\"a-1\"").ok().as_deref(), Some("a-1"));
        assert_eq!(key("a-1").ok().as_deref(), Some("a-1"));
        assert_eq!(key(r#""say \"hi\"""#).ok().as_deref(), Some("say \"hi\""));
        assert_eq!(key("\"open").ok().as_deref(), Some("\"open"));
        assert!(key(" ").is_err());
        assert!(key(&"x".repeat(256)).is_err());
    }
}
