//! `AppError`, the one error type of the service, and its mapping to
//! `application/problem+json` (RFC 9457). This is the only place where an error
//! status is chosen; a 500 logs its cause and sends nothing more.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use utoipa::ToSchema;

mod field;
mod violation;

pub use field::{FieldError, codes};

pub use violation::{Violated, Violation};

pub type AppResult<T> = Result<T, AppError>;

pub const PROBLEM_JSON: &str = "application/problem+json";

/// Seconds a client should wait before retrying when the database is away.
const RETRY_AFTER_SECONDS: &str = "2";

/// A problem details document (RFC 9457), the body of every error.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"type": "/problems/validation-failed", "title": "Validation failed",
    "status": 422, "detail": "/slug: must match ^[a-z0-9]+(-[a-z0-9]+)*$", "code": "validation_failed",
    "errors": [{"pointer": "/slug", "detail": "must match ^[a-z0-9]+(-[a-z0-9]+)*$", "code": "invalid"}]}))]
pub struct Problem {
    /// A URI reference naming the kind of problem.
    #[serde(rename = "type")]
    pub kind: String,
    /// A short summary of the kind of problem.
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// What went wrong with this request.
    pub detail: String,
    /// A stable, machine-readable code.
    #[schema(example = "validation_failed")]
    pub code: String,
    /// The fields or parameters at fault, where there are any.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// The request's id, as in its `X-Request-Id` answer header and in the
    /// service's log: quote it when reporting a problem.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "4f1c2a9e8b7d4e6f9a0b1c2d3e4f5a6b")]
    pub request_id: Option<String>,
}

#[derive(Debug)]
pub enum AppError {
    /// 400: malformed JSON, wrong types, unknown fields, bad query parameters.
    BadRequest {
        detail: String,
        errors: Vec<FieldError>,
    },
    /// 401, with `WWW-Authenticate: Bearer`.
    Unauthorized { detail: String, invalid_token: bool },
    /// 403: authenticated, but the role may not do this.
    Forbidden(String),
    /// 404: no such item, or not visible to this caller.
    NotFound(String),
    /// 405, with `Allow`.
    MethodNotAllowed { allow: String },
    /// 409: the key exists, or a reference points nowhere or is still in use.
    Conflict {
        detail: String,
        errors: Vec<FieldError>,
    },
    /// 410: what was asked for is gone for good (a changes cursor past the log's
    /// horizon).
    Gone(String),
    /// 412: `If-Match` does not match the current `ETag`.
    PreconditionFailed(String),
    /// 413: the body is larger than the limit.
    PayloadTooLarge { limit: usize },
    /// 415: the body is not JSON.
    UnsupportedMediaType(String),
    /// 422: well-formed but invalid values.
    Validation(Vec<FieldError>),
    /// 429, with `Retry-After`: too much at once.
    TooManyRequests(String),
    /// 429 from a rate limit, with `Retry-After` and the `RateLimit` fields.
    RateLimited {
        detail: String,
        standing: crate::platform::ratelimit::Standing,
    },
    /// 408: the request's body did not arrive in time.
    RequestTimeout,
    /// 503, with `Retry-After`: the database is unreachable.
    Unavailable(String),
    /// 500: a bug. The cause is logged, never sent.
    Internal(String),
    /// A rule of the database that a write broke: a 409 or a 422 naming the
    /// fields, once whoever wrote says which fields its constraints guard
    /// (`Violation::explained`); before that, named from the constraint's name.
    Constraint(Box<Violation>),
}

impl AppError {
    pub fn bad_request(pointer: impl Into<String>, detail: impl Into<String>) -> Self {
        let error = FieldError::new(pointer, detail);
        Self::BadRequest {
            detail: error.detail.clone(),
            errors: vec![error],
        }
    }

    pub fn conflict(detail: impl Into<String>) -> Self {
        Self::Conflict {
            detail: detail.into(),
            errors: Vec::new(),
        }
    }

    /// 409 about one field: its value conflicts with what is stored.
    pub fn conflict_at(pointer: impl Into<String>, detail: impl Into<String>) -> Self {
        let error = FieldError::new(pointer, detail);
        Self::Conflict {
            detail: error.detail.clone(),
            errors: vec![error],
        }
    }

    pub fn invalid(pointer: impl Into<String>, detail: impl Into<String>) -> Self {
        Self::Validation(vec![FieldError::new(pointer, detail)])
    }

    pub fn internal(cause: impl std::fmt::Display) -> Self {
        Self::Internal(cause.to_string())
    }

    /// The stable code of the problem: one per status (`status_code_name`).
    fn code(&self) -> &'static str {
        status_code_name(self.status_code()).0
    }

    fn detail(&self) -> String {
        match self {
            Self::BadRequest { detail, .. } | Self::Conflict { detail, .. } => detail.clone(),
            Self::Unauthorized { detail, .. } => detail.clone(),
            Self::Forbidden(detail)
            | Self::NotFound(detail)
            | Self::PreconditionFailed(detail)
            | Self::Gone(detail)
            | Self::UnsupportedMediaType(detail)
            | Self::TooManyRequests(detail) => detail.clone(),
            Self::RateLimited { detail, standing } => {
                format!("{detail}; try again in {} seconds", standing.retry_after())
            }
            Self::RequestTimeout => {
                "the request's body did not arrive in time; send it again".to_owned()
            }
            // The cause is logged; callers learn nothing about the database.
            Self::Unavailable(_) => {
                "the database is unreachable or busy; retry after Retry-After seconds".to_owned()
            }
            Self::MethodNotAllowed { allow } => format!("this resource allows {allow}"),
            Self::PayloadTooLarge { limit } => format!("the body is larger than {limit} bytes"),
            // One mistake is told in full, so that a person reading the answer in a
            // shell sees it at once; several are counted, each in `errors`.
            Self::Validation(errors) => match errors.as_slice() {
                [one] if one.pointer.is_empty() => one.detail.clone(),
                [one] => format!("{}: {}", one.pointer, one.detail),
                many => format!("{} fields are invalid", many.len()),
            },
            Self::Internal(_) => "the server failed; the cause has been logged".to_owned(),
            Self::Constraint(violation) => violation.as_named().detail(),
        }
    }

    fn errors(&self) -> Vec<FieldError> {
        match self {
            Self::BadRequest { errors, .. }
            | Self::Conflict { errors, .. }
            | Self::Validation(errors) => errors.clone(),
            Self::Constraint(violation) => violation.as_named().errors(),
            _ => Vec::new(),
        }
    }
}

