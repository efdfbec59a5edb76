-- Plugin references: a webhook names each plugin by owner, name and an optional version pin
-- (otherwise the plugin's active version). An owner of NULL is the platform, so the names stored
-- until now become references to platform plugins, unpinned.
ALTER TABLE incoming_webhooks ADD COLUMN normalizer_owner TEXT;
ALTER TABLE incoming_webhooks ADD COLUMN normalizer_version TEXT;
ALTER TABLE incoming_webhooks ADD COLUMN mapper_owner TEXT;
ALTER TABLE incoming_webhooks ADD COLUMN mapper_version TEXT;
ALTER TABLE outgoing_webhooks ADD COLUMN renderer_owner TEXT;
ALTER TABLE outgoing_webhooks ADD COLUMN renderer_version TEXT;

-- A delivery's lease names the node holding it, so a restarted node releases only its own.
ALTER TABLE deliveries ADD COLUMN lease_owner TEXT;
