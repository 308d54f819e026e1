//! The login, `POST /api/v1/auth/token`: a username and a password for a JWT, and
//! the argon2id hashing of passwords, which is expensive on purpose and so rationed.

use std::sync::LazyLock;
use std::time::Duration;

use actix_web::http::header;
use actix_web::{HttpMessage, HttpRequest, HttpResponse, web};
use argon2::Argon2;
use argon2::password_hash::{
    PasswordHash, PasswordHasher, PasswordVerifier, SaltString, rand_core::OsRng,
};
use serde::{Deserialize, Serialize};
use tokio::sync::{Semaphore, SemaphorePermit};
use utoipa::ToSchema;

use super::users::{self, MAX_PASSWORD};
use crate::platform::auth::{JwtKeys, Role, TOKEN_LIFETIME};
use crate::platform::db::Db;
use crate::platform::error::{AppError, AppResult};
use crate::platform::http;
use crate::platform::openapi::problems::{
    BadBody, Invalid, PayloadTooLarge, TooManyRequests, Unavailable, UnsupportedMediaType,
    WrongCredentials,
};
use crate::platform::openapi::{Answer, Doc};
use crate::platform::query;
use crate::platform::ratelimit::{self, Limits, Permit};
use crate::platform::validate::Check;

/// Credentials to exchange for an access token.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"username": "admin", "password": "the password from data/admin-password"}))]
pub struct TokenRequest {
    /// The account's username.
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"^[^\x00]*[^\x00 \t\n\r\x0b\x0c][^\x00]*$"
    )]
    pub username: Option<String>,
    /// The account's password.
    #[schema(min_length = 1, max_length = 1024)]
    pub password: Option<String>,
}

/// An access token (RFC 6749 section 5.1).
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"access_token": "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9...", "token_type": "Bearer", "expires_in": 3600}))]
pub struct TokenResponse {
    /// A JWT to send as `Authorization: Bearer <access_token>`.
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// Seconds until it expires.
    pub expires_in: i64,
}

/// The hasher of new passwords: argon2id with 7 MiB, 5 passes and one lane, one
/// of OWASP's equivalent configurations (as strong as argon2's default, 19 MiB
/// and 2 passes, for about the same time). A password check holds its memory
/// for the whole check, and the smaller one keeps the service's peak within its
/// memory target. A stored hash names its own parameters, and is verified with
/// them: hashes made with the default keep working.
fn hasher() -> AppResult<Argon2<'static>> {
    let params = argon2::Params::new(7 * 1024, 5, 1, None).map_err(AppError::internal)?;
    Ok(Argon2::new(
        argon2::Algorithm::Argon2id,
        argon2::Version::V0x13,
        params,
    ))
}

pub fn hash_password(password: &str) -> AppResult<String> {
    let salt = SaltString::generate(&mut OsRng);
    hasher()?
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(AppError::internal)
}

