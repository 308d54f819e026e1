-- A list read in a locale whose chain has one locale besides the default (every
-- enabled locale but `cnr`) joins its items' translations instead of reading them
-- with a subquery per row: 0.05-0.15 ms less per list of 20 (pgbench on the
-- prepared statements, bench/results.md). The join goes through this view, whose
-- columns are named so that no column of a content table (`id`, `status`,
-- `version`, ...) is ambiguous in the SQL the lists write unqualified. PostgreSQL
-- folds the view into the query, and drops the join from a list's count, which
-- the unique (kind, item_id, locale) lets it do.
CREATE VIEW translated AS
SELECT kind AS translated_kind,
       item_id AS translated_item,
       locale AS translated_locale,
       status AS translated_status,
       fields AS translated_fields
  FROM translations;
