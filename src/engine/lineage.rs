//! A column that points to another row of the same table, and the rule that keeps
//! such links from closing a loop.

use diesel::PgConnection;

use crate::platform::error::{AppResult, FieldError, codes};

/// A column that points to another row of the same table: a page's or a funder's
/// `parent`, the decision a decision `supersedes`. Like a reference to an item that
/// does not exist, one that would close a loop conflicts with what is stored: a 409.
#[derive(Debug)]
pub struct Lineage {
    pub table: &'static str,
    pub key: &'static str,
    pub parent: &'static str,
}

impl Lineage {
    /// Refuses a link to the item itself or to one after it in its own line, which
    /// would close a loop. `key` is the item's key, `old_key` its key before this
    /// write. The resource's write lock serialises its writes, so two writes
    /// cannot close a loop between them.
    pub fn check(
        &self,
        conn: &mut PgConnection,
        key: &str,
        old_key: Option<&str>,
        parent: Option<&str>,
    ) -> AppResult<()> {
        use diesel::prelude::*;
        use diesel::sql_types::Text;

        #[derive(QueryableByName)]
        struct Ancestor {
            #[diesel(sql_type = Text)]
            key: String,
        }

        let Some(parent) = parent else { return Ok(()) };
        let own = |candidate: &str| candidate == key || old_key == Some(candidate);
        let pointer = format!("/{}", self.parent);
        if own(parent) {
            return Err(
                FieldError::coded(codes::LOOP, pointer, "cannot point to the item itself").into(),
            );
        }
        let ancestors: Vec<Ancestor> = diesel::sql_query(format!(
            "WITH RECURSIVE up(key, parent, depth) AS ( \
                 SELECT {key}, {parent}, 1 FROM {table} WHERE {key} = $1 \
                 UNION ALL \
                 SELECT t.{key}, t.{parent}, up.depth + 1 FROM {table} t \
                 JOIN up ON t.{key} = up.parent WHERE up.depth < 1000) \
             SELECT key FROM up",
            key = self.key,
            parent = self.parent,
            table = self.table,
        ))
        .bind::<Text, _>(parent)
        .load(conn)?;
        if ancestors.iter().any(|ancestor| own(&ancestor.key)) {
            return Err(FieldError::coded(
                codes::LOOP,
                pointer,
                format!(
                    "{parent} comes after this item in its own line: the link would make a loop"
                ),
            )
            .into());
        }
        Ok(())
    }
}
