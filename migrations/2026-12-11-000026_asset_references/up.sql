-- Content uses assets by reference: a funder's logo and a page's image, each an
-- asset's id with a foreign key. Deleting an asset something uses is refused,
-- naming what uses it (the guard below, before the foreign key would refuse it
-- without names; `db::errors::on_delete` answers a 409 with these words).
ALTER TABLE funders ADD COLUMN logo uuid REFERENCES assets (id);
ALTER TABLE pages ADD COLUMN image uuid REFERENCES assets (id);
CREATE INDEX funders_logo_idx ON funders (logo) WHERE logo IS NOT NULL;
CREATE INDEX pages_image_idx ON pages (image) WHERE image IS NOT NULL;

CREATE FUNCTION seesac_asset_guard() RETURNS trigger LANGUAGE plpgsql AS $$
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
CREATE TRIGGER assets_guard BEFORE DELETE ON assets
    FOR EACH ROW EXECUTE FUNCTION seesac_asset_guard();
