//! Who is calling, and what they may do. Two kinds of credentials, one caller:
//!
//! - people log in and get a JWT (`jwt`); on every request the database says
//!   whether the user still exists and with which role, so deleting a user or
//!   changing a role takes effect on their next request;
//! - machines get an API token (`secrets`): scoped, expiring, revocable, and
//!   optionally bound to a partner, whose areas and metrics limit what it writes.
//!
//! Both become a `Caller`. Handlers ask it for a `Permission`; roles and scopes are
//! mapped to permissions here and nowhere else, so a new scope or a new kind of
//! token does not touch the handlers.

pub mod jwt;
pub mod secrets;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use uuid::Uuid;

pub use jwt::{JwtKeys, Role, TOKEN_LIFETIME};

use crate::platform::db::Db;
use crate::platform::db::schema::{api_tokens, partners, users};
use crate::platform::error::{AppError, AppResult};
use crate::platform::text_enum::text_enum;

/// What a request may ask to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    /// See drafts, archived and scheduled content.
    ReadDrafts,
    /// Create, change and delete pages, impact metrics, funders, Council Decisions
    /// and contacts.
    WriteContent,
    /// Create, change and delete observations.
    WriteObservations,
    /// Manage user accounts.
    ManageUsers,
    /// Manage partners.
    ManagePartners,
    /// Create, list and revoke API tokens.
    ManageTokens,
    /// Read the revisions of content (and restore them, with the right to write it).
    ReadHistory,
    /// Read the audit log.
    ReadAudit,
    /// Manage webhook subscriptions and their deliveries.
    ManageWebhooks,
}

impl Permission {
    /// The right, in words, for a 403.
    pub fn describe(self) -> &'static str {
        match self {
            Self::ReadDrafts => "reading drafts",
            Self::WriteContent => "writing content",
            Self::WriteObservations => "writing observations",
            Self::ManageUsers => "managing users",
            Self::ManagePartners => "managing partners",
            Self::ManageTokens => "managing API tokens",
            Self::ReadHistory => "reading revisions",
            Self::ReadAudit => "reading the audit log",
            Self::ManageWebhooks => "managing webhooks",
        }
    }

    /// The scope that grants it to a token, if any does.
    pub fn scope(self) -> Option<Scope> {
        match self {
            Self::ReadDrafts => Some(Scope::ContentRead),
            Self::WriteContent => Some(Scope::ContentWrite),
            Self::WriteObservations => Some(Scope::ObservationsWrite),
            Self::ManageUsers
            | Self::ManagePartners
            | Self::ManageTokens
            | Self::ReadHistory
            | Self::ReadAudit
            | Self::ManageWebhooks => None,
        }
    }
}

impl Role {
    pub fn grants(self, permission: Permission) -> bool {
        match self {
            Self::Admin => true,
            Self::Editor => matches!(
                permission,
                Permission::ReadDrafts
                    | Permission::WriteContent
                    | Permission::WriteObservations
                    | Permission::ReadHistory
            ),
        }
    }
}

text_enum! {
    /// What an API token may do. No scope lets a machine manage users, partners or
    /// tokens.
    pub enum Scope {
        /// Create, change and delete observations (a partner's: only its own, in its
        /// areas and metrics).
        ObservationsWrite = "observations:write",
        /// Read drafts, archived and scheduled content too: a frontend's preview.
        ContentRead = "content:read",
        /// Create, change and delete pages, impact metrics, funders, Council
        /// Decisions and contacts, and read drafts.
        ContentWrite = "content:write",
    }
}

impl Scope {
    pub fn grants(self, permission: Permission) -> bool {
        match self {
            Self::ObservationsWrite => permission == Permission::WriteObservations,
            Self::ContentRead => permission == Permission::ReadDrafts,
            Self::ContentWrite => {
                matches!(
                    permission,
                    Permission::WriteContent | Permission::ReadDrafts
                )
            }
        }
    }
}

/// What a partner's token may write: observations in these areas, of these
/// metrics (all, if `None`), and only those the partner wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartnerGrant {
    pub slug: String,
    pub name: String,
    pub areas: Vec<String>,
    pub metrics: Option<Vec<String>>,
}

/// Who made a request, as written records (who created an observation) name them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Identity {
    Anonymous,
    Person {
        username: String,
        role: Role,
    },
    Machine {
        token: Uuid,
        name: String,
        scopes: Vec<Scope>,
    },
    /// The service itself (loading the sample content), which may do anything.
    System(&'static str),
}

/// The caller of a request.
#[derive(Debug, Clone)]
pub struct Caller {
    pub identity: Identity,
    /// The partner a machine token is bound to.
    pub partner: Option<Arc<PartnerGrant>>,
}

impl Caller {
    pub const ANONYMOUS: Caller = Caller {
        identity: Identity::Anonymous,
        partner: None,
    };

    /// The service itself, doing `what`.
    pub const fn system(what: &'static str) -> Caller {
        Caller {
            identity: Identity::System(what),
            partner: None,
        }
    }

    pub fn may(&self, permission: Permission) -> bool {
        match &self.identity {
            Identity::Anonymous => false,
            Identity::Person { role, .. } => role.grants(permission),
            Identity::Machine { scopes, .. } => scopes.iter().any(|scope| scope.grants(permission)),
            Identity::System(_) => true,
        }
    }

    /// Whether the caller sees drafts, archived and scheduled items.
    pub fn sees_everything(&self) -> bool {
        self.may(Permission::ReadDrafts)
    }

    pub fn is_authenticated(&self) -> bool {
        self.identity != Identity::Anonymous
    }

    /// 401 without credentials, 403 naming the right when they do not grant it.
    pub fn require(&self, permission: Permission) -> AppResult<()> {
        if self.may(permission) {
            return Ok(());
        }
        let needs = permission.describe();
        Err(match &self.identity {
            Identity::Anonymous => AppError::Unauthorized {
                detail: "this needs a bearer token: POST /api/v1/auth/token to get one".to_owned(),
                invalid_token: false,
            },
            Identity::Person { role, .. } => AppError::Forbidden(format!(
                "this needs the right of {needs}, which the role {} does not have",
                role.as_str()
            )),
            Identity::System(_) => AppError::internal("the system may do anything"),
            Identity::Machine { .. } => AppError::Forbidden(match permission.scope() {
                Some(scope) => format!(
                    "this needs the right of {needs}: an API token needs the scope {}",
                    scope.as_str()
                ),
                None => format!("this needs the right of {needs}, which no API token has"),
            }),
        })
    }

    /// The caller as written records name it: `user:admin`, `token:<id>`.
    pub fn name(&self) -> String {
        match &self.identity {
            Identity::Anonymous => "anonymous".to_owned(),
            Identity::Person { username, .. } => format!("user:{username}"),
            Identity::Machine { token, .. } => format!("token:{token}"),
            Identity::System(name) => format!("system:{name}"),
        }
    }
}

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
                person(&db, claims.sub).await?
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
fn bearer_token(req: &HttpRequest) -> AppResult<Option<String>> {
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

/// A person: the user named by a verified JWT, with the role the database has now.
async fn person(db: &Db, username: String) -> AppResult<Caller> {
    let role = db
        .run(move |conn| {
            let role: Option<String> = users::table
                .filter(users::username.eq(&username))
                .select(users::role)
                .first(conn)
                .optional()?;
            Ok(role
                .and_then(|role| Role::parse(&role))
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
