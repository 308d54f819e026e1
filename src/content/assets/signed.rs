//! Signed URLs: an `<img>` sends no token, so an editor's preview of a draft
//! image reads its bytes through a URL that carries an expiry and a signature
//! (an HMAC of the path and the expiry, `JwtKeys::sign`), which anyone may read
//! until it expires, variants included.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};

use super::serve::{url_of, visible};
use crate::platform::auth::{Caller, JwtKeys, Permission};
use crate::platform::db::Db;
use crate::platform::error::AppResult;
use crate::platform::openapi::problems::{BadParameter, Forbidden, NoToken, NotFound, Unavailable};
use crate::platform::openapi::{Answer, Doc, Security};
use crate::platform::query::Params;

/// How long a signed URL lets anyone read a draft's bytes.
pub const SIGNED_FOR: i64 = 3600;

/// The query without `expires` and `signature`, and those two if both are there
/// (a signed URL's).
pub(super) fn signature_of(query: &str) -> (String, Option<(i64, String)>) {
    let (mut expires, mut signature, mut rest) = (None, None, Vec::new());
    for pair in query.split('&').filter(|pair| !pair.is_empty()) {
        match pair.split_once('=') {
            Some(("expires", value)) => expires = Some(value.parse::<i64>().unwrap_or(0)),
            Some(("signature", value)) => signature = Some(value.to_owned()),
            _ => rest.push(pair),
        }
    }
    let signed = match (expires, signature) {
        (Some(expires), Some(signature)) => Some((expires, signature)),
        (None, None) => None,
        // Half a signature signs nothing.
        (expires, _) => Some((expires.unwrap_or(0), String::new())),
    };
    (rest.join("&"), signed)
}

/// A URL of `asset`'s bytes that anyone may read for `SIGNED_FOR` seconds: for a
/// draft's image in an editor's preview, which an `<img>` asks for without a token.
pub async fn get_signed_url(
    db: Db,
    caller: Caller,
    req: HttpRequest,
    path: web::Path<String>,
    keys: web::Data<JwtKeys>,
) -> AppResult<HttpResponse> {
    caller.require(Permission::ReadDrafts)?;
    Params::none(req.query_string())?;
    let asset = visible(&db, &caller, path.into_inner(), false).await?;
    let url = url_of(&asset);
    let expires = chrono::Utc::now().timestamp() + SIGNED_FOR;
    let signature = keys.sign(&format!("{url}:{expires}"));
    let expires_at = chrono::DateTime::from_timestamp(expires, 0).unwrap_or_default();
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(SignedUrl {
            url: format!("{url}?expires={expires}&signature={signature}"),
            expires_at,
        }))
}

/// A signed URL of an asset's bytes.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct SignedUrl {
    /// The asset's `url`, signed: anyone may read it (and its variants: add their
    /// parameters) until `expires_at`.
    pub url: String,
    /// When it stops working (RFC 3339, UTC).
    pub expires_at: chrono::DateTime<chrono::Utc>,
}

pub fn get_signed_url_doc() -> Doc {
    Doc::new(
        "get_asset_signed_url",
        "assets",
        "Sign a URL of an asset's bytes",
    )
    .describe(
        "A URL of the asset's bytes that anyone may read for an hour, a draft's too: \
             for an editor's preview, whose `<img>` sends no token. Its variants are read \
             by adding their parameters to it. It names these bytes: a new upload is another \
             asset, with URLs of its own.",
    )
    .security(Security::Needs(
        crate::platform::auth::Permission::ReadDrafts,
    ))
    .path_param(
        "The asset's id",
        Some("5eed0000-0000-4000-8000-000000000901"),
    )
    .schema::<SignedUrl>()
    .answer(Answer::json(200, "The signed URL", "SignedUrl"))
    .problems::<(BadParameter, NoToken, Forbidden, NotFound, Unavailable)>()
}
