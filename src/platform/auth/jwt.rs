//! People's access tokens: JWTs (HS256, pinned), issued at login and verified on
//! every request. The token says who; the database says, on every request, whether
//! that user still exists and with which role (see `super::resolve`).

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, encode};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::platform::error::{AppError, AppResult};

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

/// The claims of an access token (RFC 7519), and the user's stamp when it was
/// issued: a token whose stamp is not the user's now no longer verifies.
#[derive(Debug, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub stamp: String,
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
    /// The key of signed URLs (`sign`), derived from the secret so that it is not
    /// the tokens' own.
    urls: Vec<u8>,
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
        let urls = {
            use sha2::Digest;
            let mut hash = sha2::Sha256::new();
            hash.update(b"seesac signed urls\0");
            hash.update(secret);
            hash.finalize().to_vec()
        };
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            urls,
        }
    }

    /// The signature of `message` (a URL's path and expiry), in hex: what a signed
    /// URL carries, for a reader who can send no token (an `<img>`).
    pub fn sign(&self, message: &str) -> String {
        use hmac::Mac;
        let Ok(mut mac) = hmac::Hmac::<sha2::Sha256>::new_from_slice(&self.urls) else {
            return String::new();
        };
        mac.update(message.as_bytes());
        crate::platform::hex::encode(&mac.finalize().into_bytes())
    }

    /// Whether `signature` is `message`'s, compared in constant time.
    pub fn signed(&self, message: &str, signature: &str) -> bool {
        use hmac::Mac;
        let Some(bytes) = (0..signature.len())
            .step_by(2)
            .map(|i| {
                signature
                    .get(i..i + 2)
                    .and_then(|pair| u8::from_str_radix(pair, 16).ok())
            })
            .collect::<Option<Vec<u8>>>()
        else {
            return false;
        };
        let Ok(mut mac) = hmac::Hmac::<sha2::Sha256>::new_from_slice(&self.urls) else {
            return false;
        };
        mac.update(message.as_bytes());
        mac.verify_slice(&bytes).is_ok()
    }

    pub fn issue(&self, subject: &str, stamp: &str, role: Role) -> AppResult<String> {
        let now = chrono::Utc::now().timestamp();
        let claims = Claims {
            sub: subject.to_owned(),
            stamp: stamp.to_owned(),
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

    /// A token this service could have issued: signed, current, and living no
    /// longer than the service issues tokens for (a longer one was not made here).
    pub fn verify(&self, token: &str) -> Result<Claims, jsonwebtoken::errors::Error> {
        let claims = decode::<Claims>(token, &self.decoding, &self.validation)?.claims;
        if claims.exp - claims.iat > TOKEN_LIFETIME {
            return Err(jsonwebtoken::errors::ErrorKind::InvalidToken.into());
        }
        Ok(claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";

    #[test]
    fn a_signature_is_the_messages_and_no_other() {
        let keys = JwtKeys::new(SECRET);
        let signature = keys.sign("/assets/a/b/c.png:1800000000");
        assert_eq!(signature.len(), 64);
        assert!(keys.signed("/assets/a/b/c.png:1800000000", &signature));
        assert!(!keys.signed("/assets/a/b/c.png:1800000001", &signature));
        assert!(!keys.signed("/assets/a/b/c.png:1800000000", &signature[..62]));
        assert!(!keys.signed("/assets/a/b/c.png:1800000000", "zz"));
        let other = JwtKeys::new(b"another secret of at least 32 bytes!");
        assert!(!other.signed("/assets/a/b/c.png:1800000000", &signature));
    }

    #[test]
    fn an_issued_token_verifies_and_keeps_its_claims() {
        let keys = JwtKeys::new(SECRET);
        let token = keys
            .issue("admin", "a-stamp", Role::Admin)
            .unwrap_or_default();
        let claims = keys.verify(&token).ok();
        assert_eq!(claims.as_ref().map(|c| c.sub.as_str()), Some("admin"));
        assert_eq!(claims.as_ref().map(|c| c.role), Some(Role::Admin));
        assert_eq!(claims.map(|c| c.exp - c.iat), Some(TOKEN_LIFETIME));
    }

    #[test]
    fn a_token_signed_with_another_secret_or_algorithm_is_refused() {
        let keys = JwtKeys::new(SECRET);
        let other = JwtKeys::new(b"another-secret-another-secret-xx");
        let token = other
            .issue("admin", "a-stamp", Role::Admin)
            .unwrap_or_default();
        assert!(keys.verify(&token).is_err());

        let now = chrono::Utc::now().timestamp();
        let claims = Claims {
            sub: "admin".into(),
            stamp: "a-stamp".into(),
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
