-- Webhooks: subscriptions, and the deliveries of the events the change log holds.
-- A delivery row is an outbox entry: it is made from a committed change (so an event
-- exists if and only if its change committed), claimed by one instance at a time
-- with a lease, retried with backoff, and kept as the subscription's delivery log.

CREATE TABLE webhooks (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    url text NOT NULL CHECK (url ~ '^https?://'),
    -- `page.published`, `page.*`, `*`, ...
    events text[] NOT NULL CHECK (cardinality(events) > 0),
    description text,
    -- `whsec_` and base64, as the Standard Webhooks libraries expect. Kept as it is:
    -- every delivery is signed with it.
    secret text NOT NULL,
    active boolean NOT NULL DEFAULT true,
    -- Why it was paused by the service (deliveries that kept failing), if it was.
    paused_reason text,
    -- Deliveries in a row that failed for good; a success sets it back to 0.
    failures integer NOT NULL DEFAULT 0,
    created_by text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE webhook_deliveries (
    -- The `webhook-id` header: receivers de-duplicate by it.
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    webhook uuid NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    -- The change it comes from, and the item, for order per item.
    position bigint NOT NULL,
    event text NOT NULL,
    item text NOT NULL,
    payload jsonb NOT NULL,
    status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    -- Held by the instance delivering it until then.
    leased_until timestamptz,
    last_status integer,
    last_error text,
    last_duration_ms integer,
    last_response text,
    created_at timestamptz NOT NULL DEFAULT now(),
    -- Retries stop after this; a redelivery moves it.
    give_up_at timestamptz NOT NULL,
    delivered_at timestamptz,
    UNIQUE (webhook, position)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_item ON webhook_deliveries (webhook, item, position) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_log ON webhook_deliveries (webhook, created_at DESC, id);

-- How far the change log has been turned into deliveries.
CREATE TABLE webhook_outbox (
    id boolean PRIMARY KEY DEFAULT true CHECK (id),
    position bigint NOT NULL
);
-- Subscriptions hear of changes made from now on.
INSERT INTO webhook_outbox (position) SELECT position FROM changes_head;
