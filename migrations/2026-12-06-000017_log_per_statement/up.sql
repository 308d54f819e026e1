-- The change log's trigger, at a statement's cost rather than a row's: each row is
-- turned into JSON once (`to_jsonb` was evaluated again at every reference to it,
-- about ten times a row: 113 ms of a 1,000-row batch's 182), the old row only for
-- what only it can give (its publication, its key, its fields when it is renamed or
-- deleted), read from its columns.
CREATE OR REPLACE FUNCTION seesac_log() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
SET search_path FROM CURRENT AS $$
DECLARE
    k record;
    dependent record;
    now_ timestamptz := clock_timestamp();
    actor text := coalesce(nullif(current_setting('seesac.actor', true), ''), 'database:' || session_user);
    partner text := nullif(current_setting('seesac.partner', true), '');
    request_id text := nullif(current_setting('seesac.request_id', true), '');
    address text := nullif(current_setting('seesac.address', true), '');
    columns text := 'INSERT INTO changes (type, key, parent, item_id, action, version, item, moved, '
                    'public_action, actor, partner, request_id, address, at) ';
    -- When anonymous readers see the row `%1$s` with its parent row `%2$s`.
    public_of text;
    -- The parent row of the row `%1$s` as `%2$s`.
    join_of text;
    parent_of text;
BEGIN
    SELECT s.*, p.table_name AS parent_table, p.key_column AS parent_key
      INTO k FROM seesac_kinds s LEFT JOIN seesac_kinds p ON p.kind = s.parent_kind
     WHERE s.kind = TG_ARGV[0];
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
    IF TG_OP = 'INSERT' THEN
        EXECUTE columns || format(
            'SELECT $1, r.%1$I::text, %2$s, r.id, ''created'', r.version, seesac_stored(to_jsonb(r)), NULL, '
            '       CASE WHEN %3$s <= $2 THEN ''created'' END, $3, $4, $5, $6, $2 '
            '  FROM new_rows r %4$s ORDER BY r.%1$I',
            k.key_column, format(parent_of, 'r'), format(public_of, 'r', 'pr'), format(join_of, 'r', 'pr'))
        USING k.kind, now_, actor, partner, request_id, address;
    ELSIF TG_OP = 'DELETE' THEN
        EXECUTE columns || format(
            'SELECT $1, r.%1$I::text, %2$s, r.id, ''deleted'', r.version, seesac_stored(to_jsonb(r)), NULL, '
            '       CASE WHEN %3$s <= $2 THEN ''deleted'' END, $3, $4, $5, $6, $2 '
            '  FROM old_rows r %4$s ORDER BY r.%1$I',
            k.key_column, format(parent_of, 'r'), format(public_of, 'r', 'pr'), format(join_of, 'r', 'pr'))
        USING k.kind, now_, actor, partner, request_id, address;
    ELSE
        -- Rows paired by id, and only those whose version moved (the same PUT twice
        -- and a renewed ETag are no entry), each turned into JSON once. The parent
        -- before is the one the old row named, or, if a cascade renamed it
        -- meanwhile, the one the new row names. A renamed key is two entries: the
        -- old key deleted, the new one created.
        EXECUTE columns || format(
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
            format(join_of, 'o', 'po'), format(join_of, 'n', 'pn'))
        USING k.kind, now_, actor, partner, request_id, address;
        -- Items visible only with this one: when anonymous readers start or stop
        -- seeing it, they start or stop seeing those too, at their versions.
        FOR dependent IN SELECT * FROM seesac_kinds WHERE parent_kind = k.kind ORDER BY kind LOOP
            EXECUTE columns || format(
                'SELECT $1, c.%2$I::text, c.%3$I, c.id, CASE WHEN p.is_ THEN ''published'' ELSE ''unpublished'' END, '
                '       c.version, seesac_stored(to_jsonb(c)), NULL, '
                '       CASE WHEN p.is_ THEN ''created'' ELSE ''deleted'' END, $3, $4, $5, $6, $2 '
                '  FROM (SELECT n.%4$I::text AS key, '
                '               coalesce(seesac_public_from(o.status, o.published_at) <= $2, false) AS was, '
                '               coalesce(seesac_public_from(n.status, n.published_at) <= $2, false) AS is_ '
                '          FROM old_rows o JOIN new_rows n ON n.id = o.id) p '
                '  JOIN %1$I c ON c.%3$I = p.key '
                ' WHERE p.was <> p.is_ AND seesac_public_from(c.status, c.published_at) <= $2 '
                ' ORDER BY c.%2$I',
                dependent.table_name, dependent.key_column, dependent.parent_column, k.key_column)
            USING dependent.kind, now_, actor, partner, request_id, address;
        END LOOP;
    END IF;
    RETURN NULL;
END;
$$;

-- The versioning trigger compared two JSON copies of every row it saw (17 us a
-- row, 17 ms of a 1,000-row batch). A table without generated columns, whose rows
-- have nothing the comparison must leave out but the bookkeeping, compares the rows
-- themselves (`seesac_versioning('rows')`): observations, which partners write a
-- thousand at a time. Tables with generated columns (their new value is not known
-- yet in a BEFORE trigger) keep the JSON comparison.
CREATE OR REPLACE FUNCTION seesac_versioning() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    -- Besides the bookkeeping columns, what a table names as not part of a version.
    ignored text[];
    asked text;
BEGIN
    NEW.id := OLD.id;
    NEW.created_at := OLD.created_at;
    IF TG_ARGV[0] = 'rows' THEN
        asked := NEW.etag;
        NEW.version := OLD.version;
        NEW.updated_at := OLD.updated_at;
        NEW.etag := OLD.etag;
        IF NEW IS DISTINCT FROM OLD THEN
            NEW.version := OLD.version + 1;
            NEW.updated_at := now();
            NEW.etag := seesac_new_etag();
        ELSIF asked IS DISTINCT FROM OLD.etag THEN
            NEW.etag := seesac_new_etag();
        END IF;
        RETURN NEW;
    END IF;
    ignored := ARRAY['search', 'version', 'updated_at', 'etag'] || TG_ARGV::text[];
    IF (to_jsonb(NEW) - ignored) IS DISTINCT FROM (to_jsonb(OLD) - ignored) THEN
        NEW.version := OLD.version + 1;
        NEW.updated_at := now();
        NEW.etag := seesac_new_etag();
    ELSE
        NEW.version := OLD.version;
        NEW.updated_at := OLD.updated_at;
        IF NEW.etag IS DISTINCT FROM OLD.etag THEN
            NEW.etag := seesac_new_etag();
        END IF;
    END IF;
    RETURN NEW;
END;
$$;
-- A kind's table without generated columns compares rows.
CREATE OR REPLACE FUNCTION seesac_install_versioning(table_name text) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    generated boolean := EXISTS (
        SELECT 1 FROM information_schema.columns c
         WHERE c.table_schema = current_schema() AND c.table_name = seesac_install_versioning.table_name
           AND c.is_generated <> 'NEVER');
BEGIN
    EXECUTE format('DROP TRIGGER IF EXISTS %I ON %I', table_name || '_versioning', table_name);
    EXECUTE format('CREATE TRIGGER %I BEFORE UPDATE ON %I FOR EACH ROW EXECUTE FUNCTION seesac_versioning(%s)',
                   table_name || '_versioning', table_name, CASE WHEN generated THEN '' ELSE '''rows''' END);
END;
$$;
SELECT seesac_install_versioning(table_name) FROM seesac_kinds;

-- Every index of a table is written by every update that is not HOT, and an index
-- on a column an update changes makes none HOT. Observations had one per sortable
-- field (000008): a 1,000-row batch wrote 18 indexes a row. They keep the indexes
-- that find rows (the key, the natural key, a partner's, the scheduled ones) and
-- the default order's; a list of one metric's figures is small and sorts in
-- memory, and other orders of the whole list sort what its filters leave.
DROP INDEX observations_area_sort_idx, observations_as_of_sort_idx,
    observations_created_at_sort_idx, observations_metric_sort_idx,
    observations_period_end_sort_idx, observations_period_start_sort_idx,
    observations_published_at_sort_idx, observations_qualifier_sort_idx,
    observations_reported_by_sort_idx, observations_status_sort_idx,
    observations_value_max_sort_idx, observations_value_sort_idx,
    observations_updated_at_sort_idx;
-- Room on each page for an updated row's new version beside the old one, so that
-- updates can stay HOT.
ALTER TABLE observations SET (fillfactor = 85);
