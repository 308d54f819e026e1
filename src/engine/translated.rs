//! How a read in a locale other than the default finds its items' translations:
//! from what this process keeps of the translations it has read, while the
//! database's translations token is the one the read's own statement saw
//! (`TokenColumn`, migration 000033). What it does not keep yet is read in one
//! statement for all the items of the answer, and kept.
//!
//! Every committed write of translations changes the token, whoever wrote them (an
//! instance, a command line, psql), so a read never shows translations older than
//! its own statement's snapshot; but its statement reads one row more, not a row
//! per item (docs/decisions.md, "Translations kept in memory").

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex, MutexGuard, PoisonError};

use diesel::PgConnection;
use diesel::expression::is_aggregate;
use diesel::expression::{AppearsOnTable, Expression, SelectableExpression, ValidGrouping};
use diesel::pg::Pg;
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::result::QueryResult;
use diesel::sql_types::{BigInt, Nullable};
use serde_json::{Map, Value};
use uuid::Uuid;

use super::Descriptor;
use crate::platform::error::AppResult;
use crate::platform::query::View;
use crate::platform::visibility::Access;

/// About this many bytes of translations' text are kept (the maps around them take
/// more); past it, what is kept is let go and kept again as reads need it.
const KEPT_BYTES: usize = 16 << 20;

/// Whether a read of `kind` in `view`'s locale shows translations: not in the
/// default locale, nor for a kind without translatable fields.
pub fn shown(kind: &Descriptor, view: &View) -> bool {
    view.locale
        .as_ref()
        .is_some_and(|requested| !requested.locale.default)
        && kind.spec.translatable().next().is_some()
}

/// The translations token a read's statement saw.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token(pub i64);

/// The column a read in a locale selects beside its rows: the translations token
/// as its statement sees it. One row of a one-row table, read once per statement.
/// A type of its own, so that the statement is known by its type and kept
/// prepared without its SQL being written again for every read.
#[derive(Debug, Clone, Copy, QueryId)]
pub struct TokenColumn;

/// The token as a statement sees it: `TokenColumn`'s SQL, and the miss's read's.
const TOKEN_SQL: &str = "(SELECT token FROM translations_token)";

impl Expression for TokenColumn {
    type SqlType = Nullable<BigInt>;
}

impl<QS> AppearsOnTable<QS> for TokenColumn {}

impl<QS> SelectableExpression<QS> for TokenColumn {}

impl<GB> ValidGrouping<GB> for TokenColumn {
    type IsAggregate = is_aggregate::Never;
}

impl QueryFragment<Pg> for TokenColumn {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_sql(TOKEN_SQL);
        Ok(())
    }
}

/// One item's translation into one locale.
#[derive(Debug)]
pub struct Translation {
    published: bool,
    pub fields: Map<String, Value>,
}

/// The translations of items, by id: for each locale asked for, in its order, the
/// item's translation, or `None` where it has none the caller may see.
pub type ByItem = HashMap<Uuid, Vec<Option<Arc<Translation>>>>;

/// The translations of the items `ids` of `kind` into `locales`, as a caller with
/// `access` sees them (an anonymous one, published ones only). With the `token`
/// the items' own statement saw, what is kept under it is used and what is read
/// is kept; without one (a read that did not ask), all is read.
pub fn of_items(
    conn: &mut PgConnection,
    kind: &'static str,
    ids: &[Uuid],
    locales: &[String],
    access: Access,
    token: Option<Token>,
) -> AppResult<ByItem> {
    let mut found: ByItem = HashMap::with_capacity(ids.len());
    let mut missing: Vec<Uuid> = Vec::new();
    match token {
        Some(token) => {
            let mut kept = kept();
            kept.turn_to(token);
            for id in ids {
                match kept.get(kind, *id, locales) {
                    Some(translations) => {
                        found.insert(*id, translations);
                    }
                    None => missing.push(*id),
                }
            }
        }
        None => missing.extend_from_slice(ids),
    }
    if !missing.is_empty() {
        let (read, seen) = read(conn, kind, &missing, locales)?;
        // Kept only if this statement saw the same translations as the items' own:
        // a write committed between the two would otherwise be kept under the
        // token from before it.
        if let Some(token) = token.filter(|token| seen == Some(*token)) {
            let mut kept = kept();
            if kept.token == Some(token) {
                for (id, translations) in &read {
                    kept.keep(kind, *id, locales, translations);
                }
            }
        }
        found.extend(read);
    }
    if access.public_only() {
        for slot in found.values_mut().flatten() {
            if slot
                .as_ref()
                .is_some_and(|translation| !translation.published)
            {
                *slot = None;
            }
        }
    }
    Ok(found)
}

