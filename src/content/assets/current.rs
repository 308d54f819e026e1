//! `/assets/{id}`: the stable URL of an asset's bytes, a redirect to the URL that
//! names them now (which carries their hash), or to one of its variants.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};

use super::serve::{self, url_of, visible};
use super::variants::{self, Variant};
use crate::platform::auth::Caller;
use crate::platform::db::Db;
use crate::platform::error::AppResult;
use crate::platform::openapi::problems::{BadParameter, BadToken, NotFound, Unavailable};
use crate::platform::openapi::{Answer, Doc, Security};
use crate::platform::query::Params;

/// The stable URL: a redirect to where the asset's bytes are now.
pub async fn get_current(
    db: Db,
    caller: Caller,
    req: HttpRequest,
    path: web::Path<String>,
) -> AppResult<HttpResponse> {
    let asset = visible(&db, &caller, path.into_inner(), false).await?;
    // A variant asked for here (a Markdown image's srcset) is sent to its URL.
    let location = match Variant::parse(req.query_string(), &asset.media_type)? {
        None => {
            Params::none(req.query_string())?;
            url_of(&asset)
        }
        Some(variant) => {
            let focus = variants::focus_of(variant.fit, asset.focal_x.zip(asset.focal_y));
            format!("{}?{}", url_of(&asset), variant.query(focus.as_deref()))
        }
    };
    Ok(HttpResponse::Found()
        .insert_header((header::LOCATION, location))
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .finish())
}

pub fn get_current_doc() -> Doc {
    Doc::new("get_asset_current", "assets", "Go to an asset's bytes")
        .describe(
            "A stable URL for an asset: a 302 to its `url`, which no one caches; with a \
             variant's parameters, to the variant's (a Markdown image's `srcset`).",
        )
        .security(Security::Public)
        .path_param(
            "The asset's id",
            Some("5eed0000-0000-4000-8000-000000000901"),
        )
        .params(serve::variant_params())
        .answer(
            Answer::empty(302, "Found: `Location` is the asset's `url`")
                .header("Location", "The asset's url"),
        )
        .problems::<(BadParameter, BadToken, NotFound, Unavailable)>()
}
