-- WebAuthn passkeys: a second factor, and a first one (discoverable credentials).
CREATE TABLE webauthn_credentials (
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  -- base64url, as the browser sends it; one user per credential
  credential_id TEXT NOT NULL UNIQUE,
  -- the COSE key, base64url
  public_key TEXT NOT NULL,
  -- the authenticator's signature counter; an assertion must move it forward (0 stays 0)
  counter INTEGER NOT NULL DEFAULT 0,
  transports TEXT NOT NULL DEFAULT '[]',
  rp_id TEXT NOT NULL,
  agent TEXT NOT NULL DEFAULT '',
  name TEXT,
  created_at INTEGER NOT NULL,
  last_used_at INTEGER
);
CREATE INDEX webauthn_credentials_user ON webauthn_credentials (user_id);

-- Each ceremony's challenge, bound to its interaction (and user, when one is known);
-- consumed by a DELETE, so it is good once.
CREATE TABLE webauthn_challenges (
  verification_id TEXT PRIMARY KEY,
  challenge TEXT NOT NULL UNIQUE,
  interaction_id TEXT NOT NULL,
  user_id TEXT,
  purpose TEXT NOT NULL CHECK (purpose IN ('Registration', 'Authentication', 'SignIn')),
  expires_at INTEGER NOT NULL
);
CREATE INDEX webauthn_challenges_expiry ON webauthn_challenges (expires_at);
