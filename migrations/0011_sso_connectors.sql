-- Enterprise SSO connectors (Logto's /api/sso-connectors) live beside the other connectors,
-- as type 'Sso': `connector_id` is the provider name (OIDC, Okta, ...), `metadata` holds
-- {connectorName, domains, branding, syncProfile}, the config is sealed as every connector's.
CREATE TABLE connectors_new (
  id TEXT PRIMARY KEY,
  connector_id TEXT NOT NULL,
  type TEXT NOT NULL CHECK (type IN ('Email', 'Sms', 'Social', 'Sso')),
  config TEXT NOT NULL,
  metadata TEXT NOT NULL DEFAULT '{}',
  target TEXT UNIQUE,
  created_at INTEGER NOT NULL
);
INSERT INTO connectors_new (id, connector_id, type, config, metadata, target, created_at)
  SELECT id, connector_id, type, config, metadata, target, created_at FROM connectors;
DROP TABLE connectors;
ALTER TABLE connectors_new RENAME TO connectors;
