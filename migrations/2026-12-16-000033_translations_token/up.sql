-- A read in a locale other than the default no longer joins its items'
-- translations: the service keeps the translations it has read in memory, and a
-- read's own statement reads, beside its rows, a token that every committed
-- write of translations changes. The service uses what it keeps only while the
-- token its read saw is the one it kept them under, so a read shows the
-- translations its own snapshot has, whoever wrote them (another instance, psql),
-- at the cost of one row read per statement instead of one index probe per item
-- (bench/results.md, docs/decisions.md "Translations kept in memory").
--
-- The token is random, not a counter: instances of different databases in one
-- process (the tests) can never take one database's token for another's.
CREATE TABLE translations_token (
    only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    token bigint NOT NULL,
    -- The transaction that last changed it: a transaction changes it once, however
    -- many translations it writes.
    changed_in xid8
);

CREATE FUNCTION seesac_random_token() RETURNS bigint LANGUAGE sql VOLATILE AS $$
    SELECT ('x' || translate(gen_random_uuid()::text, '-', ''))::bit(64)::bigint
$$;

INSERT INTO translations_token (token) VALUES (seesac_random_token());

-- Runs as the owner: the service's role reads the token and may not set it. Its
-- search path puts the session's temporary tables last, so that no session can
-- have it change a table of its own instead.
CREATE FUNCTION seesac_translations_token_changed() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
SET search_path = public, pg_temp AS $$
BEGIN
    UPDATE translations_token
       SET token = seesac_random_token(), changed_in = pg_current_xact_id()
     WHERE changed_in IS DISTINCT FROM pg_current_xact_id();
    RETURN NULL;
END;
$$;

-- At commit, among the transaction's deferred checks, so that the token's row is
-- locked from there to the commit's end, not from the first write: writers of
-- translations that commit at once take turns there, and two that write the same
-- translations in different orders meet on those rows first, as before.
CREATE CONSTRAINT TRIGGER translations_token AFTER INSERT OR UPDATE OR DELETE ON translations
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION seesac_translations_token_changed();
CREATE TRIGGER translations_token_truncated AFTER TRUNCATE ON translations
    FOR EACH STATEMENT EXECUTE FUNCTION seesac_translations_token_changed();

-- What the reads used instead (migrations 000022 and 000031).
DROP VIEW translated;
DROP FUNCTION seesac_translations_of(text, uuid, text[], boolean);
