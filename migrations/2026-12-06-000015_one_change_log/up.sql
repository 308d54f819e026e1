-- One change log, written by the database. Every kind of content is registered
-- once (`seesac_register_kind`), which installs the same triggers on its table:
-- versions and ETags, and one entry in `changes` for every write that moves an
-- item's version, whoever writes (the service, `seesac-api import`, psql, a
-- cascade). The log is also the history: an entry keeps its version's stored
-- fields, so revisions and the audit of content are read from it; `revisions` and
-- the content part of `audit` are folded into it, once per write instead of three
-- times.
--
-- Writers only insert their entries, with `seq` from a sequence; they take no
-- position and wait for no one. One sequencer at a time (`seesac_number_changes`,
-- under an advisory lock) numbers the committed entries in `seq` order, so that
-- positions have no gaps and never change, and a reader who has passed position
-- n never sees a smaller one appear (docs/decisions.md says why this keeps one
-- item's entries in version order).

-- The registry of kinds, as the database knows it. An item whose kind has a
-- `parent_kind` (an observation, under its metric) is visible to anonymous readers
-- only while its parent is.
CREATE TABLE seesac_kinds (
    kind text PRIMARY KEY,
    table_name text NOT NULL UNIQUE,
    key_column text NOT NULL,
    parent_column text,
    parent_kind text REFERENCES seesac_kinds (kind),
    CHECK ((parent_column IS NULL) = (parent_kind IS NULL))
);

ALTER TABLE changes RENAME TO changes_v1;
ALTER INDEX changes_pkey RENAME TO changes_v1_pkey;
ALTER INDEX changes_at_idx RENAME TO changes_v1_at_idx;
ALTER INDEX changes_item_idx RENAME TO changes_v1_item_idx;

CREATE SEQUENCE changes_seq;
CREATE TABLE changes (
    -- The order entries were written in; gaps are fine.
    seq bigint PRIMARY KEY DEFAULT nextval('changes_seq'),
    -- The order readers see: given by the sequencer, once, without gaps.
    position bigint,
    -- The kind (the CHECK lists the registered ones: `seesac_register_kind`).
    type text NOT NULL,
    key text NOT NULL,
    -- The key of the item's parent in its URL (an observation's metric).
    parent text,
    item_id uuid,
    -- created, updated, deleted: a write moved the version. published and
    -- unpublished: what anonymous readers see of the item changed without a new
    -- version (its parent was published or unpublished, or its time came).
    action text NOT NULL CONSTRAINT changes_action_check
        CHECK (action IN ('created', 'updated', 'deleted', 'published', 'unpublished')),
    -- The item's version after the write (for a deletion, its last one).
    version integer NOT NULL,
    -- The item's stored fields at that version (the last ones, for a deletion).
    item jsonb,
    -- A renamed key is the old key deleted and the new one created; each names the
    -- other here.
    moved text,
    -- What anonymous readers saw happen (null: nothing they could see).
    public_action text CHECK (public_action IN ('created', 'updated', 'deleted')),
    actor text NOT NULL,
    partner text,
    request_id text,
    address text,
    at timestamptz NOT NULL
);
ALTER SEQUENCE changes_seq OWNED BY changes.seq;
CREATE UNIQUE INDEX changes_position ON changes (position) WHERE position IS NOT NULL;
CREATE INDEX changes_unnumbered ON changes (seq) WHERE position IS NULL;
CREATE INDEX changes_by_key ON changes (type, key, seq);
CREATE INDEX changes_by_item ON changes (item_id, seq);

-- An entry never changes once written, but for its position, given once.
CREATE FUNCTION seesac_changes_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.position IS NOT NULL
       OR (to_jsonb(NEW) - 'position') IS DISTINCT FROM (to_jsonb(OLD) - 'position') THEN
        RAISE EXCEPTION 'the change log is append-only: an entry cannot be changed'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER changes_append_only BEFORE UPDATE ON changes
    FOR EACH ROW EXECUTE FUNCTION seesac_changes_append_only();

-- When anonymous readers see an item with this status and date: never (null), or
-- from then on. And of an item that is visible only with its parent.
CREATE FUNCTION seesac_public_from(status text, published_at timestamptz) RETURNS timestamptz
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN status = 'published' THEN published_at END
$$;
CREATE FUNCTION seesac_public_with(own timestamptz, parent timestamptz) RETURNS timestamptz
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN own IS NOT NULL AND parent IS NOT NULL THEN greatest(own, parent) END
$$;

-- An item's stored fields, as history keeps them: without what is derived from
-- other columns or kept for the database's own use.
CREATE FUNCTION seesac_stored(item jsonb) RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
    SELECT item - ARRAY['search', 'body_text', 'body_html', 'etag']