impl std::fmt::Display for AppError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code(), self.detail())
    }
}

impl std::error::Error for AppError {}

/// The title and problem type of a status, for errors that did not come from `AppError`.
pub fn status_code_name(status: StatusCode) -> (&'static str, &'static str) {
    match status.as_u16() {
        400 => ("invalid_request", "Invalid request"),
        401 => ("unauthorized", "Unauthorized"),
        403 => ("forbidden", "Forbidden"),
        404 => ("not_found", "Not found"),
        405 => ("method_not_allowed", "Method not allowed"),
        409 => ("conflict", "Conflict"),
        410 => ("gone", "Gone"),
        412 => ("precondition_failed", "Precondition failed"),
        413 => ("payload_too_large", "Payload too large"),
        408 => ("request_timeout", "Request timeout"),
        415 => ("unsupported_media_type", "Unsupported media type"),
        422 => ("validation_failed", "Validation failed"),
        429 => ("too_many_requests", "Too many requests"),
        503 => ("unavailable", "Service unavailable"),
        s if s >= 500 => ("internal", "Internal server error"),
        _ => ("invalid_request", "Invalid request"),
    }
}

/// Builds a problem document for a status, e.g. for errors actix raises itself.
pub fn problem(status: StatusCode, detail: String, errors: Vec<FieldError>) -> Problem {
    let (code, title) = status_code_name(status);
    Problem {
        kind: format!("/problems/{}", code.replace('_', "-")),
        title: title.to_owned(),
        status: status.as_u16(),
        detail,
        code: code.to_owned(),
        errors,
        request_id: None,
    }
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::BadRequest { .. } => StatusCode::BAD_REQUEST,
            Self::Unauthorized { .. } => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            Self::Conflict { .. } => StatusCode::CONFLICT,
            Self::Gone(_) => StatusCode::GONE,
            Self::PreconditionFailed(_) => StatusCode::PRECONDITION_FAILED,
            Self::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::TooManyRequests(_) | Self::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::RequestTimeout => StatusCode::REQUEST_TIMEOUT,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            Self::Constraint(violation) => violation.as_named().status_code(),
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        let request = crate::platform::request::current_request_id()
            .map(|id| format!(" (request {id})"))
            .unwrap_or_default();
        match self {
            Self::Internal(cause) => log::error!("internal error: {cause}{request}"),
            Self::Unavailable(cause) => log::warn!("database unavailable: {cause}{request}"),
            _ => {}
        }
        let body = problem(status, self.detail(), self.errors());
        let mut response = HttpResponse::build(status);
        response
            .content_type(PROBLEM_JSON)
            .insert_header((header::CACHE_CONTROL, "no-store"));
        match self {
            Self::Unauthorized { invalid_token, .. } => {
                let challenge = if *invalid_token {
                    r#"Bearer realm="seesac-api", error="invalid_token""#
                } else {
                    r#"Bearer realm="seesac-api""#
                };
                response.insert_header((header::WWW_AUTHENTICATE, challenge));
            }
            Self::MethodNotAllowed { allow } => {
                response.insert_header((header::ALLOW, allow.as_str()));
            }
            Self::Unavailable(_) | Self::TooManyRequests(_) => {
                response.insert_header((header::RETRY_AFTER, RETRY_AFTER_SECONDS));
            }
            Self::RateLimited { standing, .. } => {
                response.insert_header((header::RETRY_AFTER, standing.retry_after()));
                for field in standing.headers() {
                    response.insert_header(field);
                }
            }
            Self::RequestTimeout => {
                // What is left of the body may still be on its way: not a
                // connection to read another request from.
                response.insert_header((header::CONNECTION, "close"));
            }
            _ => {}
        }
        response.json(body)
    }
}

/// One mistake in a body: a 422 naming it.
impl From<FieldError> for AppError {
    fn from(error: FieldError) -> Self {
        Self::Validation(vec![error])
    }
}

impl From<diesel::r2d2::PoolError> for AppError {
    fn from(error: diesel::r2d2::PoolError) -> Self {
        Self::Unavailable(format!("no database connection: {error}"))
    }
}

impl From<actix_web::error::BlockingError> for AppError {
    fn from(error: actix_web::error::BlockingError) -> Self {
        Self::Internal(format!("blocking task failed: {error}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_error_is_a_problem_document_with_its_code() {
        let error = AppError::Validation(vec![
            FieldError::new("/slug", "bad"),
            FieldError::new("/title", "bad"),
        ]);
        assert_eq!(error.status_code(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(error.detail(), "2 fields are invalid");
        let one = AppError::invalid("/slug", "is taken");
        assert_eq!(one.detail(), "/slug: is taken");
        let body = problem(error.status_code(), error.detail(), error.errors());
        assert_eq!(body.kind, "/problems/validation-failed");
        assert_eq!(body.code, "validation_failed");
    }
}
