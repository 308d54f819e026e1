DELETE FROM changes WHERE type = 'asset';
DELETE FROM seesac_kinds WHERE kind = 'asset';
DROP TABLE assets;
DO $$
DECLARE
    kinds text;
BEGIN
    SELECT string_agg(quote_literal(s.kind), ', ' ORDER BY s.kind) INTO kinds FROM seesac_kinds s;
    ALTER TABLE changes DROP CONSTRAINT IF EXISTS changes_type_check;
    EXECUTE format('ALTER TABLE changes ADD CONSTRAINT changes_type_check CHECK (type IN (%s))', kinds);
END
$$;
