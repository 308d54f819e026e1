DROP TRIGGER webhooks_versioning ON webhooks;
ALTER TABLE webhooks DROP COLUMN version, DROP COLUMN etag;
DROP INDEX api_tokens_created_at_idx;
DROP TRIGGER api_tokens_versioning ON api_tokens;
ALTER TABLE api_tokens DROP COLUMN version, DROP COLUMN updated_at, DROP COLUMN etag;
DROP TRIGGER users_versioning ON users;
ALTER TABLE users DROP COLUMN version, DROP COLUMN etag;