$$;

-- The log's entries for one statement on a registered table: a statement trigger
-- with the statement's rows (`old_rows`, `new_rows`). The service says who it
-- writes for with settings local to its transaction (`seesac.actor` and the
-- rest); a write made outside it is the database role's.
CREATE FUNCTION seesac_log() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
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
    -- When anonymous readers see the row `j` (jsonb) with the parent row `p`.
    own text := 'seesac_public_from(%1$s ->> ''status'', (%1$s ->> ''published_at'')::timestamptz)';
    public_of text;
    join_of text;
BEGIN
    SELECT s.*, p.table_name AS parent_table, p.key_column AS parent_key
      INTO k FROM seesac_kinds s LEFT JOIN seesac_kinds p ON p.kind = s.parent_kind
     WHERE s.kind = TG_ARGV[0];
    IF k.parent_kind IS NULL THEN
        public_of := own;
        join_of := '';
    ELSE
        public_of := 'seesac_public_with(' || own || ', seesac_public_from(%2$s.status, %2$s.published_at))';
        join_of := format('LEFT JOIN %I %%2$s ON %%2$s.%I = %%1$s ->> %L', k.parent_table, k.parent_key,
                          k.parent_column);
    END IF;
    IF TG_OP = 'INSERT' THEN
        EXECUTE columns || format(
            'SELECT $1, a ->> %L, a ->> %L, (a ->> ''id'')::uuid, ''created'', (a ->> ''version'')::integer, '
            '       seesac_stored(a), NULL, CASE WHEN %s <= $2 THEN ''created'' END, $3, $4, $5, $6, $2 '
            '  FROM (SELECT to_jsonb(r) AS a FROM new_rows r) n %s ORDER BY a ->> %L',
            k.key_column, k.parent_column, format(public_of, 'a', 'pa'), format(join_of, 'a', 'pa'),
            k.key_column)
        USING k.kind, now_, actor, partner, request_id, address;
    ELSIF TG_OP = 'DELETE' THEN
        EXECUTE columns || format(
            'SELECT $1, b ->> %L, b ->> %L, (b ->> ''id'')::uuid, ''deleted'', (b ->> ''version'')::integer, '
            '       seesac_stored(b), NULL, CASE WHEN %s <= $2 THEN ''deleted'' END, $3, $4, $5, $6, $2 '
            '  FROM (SELECT to_jsonb(r) AS b FROM old_rows r) o %s ORDER BY b ->> %L',
            k.key_column, k.parent_column, format(public_of, 'b', 'pb'), format(join_of, 'b', 'pb'),
            k.key_column)
        USING k.kind, now_, actor, partner, request_id, address;
    ELSE
        -- Rows paired by id and compared by version first: the transition tables
        -- have no statistics, and nothing costly may sit in a nested loop's filter.
        -- An update that moved no version (the same PUT twice, a renewed ETag) is
        -- no entry. The parent before is the one the old row named, or, if a
        -- cascade renamed it meanwhile, the one the new row names.
        EXECUTE columns || format(
            'SELECT $1, e.key, e.j ->> %2$L, (e.j ->> ''id'')::uuid, e.action, (e.j ->> ''version'')::integer, '
            '       seesac_stored(e.j), e.moved, e.public_action, $3, $4, $5, $6, $2 '
            '  FROM (SELECT b, a, coalesce(%3$s <= $2, false) AS was, coalesce(%4$s <= $2, false) AS is_ '
            '          FROM (SELECT to_jsonb(o) AS b, to_jsonb(n) AS a FROM old_rows o '
            '                  JOIN new_rows n ON n.id = o.id WHERE n.version IS DISTINCT FROM o.version) pairs '
            '          %5$s %6$s %7$s) v '
            ' CROSS JOIN LATERAL ( '
            '   SELECT 1 AS ord, a ->> %1$L AS key, a AS j, ''updated'' AS action, NULL AS moved, '
            '          CASE WHEN was AND is_ THEN ''updated'' WHEN was THEN ''deleted'' WHEN is_ THEN ''created'' END AS public_action '
            '    WHERE a ->> %1$L = b ->> %1$L '
            '   UNION ALL SELECT 1, b ->> %1$L, b, ''deleted'', a ->> %1$L, CASE WHEN was THEN ''deleted'' END '
            '    WHERE a ->> %1$L <> b ->> %1$L '
            '   UNION ALL SELECT 2, a ->> %1$L, a, ''created'', b ->> %1$L, CASE WHEN is_ THEN ''created'' END '
            '    WHERE a ->> %1$L <> b ->> %1$L) e '
            ' ORDER BY a ->> %1$L, e.ord',
            k.key_column, k.parent_column,
            CASE WHEN k.parent_kind IS NULL THEN format(own, 'b')
                 ELSE 'seesac_public_with(' || format(own, 'b') ||
                      ', CASE WHEN pb.id IS NOT NULL THEN seesac_public_from(pb.status, pb.published_at) '
                      'ELSE seesac_public_from(pa.status, pa.published_at) END)' END,
            format(public_of, 'a', 'pa'),
            format(join_of, 'b', 'pb'), format(join_of, 'a', 'pa'), '')
        USING k.kind, now_, actor, partner, request_id, address;
        -- Items visible only with this one: when anonymous readers start or stop
        -- seeing it, they start or stop seeing those too, at their versions.
        FOR dependent IN SELECT * FROM seesac_kinds WHERE parent_kind = k.kind ORDER BY kind LOOP
            EXECUTE columns || format(
                'SELECT $1, c.%2$I::text, c.%3$I, c.id, CASE WHEN p.is_ THEN ''published'' ELSE ''unpublished'' END, '
                '       c.version, seesac_stored(to_jsonb(c)), NULL, '
                '       CASE WHEN p.is_ THEN ''created'' ELSE ''deleted'' END, $3, $4, $5, $6, $2 '
                '  FROM (SELECT a ->> %4$L AS key, coalesce(%5$s <= $2, false) AS was, '
                '               coalesce(%6$s <= $2, false) AS is_ '
                '          FROM (SELECT to_jsonb(o) AS b, to_jsonb(n) AS a FROM old_rows o '
                '                  JOIN new_rows n ON n.id = o.id) pairs) p '
                '  JOIN %1$I c ON c.%3$I = p.key '
                ' WHERE p.was <> p.is_ AND seesac_public_from(c.status, c.published_at) <= $2 '
                ' ORDER BY c.%2$I',
                dependent.table_name, dependent.key_column, dependent.parent_column, k.key_column,
                format(own, 'b'), format(own, 'a'))
            USING dependent.kind, now_, actor, partner, request_id, address;
        END LOOP;
    END IF;
    RETURN NULL;
