-- Gatehouse schema, part 2: API resources and RBAC, and the authorization-code flow.

CREATE TABLE resources (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  indicator TEXT NOT NULL UNIQUE,
  is_default INTEGER NOT NULL DEFAULT 0,
  access_token_ttl INTEGER NOT NULL DEFAULT 3600,
  created_at INTEGER NOT NULL
);
-- At most one default resource.
CREATE UNIQUE INDEX resources_one_default ON resources (is_default) WHERE is_default = 1;

CREATE TABLE scopes (
  id TEXT PRIMARY KEY,
  resource_id TEXT NOT NULL REFERENCES resources (id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  description TEXT,
  created_at INTEGER NOT NULL,
  UNIQUE (resource_id, name)
);

CREATE TABLE roles (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  description TEXT NOT NULL DEFAULT '',
  type TEXT NOT NULL DEFAULT 'User' CHECK (type IN ('User', 'MachineToMachine')),
  created_at INTEGER NOT NULL
);

CREATE TABLE roles_scopes (
  role_id TEXT NOT NULL REFERENCES roles (id) ON DELETE CASCADE,
  scope_id TEXT NOT NULL REFERENCES scopes (id) ON DELETE CASCADE,
  PRIMARY KEY (role_id, scope_id)
);

CREATE TABLE users_roles (
  user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  role_id TEXT NOT NULL REFERENCES roles (id) ON DELETE CASCADE,
  PRIMARY KEY (user_id, role_id)
);

CREATE TABLE applications_roles (
  application_id TEXT NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
  role_id TEXT NOT NULL REFERENCES roles (id) ON DELETE CASCADE,
  PRIMARY KEY (application_id, role_id)
);

-- An /oidc/auth request in flight, until it ends in a code or an error. Swept when expired.
CREATE TABLE oidc_interactions (
  id TEXT PRIMARY KEY,
  client_id TEXT NOT NULL,
  -- the validated authorization request, JSON
  request TEXT NOT NULL,
  -- set when the user signed in within this interaction
  user_id TEXT,
  login_at INTEGER,
  consented INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
);

-- What a user granted an app (consent): OIDC scopes and, per resource, its scopes.
CREATE TABLE oidc_grants (
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  client_id TEXT NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
  scopes TEXT NOT NULL,
  resources TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  UNIQUE (user_id, client_id)
);

-- Authorization codes, by the SHA-256 of the code. Single use: consumed_at is set once.
CREATE TABLE oidc_codes (
  id TEXT PRIMARY KEY,
  grant_id TEXT NOT NULL REFERENCES oidc_grants (id) ON DELETE CASCADE,
  client_id TEXT NOT NULL,
  user_id TEXT NOT NULL,
  redirect_uri TEXT NOT NULL,
  -- JSON: {scopes, resources: {indicator: [scope]}}
  granted TEXT NOT NULL,
  code_challenge TEXT,
  nonce TEXT,
  session_id TEXT NOT NULL,
  auth_time INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  consumed_at INTEGER,
  -- a random mark of the request that consumed it, so that the tokens it issues are written
  -- in the same transaction, only if that request won
  consumed_by TEXT
);

-- Everything issued from one code: deleting the family revokes its refresh and opaque
-- access tokens (replayed code, reused refresh token, revocation, sign-out).
CREATE TABLE oidc_token_families (
  id TEXT PRIMARY KEY,
  grant_id TEXT NOT NULL REFERENCES oidc_grants (id) ON DELETE CASCADE,
  code_id TEXT NOT NULL,
  client_id TEXT NOT NULL,
  user_id TEXT NOT NULL,
  session_id TEXT NOT NULL,
  granted TEXT NOT NULL,
  nonce TEXT,
  auth_time INTEGER NOT NULL,
  offline INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
);
CREATE INDEX oidc_token_families_code ON oidc_token_families (code_id);
CREATE INDEX oidc_token_families_session ON oidc_token_families (session_id);

CREATE TABLE oidc_refresh_tokens (
  id TEXT PRIMARY KEY,
  family_id TEXT NOT NULL REFERENCES oidc_token_families (id) ON DELETE CASCADE,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  consumed_at INTEGER,
  consumed_by TEXT
);

-- Opaque access tokens (no resource: good for /oidc/me only).
CREATE TABLE oidc_access_tokens (
  id TEXT PRIMARY KEY,
  family_id TEXT NOT NULL REFERENCES oidc_token_families (id) ON DELETE CASCADE,
  scopes TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
);

-- Sessions themselves live in KV; this records ended ones so that a stale KV read cannot
-- resurrect a session where it matters (refresh).
CREATE TABLE oidc_ended_sessions (
  session_id TEXT PRIMARY KEY,
  ended_at INTEGER NOT NULL
);
