//! Translations as stored, the item they translate, and a translation as the API
//! shows it.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Int4, Jsonb, Text, Timestamptz};
use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::engine::Descriptor;
use crate::platform::error::AppResult;

/// The item a translation belongs to: its id, its version and its own fields.
#[derive(QueryableByName)]
pub struct Item {
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    pub id: Uuid,
    #[diesel(sql_type = Int4)]
    pub version: i32,
    #[diesel(sql_type = Jsonb)]
    pub row: Value,
}

impl Item {
    /// The item of `kind` with `key`, locked against change while its translation
    /// is written (`lock`).
    pub fn find(
        conn: &mut PgConnection,
        kind: &Descriptor,
        key: &str,
        lock: bool,
    ) -> AppResult<Option<Self>> {
        let lock = if lock { " FOR SHARE" } else { "" };
        let sql = format!(
            "SELECT id, version, to_jsonb(t) AS row FROM {table} t WHERE {key} = $1{lock}",
            table = kind.table,
            key = kind.key,
        );
        // A kind keyed by its id (an asset) is found by the UUID, which a key
        // that is not one cannot name.
        if kind.key == "id" {
            let Ok(id) = uuid::Uuid::parse_str(key) else {
                return Ok(None);
            };
            return Ok(diesel::sql_query(sql)
                .bind::<diesel::sql_types::Uuid, _>(id)
                .get_result(conn)
                .optional()?);
        }
        Ok(diesel::sql_query(sql)
            .bind::<Text, _>(key)
            .get_result(conn)
            .optional()?)
    }

    /// Its own value of `field` (the source a translation translates).
    pub fn source(&self, kind: &Descriptor, field: &str) -> Value {
        let column = kind
            .spec
            .field(field)
            .map_or(field, |field| field.sql_column());
        self.row.get(column).cloned().unwrap_or(Value::Null)
    }
}

/// A translation row.
#[derive(QueryableByName, Clone)]
pub struct Stored {
    #[diesel(sql_type = Text)]
    pub locale: String,
    #[diesel(sql_type = Jsonb)]
    pub fields: Value,
    #[diesel(sql_type = Jsonb)]
    pub source: Value,
    #[diesel(sql_type = Int4)]
    pub source_version: i32,
    #[diesel(sql_type = Text)]
    pub status: String,
    #[diesel(sql_type = Int4)]
    pub version: i32,
    #[diesel(sql_type = Timestamptz)]
    pub created_at: DateTime<Utc>,
    #[diesel(sql_type = Timestamptz)]
    pub updated_at: DateTime<Utc>,
    #[diesel(sql_type = Text)]
    pub etag: String,
}

const COLUMNS: &str =
    "locale, fields, source, source_version, status, version, created_at, updated_at, etag";

impl Stored {
    /// The translations of an item, by locale; one locale's if `locale` is given.
    pub fn of(
        conn: &mut PgConnection,
        kind: &str,
        item: Uuid,
        locale: Option<&str>,
        lock: bool,
    ) -> AppResult<Vec<Self>> {
        let lock = if lock { " FOR UPDATE" } else { "" };
        Ok(diesel::sql_query(format!(
            "SELECT {COLUMNS} FROM translations WHERE kind = $1 AND item_id = $2 \
             AND ($3::text IS NULL OR locale = $3) ORDER BY locale{lock}"
        ))
        .bind::<Text, _>(kind)
        .bind::<diesel::sql_types::Uuid, _>(item)
        .bind::<diesel::sql_types::Nullable<Text>, _>(locale)
        .load(conn)?)
    }

