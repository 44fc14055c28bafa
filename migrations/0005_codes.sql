-- One-time codes, message connectors and the development mailbox.

CREATE TABLE verification_codes (
  id TEXT PRIMARY KEY,
  interaction_id TEXT NOT NULL,
  identifier_type TEXT NOT NULL CHECK (identifier_type IN ('email', 'phone')),
  identifier TEXT NOT NULL,
  usage TEXT NOT NULL,
  -- HMAC-SHA256 of the code under a key derived from KEY_ENCRYPTION_SECRET
  code_hash TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  verified_at INTEGER
);
CREATE INDEX verification_codes_interaction ON verification_codes (interaction_id, identifier, created_at);

CREATE TABLE connectors (
  id TEXT PRIMARY KEY,
  connector_id TEXT NOT NULL,
  type TEXT NOT NULL CHECK (type IN ('Email', 'Sms')),
  config TEXT NOT NULL,
  created_at INTEGER NOT NULL
);

CREATE TABLE dev_mailbox (
  id TEXT PRIMARY KEY,
  channel TEXT NOT NULL CHECK (channel IN ('Email', 'Sms')),
  recipient TEXT NOT NULL,
  subject TEXT NOT NULL,
  body TEXT NOT NULL,
  usage TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE INDEX dev_mailbox_recipient ON dev_mailbox (recipient, created_at);
