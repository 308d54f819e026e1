//! User accounts: argon2id password hashes, `POST /api/v1/auth/token`, and the
//! admin-only user API (`/api/v1/users`).

use std::sync::LazyLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use actix_web::http::{StatusCode, header};
use actix_web::{HttpMessage, HttpRequest, HttpResponse, web};
use argon2::Argon2;
use argon2::password_hash::{
    PasswordHash, PasswordHasher, PasswordVerifier, SaltString, rand_core::OsRng,
};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::engine::transaction::{self, Author};
use crate::platform::auth::{Caller, JwtKeys, Permission, Role, TOKEN_LIFETIME};
use crate::platform::db::Db;
use crate::platform::db::schema::users;
use crate::platform::error::{AppError, AppResult};
use crate::platform::http;
use crate::platform::openapi::problems::{
    AdminProblems, BadBody, BadParameter, Conflict, Invalid, NotFound, PayloadTooLarge,
    TooManyRequests, Unavailable, UnsupportedMediaType, WrongCredentials,
};
use crate::platform::openapi::{Answer, Doc, Security};
use crate::platform::query::{self, ListMeta};
use crate::platform::ratelimit::{self, Limits, Permit};
use crate::platform::validate::Check;

const MIN_PASSWORD: usize = 12;
const MAX_PASSWORD: usize = 1024;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = users, check_for_backend(diesel::pg::Pg))]
pub struct User {
    pub id: Uuid,
    pub username: String,
    pub password_hash: String,
    pub role: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A user account as the API shows it (never its password hash).
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"username": "admin", "role": "admin",
    "created_at": "2024-05-08T09:00:00Z", "updated_at": "2024-05-08T09:00:00Z"}))]
pub struct UserView {
    /// Lowercase letters, digits, `.`, `_` and `-`.
    pub username: String,
    /// `admin` (everything, including users) or `editor` (all content).
    pub role: Role,
    /// Read-only.
    pub created_at: DateTime<Utc>,
    /// Read-only.
    pub updated_at: DateTime<Utc>,
}

impl From<User> for UserView {
    fn from(user: User) -> Self {
        Self {
            role: Role::parse(&user.role).unwrap_or(Role::Editor),
            username: user.username,
            created_at: user.created_at,
            updated_at: user.updated_at,
        }
    }
}

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

/// The user accounts, in the list envelope.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserList {
    /// Every account, by username.
    pub data: Vec<UserView>,
    /// Paging metadata: one page holds them all.
    pub meta: ListMeta,
}

/// A new user account.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"username": "editor", "password": "a long and unguessable passphrase", "role": "editor"}))]
pub struct NewUser {
    /// Lowercase letters, digits, `.`, `_` and `-`, at most 63 characters.
    #[schema(pattern = "^[a-z0-9][a-z0-9._-]{0,62}$")]
    pub username: Option<String>,
    /// At least 12 characters.
    #[schema(min_length = 12, max_length = 1024)]
    pub password: Option<String>,
    /// `admin` (everything, including users) or `editor` (all content).
    #[schema(value_type = Option<Role>)]
    pub role: Option<String>,
}

pub fn hash_password(password: &str) -> AppResult<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(AppError::internal)
}

fn verify_password(hash: &str, password: &str) -> bool {
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

/// Password checks running now. Each takes about 19 MiB and a core for a moment, so
/// only a few run at once; the rest are told to come back (429), rather than let a
/// burst of logins exhaust memory and starve the database work. One client holds at
/// most `MAX_HASHING_PER_CLIENT` of them, so that its flood cannot take them all.
static HASHING: AtomicUsize = AtomicUsize::new(0);
const MAX_HASHING: usize = 8;
const MAX_HASHING_PER_CLIENT: usize = 2;

struct HashingSlot {
    _client: Permit,
}

impl HashingSlot {
    fn take(limits: &Limits, client: &str) -> AppResult<Self> {
        let busy = || {
            AppError::TooManyRequests("too many logins at once; try again in a moment".to_owned())
        };
        let permit = limits
            .hashing
            .try_take(client, MAX_HASHING_PER_CLIENT)
            .ok_or_else(busy)?;
        if HASHING.fetch_add(1, Ordering::AcqRel) >= MAX_HASHING {
            HASHING.fetch_sub(1, Ordering::AcqRel);
            return Err(busy());
        }
        Ok(Self { _client: permit })
    }
}

impl Drop for HashingSlot {
    fn drop(&mut self) {
        HASHING.fetch_sub(1, Ordering::AcqRel);
    }
}

fn parse_username(raw: &str) -> Result<String, String> {
    let valid = !raw.is_empty()
        && raw.len() <= 63
        && raw
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        && raw
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b));
    if valid {
        Ok(raw.to_owned())
    } else {
        Err("must be lowercase letters, digits, '.', '_' or '-', at most 63 characters".to_owned())
    }
}

