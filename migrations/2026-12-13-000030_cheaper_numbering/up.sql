-- The sequencer's numbering cost more than the batch it numbered: 61 to 176 ms for
-- a batch's 1,000 entries (bench/results.md), for two reasons.
--
-- 1. The append-only guard ran PL/pgSQL for every entry numbered, comparing two
--    JSON copies of the row (46 ms of 1,000). The guard now has a WHEN condition,
--    evaluated without a function call: it fires (and refuses) only when an entry
--    is numbered again, unnumbered, or changed in anything but its position. The
--    condition names every column but `position`; `seesac_guard_changes()` builds
--    it from the catalog, so a migration that adds a column to `changes` calls it
--    again.
CREATE FUNCTION seesac_guard_changes() RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    columns text;
BEGIN
    SELECT string_agg(format('%%1$s.%I', attname), ', ' ORDER BY attnum) INTO columns
      FROM pg_attribute
     WHERE attrelid = 'changes'::regclass AND attnum > 0 AND NOT attisdropped
       AND attname <> 'position';
    DROP TRIGGER IF EXISTS changes_append_only ON changes;
    EXECUTE format(
        'CREATE TRIGGER changes_append_only BEFORE UPDATE ON changes FOR EACH ROW '
        'WHEN (OLD.position IS NOT NULL OR NEW.position IS NULL '
        '      OR ROW(%s) IS DISTINCT FROM ROW(%s)) '
        'EXECUTE FUNCTION seesac_changes_append_only()',
        format(columns, 'NEW'), format(columns, 'OLD'));
END;
$$;
SELECT seesac_guard_changes();

-- 2. The entries to number are found through `changes_unnumbered`, a partial index
--    on `position IS NULL` that keeps an entry for every row numbered since the
--    last vacuum; a bitmap scan read all of them and their heap pages every time
--    (108,052 entries and 9,831 pages for 1,000 rows, 25 ms). A plain index scan
--    marks the dead ones as it passes, so the next numbering skips them (1.3 ms).
ALTER FUNCTION seesac_number_changes(boolean) SET enable_bitmapscan = off;
