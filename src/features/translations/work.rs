//! What a translator must do: `GET /api/v1/translations?locale=sq&state=missing`
//! (or `outdated`), per item and field, across every kind with translatable
//! fields, with where to write it and, for an outdated field, the diff of its
//! source since it was translated.

use actix_web::{HttpRequest, HttpResponse, web};
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Integer, Nullable, Text};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Type};
use utoipa::openapi::{Ref, Required};

use crate::content::KINDS;
use crate::platform::auth::{Caller, Permission};
use crate::platform::db::Db;
use crate::platform::error::{AppError, AppResult};
use crate::platform::http;
use crate::platform::locale::{Locales, canonical};
use crate::platform::openapi::problems::{BadParameter, Forbidden, NoToken, Unavailable};
use crate::platform::openapi::schemas::{comma_list, integer_query_up_to, query_param};
use crate::platform::openapi::{Answer, Doc, Security};
use crate::platform::query::{
    ListMeta, MAX_LIST_VALUES, MAX_PAGE, MAX_PER_PAGE, Paging, Params, page_and_total,
};

/// One field of one item that the locale lacks, or whose source has changed
/// since it was translated.
#[derive(Debug, Serialize, ToSchema, QueryableByName)]
#[schema(example = json!({"type": "page", "key": "who-we-are", "field": "summary",
    "state": "missing", "translation": "/api/v1/pages/who-we-are/translations/sq",
    "since_version": null, "diff": null}))]
pub struct Work {
    /// The kind of the item.
    #[diesel(sql_type = Text)]
    #[serde(rename = "type")]
    #[schema(rename = "type")]
    pub kind: String,
    /// The item's key.
    #[diesel(sql_type = Text)]
    pub key: String,
    /// The field.
    #[diesel(sql_type = Text)]
    pub field: String,
    /// `missing` or `outdated`.
    #[diesel(sql_type = Text)]
    pub state: String,
    /// Where the translation is written.
    #[diesel(sql_type = Text)]
    pub translation: String,
    /// For an outdated field: the item's version it was translated from.
    #[diesel(sql_type = Nullable<Integer>)]
    pub since_version: Option<i32>,
    /// For an outdated field: what changed in the item since (a JSON Patch).
    #[diesel(sql_type = Nullable<Text>)]
    pub diff: Option<String>,
    #[diesel(sql_type = BigInt)]
    #[serde(skip)]
    total: i64,
}

/// The SQL of one kind's work: each of its items' translatable fields that has a
/// value in the default locale and none in `$1`, or whose source differs from what
/// was translated. `$2` is the state asked for.
fn statement(kind: &crate::engine::Descriptor) -> String {
    let fields: Vec<String> = kind
        .spec
        .translatable()
        .map(|field| format!("'{}'", field.name))
        .collect();
    // Whether the item has the field, and whether the translation gives it: a text
    // not empty; for a list translated in place (a page's blocks), an object with
    // its text, and a text not empty.
    let (mut own, mut given) = (String::from("CASE f.field"), String::from("CASE f.field"));
    for field in kind.spec.translatable() {
        if let Some(key) = field.translated_in {
            own.push_str(&format!(
                " WHEN '{name}' THEN jsonb_path_exists(to_jsonb(t)->'{name}', '$[*].{key}')",
                name = field.name
            ));
            given.push_str(&format!(
                " WHEN '{name}' THEN coalesce(jsonb_path_exists(tr.fields->'{name}', \
                 '$[*] ? (@.type() == \"string\" && @ != \"\")'), false)",
                name = field.name
            ));
        }
    }
    let (own_text, given_text) = (
        "coalesce(to_jsonb(t)->>f.field, '') <> ''",
        "coalesce(tr.fields->>f.field, '') <> ''",
    );
    // A CASE needs a WHEN: a kind with text fields only tests them alone.
    let (own, given) = if kind.spec.translatable().any(|f| f.translated_in.is_some()) {
        (
            format!("{own} ELSE {own_text} END"),
            format!("{given} ELSE {given_text} END"),
        )
    } else {
        (own_text.to_owned(), given_text.to_owned())
    };
    format!(
        "SELECT '{kind}'::text AS kind, t.{key}::text AS key, f.field, \
                CASE WHEN NOT {given} THEN 'missing' ELSE 'outdated' END AS state, \
                '{path}/' || t.{key} || '/translations/' || $1 AS translation, \
                CASE WHEN {given} THEN tr.source_version END AS since_version, \
                CASE WHEN {given} THEN \
                    '{path}/' || t.{key} || '/revisions/' || tr.source_version || '/diff' END \
                    AS diff \
         FROM {table} t CROSS JOIN unnest(ARRAY[{fields}]) AS f(field) \
         LEFT JOIN translations tr \
                ON tr.kind = '{kind}' AND tr.item_id = t.id AND tr.locale = $1 \
         WHERE {own} \
           AND CASE WHEN NOT {given} THEN 'missing' \
                    WHEN (tr.source->f.field) IS DISTINCT FROM (to_jsonb(t)->f.field) \
                         THEN 'outdated' END = ANY($2)",
        kind = kind.kind,
        key = kind.key,
        path = kind.path,
        table = kind.table,
        fields = fields.join(", "),
    )
}

