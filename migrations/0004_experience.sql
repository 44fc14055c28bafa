-- Sign-in experience settings (one row) and the Experience API's state per interaction.
CREATE TABLE sign_in_experience (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  settings TEXT NOT NULL,
  updated_at INTEGER NOT NULL
);

ALTER TABLE oidc_interactions ADD COLUMN experience TEXT;

-- Audit log: sign-in, sign-up, failures and lockouts.
CREATE TABLE logs (
  id TEXT PRIMARY KEY,
  key TEXT NOT NULL,
  result TEXT NOT NULL CHECK (result IN ('Success', 'Error')),
  user_id TEXT,
  application_id TEXT,
  ip TEXT,
  payload TEXT NOT NULL DEFAULT '{}',
  created_at INTEGER NOT NULL
);
CREATE INDEX logs_created_at ON logs (created_at);
CREATE INDEX logs_user ON logs (user_id, created_at);
