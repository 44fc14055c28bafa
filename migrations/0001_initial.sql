-- Gatehouse schema, part 1: applications, users, signing keys.
-- Applied by `wrangler d1 migrations apply` and, natively, by the SQLite test adapter.

CREATE TABLE applications (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  description TEXT,
  type TEXT NOT NULL CHECK (type IN ('Traditional', 'SPA', 'Native', 'MachineToMachine')),
  -- SHA-256 of the client secret; NULL for public clients.
  secret_hash TEXT,
  oidc_client_metadata TEXT NOT NULL DEFAULT '{}',
  custom_client_metadata TEXT NOT NULL DEFAULT '{}',
  is_third_party INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL
);
CREATE INDEX applications_created_at ON applications (created_at);

CREATE TABLE users (
  id TEXT PRIMARY KEY,
  username TEXT UNIQUE,
  -- stored lower-cased
  primary_email TEXT UNIQUE,
  -- stored as digits only, E.164 without the plus
  primary_phone TEXT UNIQUE,
  name TEXT,
  avatar TEXT,
  -- Argon2id PHC string
  password_hash TEXT,
  custom_data TEXT NOT NULL DEFAULT '{}',
  profile TEXT NOT NULL DEFAULT '{}',
  identities TEXT NOT NULL DEFAULT '{}',
  last_sign_in_at INTEGER,
  is_suspended INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX users_created_at ON users (created_at);

-- ES256 signing keys. generation is the key's unique slot: 1 for the first key, +1 on each
-- rotation. The newest is current; the one before it stays published.
CREATE TABLE oidc_signing_keys (
  generation INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  alg TEXT NOT NULL,
  -- AES-256-GCM under a key derived from KEY_ENCRYPTION_SECRET
  private_key TEXT NOT NULL,
  public_jwk TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
