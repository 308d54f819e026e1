//! What an answer shows of each item: `fields` (its own fields), `include` (what
//! it embeds) and `fields[name]` (the fields of what it embeds), checked against
//! the spec. A dotted field (`children.title`) is a 400 that shows the form taken.

use super::params::{Params, list_items};
use super::{ListSpec, View};
use crate::platform::error::{AppError, AppResult};

/// An embedding and the kind of its items, for `fields[name]`.
#[derive(Debug)]
pub struct Embed {
    pub name: &'static str,
    /// Where the item shows them: its name, unless said (`parent_funder`).
    pub key: &'static str,
    /// The spec of the embedded items; `None`: the same kind (a page's children).
    pub of: Option<fn() -> &'static ListSpec>,
}

impl Embed {
    /// Items of the same kind (a page's children, a funder's parent).
    pub const fn same(name: &'static str) -> Self {
        Self {
            name,
            key: name,
            of: None,
        }
    }

    /// Items of another kind, whose spec `of` gives.
    pub const fn of(name: &'static str, of: fn() -> &'static ListSpec) -> Self {
        Self {
            name,
            key: name,
            of: Some(of),
        }
    }

    /// The spec of its items, as embedded in items of `owner`.
    pub fn spec_in(&self, owner: &'static ListSpec) -> &'static ListSpec {
        self.of.map_or(owner, |of| of())
    }

    /// Shown under `key` rather than its name.
    pub const fn at(self, key: &'static str) -> Self {
        Self { key, ..self }
    }
}

/// Parses `fields` and `include` against the spec.
fn parse_view(spec: &ListSpec, key: &str, raw: &str, view: &mut View) -> AppResult<()> {
    let items = list_items(key, raw)?;
    if key == "fields" {
        view.fields = Some(field_names(spec, key, &items)?);
    } else {
        for item in items {
            let relation = spec.includes.iter().find(|r| **r == item).ok_or_else(|| {
                let allowed = if spec.includes.is_empty() {
                    "nothing".to_owned()
                } else {
                    spec.includes.join(", ")
                };
                AppError::bad_request(
                    key,
                    format!(
                        "unknown relation {item} in include; this resource can include {allowed}"
                    ),
                )
            })?;
            if !view.include.contains(relation) {
                view.include.push(relation);
            }
        }
    }
    Ok(())
}

/// The fields `items` names, each a field of `spec`, for the parameter `key`. A
/// dotted name (`children.title`) is a 400 that shows the form we take.
fn field_names(spec: &ListSpec, key: &str, items: &[&str]) -> AppResult<Vec<&'static str>> {
    let mut fields = Vec::new();
    for item in items {
        if let Some((embedding, field)) = item.split_once('.') {
            return Err(AppError::bad_request(
                key,
                format!(
                    "{key} names an item's own fields; an embedded item's go in a parameter of \
                     their own: fields[{embedding}]={field}"
                ),
            ));
        }
        let field = spec.field(item).ok_or_else(|| {
            let names: Vec<&str> = spec.all_fields().map(|f| f.name).collect();
            AppError::bad_request(
                key,
                format!(
                    "unknown field {item} in {key}; fields are {}",
                    names.join(", ")
                ),
            )
        })?;
        if !fields.contains(&field.name) {
            fields.push(field.name);
        }
    }
    Ok(fields)
}

/// `fields[name]=a,b`: the fieldset of the items embedded as `name`, which must be
/// embedded (by `include`, or always, as a metric's `latest`).
fn parse_nested(spec: &'static ListSpec, name: &str, raw: &str, view: &mut View) -> AppResult<()> {
    let key = format!("fields[{name}]");
    let Some(embed) = spec.embeds.iter().find(|embed| embed.name == name) else {
        let names: Vec<&str> = spec.embeds.iter().map(|embed| embed.name).collect();
        let allowed = if names.is_empty() {
            "nothing is embedded here".to_owned()
        } else {
            format!("this resource embeds {}", names.join(", "))
        };
        return Err(AppError::bad_request(
            &key,
            format!("{key} names no embedding; {allowed}"),
        ));
    };
    // What is embedded by an include needs it: `fields[blocks.metrics]` needs
    // `include=blocks`.
    let first = |name: &'static str| name.split('.').next().unwrap_or(name);
    let relation = first(embed.name);
    let included = view.include.iter().any(|name| first(name) == relation);
    if spec.includes.contains(&relation) && !included {
        return Err(AppError::bad_request(
            &key,
            format!("{key} needs include={relation}"),
        ));
    }
    let items = list_items(&key, raw)?;
    let fields = field_names(embed.spec_in(spec), &key, &items)?;
    view.nested.push((embed.key, fields));
    Ok(())
}

/// `fields` and `include` for a single item; nothing else is accepted.
pub fn parse_item_view(spec: &'static ListSpec, query_string: &str) -> AppResult<View> {
    let mut params = Params::parse(query_string)?;
    let view = take_view(spec, &mut params)?;
    params.finish()?;
    Ok(view)
}

/// `fields` and `include`, from the parameters.
pub(super) fn take_view(spec: &'static ListSpec, params: &mut Params) -> AppResult<View> {
    let mut view = View::default();
    for key in ["fields", "include"] {
        if let Some(raw) = params.take(key) {
            parse_view(spec, key, &raw, &mut view)?;
        }
    }
    if !spec.embeds.is_empty() {
        for (name, raw) in params.take_bracketed("fields") {
            parse_nested(spec, &name, &raw, &mut view)?;
        }
    }
    if spec.translatable().next().is_some() {
        view.asked_locale = params.take("locale");
        if params.has("fallback") {
            view.fallback = Some(params.flag("fallback")?);
        }
    }
    Ok(view)
}
