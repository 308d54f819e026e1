//! API tokens for machines, at `/api/v1/tokens`, managed by admins: a resource on
//! the engine. Creating one shows its secret, once; lists and reads never do.
//! Deleting one revokes it: its next request is a 401, and the row stays for the
//! record. How a token is checked on use is in `platform::auth`.

use chrono::{DateTime, Months, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::engine::{
    Descriptor, Events, Operations, Resource, Save, Tag, Target, WriteContext, stored,
    table_resource,
};
use crate::platform::auth::{Permission, Scope, secrets};
use crate::platform::db::schema::{api_tokens, partners};
use crate::platform::error::{AppResult, FieldError, codes};
use crate::platform::query::{Dir, Field, Kind, ListSpec};
use crate::platform::validate::{Check, Id, Name, Slug, parse_timestamp};

/// An API token as admins see it: never its secret.
#[derive(Debug, Clone, Queryable, Selectable, Serialize, ToSchema)]
#[diesel(table_name = api_tokens, check_for_backend(diesel::pg::Pg))]
#[schema(example = json!({"id": "0d6c1b6e-9a7e-4a53-8f49-2c3e5f1b2a10",
    "name": "MoD Serbia figures sync", "partner": "mod-rs-gender", "scopes": ["observations:write"],
    "hint": "seesac_at_4fQz", "expires_at": "2027-06-30T00:00:00Z", "created_by": "user:admin",
    "created_at": "2026-11-29T09:00:00Z", "last_used_at": null, "revoked_at": null, "version": 1,
    "updated_at": "2026-11-29T09:00:00Z"}))]
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
    /// Read-only: 1 at creation, one more on every change (a revocation).
    pub version: i32,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
    #[serde(skip)]
    pub etag: String,
}

/// A token to create.
#[derive(Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "MoD Serbia figures sync", "partner": "mod-rs-gender",
    "scopes": ["observations:write"], "expires_at": "2027-06-30T00:00:00Z"}))]
pub struct NewToken {
    /// What it is for, at most 200 characters.
    #[schema(value_type = Option<Name>)]
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

/// A new token, checked, with its secret.
#[derive(Debug)]
pub struct TokenInput {
    name: String,
    partner: Option<String>,
    scopes: Vec<String>,
    expires_at: DateTime<Utc>,
    secret: String,
}

fn check_token(body: NewToken) -> AppResult<TokenInput> {
    let mut check = Check::default();
    let name = check.text("name", body.name, Name::MAX);
    let partner = check.parsed_text("partner", body.partner, Slug::parse);
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
        secret: secrets::generate(),
    })
}

const FIELDS: &[Field] = &[
    Field::new("name", Kind::Text).ordered(),
    Field::new("partner", Kind::Text).ordered().nullable(),
    Field::new("scopes", Kind::Text),
    Field::new("hint", Kind::Text),
    Field::new("expires_at", Kind::Timestamp).ordered(),
    Field::new("created_by", Kind::Text).filterable(),
    Field::new("last_used_at", Kind::Timestamp)
        .ordered()
        .nullable(),
    Field::new("revoked_at", Kind::Timestamp)
        .ordered()
        .nullable(),
];

pub struct Tokens;

stored!(ApiToken, key: id);

impl Resource for Tokens {
    const DESCRIPTOR: &'static Descriptor = &Descriptor {
        name: "token",
        plural: "tokens",
        kind: "api_token",
        table: "api_tokens",
        path: "/api/v1/tokens",
        key: "id",
        key_description: "The token's id",
        key_example: "0d6c1b6e-9a7e-4a53-8f49-2c3e5f1b2a10",
        tag: Tag {
            name: "tokens",
            description: "API tokens for machines: scoped, expiring, revocable (admins only)",
        },
        spec: &ListSpec::records(FIELDS, &[("created_at", Dir::Desc)], "id"),
        read: Some(Permission::ManageTokens),
        write: Permission::ManageTokens,
        events: Events::None,
        operations: Operations {
            replace: false,
            update: false,
            ..Operations::ALL
        },
        shown_once: Some((
            "token",
            "The secret: send it as `Authorization: Bearer <secret>`. It is shown this once \
             and kept only as a hash.",
        )),
        delete_does: Some(
            "Revokes the token: its next request is a 401. It stays in the list, with \
             `revoked_at`; revoking it again changes nothing.",
        ),
        ..Descriptor::DEFAULT
    };

    table_resource!(
        table: api_tokens, key: id as Id, row: ApiToken, body: NewToken, input: TokenInput
    );

    fn validate(body: NewToken, _: Target<'_, ApiToken>) -> AppResult<TokenInput> {
        check_token(body)
    }

    fn shown_once(input: &TokenInput) -> Option<String> {
        Some(input.secret.clone())
    }

    /// Stores the token's hash; the secret goes only into the creating answer.
    fn save(conn: &mut PgConnection, save: Save<'_, Self>) -> AppResult<ApiToken> {
        let Save { input, context, .. } = save;
        if let Some(partner) = &input.partner {
            let exists: i64 = partners::table
                .filter(partners::slug.eq(partner))
                .count()
                .get_result(conn)?;
            if exists == 0 {
                return Err(FieldError::coded(
                    codes::UNKNOWN_REFERENCE,
                    "/partner",
                    format!("there is no partner {partner}"),
                )
                .into());
            }
        }
        Ok(diesel::insert_into(api_tokens::table)
            .values((
                api_tokens::name.eq(&input.name),
                api_tokens::partner.eq(&input.partner),
                api_tokens::scopes.eq(&input.scopes),
                api_tokens::secret_hash.eq(secrets::hash(&input.secret)),
                api_tokens::hint.eq(secrets::hint(&input.secret)),
                api_tokens::expires_at.eq(input.expires_at),
                api_tokens::created_by.eq(context.caller.name()),
            ))
            .returning(ApiToken::as_returning())
            .get_result(conn)?)
    }

    /// Revokes: the row stays, for the record; revoking again changes nothing.
    fn delete(conn: &mut PgConnection, row: &ApiToken, _: bool, _: &WriteContext) -> AppResult<()> {
        diesel::update(api_tokens::table.find(row.id))
            .set(api_tokens::revoked_at.eq(row.revoked_at.unwrap_or_else(Utc::now)))
            .execute(conn)?;
        Ok(())
    }
}
