DROP TRIGGER users_renew_token_stamp ON users;
DROP FUNCTION seesac_renew_token_stamp();
ALTER TABLE users DROP COLUMN token_stamp;
ALTER TABLE observations
    DROP CONSTRAINT observations_partner_fkey,
    ADD CONSTRAINT observations_partner_fkey FOREIGN KEY (partner) REFERENCES partners (slug)
        ON UPDATE CASCADE;
ALTER TABLE api_tokens
    DROP CONSTRAINT api_tokens_partner_fkey,
    ADD CONSTRAINT api_tokens_partner_fkey FOREIGN KEY (partner) REFERENCES partners (slug)
        ON UPDATE CASCADE;
DROP TRIGGER partners_revoke_tokens ON partners;
DROP FUNCTION seesac_partner_deleted();
ALTER TABLE idempotency_keys DROP COLUMN rights, DROP COLUMN size;
