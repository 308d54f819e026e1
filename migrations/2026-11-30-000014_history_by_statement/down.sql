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
        EXECUTE format('DROP TRIGGER %I ON %I', t.tab || '_history_insert', t.tab);
        EXECUTE format('DROP TRIGGER %I ON %I', t.tab || '_history_update', t.tab);
        EXECUTE format('DROP TRIGGER %I ON %I', t.tab || '_history_delete', t.tab);
    END LOOP;
END;
$$;
DROP INDEX audit_version;
ALTER TABLE revisions ADD COLUMN author text, ADD COLUMN written_at timestamptz;

-- Back to migration 000011's triggers, once per row.
CREATE OR REPLACE FUNCTION seesac_history() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    kind text := TG_ARGV[0];
    key_column text := TG_ARGV[1];
    parent_column text := TG_ARGV[2];
    before jsonb;
    after jsonb;
    item jsonb;
    author text;
    written timestamptz;
BEGIN
    IF TG_OP <> 'INSERT' THEN
        before := seesac_history_item(to_jsonb(OLD));
    END IF;
    IF TG_OP <> 'DELETE' THEN
        after := seesac_history_item(to_jsonb(NEW));
    END IF;
    IF TG_OP = 'UPDATE' AND before -> 'version' = after -> 'version' THEN
        RETURN NULL;
    END IF;
    item := coalesce(after, before);
    IF before IS NOT NULL THEN
        SELECT a.actor, a.at INTO author, written FROM audit a
         WHERE a.type = kind AND a.key = before ->> key_column
           AND a.version_after = (before ->> 'version')::integer
         ORDER BY a.id DESC LIMIT 1;
        INSERT INTO revisions (type, key, parent, version, item, author, written_at, replaced_by)
        VALUES (kind, before ->> key_column, before ->> nullif(parent_column, ''),
                (before ->> 'version')::integer, before, author, written,
                CASE TG_OP WHEN 'DELETE' THEN 'deleted' ELSE 'updated' END);
    END IF;
    INSERT INTO audit (actor, partner, type, key, parent, action, version_before,
                       version_after, patch, request_id, address)
    VALUES (coalesce(nullif(current_setting('seesac.actor', true), ''), 'database:' || session_user),
            nullif(current_setting('seesac.partner', true), ''),
            kind, item ->> key_column, item ->> nullif(parent_column, ''),
            CASE TG_OP WHEN 'INSERT' THEN 'created' WHEN 'UPDATE' THEN 'updated' ELSE 'deleted' END,
            (before ->> 'version')::integer, (after ->> 'version')::integer,
            seesac_json_patch(coalesce(before, '{}'), coalesce(after, '{}')),
            nullif(current_setting('seesac.request_id', true), ''),
            nullif(current_setting('seesac.address', true), ''));
    RETURN NULL;
END;
$$;

CREATE TRIGGER pages_history AFTER INSERT OR UPDATE OR DELETE ON pages
    FOR EACH ROW EXECUTE FUNCTION seesac_history('page', 'slug', '');
CREATE TRIGGER impact_metrics_history AFTER INSERT OR UPDATE OR DELETE ON impact_metrics
    FOR EACH ROW EXECUTE FUNCTION seesac_history('impact_metric', 'key', '');
CREATE TRIGGER observations_history AFTER INSERT OR UPDATE OR DELETE ON observations
    FOR EACH ROW EXECUTE FUNCTION seesac_history('observation', 'id', 'metric');
CREATE TRIGGER funders_history AFTER INSERT OR UPDATE OR DELETE ON funders
    FOR EACH ROW EXECUTE FUNCTION seesac_history('funder', 'slug', '');
CREATE TRIGGER council_decisions_history AFTER INSERT OR UPDATE OR DELETE ON council_decisions
    FOR EACH ROW EXECUTE FUNCTION seesac_history('council_decision', 'celex', '');
CREATE TRIGGER contacts_history AFTER INSERT OR UPDATE OR DELETE ON contacts
    FOR EACH ROW EXECUTE FUNCTION seesac_history('contact', 'slug', '');
CREATE TRIGGER partners_history AFTER INSERT OR UPDATE OR DELETE ON partners
    FOR EACH ROW EXECUTE FUNCTION seesac_history('partner', 'slug', '');
