-- The audit log covers the writes to accounts and subscriptions too: users, API
-- tokens and webhooks. No revisions are kept of them, and no secret is written:
-- password and secret hashes and webhook secrets are left out (a changed password
-- shows as `/password` "changed"), and so is a token's `last_used_at`, which every
-- use of the token moves (an update that changes nothing else is not logged).
CREATE FUNCTION seesac_audit_account() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    kind text := TG_ARGV[0];
    key_column text := TG_ARGV[1];
    hidden text[] := ARRAY['password_hash', 'secret_hash', 'secret', 'last_used_at'];
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
    INSERT INTO audit (actor, partner, type, key, action, patch, request_id, address)
    VALUES (coalesce(nullif(current_setting('seesac.actor', true), ''), 'database:' || session_user),
            nullif(current_setting('seesac.partner', true), ''),
            kind, coalesce(after, before) ->> key_column,
            CASE TG_OP WHEN 'INSERT' THEN 'created' WHEN 'UPDATE' THEN 'updated' ELSE 'deleted' END,
            seesac_json_patch(coalesce(before, '{}'), coalesce(after, '{}')),
            nullif(current_setting('seesac.request_id', true), ''),
            nullif(current_setting('seesac.address', true), ''));
    RETURN NULL;
END;
$$;

CREATE TRIGGER users_audit AFTER INSERT OR UPDATE OR DELETE ON users
    FOR EACH ROW EXECUTE FUNCTION seesac_audit_account('user', 'username');
CREATE TRIGGER api_tokens_audit AFTER INSERT OR UPDATE OR DELETE ON api_tokens
    FOR EACH ROW EXECUTE FUNCTION seesac_audit_account('api_token', 'id');
CREATE TRIGGER webhooks_audit AFTER INSERT OR UPDATE OR DELETE ON webhooks
    FOR EACH ROW EXECUTE FUNCTION seesac_audit_account('webhook', 'id');
