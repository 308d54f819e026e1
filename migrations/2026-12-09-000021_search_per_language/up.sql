-- The text-search configuration of a locale: PostgreSQL's for its language where
-- the server has one (romanian, serbian, russian, ...; found by name in
-- pg_ts_config, so a server with more configurations uses them), `simple`
-- otherwise (no stemming, no stop words: every word as it is written).
CREATE FUNCTION seesac_search_config(locale text) RETURNS regconfig LANGUAGE sql STABLE AS $$
    SELECT coalesce(
        (SELECT c.oid::regconfig FROM pg_ts_config c
          WHERE c.cfgnamespace = 'pg_catalog'::regnamespace
            AND c.cfgname = CASE split_part(lower(locale), '-', 1)
                WHEN 'en' THEN 'english' WHEN 'sq' THEN 'albanian' WHEN 'bs' THEN 'bosnian'
                WHEN 'hr' THEN 'croatian' WHEN 'mk' THEN 'macedonian' WHEN 'cnr' THEN 'montenegrin'
                WHEN 'ro' THEN 'romanian' WHEN 'sr' THEN 'serbian' WHEN 'uk' THEN 'ukrainian'
                WHEN 'ru' THEN 'russian' WHEN 'de' THEN 'german' WHEN 'fr' THEN 'french'
                WHEN 'it' THEN 'italian' WHEN 'es' THEN 'spanish' WHEN 'el' THEN 'greek'
                WHEN 'tr' THEN 'turkish' WHEN 'hu' THEN 'hungarian' END),
        'simple'::regconfig)
$$;
