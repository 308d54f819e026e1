-- The change log's trigger, planned once per session: `seesac_log` builds its
-- statements with format() and runs them with EXECUTE, which PostgreSQL parses and
-- plans again at every statement (a quarter of its time under a load of PUTs,
-- bench/results.md). Each kind now gets trigger functions of its own, generated
-- from the same statements, as static SQL that PL/pgSQL plans once per session,
-- for a statement of up to 16 rows (a write of one item); a statement of more (a
-- batch) still runs them with EXECUTE, planned for its rows. The statements are
-- seesac_log's, with its parameters ($1 to $6) as variables in the static ones.

-- The statement `seesac_log` runs for `op` on `kind` (and, for an update, those
-- for the kinds whose items are visible only with this one's), as static SQL.
CREATE FUNCTION seesac_log_statements(kind_name text, op text, static boolean) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    k record;
    dependent record;
    columns text := 'INSERT INTO changes (type, key, parent, item_id, action, version, item, moved, '
                    'public_action, actor, partner, request_id, address, at) ';
    public_of text;
    join_of text;
    parent_of text;
    sql text;
    statements text[];
BEGIN
    SELECT s.*, p.table_name AS parent_table, p.key_column AS parent_key
      INTO k FROM seesac_kinds s LEFT JOIN seesac_kinds p ON p.kind = s.parent_kind
     WHERE s.kind = kind_name;
    IF k.parent_kind IS NULL THEN
        public_of := 'seesac_public_from(%1$s.status, %1$s.published_at)';
        join_of := '';
        parent_of := 'NULL::text';
    ELSE
        public_of := 'seesac_public_with(seesac_public_from(%1$s.status, %1$s.published_at), '
                     'seesac_public_from(%2$s.status, %2$s.published_at))';
        join_of := format('LEFT JOIN %I %%2$s ON %%2$s.%I = %%1$s.%I', k.parent_table, k.parent_key,
                          k.parent_column);
        parent_of := format('%%1$s.%I', k.parent_column);
    END IF;
    IF op = 'INSERT' THEN
        sql := columns || format(
            'SELECT $1, r.%1$I::text, %2$s, r.id, ''created'', r.version, seesac_stored(to_jsonb(r)), NULL, '
            '       CASE WHEN %3$s <= $2 THEN ''created'' END, $3, $4, $5, $6, $2 '
            '  FROM new_rows r %4$s ORDER BY r.%1$I',
            k.key_column, format(parent_of, 'r'), format(public_of, 'r', 'pr'), format(join_of, 'r', 'pr'));
    ELSIF op = 'DELETE' THEN
        sql := columns || format(
            'SELECT $1, r.%1$I::text, %2$s, r.id, ''deleted'', r.version, seesac_stored(to_jsonb(r)), NULL, '
            '       CASE WHEN %3$s <= $2 THEN ''deleted'' END, $3, $4, $5, $6, $2 '
            '  FROM old_rows r %4$s ORDER BY r.%1$I',
            k.key_column, format(parent_of, 'r'), format(public_of, 'r', 'pr'), format(join_of, 'r', 'pr'));
    ELSE
        sql := columns || format(
            'WITH v AS MATERIALIZED ( '
            '  SELECT n.id, n.version, n.%1$I::text AS key, o.%1$I::text AS old_key, %2$s AS parent, '
            '         to_jsonb(n) AS a, CASE WHEN n.%1$I <> o.%1$I THEN to_jsonb(o) END AS b, '
            '         coalesce(%3$s <= $2, false) AS was, coalesce(%4$s <= $2, false) AS is_ '
            '    FROM old_rows o JOIN new_rows n ON n.id = o.id %5$s %6$s '
            '   WHERE n.version IS DISTINCT FROM o.version) '
            'SELECT $1, CASE WHEN e.ord = 2 OR v.key = v.old_key THEN v.key ELSE v.old_key END, v.parent, '
            '       v.id, CASE WHEN v.key = v.old_key THEN ''updated'' WHEN e.ord = 1 THEN ''deleted'' '
            '                  ELSE ''created'' END, '
            '       CASE WHEN e.ord = 1 AND v.key <> v.old_key THEN (v.b ->> ''version'')::integer '
            '            ELSE v.version END, '
            '       seesac_stored(CASE WHEN e.ord = 1 AND v.key <> v.old_key THEN v.b ELSE v.a END), '
            '       CASE WHEN v.key = v.old_key THEN NULL WHEN e.ord = 1 THEN v.key ELSE v.old_key END, '
            '       CASE WHEN v.key = v.old_key THEN '
            '                 CASE WHEN was AND is_ THEN ''updated'' WHEN was THEN ''deleted'' '
            '                      WHEN is_ THEN ''created'' END '
            '            WHEN e.ord = 1 THEN CASE WHEN was THEN ''deleted'' END '
            '            ELSE CASE WHEN is_ THEN ''created'' END END, '
            '       $3, $4, $5, $6, $2 '
            '  FROM v CROSS JOIN (VALUES (1), (2)) AS e(ord) '
            ' WHERE e.ord = 1 OR v.key <> v.old_key '
            ' ORDER BY v.key, e.ord',
            k.key_column, format(parent_of, 'n'),
            CASE WHEN k.parent_kind IS NULL THEN format(public_of, 'o', '')
                 ELSE 'seesac_public_with(seesac_public_from(o.status, o.published_at), '
                      'CASE WHEN po.id IS NOT NULL THEN seesac_public_from(po.status, po.published_at) '
                      'ELSE seesac_public_from(pn.status, pn.published_at) END)' END,
            format(public_of, 'n', 'pn'),
            format(join_of, 'o', 'po'), format(join_of, 'n', 'pn'));
        FOR dependent IN SELECT * FROM seesac_kinds WHERE parent_kind = k.kind ORDER BY kind LOOP
            statements := statements || (columns || format(
                'SELECT %5$L, c.%2$I::text, c.%3$I, c.id, CASE WHEN p.is_ THEN ''published'' ELSE ''unpublished'' END, '
                '       c.version, seesac_stored(to_jsonb(c)), NULL, '
                '       CASE WHEN p.is_ THEN ''created'' ELSE ''deleted'' END, $3, $4, $5, $6, $2 '
                '  FROM (SELECT n.%4$I::text AS key, '
                '               coalesce(seesac_public_from(o.status, o.published_at) <= $2, false) AS was, '
                '               coalesce(seesac_public_from(n.status, n.published_at) <= $2, false) AS is_ '
                '          FROM old_rows o JOIN new_rows n ON n.id = o.id) p '
                '  JOIN %1$I c ON c.%3$I = p.key '
                ' WHERE p.was <> p.is_ AND seesac_public_from(c.status, c.published_at) <= $2 '
                ' ORDER BY c.%2$I',
                dependent.table_name, dependent.key_column, dependent.parent_column, k.key_column,
                dependent.kind));
        END LOOP;
    END IF;
    statements := sql || statements;
    -- For EXECUTE, with its parameters ($1 to $6); as static SQL, with the
    -- generated function's variables instead (none is followed by a digit: there
    -- are six).
    IF NOT static THEN
        RETURN (SELECT string_agg('EXECUTE ' || quote_literal(s) || ' USING log_kind, log_at, '
                                  'log_actor, log_partner, log_request, log_address', '; ')
                  FROM unnest(statements) AS s);
    END IF;
    RETURN (SELECT string_agg(replace(replace(replace(replace(replace(replace(s,
                '$1', 'log_kind'), '$2', 'log_at'), '$3', 'log_actor'), '$4', 'log_partner'),
                '$5', 'log_request'), '$6', 'log_address'), '; ')
              FROM unnest(statements) AS s);
