-- The change log's positions are given at commit, inside PostgreSQL. A write
-- appends its changes with pending (negative) positions and no lock; a deferred
-- trigger numbers them as the transaction commits, taking the log's lock there and
-- holding it to the commit's end. Positions stay strictly increasing, without gaps
-- and in commit order (see src/changelog.rs), and the lock is no longer held across
-- a round trip between the service and the database.
CREATE SEQUENCE changes_pending;

CREATE FUNCTION changes_number() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('seesac:changes'));
    -- A statement of its own, so that its snapshot is taken once the lock is held:
    -- it sees every change that committed before. The first firing numbers all of
    -- this transaction's pending changes (the only negative positions it can see)
    -- in the order they were appended; the others find nothing left to do.
    UPDATE changes c
    SET position = head.position + pending.rank
    FROM (SELECT position, row_number() OVER (ORDER BY position DESC) AS rank
          FROM changes WHERE position < 0) pending,
         (SELECT greatest(coalesce(max(position), 0),
                          (SELECT position FROM changes_horizon)) AS position
          FROM changes) head
    WHERE c.position = pending.position;
    RETURN NULL;
END
$$;

CREATE CONSTRAINT TRIGGER changes_numbered AFTER INSERT ON changes
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW WHEN (NEW.position < 0)
    EXECUTE FUNCTION changes_number();
