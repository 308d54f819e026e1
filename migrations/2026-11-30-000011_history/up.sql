-- History: the versions an item had (revisions) and an append-only audit log of
-- every write, both written by triggers in the writing transaction, whoever writes:
-- the service (which says who it writes for with `seesac.*` settings local to the
-- transaction), `seesac-api import`, or psql (then the database role is the actor).

-- An item as history keeps it: its row without what is derived from other columns
-- or kept for the database's own use.
CREATE FUNCTION seesac_history_item(item jsonb) RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
    SELECT item - ARRAY['search', 'body_text', 'body_html', 'etag']
$$;

-- A JSON Patch (RFC 6902) from one flat object to another: `add`, `remove` and
-- `replace` of top-level members, in member order. Values are replaced whole.
CREATE FUNCTION seesac_json_patch(before jsonb, after jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
    SELECT coalesce(jsonb_agg(op ORDER BY member), '[]'::jsonb) FROM (
        SELECT member, CASE
            WHEN NOT before ? member THEN
                jsonb_build_object('op', 'add', 'path', path, 'value', after -> member)
            WHEN NOT after ? member THEN
                jsonb_build_object('op', 'remove', 'path', path)
            ELSE
                jsonb_build_object('op', 'replace', 'path', path, 'value', after -> member)
            END AS op
        FROM (
            SELECT member, '/' || replace(replace(member, '~', '~0'), '/', '~1') AS path
            FROM (SELECT jsonb_object_keys(before) UNION SELECT jsonb_object_keys(after)) m(member)
        ) members
        WHERE before -> member IS DISTINCT FROM after -> member
    ) ops
$$;

CREATE TABLE audit (
    id bigserial PRIMARY KEY,
    at timestamptz NOT NULL DEFAULT clock_timestamp(),
    -- `user:anna`, `token:<id>`, `system:import`, or `database:<role>` for a write
    -- made outside the service.
    actor text NOT NULL,
    partner text,
    type text NOT NULL,
    key text NOT NULL,
    parent text,
    action text NOT NULL CHECK (action IN ('created', 'updated', 'deleted')),
    version_before integer,
    version_after integer,
    patch jsonb NOT NULL,
    request_id text,
    address text
);
CREATE INDEX audit_at ON audit (at, id);
CREATE INDEX audit_item ON audit (type, key, id);
CREATE INDEX audit_actor ON audit (actor, id);

-- Append-only: no one updates an entry. Deleting is for retention only
-- (`seesac-api audit prune`, as the schema's owner); the service's role has no
-- UPDATE, DELETE or TRUNCATE on the table (see `db::grant_rows_to`).
CREATE FUNCTION seesac_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only: its entries cannot be changed'
        USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER audit_append_only BEFORE UPDATE ON audit
    FOR EACH ROW EXECUTE FUNCTION seesac_audit_append_only();

CREATE TABLE revisions (
    id bigserial PRIMARY KEY,
    type text NOT NULL,
    -- The key the item had in this version: a renamed item's earlier versions stay
    -- under its earlier key, as in the change log.
    key text NOT NULL,
    parent text,
    version integer NOT NULL,
    item jsonb NOT NULL,
    -- Who wrote this version and when, from the audit log (unknown for versions
    -- written before it, or after their entry was pruned).
    author text,
    written_at timestamptz,
    replaced_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    replaced_by text NOT NULL CHECK (replaced_by IN ('updated', 'deleted'))
);
CREATE INDEX revisions_item ON revisions (type, key, version, id);

-- Each write of an item: an audit entry, and the version it replaced kept as a
-- revision. Arguments: the change type, the key column, the parent column (or '').
-- An update that changed no version (the same PUT twice, a renewed ETag) is none.
CREATE FUNCTION seesac_history() RETURNS trigger LANGUAGE plpgsql AS $$
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
