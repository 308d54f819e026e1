-- The change log: every write to content, in the order the writes committed. The
-- changes feed reads it; the read cache and the webhooks of later work will too.

CREATE TABLE changes (
    -- Strictly increasing and without gaps, in commit order: a write takes the
    -- next position as its last step, holding a lock until it commits (see
    -- src/changelog.rs), so no write that commits later can take a smaller one.
    position bigint PRIMARY KEY,
    type text NOT NULL CHECK (type IN ('page', 'impact_metric', 'observation', 'funder',
                                       'council_decision', 'contact')),
    key text NOT NULL,
    -- An observation's metric, whose URL it lives under.
    parent text,
    action text NOT NULL CHECK (action IN ('created', 'updated', 'deleted')),
    -- The item's version after the write (for a deletion, its last one).
    version integer NOT NULL,
    actor text NOT NULL,
    at timestamptz NOT NULL DEFAULT now(),
    -- What anonymous readers saw: whether the item was visible to them just before
    -- this change, and from when it is after it (null: not at all).
    public_before boolean NOT NULL,
    public_from timestamptz
);
CREATE INDEX changes_at_idx ON changes (at);
CREATE INDEX changes_item_idx ON changes (type, key);

-- How far back the log goes: a cursor before this position is too old (410).
CREATE TABLE changes_horizon (
    id boolean PRIMARY KEY DEFAULT true CHECK (id),
    position bigint NOT NULL
);
INSERT INTO changes_horizon (position) VALUES (0);

-- Scheduled publications are logged when their time comes: up to here they have been.
CREATE TABLE changes_schedule (
    id boolean PRIMARY KEY DEFAULT true CHECK (id),
    until timestamptz NOT NULL
);
INSERT INTO changes_schedule (until) VALUES (now());
