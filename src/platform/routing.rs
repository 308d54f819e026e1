//! How the route table (`routes.rs`) becomes the service and its document: each
//! line registers a method, a path, a handler and the `Doc` of the operation. The
//! same lines configure actix-web (with a 405 and `Allow` for every other method on
//! a path, and HEAD wherever GET is) and build the OpenAPI paths, so a route cannot
//! exist undocumented and no path is written twice.

use actix_web::dev::HttpServiceFactory;
use actix_web::http::{Method, header};
use actix_web::middleware::{Condition, from_fn};
use actix_web::{FromRequest, Handler, HttpRequest, HttpResponse, Responder, guard, web};
use utoipa::openapi::HttpMethod;

use crate::platform::error::{AppError, AppResult};
use crate::platform::openapi::Doc;

/// One line of the route table.
pub struct Route {
    pub method: HttpMethod,
    /// The method's name, as HTTP writes it.
    pub method_name: &'static str,
    pub path: String,
    /// Its description in the document, made when the document is.
    pub doc: Box<dyn Fn() -> Doc>,
    /// Whether the read cache keeps its anonymous answers (`get_cached`).
    pub cached: bool,
    handler: actix_web::Route,
}

impl Route {
    /// The names of the path's parameters, in order: `{key}` and `{id}` of
    /// `/api/v1/impact-metrics/{key}/observations/{id}`.
    pub fn path_names(&self) -> Vec<&str> {
        self.path
            .split('{')
            .skip(1)
            .filter_map(|part| part.split('}').next())
            .collect()
    }
}

/// The routes, in the order the table lists them.
#[derive(Default)]
pub struct Table {
    routes: Vec<Route>,
}