/// The kinds whose items have translations (top-level kinds with translatable
/// fields).
fn translatable_kinds() -> Vec<&'static str> {
    KINDS
        .iter()
        .map(|kind| kind.descriptor())
        .filter(|d| d.spec.translatable().next().is_some() && d.parent.is_none())
        .map(|d| d.kind)
        .collect()
}

/// `GET /api/v1/translations`.
pub async fn list_work(
    db: Db,
    caller: Caller,
    locales: web::Data<Locales>,
    req: HttpRequest,
) -> AppResult<HttpResponse> {
    caller.require(Permission::ReadDrafts)?;
    let mut params = Params::parse(req.query_string())?;
    let others = locales.translated();
    let locale = params
        .parsed("locale", |raw| {
            canonical(raw)
                .ok()
                .filter(|tag| others.contains(&tag.as_str()))
                .ok_or_else(|| format!("must be one of {}", others.join(", ")))
        })?
        .ok_or_else(|| {
            AppError::bad_request(
                "locale",
                format!("locale is required: one of {}", others.join(", ")),
            )
        })?;
    let states = params
        .choices("state", &["missing", "outdated"])?
        .unwrap_or_else(|| vec!["missing", "outdated"]);
    let translatable = translatable_kinds();
    let kinds = params
        .choices("type", &translatable)?
        .unwrap_or(translatable);
    let Paging { page, per_page } = params.paging()?;
    params.finish()?;
    let union: Vec<String> = KINDS
        .iter()
        .map(|kind| kind.descriptor())
        .filter(|d| kinds.contains(&d.kind))
        .map(statement)
        .collect();
    let sql = format!(
        "SELECT *, count(*) OVER () AS total FROM ({}) work \
         ORDER BY kind, key, field LIMIT $3 OFFSET $4",
        union.join(" UNION ALL ")
    );
    let states: Vec<String> = states.into_iter().map(str::to_owned).collect();
    let offset = (page - 1) * per_page;
    let (work, total) = db
        .run(move |conn| {
            Ok(page_and_total(
                per_page,
                offset,
                |work: &Work| work.total,
                |limit, offset| {
                    diesel::sql_query(&sql)
                        .bind::<Text, _>(&locale)
                        .bind::<Array<Text>, _>(&states)
                        .bind::<BigInt, _>(limit)
                        .bind::<BigInt, _>(offset)
                        .load::<Work>(conn)
                },
            )?)
        })
        .await?;
    let meta = ListMeta::of(page, per_page, total);
    Ok(http::read_page(&req, &caller, work, meta))
}

pub fn list_work_doc() -> Doc {
    let others: Vec<String> = Locales::default()
        .translated()
        .into_iter()
        .map(str::to_owned)
        .collect();
    let mut locale = query_param(
        "locale",
        "The locale to translate into (the values here are the default configuration's)",
        ObjectBuilder::new()
            .schema_type(Type::String)
            .enum_values(Some(others)),
    );
    locale.required = Required::True;
    let list = ObjectBuilder::new()
        .property(
            "data",
            ArrayBuilder::new().items(Ref::from_schema_name(Work::name())),
        )
        .required("data")
        .property("meta", Ref::from_schema_name(ListMeta::name()))
        .required("meta");
    Doc::new(
        "list_translation_work",
        "locales",
        "List what is to translate",
    )
    .describe(
        "Per item and field, across every kind with translatable fields: what the locale \
             lacks (`missing`: the item has a value, the translation none or an empty one) and \
             what is `outdated` (the item's value changed since it was translated, with the \
             JSON Patch of the item since that version in `diff`). Drafts included. Editors, \
             and tokens that read drafts (`translations:write` does).",
    )
    .security(Security::Needs(Permission::ReadDrafts))
    .params([
        locale,
        comma_list(
            "state",
            "Only these states, comma-separated (default both)",
            ["missing", "outdated"],
            2,
        ),
        comma_list(
            "type",
            "Only these types, comma-separated",
            translatable_kinds(),
            MAX_LIST_VALUES,
        ),
        integer_query_up_to("page", "Page number, from 1", MAX_PAGE),
        integer_query_up_to("per_page", "Items per page, default 20", MAX_PER_PAGE),
    ])
    .schema::<Work>()
    .schema::<ListMeta>()
    .answer(
        Answer::with_content(200, "A page of work", "application/json", list.into())
            .header("Link", "first, prev, next and last pages (RFC 8288)"),
    )
    .answer(Answer::not_modified())
    .problems::<(BadParameter, NoToken, Forbidden, Unavailable)>()
}