fn parse_password(raw: &str) -> Result<String, String> {
    match raw.chars().count() {
        n if n < MIN_PASSWORD => Err(format!("must be at least {MIN_PASSWORD} characters")),
        n if n > MAX_PASSWORD => Err(format!("must be at most {MAX_PASSWORD} characters")),
        _ => Ok(raw.to_owned()),
    }
}

pub fn find(conn: &mut PgConnection, username: &str) -> AppResult<Option<User>> {
    Ok(users::table
        .filter(users::username.eq(username))
        .select(User::as_select())
        .first(conn)
        .optional()?)
}

pub fn count(conn: &mut PgConnection) -> AppResult<i64> {
    Ok(users::table.count().get_result(conn)?)
}

/// Creates an account; the password is hashed with argon2id.
pub fn create(
    conn: &mut PgConnection,
    username: &str,
    password: &str,
    role: Role,
) -> AppResult<User> {
    let mut check = Check::default();
    let username = check.required("username", Some(username.to_owned()), parse_username);
    let password = check.required("password", Some(password.to_owned()), parse_password);
    let (username, password) =
        check.finish((username.unwrap_or_default(), password.unwrap_or_default()))?;
    let hash = hash_password(&password)?;
    Ok(diesel::insert_into(users::table)
        .values((
            users::username.eq(&username),
            users::password_hash.eq(&hash),
            users::role.eq(role.as_str()),
        ))
        .returning(User::as_returning())
        .get_result(conn)?)
}

