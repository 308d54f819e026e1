//! The handlers every resource runs through, written once: list and read with
//! visibility, ETags and 304; create, replace, merge-patch and delete, each in one
//! transaction that locks the row, checks `If-Match` against the current
//! representation and writes nothing on any error. The route table names them with
//! their resource: `handlers::list::<Pages>`.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Map, Value, json};

use super::{Resource, present};
use crate::features::changes::{self as changelog, Snapshot};
use crate::features::history::{self, Author};
use crate::platform::auth::Caller;
use crate::platform::db::Db;
use crate::platform::error::{AppError, AppResult};
use crate::platform::http::{self, Preconditions, csv};
use crate::platform::query::{self, ListQuery, View};
use crate::platform::visibility::Access;

/// Fields of every item that a body may carry but that are never written.
const COMMON_READ_ONLY: &[&str] = &["id", "version", "created_at", "updated_at"];

/// What a caller sees of content: everything with the right to read drafts,
/// otherwise what is published.
pub fn access_of(caller: &Caller) -> Access {
    if caller.sees_everything() {
        Access::Everything
    } else {
        Access::Public
    }
}

/// What a caller may read of `R`: content is public (its drafts for those who may
/// read them); other resources need their right, and then show everything.
fn read_access<R: Resource>(caller: &Caller) -> AppResult<Access> {
    match R::READ {
        None => Ok(access_of(caller)),
        Some(permission) => {
            caller.require(permission)?;
            Ok(Access::Everything)
        }
    }
}

pub fn not_found<R: Resource>(key: &str) -> AppError {
    AppError::NotFound(format!("there is no {} with {} {key}", R::NAME, R::KEY))
}

/// The representation of one row, as GET shows it to an editor.
fn represent_one<R: Resource>(
    conn: &mut diesel::PgConnection,
    row: R::Row,
    access: Access,
) -> AppResult<Value> {
    R::represent(conn, vec![row], &View::default(), access)?
        .pop()
        .ok_or_else(|| AppError::internal("represent returned nothing"))
}

/// A write's `If-Match` and `If-None-Match` against the ETag stored with the row
/// (none if there is no row).
fn check_preconditions<R: Resource>(
    preconditions: &Preconditions,
    row: Option<&R::Row>,
) -> AppResult<()> {
    preconditions.check(row.map(R::etag))
}

/// A request body as the resource's type, without the fields that are never
/// written.
pub fn parse_body<R: Resource>(mut object: Map<String, Value>) -> AppResult<R::Body> {
    for field in COMMON_READ_ONLY.iter().chain(R::READ_ONLY) {
        object.remove(*field);
    }
    http::from_object(object)
}

/// Logs a write as the last step of its transaction: what changed, and what
/// anonymous readers saw before and see after. A write that changed nothing (the
/// same PUT twice) is not a change; a renamed key is the old one deleted and the new
/// one created, as a feed reader must see it.
pub fn log_write<R: Resource>(
    conn: &mut diesel::PgConnection,
    scope: &R::Scope,
    caller: &Caller,
    before: Option<&R::Row>,
    after: Option<&R::Row>,
) -> AppResult<()> {
    let Some(kind) = R::CHANGE_TYPE else {
        return Ok(());
    };
    let snapshot = |row: &R::Row| Snapshot {
        key: R::key(row),
        version: R::version(row),
        publication: R::change_publication(scope, row),
    };
    let changes = changelog::changes_between(
        kind,
        R::change_parent(scope),
        before.map(snapshot).as_ref(),
        after.map(snapshot).as_ref(),
    );
    changelog::append(conn, &changes, &caller.name())
}

/// How a write holds its resource's `WRITE_LOCK`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockMode {
    /// Alone: a write whose rules read other rows.
    Exclusive,
    /// Beside other writes that cannot break those rules (`shares_write_lock`).
    Shared,
}

impl LockMode {
    fn of<R: Resource>(body: &Map<String, Value>, key: Option<&str>) -> Self {
        if R::shares_write_lock(body, key) {
            Self::Shared
        } else {
            Self::Exclusive
        }
    }
}

/// The start of every write's transaction: who it writes for (for the history
/// triggers) and the resource's advisory lock, in one statement; then its scope,
/// held; row locks come after.
pub fn begin_write<R: Resource>(
    conn: &mut diesel::PgConnection,
    author: &Author,
    scope: &str,
    mode: LockMode,
) -> AppResult<R::Scope> {
    let function = match mode {
        LockMode::Exclusive => "pg_advisory_xact_lock",
        LockMode::Shared => "pg_advisory_xact_lock_shared",
    };
    history::begin(conn, author, R::WRITE_LOCK.map(|lock| (function, lock)))?;
    R::resolve_scope(conn, scope, Access::Everything, true)
}

