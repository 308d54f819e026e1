ALTER TABLE api_tokens DROP CONSTRAINT api_tokens_scopes_check;
ALTER TABLE api_tokens ADD CONSTRAINT api_tokens_scopes_check CHECK (
    cardinality(scopes) > 0
    AND scopes <@ ARRAY['observations:write', 'content:read', 'content:write']
);
DROP TABLE translations;
DROP FUNCTION seesac_translations_changed();
