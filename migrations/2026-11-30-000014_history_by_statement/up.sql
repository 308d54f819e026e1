-- History once per statement instead of once per row: a batch of 1,000
-- observations (one INSERT ... ON CONFLICT) wrote its revisions and audit entries
-- row by row, 1,000 times three statements in PL/pgSQL, which made the batch four
-- times slower (bench/results.md). The same rules, set at a time, from the
-- statement's transition tables.

CREATE INDEX audit_version ON audit (type, key, version_after);

CREATE OR REPLACE FUNCTION seesac_history() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    kind text := TG_ARGV[0];
    key_column text := TG_ARGV[1];
    parent_column text := nullif(TG_ARGV[2], '');
    actor text := coalesce(nullif(current_setting('seesac.actor', true), ''), 'database:' || session_user);
    partner text := nullif(current_setting('seesac.partner', true), '');
    request_id text := nullif(current_setting('seesac.request_id', true), '');
    address text := nullif(current_setting('seesac.address', true), '');
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO audit (actor, partner, type, key, parent, action, version_before,
                           version_after, patch, request_id, address)
        SELECT actor, partner, kind, a ->> key_column, a ->> parent_column, 'created', NULL,
               (a ->> 'version')::integer, seesac_json_patch('{}', a), request_id, address
          FROM (SELECT seesac_history_item(to_jsonb(n)) AS a FROM new_rows n) created;
    ELSIF TG_OP = 'UPDATE' THEN
        -- An update that moved no version (the same PUT twice, a renewed ETag) is none.
        WITH changed AS (
            SELECT b, a FROM (
                SELECT seesac_history_item(to_jsonb(o)) AS b, seesac_history_item(to_jsonb(n)) AS a
                  FROM old_rows o JOIN new_rows n ON n.id = o.id) pairs
             WHERE b -> 'version' IS DISTINCT FROM a -> 'version'
        ), kept AS (
            INSERT INTO revisions (type, key, parent, version, item, author, written_at, replaced_by)
            SELECT kind, c.b ->> key_column, c.b ->> parent_column, (c.b ->> 'version')::integer,
                   c.b, w.actor, w.at, 'updated'
              FROM changed c LEFT JOIN LATERAL (
                   SELECT au.actor, au.at FROM audit au
                    WHERE au.type = kind AND au.key = c.b ->> key_column
                      AND au.version_after = (c.b ->> 'version')::integer
                    ORDER BY au.id DESC LIMIT 1) w ON true
        )
        INSERT INTO audit (actor, partner, type, key, parent, action, version_before,
                           version_after, patch, request_id, address)
        SELECT actor, partner, kind, a ->> key_column, a ->> parent_column, 'updated',
               (b ->> 'version')::integer, (a ->> 'version')::integer, seesac_json_patch(b, a),
               request_id, address
          FROM changed;
    ELSE
        WITH gone AS (
            SELECT seesac_history_item(to_jsonb(o)) AS b FROM old_rows o
        ), kept AS (
            INSERT INTO revisions (type, key, parent, version, item, author, written_at, replaced_by)
            SELECT kind, g.b ->> key_column, g.b ->> parent_column, (g.b ->> 'version')::integer,
                   g.b, w.actor, w.at, 'deleted'
              FROM gone g LEFT JOIN LATERAL (
                   SELECT au.actor, au.at FROM audit au
                    WHERE au.type = kind AND au.key = g.b ->> key_column
                      AND au.version_after = (g.b ->> 'version')::integer
                    ORDER BY au.id DESC LIMIT 1) w ON true
        )
        INSERT INTO audit (actor, partner, type, key, parent, action, version_before,
                           version_after, patch, request_id, address)
        SELECT actor, partner, kind, b ->> key_column, b ->> parent_column, 'deleted',
               (b ->> 'version')::integer, NULL, seesac_json_patch(b, '{}'), request_id, address
          FROM gone;
    END IF;
    RETURN NULL;
END;
$$;

DO $$
DECLARE
    t record;
BEGIN
    FOR t IN SELECT * FROM (VALUES
        ('pages', 'page', 'slug', ''),
        ('impact_metrics', 'impact_metric', 'key', ''),
        ('observations', 'observation', 'id', 'metric'),
        ('funders', 'funder', 'slug', ''),
        ('council_decisions', 'council_decision', 'celex', ''),
        ('contacts', 'contact', 'slug', ''),
        ('partners', 'partner', 'slug', '')) AS v(tab, kind, key, parent)
    LOOP
        EXECUTE format('DROP TRIGGER %I ON %I', t.tab || '_history', t.tab);
        EXECUTE format('CREATE TRIGGER %I AFTER INSERT ON %I REFERENCING NEW TABLE AS new_rows '
                       'FOR EACH STATEMENT EXECUTE FUNCTION seesac_history(%L, %L, %L)',
                       t.tab || '_history_insert', t.tab, t.kind, t.key, t.parent);
        EXECUTE format('CREATE TRIGGER %I AFTER UPDATE ON %I '
                       'REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows '
                       'FOR EACH STATEMENT EXECUTE FUNCTION seesac_history(%L, %L, %L)',
                       t.tab || '_history_update', t.tab, t.kind, t.key, t.parent);
        EXECUTE format('CREATE TRIGGER %I AFTER DELETE ON %I REFERENCING OLD TABLE AS old_rows '
                       'FOR EACH STATEMENT EXECUTE FUNCTION seesac_history(%L, %L, %L)',
                       t.tab || '_history_delete', t.tab, t.kind, t.key, t.parent);
    END LOOP;
END;
$$;