pub fn verify_password(hash: &str, password: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| {
        Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
}

/// Verified against when the user does not exist, so that a wrong username costs as
/// long as a wrong password and the two cannot be told apart.
static DUMMY_HASH: LazyLock<String> =
    LazyLock::new(|| hash_password("not a real password").unwrap_or_default());

/// Password checks. Each takes about 7 MiB (19 MiB for a hash made with argon2's
/// default parameters) and a core for a moment, so only
/// `MAX_HASHING` run at once and the others wait their turn, in the order they
/// came (the semaphore is fair), for at most `MAX_WAIT`. A client has at most
/// `MAX_HASHING_PER_CLIENT` logins running or waiting: a login beyond its share is
/// told to come back (429), and only its own; so a flood, from one address or
/// many, delays another client's login but does not refuse it.
static HASHING: Semaphore = Semaphore::const_new(MAX_HASHING);
const MAX_HASHING: usize = 8;
const MAX_HASHING_PER_CLIENT: usize = 2;
const MAX_WAIT: Duration = Duration::from_secs(10);

struct HashingSlot {
    _client: Permit,
    _slot: SemaphorePermit<'static>,
}

impl HashingSlot {
    async fn take(limits: &Limits, client: &str) -> AppResult<Self> {
        let permit = limits
            .hashing
            .try_take(client, MAX_HASHING_PER_CLIENT)
            .ok_or_else(|| {
                AppError::TooManyRequests(format!(
                    "this address has {MAX_HASHING_PER_CLIENT} logins in progress already; \
                     wait for their answers"
                ))
            })?;
        let slot = actix_web::rt::time::timeout(MAX_WAIT, HASHING.acquire())
            .await
            .map_err(|_| {
                AppError::TooManyRequests(
                    "too many logins are waiting; try again in a moment".to_owned(),
                )
            })?
            .map_err(AppError::internal)?;
        Ok(Self {
            _client: permit,
            _slot: slot,
        })
    }
}

pub async fn issue_token(
    db: Db,
    keys: web::Data<JwtKeys>,
    limits: web::Data<Limits>,
    req: HttpRequest,
    payload: web::Payload,
) -> AppResult<HttpResponse> {
    // Counted per client before anything else, whatever the request turns out to be.
    let client = client_of(&limits, &req);
    let attempts =
        limits
            .logins_per_client
            .hit(&client)
            .map_err(|standing| AppError::RateLimited {
                detail: "too many logins from this address".to_owned(),
                standing,
            })?;
    req.extensions_mut().insert(attempts);
    query::Params::none(req.query_string())?;
    let body: TokenRequest = http::from_object(http::json_object(&req, payload).await?)?;
    let (username, password) = credentials(body)?;
    let user = verified(&db, &limits, &client, username, password).await?;
    token_response(&keys, &user)
}

/// The user whose password `password` is, as a login checks it: hashed in turn
/// (`HashingSlot`), and counted as a failure for the username until it succeeds,
/// so that ten failures lock the username for the window whatever the password;
/// a 401 if it is not theirs. `client` is the caller's address, as
/// `client_of` gives it.
pub async fn verified(
    db: &Db,
    limits: &Limits,
    client: &str,
    username: String,
    password: String,
) -> AppResult<users::User> {
    // A login told to come back because the checks are busy is not an attempt.
    let slot = HashingSlot::take(limits, client).await?;
    // Whatever the password: a username that failed too often waits out its window.
    // Every attempt counts as a failure from the start, and a success clears the
    // count: attempts sent together cannot all slip in before the first fails.
    limits
        .failures_per_username
        .hit(&username)
        .map_err(|standing| AppError::RateLimited {
            detail: "too many failed logins for this username".to_owned(),
            standing,
        })?;
    let name = username.clone();
    let user = db.run(move |conn| users::find(conn, &name)).await?;
    let verified = web::block(move || {
        let _slot = slot;
        match &user {
            Some(user) if verify_password(&user.password_hash, &password) => Some(user.clone()),
            Some(_) => None,
            None => {
                verify_password(&DUMMY_HASH, &password);
                None
            }
        }
    })
    .await?;
    let Some(user) = verified else {
        return Err(AppError::Unauthorized {
            detail: "wrong username or password".to_owned(),
            invalid_token: false,
        });
    };
    limits.failures_per_username.clear(&username);
    Ok(user)
}

/// The key a request's client is counted under for logins: its address (the
/// forwarded one behind a trusted proxy).
pub fn client_of(limits: &Limits, req: &HttpRequest) -> String {
    ratelimit::client_key(ratelimit::client_address(
        req.peer_addr(),
        req.headers(),
        &limits.trusted_proxies,
    ))
}

/// The username and password of a login, checked before any password is hashed.
fn credentials(body: TokenRequest) -> AppResult<(String, String)> {
    let mut check = Check::default();
    let username = check.text("username", body.username, 100);
    let password = check.long_text("password", body.password, MAX_PASSWORD);
    if password.is_empty() {
        check.fail("password", crate::platform::validate::REQUIRED);
    }
    check.finish(())?;
    Ok((username, password))
}

/// The answer to a login that succeeded: a token with the role the user has now.
pub fn token_response(keys: &JwtKeys, user: &users::User) -> AppResult<HttpResponse> {
    let role = Role::parse(&user.role).ok_or_else(|| {
        AppError::internal(format!("user {} has role {}", user.username, user.role))
    })?;
    let token = keys.issue(&user.username, &user.token_stamp.to_string(), role)?;
    let mut response = HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(TokenResponse {
            access_token: token,
            token_type: "Bearer".to_owned(),
            expires_in: TOKEN_LIFETIME,
        });
    // A token is shown once: not kept for an Idempotency-Key replay.
    response
        .extensions_mut()
        .insert(crate::platform::idempotency::ShownOnce);
    Ok(response)
}

pub fn issue_token_doc() -> Doc {
    Doc::new("issue_token", "auth", "Get an access token")
        .describe(
            "Exchanges a username and password for a JWT valid for an hour. A wrong username \
             and a wrong password give the same 401. Limited: 30 attempts a minute per client \
             address, and after 10 failed logins for a username within 15 minutes its logins \
             are a 429 until the window has passed; password checks are expensive on purpose, \
             and too many at once are a 429 too.",
        )
        .json_body::<TokenRequest>(&["username", "password"])
        .schema::<TokenResponse>()
        .answer(Answer::json(200, "The token", "TokenResponse"))
        .problems::<(
            BadBody,
            WrongCredentials,
            PayloadTooLarge,
            UnsupportedMediaType,
            Invalid,
            TooManyRequests,
            Unavailable,
        )>()
}