pub async fn issue_token(
    db: Db,
    keys: web::Data<JwtKeys>,
    limits: web::Data<Limits>,
    req: HttpRequest,
    payload: web::Payload,
) -> AppResult<HttpResponse> {
    // Counted per client before anything else, whatever the request turns out to be.
    let client = ratelimit::client_key(ratelimit::client_address(
        req.peer_addr(),
        req.headers(),
        &limits.trusted_proxies,
    ));
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
    let mut check = Check::default();
    let username = check.text("username", body.username, 100);
    let password = check.long_text("password", body.password, MAX_PASSWORD);
    if password.is_empty() {
        check.fail("password", crate::platform::validate::REQUIRED);
    }
    check.finish(())?;
    // A login told to come back because the checks are busy is not an attempt.
    let slot = HashingSlot::take(&limits, &client)?;
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
    let user = db.run(move |conn| find(conn, &name)).await?;
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
    let role = Role::parse(&user.role).ok_or_else(|| {
        AppError::internal(format!("user {} has role {}", user.username, user.role))
    })?;
    let token = keys.issue(&user.username, role)?;
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

pub async fn list_users(db: Db, caller: Caller, req: HttpRequest) -> AppResult<HttpResponse> {
    caller.require(Permission::ManageUsers)?;
    query::Params::none(req.query_string())?;
    let users: Vec<UserView> = db
        .run(|conn| {
            Ok(users::table
                .order(users::username)
                .select(User::as_select())
                .load(conn)?)
        })
        .await?
        .into_iter()
        .map(UserView::from)
        .collect();
    let total = users.len() as i64;
    let meta = ListMeta {
        page: 1,
        per_page: total.max(1),
        total,
        total_pages: 1,
    };
    let body = serde_json::to_value(UserList { data: users, meta }).map_err(AppError::internal)?;
    Ok(http::read(&req, &caller, &body, &[]))
}

pub async fn create_user(
    db: Db,
    caller: Caller,
    req: HttpRequest,
    payload: web::Payload,
) -> AppResult<HttpResponse> {
    caller.require(Permission::ManageUsers)?;
    query::Params::none(req.query_string())?;
    let body: NewUser = http::from_object(http::json_object(&req, payload).await?)?;
    let mut check = Check::default();
    let username = check.required("username", body.username, parse_username);
    let password = check.required("password", body.password, parse_password);
    let role = check.required("role", body.role, |raw| {
        Role::parse(raw).ok_or_else(|| "must be admin or editor".to_owned())
    });
    let (username, password, role) = check.finish((username, password, role))?;
    let (username, password, role) = (
        username.unwrap_or_default(),
        password.unwrap_or_default(),
        role.unwrap_or(Role::Editor),
    );
    let author = Author::of(&caller, &req);
    let user = transaction::attributed(&db, author, move |conn| {
        create(conn, &username, &password, role)
    })
    .await?;
    let location = format!("/api/v1/users/{}", user.username);
    Ok(http::written(
        StatusCode::CREATED,
        &serde_json::to_value(UserView::from(user)).unwrap_or_default(),
        Some(location),
    ))
}

pub async fn get_user(
    db: Db,
    caller: Caller,
    req: HttpRequest,
    username: web::Path<String>,
) -> AppResult<HttpResponse> {
    caller.require(Permission::ManageUsers)?;
    query::Params::none(req.query_string())?;
    let username = username.into_inner();
    let user = db
        .run(move |conn| {
            find(conn, &username)?
                .ok_or_else(|| AppError::NotFound(format!("there is no user {username}")))
        })
        .await?;
    let body = serde_json::to_value(UserView::from(user)).map_err(AppError::internal)?;
    Ok(http::read(&req, &caller, &body, &[]))
}

/// Serialises changes to admins, so that two writes cannot remove the last two.
fn lock_users(conn: &mut PgConnection) -> AppResult<()> {
    diesel::sql_query("SELECT pg_advisory_xact_lock(hashtext('users'))").execute(conn)?;
    Ok(())
}

/// A 409 if `user` is the last admin, who must stay one.
fn keep_an_admin(conn: &mut PgConnection, user: &User) -> AppResult<()> {
    if user.role != Role::Admin.as_str() {
        return Ok(());
    }
    let admins: i64 = users::table
        .filter(users::role.eq(Role::Admin.as_str()))
        .count()
        .get_result(conn)?;
    if admins <= 1 {
        return Err(AppError::conflict(
            "this is the last admin; make another user an admin first",
        ));
    }
    Ok(())
}

fn existing(conn: &mut PgConnection, username: &str) -> AppResult<User> {
    find(conn, username)?.ok_or_else(|| AppError::NotFound(format!("there is no user {username}")))
}

/// Deletes a user; their tokens stop working on their next request.
pub fn delete(conn: &mut PgConnection, username: &str) -> AppResult<()> {
    lock_users(conn)?;
    let user = existing(conn, username)?;
    keep_an_admin(conn, &user)?;
    diesel::delete(users::table.find(user.id)).execute(conn)?;
    Ok(())
}

/// Changes a user's role or password; a new role applies to the tokens they have.
pub fn update(
    conn: &mut PgConnection,
    username: &str,
    role: Option<Role>,
    password: Option<String>,
) -> AppResult<User> {
    lock_users(conn)?;
    let user = existing(conn, username)?;
    if role.is_some_and(|role| role != Role::Admin) {
        keep_an_admin(conn, &user)?;
    }
    let hash = password
        .map(|password| hash_password(&password))
        .transpose()?;
    Ok(diesel::update(users::table.find(user.id))
        .set((
            users::role.eq(role.map_or(user.role.clone(), |role| role.as_str().to_owned())),
            users::password_hash.eq(hash.unwrap_or(user.password_hash.clone())),
            users::updated_at.eq(chrono::Utc::now()),
        ))
        .returning(User::as_returning())
        .get_result(conn)?)
}

pub async fn delete_user(
    db: Db,
    caller: Caller,
    req: HttpRequest,
    username: web::Path<String>,
) -> AppResult<HttpResponse> {
    caller.require(Permission::ManageUsers)?;
    query::Params::none(req.query_string())?;
    let username = username.into_inner();
    let author = Author::of(&caller, &req);
    transaction::attributed(&db, author, move |conn| delete(conn, &username)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// A change to a user: a JSON merge patch of these fields.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"role": "editor"}))]
pub struct UserChanges {
    /// The new role: it applies to the user's tokens from their next request.
    #[schema(value_type = Option<Role>)]
    pub role: Option<String>,
    /// A new password, at least 12 characters.
    #[schema(min_length = 12, max_length = 1024)]
    pub password: Option<String>,
}

pub async fn update_user(
    db: Db,
    caller: Caller,
    req: HttpRequest,
    username: web::Path<String>,
    payload: web::Payload,
) -> AppResult<HttpResponse> {
    caller.require(Permission::ManageUsers)?;
    query::Params::none(req.query_string())?;
    let changes: UserChanges = http::from_object(http::json_object(&req, payload).await?)?;
    let mut check = Check::default();
    let role = check.parsed("role", changes.role, |raw| {
        Role::parse(raw).ok_or_else(|| "must be admin or editor".to_owned())
    });
    let password = check.parsed("password", changes.password, parse_password);
    check.finish(())?;
    let username = username.into_inner();
    let author = Author::of(&caller, &req);
    let user = transaction::attributed(&db, author, move |conn| {
        update(conn, &username, role, password)
    })
    .await?;
    let body = serde_json::to_value(UserView::from(user)).map_err(AppError::internal)?;
    Ok(http::written(StatusCode::OK, &body, None))
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

pub fn list_users_doc() -> Doc {
    Doc::new("list_users", "users", "List users")
        .describe("Every user account, by username, in the list envelope. Admins only.")
        .security(Security::Needs(Permission::ManageUsers))
        .schema::<UserList>()
        .answer(Answer::json(200, "The users", "UserList").header("ETag", "The answer's tag"))
        .answer(Answer::not_modified())
        .problems::<BadParameter>()
        .problems::<AdminProblems>()
}

pub fn create_user_doc() -> Doc {
    Doc::new("create_user", "users", "Create a user")
        .describe("Admins only.")
        .security(Security::Needs(Permission::ManageUsers))
        .json_body::<NewUser>(&["username", "password", "role"])
        .schema::<UserView>()
        .answer(
            Answer::json(201, "Created", "UserView")
                .header("Location", "Where it lives")
                .header("ETag", "Its tag"),
        )
        .problems::<(
            BadBody,
            Conflict,
            PayloadTooLarge,
            UnsupportedMediaType,
            Invalid,
        )>()
        .problems::<AdminProblems>()
}

pub fn get_user_doc() -> Doc {
    Doc::new("get_user", "users", "Read a user")
        .describe("Admins only.")
        .security(Security::Needs(Permission::ManageUsers))
        .path_param("The username", Some("admin"))
        .schema::<UserView>()
        .answer(Answer::json(200, "The user", "UserView").header("ETag", "Its tag"))
        .answer(Answer::not_modified())
        .problems::<(BadParameter, NotFound)>()
        .problems::<AdminProblems>()
}

pub fn update_user_doc() -> Doc {
    Doc::new("update_user", "users", "Change a user's role or password")
        .describe(
            "A JSON merge patch of `role` and `password`. A new role applies to the user's \
             tokens from their next request. The last admin stays an admin. Admins only.",
        )
        .security(Security::Needs(Permission::ManageUsers))
        .path_param("The username", Some("editor"))
        .body(
            "UserChanges",
            &["application/merge-patch+json", "application/json"],
        )
        .schema::<UserChanges>()
        .schema::<UserView>()
        .answer(Answer::json(200, "The user as changed", "UserView").header("ETag", "Its tag"))
        .problems::<(
            BadBody,
            NotFound,
            Conflict,
            PayloadTooLarge,
            UnsupportedMediaType,
            Invalid,
        )>()
        .problems::<AdminProblems>()
}

pub fn delete_user_doc() -> Doc {
    Doc::new("delete_user", "users", "Delete a user")
        .describe(
            "Admins only. The last admin cannot be deleted. The user's tokens stop working on \
             their next request.",
        )
        .security(Security::Needs(Permission::ManageUsers))
        .path_param("The username", Some("editor"))
        .answer(Answer::empty(204, "Deleted"))
        .problems::<(BadParameter, NotFound, Conflict)>()
        .problems::<AdminProblems>()
}