/// The scope and key of a request, from its path parameters in order: the scope
/// first if the resource is nested, then the key on an item's path.
pub fn path_params<R: Resource>(req: &HttpRequest) -> AppResult<(String, String)> {
    let mut values = Vec::new();
    for (_, value) in req.match_info().iter() {
        // No key has control characters: such a path names nothing.
        if value.chars().any(char::is_control) {
            return Err(AppError::NotFound(format!(
                "there is nothing at {}",
                req.path()
            )));
        }
        values.push(value.to_owned());
    }
    let mut values = values.into_iter();
    let scope = match R::SCOPE_DESCRIPTION {
        Some(_) => values.next().unwrap_or_default(),
        None => String::new(),
    };
    Ok((scope, values.next().unwrap_or_default()))
}

/// The URL of the item `key` in this request's collection: the route's pattern with
/// its parameters filled in, the key last (appended on a collection's route).
fn item_url(req: &HttpRequest, key: &str, on_item: bool) -> String {
    let pattern = req.match_pattern().unwrap_or_else(|| req.path().to_owned());
    let mut values: Vec<&str> = req.match_info().iter().map(|(_, value)| value).collect();
    if on_item {
        values.pop();
    }
    values.push(key);
    let mut url = String::new();
    let mut values = values.into_iter();
    for (i, part) in pattern.split('{').enumerate() {
        match (i, part.split_once('}')) {
            (0, _) | (_, None) => url.push_str(part),
            (_, Some((_, rest))) => {
                url.push_str(values.next().unwrap_or_default());
                url.push_str(rest);
            }
        }
    }
    if !on_item {
        url.push('/');
        url.push_str(values.next().unwrap_or_default());
    }
    url
}

pub async fn list<R: Resource>(
    db: Db,
    caller: Caller,
    req: HttpRequest,
) -> AppResult<HttpResponse> {
    let (scope, _) = path_params::<R>(&req)?;
    let access = read_access::<R>(&caller)?;
    let query = ListQuery::parse(R::SPEC, req.query_string())?;
    let work_query = query.clone();
    let (items, total) = db
        .run(move |conn| {
            let scope = R::resolve_scope(conn, &scope, access, false)?;
            let (rows, total) = R::list(conn, &scope, &work_query, access)?;
            let items = present::<R>(conn, rows, &work_query.view, access)?;
            let view = &work_query.view;
            Ok((
                items
                    .into_iter()
                    .map(|item| view.apply(R::SPEC, item))
                    .collect::<Vec<_>>(),
                total,
            ))
        })
        .await?;
    Ok(answer_list(&req, &caller, &query, R::CSV, items, total))
}

/// A page of a list as its answer: JSON in the list envelope, or CSV (one row per
/// item, the columns `fields` asks for) when the caller asks for it by `Accept` and
/// the resource has a CSV form; with the `Link` header either way.
pub fn answer_list(
    req: &HttpRequest,
    caller: &Caller,
    query: &ListQuery,
    csv_columns: Option<&[&str]>,
    items: Vec<Value>,
    total: i64,
) -> HttpResponse {
    let meta = query.meta(total);
    let link = (
        header::LINK,
        http::link_header(req, meta.page, meta.total_pages),
    );
    if let Some(columns) = csv_columns
        && csv::wants_csv(req)
    {
        let columns: Vec<&str> = match &query.view.fields {
            Some(fields) => columns
                .iter()
                .copied()
                .filter(|c| fields.contains(c))
                .collect(),
            None => columns.to_vec(),
        };
        return match csv::write(&columns, &items) {
            Ok(bytes) => http::read_bytes(req, caller, bytes, csv::TEXT_CSV, &[link]),
            Err(error) => actix_web::ResponseError::error_response(&error),
        };
    }
    let body = json!({"data": items, "meta": meta});
    http::read(req, caller, &body, &[link])
}

pub async fn get<R: Resource>(db: Db, caller: Caller, req: HttpRequest) -> AppResult<HttpResponse> {
    let (scope, key) = path_params::<R>(&req)?;
    let access = read_access::<R>(&caller)?;
    let view = query::parse_item_view(R::SPEC, req.query_string())?;
    let (item, etag) = db
        .run(move |conn| {
            let scope = R::resolve_scope(conn, &scope, access, false)?;
            let row = R::find(conn, &scope, &key, false)?
                .filter(|row| {
                    R::publication(row)
                        .is_none_or(|(status, published_at)| access.may_see(status, published_at))
                })
                .ok_or_else(|| not_found::<R>(&key))?;
            // What an editor reads of the whole item is what the stored tag names;
            // anything else (a public reader's view, hiding drafts; a fieldset) is
            // tagged by its bytes.
            let etag =
                (access == Access::Everything && view.is_whole()).then(|| R::etag(&row).to_owned());
            let item = present::<R>(conn, vec![row], &view, access)?
                .pop()
                .unwrap_or(Value::Null);
            Ok((view.apply(R::SPEC, item), etag))
        })
        .await?;
    Ok(match etag {
        Some(etag) => {
            let bytes = serde_json::to_vec(&item).unwrap_or_default();
            http::read_tagged(&req, &caller, bytes.into(), &etag, "application/json", &[])
        }
        None => http::read(&req, &caller, &item, &[]),
    })
}

