-- Every sort a list allows, served by an index: a page of a sorted list is then
-- read in index order and stops at its LIMIT, instead of sorting every matching row.
-- Lists sort `ASC NULLS FIRST` or `DESC NULLS LAST` (the same index read backwards),
-- then by the unique key (an incremental sort over the index's order); the default
-- sorts, which have several keys, get an index over all of them.
DO $$
DECLARE
    sort record;
BEGIN
    FOR sort IN SELECT * FROM (VALUES
        ('pages', 'slug'),
        ('pages', 'title'),
        ('pages', 'parent'),
        ('pages', 'position'),
        ('pages', 'status'),
        ('pages', 'published_at'),
        ('pages', 'created_at'),
        ('pages', 'updated_at'),
        ('impact_metrics', 'key'),
        ('impact_metrics', 'label'),
        ('impact_metrics', 'category'),
        ('impact_metrics', 'unit'),
        ('impact_metrics', 'position'),
        ('impact_metrics', 'headline_area'),
        ('impact_metrics', 'status'),
        ('impact_metrics', 'published_at'),
        ('impact_metrics', 'created_at'),
        ('impact_metrics', 'updated_at'),
        ('funders', 'slug'),
        ('funders', 'name'),
        ('funders', 'kind'),
        ('funders', 'country_code'),
        ('funders', 'parent'),
        ('funders', 'position'),
        ('funders', 'status'),
        ('funders', 'published_at'),
        ('funders', 'created_at'),
        ('funders', 'updated_at'),
        ('council_decisions', 'celex'),
        ('council_decisions', 'reference'),
        ('council_decisions', 'title'),
        ('council_decisions', 'adopted_on'),
        ('council_decisions', 'supersedes'),
        ('council_decisions', 'funder'),
        ('council_decisions', 'status'),
        ('council_decisions', 'published_at'),
        ('council_decisions', 'created_at'),
        ('council_decisions', 'updated_at'),
        ('contacts', 'slug'),
        ('contacts', 'name'),
        ('contacts', 'organisation'),
        ('contacts', 'city'),
        ('contacts', 'country_code'),
        ('contacts', 'is_primary'),
        ('contacts', 'position'),
        ('contacts', 'status'),
        ('contacts', 'published_at'),
        ('contacts', 'created_at'),
        ('contacts', 'updated_at'),
        ('observations', 'metric'),
        ('observations', 'area'),
        ('observations', 'period_start'),
        ('observations', 'period_end'),
        ('observations', 'value'),
        ('observations', 'value_max'),
        ('observations', 'qualifier'),
        ('observations', 'as_of'),
        ('observations', 'reported_by'),
        ('observations', 'partner'),
        ('observations', 'status'),
        ('observations', 'published_at'),
        ('observations', 'created_at'),
        ('observations', 'updated_at')
    ) AS sorts (tbl, col)
    LOOP
        EXECUTE format('CREATE INDEX %I ON %I (%I ASC NULLS FIRST)',
                       sort.tbl || '_' || sort.col || '_sort_idx', sort.tbl, sort.col);
    END LOOP;
END
$$;

CREATE INDEX pages_default_sort_idx ON pages (parent ASC NULLS FIRST, position ASC NULLS FIRST, slug);
CREATE INDEX funders_default_sort_idx ON funders (position ASC NULLS FIRST, name ASC NULLS FIRST, slug);
CREATE INDEX contacts_default_sort_idx ON contacts (is_primary DESC NULLS LAST, position ASC NULLS FIRST, slug);
CREATE INDEX observations_default_sort_idx ON observations (period_end ASC NULLS FIRST, period_start ASC NULLS FIRST, area ASC NULLS FIRST, id);

-- The indexes these replace (the same columns, without the null order lists ask for).
DROP INDEX pages_parent_idx, pages_updated_at_idx, impact_metrics_updated_at_idx,
    observations_updated_at_idx, observations_partner_idx, funders_parent_idx,
    funders_updated_at_idx, council_decisions_supersedes_idx, council_decisions_funder_idx,
    council_decisions_updated_at_idx, contacts_updated_at_idx;
