//! Cross-resource full-text search, `GET /api/v1/search?q=`: the best hits among
//! the kinds whose descriptor says how a hit shows (pages, impact metrics, Council
//! Decisions, funders), ranked by relevance, each with a short highlighted snippet.
//! Visibility is the same as for every list.
//!
//! In the default locale (English) a search uses each table's stored, indexed
//! `search` vector. In another (`?locale=`, or `Accept-Language`), it searches
//! what the reader sees there: each field along the locale's chain, as a list in
//! that locale shows it, with the language's text-search configuration where
//! PostgreSQL has one and `simple` otherwise (`seesac_search_config`). That
//! vector is computed at query time, not indexed: a full scan of a few hundred
//! items, which the read cache then keeps.

use actix_web::{HttpRequest, HttpResponse};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Float4, Text};
use serde::Serialize;
use utoipa::ToSchema;

use utoipa::openapi::Required;
use utoipa::openapi::schema::{ObjectBuilder, Type};

use crate::content::KINDS;
use crate::engine::Descriptor;
use crate::engine::read::access_of;
use crate::platform::auth::Caller;
use crate::platform::db::Db;
use crate::platform::error::{AppError, AppResult};
use crate::platform::http;
use crate::platform::locale::{Locale, Locales};
use crate::platform::openapi::problems::{BadParameter, BadToken, Unavailable};
use crate::platform::openapi::schemas::{comma_list, header, integer_query_up_to, query_param};
use crate::platform::openapi::{Answer, Doc, Security};
use crate::platform::query::{
    ListMeta, Localised, MAX_LIST_VALUES, MAX_PAGE, MAX_PER_PAGE, MAX_SEARCH_CHARS, Paging, Params,
    page_and_total,
};
use crate::platform::validate::{NOT_BLANK, trim_blank};
use crate::platform::visibility::{Access, VISIBLE_SQL};

/// Marks around a match, replaced by `<mark>` once the snippet is HTML-escaped.
const START: char = '\u{2}';
const STOP: char = '\u{3}';

/// One search hit.
#[derive(Debug, QueryableByName, Serialize, ToSchema)]
#[schema(example = json!({"type": "page", "key": "mission", "title": "Mission",
    "snippet": "… to control and reduce the proliferation and misuse of <mark>small</mark> <mark>arms</mark> and light weapons …",
    "url": "/api/v1/pages/mission", "links": {"self": "/api/v1/pages/mission"}}))]
pub struct Hit {
    /// The kind of item: `page`, `impact_metric`, `council_decision`, `funder`.
    #[diesel(sql_type = Text)]
    #[serde(rename = "type")]
    pub kind: String,
    /// The item's key.
    #[diesel(sql_type = Text)]
    pub key: String,
    /// Its title.
    #[diesel(sql_type = Text)]
    pub title: String,
    /// HTML: a short passage around the matches, text escaped, matches in `<mark>`.
    #[diesel(sql_type = Text)]
    pub snippet: String,
    /// The item in the API (as `links.self`).
    #[diesel(sql_type = Text)]
    pub url: String,
    /// The item's links, as every item carries them.
    #[diesel(sql_type = Text)]
    #[serde(serialize_with = "crate::platform::http::as_links")]
    #[schema(value_type = crate::platform::http::Links)]
    pub links: String,
    #[diesel(sql_type = Float4)]
    #[serde(skip)]
    pub rank: f32,
    #[diesel(sql_type = BigInt)]
    #[serde(skip)]
    pub total: i64,
}

/// The hits of one page of a search.
#[derive(Serialize, ToSchema)]
pub struct SearchResults {
    /// The hits on this page, most relevant first.
    pub data: Vec<Hit>,
    /// Paging metadata.
    pub meta: ListMeta,
}

/// A locale other than the default, and the default it falls back to last.
type Other<'a> = (&'a Locale, &'a str);