pub async fn create<R: Resource>(
    db: Db,
    caller: Caller,
    req: HttpRequest,
    payload: web::Payload,
) -> AppResult<HttpResponse> {
    let (scope, _) = path_params::<R>(&req)?;
    caller.require(R::WRITE)?;
    query::no_parameters(req.query_string())?;
    let object = http::json_object(&req, payload).await?;
    R::prepare(&object).await;
    let mode = LockMode::of::<R>(&object, None);
    let body = parse_body::<R>(object)?;
    let author = Author::of(&caller, &req);
    let (item, key, etag) = db
        .transaction(move |conn| {
            let input = R::validate(body, None, None)?;
            let scope = begin_write::<R>(conn, &author, &scope, mode)?;
            R::authorise(&caller, &scope, None, Some(&input))?;
            let row = R::save(conn, &scope, None, input, &caller)?;
            let key = R::key(&row);
            // The log's lock is held from its append to the commit: the append is the
            // last statement, after the answer is made.
            let item = represent_one::<R>(conn, row.clone(), Access::Everything)?;
            log_write::<R>(conn, &scope, &caller, None, Some(&row))?;
            Ok((item, key, R::etag(&row).to_owned()))
        })
        .await?;
    let location = item_url(&req, &key, false);
    Ok(http::written_tagged(
        StatusCode::CREATED,
        &item,
        Some(&etag),
        Some(location),
    ))
}

pub async fn replace<R: Resource>(
    db: Db,
    caller: Caller,
    req: HttpRequest,
    payload: web::Payload,
) -> AppResult<HttpResponse> {
    let (scope, key) = path_params::<R>(&req)?;
    caller.require(R::WRITE)?;
    query::no_parameters(req.query_string())?;
    let object = http::json_object(&req, payload).await?;
    let location = req.path().to_owned();
    put::<R>(&db, caller, &req, scope, key, object, location).await
}

/// A PUT of `object` to the item `key`: creates it (201, `Location`) or replaces it
/// whole (200), under `If-Match`/`If-None-Match`, validated like any write. Also
/// what a restore of a revision does.
pub async fn put<R: Resource>(
    db: &Db,
    caller: Caller,
    req: &HttpRequest,
    scope: String,
    key: String,
    object: Map<String, Value>,
    location: String,
) -> AppResult<HttpResponse> {
    R::prepare(&object).await;
    let preconditions = Preconditions::of(req);
    let mode = LockMode::of::<R>(&object, Some(&key));
    let author = Author::of(&caller, req);
    let (item, created, etag) = db
        .transaction(move |conn| {
            let scope = begin_write::<R>(conn, &author, &scope, mode)?;
            let existing = R::find(conn, &scope, &key, true)?;
            // RFC 9110: the preconditions before the body.
            check_preconditions::<R>(&preconditions, existing.as_ref())?;
            let input = R::validate(parse_body::<R>(object)?, Some(&key), existing.as_ref())?;
            R::authorise(&caller, &scope, existing.as_ref(), Some(&input))?;
            let row = R::save(conn, &scope, existing.as_ref(), input, &caller)?;
            let item = represent_one::<R>(conn, row.clone(), Access::Everything)?;
            log_write::<R>(conn, &scope, &caller, existing.as_ref(), Some(&row))?;
            Ok((item, existing.is_none(), R::etag(&row).to_owned()))
        })
        .await?;
    Ok(if created {
        http::written_tagged(StatusCode::CREATED, &item, Some(&etag), Some(location))
    } else {
        http::written_tagged(StatusCode::OK, &item, Some(&etag), None)
    })
}

