//! API tokens for machines, at `/api/v1/tokens`, managed by admins: create one
//! (its secret is shown once), list them (never their secrets), revoke one (its
//! next request is a 401). How a token is checked on use is in `auth`.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Months, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::engine::transaction::{self, Author};
use crate::platform::auth::{Caller, Permission, Scope, secrets};
use crate::platform::db::Db;
use crate::platform::db::schema::{api_tokens, partners};
use crate::platform::error::{AppError, AppResult};
use crate::platform::http;
use crate::platform::idempotency;
use crate::platform::openapi::problems::{
    AdminProblems, BadBody, BadParameter, Conflict, Invalid, NotFound, PayloadTooLarge,
    UnsupportedMediaType,
};
use crate::platform::openapi::{Answer, Doc, Security};
use crate::platform::query::{self, ListMeta};
use crate::platform::validate::{Check, Id, Slug, parse_timestamp};

/// An API token as admins see it: never its secret.
#[derive(Debug, Clone, Queryable, Selectable, Serialize, ToSchema)]
#[diesel(table_name = api_tokens, check_for_backend(diesel::pg::Pg))]
#[schema(example = json!({"id": "0d6c1b6e-9a7e-4a53-8f49-2c3e5f1b2a10",
    "name": "MoD Serbia figures sync", "partner": "mod-rs-gender", "scopes": ["observations:write"],
    "hint": "seesac_at_4fQz", "expires_at": "2027-06-30T00:00:00Z", "created_by": "user:admin",
    "created_at": "2026-11-29T09:00:00Z", "last_used_at": null, "revoked_at": null}))]
pub struct ApiToken {
    /// Its id: the key in the URL.
    pub id: Uuid,
    /// What it is for.
    pub name: String,
    /// The partner it writes for, or null.
    pub partner: Option<String>,
    /// What it may do.
    #[schema(value_type = Vec<Scope>)]
    pub scopes: Vec<String>,
    /// The start of its secret, to recognise it.
    pub hint: String,
    /// When it stops working.
    pub expires_at: DateTime<Utc>,
    /// Who created it.
    pub created_by: String,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it was last used (to the minute), or null.
    pub last_used_at: Option<DateTime<Utc>>,
    /// When it was revoked, or null.
    pub revoked_at: Option<DateTime<Utc>>,
}

/// A new token, as created: the only answer that shows its secret.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedToken {
    #[serde(flatten)]
    pub token: ApiToken,
    /// The secret: send it as `Authorization: Bearer <secret>`. It is shown this once
    /// and kept only as a hash.
    #[serde(rename = "token")]
    #[schema(example = "seesac_at_4fQz…")]
    pub secret: String,
}

/// The tokens, in the list envelope, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenList {
    /// Every token, revoked ones too.
    pub data: Vec<ApiToken>,
    /// Paging metadata: one page holds them all.
    pub meta: ListMeta,
}

/// A token to create.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "MoD Serbia figures sync", "partner": "mod-rs-gender",
    "scopes": ["observations:write"], "expires_at": "2027-06-30T00:00:00Z"}))]
pub struct NewToken {
    /// What it is for, at most 200 characters.
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\x00]*[^\x00 \t\n\r\x0b\x0c][^\x00]*$"
    )]
    pub name: Option<String>,
    /// The slug of the partner it writes observations for: they are then limited to
    /// the partner's areas and metrics, and to its own.
    #[schema(value_type = Option<Slug>)]
    pub partner: Option<String>,
    /// What it may do; a scope given twice counts once.
    #[schema(value_type = Option<Vec<Scope>>, min_items = 1, max_items = 10)]
    pub scopes: Option<Vec<String>>,
    /// When it stops working: in the future, at most a year ahead (RFC 3339).
    #[schema(value_type = Option<DateTime<Utc>>)]
    pub expires_at: Option<String>,
}

/// A new token, checked.
struct TokenInput {
    name: String,
    partner: Option<String>,
    scopes: Vec<String>,
    expires_at: DateTime<Utc>,
}

