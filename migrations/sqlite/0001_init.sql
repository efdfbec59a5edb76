-- Moja Webhooks schema, SQLite. Timestamps are INTEGER microseconds since the Unix epoch (UTC);
-- money is TEXT holding an exact decimal; ordered maps are JSON arrays of [key, value] pairs.
-- The PostgreSQL set (migrations/postgres/) keeps the same numbering and meaning.

CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE orgs (
    id             TEXT PRIMARY KEY,
    name           TEXT NOT NULL,
    default_region TEXT NOT NULL,
    currency       TEXT NOT NULL,
    disabled       INTEGER NOT NULL DEFAULT 0,
    created_at     INTEGER NOT NULL
);

CREATE TABLE api_keys (
    id         TEXT PRIMARY KEY,
    org_id     TEXT NOT NULL REFERENCES orgs(id),
    name       TEXT NOT NULL,
    key_prefix TEXT NOT NULL,
    key_hash   TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
);
CREATE INDEX api_keys_by_org ON api_keys(org_id, created_at);

CREATE TABLE campaigns (
    id                        TEXT PRIMARY KEY,
    org_id                    TEXT NOT NULL REFERENCES orgs(id),
    name                      TEXT NOT NULL,
    conversion_min_duration_s INTEGER,
    buyer_revenue             TEXT,
    publisher_payout          TEXT,
    currency                  TEXT NOT NULL,
    created_at                INTEGER NOT NULL,
    updated_at                INTEGER NOT NULL,
    deleted_at                INTEGER
);
CREATE INDEX campaigns_by_org ON campaigns(org_id, created_at);

CREATE TABLE custom_tags (
    org_id       TEXT NOT NULL REFERENCES orgs(id),
    key          TEXT NOT NULL,
    display_name TEXT NOT NULL,
    description  TEXT,
    created_at   INTEGER NOT NULL,
    PRIMARY KEY (org_id, key)
);

CREATE TABLE incoming_webhooks (
    id               TEXT PRIMARY KEY,
    org_id           TEXT NOT NULL REFERENCES orgs(id),
    name             TEXT NOT NULL,
    kind             TEXT NOT NULL,
    key_hash         TEXT NOT NULL UNIQUE,
    campaign_ids     TEXT NOT NULL,
    lookback_seconds INTEGER NOT NULL,
    match_policy     TEXT NOT NULL,
    rate_limit       INTEGER NOT NULL,
    rate_period      TEXT NOT NULL,
    normalizer       TEXT NOT NULL,
    mapper           TEXT NOT NULL,
    plugin_config    TEXT NOT NULL,
    enabled          INTEGER NOT NULL,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    deleted_at       INTEGER
);
CREATE INDEX incoming_webhooks_by_org ON incoming_webhooks(org_id, created_at);

-- A call's full record is the JSON `data`; the columns beside it are what queries filter on.
CREATE TABLE calls (
    id          TEXT PRIMARY KEY,
    org_id      TEXT NOT NULL REFERENCES orgs(id),
    campaign_id TEXT,
    caller_e164 TEXT,
    status      TEXT NOT NULL,
    started_at  INTEGER NOT NULL,
    data        TEXT NOT NULL,
    version     INTEGER NOT NULL
);
CREATE INDEX calls_by_phone ON calls(org_id, caller_e164, started_at);
CREATE INDEX calls_by_org ON calls(org_id, started_at, id);
CREATE INDEX calls_live ON calls(status, started_at) WHERE status IN ('ringing', 'connected');

CREATE TABLE call_timeline (
    call_id TEXT NOT NULL REFERENCES calls(id),
    seq     INTEGER NOT NULL,
    at      INTEGER NOT NULL,
    kind    TEXT NOT NULL,
    details TEXT NOT NULL,
    PRIMARY KEY (call_id, seq)
);

CREATE TABLE call_data (
    id          TEXT PRIMARY KEY,
    org_id      TEXT NOT NULL REFERENCES orgs(id),
    webhook_id  TEXT NOT NULL,
    caller_e164 TEXT NOT NULL,
    received_at INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    fields      TEXT NOT NULL
);
CREATE INDEX call_data_by_caller ON call_data(org_id, caller_e164, received_at);

-- Completed-calls-only fields received while a call was live, applied at completion.
CREATE TABLE queued_updates (
    call_id    TEXT NOT NULL REFERENCES calls(id),
    seq        INTEGER NOT NULL,
    request_id TEXT NOT NULL,
    changes    TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (call_id, seq)
);

-- Idempotency: one row per (org, transaction id). `state` is 'in_flight' while a request holds
-- the claim (until `lease_until`) and 'done' once its response is stored.
CREATE TABLE idempotency (
    org_id         TEXT NOT NULL,
    transaction_id TEXT NOT NULL,
    fingerprint    TEXT NOT NULL,
    state          TEXT NOT NULL,
    lease_until    INTEGER,
    status         INTEGER,
    response       TEXT,
    created_at     INTEGER NOT NULL,
    PRIMARY KEY (org_id, transaction_id)
);
CREATE INDEX idempotency_by_age ON idempotency(created_at);

CREATE TABLE request_log (
    id            TEXT PRIMARY KEY,
    org_id        TEXT,
    webhook_id    TEXT,
    received_at   INTEGER NOT NULL,
    method        TEXT NOT NULL,
    path          TEXT NOT NULL,
    query         TEXT NOT NULL,
    headers       TEXT NOT NULL,
    body          BLOB NOT NULL,
    body_truncated INTEGER NOT NULL,
    status        INTEGER NOT NULL,
    response      TEXT NOT NULL,
    latency_us    INTEGER NOT NULL,
    details       TEXT NOT NULL
);
CREATE INDEX request_log_by_org ON request_log(org_id, received_at, id);
CREATE INDEX request_log_by_age ON request_log(received_at);
