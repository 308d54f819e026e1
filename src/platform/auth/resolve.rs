//! Who a request's credentials name, on every request: the bearer token read, then
//! verified as a person's JWT or looked up as a machine's API token, and the
//! database asked what the person or token may do now.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use super::{Caller, Identity, JwtKeys, PartnerGrant, Role, Scope, secrets};
use crate::platform::db::Db;
use crate::platform::db::schema::{api_tokens, partners, users};
use crate::platform::error::{AppError, AppResult};

/// The one answer to any bearer token that cannot be used, whatever the reason, so
/// that it tells an attacker nothing.
fn bad_token() -> AppError {
    AppError::Unauthorized {
        detail: "the bearer token is not valid: it is malformed, expired or revoked, or its \
                 user or partner is gone; get a new one"
            .to_owned(),
        invalid_token: true,
    }
}

impl FromRequest for Caller {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, AppError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        // Found already by a middleware (Idempotency-Key) for this request.
        if let Some(caller) = req.extensions().get::<Caller>() {
            let caller = caller.clone();
            return Box::pin(async { Ok(caller) });
        }
        let token = match bearer_token(req) {
            Ok(None) => return Box::pin(async { Ok(Caller::ANONYMOUS) }),
            Ok(Some(token)) => token,
            Err(error) => return Box::pin(async { Err(error) }),
        };
        let keys = req.app_data::<web::Data<JwtKeys>>().cloned();
        let db = Db::from_request(req, payload).into_inner();
        let req = req.clone();
        Box::pin(async move {
            let db = db?;
            let caller = if secrets::looks_like_ours(&token) {
                machine(&db, token).await?
            } else {
                let keys = keys.ok_or_else(|| AppError::internal("no JWT keys registered"))?;
                let claims = keys.verify(&token).map_err(|_| bad_token())?;
                person(&db, claims.sub, claims.stamp).await?
            };
            // Kept for the rest of the request: the middleware tells an authenticated
            // caller from an anonymous one by it.
            req.extensions_mut().insert(caller.clone());
            limit_writes(&req, &caller)?;
            Ok(caller)
        })
    }
}

/// Counts a write against its caller's rate limit (once per request: the caller
/// is found once). Reads are not limited here.
fn limit_writes(req: &HttpRequest, caller: &Caller) -> AppResult<()> {
    use actix_web::http::Method;
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return Ok(());
    }
    let Some(limits) = req.app_data::<web::Data<crate::platform::ratelimit::Limits>>() else {
        return Ok(());
    };
    let standing = limits
        .writes_per_caller
        .hit(&caller.name())
        .map_err(|standing| AppError::RateLimited {
            detail: "too many writes by this caller".to_owned(),
            standing,
        })?;
    req.extensions_mut().insert(standing);
    Ok(())
}

/// The bearer token of a request, if it sent one.
pub fn bearer_token(req: &HttpRequest) -> AppResult<Option<String>> {
    let Some(value) = req.headers().get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let malformed = |detail: &str| AppError::Unauthorized {
        detail: detail.to_owned(),
        invalid_token: true,
    };
    let value = value
        .to_str()
        .map_err(|_| malformed("the Authorization header is not readable"))?;
    match value.split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => {
            Ok(Some(token.trim().to_owned()))
        }
        _ => Err(malformed(
            "the Authorization header must be `Bearer <token>`",
        )),
    }
}

/// A person: the user named by a verified JWT, with the role the database has now,
/// if the token carries the user's stamp (no new password or role since, and not
/// another user of the same name).
async fn person(db: &Db, username: String, stamp: String) -> AppResult<Caller> {
    let role = db
        .run(move |conn| {
            let stored: Option<(String, Uuid)> = users::table
                .filter(users::username.eq(&username))
                .select((users::role, users::token_stamp))
                .first(conn)
                .optional()?;
            Ok(stored
                .filter(|(_, current)| current.to_string() == stamp)
                .and_then(|(role, _)| Role::parse(&role))
                .map(|role| (username, role)))
        })
        .await?;
    let (username, role) = role.ok_or_else(bad_token)?;
    Ok(Caller {
        identity: Identity::Person { username, role },
        partner: None,
    })
}

/// A token's partner as the database has it: slug, name, areas, metrics, active.
type StoredPartner = (String, String, Vec<String>, Option<Vec<String>>, bool);

/// A token as the database has it, with its partner.
#[derive(Queryable)]
struct StoredToken {
    id: Uuid,
    name: String,
    scopes: Vec<String>,
    expires_at: DateTime<Utc>,
    revoked_at: Option<DateTime<Utc>>,
    last_used_at: Option<DateTime<Utc>>,
    partner: Option<StoredPartner>,
}

/// How often `last_used_at` is written: at most once a minute per token, so that a
/// busy sync job does not turn every read into a write.
const LAST_USED_EVERY: Duration = Duration::seconds(60);

/// A machine: the live token whose secret this is.
/// Not revoked, not expired, and its partner (if any) active.
fn usable(token: &StoredToken) -> bool {
    let partner_active = token.partner.as_ref().is_none_or(|partner| partner.4);
    token.revoked_at.is_none() && token.expires_at > Utc::now() && partner_active
}

async fn machine(db: &Db, secret: String) -> AppResult<Caller> {
    if !secrets::is_well_formed(&secret) {
        return Err(bad_token());
    }
    let hash = secrets::hash(&secret);
    let stored = db
        .run(move |conn| {
            let stored: Option<StoredToken> = api_tokens::table
                .left_join(partners::table.on(partners::slug.nullable().eq(api_tokens::partner)))
                .filter(api_tokens::secret_hash.eq(hash))
                .select((
                    api_tokens::id,
                    api_tokens::name,
                    api_tokens::scopes,
                    api_tokens::expires_at,
                    api_tokens::revoked_at,
                    api_tokens::last_used_at,
                    (
                        partners::slug,
                        partners::name,
                        partners::areas,
                        partners::metrics,
                        partners::active,
                    )
                        .nullable(),
                ))
                .first(conn)
                .optional()?;
            // Only a token that works is "used": a revoked or expired one stays as it
            // was, so its record says when it last did something.
            if let Some(token) = &stored
                && usable(token)
                && token
                    .last_used_at
                    .is_none_or(|at| Utc::now() - at > LAST_USED_EVERY)
            {
                diesel::update(api_tokens::table.find(token.id))
                    .set(api_tokens::last_used_at.eq(Utc::now()))
                    .execute(conn)?;
            }
            Ok(stored)
        })
        .await?;
    let token = stored.ok_or_else(bad_token)?;
    if !usable(&token) {
        return Err(bad_token());
    }
    let scopes = token
        .scopes
        .iter()
        .filter_map(|scope| Scope::parse(scope).ok())
        .collect();
    Ok(Caller {
        identity: Identity::Machine {
            token: token.id,
            name: token.name,
            scopes,
        },
        partner: token.partner.map(|(slug, name, areas, metrics, _)| {
            Arc::new(PartnerGrant {
                slug,
                name,
                areas,
                metrics,
            })
        }),
    })
}
