//! A list as CSV, whole: every row the filters match, streamed in chunks as they
//! are read, in one snapshot of the database (a repeatable-read transaction), so
//! that rows written meanwhile neither appear twice nor go missing. At most
//! `MAX_ROWS`: a larger list is a 400 that says to filter. Memory stays flat
//! however long the list: a chunk is written out before the next is read, and at
//! most a few wait for a slow reader. Not kept in the read cache, and with no
//! ETag: there are no bytes to tag before they are sent.

use std::time::{Duration, Instant};

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use tokio::sync::{mpsc, oneshot};

use diesel::PgConnection;
use serde_json::Value;

use crate::platform::auth::Caller;
use crate::platform::db::Db;
use crate::platform::error::{AppError, AppResult};
use crate::platform::http::conditional::{VARY, cache_control};
use crate::platform::http::csv;
use crate::platform::query::ListQuery;

/// The most rows a CSV list answers.
pub const MAX_ROWS: i64 = 100_000;
/// Rows read at a time.
const CHUNK: i64 = 1_000;
/// Chunks waiting for the reader, at most.
const WAITING: usize = 4;
/// How long a stream may hold its database connection: a reader slower than
/// this gets a cut-off answer rather than keep the connection.
const MAX_DURATION: Duration = Duration::from_secs(120);

/// A CSV list: its query (filters, sort) and columns, and how to load a page of
/// it as items, with the total.
pub struct CsvList<L> {
    pub query: ListQuery,
    pub columns: Vec<&'static str>,
    pub load: L,
}

/// Loads one page of a list: its items as the API shows them, and the total.
pub trait Load:
    FnMut(&mut PgConnection, &ListQuery) -> AppResult<(Vec<Value>, i64)> + Send + 'static
{
}

impl<F> Load for F where
    F: FnMut(&mut PgConnection, &ListQuery) -> AppResult<(Vec<Value>, i64)> + Send + 'static
{
}

/// The columns of a CSV list: the resource's, or those of them `fields` picks.
pub fn columns_of(all: &[&'static str], query: &ListQuery) -> Vec<&'static str> {
    match &query.view.fields {
        Some(fields) => all.iter().copied().filter(|c| fields.contains(c)).collect(),
        None => all.to_vec(),
    }
}

type Chunk = Result<web::Bytes, std::io::Error>;

pub async fn answer<L: Load>(
    db: &Db,
    req: &HttpRequest,
    caller: &Caller,
    list: CsvList<L>,
) -> AppResult<HttpResponse> {
    for paging in ["page", "per_page"] {
        if has_parameter(req.query_string(), paging) {
            return Err(AppError::bad_request(
                paging,
                "a list as CSV is whole, every row the filters match: leave out page and \
                 per_page, and filter to make it smaller",
            ));
        }
    }
    let (chunks, body) = mpsc::channel::<Chunk>(WAITING);
    let (started, first) = oneshot::channel::<AppResult<()>>();
    let db = db.clone();
    let work = async move {
        db.run(move |conn| {
            let mut started = Some(started);
            let result = conn
                .build_transaction()
                .read_only()
                .repeatable_read()
                .run(|conn| produce(conn, list, &chunks, &mut started));
            match (result, started.take()) {
                // Failed before the first row: the handler answers the error.
                (Err(error), Some(started)) => {
                    let _ = started.send(Err(error));
                    Ok(())
                }
                (result, _) => result,
            }
        })
        .await
    };
    actix_web::rt::spawn(async move {
        if let Err(error) = work.await {
            log::warn!("a CSV list stopped part way: {error}");
        }
    });
    first
        .await
        .map_err(|_| AppError::internal("the CSV list did not start"))??;
    let stream = futures_util::stream::unfold(body, |mut body| async move {
        body.recv().await.map(|chunk| (chunk, body))
    });
    Ok(HttpResponse::Ok()
        .content_type(csv::TEXT_CSV)
        .insert_header((header::CACHE_CONTROL, cache_control(caller)))
        .insert_header((header::VARY, VARY))
        .streaming(stream))
}

fn has_parameter(query: &str, name: &str) -> bool {
    query
        .split('&')
        .any(|pair| pair.split('=').next() == Some(name))
}

/// Reads the list a chunk at a time and sends each on; tells the handler to
/// answer once the first is read (or why not).
fn produce<L: Load>(
    conn: &mut PgConnection,
    list: CsvList<L>,
    chunks: &mpsc::Sender<Chunk>,
    started: &mut Option<oneshot::Sender<AppResult<()>>>,
) -> AppResult<()> {
    let CsvList {
        mut query,
        columns,
        mut load,
    } = list;
    let began = Instant::now();
    query.per_page = CHUNK;
    query.page = 1;
    loop {
        let (items, total) = load(conn, &query)?;
        if started.is_some() && total > MAX_ROWS {
            return Err(AppError::bad_request(
                "/",
                format!(
                    "this list has {total} rows, and a list as CSV has at most {MAX_ROWS}: \
                     filter it (by metric, area or period) and ask for each part"
                ),
            ));
        }
        if let Some(started) = started.take() {
            let _ = started.send(Ok(()));
            if chunks
                .blocking_send(Ok(csv::header_row(&columns).into()))
                .is_err()
            {
                return Ok(());
            }
        }
        let read = items.len() as i64;
        let mut text = String::new();
        for item in &items {
            text.push_str(&csv::row(&columns, item));
        }
        if chunks.blocking_send(Ok(text.into())).is_err() {
            return Ok(()); // The reader is gone.
        }
        if read < CHUNK {
            return Ok(());
        }
        if began.elapsed() > MAX_DURATION {
            let _ = chunks.blocking_send(Err(std::io::Error::other("too slow a reader")));
            return Ok(());
        }
        query.page += 1;
    }
}
