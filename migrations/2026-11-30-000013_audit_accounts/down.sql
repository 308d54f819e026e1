DROP TRIGGER webhooks_audit ON webhooks;
DROP TRIGGER api_tokens_audit ON api_tokens;
DROP TRIGGER users_audit ON users;
DROP FUNCTION seesac_audit_account();
