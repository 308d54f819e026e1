-- A partner can be deleted. Its tokens are revoked first (the rows stay, for the
-- record, as a revoked token's always do), and then name no partner; its
-- observations stay, attributed by name (`reported_by`), owned by no partner, so
-- that a later partner with the same slug gets none of them.
CREATE FUNCTION seesac_partner_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE api_tokens SET revoked_at = now() WHERE partner = OLD.slug AND revoked_at IS NULL;
    RETURN OLD;
END;
$$;
CREATE TRIGGER partners_revoke_tokens BEFORE DELETE ON partners
    FOR EACH ROW EXECUTE FUNCTION seesac_partner_deleted();
ALTER TABLE api_tokens
    DROP CONSTRAINT api_tokens_partner_fkey,
    ADD CONSTRAINT api_tokens_partner_fkey FOREIGN KEY (partner) REFERENCES partners (slug)
        ON UPDATE CASCADE ON DELETE SET NULL;
ALTER TABLE observations
    DROP CONSTRAINT observations_partner_fkey,
    ADD CONSTRAINT observations_partner_fkey FOREIGN KEY (partner) REFERENCES partners (slug)
        ON UPDATE CASCADE ON DELETE SET NULL;

-- A person's access tokens carry the user's stamp, which a new password or role
-- renews: every token issued before no longer verifies. A user created again
-- under the same name has a new stamp, so the old user's tokens do not revive.
ALTER TABLE users ADD COLUMN token_stamp uuid NOT NULL DEFAULT gen_random_uuid();
CREATE FUNCTION seesac_renew_token_stamp() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.password_hash IS DISTINCT FROM OLD.password_hash OR NEW.role IS DISTINCT FROM OLD.role THEN
        NEW.token_stamp := gen_random_uuid();
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER users_renew_token_stamp BEFORE UPDATE ON users
    FOR EACH ROW EXECUTE FUNCTION seesac_renew_token_stamp();

-- The stamp is bookkeeping, not part of a user's history.
CREATE OR REPLACE FUNCTION seesac_audit_account() RETURNS trigger LANGUAGE plpgsql
SECURITY DEFINER SET search_path FROM CURRENT AS $$
DECLARE
    kind text := TG_ARGV[0];
    key_column text := TG_ARGV[1];
    hidden text[] := ARRAY['password_hash', 'secret_hash', 'secret', 'last_used_at', 'failures',
                           'etag', 'version', 'updated_at', 'token_stamp'];
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

-- An Idempotency-Key remembers the rights its caller had: a replay for a caller
-- whose rights changed since runs the request again, which checks them. An answer
-- too large to keep is remembered by its status and size alone.
ALTER TABLE idempotency_keys
    ADD COLUMN rights text NOT NULL DEFAULT '',
    ADD COLUMN size integer NOT NULL DEFAULT 0;

-- References between items may be checked at commit: an import that replaces
-- deletes an item and creates the file's under the same key in one transaction
-- (`SET CONSTRAINTS ALL DEFERRED`); every other write is checked at once, as before.
DO $$
DECLARE
    fk record;
BEGIN
    FOR fk IN SELECT conrelid::regclass AS tab, conname FROM pg_constraint
              WHERE contype = 'f' AND connamespace = current_schema()::regnamespace LOOP
        EXECUTE format('ALTER TABLE %s ALTER CONSTRAINT %I DEFERRABLE INITIALLY IMMEDIATE',
                       fk.tab, fk.conname);
    END LOOP;
END;
$$;
