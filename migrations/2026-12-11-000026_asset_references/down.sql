DROP TRIGGER assets_guard ON assets;
DROP FUNCTION seesac_asset_guard();
ALTER TABLE pages DROP COLUMN image;
ALTER TABLE funders DROP COLUMN logo;