    /// Writes a translation: the next version of the one there is, or a new one at
    /// version 1, or, if the item had one in this locale that was deleted, at that
    /// one's next version (its history goes on). Nothing is written if nothing
    /// changes.
    #[allow(clippy::too_many_arguments)]
    pub fn save(
        conn: &mut PgConnection,
        kind: &str,
        item: &Item,
        locale: &str,
        fields: &Map<String, Value>,
        source: &Map<String, Value>,
        status: &str,
        author: &str,
    ) -> AppResult<Self> {
        let saved: Option<Self> = diesel::sql_query(format!(
            "INSERT INTO translations AS t (kind, item_id, locale, fields, source, source_version, \
                 status, created_by, etag, version) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, seesac_new_etag(), 1 + coalesce(( \
                 SELECT max(c.version) FROM changes c WHERE c.type = $1 AND c.locale = $3 \
                    AND c.item ->> 'item_id' = $2::text), 0)) \
             ON CONFLICT (kind, item_id, locale) DO UPDATE SET \
                 fields = excluded.fields, source = excluded.source, \
                 source_version = excluded.source_version, status = excluded.status, \
                 version = t.version + 1, updated_at = now(), etag = excluded.etag \
             WHERE (t.fields, t.source, t.status) IS DISTINCT FROM \
                   (excluded.fields, excluded.source, excluded.status) \
             RETURNING {COLUMNS}"
        ))
        .bind::<Text, _>(kind)
        .bind::<diesel::sql_types::Uuid, _>(item.id)
        .bind::<Text, _>(locale)
        .bind::<Jsonb, _>(Value::Object(fields.clone()))
        .bind::<Jsonb, _>(Value::Object(source.clone()))
        .bind::<Int4, _>(item.version)
        .bind::<Text, _>(status)
        .bind::<Text, _>(author)
        .get_result::<Self>(conn)
        .optional()?;
        match saved {
            Some(saved) => Ok(saved),
            // Nothing changed: the translation as it is.
            None => Self::of(conn, kind, item.id, Some(locale), false)?
                .pop()
                .ok_or_else(|| crate::platform::error::AppError::internal("translation gone")),
        }
    }

    /// The translation as the API shows it, beside its item's own fields now.
    pub fn shown(&self, kind: &Descriptor, key: &str, item: &Item) -> Translation {
        let fields = match &self.fields {
            Value::Object(fields) => fields.clone(),
            _ => Map::new(),
        };
        let outdated = kind
            .spec
            .translatable()
            .filter(|field| fields.contains_key(field.name))
            .filter(|field| {
                self.source.get(field.name).unwrap_or(&Value::Null)
                    != &item.source(kind, field.name)
            })
            .map(|field| field.name.to_owned())
            .collect();
        Translation {
            key: key.to_owned(),
            locale: self.locale.clone(),
            status: self.status.clone(),
            fields,
            outdated,
            source_version: self.source_version,
            version: self.version,
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }
}

/// A translation of an item into one locale.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"key": "who-we-are", "locale": "sq", "status": "published",
    "fields": {"title": "Kush jemi ne"}, "outdated": [], "source_version": 3, "version": 1,
    "created_at": "2026-12-06T09:00:00Z", "updated_at": "2026-12-06T09:00:00Z"}))]
pub struct Translation {
    /// The item's key.
    pub key: String,
    /// The locale (BCP 47).
    pub locale: String,
    /// `draft` or `published`: readers see a published translation of an item they
    /// see.
    pub status: String,
    /// The translated fields (a page's `body` with its `body_html`).
    #[schema(value_type = Object)]
    pub fields: Map<String, Value>,
    /// The translated fields whose source (the item's own value) has changed since
    /// they were translated.
    pub outdated: Vec<String>,
    /// The item's version when the translation was last written.
    pub source_version: i32,
    /// The translation's own version.
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A translation at a version, as the change log keeps its row: what history and
/// the feed show of it.
pub fn kept(stored: &Value) -> Value {
    let field = |name: &str| stored.get(name).cloned().unwrap_or(Value::Null);
    serde_json::json!({
        "locale": field("locale"),
        "status": field("status"),
        "fields": field("fields"),
        "source_version": field("source_version"),
        "version": field("version"),
    })
}
