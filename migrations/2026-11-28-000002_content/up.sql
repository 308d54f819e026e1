-- Impact metrics and their observations, funders, EU Council Decisions, contacts.
-- References between items use the natural key with ON UPDATE CASCADE, so that a
-- renamed key follows everywhere, and the default NO ACTION on delete, so that an
-- item still referenced cannot be deleted (409).

CREATE TABLE impact_metrics (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    key text NOT NULL UNIQUE CHECK (key ~ '^[a-z0-9]+(-[a-z0-9]+)*$' AND length(key) <= 100),
    label text NOT NULL CHECK (length(label) BETWEEN 1 AND 200),
    description text,
    category text NOT NULL CHECK (category IN
        ('disarmament', 'stockpile-security', 'gender-equality', 'awareness', 'cooperation', 'capacity-building', 'overall')),
    unit text NOT NULL CHECK (unit IN ('count', 'percent', 'people')),
    sdg_goals integer[] NOT NULL DEFAULT '{}'
        CHECK (sdg_goals <@ '{1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17}'::integer[]),
    position integer NOT NULL DEFAULT 0,
    status text NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'published', 'archived')),
    published_at timestamptz,
    version integer NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    search tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('english', label), 'A')
        || setweight(to_tsvector('english', coalesce(description, '')), 'B')
    ) STORED
);
CREATE INDEX impact_metrics_search_idx ON impact_metrics USING gin (search);
CREATE INDEX impact_metrics_updated_at_idx ON impact_metrics (updated_at);
CREATE TRIGGER impact_metrics_versioning BEFORE UPDATE ON impact_metrics
    FOR EACH ROW EXECUTE FUNCTION seesac_versioning();

CREATE TABLE observations (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    metric text NOT NULL REFERENCES impact_metrics (key) ON UPDATE CASCADE,
    area text NOT NULL CHECK (area ~ '^[A-Z]{2,4}$'),
    -- Either end of the period may be unknown: the seed gives some figures no date.
    period_start date,
    period_end date,
    value double precision NOT NULL,
    value_max double precision,
    qualifier text NOT NULL DEFAULT 'exact'
        CHECK (qualifier IN ('exact', 'at_least', 'more_than', 'approximately')),
    as_of date,
    source_url text,
    note text,
    reported_by text,
    status text NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'published', 'archived')),
    published_at timestamptz,
    version integer NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CHECK (period_start <= period_end),
    CHECK (value_max >= value)
);
-- The natural key. An unknown end counts as one value, not as "distinct from all".
CREATE UNIQUE INDEX observations_natural_key ON observations
    (metric, area, coalesce(period_start, '-infinity'::date), coalesce(period_end, 'infinity'::date));
CREATE INDEX observations_updated_at_idx ON observations (updated_at);
CREATE TRIGGER observations_versioning BEFORE UPDATE ON observations
    FOR EACH ROW EXECUTE FUNCTION seesac_versioning();

CREATE TABLE funders (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    slug text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$' AND length(slug) <= 100),
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    kind text NOT NULL CHECK (kind IN ('multilateral', 'government', 'government_agency', 'foundation', 'other')),
    country_code text CHECK (country_code ~ '^[A-Z]{2}$'),
    parent text REFERENCES funders (slug) ON UPDATE CASCADE CHECK (parent <> slug),
    website text,
    logo_url text,
    description text,
    position integer NOT NULL DEFAULT 0,
    status text NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'published', 'archived')),
    published_at timestamptz,
    version integer NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    search tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('english', name), 'A')
        || setweight(to_tsvector('english', coalesce(description, '')), 'B')
    ) STORED
);
CREATE INDEX funders_parent_idx ON funders (parent);
CREATE INDEX funders_search_idx ON funders USING gin (search);
CREATE INDEX funders_updated_at_idx ON funders (updated_at);
CREATE TRIGGER funders_versioning BEFORE UPDATE ON funders
    FOR EACH ROW EXECUTE FUNCTION seesac_versioning();

CREATE TABLE council_decisions (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    celex text NOT NULL UNIQUE CHECK (celex ~ '^3[0-9]{4}D[0-9]{4}$'),
    reference text NOT NULL,
    title text NOT NULL CHECK (length(title) BETWEEN 1 AND 500),
    adopted_on date,
    summary text,
    supersedes text REFERENCES council_decisions (celex) ON UPDATE CASCADE CHECK (supersedes <> celex),
    funder text NOT NULL REFERENCES funders (slug) ON UPDATE CASCADE,
    status text NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'published', 'archived')),
    published_at timestamptz,
    version integer NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    search tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('simple', reference), 'A')
        || setweight(to_tsvector('english', title), 'A')
        || setweight(to_tsvector('english', coalesce(summary, '')), 'B')
    ) STORED
);
CREATE INDEX council_decisions_supersedes_idx ON council_decisions (supersedes);
CREATE INDEX council_decisions_funder_idx ON council_decisions (funder);
CREATE INDEX council_decisions_search_idx ON council_decisions USING gin (search);
CREATE INDEX council_decisions_updated_at_idx ON council_decisions (updated_at);
CREATE TRIGGER council_decisions_versioning BEFORE UPDATE ON council_decisions
    FOR EACH ROW EXECUTE FUNCTION seesac_versioning();

CREATE TABLE contacts (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    slug text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$' AND length(slug) <= 100),
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    organisation text,
    street_address text,
    postal_code text,
    city text,
    country_code text CHECK (country_code ~ '^[A-Z]{2}$'),
    phone text,
    fax text,
    email text,
    is_primary boolean NOT NULL DEFAULT false,
    position integer NOT NULL DEFAULT 0,
    status text NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'published', 'archived')),
    published_at timestamptz,
    version integer NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    search tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('english', name), 'A')
        || setweight(to_tsvector('english', coalesce(organisation, '')), 'B')
        || setweight(to_tsvector('english', coalesce(city, '') || ' ' || coalesce(street_address, '')), 'C')
    ) STORED
);
CREATE INDEX contacts_search_idx ON contacts USING gin (search);
-- At most one primary contact; the API keeps it at exactly one.
CREATE UNIQUE INDEX contacts_one_primary ON contacts ((true)) WHERE is_primary;
CREATE INDEX contacts_updated_at_idx ON contacts (updated_at);
CREATE TRIGGER contacts_versioning BEFORE UPDATE ON contacts
    FOR EACH ROW EXECUTE FUNCTION seesac_versioning();
