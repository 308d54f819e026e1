DROP TRIGGER translations_log ON translations;
DROP FUNCTION seesac_log_translation();
CREATE FUNCTION seesac_translations_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('seesac_content', 'translations');
    RETURN NULL;
END
$$;
CREATE TRIGGER translations_notify AFTER INSERT OR UPDATE OR DELETE ON translations
    FOR EACH STATEMENT EXECUTE FUNCTION seesac_translations_changed();
DELETE FROM changes WHERE locale IS NOT NULL;
ALTER TABLE changes DROP CONSTRAINT changes_locale_check;
ALTER TABLE changes DROP CONSTRAINT changes_public_action_check;
ALTER TABLE changes ADD CONSTRAINT changes_public_action_check CHECK (
    public_action IN ('created', 'updated', 'deleted'));
ALTER TABLE changes DROP CONSTRAINT changes_action_check;
ALTER TABLE changes ADD CONSTRAINT changes_action_check CHECK (
    action IN ('created', 'updated', 'deleted', 'published', 'unpublished'));
ALTER TABLE changes DROP COLUMN locale;
