DROP TRIGGER translations_token_truncated ON translations;
DROP TRIGGER translations_token ON translations;
DROP FUNCTION seesac_translations_token_changed();
DROP TABLE translations_token;
DROP FUNCTION seesac_random_token();

CREATE FUNCTION seesac_translations_of(kind_ text, item uuid, locales text[], published_only boolean)
RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN (SELECT jsonb_object_agg(t.locale, t.fields) FROM translations t
             WHERE t.kind = kind_ AND t.item_id = item AND t.locale = ANY (locales)
               AND (NOT published_only OR t.status = 'published'));
END;
$$;

CREATE VIEW translated AS
SELECT kind AS translated_kind,
       item_id AS translated_item,
       locale AS translated_locale,
       status AS translated_status,
       fields AS translated_fields
  FROM translations;