/// The search of `kinds` by a caller with `access`, in `locale` if it is not the
/// default (`$5`, the locale's tag, then picks the configuration).
fn statement(kinds: &[&str], access: Access, locale: Option<Other<'_>>) -> String {
    let visible = if access.public_only() {
        format!(" AND {VISIBLE_SQL}")
    } else {
        String::new()
    };
    let branches: Vec<String> = KINDS
        .iter()
        .map(|kind| kind.descriptor())
        .filter(|d| kinds.contains(&d.kind))
        .filter_map(|d| match locale {
            None => stored_branch(d, &visible),
            Some(locale) => localised_branch(d, &visible, access, locale),
        })
        .collect();
    let config = match locale {
        None => "'english'::regconfig",
        Some(_) => "seesac_search_config($5)",
    };
    // The snippet is made only for the rows of the page, after the limit.
    format!(
        "WITH query AS (SELECT cfg, websearch_to_tsquery(cfg, $1) AS q FROM (SELECT {config} AS cfg) c) \
         SELECT kind, key, title, ts_headline(cfg, translate(doc, chr(2) || chr(3), ''), q, $2) AS snippet, \
                url, url AS links, rank, total FROM ( \
             SELECT *, count(*) OVER () AS total FROM ({branches}) hits \
             ORDER BY rank DESC, kind, key LIMIT $3 OFFSET $4) page, query \
         ORDER BY rank DESC, kind, key",
        branches = branches.join(" UNION ALL ")
    )
}

/// A kind's hits in the default locale: by its stored, indexed vector.
fn stored_branch(d: &Descriptor, visible: &str) -> Option<String> {
    let search = d.search.as_ref()?;
    Some(format!(
        "SELECT '{kind}'::text AS kind, {key}::text AS key, {title} AS title, {text} AS doc, \
         '{path}/' || {key} AS url, ts_rank_cd(search, q) AS rank \
         FROM {table}, query WHERE search @@ q{visible}",
        kind = d.kind,
        key = d.key,
        title = search.title,
        text = search.text,
        path = d.path,
        table = d.table,
    ))
}

/// A kind's hits in another locale: by the text its fields show there.
fn localised_branch(
    d: &Descriptor,
    visible: &str,
    access: Access,
    (locale, default): Other<'_>,
) -> Option<String> {
    let search = d.search.as_ref()?;
    let localised = Localised {
        kind: d.kind,
        table: d.table,
        chain: std::iter::once(&locale.tag)
            .chain(&locale.fallbacks)
            .cloned()
            .collect(),
        default: default.to_owned(),
        published_only: access.public_only(),
        search: None,
    };
    let title = match d.spec.field(search.title) {
        Some(field) if field.translatable.is_some() => field.sql_value_in(access, Some(&localised)),
        _ => search.title.to_owned(),
    };
    let doc = localised.document(d.spec, search.fields, access);
    Some(format!(
        "SELECT '{kind}'::text AS kind, {key}::text AS key, {title} AS title, found.doc, \
         '{path}/' || {key} AS url, ts_rank_cd(found.vector, query.q) AS rank \
         FROM {table} CROSS JOIN query CROSS JOIN LATERAL ( \
             SELECT text.doc, to_tsvector(query.cfg, text.doc) AS vector \
               FROM (SELECT {doc} AS doc) text) found \
         WHERE found.vector @@ query.q{visible}",
        kind = d.kind,
        key = d.key,
        path = d.path,
        table = d.table,
    ))
}

fn escape_and_mark(snippet: &str) -> String {
    let mut html = String::with_capacity(snippet.len() + 16);
    for c in snippet.chars() {
        match c {
            START => html.push_str("<mark>"),
            STOP => html.push_str("</mark>"),
            '<' => html.push_str("&lt;"),
            '>' => html.push_str("&gt;"),
            '&' => html.push_str("&amp;"),
            '"' => html.push_str("&quot;"),
            '\'' => html.push_str("&#39;"),
            '\n' => html.push(' '),
            c => html.push(c),
        }
    }
    html
}

/// The kinds of items a search finds, for `type=`: those whose descriptor says how
/// a hit shows.
fn kinds() -> Vec<&'static str> {
    KINDS
        .iter()
        .map(|kind| kind.descriptor())
        .filter(|d| d.search.is_some())
        .map(|d| d.kind)
        .collect()
}

