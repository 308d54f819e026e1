//! The read cache: anonymous answers to content reads, kept as the finished bytes
//! with their ETag, so that a hit (and its 304) costs no database round trip, no
//! serialising and no hashing.
//!
//! What it keeps: `200` answers to GET on the routes the table marks `get_cached`,
//! for callers without `Authorization` (a caller with a token always reaches the
//! database), keyed by path, query (its parameters in a stable order) and JSON or
//! CSV. It is bounded in bytes (`SEESAC_READ_CACHE_BYTES`).
//!
//! How it stays true, on every instance:
//! - **Any change empties it.** Embeddings and derived fields cross resources (a
//!   parent's `children`, a metric's `latest`, a decision's `line` and
//!   `superseded_by`, a decision's funder, search, every list), so a change to
//!   content drops every answer rather than guess which ones it touched.
//! - **The writer's own instance** empties it after a write's transaction and
//!   before its answer leaves (`invalidate_after_writes`): the writer reads its write.
//! - **Every other instance** hears of the change from PostgreSQL: triggers on the
//!   content tables `NOTIFY seesac_content` inside the writing transaction, whoever
//!   wrote (the service, a command line, psql), and `listen` empties the cache within
//!   its polling interval of the commit.
//! - **The cache is closed** (every read goes to the database) while the listening
//!   connection is down, and opens again only once it is back and the cache is
//!   empty; it also closes at the next scheduled publication, and opens again
//!   empty.
//! - **A read that raced a change is not kept**: each answer is kept under the
//!   generation the cache had when the read began, and served only while that is
//!   still the cache's generation.

pub mod listen;

use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{Method, StatusCode, header};
use actix_web::middleware::Next;
use actix_web::web::{self, Bytes};
use actix_web::{HttpRequest, HttpResponse};
use prometheus_client::metrics::counter::Counter;

use crate::platform::http::conditional::none_match;
use crate::platform::http::csv;
use crate::platform::locale::Locales;

/// How long the cache stays open when no publication is scheduled: until the next
/// change, in practice (the listener asks again every few seconds).
const UNTIL_CHANGED: Duration = Duration::from_secs(365 * 24 * 3600);

/// One kept answer.
#[derive(Debug)]
pub struct Entry {
    generation: u64,
    etag: String,
    headers: Vec<(header::HeaderName, header::HeaderValue)>,
    body: Bytes,
}

impl Entry {
    /// What it costs to keep: the bytes it holds and a little for the entry itself.
    fn weight(&self, key: &str) -> u64 {
        let headers: usize = self
            .headers
            .iter()
            .map(|(name, value)| name.as_str().len() + value.len())
            .sum();
        (key.len() + headers + self.body.len() + self.etag.len() + 128) as u64
    }

    /// The answer to a request for it: 304 if `If-None-Match` names it, else 200.
    fn answer(&self, if_none_match: Option<&str>) -> HttpResponse {
        let unchanged = none_match(if_none_match, &self.etag);
        let mut response = HttpResponse::build(if unchanged {
            StatusCode::NOT_MODIFIED
        } else {
            StatusCode::OK
        });
        for (name, value) in &self.headers {
            if !(unchanged && name == header::CONTENT_TYPE) {
                response.insert_header((name.clone(), value.clone()));
            }
        }
        if unchanged {
            response.finish()
        } else {
            response.body(self.body.clone())
        }
    }
}

#[derive(Clone)]
struct Weight;

impl quick_cache::Weighter<String, Arc<Entry>> for Weight {
    fn weight(&self, key: &String, entry: &Arc<Entry>) -> u64 {
        entry.weight(key)
    }
}

/// Whether answers may be served and kept, and under which generation.
#[derive(Debug)]
struct Window {
    /// Moves on every change; an answer is served only under its own.
    generation: u64,
    /// Open until then; `None`: closed.
    open_until: Option<Instant>,
}

/// What the cache did, for the metrics (`observe`).
#[derive(Debug, Default)]
pub struct CacheCounters {
    /// Anonymous reads answered from the cache.
    pub hits: Counter,
    /// Anonymous reads that went to the database (the cache was closed, or had no
    /// answer for them).
    pub misses: Counter,
    /// Times the cache was emptied: a change, a publication, a lost listener.
    pub emptied: Counter,
}