fn validate(body: NewToken) -> AppResult<TokenInput> {
    let mut check = Check::default();
    let name = check.text("name", body.name, 200);
    let partner = check
        .parsed("partner", body.partner, Slug::parse)
        .map(Slug::into_inner);
    let mut scopes: Vec<Scope> = Vec::new();
    match body.scopes {
        None => check.fail("scopes", crate::platform::validate::REQUIRED),
        Some(raw) if raw.is_empty() => check.fail("scopes", "must list at least one scope"),
        Some(raw) if raw.len() > 10 => check.fail("scopes", "may list at most 10 scopes"),
        Some(raw) => {
            for (i, scope) in raw.iter().enumerate() {
                // A set: a scope given twice counts once.
                match Scope::parse(scope) {
                    Ok(scope) if scopes.contains(&scope) => {}
                    Ok(scope) => scopes.push(scope),
                    Err(detail) => check.fail(&format!("scopes/{i}"), detail),
                }
            }
        }
    }
    let now = Utc::now();
    let expires_at = check.required("expires_at", body.expires_at, parse_timestamp);
    let latest = now.checked_add_months(Months::new(12)).unwrap_or(now);
    match expires_at {
        Some(at) if at <= now => check.fail("expires_at", "must be in the future"),
        Some(at) if at > latest => check.fail("expires_at", "must be at most a year ahead"),
        _ => {}
    }
    check.finish(TokenInput {
        name,
        partner,
        scopes: scopes
            .iter()
            .map(|scope| scope.as_str().to_owned())
            .collect(),
        expires_at: expires_at.unwrap_or(now),
    })
}

/// Stores a token with a new secret, which only the answer will show.
fn insert(conn: &mut PgConnection, input: TokenInput, creator: String) -> AppResult<CreatedToken> {
    if let Some(partner) = &input.partner {
        let exists: i64 = partners::table
            .filter(partners::slug.eq(partner))
            .count()
            .get_result(conn)?;
        if exists == 0 {
            return Err(AppError::conflict_at(
                "/partner",
                format!("there is no partner {partner}"),
            ));
        }
    }
    let secret = secrets::generate();
    let token = diesel::insert_into(api_tokens::table)
        .values((
            api_tokens::name.eq(&input.name),
            api_tokens::partner.eq(&input.partner),
            api_tokens::scopes.eq(&input.scopes),
            api_tokens::secret_hash.eq(secrets::hash(&secret)),
            api_tokens::hint.eq(secrets::hint(&secret)),
            api_tokens::expires_at.eq(input.expires_at),
            api_tokens::created_by.eq(creator),
        ))
        .returning(ApiToken::as_returning())
        .get_result(conn)?;
    Ok(CreatedToken { token, secret })
}

fn parse_id(raw: &str) -> AppResult<Uuid> {
    Uuid::parse_str(raw).map_err(|_| AppError::NotFound(format!("there is no token {raw}")))
}

pub async fn create_token(
    db: Db,
    caller: Caller,
    req: HttpRequest,
    payload: web::Payload,
) -> AppResult<HttpResponse> {
    caller.require(Permission::ManageTokens)?;
    query::Params::none(req.query_string())?;
    let body: NewToken = http::from_object(http::json_object(&req, payload).await?)?;
    let input = validate(body)?;
    let creator = caller.name();
    let author = Author::of(&caller, &req);
    let created =
        transaction::attributed(&db, author, move |conn| insert(conn, input, creator)).await?;
    let location = format!("/api/v1/tokens/{}", created.token.id);
    let body = serde_json::to_value(&created).map_err(AppError::internal)?;
    let mut response = http::written(StatusCode::CREATED, &body, Some(location));
    // The secret is shown once: not cached, not kept for an Idempotency-Key replay.
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    response.extensions_mut().insert(idempotency::ShownOnce);
    Ok(response)
}

pub async fn list_tokens(db: Db, caller: Caller, req: HttpRequest) -> AppResult<HttpResponse> {
    caller.require(Permission::ManageTokens)?;
    query::Params::none(req.query_string())?;
    let tokens: Vec<ApiToken> = db
        .run(|conn| {
            Ok(api_tokens::table
                .order((api_tokens::created_at.desc(), api_tokens::id))
                .select(ApiToken::as_select())
                .load(conn)?)
        })
        .await?;
    let total = tokens.len() as i64;
    let meta = ListMeta {
        page: 1,
        per_page: total.max(1),
        total,
        total_pages: 1,
    };
    let body =
        serde_json::to_value(TokenList { data: tokens, meta }).map_err(AppError::internal)?;
    Ok(http::read(&req, &caller, &body, &[]))
}

