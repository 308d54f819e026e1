-- Translations: an item's translatable fields in a locale other than the default
-- (the default locale's fields are the item's own). One row per item and locale,
-- found by (kind, item_id, locale): the translations of a page of items are one
-- indexed query. `source` keeps the item's own values of the translated fields at
-- `source_version`, the version they were translated from, so that a field whose
-- source has changed since is known to be outdated without reading history.
-- A deleted item's translations are kept: a restore revives the item's id, and
-- they come back with it.
CREATE TABLE translations (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    kind text NOT NULL,
    item_id uuid NOT NULL,
    locale text NOT NULL CHECK (locale ~ '^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$'),
    fields jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(fields) = 'object'),
    source jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(source) = 'object'),
    source_version integer NOT NULL CHECK (source_version > 0),
    status text NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'published')),
    version integer NOT NULL DEFAULT 1 CHECK (version > 0),
    created_by text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    etag text NOT NULL,
    CONSTRAINT translations_one_per_locale UNIQUE (kind, item_id, locale)
);

-- Every instance's read cache empties when a translation changes (the change log
-- does not carry translations yet; writes of translations are rare).
CREATE FUNCTION seesac_translations_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('seesac_content', 'translations');
    RETURN NULL;
END
$$;
CREATE TRIGGER translations_notify AFTER INSERT OR UPDATE OR DELETE ON translations
    FOR EACH STATEMENT EXECUTE FUNCTION seesac_translations_changed();

-- A token may be given the right to write translations alone.
ALTER TABLE api_tokens DROP CONSTRAINT api_tokens_scopes_check;
ALTER TABLE api_tokens ADD CONSTRAINT api_tokens_scopes_check CHECK (
    cardinality(scopes) > 0
    AND scopes <@ ARRAY['observations:write', 'content:read', 'content:write', 'translations:write']
);
