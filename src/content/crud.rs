//! The handlers every resource runs through, written once: list and read with
//! visibility, ETags and 304; create, replace, merge-patch and delete, each in one
//! transaction that locks the row, checks `If-Match` against the current
//! representation and writes nothing on any error. `resource_endpoints!` declares a
//! resource's six actix handlers, their OpenAPI documentation and routes.

use std::marker::PhantomData;

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Serialize;
use serde_json::{Map, Value, json};
use utoipa::ToSchema;
use utoipa::openapi::path::{Parameter, ParameterBuilder, ParameterIn, ParameterStyle};
use utoipa::openapi::schema::{
    AdditionalProperties, ArrayBuilder, KnownFormat, ObjectBuilder, Schema, SchemaFormat, Type,
};
use utoipa::openapi::{RefOr, Required};

use super::{Access, Resource};
use crate::auth::{Caller, Permission};
use crate::db::Db;
use crate::error::{AppError, AppResult};
use crate::http::{self, etag_of};
use crate::query::{self, Field, Kind, ListQuery, ListSpec, MAX_PER_PAGE, Op, View};

/// Fields of every item that a body may carry but that are never written.
const COMMON_READ_ONLY: &[&str] = &["id", "version", "created_at", "updated_at"];

/// Paging metadata of a list.
#[derive(Debug, Serialize, ToSchema)]
pub struct ListMeta {
    /// This page, from 1.
    #[schema(example = 1)]
    pub page: i64,
    /// Items per page.
    #[schema(example = 20)]
    pub per_page: i64,
    /// Items in the whole (filtered) list.
    #[schema(example = 6)]
    pub total: i64,
    /// Pages in the whole list.
    #[schema(example = 1)]
    pub total_pages: i64,
}

pub fn access_of(caller: &Caller) -> Access {
    if caller.sees_everything() {
        Access::Everything
    } else {
        Access::Public
    }
}