pub async fn get_token(
    db: Db,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<String>,
) -> AppResult<HttpResponse> {
    caller.require(Permission::ManageTokens)?;
    query::Params::none(req.query_string())?;
    let id = parse_id(&id)?;
    let token = db
        .run(move |conn| {
            api_tokens::table
                .find(id)
                .select(ApiToken::as_select())
                .first(conn)
                .optional()?
                .ok_or_else(|| AppError::NotFound(format!("there is no token {id}")))
        })
        .await?;
    let body = serde_json::to_value(token).map_err(AppError::internal)?;
    Ok(http::read(&req, &caller, &body, &[]))
}

/// Revokes a token: its next request is a 401. The row stays, for the record;
/// revoking it again changes nothing.
pub async fn revoke_token(
    db: Db,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<String>,
) -> AppResult<HttpResponse> {
    caller.require(Permission::ManageTokens)?;
    query::Params::none(req.query_string())?;
    let id = parse_id(&id)?;
    transaction::attributed(&db, Author::of(&caller, &req), move |conn| {
        let found = diesel::update(api_tokens::table.find(id))
            .set(api_tokens::revoked_at.eq(diesel::dsl::sql::<
                diesel::sql_types::Nullable<diesel::sql_types::Timestamptz>,
            >("coalesce(revoked_at, now())")))
            .execute(conn)?;
        if found == 0 {
            return Err(AppError::NotFound(format!("there is no token {id}")));
        }
        Ok(())
    })
    .await?;
    Ok(HttpResponse::NoContent()
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .finish())
}

pub fn create_token_doc() -> Doc {
    Doc::new("create_token", "tokens", "Create an API token")
        .describe(
            "An API token for a machine: a partner's sync job (bound to the partner, with \
             `observations:write`), a frontend's preview (`content:read`), a publishing job \
             (`content:write`). The answer is the only one that shows its secret, as `token`; \
             only a hash of it is kept. Admins only.",
        )
        .security(Security::Needs(Permission::ManageTokens))
        .json_body::<NewToken>(&["name", "scopes", "expires_at"])
        .schema::<Scope>()
        .schema::<ApiToken>()
        .schema::<CreatedToken>()
        .answer(
            Answer::json(
                201,
                "Created; the body shows the secret, once",
                "CreatedToken",
            )
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

pub fn list_tokens_doc() -> Doc {
    Doc::new("list_tokens", "tokens", "List API tokens")
        .describe("Every token, newest first, revoked ones too; never their secrets. Admins only.")
        .security(Security::Needs(Permission::ManageTokens))
        .schema::<TokenList>()
        .answer(Answer::json(200, "The tokens", "TokenList").header("ETag", "The answer's tag"))
        .answer(Answer::not_modified())
        .problems::<BadParameter>()
        .problems::<AdminProblems>()
}

pub fn get_token_doc() -> Doc {
    Doc::new("get_token", "tokens", "Read an API token")
        .describe("A token, without its secret. Admins only.")
        .security(Security::Needs(Permission::ManageTokens))
        .typed_path_param(
            "The token's id",
            None,
            <Id as utoipa::PartialSchema>::schema(),
        )
        .schema::<ApiToken>()
        .answer(Answer::json(200, "The token", "ApiToken").header("ETag", "Its tag"))
        .answer(Answer::not_modified())
        .problems::<(BadParameter, NotFound)>()
        .problems::<AdminProblems>()
}

pub fn revoke_token_doc() -> Doc {
    Doc::new("revoke_token", "tokens", "Revoke an API token")
        .describe(
            "The token's next request is a 401. It stays in the list, with `revoked_at`; \
             revoking it again changes nothing. Admins only.",
        )
        .security(Security::Needs(Permission::ManageTokens))
        .typed_path_param(
            "The token's id",
            None,
            <Id as utoipa::PartialSchema>::schema(),
        )
        .answer(Answer::empty(204, "Revoked"))
        .problems::<(BadParameter, NotFound)>()
        .problems::<AdminProblems>()
}
