-- Back to the one trigger function that runs its statements with EXECUTE.
DO $$
DECLARE
    k record;
    op text;
BEGIN
    FOR k IN SELECT * FROM seesac_kinds LOOP
        FOREACH op IN ARRAY ARRAY['INSERT', 'UPDATE', 'DELETE'] LOOP
            EXECUTE format('DROP TRIGGER IF EXISTS %I ON %I', k.table_name || '_log_' || lower(op), k.table_name);
            EXECUTE format('CREATE TRIGGER %I AFTER %s ON %I REFERENCING %s FOR EACH STATEMENT '
                           'EXECUTE FUNCTION seesac_log(%L)',
                           k.table_name || '_log_' || lower(op), op, k.table_name,
                           CASE op WHEN 'INSERT' THEN 'NEW TABLE AS new_rows'
                                   WHEN 'UPDATE' THEN 'OLD TABLE AS old_rows NEW TABLE AS new_rows'
                                   ELSE 'OLD TABLE AS old_rows' END, k.kind);
            EXECUTE format('DROP FUNCTION IF EXISTS %I()', 'seesac_log_' || k.table_name || '_' || lower(op));
        END LOOP;
    END LOOP;
END;
$$;
CREATE OR REPLACE FUNCTION seesac_register_kind(kind text, table_name text, key_column text,
                                     parent_column text DEFAULT NULL, parent_kind text DEFAULT NULL)
-- Columns and indexes a table has already are skipped quietly.
RETURNS void LANGUAGE plpgsql SET client_min_messages = warning AS $$
DECLARE
    kinds text;
BEGIN
    IF parent_kind IS NOT NULL AND
       (SELECT s.parent_kind FROM seesac_kinds s WHERE s.kind = seesac_register_kind.parent_kind) IS NOT NULL THEN
        RAISE EXCEPTION 'the parent kind % has a parent itself: only one level is supported', parent_kind;
    END IF;
    INSERT INTO seesac_kinds VALUES (kind, table_name, key_column, parent_column, parent_kind);
    EXECUTE format(
        'ALTER TABLE %I '
        'ADD COLUMN IF NOT EXISTS id uuid PRIMARY KEY DEFAULT gen_random_uuid(), '
        'ADD COLUMN IF NOT EXISTS status text NOT NULL DEFAULT ''draft'' '
        '    CHECK (status IN (''draft'', ''published'', ''archived'')), '
        'ADD COLUMN IF NOT EXISTS published_at timestamptz, '
        'ADD COLUMN IF NOT EXISTS version integer NOT NULL DEFAULT 1, '
        'ADD COLUMN IF NOT EXISTS created_at timestamptz NOT NULL DEFAULT now(), '
        'ADD COLUMN IF NOT EXISTS updated_at timestamptz NOT NULL DEFAULT now(), '
        'ADD COLUMN IF NOT EXISTS etag text NOT NULL DEFAULT seesac_new_etag()', table_name);
    PERFORM seesac_install_versioning(table_name);
    EXECUTE format('CREATE TRIGGER %I AFTER INSERT ON %I REFERENCING NEW TABLE AS new_rows '
                   'FOR EACH STATEMENT EXECUTE FUNCTION seesac_log(%L)', table_name || '_log_insert', table_name, kind);
    EXECUTE format('CREATE TRIGGER %I AFTER UPDATE ON %I REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows '
                   'FOR EACH STATEMENT EXECUTE FUNCTION seesac_log(%L)', table_name || '_log_update', table_name, kind);
    EXECUTE format('CREATE TRIGGER %I AFTER DELETE ON %I REFERENCING OLD TABLE AS old_rows '
                   'FOR EACH STATEMENT EXECUTE FUNCTION seesac_log(%L)', table_name || '_log_delete', table_name, kind);
    EXECUTE format('CREATE INDEX IF NOT EXISTS %I ON %I (published_at) WHERE status = ''published''',
                   table_name || '_scheduled_idx', table_name);
    SELECT string_agg(quote_literal(s.kind), ', ' ORDER BY s.kind) INTO kinds FROM seesac_kinds s;
    ALTER TABLE changes DROP CONSTRAINT IF EXISTS changes_type_check;
    EXECUTE format('ALTER TABLE changes ADD CONSTRAINT changes_type_check CHECK (type IN (%s))', kinds);
END;
$$;
REVOKE EXECUTE ON FUNCTION seesac_register_kind(text, text, text, text, text) FROM PUBLIC;
DROP FUNCTION seesac_install_log(text);
DROP FUNCTION seesac_log_statements(text, text, boolean);
