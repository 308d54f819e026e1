-- The translations of an item into some locales, as one JSON object ({locale:
-- fields}): the column a read in a locale adds to the items' own query. In
-- PL/pgSQL so that its plan is made once per connection, and so that the
-- query that calls it is the same text for every locale (the service keeps it
-- prepared).
CREATE FUNCTION seesac_translations_of(kind_ text, item uuid, locales text[], published_only boolean)
RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN (SELECT jsonb_object_agg(t.locale, t.fields) FROM translations t
             WHERE t.kind = kind_ AND t.item_id = item AND t.locale = ANY (locales)
               AND (NOT published_only OR t.status = 'published'));
END;
$$;
