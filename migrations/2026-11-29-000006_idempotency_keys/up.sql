-- Idempotency-Key (the IETF httpapi draft) on every POST: the first answer to a key,
-- kept for 24 hours so that a retry replays it. Keys are scoped to the caller and
-- kept here, so every instance of the service agrees.
CREATE TABLE idempotency_keys (
    -- Who sent it: `user:<name>`, `token:<id>` or `anonymous`.
    caller text NOT NULL,
    key text NOT NULL,
    -- SHA-256 of the method, path, query, media type and body: the same key with
    -- another request is refused.
    fingerprint bytea NOT NULL,
    started_at timestamptz NOT NULL DEFAULT now(),
    -- Null while the first request runs.
    status smallint,
    -- The first answer's own headers, as [name, value] pairs, and its body. An
    -- answer that carries a secret (a login, a new API token) is not kept.
    headers jsonb,
    body bytea,
    replayable boolean NOT NULL DEFAULT true,
    PRIMARY KEY (caller, key)
);
CREATE INDEX idempotency_keys_started_at_idx ON idempotency_keys (started_at);