/// The cache of one instance, shared by its workers.
pub struct ReadCache {
    pub counters: CacheCounters,
    entries: Option<quick_cache::sync::Cache<String, Arc<Entry>, Weight>>,
    window: Mutex<Window>,
    /// Wakes the listener when the cache closes, so that it opens it again soon.
    closed: Condvar,
}

impl std::fmt::Debug for ReadCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReadCache")
            .field("window", &self.window)
            .finish_non_exhaustive()
    }
}

impl ReadCache {
    /// A closed cache of at most `bytes`; 0 keeps nothing, ever. It opens once
    /// `listen` is listening.
    pub fn new(bytes: u64) -> Self {
        let entries = (bytes > 0).then(|| {
            // quick_cache sizes its table from an estimate of the entries: answers
            // of about 4 KB.
            let estimate = usize::try_from(bytes / 4096).unwrap_or(usize::MAX).max(16);
            quick_cache::sync::Cache::with_weighter(estimate, bytes, Weight)
        });
        Self {
            counters: CacheCounters::default(),
            entries,
            window: Mutex::new(Window {
                generation: 0,
                open_until: None,
            }),
            closed: Condvar::new(),
        }
    }

    pub fn enabled(&self) -> bool {
        self.entries.is_some()
    }

    /// Whether answers are served and kept now.
    pub fn is_open(&self) -> bool {
        self.ticket().is_some()
    }

    /// The bytes its answers weigh now.
    pub fn bytes(&self) -> u64 {
        self.entries.as_ref().map_or(0, |entries| entries.weight())
    }

    fn window(&self) -> MutexGuard<'_, Window> {
        self.window.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The generation a read may keep its answer under, if the cache is open.
    fn ticket(&self) -> Option<u64> {
        let window = self.window();
        window
            .open_until
            .filter(|until| Instant::now() < *until)
            .map(|_| window.generation)
    }

    fn get(&self, key: &str) -> Option<Arc<Entry>> {
        let generation = self.ticket()?;
        self.entries
            .as_ref()?
            .get(key)
            .filter(|entry| entry.generation == generation)
    }

    fn put(&self, key: String, entry: Entry) {
        // A change since the read began makes the answer unusable; it would never
        // be served, so it is not kept either.
        if let Some(entries) = &self.entries
            && self.ticket() == Some(entry.generation)
        {
            entries.insert(key, Arc::new(entry));
        }
    }

    /// Drops every answer and closes the cache until the listener opens it again.
    pub fn invalidate(&self) {
        {
            let mut window = self.window();
            window.generation += 1;
            window.open_until = None;
        }
        self.counters.emptied.inc();
        if let Some(entries) = &self.entries {
            entries.clear();
        }
        self.closed.notify_all();
    }

    /// The generation to open the cache under, if it is closed (or its time is
    /// up: then it is emptied first).
    fn to_open(&self) -> Option<u64> {
        {
            let window = self.window();
            match window.open_until {
                Some(until) if Instant::now() < until => return None,
                None => return Some(window.generation),
                Some(_) => {}
            }
        }
        self.invalidate();
        Some(self.window().generation)
    }

    /// Opens the cache, if nothing changed since `to_open` gave `generation`, until
    /// the next publication (`next`, measured from `asked`), if one is scheduled.
    fn open(&self, generation: u64, asked: Instant, next: Option<Duration>) {
        let open_for = next.unwrap_or(UNTIL_CHANGED);
        let mut window = self.window();
        if window.generation == generation && !open_for.is_zero() {
            window.open_until = Some(asked + open_for);
        }
    }

    /// Closes the cache at the next publication (`next`, measured from `asked`) if
    /// that comes before it would close: the listener's periodic check, in case a
    /// publication was scheduled without a word (a lost notification cannot happen
    /// on a live connection, but this costs one query every few seconds).
    fn close_by(&self, asked: Instant, next: Option<Duration>) {
        let Some(next) = next else {
            return;
        };
        let mut window = self.window();
        if let Some(until) = window.open_until
            && asked + next < until
        {
            window.open_until = Some(asked + next);
        }
    }

