-- Partners, machine tokens, and who wrote each observation.

-- A partner organisation that reports impact figures: a ministry's unit, a police
-- service, an NGO. Admins manage them; a partner's tokens write only what it may.
CREATE TABLE partners (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    slug text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$' AND length(slug) <= 100),
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    country_code text CHECK (country_code ~ '^[A-Z]{2}$'),
    contact_email text,
    -- The areas it may report for (country or region codes).
    areas text[] NOT NULL DEFAULT '{}' CHECK (array_position(areas, NULL) IS NULL),
    -- The metrics it may report on; NULL for all of them.
    metrics text[] CHECK (array_position(metrics, NULL) IS NULL),
    active boolean NOT NULL DEFAULT true,
    version integer NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE TRIGGER partners_versioning BEFORE UPDATE ON partners
    FOR EACH ROW EXECUTE FUNCTION seesac_versioning();

-- A metric's key is a reference in partners' lists too: renamed, it is renamed
-- there; deleted, it leaves them.
CREATE FUNCTION seesac_partner_metrics() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        UPDATE partners SET metrics = array_replace(metrics, OLD.key, NEW.key)
            WHERE OLD.key = ANY (metrics);
    ELSE
        UPDATE partners SET metrics = array_remove(metrics, OLD.key)
            WHERE OLD.key = ANY (metrics);
    END IF;
    RETURN NULL;
END;
$$;
CREATE TRIGGER impact_metrics_partner_metrics
    AFTER UPDATE OF key OR DELETE ON impact_metrics
    FOR EACH ROW EXECUTE FUNCTION seesac_partner_metrics();

-- A token for a machine: a partner's sync job, a frontend's preview. Only a hash
-- of its secret is kept; revoking it keeps the row, for the record.
CREATE TABLE api_tokens (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    -- A partner with tokens cannot be deleted (409); deactivate it instead.
    partner text REFERENCES partners (slug) ON UPDATE CASCADE,
    scopes text[] NOT NULL CHECK (
        cardinality(scopes) > 0
        AND scopes <@ ARRAY['observations:write', 'content:read', 'content:write']
    ),
    secret_hash bytea NOT NULL UNIQUE,
    -- The start of the secret, to recognise it in a list.
    hint text NOT NULL,
    expires_at timestamptz NOT NULL,
    created_by text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz,
    revoked_at timestamptz
);
CREATE INDEX api_tokens_partner_idx ON api_tokens (partner);

-- Who wrote each observation: the partner it belongs to (its tokens may change it),
-- and the user or token that created it.
ALTER TABLE observations
    ADD COLUMN partner text REFERENCES partners (slug) ON UPDATE CASCADE,
    ADD COLUMN created_by text;
CREATE INDEX observations_partner_idx ON observations (partner);
