-- A page's blocks: what the page shows, in order (Markdown of its own, impact
-- metrics, funders, Council Decisions, a contact, its child pages). The blocks
-- are a column of the page, so that they are versioned, logged, diffed, restored
-- and exported with it; every item a block names is also a row here, with a
-- foreign key, so that the database keeps the references true: a renamed item is
-- followed (ON UPDATE CASCADE, then the page's blocks are rewritten), and an item
-- a block names cannot be deleted.
ALTER TABLE pages ADD COLUMN blocks jsonb NOT NULL DEFAULT '[]'
    CHECK (jsonb_typeof(blocks) = 'array');

CREATE TABLE page_block_refs (
    page_id uuid NOT NULL REFERENCES pages (id) ON DELETE CASCADE,
    -- Where the key is in the page's blocks: {block, field, position} or
    -- {block, field} (`{0,metrics,1}`, `{4,contact}`).
    path text[] NOT NULL,
    metric text REFERENCES impact_metrics (key) ON UPDATE CASCADE,
    funder text REFERENCES funders (slug) ON UPDATE CASCADE,
    decision text REFERENCES council_decisions (celex) ON UPDATE CASCADE,
    contact text REFERENCES contacts (slug) ON UPDATE CASCADE,
    PRIMARY KEY (page_id, path),
    CHECK (num_nonnulls(metric, funder, decision, contact) = 1)
);
CREATE INDEX page_block_refs_metric_idx ON page_block_refs (metric) WHERE metric IS NOT NULL;
CREATE INDEX page_block_refs_funder_idx ON page_block_refs (funder) WHERE funder IS NOT NULL;
CREATE INDEX page_block_refs_decision_idx ON page_block_refs (decision) WHERE decision IS NOT NULL;
CREATE INDEX page_block_refs_contact_idx ON page_block_refs (contact) WHERE contact IS NOT NULL;

-- The rows of a page's references, from its blocks, however the page was written
-- (the API, an import, a restore, psql). Not for the rewrite that follows a
-- rename (a trigger's own update): its rows are the ones that changed.
CREATE FUNCTION seesac_page_block_refs() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM page_block_refs WHERE page_id = NEW.id;
    INSERT INTO page_block_refs (page_id, path, metric, funder, decision, contact)
    SELECT NEW.id, r.path,
           CASE r.field WHEN 'metrics' THEN r.key END, CASE r.field WHEN 'funders' THEN r.key END,
           CASE r.field WHEN 'decisions' THEN r.key END, CASE r.field WHEN 'contact' THEN r.key END
      FROM (SELECT ARRAY[(b.ord - 1)::text, f.field, (k.ord - 1)::text] AS path, f.field, k.key
              FROM jsonb_array_elements(NEW.blocks) WITH ORDINALITY AS b(block, ord)
             CROSS JOIN LATERAL (VALUES ('metrics'), ('funders'), ('decisions')) AS f(field)
             CROSS JOIN LATERAL jsonb_array_elements_text(
                   CASE WHEN jsonb_typeof(b.block -> f.field) = 'array' THEN b.block -> f.field
                        ELSE '[]' END) WITH ORDINALITY AS k(key, ord)
            UNION ALL
            SELECT ARRAY[(b.ord - 1)::text, 'contact'], 'contact', b.block ->> 'contact'
              FROM jsonb_array_elements(NEW.blocks) WITH ORDINALITY AS b(block, ord)
             WHERE jsonb_typeof(b.block -> 'contact') = 'string') r;
    RETURN NULL;
END;
$$;
CREATE TRIGGER pages_block_refs AFTER INSERT OR UPDATE OF blocks ON pages
    FOR EACH ROW WHEN (pg_trigger_depth() = 0) EXECUTE FUNCTION seesac_page_block_refs();

-- A renamed item, followed: its new key is written where the page's blocks named
-- the old one (a new version of the page, logged like any write).
CREATE FUNCTION seesac_page_block_renamed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE pages
       SET blocks = jsonb_set(blocks, NEW.path,
                              to_jsonb(coalesce(NEW.metric, NEW.funder, NEW.decision, NEW.contact)))
     WHERE id = NEW.page_id;
    RETURN NULL;
END;
$$;
CREATE TRIGGER page_block_refs_renamed AFTER UPDATE ON page_block_refs
    FOR EACH ROW WHEN (OLD.path = NEW.path AND OLD.* IS DISTINCT FROM NEW.*)
    EXECUTE FUNCTION seesac_page_block_renamed();

-- Deleting an item a block names is refused with the page and the block's
-- pointer, in words a client can act on (the foreign key alone would name
-- neither). SQLSTATE 23503, as the foreign key's own refusal.
CREATE FUNCTION seesac_page_block_guard() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    hit record;
BEGIN
    EXECUTE format('SELECT p.slug, r.path FROM page_block_refs r JOIN pages p ON p.id = r.page_id '
                   ' WHERE r.%I = $1 ORDER BY p.slug, r.path LIMIT 1', TG_ARGV[0])
       INTO hit USING to_jsonb(OLD) ->> TG_ARGV[1];
    IF hit.slug IS NOT NULL THEN
        RAISE EXCEPTION 'the page % shows it in a block (/blocks/%); change that block first',
              hit.slug, array_to_string(hit.path, '/')
              USING ERRCODE = 'foreign_key_violation', TABLE = 'page_block_refs',
                    CONSTRAINT = 'page_block_refs_named';
    END IF;
    RETURN OLD;
END;
$$;
CREATE TRIGGER impact_metrics_block_guard BEFORE DELETE ON impact_metrics
    FOR EACH ROW EXECUTE FUNCTION seesac_page_block_guard('metric', 'key');
CREATE TRIGGER funders_block_guard BEFORE DELETE ON funders
    FOR EACH ROW EXECUTE FUNCTION seesac_page_block_guard('funder', 'slug');
CREATE TRIGGER council_decisions_block_guard BEFORE DELETE ON council_decisions
    FOR EACH ROW EXECUTE FUNCTION seesac_page_block_guard('decision', 'celex');
CREATE TRIGGER contacts_block_guard BEFORE DELETE ON contacts
    FOR EACH ROW EXECUTE FUNCTION seesac_page_block_guard('contact', 'slug');
