-- A Council Decision's document (its text as published, a PDF) is an asset, by
-- reference like a funder's logo and a page's image; the guard names it too.
ALTER TABLE council_decisions ADD COLUMN document uuid REFERENCES assets (id);
CREATE INDEX council_decisions_document_idx ON council_decisions (document)
    WHERE document IS NOT NULL;

CREATE OR REPLACE FUNCTION seesac_asset_guard() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    users text;
BEGIN
    SELECT string_agg(what, ', ' ORDER BY what) INTO users FROM (
        SELECT 'the funder ' || slug || ' (its logo)' AS what FROM funders WHERE logo = OLD.id
        UNION ALL
        SELECT 'the page ' || slug || ' (its image)' FROM pages WHERE image = OLD.id
        UNION ALL
        SELECT 'the Council Decision ' || celex || ' (its document)'
            FROM council_decisions WHERE document = OLD.id
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