pub async fn update<R: Resource>(
    db: Db,
    caller: Caller,
    req: HttpRequest,
    payload: web::Payload,
) -> AppResult<HttpResponse> {
    let (scope, key) = path_params::<R>(&req)?;
    caller.require(R::WRITE)?;
    query::no_parameters(req.query_string())?;
    let mut patch = http::json_object(&req, payload).await?;
    for field in COMMON_READ_ONLY.iter().chain(R::READ_ONLY) {
        patch.remove(*field);
    }
    R::prepare(&patch).await;
    let preconditions = Preconditions::of(&req);
    let mode = LockMode::of::<R>(&patch, Some(&key));
    let author = Author::of(&caller, &req);
    let (item, new_key, etag) = db
        .transaction(move |conn| {
            let scope = begin_write::<R>(conn, &author, &scope, mode)?;
            let existing =
                R::find(conn, &scope, &key, true)?.ok_or_else(|| not_found::<R>(&key))?;
            check_preconditions::<R>(&preconditions, Some(&existing))?;
            // The patch is read as a body first: an unknown field is a 400 even when
            // it is null, which the merge would drop without a trace.
            http::from_object::<R::Body>(patch.clone())?;
            // RFC 7396 over the body the item would be read back as.
            let mut merged =
                serde_json::to_value(R::as_body(&existing)).map_err(AppError::internal)?;
            json_patch::merge(&mut merged, &Value::Object(patch.clone()));
            let Value::Object(merged) = merged else {
                return Err(AppError::internal("merge gave a non-object"));
            };
            let input = R::validate(parse_body::<R>(merged)?, None, Some(&existing))
                .map_err(|error| blame::<R>(error, patch, &existing))?;
            R::authorise(&caller, &scope, Some(&existing), Some(&input))?;
            let row = R::save(conn, &scope, Some(&existing), input, &caller)?;
            let new_key = R::key(&row);
            let moved = new_key != key;
            let item = represent_one::<R>(conn, row.clone(), Access::Everything)?;
            log_write::<R>(conn, &scope, &caller, Some(&existing), Some(&row))?;
            Ok((item, moved.then_some(new_key), R::etag(&row).to_owned()))
        })
        .await?;
    let mut response = http::written_tagged(StatusCode::OK, &item, Some(&etag), None);
    let moved_to = new_key.map(|key| item_url(&req, &key, true));
    if let Some(location) = moved_to.and_then(|l| header::HeaderValue::from_str(&l).ok()) {
        // The key changed: say where the item lives now.
        response
            .headers_mut()
            .insert(header::CONTENT_LOCATION, location);
    }
    Ok(response)
}

/// Tells apart why a patched item is invalid. A rule the patch breaks by itself
/// (a title too long, a range whose two ends it sends upside down) is the request's
/// fault: 422. A rule that only the patch together with the stored item breaks (an
/// upper end below the stored lower end) is a conflict with the current state: 409,
/// naming the same fields, as no schema of the patch can foresee it.
fn blame<R: Resource>(error: AppError, patch: Map<String, Value>, existing: &R::Row) -> AppError {
    let AppError::Validation(errors) = error else {
        return error;
    };
    let alone = parse_body::<R>(patch)
        .and_then(|body| R::validate(body, None, Some(existing)))
        .err();
    let broken_alone = match &alone {
        Some(AppError::Validation(alone)) => alone.iter().any(|e| errors.contains(e)),
        _ => false,
    };
    if broken_alone {
        AppError::Validation(errors)
    } else {
        AppError::Conflict {
            detail: "the patch is valid by itself, but not together with the item as it is \
                     stored; read it again and send the fields together"
                .to_owned(),
            errors,
        }
    }
}

pub async fn delete<R: Resource>(
    db: Db,
    caller: Caller,
    req: HttpRequest,
) -> AppResult<HttpResponse> {
    let (scope, key) = path_params::<R>(&req)?;
    caller.require(R::WRITE)?;
    let mut cascade = false;
    for (name, value) in query::pairs(req.query_string())? {
        cascade = match (name.as_str(), value.as_str(), R::CASCADE) {
            ("cascade", "true", Some(_)) => true,
            ("cascade", "false", Some(_)) => false,
            ("cascade", _, Some(_)) => {
                return Err(AppError::bad_request(
                    "cascade",
                    "cascade must be true or false",
                ));
            }
            (_, _, cascades) => {
                let allowed = if cascades.is_some() {
                    "; allowed: cascade"
                } else {
                    ": this request takes no parameters"
                };
                return Err(AppError::bad_request(
                    name.clone(),
                    format!("unknown parameter {name}{allowed}"),
                ));
            }
        };
    }
    let preconditions = Preconditions::of(&req);
    let author = Author::of(&caller, &req);
    db.transaction(move |conn| {
        let scope = begin_write::<R>(conn, &author, &scope, LockMode::Exclusive)?;
        let existing = R::find(conn, &scope, &key, true)?.ok_or_else(|| not_found::<R>(&key))?;
        check_preconditions::<R>(&preconditions, Some(&existing))?;
        R::authorise(&caller, &scope, Some(&existing), None)?;
        R::delete(conn, &existing, cascade, &caller)?;
        log_write::<R>(conn, &scope, &caller, Some(&existing), None)
    })
    .await?;
    Ok(HttpResponse::NoContent()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .finish())
}
