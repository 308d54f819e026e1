//! Cross-resource full-text search, `GET /api/v1/search?q=`: the best hits among
//! the kinds whose descriptor says how a hit shows (pages, impact metrics, Council
//! Decisions, funders), ranked by relevance, each with a short highlighted snippet.
//! Visibility is the same as for every list.

use actix_web::{HttpRequest, HttpResponse};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Float4, Text};
use serde::Serialize;
use utoipa::ToSchema;

use utoipa::openapi::Required;
use utoipa::openapi::schema::{ObjectBuilder, Type};

use crate::content::KINDS;
use crate::engine::read::access_of;
use crate::platform::auth::Caller;
use crate::platform::db::Db;
use crate::platform::error::{AppError, AppResult};
use crate::platform::http;
use crate::platform::openapi::problems::{BadParameter, BadToken, Unavailable};
use crate::platform::openapi::schemas::{comma_list, integer_query_up_to, query_param};
use crate::platform::openapi::{Answer, Doc, Security};
use crate::platform::query::{
    ListMeta, MAX_LIST_VALUES, MAX_PAGE, MAX_PER_PAGE, MAX_SEARCH_CHARS, Paging, Params,
    page_and_total,
};
use crate::platform::validate::{NOT_BLANK, trim_blank};
use crate::platform::visibility::VISIBLE_SQL;

/// Marks around a match, replaced by `<mark>` once the snippet is HTML-escaped.
const START: char = '\u{2}';
const STOP: char = '\u{3}';

/// One search hit.
#[derive(Debug, QueryableByName, Serialize, ToSchema)]
#[schema(example = json!({"type": "page", "key": "mission", "title": "Mission",
    "snippet": "… to control and reduce the proliferation and misuse of <mark>small</mark> <mark>arms</mark> and light weapons …",
    "url": "/api/v1/pages/mission"}))]
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
    /// The item in the API.
    #[diesel(sql_type = Text)]
    pub url: String,
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

fn statement(kinds: &[&str], public_only: bool) -> String {
    let visible = if public_only {
        format!(" AND {VISIBLE_SQL}")
    } else {
        String::new()
    };
    let branches: Vec<String> = KINDS
        .iter()
        .map(|kind| kind.descriptor())
        .filter(|d| kinds.contains(&d.kind))
        .filter_map(|d| {
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
        })
        .collect();
    // The snippet is made only for the rows of the page, after the limit.
    format!(
        "WITH query AS (SELECT websearch_to_tsquery('english', $1) AS q) \
         SELECT kind, key, title, ts_headline('english', translate(doc, chr(2) || chr(3), ''), q, $2) AS snippet, \
                url, rank, total FROM ( \
             SELECT *, count(*) OVER () AS total FROM ({branches}) hits \
             ORDER BY rank DESC, kind, key LIMIT $3 OFFSET $4) page, query \
         ORDER BY rank DESC, kind, key",
        branches = branches.join(" UNION ALL ")
    )
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
            "Full-text search (PostgreSQL, English stemming, websearch syntax: words, \"phrases\", \
             OR, -word) over pages, impact metrics, Council Decisions and funders. Best hits first.",
        )
        .security(Security::Public)
        .params([
            q,
            type_param,
            integer_query_up_to("page", "Page number, from 1", MAX_PAGE),
            integer_query_up_to("per_page", "Hits per page, default 20", MAX_PER_PAGE),
        ])
        .schema::<Hit>()
        .schema::<ListMeta>()
        .schema::<SearchResults>()
        .answer(
            Answer::json(200, "The hits", "SearchResults")
                .header("ETag", "The answer's tag, for If-None-Match")
                .header("Link", "first, prev, next and last pages (RFC 8288)"),
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
    params.finish()?;
    let sql = statement(&kinds, access_of(&caller).public_only());
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
    Ok(http::read_page(&req, &caller, data, meta))
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