    /// Waits `timeout`, or less if the cache is emptied meanwhile, while `pending`
    /// holds (not at all if it does not).
    fn wait_while(&self, timeout: Duration, pending: impl Fn(&Window) -> bool) {
        let window = self.window();
        if pending(&window) {
            drop(
                self.closed
                    .wait_timeout(window, timeout)
                    .unwrap_or_else(PoisonError::into_inner),
            );
        }
    }
}

/// The key of a request: its path, its query's parameters sorted by name (the
/// order of one name's values kept), whether it asks for CSV, and the locale its
/// `Accept-Language` resolves to (never the raw header) unless `?locale=` names one.
fn key_of(req: &HttpRequest) -> String {
    let mut pairs: Vec<&str> = req
        .query_string()
        .split('&')
        .filter(|pair| !pair.is_empty())
        .collect();
    pairs.sort_by_key(|pair| pair.split('=').next().unwrap_or_default());
    let format = if csv::wants_csv(req) { "csv" } else { "json" };
    let named = pairs.iter().any(|pair| pair.starts_with("locale="));
    let accept = req
        .headers()
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|value| value.to_str().ok());
    let locales = Locales::of(req);
    let locale = match (named, accept) {
        (false, Some(accept)) => locales
            .negotiate(None, Some(accept))
            .map(|locale| locale.tag.as_str())
            .unwrap_or_default(),
        _ => "",
    };
    format!("{format} {locale} {}?{}", req.path(), pairs.join("&"))
}

/// Serves a route's anonymous GETs from the cache, and keeps what it answers. The
/// route table puts it on the routes it marks `get_cached`.
pub async fn serve(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let cache = req
        .app_data::<web::Data<ReadCache>>()
        .filter(|cache| cache.enabled())
        .cloned();
    let anonymous = !req.headers().contains_key(header::AUTHORIZATION);
    // A list as CSV is streamed whole, and not kept.
    let kept = anonymous && req.method() == Method::GET && !csv::wants_csv(req.request());
    let Some(cache) = cache.filter(|_| kept) else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    let key = key_of(req.request());
    let if_none_match = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    if let Some(entry) = cache.get(&key) {
        cache.counters.hits.inc();
        let answer = entry.answer(if_none_match.as_deref());
        return Ok(req.into_response(answer));
    }
    cache.counters.misses.inc();
    let Some(generation) = cache.ticket() else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    // The whole answer is made, to be kept; the caller's `If-None-Match` is then
    // applied to it here.
    req.headers_mut().remove(header::IF_NONE_MATCH);
    let response = next.call(req).await?;
    let etag = response
        .headers()
        .get(header::ETAG)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    let (req, response) = response.into_parts();
    let Some(etag) = etag.filter(|_| response.status() == StatusCode::OK) else {
        return Ok(ServiceResponse::new(req, response.map_into_boxed_body()));
    };
    let (head, body) = response.into_parts();
    let body = match body.try_into_bytes() {
        Ok(body) => body,
        // A streamed body is not kept.
        Err(body) => {
            return Ok(ServiceResponse::new(
                req,
                head.set_body(body).map_into_boxed_body(),
            ));
        }
    };
    let entry = Entry {
        generation,
        etag,
        headers: head
            .headers()
            .iter()
            .map(|(name, value)| (name.clone(), value.clone()))
            .collect(),
        body,
    };
    let answer = entry.answer(if_none_match.as_deref());
    cache.put(key, entry);
    Ok(ServiceResponse::new(req, answer))
}

/// Empties the cache after every request that may have written, before its answer
/// leaves: the writer then reads its own write. A 4xx wrote nothing.
pub async fn invalidate_after_writes(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let writes = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    let cache = req.app_data::<web::Data<ReadCache>>().cloned();
    let response = next.call(req).await;
    if let Some(cache) = cache.filter(|_| writes) {
        let wrote_nothing = response
            .as_ref()
            .is_ok_and(|response| response.status().is_client_error());
        if !wrote_nothing {
            cache.invalidate();
        }
    }
    Ok(response?.map_into_boxed_body())
}

#[cfg(test)]
mod tests;