fn not_found<R: Resource>(key: &str) -> AppError {
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

fn current_etag<R: Resource>(
    conn: &mut diesel::PgConnection,
    row: Option<&R::Row>,
) -> AppResult<Option<String>>
where
    R::Row: Clone,
{
    row.map(|row| {
        represent_one::<R>(conn, row.clone(), Access::Everything).map(|item| etag_of(&bytes(&item)))
    })
    .transpose()
}

fn bytes(value: &Value) -> Vec<u8> {
    serde_json::to_vec(value).unwrap_or_default()
}

/// The body, without the fields that are never written, as the resource's type.
fn body_from<R: Resource>(mut object: Map<String, Value>) -> AppResult<R::Body> {
    for field in COMMON_READ_ONLY.iter().chain(R::READ_ONLY) {
        object.remove(*field);
    }
    http::from_object(object)
}

/// Conditional headers of a write, read before the work leaves the request.
#[derive(Debug, Clone, Default)]
struct Preconditions {
    if_match: Option<String>,
    if_none_match_star: bool,
}

impl Preconditions {
    fn of(req: &HttpRequest) -> Self {
        // An unreadable header still counts as sent: it can match nothing.
        let text = |name| {
            req.headers()
                .get(name)
                .map(|v: &header::HeaderValue| v.to_str().unwrap_or_default().to_owned())
        };
        Self {
            if_match: text(header::IF_MATCH),
            if_none_match_star: text(header::IF_NONE_MATCH).is_some_and(|v| v.trim() == "*"),
        }
    }

    fn check(&self, current: Option<&str>) -> AppResult<()> {
        if self.if_none_match_star && current.is_some() {
            return Err(AppError::PreconditionFailed(
                "If-None-Match: * was sent, but the item exists".to_owned(),
            ));
        }
        let Some(if_match) = &self.if_match else {
            return Ok(());
        };
        let matches = current
            .is_some_and(|current| http::tags(if_match).any(|tag| tag == "*" || tag == current));
        match (matches, current) {
            (true, _) => Ok(()),
            (false, None) => Err(AppError::PreconditionFailed("If-Match was sent, but the item does not exist".into())),
            (false, Some(_)) => Err(AppError::PreconditionFailed(
                "the item has changed since you read it: If-Match does not match its ETag; read it again and retry"
                    .to_owned(),
            )),
        }
    }
}

/// The `Link` header of a list (RFC 8288): first, prev, next and last pages, with
/// every other parameter kept.
pub fn link_header(req: &HttpRequest, page: i64, total_pages: i64) -> String {
    // Relative references (RFC 8288 allows them): a Host or X-Forwarded-Host header
    // cannot steer the links a shared cache hands to everyone.
    let base = req.path();
    let params: Vec<(String, String)> = query::pairs(req.query_string())
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

/// The start of every write's transaction: the resource's advisory lock, then its
/// scope, held; row locks come after.
fn begin_write<R: Resource>(conn: &mut diesel::PgConnection, scope: &str) -> AppResult<R::Scope> {
    use diesel::RunQueryDsl;
    if let Some(lock) = R::WRITE_LOCK {
        diesel::sql_query("SELECT pg_advisory_xact_lock(hashtext($1))")
            .bind::<diesel::sql_types::Text, _>(lock)
            .execute(conn)?;
    }
    R::resolve_scope(conn, scope, Access::Everything, true)
}

/// The scope and key of a request, from its path.
fn path_params<R: Resource>(req: &HttpRequest) -> AppResult<(String, String)> {
    let param = |name: Option<&str>| {
        let value = name
            .and_then(|name| req.match_info().get(name))
            .unwrap_or_default();
        // No key has control characters: such a path names nothing.
        if value.chars().any(char::is_control) {
            return Err(AppError::NotFound(format!(
                "there is nothing at {}",
                req.path()
            )));
        }
        Ok(value.to_owned())
    };
    Ok((param(R::SCOPE_PARAM)?, param(Some(R::PATH_KEY))?))
}

pub async fn list<R: Resource>(
    db: Db,
    caller: Caller,
    req: HttpRequest,
) -> AppResult<HttpResponse> {
    let (scope, _) = path_params::<R>(&req)?;
    let query = ListQuery::parse(R::SPEC, req.query_string())?;
    let access = access_of(&caller);
    let work_query = query.clone();
    let (items, total) = db
        .run(move |conn| {
            let scope = R::resolve_scope(conn, &scope, access, false)?;
            let (rows, total) = R::list(conn, &scope, &work_query, access)?;
            let items = R::represent(conn, rows, &work_query.view, access)?;
            Ok((
                items
                    .into_iter()
                    .map(|item| work_query.view.apply(R::SPEC, item))
                    .collect::<Vec<_>>(),
                total,
            ))
        })
        .await?;
    let total_pages = (total + query.per_page - 1) / query.per_page;
    let body = json!({
        "data": items,
        "meta": ListMeta { page: query.page, per_page: query.per_page, total, total_pages },
    });
    let link = link_header(&req, query.page, total_pages);
    Ok(http::read(&req, &caller, &body, &[(header::LINK, link)]))
}

pub async fn get<R: Resource>(db: Db, caller: Caller, req: HttpRequest) -> AppResult<HttpResponse> {
    let (scope, key) = path_params::<R>(&req)?;
    let view = query::parse_item_view(R::SPEC, req.query_string())?;
    let access = access_of(&caller);
    let item = db
        .run(move |conn| {
            let scope = R::resolve_scope(conn, &scope, access, false)?;
            let row = R::find(conn, &scope, &key, false)?
                .filter(|row| {
                    let (status, published_at) = R::publication(row);
                    access.may_see(status, published_at)
                })
                .ok_or_else(|| not_found::<R>(&key))?;
            let item = R::represent(conn, vec![row], &view, access)?
                .pop()
                .unwrap_or(Value::Null);
            Ok(view.apply(R::SPEC, item))
        })
        .await?;
    Ok(http::read(&req, &caller, &item, &[]))
}

pub async fn create<R: Resource>(
    db: Db,
    caller: Caller,
    req: HttpRequest,
    payload: web::Payload,
) -> AppResult<HttpResponse> {
    let (scope, _) = path_params::<R>(&req)?;
    caller.require(Permission::EditContent)?;
    query::no_parameters(req.query_string())?;
    let body = body_from::<R>(http::json_object(&req, payload).await?)?;
    let (item, location) = db
        .transaction(move |conn| {
            // Validation renders Markdown: it runs here, off the async workers.
            let input = R::validate(body, None, None)?;
            let scope = begin_write::<R>(conn, &scope)?;
            let row = R::save(conn, &scope, None, input)?;
            let location = format!("{}/{}", R::collection_path(&scope), R::key(&row));
            Ok((represent_one::<R>(conn, row, Access::Everything)?, location))
        })
        .await?;
    Ok(http::written(StatusCode::CREATED, &item, Some(location)))
}

pub async fn replace<R: Resource>(
    db: Db,
    caller: Caller,
    req: HttpRequest,
    payload: web::Payload,
) -> AppResult<HttpResponse>
where
    R::Row: Clone,
{
    let (scope, key) = path_params::<R>(&req)?;
    caller.require(Permission::EditContent)?;
    query::no_parameters(req.query_string())?;
    let body = body_from::<R>(http::json_object(&req, payload).await?)?;
    let preconditions = Preconditions::of(&req);
    let (item, created, location) = db
        .transaction(move |conn| {
            let scope = begin_write::<R>(conn, &scope)?;
            let existing = R::find(conn, &scope, &key, true)?;
            preconditions.check(current_etag::<R>(conn, existing.as_ref())?.as_deref())?;
            let input = R::validate(body, Some(&key), existing.as_ref())?;
            let row = R::save(conn, &scope, existing.as_ref(), input)?;
            let location = format!("{}/{}", R::collection_path(&scope), R::key(&row));
            Ok((
                represent_one::<R>(conn, row, Access::Everything)?,
                existing.is_none(),
                location,
            ))
        })
        .await?;
    Ok(if created {
        http::written(StatusCode::CREATED, &item, Some(location))
    } else {
        http::written(StatusCode::OK, &item, None)
    })
}

pub async fn update<R: Resource>(
    db: Db,
    caller: Caller,
    req: HttpRequest,
    payload: web::Payload,
) -> AppResult<HttpResponse>
where
    R::Row: Clone,
{
    let (scope, key) = path_params::<R>(&req)?;
    caller.require(Permission::EditContent)?;
    query::no_parameters(req.query_string())?;
    let mut patch = http::json_object(&req, payload).await?;
    for field in COMMON_READ_ONLY.iter().chain(R::READ_ONLY) {
        patch.remove(*field);
    }
    let preconditions = Preconditions::of(&req);
    let (item, location) = db
        .transaction(move |conn| {
            let scope = begin_write::<R>(conn, &scope)?;
            let existing =
                R::find(conn, &scope, &key, true)?.ok_or_else(|| not_found::<R>(&key))?;
            preconditions.check(current_etag::<R>(conn, Some(&existing))?.as_deref())?;
            // RFC 7396 over the body the item would be read back as.
            let mut merged =
                serde_json::to_value(R::body_of(&existing)).map_err(AppError::internal)?;
            json_patch::merge(&mut merged, &Value::Object(patch));
            let Value::Object(merged) = merged else {
                return Err(AppError::internal("merge gave a non-object"));
            };
            let input = R::validate(body_from::<R>(merged)?, None, Some(&existing))?;
            let row = R::save(conn, &scope, Some(&existing), input)?;
            let location = format!("{}/{}", R::collection_path(&scope), R::key(&row));
            let moved = R::key(&row) != key;
            Ok((
                represent_one::<R>(conn, row, Access::Everything)?,
                moved.then_some(location),
            ))
        })
        .await?;
    let mut response = http::written(StatusCode::OK, &item, None);
    if let Some(location) = location.and_then(|l| header::HeaderValue::from_str(&l).ok()) {
        // The key changed: say where the item lives now.
        response
            .headers_mut()
            .insert(header::CONTENT_LOCATION, location);
    }
    Ok(response)
}

pub async fn delete<R: Resource>(
    db: Db,
    caller: Caller,
    req: HttpRequest,
) -> AppResult<HttpResponse>
where
    R::Row: Clone,
{
    let (scope, key) = path_params::<R>(&req)?;
    caller.require(Permission::EditContent)?;
    let mut cascade = false;
    for (name, value) in query::pairs(req.query_string())? {
        cascade = match (name.as_str(), value.as_str()) {
            ("cascade", "true") if R::CASCADES => true,
            ("cascade", "false") if R::CASCADES => false,
            ("cascade", _) if R::CASCADES => {
                return Err(AppError::bad_request(
                    "cascade",
                    "cascade must be true or false",
                ));
            }
            _ => {
                let allowed = if R::CASCADES {
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
    db.transaction(move |conn| {
        let scope = begin_write::<R>(conn, &scope)?;
        let existing = R::find(conn, &scope, &key, true)?.ok_or_else(|| not_found::<R>(&key))?;
        preconditions.check(current_etag::<R>(conn, Some(&existing))?.as_deref())?;
        R::delete(conn, &existing, cascade)
    })
    .await?;
    Ok(HttpResponse::NoContent()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .finish())
}

/// Loads rows a seed file describes, through the same validation as the API; rows
/// whose key exists already are left as they are, so seeding twice changes nothing.
pub fn seed<R: Resource>(
    conn: &mut diesel::PgConnection,
    scope: &str,
    items: &[Value],
) -> AppResult<usize> {
    let scope = begin_write::<R>(conn, scope)?;
    let mut created = 0;
    for item in items {
        let Value::Object(object) = item.clone() else {
            return Err(AppError::internal("seed item is not an object"));
        };
        let key = object
            .get(R::KEY)
            .and_then(Value::as_str)
            .map(str::to_owned);
        if let Some(key) = &key
            && R::find(conn, &scope, key, false)?.is_some()
        {
            continue;
        }
        let input = R::validate(body_from::<R>(object)?, key.as_deref(), None).map_err(|e| {
            AppError::internal(format!("seed {} {key:?} is invalid: {e:?}", R::NAME))
        })?;
        R::save(conn, &scope, None, input)?;
        created += 1;
    }
    Ok(created)
}

// ---------------------------------------------------------------------------------
// OpenAPI: the list and item parameters, generated from each resource's ListSpec.

/// The query parameters of a resource's list, for the OpenAPI document.
pub struct ListParams<R>(PhantomData<R>);
/// The query parameters of a resource's item, for the OpenAPI document.
pub struct ItemParams<R>(PhantomData<R>);

fn query_param(name: &str, description: &str, schema: impl Into<RefOr<Schema>>) -> Parameter {
    ParameterBuilder::new()
        .name(name)
        .parameter_in(ParameterIn::Query)
        .required(Required::False)
        .description(Some(description))
        .schema(Some(schema))
        .build()
}

fn comma_list(name: &str, description: &str, values: Vec<String>) -> Parameter {
    let mut parameter = query_param(
        name,
        description,
        ArrayBuilder::new().items(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .enum_values(Some(values)),
        ),
    );
    parameter.style = Some(ParameterStyle::Form);
    parameter.explode = Some(false);
    parameter
}

fn value_schema(field: &Field) -> ObjectBuilder {
    let object = ObjectBuilder::new();
    match field.kind {
        Kind::Text => object.schema_type(Type::String),
        Kind::Enum(values) => object
            .schema_type(Type::String)
            .enum_values(Some(values.to_vec())),
        Kind::Integer | Kind::IntegerArray => object.schema_type(Type::Integer),
        Kind::Number => object.schema_type(Type::Number),
        Kind::Date => object
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Date))),
        Kind::Timestamp => object
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime))),
        Kind::Bool => object.schema_type(Type::Boolean),
        Kind::Uuid => object
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Uuid))),
        Kind::Derived => object,
    }
}

