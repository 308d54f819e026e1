DROP INDEX observations_scheduled_idx;
DROP INDEX contacts_scheduled_idx;
DROP INDEX council_decisions_scheduled_idx;
DROP INDEX funders_scheduled_idx;
DROP INDEX impact_metrics_scheduled_idx;
DROP INDEX pages_scheduled_idx;
DO $$
DECLARE
    content text;
BEGIN
    FOREACH content IN ARRAY ARRAY['pages', 'impact_metrics', 'observations', 'funders',
                                   'council_decisions', 'contacts', 'partners']
    LOOP
        EXECUTE format('DROP TRIGGER %I ON %I', content || '_notify', content);
    END LOOP;
END
$$;
DROP FUNCTION seesac_content_changed();
