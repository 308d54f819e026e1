CREATE OR REPLACE FUNCTION seesac_asset_guard() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    users text;
BEGIN
    SELECT string_agg(what, ', ' ORDER BY what) INTO users FROM (
        SELECT 'the funder ' || slug || ' (its logo)' AS what FROM funders WHERE logo = OLD.id
        UNION ALL
        SELECT 'the page ' || slug || ' (its image)' FROM pages WHERE image = OLD.id
        LIMIT 20
    ) u;
    IF users IS NOT NULL THEN
        RAISE EXCEPTION 'it is used by %; change them first', users
              USING ERRCODE = 'foreign_key_violation', TABLE = 'assets',
                    CONSTRAINT = 'asset_users_named';
    END IF;
    RETURN OLD;
END;
$$;
ALTER TABLE council_decisions DROP COLUMN document;
