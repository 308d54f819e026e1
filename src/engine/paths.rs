//! What a request's path says: its scope and key, and the URL of an item of the
//! same collection.

use actix_web::HttpRequest;

use super::Resource;
use crate::platform::error::{AppError, AppResult};

pub fn not_found<R: Resource>(key: &str) -> AppError {
    let d = R::DESCRIPTOR;
    AppError::NotFound(format!("there is no {} with {} {key}", d.name, d.key))
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
    let scope = match R::DESCRIPTOR.parent {
        Some(_) => values.next().unwrap_or_default(),
        None => String::new(),
    };
    Ok((scope, values.next().unwrap_or_default()))
}

/// The URL of the item `key` in this request's collection: the route's pattern with
/// its parameters filled in, the key last (appended on a collection's route).
pub fn item_url(req: &HttpRequest, key: &str, on_item: bool) -> String {
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

/// Adds `links.self` to an item of the kind `d`, from its key (and its parent's,
/// if nested).
pub fn add_links(d: &super::Descriptor, item: &mut serde_json::Value) {
    use serde_json::Value;
    let key = match item.get(d.key) {
        Some(Value::String(key)) => key.clone(),
        Some(key @ Value::Number(_)) => key.to_string(),
        _ => return,
    };
    let parent = d
        .parent
        .as_ref()
        .and_then(|parent| item.get(parent.column))
        .and_then(Value::as_str);
    let links = crate::platform::http::Links::to(d.url(parent, &key));
    if let Value::Object(object) = item {
        object.insert("links".to_owned(), super::to_json(&links));
    }
}