/// The translations of `ids` into `locales`, whatever their status, in one
/// statement by the unique index: `None` where an item has none. With them, the
/// translations token that statement saw.
fn read(
    conn: &mut PgConnection,
    kind: &str,
    ids: &[Uuid],
    locales: &[String],
) -> AppResult<(ByItem, Option<Token>)> {
    use diesel::prelude::*;
    use diesel::sql_types::{Array, Bool, Jsonb, Nullable, Text};

    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = Nullable<diesel::sql_types::Uuid>)]
        item_id: Option<Uuid>,
        #[diesel(sql_type = Nullable<Text>)]
        locale: Option<String>,
        #[diesel(sql_type = Nullable<Bool>)]
        published: Option<bool>,
        #[diesel(sql_type = Nullable<Jsonb>)]
        fields: Option<Value>,
        #[diesel(sql_type = Nullable<BigInt>)]
        token: Option<i64>,
    }

    // The token's one row joined to the translations found, so that it comes
    // back even when none is.
    let rows: Vec<Row> = diesel::sql_query(format!(
        "SELECT t.item_id, t.locale, t.status = 'published' AS published, t.fields, \
         seen.token FROM translations t RIGHT JOIN (SELECT {TOKEN_SQL} AS token) seen \
         ON t.kind = $1 AND t.item_id = ANY($2) AND t.locale = ANY($3)"
    ))
    .bind::<Text, _>(kind)
    .bind::<Array<diesel::sql_types::Uuid>, _>(ids)
    .bind::<Array<Text>, _>(locales)
    .load(conn)?;
    let seen = rows.first().and_then(|row| row.token).map(Token);
    let mut read: ByItem = ids
        .iter()
        .map(|id| (*id, vec![None; locales.len()]))
        .collect();
    for row in rows {
        let (Some(id), Some(locale), Some(Value::Object(fields))) =
            (row.item_id, row.locale, row.fields)
        else {
            continue;
        };
        if let (Some(slots), Some(at)) = (
            read.get_mut(&id),
            locales.iter().position(|known| *known == locale),
        ) {
            slots[at] = Some(Arc::new(Translation {
                published: row.published.unwrap_or(false),
                fields,
            }));
        }
    }
    Ok((read, seen))
}