END;
$$;

-- The versioning trigger of a kind's table (a new version, a new ETag and the time
-- of every write that changes something).
CREATE FUNCTION seesac_install_versioning(table_name text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('DROP TRIGGER IF EXISTS %I ON %I', table_name || '_versioning', table_name);
    EXECUTE format('CREATE TRIGGER %I BEFORE UPDATE ON %I FOR EACH ROW EXECUTE FUNCTION seesac_versioning()',
                   table_name || '_versioning', table_name);
END;
$$;

-- Registers a kind of content: its table gets the columns every kind has (if it
-- lacks them), the versioning trigger, the change log's triggers and the index of
-- scheduled publications, and the change log's type CHECK names it. Call it once
-- per kind, from the migration that creates its table.
CREATE FUNCTION seesac_register_kind(kind text, table_name text, key_column text,
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

-- The sequencer: numbers every committed, unnumbered entry in `seq` order, moves
-- the head and tells every instance (`seesac_content`, with the head). One at a
-- time across all instances: a caller that must see everything committed before
-- it (a reader of the feed) waits for another that is numbering (`wait`); the
-- others get null and go on.
CREATE FUNCTION seesac_number_changes(wait boolean DEFAULT false) RETURNS bigint LANGUAGE plpgsql
SECURITY DEFINER SET search_path FROM CURRENT AS $$
DECLARE
    head bigint;
    numbered bigint;
BEGIN
    IF wait THEN
        PERFORM pg_advisory_xact_lock(hashtext('seesac_number_changes'));
    ELSIF NOT pg_try_advisory_xact_lock(hashtext('seesac_number_changes')) THEN
        RETURN NULL;
    END IF;
    SELECT position INTO head FROM changes_head;
    WITH todo AS (
        SELECT seq, head + row_number() OVER (ORDER BY seq) AS position
          FROM changes WHERE position IS NULL
    )
    UPDATE changes c SET position = todo.position FROM todo WHERE c.seq = todo.seq;
    GET DIAGNOSTICS numbered = ROW_COUNT;
    IF numbered > 0 THEN
        UPDATE changes_head SET position = head + numbered;
        PERFORM pg_notify('seesac_content', (head + numbered)::text);
    END IF;
    RETURN numbered;
END;
$$;

-- Scheduled publications, logged when their time comes: for every item that
-- anonymous readers see from a moment after the last call and up to now, and that
-- was not written since, a `published` entry at its version, dated when it was
-- published. One instance at a time does it.
CREATE FUNCTION seesac_log_scheduled() RETURNS bigint LANGUAGE plpgsql SECURITY DEFINER
SET search_path FROM CURRENT AS $$
DECLARE
    since timestamptz;
    now_ timestamptz := clock_timestamp();
    k record;
    logged bigint := 0;
    rows_ bigint;
    due text;
BEGIN
    SELECT until INTO since FROM changes_schedule FOR UPDATE SKIP LOCKED;
    IF NOT FOUND THEN
        RETURN 0;
    END IF;
    FOR k IN SELECT s.*, p.table_name AS parent_table, p.key_column AS parent_key
               FROM seesac_kinds s LEFT JOIN seesac_kinds p ON p.kind = s.parent_kind ORDER BY s.kind LOOP
        IF k.parent_kind IS NULL THEN
            due := format('SELECT t.*, t.published_at AS public_from FROM %I t '
                          'WHERE t.status = ''published'' AND t.published_at > $2 AND t.published_at <= $3',
                          k.table_name);
        ELSE
            -- Due when the later of the two dates falls in the window: either may.
            due := format('SELECT t.*, greatest(t.published_at, p.published_at) AS public_from FROM %1$I t '
                          'JOIN %2$I p ON p.%3$I = t.%4$I '
                          'WHERE t.status = ''published'' AND p.status = ''published'' '
                          '  AND t.published_at > $2 AND t.published_at <= $3 AND p.published_at <= t.published_at '
                          'UNION ALL '
                          'SELECT t.*, p.published_at FROM %1$I t JOIN %2$I p ON p.%3$I = t.%4$I '
                          'WHERE t.status = ''published'' AND p.status = ''published'' '
                          '  AND p.published_at > $2 AND p.published_at <= $3 AND t.published_at < p.published_at',
                          k.table_name, k.parent_table, k.parent_key, k.parent_column);
        END IF;
        EXECUTE format(
            'INSERT INTO changes (type, key, parent, item_id, action, version, item, public_action, actor, at) '
            'SELECT $1, d.%1$I::text, %2$s, d.id, ''published'', d.version, '
            '       seesac_stored(to_jsonb(d) - ''public_from''), ''created'', ''system:schedule'', d.public_from '
            '  FROM (%3$s) d '
            ' WHERE NOT EXISTS (SELECT 1 FROM changes c WHERE c.item_id = d.id AND c.at >= d.public_from) '
            ' ORDER BY d.public_from, d.%1$I',
            k.key_column, CASE WHEN k.parent_column IS NULL THEN 'NULL' ELSE format('d.%I', k.parent_column) END,
            due)
        USING k.kind, since, now_;
        GET DIAGNOSTICS rows_ = ROW_COUNT;
        logged := logged + rows_;
    END LOOP;
    UPDATE changes_schedule SET until = now_;
    RETURN logged;
END;
$$;

-- The next scheduled publication of any content, if one is scheduled: the read
-- cache keeps nothing past it.
CREATE FUNCTION seesac_next_publication() RETURNS timestamptz LANGUAGE plpgsql STABLE AS $$
DECLARE
    k record;
    next_ timestamptz;
    candidate timestamptz;
BEGIN
    FOR k IN SELECT table_name FROM seesac_kinds LOOP
        EXECUTE format('SELECT min(published_at) FROM %I WHERE status = ''published'' AND published_at > now()',
                       k.table_name) INTO candidate;
        IF candidate IS NOT NULL AND (next_ IS NULL OR candidate < next_) THEN
            next_ := candidate;
        END IF;
    END LOOP;
    RETURN next_;
END;
$$;

-- The old history triggers and the read cache's per-statement notification go:
-- the log writes what they did, and the sequencer tells every instance.
DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['pages', 'impact_metrics', 'observations', 'funders', 'council_decisions',
                             'contacts', 'partners'] LOOP
        EXECUTE format('DROP TRIGGER IF EXISTS %I ON %I', t || '_history_insert', t);
        EXECUTE format('DROP TRIGGER IF EXISTS %I ON %I', t || '_history_update', t);
        EXECUTE format('DROP TRIGGER IF EXISTS %I ON %I', t || '_history_delete', t);
        EXECUTE format('DROP TRIGGER IF EXISTS %I ON %I', t || '_notify', t);
    END LOOP;
END;
$$;
DROP FUNCTION seesac_history();
DROP FUNCTION seesac_content_changed();

SELECT seesac_register_kind('page', 'pages', 'slug');
SELECT seesac_register_kind('impact_metric', 'impact_metrics', 'key');
SELECT seesac_register_kind('observation', 'observations', 'id', 'metric', 'impact_metric');
SELECT seesac_register_kind('funder', 'funders', 'slug');
SELECT seesac_register_kind('council_decision', 'council_decisions', 'celex');
SELECT seesac_register_kind('contact', 'contacts', 'slug');

-- The audit log keeps what is not content (users, tokens, webhooks, partners),
-- written by a definer function so that the service's role needs no right to
-- write it; its entries are numbered with the change log's, so the two read as
-- one in order.
ALTER FUNCTION seesac_audit_account() SECURITY DEFINER;
ALTER FUNCTION seesac_audit_account() SET search_path FROM CURRENT;
CREATE TRIGGER partners_audit AFTER INSERT OR UPDATE OR DELETE ON partners
    FOR EACH ROW EXECUTE FUNCTION seesac_audit_account('partner', 'slug');

-- What was written before: each old entry of the log with the version it names,
-- where history kept it, and the request it came from, where the audit log has
-- it; then every entry of both, renumbered in the order they were written.
CREATE TEMPORARY TABLE versions ON COMMIT DROP AS
SELECT type, key, version, item, 0 AS current FROM revisions;
DO $$
DECLARE
    k record;
BEGIN
    FOR k IN SELECT * FROM seesac_kinds LOOP
        EXECUTE format('INSERT INTO versions SELECT %L, t.%I::text, t.version, seesac_stored(to_jsonb(t)), 1 FROM %I t',
                       k.kind, k.key_column, k.table_name);
    END LOOP;
END;
$$;

CREATE TEMPORARY TABLE legacy ON COMMIT DROP AS
SELECT c.position, c.type, c.key, c.parent, c.version, c.actor, c.at,
       CASE WHEN c.actor = 'system:schedule' THEN 'published' ELSE c.action END AS action,
       CASE
           WHEN c.action = 'deleted' THEN CASE WHEN c.public_before THEN 'deleted' END
           WHEN c.public_before AND coalesce(c.public_from <= c.at, false) THEN 'updated'
           WHEN c.public_before THEN 'deleted'
           WHEN coalesce(c.public_from <= c.at, false) THEN 'created'
       END AS public_action,
       v.item, a.id AS audit_id, a.partner, a.request_id, a.address
  FROM changes_v1 c
  LEFT JOIN LATERAL (SELECT item FROM versions v WHERE v.type = c.type AND v.key = c.key AND v.version = c.version
                      ORDER BY v.current DESC LIMIT 1) v ON true
  LEFT JOIN LATERAL (SELECT au.id, au.partner, au.request_id, au.address FROM audit au
                      WHERE au.type = c.type AND au.key = c.key AND au.action = c.action
                        AND au.actor = c.actor
                        AND CASE c.action WHEN 'deleted' THEN au.version_before ELSE au.version_after END = c.version
                      ORDER BY abs(extract(epoch FROM au.at - c.at)) LIMIT 1) a ON true;

-- The audit entries of content that the log now holds.
ALTER TABLE audit DISABLE TRIGGER audit_append_only;
DELETE FROM audit WHERE id IN (SELECT audit_id FROM legacy WHERE audit_id IS NOT NULL);

CREATE TEMPORARY TABLE numbered ON COMMIT DROP AS
SELECT source, ref, row_number() OVER (ORDER BY at, source, ref) AS seq FROM (
    SELECT 'log' AS source, position AS ref, at FROM legacy
    UNION ALL SELECT 'audit', id, at FROM audit
) everything;

INSERT INTO changes (seq, position, type, key, parent, item_id, action, version, item, public_action,
                     actor, partner, request_id, address, at)
SELECT n.seq, l.position, l.type, l.key, l.parent, (l.item ->> 'id')::uuid, l.action, l.version, l.item,
       l.public_action, l.actor, l.partner, l.request_id, l.address, l.at
  FROM legacy l JOIN numbered n ON n.source = 'log' AND n.ref = l.position;

UPDATE audit SET id = -id;
UPDATE audit a SET id = n.seq FROM numbered n WHERE n.source = 'audit' AND n.ref = -a.id;
ALTER TABLE audit ENABLE TRIGGER audit_append_only;
ALTER TABLE audit ALTER COLUMN id SET DEFAULT nextval('changes_seq');
DROP SEQUENCE audit_id_seq;
SELECT setval('changes_seq', greatest((SELECT count(*) FROM numbered), 1));
DROP INDEX audit_version;

DROP TABLE changes_v1;
DROP TABLE revisions;
DROP FUNCTION seesac_history_item(jsonb);
