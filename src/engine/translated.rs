//! How a read in a locale other than the default reads its items' translations
//! in the items' own query, instead of a query of its own: with a join where the
//! locale's chain has one locale besides the default, otherwise an item's with a
//! call of `seesac_translations_of` and a list's with a subquery per row.

use diesel::sql_types::{Bool, Jsonb, Nullable};

use super::Descriptor;
use super::localise::default_of;
use crate::platform::db::prepared::Known;
use crate::platform::query::View;
use crate::platform::visibility::Access;

diesel::define_sql_function! {
    /// The translations of an item into `locales` (`{locale: fields}`), published
    /// ones only if asked: a function of the database (migration 000022).
    fn seesac_translations_of(
        kind: diesel::sql_types::Text,
        item: diesel::sql_types::Uuid,
        locales: diesel::sql_types::Array<diesel::sql_types::Text>,
        published_only: diesel::sql_types::Bool,
    ) -> diesel::sql_types::Nullable<diesel::sql_types::Jsonb>;
}

/// A read in a locale other than the default that reads its items' translations
/// in the items' own query: one column, the row's translations into the chain's
/// locales (`{locale: fields}`), by the unique index. It saves the round trip that
/// `overlay` would otherwise make. With one such locale the read joins them
/// (`join_on`); with more, an item's read calls `seesac_translations_of` and a
/// list's has a subquery (`column`). Every value is bound, never written in, so
/// that each statement stays one the connection keeps prepared.
#[derive(Debug, Clone)]
pub struct Translated {
    pub kind: &'static str,
    pub locales: Vec<String>,
    pub published_only: bool,
}

impl Translated {
    /// For a read of `kind` in `view`'s locale by a caller with `access`: none in
    /// the default locale, nor for a kind without translatable fields.
    pub fn of(kind: &Descriptor, view: &View, access: Access) -> Option<Self> {
        let requested = view.locale.as_ref()?;
        let default = default_of(requested);
        let locales: Vec<String> = requested
            .chain()
            .iter()
            .filter(|tag| **tag != default)
            .map(|tag| (*tag).to_owned())
            .collect();
        (!locales.is_empty() && kind.spec.translatable().next().is_some()).then(|| Self {
            kind: kind.kind,
            locales,
            published_only: access.public_only(),
        })
    }

    /// The join condition of a list of `table` whose chain has one locale besides
    /// the default, over the view `translated` (migration 000031): the row's
    /// translation into it, if any, in the same statement shape in every such
    /// locale. `None` for a longer chain (`cnr`). A join costs the database less
    /// than a subquery or a function call per row (bench/results.md). An item's
    /// read writes the same condition in diesel's terms (`table_resource!`), so
    /// that its statement is known by its type and its SQL is not written again
    /// for every read; a list's SQL is written for every read anyway.
    pub fn join_on(&self, table: &str) -> Option<(Known<Bool>, &str)> {
        let [locale] = self.locales.as_slice() else {
            return None;
        };
        let on = Known::kept("translated.translated_kind = ")
            .text(self.kind)
            .sql(format!(
                " AND translated.translated_item = {table}.id AND translated.translated_locale = "
            ))
            .text(locale.as_str())
            .sql(" AND (translated.translated_status = 'published' OR NOT ")
            .flag(self.published_only)
            .sql(")");
        Some((on, locale))
    }

    /// What a join read of a row's translation into `locale` (`join_on`), as the
    /// overlay takes a row's translations: `{locale: fields}`, empty without one.
    pub fn by_locale(locale: &str, fields: Option<serde_json::Value>) -> serde_json::Value {
        let mut by_locale = serde_json::Map::new();
        if let Some(fields) = fields {
            by_locale.insert(locale.to_owned(), fields);
        }
        serde_json::Value::Object(by_locale)
    }

    /// The column over the rows of `table`, for a list whose chain `join_on`
    /// leaves out: a subquery costs the database less per row than a call of the
    /// function. The kind, the locales and
    /// whether only published translations count are bound, so that a list's
    /// statement is the same in every locale, and one the connection may keep
    /// prepared (`Known`).
    pub fn column(&self, table: &str) -> Known<Nullable<Jsonb>> {
        Known::kept(
            "(SELECT jsonb_object_agg(tr.locale, tr.fields) FROM translations tr WHERE tr.kind = ",
        )
        .text(self.kind)
        .sql(format!(" AND tr.item_id = {table}.id AND tr.locale = ANY("))
        .texts(self.locales.clone())
        .sql(") AND (tr.status = 'published' OR NOT ")
        .flag(self.published_only)
        .sql("))")
    }
}
