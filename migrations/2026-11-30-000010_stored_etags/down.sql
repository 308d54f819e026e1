DROP TRIGGER council_decisions_touch_superseded_insert ON council_decisions;
DROP TRIGGER council_decisions_touch_superseded_update ON council_decisions;
DROP TRIGGER council_decisions_touch_superseded_delete ON council_decisions;
DROP FUNCTION seesac_decisions_touch_superseded();
DROP TRIGGER observations_touch_metric_insert ON observations;
DROP TRIGGER observations_touch_metric_update ON observations;
DROP TRIGGER observations_touch_metric_delete ON observations;
DROP FUNCTION seesac_observations_touch_metric();

CREATE OR REPLACE FUNCTION seesac_versioning() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.id := OLD.id;
    NEW.created_at := OLD.created_at;
    IF (to_jsonb(NEW) - 'search' - 'version' - 'updated_at')
       IS DISTINCT FROM (to_jsonb(OLD) - 'search' - 'version' - 'updated_at') THEN
        NEW.version := OLD.version + 1;
        NEW.updated_at := now();
    ELSE
        NEW.version := OLD.version;
        NEW.updated_at := OLD.updated_at;
    END IF;
    RETURN NEW;
END;
$$;

ALTER TABLE partners DROP COLUMN etag;
ALTER TABLE contacts DROP COLUMN etag;
ALTER TABLE council_decisions DROP COLUMN etag;
ALTER TABLE funders DROP COLUMN etag;
ALTER TABLE observations DROP COLUMN etag;
ALTER TABLE impact_metrics DROP COLUMN etag;
ALTER TABLE pages DROP COLUMN etag;
DROP FUNCTION seesac_new_etag();