/// A filterable field as a deepObject parameter: `field=value` or `field[op]=value`,
/// with each operator a property, so that generated clients know them all.
fn filter_param(field: &Field) -> Parameter {
    let mut operators =
        ObjectBuilder::new().additional_properties(Some(AdditionalProperties::FreeForm(false)));
    for op in field.operators() {
        let schema: Schema = match op {
            Op::In => ArrayBuilder::new()
                .items(value_schema(field))
                .min_items(Some(1))
                .build()
                .into(),
            Op::Null => ObjectBuilder::new()
                .schema_type(Type::Boolean)
                .build()
                .into(),
            _ => value_schema(field).build().into(),
        };
        operators = operators.property(op.name(), schema);
    }
    let ops: Vec<&str> = field.operators().iter().map(|op| op.name()).collect();
    let description = format!(
        "Filter on {name}: `{name}=value` (equal), or `{name}[op]=value` with op one of {ops}. \
         `in` takes a comma-separated list; `null` takes true or false.",
        name = field.name,
        ops = ops.join(", ")
    );
    let mut parameter = query_param(field.name, &description, operators);
    parameter.style = Some(ParameterStyle::DeepObject);
    parameter.explode = Some(true);
    parameter
}

fn field_names(spec: &ListSpec) -> Vec<String> {
    spec.all_fields()
        .map(|field| field.name.to_owned())
        .collect()
}

