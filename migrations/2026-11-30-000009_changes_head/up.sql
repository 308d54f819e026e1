-- The newest position the change log has given. A logged write moves it forward
-- in the same statement that appends its changes: the row's lock, held to the
-- commit, is what keeps positions gapless and in commit order (src/changelog.rs),
-- and a write that waited for it reads the value the previous one committed. It
-- replaces an advisory lock and a max() over the log, one round trip fewer inside
-- the section where writes go one at a time.
CREATE TABLE changes_head (
    id boolean PRIMARY KEY DEFAULT true CHECK (id),
    position bigint NOT NULL
);
INSERT INTO changes_head (position)
SELECT greatest(coalesce(max(position), 0), (SELECT position FROM changes_horizon))
FROM changes;
