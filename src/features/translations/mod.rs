//! Localised content: the enabled locales (`GET /api/v1/locales`) and the
//! translations of each item (`{item}/translations/{locale}`). Reading an item in
//! a locale is the engine's (`engine::localise`).

mod docs;
mod fields;
mod stored;
mod work;
mod write;

pub use docs::{locale_param, routes};
pub use fields::{check_fields, with_html, without_html};
pub use stored::{Translation, kept};
pub use work::{list_work, list_work_doc};
pub use write::{Asked, restore};

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Serialize;
use utoipa::ToSchema;

use crate::platform::auth::Caller;
use crate::platform::error::AppResult;
use crate::platform::http;
use crate::platform::locale::{Locale, Locales};
use crate::platform::openapi::problems::{BadParameter, BadToken};
use crate::platform::openapi::{Answer, Doc, Security};
use crate::platform::query;

/// The enabled locales.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"data": [
    {"tag": "en", "default": true, "fallbacks": []},
    {"tag": "cnr", "default": false, "fallbacks": ["sr-Latn", "en"]}]}))]
pub struct LocaleList {
    /// The default first, then the others in the order they are configured.
    pub data: Vec<Locale>,
}

/// `GET /api/v1/locales`.
pub async fn list_locales(
    locales: web::Data<Locales>,
    caller: Caller,
    req: HttpRequest,
) -> AppResult<HttpResponse> {
    query::Params::none(req.query_string())?;
    let list = LocaleList {
        data: locales.all().to_vec(),
    };
    Ok(http::read(
        &req,
        &caller,
        &crate::engine::to_json(&list),
        &[],
    ))
}

pub fn list_locales_doc() -> Doc {
    Doc::new("list_locales", "locales", "List the locales")
        .describe(
            "The locales content can be read in (`?locale=` or `Accept-Language`), each with the \
             locales a field missing in it is taken from, in order. The default's fields are the \
             items' own.",
        )
        .security(Security::Public)
        .schema::<Locale>()
        .schema::<LocaleList>()
        .answer(Answer::json(200, "The locales", "LocaleList").header("ETag", "Its tag"))
        .answer(Answer::not_modified())
        .problems::<(BadParameter, BadToken)>()
}
