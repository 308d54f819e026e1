-- The ETag an editor reads is stored with the row, so that a write's If-Match is a
-- comparison with a column instead of a fresh representation of the item.
--
-- A row's tag changes whenever what an editor reads of it changes: its own columns
-- (the versioning trigger gives a new tag with every new version) and the fields
-- derived from other rows (a metric's `latest` from its observations, a decision's
-- `superseded_by` from the decisions that supersede it), which the statement
-- triggers below refresh, whoever writes: the service, `seesac-api import` or psql.

CREATE FUNCTION seesac_new_etag() RETURNS text LANGUAGE sql VOLATILE AS $$
    SELECT '"' || replace(gen_random_uuid()::text, '-', '') || '"'
$$;

ALTER TABLE pages ADD COLUMN etag text NOT NULL DEFAULT seesac_new_etag();
ALTER TABLE impact_metrics ADD COLUMN etag text NOT NULL DEFAULT seesac_new_etag();
ALTER TABLE observations ADD COLUMN etag text NOT NULL DEFAULT seesac_new_etag();
ALTER TABLE funders ADD COLUMN etag text NOT NULL DEFAULT seesac_new_etag();
ALTER TABLE council_decisions ADD COLUMN etag text NOT NULL DEFAULT seesac_new_etag();
ALTER TABLE contacts ADD COLUMN etag text NOT NULL DEFAULT seesac_new_etag();
ALTER TABLE partners ADD COLUMN etag text NOT NULL DEFAULT seesac_new_etag();

-- As before, plus the tag: a new one with every new version, and a new one when a
-- write sets the column to anything (that is how a derived field asks for one).
CREATE OR REPLACE FUNCTION seesac_versioning() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.id := OLD.id;
    NEW.created_at := OLD.created_at;
    IF (to_jsonb(NEW) - 'search' - 'version' - 'updated_at' - 'etag')
       IS DISTINCT FROM (to_jsonb(OLD) - 'search' - 'version' - 'updated_at' - 'etag') THEN
        NEW.version := OLD.version + 1;
        NEW.updated_at := now();
        NEW.etag := seesac_new_etag();
    ELSE
        NEW.version := OLD.version;
        NEW.updated_at := OLD.updated_at;
        IF NEW.etag IS DISTINCT FROM OLD.etag THEN
            NEW.etag := seesac_new_etag();
        END IF;
    END IF;
    RETURN NEW;
END;
$$;

-- A metric shows its `latest` observation: any change of its observations gives it
-- a new tag. Writers of observations hold the metric's row (FOR NO KEY UPDATE, in
-- key order for a batch) before they write, so this update waits for nobody.
-- Observations changed by a cascade from their metric (a renamed key) are skipped:
-- the metric's own update gave it a new tag.
CREATE FUNCTION seesac_observations_touch_metric() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF pg_trigger_depth() > 1 THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'INSERT' THEN
        UPDATE impact_metrics SET etag = '' WHERE key IN (SELECT metric FROM new_rows);
    ELSIF TG_OP = 'UPDATE' THEN
        UPDATE impact_metrics SET etag = '' WHERE key IN
            (SELECT metric FROM new_rows UNION SELECT metric FROM old_rows);
    ELSE
        UPDATE impact_metrics SET etag = '' WHERE key IN (SELECT metric FROM old_rows);
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER observations_touch_metric_insert AFTER INSERT ON observations
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION seesac_observations_touch_metric();
CREATE TRIGGER observations_touch_metric_update AFTER UPDATE ON observations
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION seesac_observations_touch_metric();
CREATE TRIGGER observations_touch_metric_delete AFTER DELETE ON observations
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION seesac_observations_touch_metric();

-- A decision shows the decisions that supersede it (`superseded_by`): a decision
-- written or deleted gives a new tag to the ones it supersedes, before and after.
-- The refresh is itself an update of decisions; the depth check stops it there.
CREATE FUNCTION seesac_decisions_touch_superseded() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF pg_trigger_depth() > 1 THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'INSERT' THEN
        UPDATE council_decisions SET etag = '' WHERE celex IN
            (SELECT supersedes FROM new_rows WHERE supersedes IS NOT NULL);
    ELSIF TG_OP = 'UPDATE' THEN
        UPDATE council_decisions SET etag = '' WHERE celex IN
            (SELECT n.supersedes FROM new_rows n JOIN old_rows o ON o.id = n.id
              WHERE n.supersedes IS DISTINCT FROM o.supersedes OR n.celex <> o.celex
             UNION
             SELECT o.supersedes FROM new_rows n JOIN old_rows o ON o.id = n.id
              WHERE n.supersedes IS DISTINCT FROM o.supersedes OR n.celex <> o.celex);
    ELSE
        UPDATE council_decisions SET etag = '' WHERE celex IN
            (SELECT supersedes FROM old_rows WHERE supersedes IS NOT NULL);
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER council_decisions_touch_superseded_insert AFTER INSERT ON council_decisions
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION seesac_decisions_touch_superseded();
CREATE TRIGGER council_decisions_touch_superseded_update AFTER UPDATE ON council_decisions
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION seesac_decisions_touch_superseded();
CREATE TRIGGER council_decisions_touch_superseded_delete AFTER DELETE ON council_decisions
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION seesac_decisions_touch_superseded();
