-- Social connectors (Logto's `type: Social`) beside the email and SMS ones: the type check
-- widened, and Logto's `metadata` ({target, name, logo}) with the target in its own column,
-- unique among social connectors (one connector per identity provider name).
CREATE TABLE connectors_new (
  id TEXT PRIMARY KEY,
  connector_id TEXT NOT NULL,
  type TEXT NOT NULL CHECK (type IN ('Email', 'Sms', 'Social')),
  config TEXT NOT NULL,
  metadata TEXT NOT NULL DEFAULT '{}',
  target TEXT UNIQUE,
  created_at INTEGER NOT NULL
);
INSERT INTO connectors_new (id, connector_id, type, config, created_at)
  SELECT id, connector_id, type, config, created_at FROM connectors;
DROP TABLE connectors;
ALTER TABLE connectors_new RENAME TO connectors;

-- Social identities by provider subject, to find a user at sign-in (an index, where the
-- users' `identities` JSON, Logto's shape kept for reading, could only be scanned).
CREATE TABLE user_identities (
  target TEXT NOT NULL,
  external_id TEXT NOT NULL,
  user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (target, external_id)
);
CREATE INDEX user_identities_user ON user_identities (user_id);
