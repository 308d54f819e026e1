-- Translations in the change log: every write of a translation is one entry, in
-- the writing transaction, whoever writes it (the service, an import, psql). The
-- entry names the item (`type`, `key`, `parent`) and the `locale`; its action is
-- `translated` (written) or `untranslated` (deleted); its `version` is the
-- translation's own, so that one item's entries in one locale follow its versions.
-- Its `item_id` is the translation's id (stable per item and locale), so that the
-- item's own entries (its revisions, its revival, its scheduled publication) are
-- found as before; `item` keeps the translation's stored row, the item's id in it.
-- Anonymous readers see an entry when the translation is, or was until then,
-- published on an item they see (`public_action`).
ALTER TABLE changes ADD COLUMN locale text;
ALTER TABLE changes DROP CONSTRAINT changes_action_check;
ALTER TABLE changes ADD CONSTRAINT changes_action_check CHECK (
    action IN ('created', 'updated', 'deleted', 'published', 'unpublished', 'translated', 'untranslated'));
ALTER TABLE changes DROP CONSTRAINT changes_public_action_check;
ALTER TABLE changes ADD CONSTRAINT changes_public_action_check CHECK (
    public_action IN ('created', 'updated', 'deleted', 'translated', 'untranslated'));
ALTER TABLE changes ADD CONSTRAINT changes_locale_check CHECK (
    (locale IS NOT NULL) = (action IN ('translated', 'untranslated')));

CREATE FUNCTION seesac_log_translation() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
SET search_path FROM CURRENT AS $$
DECLARE
    t translations;
    k seesac_kinds;
    item record;
    now_ timestamptz := clock_timestamp();
    public boolean;
    key_ text;
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.version IS NOT DISTINCT FROM OLD.version THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'DELETE' THEN
        t := OLD;
    ELSE
        t := NEW;
    END IF;
    SELECT * INTO k FROM seesac_kinds WHERE kind = t.kind;
    EXECUTE format('SELECT %I::text AS key, %s AS parent, seesac_public_from(status, published_at) AS public_from '
                   '  FROM %I WHERE id = $1',
                   k.key_column,
                   CASE WHEN k.parent_column IS NULL THEN 'NULL::text' ELSE quote_ident(k.parent_column) || '::text' END,
                   k.table_name)
       INTO item USING t.item_id;
    -- An item deleted since (its translations are kept for its restore) is named
    -- by its last key.
    key_ := coalesce(item.key,
                     (SELECT c.key FROM changes c WHERE c.item_id = t.item_id ORDER BY c.seq DESC LIMIT 1),
                     t.item_id::text);
    public := coalesce(item.public_from <= now_, false);
    INSERT INTO changes (type, key, parent, item_id, locale, action, version, item, public_action,
                         actor, partner, request_id, address, at)
    VALUES (t.kind, key_, item.parent, t.id, t.locale,
            CASE WHEN TG_OP = 'DELETE' THEN 'untranslated' ELSE 'translated' END,
            t.version, seesac_stored(to_jsonb(t)),
            CASE WHEN public AND TG_OP <> 'DELETE' AND NEW.status = 'published' THEN 'translated'
                 WHEN public AND TG_OP <> 'INSERT' AND OLD.status = 'published' THEN 'untranslated' END,
            coalesce(nullif(current_setting('seesac.actor', true), ''), 'database:' || session_user),
            nullif(current_setting('seesac.partner', true), ''),
            nullif(current_setting('seesac.request_id', true), ''),
            nullif(current_setting('seesac.address', true), ''),
            now_);
    RETURN NULL;
END;
$$;
REVOKE EXECUTE ON FUNCTION seesac_log_translation() FROM PUBLIC;

-- The sequencer tells every instance when the entry is numbered, as for any
-- write: the notification of its own goes.
DROP TRIGGER translations_notify ON translations;
DROP FUNCTION seesac_translations_changed();
CREATE TRIGGER translations_log AFTER INSERT OR UPDATE OR DELETE ON translations
    FOR EACH ROW EXECUTE FUNCTION seesac_log_translation();
