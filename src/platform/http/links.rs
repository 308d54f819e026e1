//! The `Link` header of a page of a list (RFC 8288): first, prev, next and last;
//! and the answer of a page, in the list envelope with its links.

use actix_web::http::header::{self, HeaderName};
use actix_web::{HttpRequest, HttpResponse};
use serde::Serialize;

use crate::platform::auth::Caller;
use crate::platform::query::{self, ListMeta};

/// The links, with every other parameter kept. They are relative references (RFC
/// 8288 allows them), so that a Host or X-Forwarded-Host header cannot steer the
/// links a shared cache hands to everyone.
pub fn link_header(req: &HttpRequest, page: i64, total_pages: i64) -> String {
    let base = req.path();
    let params: Vec<(String, String)> = query::Params::parse(req.query_string())
        .map(|mut params| params.remaining())
        .unwrap_or_default()
        .into_iter()
        .filter(|(key, _)| key != "page")
        .collect();
    let url = |page: i64| {
        let mut serializer = url::form_urlencoded::Serializer::new(String::new());
        for (key, value) in &params {
            serializer.append_pair(key, value);
        }
        serializer.append_pair("page", &page.to_string());
        format!("{base}?{}", serializer.finish())
    };
    let last = total_pages.max(1);
    let mut links = vec![format!("<{}>; rel=\"first\"", url(1))];
    if page > 1 {
        links.push(format!("<{}>; rel=\"prev\"", url((page - 1).min(last))));
    }
    if page < last {
        links.push(format!("<{}>; rel=\"next\"", url(page + 1)));
    }
    links.push(format!("<{}>; rel=\"last\"", url(last)));
    links.join(", ")
}

/// The `Link` header of the page `meta` describes.
pub fn page_links(req: &HttpRequest, meta: &ListMeta) -> (HeaderName, String) {
    (header::LINK, link_header(req, meta.page, meta.total_pages))
}

/// A page of a list as JSON, in the list envelope (`data` and `meta`), with its
/// `Link` header.
pub fn read_page(
    req: &HttpRequest,
    caller: &Caller,
    data: impl Serialize,
    meta: ListMeta,
) -> HttpResponse {
    read_page_in(req, caller, data, meta, &[])
}

/// `read_page`, with more headers (a list in a locale: its `Content-Language`).
pub fn read_page_in(
    req: &HttpRequest,
    caller: &Caller,
    data: impl Serialize,
    meta: ListMeta,
    extra: &[(actix_web::http::header::HeaderName, String)],
) -> HttpResponse {
    let link = page_links(req, &meta);
    let mut headers = vec![link];
    headers.extend_from_slice(extra);
    // Serialised where the items are: `json!` would copy every item into a new
    // tree first (a list of 20 pages is 49 KB of it).
    super::read(req, caller, &Envelope { data, meta }, &headers)
}

/// The list envelope: `{"data": [...], "meta": {...}}`.
#[derive(Serialize)]
struct Envelope<D, M> {
    data: D,
    meta: M,
}

/// An item's links, as items, search hits and webhook payloads carry them:
/// `{"self": "/api/v1/pages/mission"}`.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Links {
    /// Where the item lives in the API, relative to the server.
    #[serde(rename = "self")]
    #[schema(example = "/api/v1/pages/mission")]
    pub this: String,
}

impl Links {
    pub fn to(url: impl Into<String>) -> Self {
        Self { this: url.into() }
    }
}

/// Serialises a URL as `Links` to it, for a field loaded as text.
pub fn as_links<S: serde::Serializer>(url: &str, serializer: S) -> Result<S::Ok, S::Error> {
    serde::Serialize::serialize(&Links::to(url), serializer)
}