pub fn search_doc() -> Doc {
    let type_param = comma_list(
        "type",
        "Only these types, comma-separated",
        kinds(),
        MAX_LIST_VALUES,
    );
    let mut q = query_param(
        "q",
        &format!("What to look for, at most {MAX_SEARCH_CHARS} characters"),
        ObjectBuilder::new()
            .schema_type(Type::String)
            .min_length(Some(1))
            .max_length(Some(MAX_SEARCH_CHARS))
            .pattern(Some(NOT_BLANK)),
    );
    q.required = Required::True;
    Doc::new("search", "search", "Search all content")
        .describe(
            "Full-text search (PostgreSQL, websearch syntax: words, \"phrases\", OR, -word) over \
             pages, impact metrics, Council Decisions and funders. Best hits first. In English \
             (the default locale) with English stemming; in another locale (`locale`, or \
             `Accept-Language`) over what a reader sees there, each field along the locale's \
             chain, with the language's stemming where PostgreSQL has it (Romanian, Serbian) \
             and none otherwise.",
        )
        .security(Security::Public)
        .params([
            q,
            type_param,
            integer_query_up_to("page", "Page number, from 1", MAX_PAGE),
            integer_query_up_to("per_page", "Hits per page, default 20", MAX_PER_PAGE),
            query_param(
                "locale",
                "Search what readers see in this locale (GET /api/v1/locales lists those \
                 enabled; the values here are the default configuration's); it wins over \
                 `Accept-Language`. One that is not enabled is a 400.",
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .enum_values(Some(
                        Locales::default()
                            .all()
                            .iter()
                            .map(|locale| locale.tag.clone()),
                    )),
            ),
            header(
                "Accept-Language",
                "The locales the reader prefers, with quality values; `locale` wins.",
                ObjectBuilder::new().schema_type(Type::String),
            ),
        ])
        .schema::<Hit>()
        .schema::<ListMeta>()
        .schema::<SearchResults>()
        .answer(
            Answer::json(200, "The hits", "SearchResults")
                .header("ETag", "The answer's tag, for If-None-Match")
                .header("Link", "first, prev, next and last pages (RFC 8288)")
                .header(
                    "Content-Language",
                    "The locale searched, when the request named one",
                ),
        )
        .answer(Answer::not_modified())
        .problems::<(BadParameter, BadToken, Unavailable)>()
}

pub async fn search(db: Db, caller: Caller, req: HttpRequest) -> AppResult<HttpResponse> {
    let mut params = Params::parse(req.query_string())?;
    let q = params
        .parsed("q", |raw| {
            let q = trim_blank(raw);
            if q.is_empty() || raw.chars().count() > MAX_SEARCH_CHARS {
                Err(format!("must be 1 to {MAX_SEARCH_CHARS} characters"))
            } else {
                Ok(q.to_owned())
            }
        })?
        .ok_or_else(|| AppError::bad_request("q", "q is required: what to search for"))?;
    let searchable = kinds();
    let kinds = params.choices("type", &searchable)?.unwrap_or(searchable);
    let Paging { page, per_page } = params.paging()?;
    let asked = params.take("locale");
    params.finish()?;
    let locales = Locales::of(&req);
    let accept = req
        .headers()
        .get(actix_web::http::header::ACCEPT_LANGUAGE)
        .and_then(|value| value.to_str().ok());
    let locale = locales
        .negotiate(asked.as_deref(), accept)
        .map_err(|detail| AppError::bad_request("locale", detail))?
        .clone();
    let language = (asked.is_some() || accept.is_some()).then(|| {
        (
            actix_web::http::header::CONTENT_LANGUAGE,
            locale.tag.clone(),
        )
    });
    let default = locales.default_locale().tag.clone();
    let other = (!locale.default).then_some((&locale, default.as_str()));
    let sql = statement(&kinds, access_of(&caller), other);
    let tag = locale.tag.clone();
    let options = format!(
        "StartSel={START}, StopSel={STOP}, MaxWords=25, MinWords=10, MaxFragments=1, FragmentDelimiter=\" … \""
    );
    let offset = (page - 1) * per_page;
    let (hits, total) = db
        .run(move |conn| {
            Ok(page_and_total(
                per_page,
                offset,
                |hit: &Hit| hit.total,
                |limit, offset| {
                    diesel::sql_query(&sql)
                        .bind::<Text, _>(&q)
                        .bind::<Text, _>(&options)
                        .bind::<BigInt, _>(limit)
                        .bind::<BigInt, _>(offset)
                        .bind::<Text, _>(&tag)
                        .load(conn)
                },
            )?)
        })
        .await?;
    let data: Vec<Hit> = hits
        .into_iter()
        .map(|hit| Hit {
            snippet: escape_and_mark(&hit.snippet),
            ..hit
        })
        .collect();
    let meta = ListMeta::of(page, per_page, total);
    Ok(http::read_page_in(
        &req,
        &caller,
        data,
        meta,
        language.as_slice(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snippets_are_escaped_before_they_are_marked() {
        assert_eq!(
            escape_and_mark("a <script> \u{2}arms\u{3} & \"x\""),
            "a &lt;script&gt; <mark>arms</mark> &amp; &quot;x&quot;"
        );
    }
}
