-- The read cache of every instance (src/cache) keeps anonymous answers until the
-- content changes. Any statement that changes content, from the service, a command
-- line or an administrator's psql, notifies `seesac_content` in its own
-- transaction: PostgreSQL delivers it to every listening instance when, and only
-- if, the transaction commits. The payload is the table's name.
CREATE FUNCTION seesac_content_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('seesac_content', TG_TABLE_NAME);
    RETURN NULL;
END
$$;

DO $$
DECLARE
    content text;
BEGIN
    FOREACH content IN ARRAY ARRAY['pages', 'impact_metrics', 'observations', 'funders',
                                   'council_decisions', 'contacts', 'partners']
    LOOP
        EXECUTE format(
            'CREATE TRIGGER %I AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON %I '
            'FOR EACH STATEMENT EXECUTE FUNCTION seesac_content_changed()',
            content || '_notify', content);
    END LOOP;
END
$$;

-- The read cache asks for the next scheduled publication after every change; these
-- answer it from an index. Observations are published with their metric.
CREATE INDEX pages_scheduled_idx ON pages (published_at) WHERE status = 'published';
CREATE INDEX impact_metrics_scheduled_idx ON impact_metrics (published_at) WHERE status = 'published';
CREATE INDEX funders_scheduled_idx ON funders (published_at) WHERE status = 'published';
CREATE INDEX council_decisions_scheduled_idx ON council_decisions (published_at) WHERE status = 'published';
CREATE INDEX contacts_scheduled_idx ON contacts (published_at) WHERE status = 'published';
CREATE INDEX observations_scheduled_idx ON observations (published_at) WHERE status = 'published';
