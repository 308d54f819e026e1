-- History once per statement instead of once per row: a batch of 1,000
-- observations (one INSERT ... ON CONFLICT) wrote its revisions and audit entries
-- row by row, 1,000 times three statements in PL/pgSQL, and looked up each
-- replaced version's author in the audit log, which made the batch several times
-- slower (bench/results.md). Now set at a time, from the statement's transition
-- tables; and a revision's author is read from the audit log when revisions are
-- read (`history::revisions`), not copied when they are written.

CREATE INDEX audit_version ON audit (type, key, version_after);
ALTER TABLE revisions DROP COLUMN author, DROP COLUMN written_at;

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
        -- The rows are paired by id and compared by version first: the transition
        -- tables have no statistics, so the join may be a nested loop, and nothing
        -- costly may sit in its filter (a million to_jsonb calls for 1,000 rows).
        WITH pairs AS MATERIALIZED (
            SELECT o AS old_row, n AS new_row
              FROM old_rows o JOIN new_rows n ON n.id = o.id
             WHERE n.version IS DISTINCT FROM o.version
        ), changed AS (
            SELECT seesac_history_item(to_jsonb(old_row)) AS b,
                   seesac_history_item(to_jsonb(new_row)) AS a
              FROM pairs
        ), kept AS (
            INSERT INTO revisions (type, key, parent, version, item, replaced_by)
            SELECT kind, b ->> key_column, b ->> parent_column, (b ->> 'version')::integer, b,
                   'updated'
              FROM changed
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
            INSERT INTO revisions (type, key, parent, version, item, replaced_by)
            SELECT kind, b ->> key_column, b ->> parent_column, (b ->> 'version')::integer, b,
                   'deleted'
              FROM gone
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
