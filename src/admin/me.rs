//! The caller itself: `GET /api/v1/me` says who a token is (a person and their
//! role, or an API token, its scopes and partner) and when it stops working;
//! `PATCH /api/v1/me` lets a person change their own password, given the current
//! one, as GitHub's and Directus' `/users/me` do.

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::login::{client_of, token_response, verified};
use super::users::{MAX_PASSWORD, User, parse_password};
use crate::engine::transaction::{Author, begin};
use crate::platform::auth::{Caller, Identity, JwtKeys, bearer_token};
use crate::platform::db::Db;
use crate::platform::db::schema::{api_tokens, users as users_table};
use crate::platform::error::{AppError, AppResult};
use crate::platform::http;
use crate::platform::openapi::problems::{
    BadBody, BadParameter, Forbidden, Invalid, NoToken, PayloadTooLarge, TooManyRequests,
    Unavailable, UnsupportedMediaType,
};
use crate::platform::openapi::{Answer, Doc, Security};
use crate::platform::query::Params;
use crate::platform::ratelimit::Limits;
use crate::platform::validate::Check;

/// Who the caller is.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"kind": "user", "name": "editor", "role": "editor", "id": null,
    "scopes": [], "partner": null, "expires_at": "2026-12-06T10:00:00Z"}))]
pub struct Me {
    /// `user` (a person's token, from a login) or `token` (an API token).
    pub kind: String,
    /// The person's username, or the API token's name.
    pub name: String,
    /// A person's role: `admin` or `editor`.
    pub role: Option<String>,
    /// An API token's id.
    pub id: Option<Uuid>,
    /// An API token's scopes (a person's role says what they may do).
    pub scopes: Vec<String>,
    /// The partner an API token writes for.
    pub partner: Option<String>,
    /// When the token this request was sent with stops working.
    pub expires_at: Option<DateTime<Utc>>,
}

fn no_token() -> AppError {
    AppError::Unauthorized {
        detail: "send a token (Authorization: Bearer ...) to be someone".to_owned(),
        invalid_token: false,
    }
}

pub async fn get_me(
    db: Db,
    caller: Caller,
    keys: web::Data<JwtKeys>,
    req: HttpRequest,
) -> AppResult<HttpResponse> {
    Params::none(req.query_string())?;
    let me = match &caller.identity {
        Identity::Person { username, role } => Me {
            kind: "user".to_owned(),
            name: username.clone(),
            role: Some(role.as_str().to_owned()),
            id: None,
            scopes: Vec::new(),
            partner: None,
            expires_at: bearer_token(&req)?
                .and_then(|token| keys.verify(&token).ok())
                .and_then(|claims| DateTime::from_timestamp(claims.exp, 0)),
        },
        Identity::Machine {
            token,
            name,
            scopes,
        } => {
            let id = *token;
            let expires_at = db
                .run(move |conn| {
                    Ok(api_tokens::table
                        .find(id)
                        .select(api_tokens::expires_at)
                        .first::<DateTime<Utc>>(conn)
                        .optional()?)
                })
                .await?;
            Me {
                kind: "token".to_owned(),
                name: name.clone(),
                role: None,
                id: Some(id),
                scopes: scopes
                    .iter()
                    .map(|scope| scope.as_str().to_owned())
                    .collect(),
                partner: caller.partner.as_ref().map(|partner| partner.slug.clone()),
                expires_at,
            }
        }
        Identity::Anonymous | Identity::System(_) => return Err(no_token()),
    };
    let body = serde_json::to_value(me).map_err(AppError::internal)?;
    Ok(http::read(&req, &caller, &body, &[]))
}

/// A person's new password, and the current one.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"current_password": "the one you log in with now",
    "password": "a long and unguessable passphrase"}))]
pub struct PasswordChange {
    /// The password you log in with now.
    #[schema(min_length = 1, max_length = 1024)]
    pub current_password: Option<String>,
    /// The new one: at least 12 characters.
    #[schema(min_length = 12, max_length = 1024)]
    pub password: Option<String>,
}

/// `PATCH /api/v1/me`: the current password is checked as a login checks it (a
/// wrong one counts toward the username's lock), the new one is stored, every
/// token of the person ends, and the answer is a fresh one.
pub async fn patch_me(
    db: Db,
    caller: Caller,
    keys: web::Data<JwtKeys>,
    limits: web::Data<Limits>,
    req: HttpRequest,
    payload: web::Payload,
) -> AppResult<HttpResponse> {
    let username = match &caller.identity {
        Identity::Person { username, .. } => username.clone(),
        Identity::Machine { .. } => {
            return Err(AppError::Forbidden(
                "an API token has no password: an admin makes a new token instead".to_owned(),
            ));
        }
        Identity::Anonymous | Identity::System(_) => return Err(no_token()),
    };
    Params::none(req.query_string())?;
    let body: PasswordChange = http::from_object(http::json_object(&req, payload).await?)?;
    let mut check = Check::default();
    let current = check.long_text("current_password", body.current_password, MAX_PASSWORD);
    if current.is_empty() {
        check.fail("current_password", crate::platform::validate::REQUIRED);
    }
    let password = check.required("password", body.password, parse_password);
    let password = check.finish(password)?.unwrap_or_default();
    let client = client_of(&limits, &req);
    verified(&db, &limits, &client, username.clone(), current).await?;
    let hash = web::block(move || super::login::hash_password(&password)).await??;
    let author = Author::of(&caller, &req);
    let user: User = db
        .transaction(move |conn| {
            begin(conn, &author, None)?;
            // The database gives the user a new token stamp: their tokens end.
            Ok(
                diesel::update(users_table::table.filter(users_table::username.eq(&username)))
                    .set(users_table::password_hash.eq(hash))
                    .returning(User::as_returning())
                    .get_result(conn)?,
            )
        })
        .await?;
    token_response(&keys, &user)
}

pub fn get_me_doc() -> Doc {
    Doc::new("get_me", "auth", "Who am I")
        .describe(
            "The caller: a person (username and role) or an API token (its id, name, scopes and \
             partner), and when the token this request was sent with stops working.",
        )
        .security(Security::Anyone)
        .schema::<Me>()
        .answer(Answer::json(200, "The caller", "Me"))
        .answer(Answer::not_modified())
        .problems::<(BadParameter, NoToken, Unavailable)>()
}

pub fn patch_me_doc() -> Doc {
    Doc::new("update_me", "auth", "Change your own password")
        .describe(
            "A person changes their own password, given the current one. A wrong current \
             password is a 401 and counts toward the username's lock, as a failed login does. \
             Every token the person had stops working; the answer is a fresh one. An API token \
             has no password: 403.",
        )
        .security(Security::Person)
        .json_body::<PasswordChange>(&["current_password", "password"])
        .schema::<super::login::TokenResponse>()
        .answer(Answer::json(200, "A fresh token", "TokenResponse"))
        .problems::<(
            BadBody,
            NoToken,
            Forbidden,
            PayloadTooLarge,
            UnsupportedMediaType,
            Invalid,
            TooManyRequests,
            Unavailable,
        )>()
}
