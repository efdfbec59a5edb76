-- Outbound webhooks (SPEC §8): the webhooks, the transactional outbox (events and their
-- deliveries, written in the transaction of the change that caused them), durable scheduled
-- events (duration marks) and the outgoing request log (one row per attempt).

CREATE TABLE outgoing_webhooks (
    id             TEXT PRIMARY KEY,
    org_id         TEXT NOT NULL REFERENCES orgs(id),
    name           TEXT NOT NULL,
    event_type     TEXT NOT NULL,
    method         TEXT NOT NULL,
    url            TEXT NOT NULL,
    -- Header templates, sealed with the server's encryption key (they often carry credentials).
    headers_sealed TEXT NOT NULL,
    header_names   TEXT NOT NULL,
    body           TEXT NOT NULL,
    body_format    TEXT NOT NULL,
    campaign_ids   TEXT NOT NULL,
    renderer       TEXT NOT NULL,
    plugin_config  TEXT NOT NULL,
    enabled        INTEGER NOT NULL,
    secret_sealed  TEXT,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL,
    deleted_at     INTEGER
);
CREATE INDEX outgoing_webhooks_by_org ON outgoing_webhooks(org_id, created_at);
CREATE INDEX outgoing_webhooks_by_event ON outgoing_webhooks(org_id, event_type)
    WHERE deleted_at IS NULL AND enabled = 1;

-- An event that at least one webhook subscribed to, with the tag context of that moment.
CREATE TABLE events (
    id          TEXT PRIMARY KEY,
    org_id      TEXT NOT NULL,
    call_id     TEXT,
    event_type  TEXT NOT NULL,
    occurred_at INTEGER NOT NULL,
    tags        TEXT NOT NULL
);
CREATE INDEX events_by_call ON events(call_id, occurred_at);

-- One per (event, webhook). `id` is also the `webhook-id` a receiver deduplicates on.
-- `state`: pending | succeeded | failed. A pending delivery is due at `next_attempt_at`; while a
-- dispatcher holds it, `lease_until` says when the claim lapses (a crash mid-attempt).
CREATE TABLE deliveries (
    id              TEXT PRIMARY KEY,
    org_id          TEXT NOT NULL,
    webhook_id      TEXT NOT NULL,
    event_id        TEXT,
    call_id         TEXT,
    event_type      TEXT NOT NULL,
    state           TEXT NOT NULL,
    attempts        INTEGER NOT NULL,
    retries_used    INTEGER NOT NULL,
    next_attempt_at INTEGER,
    lease_until     INTEGER,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    last_status     INTEGER,
    last_error      TEXT
);
CREATE INDEX deliveries_due ON deliveries(next_attempt_at) WHERE state = 'pending';
CREATE INDEX deliveries_by_event ON deliveries(event_id);

-- Events due later (duration marks), materialized into `events` when due.
CREATE TABLE scheduled_events (
    call_id    TEXT NOT NULL,
    event_type TEXT NOT NULL,
    org_id     TEXT NOT NULL,
    due_at     INTEGER NOT NULL,
    PRIMARY KEY (call_id, event_type)
);
CREATE INDEX scheduled_events_due ON scheduled_events(due_at);

-- The outgoing request log: every attempt with the rendered request (credentials redacted).
CREATE TABLE delivery_attempts (
    id                 TEXT PRIMARY KEY,
    org_id             TEXT NOT NULL,
    delivery_id        TEXT NOT NULL,
    webhook_id         TEXT NOT NULL,
    event_type         TEXT NOT NULL,
    call_id            TEXT,
    attempt            INTEGER NOT NULL,
    started_at         INTEGER NOT NULL,
    request            TEXT NOT NULL,
    response_status    INTEGER,
    response_headers   TEXT NOT NULL,
    response_body      TEXT NOT NULL,
    response_truncated INTEGER NOT NULL,
    latency_us         INTEGER NOT NULL,
    error              TEXT,
    outcome            TEXT NOT NULL,
    next_attempt_at    INTEGER
);
CREATE INDEX delivery_attempts_by_org ON delivery_attempts(org_id, started_at, id);
CREATE INDEX delivery_attempts_by_delivery ON delivery_attempts(delivery_id, attempt);
CREATE INDEX delivery_attempts_by_age ON delivery_attempts(started_at);