/// The methods that add a route: `get(path, handler, doc)`, `post(...)`, and so on,
/// each for one HTTP method, with or without the read cache (`cache`). The bounds
/// are what actix-web's `Route::to` asks of a handler.
macro_rules! methods {
    ($($(#[$doc:meta])* $name:ident($($cached:ident: bool)?) $method:ident $(, $fixed:literal)?;)*) => {$(
        $(#[$doc])*
        pub fn $name<F, Args>(
            &mut self,
            $($cached: bool,)?
            path: impl Into<String>,
            handler: F,
            doc: impl Fn() -> Doc + 'static,
        ) where
            F: Handler<Args>,
            Args: FromRequest + 'static,
            F::Output: Responder + 'static,
        {
            let route = Self::matching(&HttpMethod::$method).to(handler);
            self.add(HttpMethod::$method, path, route, doc, $($cached)? $($fixed)?);
        }
    )*};
}

impl Table {
    /// The table that `lines` fills.
    pub fn of(lines: fn(&mut Table)) -> Self {
        let mut table = Self::default();
        lines(&mut table);
        table
    }

    methods! {
        /// GET, and HEAD with the same answer without its body.
        get() Get, false;
        /// `get`, with its anonymous answers kept by the read cache (`cache`). Only for
        /// reads whose anonymous answer depends on nothing but the URL, `Accept` and the
        /// content tables, whose every change empties the cache.
        get_cached() Get, true;
        /// `get_cached` or `get`, as `cached` says.
        get_as(cached: bool) Get;
        post() Post, false;
        put() Put, false;
        patch() Patch, false;
        delete() Delete, false;
    }

    /// The actix-web route of a method: GET answers HEAD too.
    fn matching(method: &HttpMethod) -> actix_web::Route {
        match method {
            HttpMethod::Get => web::route().guard(guard::Any(guard::Get()).or(guard::Head())),
            HttpMethod::Post => web::post(),
            HttpMethod::Put => web::put(),
            HttpMethod::Patch => web::patch(),
            HttpMethod::Delete => web::delete(),
            HttpMethod::Head => web::head(),
            HttpMethod::Options => web::route().method(Method::OPTIONS),
            HttpMethod::Trace => web::trace(),
        }
    }

    fn add(
        &mut self,
        method: HttpMethod,
        path: impl Into<String>,
        handler: actix_web::Route,
        doc: impl Fn() -> Doc + 'static,
        cached: bool,
    ) {
        let method_name = match method {
            HttpMethod::Get => "GET",
            HttpMethod::Post => "POST",
            HttpMethod::Put => "PUT",
            HttpMethod::Patch => "PATCH",
            HttpMethod::Delete => "DELETE",
            HttpMethod::Head => "HEAD",
            HttpMethod::Options => "OPTIONS",
            HttpMethod::Trace => "TRACE",
        };
        self.routes.push(Route {
            method,
            method_name,
            path: path.into(),
            doc: Box::new(doc),
            cached,
            handler,
        });
    }

    /// Every route, for the document.
    pub fn documented(&self) -> impl Iterator<Item = &Route> {
        self.routes.iter()
    }

    /// Registers the routes with actix-web, one resource per path, and the paths
    /// under `/api/v1/{name}` in one scope per name. The router tries each of its
    /// services in turn, and a path with a parameter is a regular expression: with
    /// 82 such paths side by side, finding `/api/v1/pages/{slug}` ran dozens of
    /// them (6% of a cached read's time); a scope's prefix is compared as text.
    pub fn configure(self, cfg: &mut web::ServiceConfig) {
        let mut scopes: Vec<(Option<String>, Paths)> = Vec::new();
        for route in self.routes {
            let scope = scope_of(&route.path).map(str::to_owned);
            let at = match scopes.iter().position(|(name, _)| *name == scope) {
                Some(at) => at,
                None => {
                    scopes.push((scope, Vec::new()));
                    scopes.len() - 1
                }
            };
            let paths = &mut scopes[at].1;
            match paths.iter_mut().find(|(path, _)| *path == route.path) {
                Some((_, routes)) => routes.push(route),
                None => paths.push((route.path.clone(), vec![route])),
            }
        }
        for (scope, paths) in scopes {
            match scope {
                Some(prefix) => {
                    let mut scope = web::scope(&prefix);
                    for (path, routes) in paths {
                        scope = scope.service(resource(&path[prefix.len()..], routes));
                    }
                    cfg.service(scope);
                }
                None => {
                    for (path, routes) in paths {
                        cfg.service(resource(&path, routes));
                    }
                }
            }
        }
    }
}

/// Paths with their routes, in the order the table first names each.
type Paths = Vec<(String, Vec<Route>)>;

/// The scope a path is registered under: `/api/v1/pages` for `/api/v1/pages` and
/// every path below it; none for a path outside `/api/v1/{name}`.
fn scope_of(path: &str) -> Option<&str> {
    let name = path.strip_prefix("/api/v1/")?.split('/').next()?;
    (!name.is_empty() && !name.contains('{')).then(|| &path[.."/api/v1/".len() + name.len()])
}

/// The resource of one path (relative to its scope): its routes, a 405 with
/// `Allow` for every other method, and the read cache where a route asks for it.
fn resource(path: &str, routes: Vec<Route>) -> impl HttpServiceFactory + use<> {
    let allow = allow_header(&routes);
    let cached = routes.iter().any(|route| route.cached);
    let mut resource = web::resource(path);
    for route in routes {
        resource = resource.route(route.handler);
    }
    resource
        .default_service(web::to(move |req: HttpRequest| {
            other_method(req, allow.clone())
        }))
        .wrap(Condition::new(
            cached,
            from_fn(crate::platform::cache::serve),
        ))
}

/// `Allow` for a path: its methods, with HEAD after GET.
fn allow_header(routes: &[Route]) -> String {
    let mut methods = Vec::new();
    for route in routes {
        methods.push(route.method_name);
        if route.method == HttpMethod::Get {
            methods.push("HEAD");
        }
    }
    methods.join(", ")
}

/// 405 for any method a path does not have; OPTIONS answers 204 with `Allow`.
async fn other_method(req: HttpRequest, allow: String) -> AppResult<HttpResponse> {
    if req.method() == Method::OPTIONS {
        return Ok(HttpResponse::NoContent()
            .insert_header((header::ALLOW, allow))
            .finish());
    }
    Err(AppError::MethodNotAllowed { allow })
}

/// 404 for every path the table does not have.
pub async fn unknown_route(req: HttpRequest) -> AppResult<HttpResponse> {
    Err(AppError::NotFound(format!(
        "there is nothing at {}; the API index is at /",
        req.path()
    )))
}