END;
$$;

-- Gives a kind its log triggers, each with a function of its own holding its
-- statements as static SQL.
CREATE FUNCTION seesac_install_log(kind_name text) RETURNS void LANGUAGE plpgsql
SET client_min_messages = warning AS $$
DECLARE
    k record;
    op text;
    fn text;
    referencing text;
BEGIN
    SELECT * INTO k FROM seesac_kinds WHERE kind = kind_name;
    FOREACH op IN ARRAY ARRAY['INSERT', 'UPDATE', 'DELETE'] LOOP
        fn := 'seesac_log_' || k.table_name || '_' || lower(op);
        -- More than 16 rows (a batch): its statements run with EXECUTE, planned for
        -- its rows, as seesac_log does; a plan kept from a statement of a few rows
        -- (a nested loop over the transition tables) made a 1,000-row batch six
        -- times slower.
        EXECUTE format(
            'CREATE OR REPLACE FUNCTION %I() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER '
            'SET search_path FROM CURRENT AS %L', fn,
            'DECLARE '
            '    log_kind text := ' || quote_literal(k.kind) || '; '
            '    log_at timestamptz := clock_timestamp(); '
            '    log_actor text := coalesce(nullif(current_setting(''seesac.actor'', true), ''''), '
            '                               ''database:'' || session_user); '
            '    log_partner text := nullif(current_setting(''seesac.partner'', true), ''''); '
            '    log_request text := nullif(current_setting(''seesac.request_id'', true), ''''); '
            '    log_address text := nullif(current_setting(''seesac.address'', true), ''''); '
            'BEGIN '
            '    IF (SELECT count(*) FROM ' || CASE op WHEN 'DELETE' THEN 'old_rows' ELSE 'new_rows' END
            || ') > 16 THEN '
            || seesac_log_statements(k.kind, op, false) || '; '
            '    ELSE '
            || seesac_log_statements(k.kind, op, true) || '; '
            '    END IF; '
            '    RETURN NULL; '
            'END;');
        referencing := CASE op WHEN 'INSERT' THEN 'NEW TABLE AS new_rows'
                               WHEN 'UPDATE' THEN 'OLD TABLE AS old_rows NEW TABLE AS new_rows'
                               ELSE 'OLD TABLE AS old_rows' END;
        EXECUTE format('DROP TRIGGER IF EXISTS %I ON %I', k.table_name || '_log_' || lower(op), k.table_name);
        EXECUTE format('CREATE TRIGGER %I AFTER %s ON %I REFERENCING %s FOR EACH STATEMENT EXECUTE FUNCTION %I()',
                       k.table_name || '_log_' || lower(op), op, k.table_name, referencing, fn);
    END LOOP;
END;
$$;
SELECT seesac_install_log(kind) FROM seesac_kinds ORDER BY kind;

-- A kind registered from now on gets the same, and its parent kind's update
-- function is generated again to log its items too.
CREATE OR REPLACE FUNCTION seesac_register_kind(kind text, table_name text, key_column text,
                                                parent_column text DEFAULT NULL, parent_kind text DEFAULT NULL)
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
    PERFORM seesac_install_log(kind);
    IF parent_kind IS NOT NULL THEN
        PERFORM seesac_install_log(parent_kind);
    END IF;
    EXECUTE format('CREATE INDEX IF NOT EXISTS %I ON %I (published_at) WHERE status = ''published''',
                   table_name || '_scheduled_idx', table_name);
    SELECT string_agg(quote_literal(s.kind), ', ' ORDER BY s.kind) INTO kinds FROM seesac_kinds s;
    ALTER TABLE changes DROP CONSTRAINT IF EXISTS changes_type_check;
    EXECUTE format('ALTER TABLE changes ADD CONSTRAINT changes_type_check CHECK (type IN (%s))', kinds);
END;
$$;
REVOKE EXECUTE ON FUNCTION seesac_register_kind(text, text, text, text, text) FROM PUBLIC;
