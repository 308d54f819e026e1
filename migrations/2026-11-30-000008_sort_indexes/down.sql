CREATE INDEX pages_parent_idx ON pages (parent);
CREATE INDEX pages_updated_at_idx ON pages (updated_at);
CREATE INDEX impact_metrics_updated_at_idx ON impact_metrics (updated_at);
CREATE INDEX observations_updated_at_idx ON observations (updated_at);
CREATE INDEX observations_partner_idx ON observations (partner);
CREATE INDEX funders_parent_idx ON funders (parent);
CREATE INDEX funders_updated_at_idx ON funders (updated_at);
CREATE INDEX council_decisions_supersedes_idx ON council_decisions (supersedes);
CREATE INDEX council_decisions_funder_idx ON council_decisions (funder);
CREATE INDEX council_decisions_updated_at_idx ON council_decisions (updated_at);
CREATE INDEX contacts_updated_at_idx ON contacts (updated_at);
DROP INDEX pages_default_sort_idx, funders_default_sort_idx, contacts_default_sort_idx,
    observations_default_sort_idx;
DO $$
DECLARE
    sort record;
BEGIN
    FOR sort IN SELECT indexname FROM pg_indexes
                WHERE schemaname = current_schema() AND indexname LIKE '%\_sort\_idx'
    LOOP
        EXECUTE format('DROP INDEX %I', sort.indexname);
    END LOOP;
END
$$;
