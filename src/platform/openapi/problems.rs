//! The error answers an operation can give, declared as types: one type per kind
//! of problem, and tuples of them for an operation's set. Each becomes a response
//! with the problem+json schema; no operation copies a response block.

use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};

use crate::platform::error::PROBLEM_JSON;

/// One kind of problem answer.
pub trait Problem {
    const STATUS: u16;
    /// When it is answered, as the OpenAPI response's description.
    const WHEN: &'static str;
}

/// The problem answers of an operation: a `Problem`, or a tuple of them.
pub trait Problems {
    fn list() -> Vec<(u16, &'static str)>;
}

impl<P: Problem> Problems for P {
    fn list() -> Vec<(u16, &'static str)> {
        vec![(P::STATUS, P::WHEN)]
    }
}

macro_rules! problems_for_tuples {
    ($(($($P:ident),+)),+ $(,)?) => {$(
        impl<$($P: Problem),+> Problems for ($($P,)+) {
            fn list() -> Vec<(u16, &'static str)> {
                vec![$(($P::STATUS, $P::WHEN)),+]
            }
        }
    )+};
}

problems_for_tuples!(
    (A, B),
    (A, B, C),
    (A, B, C, D),
    (A, B, C, D, E),
    (A, B, C, D, E, F),
    (A, B, C, D, E, F, G),
    (A, B, C, D, E, F, G, H),
    (A, B, C, D, E, F, G, H, I),
    (A, B, C, D, E, F, G, H, I, J),
    (A, B, C, D, E, F, G, H, I, J, K),
);

/// The response a problem status is documented with.
pub fn response(when: &str) -> utoipa::openapi::Response {
    ResponseBuilder::new()
        .description(when)
        .content(
            PROBLEM_JSON,
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("Problem")))
                .build(),
        )
        .build()
}

macro_rules! problem_kinds {
    ($($(#[$meta:meta])* $name:ident = $status:literal, $when:literal;)+) => {$(
        $(#[$meta])*
        #[derive(Debug)]
        pub struct $name;

        impl Problem for $name {
            const STATUS: u16 = $status;
            const WHEN: &'static str = $when;
        }
    )+};
}

problem_kinds! {
    /// 400 on any operation: a query parameter it does not take, or a bad value.
    BadParameter = 400, "An unknown or invalid query parameter, named in `errors`";
    /// 400 on an operation with a body.
    BadBody = 400, "The body is not JSON, or an unknown or invalid query parameter, named in \
        `errors`";
    /// 401 where a token is optional: a token was sent and is not valid.
    BadToken = 401, "The bearer token is not valid (expired, revoked or malformed)";
    /// 401 where a token is required.
    NoToken = 401, "No valid bearer token";
    /// 401 on a login.
    WrongCredentials = 401, "Wrong username or password";
    /// 403: a valid token without the right.
    Forbidden = 403, "The token may not do this";
    /// 404 on an item.
    NotFound = 404, "No such item, or not visible to this caller";
    /// 409 on a write.
    Conflict = 409, "The operation conflicts with the state of what is stored, not with a \
        field of the body: other items still refer to this one, it is the last admin or the \
        primary contact, or another item holds the key a restore needs";
    /// 410 on the changes feed.
    Gone = 410, "The cursor is older than the change log keeps: start over with a full sync";
    /// 412 on a conditional write.
    PreconditionFailed = 412, "If-Match does not match the current ETag (or If-None-Match: * \
        and the item exists); nothing was written";
    /// 413 on a write with a body.
    PayloadTooLarge = 413, "The body is larger than 1 MiB";
    /// 413 on an upload.
    FileTooLarge = 413, "The file is larger than the limit of its type, or of uploads \
        (`SEESAC_UPLOAD_MAX_BYTES`); nothing was kept";
    /// 415 on an upload.
    UnsupportedFile = 415, "The file is not of a type an asset may be (its bytes say what it \
        is, not its Content-Type), or it came as multipart/form-data; nothing was kept";
    /// 415 on a write with a body.
    UnsupportedMediaType = 415, "The body is not JSON (or, for a batch, not JSON or CSV)";
    /// 422 on a write with a body.
    Invalid = 422, "Every mistake in the body, each in `errors` with a JSON pointer and a \
        `code`: a wrong type or form (`invalid`), a missing field (`required`), an unknown \
        field (`unknown_field`), a reference to an item that does not exist (`unknown_reference`, \
        `unknown_metric`), a key another item holds (`taken`), a value outside what the \
        item it belongs to allows (`out_of_range`), what a partner's token may not write \
        (`not_your_area`, `not_your_metric`, `not_yours`), the same item twice in a batch \
        (`duplicate`)";
    /// 408 on a write with a body.
    RequestTimeout = 408, "The body did not arrive within the body timeout; nothing was written";
    /// 429 on a login.
    TooManyRequests = 429, "Too many logins from this address, too many failed logins for this \
        username, or too many at once; retry after `Retry-After` seconds (`RateLimit` and \
        `RateLimit-Policy` say which limit)";
    /// 429 on a write.
    RateLimited = 429, "Too many writes by this caller; retry after `Retry-After` seconds \
        (`RateLimit` and `RateLimit-Policy` say which limit)";
    /// 503 on anything that reaches the database.
    Unavailable = 503, "The database is unreachable or busy; retry after `Retry-After` seconds";
}

/// The problems of every admin-only operation.
pub type AdminProblems = (NoToken, Forbidden, Unavailable);

/// The problems of a write with a body; PUT, PATCH and DELETE add their own.
pub type BodyWrite = (
    BadBody,
    NoToken,
    Forbidden,
    Conflict,
    PayloadTooLarge,
    UnsupportedMediaType,
    Invalid,
    Unavailable,
);