fn view_params(spec: &ListSpec) -> Vec<Parameter> {
    let mut params = vec![comma_list(
        "fields",
        "Sparse fieldset: only these fields, comma-separated.",
        field_names(spec),
    )];
    if !spec.includes.is_empty() {
        params.push(comma_list(
            "include",
            "Embed these relations, comma-separated.",
            spec.includes.iter().map(|s| (*s).to_owned()).collect(),
        ));
    }
    params
}

impl<R: Resource> utoipa::IntoParams for ListParams<R> {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        let spec = R::SPEC;
        let integer = |min: i64, max: Option<i64>, default: i64| {
            ObjectBuilder::new()
                .schema_type(Type::Integer)
                .minimum(Some(min as f64))
                .maximum(max.map(|m| m as f64))
                .default(Some(json!(default)))
        };
        let mut params = vec![
            query_param("page", "Page number, from 1.", integer(1, None, 1)),
            query_param(
                "per_page",
                "Items per page.",
                integer(1, Some(MAX_PER_PAGE), query::DEFAULT_PER_PAGE),
            ),
            comma_list(
                "sort",
                "Sort keys, comma-separated; `-` in front for descending. Without it the \
                 resource's default order applies (relevance first with `q`).",
                spec.sort_values(),
            ),
            query_param(
                "updated_since",
                "Only items updated at or after this instant (RFC 3339, or a date): for sync jobs.",
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime))),
            ),
        ];
        if spec.searchable {
            params.push(query_param(
                "q",
                "Full-text search (PostgreSQL websearch syntax: words, \"phrases\", OR, -word); ranks by relevance.",
                ObjectBuilder::new().schema_type(Type::String).max_length(Some(200)),
            ));
        }
        params.extend(view_params(spec));
        params.extend(
            spec.all_fields()
                .filter(|field| field.filterable)
                .map(filter_param),
        );
        params
    }
}

