-- Multi-factor authentication: each user's bound factors, backup codes and MFA preferences.
CREATE TABLE user_mfa (
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  type TEXT NOT NULL CHECK (type IN ('Totp', 'BackupCode')),
  -- Totp: the secret, sealed (AES-256-GCM under KEY_ENCRYPTION_SECRET, bound to this id)
  secret TEXT,
  -- Totp: the last time step a code was accepted for; a code is good once
  last_used_step INTEGER,
  created_at INTEGER NOT NULL,
  last_used_at INTEGER
);
CREATE INDEX user_mfa_user ON user_mfa (user_id);
-- One authenticator app and one set of backup codes per user.
CREATE UNIQUE INDEX user_mfa_one_per_type ON user_mfa (user_id, type);

-- Backup codes by their keyed hash; used_at is set once.
CREATE TABLE backup_codes (
  mfa_id TEXT NOT NULL REFERENCES user_mfa (id) ON DELETE CASCADE,
  code_hash TEXT NOT NULL,
  used_at INTEGER,
  PRIMARY KEY (mfa_id, code_hash)
);

-- Logto's logto_config: {"mfa": {"enabled", "skipped", "skipMfaOnSignIn"}}
ALTER TABLE users ADD COLUMN logto_config TEXT NOT NULL DEFAULT '{}';
