-- Users, API tokens and webhook subscriptions become resources on the engine, like
-- partners: each row gets a version and a stored ETag, kept by the versioning
-- trigger, so that lists page, reads answer ETags and writes take If-Match as
-- every other resource's do. Columns that move without anyone writing the item
-- (a token's last use, a subscription's count of failed deliveries) are not a new
-- version: the trigger leaves them out of its comparison.

CREATE OR REPLACE FUNCTION seesac_versioning() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    -- Besides the bookkeeping columns, what a table names as not part of a version.
    ignored text[] := ARRAY['search', 'version', 'updated_at', 'etag'] || TG_ARGV::text[];
BEGIN
    NEW.id := OLD.id;
    NEW.created_at := OLD.created_at;
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

ALTER TABLE users
    ADD COLUMN version integer NOT NULL DEFAULT 1,
    ADD COLUMN etag text NOT NULL DEFAULT seesac_new_etag();
CREATE TRIGGER users_versioning BEFORE UPDATE ON users
    FOR EACH ROW EXECUTE FUNCTION seesac_versioning();

ALTER TABLE api_tokens
    ADD COLUMN version integer NOT NULL DEFAULT 1,
    ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now(),
    ADD COLUMN etag text NOT NULL DEFAULT seesac_new_etag();
UPDATE api_tokens SET updated_at = coalesce(revoked_at, created_at);
CREATE TRIGGER api_tokens_versioning BEFORE UPDATE ON api_tokens
    FOR EACH ROW EXECUTE FUNCTION seesac_versioning('last_used_at');
CREATE INDEX api_tokens_created_at_idx ON api_tokens (created_at, id);

ALTER TABLE webhooks
    ADD COLUMN version integer NOT NULL DEFAULT 1,
    ADD COLUMN etag text NOT NULL DEFAULT seesac_new_etag();
CREATE TRIGGER webhooks_versioning BEFORE UPDATE ON webhooks
    FOR EACH ROW EXECUTE FUNCTION seesac_versioning('failures');

-- Their audit entries say the versions, and leave out the bookkeeping.
CREATE OR REPLACE FUNCTION seesac_audit_account() RETURNS trigger LANGUAGE plpgsql
SECURITY DEFINER SET search_path FROM CURRENT AS $$
DECLARE
    kind text := TG_ARGV[0];
    key_column text := TG_ARGV[1];
    hidden text[] := ARRAY['password_hash', 'secret_hash', 'secret', 'last_used_at', 'failures',
                           'etag', 'version', 'updated_at'];
    before jsonb;
    after jsonb;
BEGIN
    IF TG_OP <> 'INSERT' THEN
        before := to_jsonb(OLD) - hidden;
    END IF;
    IF TG_OP <> 'DELETE' THEN
        after := to_jsonb(NEW) - hidden;
    END IF;
    IF TG_OP = 'UPDATE' AND kind = 'user'
       AND to_jsonb(OLD) ->> 'password_hash' IS DISTINCT FROM to_jsonb(NEW) ->> 'password_hash' THEN
        before := before || '{"password": "kept"}';
        after := after || '{"password": "changed"}';
    END IF;
    IF TG_OP = 'UPDATE' AND before = after THEN
        RETURN NULL;
    END IF;
    INSERT INTO audit (actor, partner, type, key, action, version_before, version_after, patch,
                       request_id, address)
    VALUES (coalesce(nullif(current_setting('seesac.actor', true), ''), 'database:' || session_user),
            nullif(current_setting('seesac.partner', true), ''),
            kind, coalesce(after, before) ->> key_column,
            CASE TG_OP WHEN 'INSERT' THEN 'created' WHEN 'UPDATE' THEN 'updated' ELSE 'deleted' END,
            CASE WHEN TG_OP <> 'INSERT' THEN (to_jsonb(OLD) ->> 'version')::integer END,
            CASE WHEN TG_OP <> 'DELETE' THEN (to_jsonb(NEW) ->> 'version')::integer END,
            seesac_json_patch(coalesce(before, '{}'), coalesce(after, '{}')),
            nullif(current_setting('seesac.request_id', true), ''),
            nullif(current_setting('seesac.address', true), ''));
    RETURN NULL;
END;
$$;