/// What this process keeps: the translations read under `token`, by kind, item
/// and locale, an item without one in a locale kept as `None`.
#[derive(Default)]
struct Kept {
    token: Option<Token>,
    bytes: usize,
    items: HashMap<(&'static str, Uuid), Vec<KeptIn>>,
}

/// An item's translation into a locale, or `None` if it has none there.
type KeptIn = (String, Option<Arc<Translation>>);

static KEPT: LazyLock<Mutex<Kept>> = LazyLock::new(Mutex::default);

fn kept() -> MutexGuard<'static, Kept> {
    KEPT.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Kept {
    /// Ready for a read that saw `token`: all that is kept let go if it was kept
    /// under another (the translations have changed since, or the read's snapshot
    /// is older than what is kept, or it is another database's).
    fn turn_to(&mut self, token: Token) {
        if self.token != Some(token) {
            *self = Self {
                token: Some(token),
                ..Self::default()
            };
        }
    }

    /// The item's translations into `locales`, if all are kept.
    fn get(
        &self,
        kind: &'static str,
        id: Uuid,
        locales: &[String],
    ) -> Option<Vec<Option<Arc<Translation>>>> {
        let item = self.items.get(&(kind, id))?;
        locales
            .iter()
            .map(|locale| {
                item.iter()
                    .find(|(kept, _)| kept == locale)
                    .map(|(_, translation)| translation.clone())
            })
            .collect()
    }

    /// Keeps the item's `translations` into `locales` that are not kept yet,
    /// letting all go first if they would take it past `KEPT_BYTES`.
    fn keep(
        &mut self,
        kind: &'static str,
        id: Uuid,
        locales: &[String],
        translations: &[Option<Arc<Translation>>],
    ) {
        let kept = self.items.get(&(kind, id));
        let new: Vec<(&String, &Option<Arc<Translation>>)> = locales
            .iter()
            .zip(translations)
            .filter(|(locale, _)| kept.is_none_or(|item| !item.iter().any(|(k, _)| k == *locale)))
            .collect();
        let weight: usize = new
            .iter()
            .map(|(locale, translation)| {
                let fields = translation.as_ref().map_or(0, |t| weight(&t.fields));
                locale.len() + fields + 64
            })
            .sum();
        if self.bytes + weight > KEPT_BYTES {
            self.items.clear();
            self.bytes = 0;
        }
        self.bytes += weight;
        let item = self.items.entry((kind, id)).or_default();
        for (locale, translation) in new {
            item.push((locale.clone(), translation.clone()));
        }
    }
}

/// About what fields take in memory: their text, and a little per value.
fn weight(fields: &Map<String, Value>) -> usize {
    fn of(value: &Value) -> usize {
        32 + match value {
            Value::String(text) => text.len(),
            Value::Array(items) => items.iter().map(of).sum(),
            Value::Object(object) => object.iter().map(|(k, v)| k.len() + of(v)).sum(),
            _ => 0,
        }
    }
    fields
        .iter()
        .map(|(key, value)| key.len() + of(value))
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn translation(title: &str) -> Option<Arc<Translation>> {
        let mut fields = Map::new();
        fields.insert("title".to_owned(), Value::String(title.to_owned()));
        Some(Arc::new(Translation {
            published: true,
            fields,
        }))
    }

    fn title(kept: &Kept, id: Uuid, locales: &[String]) -> Option<Vec<Option<String>>> {
        kept.get("page", id, locales).map(|found| {
            found
                .iter()
                .map(|t| t.as_ref().map(|t| t.fields["title"].to_string()))
                .collect()
        })
    }

    #[test]
    fn what_is_kept_serves_only_under_its_token_and_for_the_locales_kept() {
        let (id, sq, cnr) = (Uuid::new_v4(), "sq".to_owned(), "cnr".to_owned());
        let mut kept = Kept::default();
        kept.turn_to(Token(1));
        kept.keep(
            "page",
            id,
            std::slice::from_ref(&sq),
            &[translation("Misioni")],
        );
        let only_sq = std::slice::from_ref(&sq);
        assert_eq!(
            title(&kept, id, only_sq),
            Some(vec![Some("\"Misioni\"".into())])
        );
        // Another kind, or a locale not kept, is not served.
        assert!(kept.get("funder", id, only_sq).is_none());
        assert!(title(&kept, id, &[sq.clone(), cnr.clone()]).is_none());
        // Keeping what is kept again adds nothing to its weight.
        let bytes = kept.bytes;
        kept.keep(
            "page",
            id,
            &[sq.clone(), cnr.clone()],
            &[translation("x"), None],
        );
        assert_eq!(
            title(&kept, id, std::slice::from_ref(&cnr)),
            Some(vec![None])
        );
        assert_eq!(
            title(&kept, id, only_sq),
            Some(vec![Some("\"Misioni\"".into())])
        );
        assert_eq!(kept.bytes, bytes + cnr.len() + 64);
        // Another token lets all go.
        kept.turn_to(Token(2));
        assert!(title(&kept, id, only_sq).is_none());
        assert_eq!(kept.bytes, 0);
    }

    #[test]
    fn past_its_bound_all_is_let_go() {
        let sq = ["sq".to_owned()];
        let big = "a".repeat(KEPT_BYTES / 2 + 1);
        let (first, second) = (Uuid::new_v4(), Uuid::new_v4());
        let mut kept = Kept::default();
        kept.turn_to(Token(1));
        kept.keep("page", first, &sq, &[translation(&big)]);
        assert!(kept.get("page", first, &sq).is_some());
        kept.keep("page", second, &sq, &[translation(&big)]);
        assert!(kept.get("page", first, &sq).is_none());
        assert!(kept.get("page", second, &sq).is_some());
        assert!(kept.bytes <= KEPT_BYTES);
    }
}
