//! Who is calling, and what they may do. Two kinds of credentials, one caller:
//!
//! - people log in and get a JWT (`jwt`); on every request the database says
//!   whether the user still exists and with which role, so deleting a user or
//!   changing a role takes effect on their next request;
//! - machines get an API token (`secrets`): scoped, expiring, revocable, and
//!   optionally bound to a partner, whose areas and metrics limit what it writes.
//!
//! Both become a `Caller` (`resolve`). Handlers ask it for a `Permission`; roles
//! and scopes are mapped to permissions here and nowhere else, so a new scope or a
//! new kind of token does not touch the handlers.

pub mod jwt;
mod resolve;
pub use resolve::bearer_token;
pub mod secrets;

use std::sync::Arc;

use uuid::Uuid;

pub use jwt::{JwtKeys, Role, TOKEN_LIFETIME};

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
    /// Write translations of content.
    WriteTranslations,
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
            Self::WriteTranslations => "writing translations",
        }
    }

    /// The scope that grants it to a token, if any does.
    pub fn scope(self) -> Option<Scope> {
        match self {
            Self::ReadDrafts => Some(Scope::ContentRead),
            Self::WriteContent => Some(Scope::ContentWrite),
            Self::WriteObservations => Some(Scope::ObservationsWrite),
            Self::WriteTranslations => Some(Scope::TranslationsWrite),
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
                    | Permission::WriteTranslations
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
        /// Decisions and contacts and their translations, and read drafts.
        ContentWrite = "content:write",
        /// Write translations of content, and read drafts (what is to be translated).
        TranslationsWrite = "translations:write",
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
                    Permission::WriteContent
                        | Permission::WriteTranslations
                        | Permission::ReadDrafts
                )
            }
            Self::TranslationsWrite => {
                matches!(
                    permission,
                    Permission::WriteTranslations | Permission::ReadDrafts
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

    /// What the caller may do now, as text that changes when its rights do: a
    /// person's role; a token's scopes and its partner's areas and metrics.
    pub fn rights(&self) -> String {
        let mut rights = match &self.identity {
            Identity::Anonymous => "anonymous".to_owned(),
            Identity::Person { role, .. } => format!("role:{}", role.as_str()),
            Identity::Machine { scopes, .. } => {
                let mut names: Vec<&str> = scopes.iter().map(|scope| scope.as_str()).collect();
                names.sort_unstable();
                format!("scopes:{}", names.join(","))
            }
            Identity::System(_) => "system".to_owned(),
        };
        if let Some(partner) = &self.partner {
            rights.push_str(&format!(
                ";partner:{};areas:{};metrics:{}",
                partner.slug,
                partner.areas.join(","),
                partner
                    .metrics
                    .as_ref()
                    .map_or_else(|| "*".to_owned(), |metrics| metrics.join(","))
            ));
        }
        rights
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
