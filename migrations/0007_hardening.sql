-- Hardening: what a password change or a suspension must end.
-- Sessions and tokens that a user's browser got before this time (Unix ms) no longer count,
-- even where a KV read lags behind.
ALTER TABLE users ADD COLUMN sessions_valid_after INTEGER NOT NULL DEFAULT 0;

-- Each browser session of a user and its KV key, so that all of them can be ended at once.
-- The session itself lives in KV; ended ones are also in oidc_ended_sessions.
CREATE TABLE user_sessions (
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  -- "session:" and the SHA-256 of the cookie secret
  kv_key TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
);
CREATE INDEX user_sessions_user ON user_sessions (user_id);
CREATE INDEX oidc_token_families_user ON oidc_token_families (user_id);
CREATE INDEX dev_mailbox_created_at ON dev_mailbox (created_at);
