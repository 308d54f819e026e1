//! Who is calling. JWTs (HS256, pinned) are issued and verified here, and the
//! `Caller` extractor turns the `Authorization` header into the caller's identity.
//! A partner token will be one more way to produce a `Principal`.

use std::future::{Ready, ready};

use actix_web::{FromRequest, HttpRequest, dev::Payload, http::header, web};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, encode};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::{AppError, AppResult};

pub const ISSUER: &str = "seesac-api";
pub const AUDIENCE: &str = "seesac-api";
/// Seconds a token is valid.
pub const TOKEN_LIFETIME: i64 = 3600;

/// What a caller may be allowed to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Everything, including users.
    Admin,
    /// All content.
    Editor,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::Editor => "editor",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "admin" => Some(Self::Admin),
            "editor" => Some(Self::Editor),
            _ => None,
        }
    }
}

/// The claims of an access token (RFC 7519).
#[derive(Debug, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub role: Role,
    pub iss: String,
    pub aud: String,
    pub iat: i64,
    pub nbf: i64,
    pub exp: i64,
    pub jti: String,
}

/// Signing and verification keys, with the validation rules pinned once.
#[derive(Clone)]
pub struct JwtKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
}

impl JwtKeys {
    pub fn new(secret: &[u8]) -> Self {
        // Only HS256 is accepted, whatever a token's header says (RFC 8725 section 3.1).
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "nbf", "iss", "aud", "sub"]);
        validation.validate_nbf = true;
        validation.leeway = 30;
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
        }
    }

    pub fn issue(&self, subject: &str, role: Role) -> AppResult<String> {
        let now = chrono::Utc::now().timestamp();
        let claims = Claims {
            sub: subject.to_owned(),
            role,
            iss: ISSUER.to_owned(),
            aud: AUDIENCE.to_owned(),
            iat: now,
            nbf: now,
            exp: now + TOKEN_LIFETIME,
            jti: uuid::Uuid::new_v4().to_string(),
        };
        encode(&Header::new(Algorithm::HS256), &claims, &self.encoding).map_err(AppError::internal)
    }

    pub fn verify(&self, token: &str) -> Result<Claims, jsonwebtoken::errors::Error> {
        decode::<Claims>(token, &self.decoding, &self.validation).map(|data| data.claims)
    }
}

/// An authenticated caller.
#[derive(Debug, Clone)]
pub struct Principal {
    pub subject: String,
    pub role: Role,
    /// The token's `jti`, for the audit log to come.
    pub token_id: String,
}

/// What a request may ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    /// Create, change and delete content; see drafts.
    EditContent,
    /// Manage user accounts.
    ManageUsers,
}

impl Principal {
    pub fn may(&self, permission: Permission) -> bool {
        match permission {
            Permission::EditContent => matches!(self.role, Role::Admin | Role::Editor),
            Permission::ManageUsers => self.role == Role::Admin,
        }
    }
}

/// The caller of a request: anonymous, or who its bearer token says.
#[derive(Debug, Clone)]
pub enum Caller {
    Anonymous,
    Authenticated(Principal),
}

impl Caller {
    /// Whether the caller sees drafts, archived and scheduled items.
    pub fn sees_everything(&self) -> bool {
        matches!(self, Self::Authenticated(principal) if principal.may(Permission::EditContent))
    }

    pub fn is_authenticated(&self) -> bool {
        matches!(self, Self::Authenticated(_))
    }

    /// 401 without a token, 403 with a token whose role may not.
    pub fn require(&self, permission: Permission) -> AppResult<&Principal> {
        match self {
            Self::Anonymous => Err(AppError::Unauthorized {
                detail: "this needs a bearer token: POST /api/v1/auth/token to get one".to_owned(),
                invalid_token: false,
            }),
            Self::Authenticated(principal) if principal.may(permission) => Ok(principal),
            Self::Authenticated(principal) => Err(AppError::Forbidden(format!(
                "the role {} may not do this",
                principal.role.as_str()
            ))),
        }
    }
}

impl FromRequest for Caller {
    type Error = AppError;
    type Future = Ready<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(caller_of(req))
    }
}

fn caller_of(req: &HttpRequest) -> AppResult<Caller> {
    let Some(value) = req.headers().get(header::AUTHORIZATION) else {
        return Ok(Caller::Anonymous);
    };
    let invalid = |detail: &str| AppError::Unauthorized {
        detail: detail.to_owned(),
        invalid_token: true,
    };
    let value = value
        .to_str()
        .map_err(|_| invalid("the Authorization header is not readable"))?;
    let token = match value.split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => token.trim(),
        _ => return Err(invalid("the Authorization header must be `Bearer <token>`")),
    };
    let keys = req
        .app_data::<web::Data<JwtKeys>>()
        .ok_or_else(|| AppError::internal("no JWT keys registered"))?;
    let claims = keys.verify(token).map_err(|error| {
        use jsonwebtoken::errors::ErrorKind;
        match error.kind() {
            ErrorKind::ExpiredSignature => invalid("the token has expired"),
            ErrorKind::ImmatureSignature => invalid("the token is not valid yet"),
            _ => invalid("the token is not valid"),
        }
    })?;
    Ok(Caller::Authenticated(Principal {
        subject: claims.sub,
        role: claims.role,
        token_id: claims.jti,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";

    #[test]
    fn an_issued_token_verifies_and_keeps_its_claims() {
        let keys = JwtKeys::new(SECRET);
        let token = keys.issue("admin", Role::Admin).unwrap_or_default();
        let claims = keys.verify(&token).ok();
        assert_eq!(claims.as_ref().map(|c| c.sub.as_str()), Some("admin"));
        assert_eq!(claims.as_ref().map(|c| c.role), Some(Role::Admin));
        assert_eq!(claims.map(|c| c.exp - c.iat), Some(TOKEN_LIFETIME));
    }

    #[test]
    fn a_token_signed_with_another_secret_or_algorithm_is_refused() {
        let keys = JwtKeys::new(SECRET);
        let other = JwtKeys::new(b"another-secret-another-secret-xx");
        let token = other.issue("admin", Role::Admin).unwrap_or_default();
        assert!(keys.verify(&token).is_err());

        let now = chrono::Utc::now().timestamp();
        let claims = Claims {
            sub: "admin".into(),
            role: Role::Admin,
            iss: ISSUER.into(),
            aud: AUDIENCE.into(),
            iat: now,
            nbf: now,
            exp: now + 60,
            jti: "x".into(),
        };
        let hs512 = encode(
            &Header::new(Algorithm::HS512),
            &claims,
            &EncodingKey::from_secret(SECRET),
        );
        assert!(keys.verify(&hs512.unwrap_or_default()).is_err());
    }
}