impl<R: Resource> utoipa::IntoParams for ItemParams<R> {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        view_params(R::SPEC)
    }
}

/// Declares a top-level resource's six handlers with their OpenAPI documentation,
/// an `Api` collecting them, and `configure`, which routes them (405 with `Allow`
/// for any other method).
macro_rules! resource_endpoints {
    (
        resource: $R:ident,
        item: $Item:ident,
        body: $Body:ident,
        list: $List:ident,
        tag: $tag:literal,
        collection: $collection:literal,
        item_path: $item_path:literal,
        $(scope: $scope:literal => $scope_description:literal,)?
        key: $key:literal,
        key_description: $key_description:literal,
        singular: $singular:literal,
        plural: $plural:literal,
        $(delete_cascade: $cascade_description:literal,)?
        handlers: [$list:ident, $get:ident, $create:ident, $replace:ident, $update:ident, $delete:ident] $(,)?
    ) => {
        /// One page of a list, with its paging metadata.
        #[derive(serde::Serialize, utoipa::ToSchema)]
        pub struct $List {
            /// The items of this page.
            pub data: Vec<$Item>,
            /// Paging metadata.
            pub meta: $crate::content::crud::ListMeta,
        }

        #[utoipa::path(get, path = $collection, tag = $tag,
            summary = concat!("List ", $plural),
            description = concat!("One page of ", $plural, ". Anonymous callers see only published ",
                $plural, " whose publication date has passed; editors see all. Filter, sort, search and \
                pick fields with the parameters below; the `Link` header points to the other pages."),
            params($(($scope = String, Path, description = $scope_description),)? $crate::content::crud::ListParams<$R>),
            responses(
                (status = 200, description = concat!("A page of ", $plural), body = $List,
                    headers(("ETag" = String, description = "Tag of this answer"),
                            ("Link" = String, description = "first, prev, next and last pages (RFC 8288)"))),
                (status = 304, description = "Not modified: If-None-Match names the current ETag"),
                (status = 400, description = "An unknown or invalid parameter, named in `errors`",
                    body = $crate::error::Problem, content_type = "application/problem+json"),
                (status = 401, description = "The bearer token is not valid",
                    body = $crate::error::Problem, content_type = "application/problem+json"),
                (status = 503, description = "The database is unreachable; retry after `Retry-After`",
                    body = $crate::error::Problem, content_type = "application/problem+json"),
            ))]
        pub async fn $list(db: $crate::db::Db, caller: $crate::auth::Caller, req: actix_web::HttpRequest)
            -> $crate::error::AppResult<actix_web::HttpResponse> {
            $crate::content::crud::list::<$R>(db, caller, req).await
        }

        #[utoipa::path(get, path = $item_path, tag = $tag,
            summary = concat!("Read a ", $singular),
            description = concat!("A ", $singular, " by its key. Drafts, archived and scheduled items are a 404 \
                to anonymous callers, exactly as if they did not exist."),
            params($(($scope = String, Path, description = $scope_description),)?
                   ($key = String, Path, description = $key_description),
                   $crate::content::crud::ItemParams<$R>),
            responses(
                (status = 200, description = concat!("The ", $singular), body = $Item,
                    headers(("ETag" = String, description = "Send it back in If-Match to update safely"))),
                (status = 304, description = "Not modified: If-None-Match names the current ETag"),
                (status = 400, description = "An unknown or invalid parameter",
                    body = $crate::error::Problem, content_type = "application/problem+json"),
                (status = 401, description = "The bearer token is not valid",
                    body = $crate::error::Problem, content_type = "application/problem+json"),
                (status = 404, description = concat!("No such ", $singular, ", or not visible to this caller"),
                    body = $crate::error::Problem, content_type = "application/problem+json"),
                (status = 503, description = "The database is unreachable",
                    body = $crate::error::Problem, content_type = "application/problem+json"),
            ))]
        pub async fn $get(db: $crate::db::Db, caller: $crate::auth::Caller, req: actix_web::HttpRequest)
            -> $crate::error::AppResult<actix_web::HttpResponse> {
            $crate::content::crud::get::<$R>(db, caller, req).await
        }

        #[utoipa::path(post, path = $collection, tag = $tag,
            summary = concat!("Create a ", $singular),
            description = concat!("Creates a ", $singular, " (a draft unless `status` says otherwise). \
                Read-only fields in the body are ignored."),
            $(params(($scope = String, Path, description = $scope_description)),)?
            request_body(content = $Body, content_type = "application/json"),
            security(("bearer" = [])),
            responses(
                (status = 201, description = concat!("Created; the body is the new ", $singular), body = $Item,
                    headers(("Location" = String, description = "Where it lives"),
                            ("ETag" = String, description = "Its tag"))),
                (status = 400, description = "Malformed JSON, a wrong type or an unknown field",
                    body = $crate::error::Problem, content_type = "application/problem+json"),
                (status = 401, description = "No valid bearer token",
                    body = $crate::error::Problem, content_type = "application/problem+json"),
                (status = 403, description = "The token's role may not write content",
                    body = $crate::error::Problem, content_type = "application/problem+json"),
                (status = 409, description = "The key exists, or a reference points nowhere",
                    body = $crate::error::Problem, content_type = "application/problem+json"),
                (status = 413, description = "The body is larger than 1 MiB",
                    body = $crate::error::Problem, content_type = "application/problem+json"),
                (status = 415, description = "The body is not JSON",
                    body = $crate::error::Problem, content_type = "application/problem+json"),
                (status = 422, description = "Invalid values, each named in `errors`",
                    body = $crate::error::Problem, content_type = "application/problem+json"),
                (status = 503, description = "The database is unreachable",
                    body = $crate::error::Problem, content_type = "application/problem+json"),
            ))]
        pub async fn $create(db: $crate::db::Db, caller: $crate::auth::Caller, req: actix_web::HttpRequest,
            payload: actix_web::web::Payload) -> $crate::error::AppResult<actix_web::HttpResponse> {
            $crate::content::crud::create::<$R>(db, caller, req, payload).await
        }

        #[utoipa::path(put, path = $item_path, tag = $tag,
            summary = concat!("Create or replace a ", $singular),
            description = concat!("Idempotent: creates the ", $singular, " at this key (201) or replaces it \
                whole (200); fields left out are cleared. A body read with GET can be sent back \
                unchanged: read-only fields are ignored. With `If-Match`, a stale tag is a 412 and \
                nothing is written; `If-None-Match: *` creates only."),
            params($(($scope = String, Path, description = $scope_description),)?
                   ($key = String, Path, description = $key_description),
                   ("If-Match" = Option<String>, Header, description = "The ETag you read"),
                   ("If-None-Match" = Option<String>, Header, description = "`*`: only create, never replace")),
            request_body(content = $Body, content_type = "application/json"),
            security(("bearer" = [])),
            responses(
                (status = 200, description = "Replaced", body = $Item,
                    headers(("ETag" = String, description = "The new tag"))),
                (status = 201, description = "Created", body = $Item,
                    headers(("Location" = String), ("ETag" = String))),
                (status = 400, description = "Malformed JSON, a wrong type or an unknown field",
                    body = $crate::error::Problem, content_type = "application/problem+json"),
                (status = 401, description = "No valid bearer token",
                    body = $crate::error::Problem, content_type = "application/problem+json"),
                (status = 403, description = "The token's role may not write content",
                    body = $crate::error::Problem, content_type = "application/problem+json"),
                (status = 409, description = "A reference points nowhere",
                    body = $crate::error::Problem, content_type = "application/problem+json"),
                (status = 412, description = "If-Match does not match the current ETag; nothing was written",
                    body = $crate::error::Problem, content_type = "application/problem+json"),
                (status = 413, description = "The body is larger than 1 MiB",
                    body = $crate::error::Problem, content_type = "application/problem+json"),
                (status = 415, description = "The body is not JSON",
                    body = $crate::error::Problem, content_type = "application/problem+json"),
                (status = 422, description = "Invalid values, each named in `errors`",
                    body = $crate::error::Problem, content_type = "application/problem+json"),
                (status = 503, description = "The database is unreachable",
                    body = $crate::error::Problem, content_type = "application/problem+json"),
            ))]
        pub async fn $replace(db: $crate::db::Db, caller: $crate::auth::Caller, req: actix_web::HttpRequest,
            payload: actix_web::web::Payload) -> $crate::error::AppResult<actix_web::HttpResponse> {
            $crate::content::crud::replace::<$R>(db, caller, req, payload).await
        }

        #[utoipa::path(patch, path = $item_path, tag = $tag,
            summary = concat!("Update a ", $singular),
            description = "A JSON merge patch (RFC 7396): the fields sent replace those of the item, `null` \
                clears an optional field, the others stay. Send it as application/merge-patch+json or \
                application/json. Changing the key moves the item (see Content-Location).",
            params($(($scope = String, Path, description = $scope_description),)?
                   ($key = String, Path, description = $key_description),
                   ("If-Match" = Option<String>, Header, description = "The ETag you read")),
            request_body(content(($Body = "application/merge-patch+json"), ($Body = "application/json"))),
            security(("bearer" = [])),
            responses(
                (status = 200, description = "Updated", body = $Item,
                    headers(("ETag" = String, description = "The new tag"))),
                (status = 400, description = "Malformed JSON, a wrong type or an unknown field",
                    body = $crate::error::Problem, content_type = "application/problem+json"),
                (status = 401, description = "No valid bearer token",
                    body = $crate::error::Problem, content_type = "application/problem+json"),
                (status = 403, description = "The token's role may not write content",
                    body = $crate::error::Problem, content_type = "application/problem+json"),
                (status = 404, description = concat!("No such ", $singular),
                    body = $crate::error::Problem, content_type = "application/problem+json"),
                (status = 409, description = "The new key exists, or a reference points nowhere",
                    body = $crate::error::Problem, content_type = "application/problem+json"),
                (status = 412, description = "If-Match does not match the current ETag; nothing was written",
                    body = $crate::error::Problem, content_type = "application/problem+json"),
                (status = 413, description = "The body is larger than 1 MiB",
                    body = $crate::error::Problem, content_type = "application/problem+json"),
                (status = 415, description = "The body is not JSON",
                    body = $crate::error::Problem, content_type = "application/problem+json"),
                (status = 422, description = "Invalid values, each named in `errors`",
                    body = $crate::error::Problem, content_type = "application/problem+json"),
                (status = 503, description = "The database is unreachable",
                    body = $crate::error::Problem, content_type = "application/problem+json"),
            ))]
        pub async fn $update(db: $crate::db::Db, caller: $crate::auth::Caller, req: actix_web::HttpRequest,
            payload: actix_web::web::Payload) -> $crate::error::AppResult<actix_web::HttpResponse> {
            $crate::content::crud::update::<$R>(db, caller, req, payload).await
        }

        #[utoipa::path(delete, path = $item_path, tag = $tag,
            summary = concat!("Delete a ", $singular),
            params($(($scope = String, Path, description = $scope_description),)?
                   ($key = String, Path, description = $key_description),
                   ("If-Match" = Option<String>, Header, description = "The ETag you read")
                   $(, ("cascade" = Option<bool>, Query, description = $cascade_description))?),
            security(("bearer" = [])),
            responses(
                (status = 204, description = "Deleted"),
                (status = 400, description = "An unknown parameter",
                    body = $crate::error::Problem, content_type = "application/problem+json"),
                (status = 401, description = "No valid bearer token",
                    body = $crate::error::Problem, content_type = "application/problem+json"),
                (status = 403, description = "The token's role may not write content",
                    body = $crate::error::Problem, content_type = "application/problem+json"),
                (status = 404, description = concat!("No such ", $singular),
                    body = $crate::error::Problem, content_type = "application/problem+json"),
                (status = 409, description = "Other items still refer to it",
                    body = $crate::error::Problem, content_type = "application/problem+json"),
                (status = 412, description = "If-Match does not match the current ETag; nothing was deleted",
                    body = $crate::error::Problem, content_type = "application/problem+json"),
                (status = 503, description = "The database is unreachable",
                    body = $crate::error::Problem, content_type = "application/problem+json"),
            ))]
        pub async fn $delete(db: $crate::db::Db, caller: $crate::auth::Caller, req: actix_web::HttpRequest)
            -> $crate::error::AppResult<actix_web::HttpResponse> {
            $crate::content::crud::delete::<$R>(db, caller, req).await
        }

        /// The OpenAPI paths and schemas of this resource.
        #[derive(utoipa::OpenApi)]
        #[openapi(paths($list, $get, $create, $replace, $update, $delete), components(schemas($Item, $Body, $List)))]
        pub struct Api;

        pub fn configure(cfg: &mut actix_web::web::ServiceConfig) {
            use actix_web::web;
            cfg.service(
                web::resource($collection)
                    .route(web::get().to($list))
                    .route(web::head().to($list))
                    .route(web::post().to($create))
                    .default_service(web::to(|req| $crate::http::other_method(req, "GET, HEAD, POST"))),
            )
            .service(
                web::resource($item_path)
                    .route(web::get().to($get))
                    .route(web::head().to($get))
                    .route(web::put().to($replace))
                    .route(web::patch().to($update))
                    .route(web::delete().to($delete))
                    .default_service(web::to(|req| {
                        $crate::http::other_method(req, "GET, HEAD, PUT, PATCH, DELETE")
                    })),
            );
        }
    };
}
pub(crate) use resource_endpoints;
