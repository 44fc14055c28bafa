-- The Account API (/api/my-account, /api/verifications).
-- Verification records: a signed-in user's recent proof (a password, or a code sent to an
-- address), good for ten minutes, and only for that user.
CREATE TABLE verification_records (
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  -- Password | EmailVerificationCode | PhoneVerificationCode
  kind TEXT NOT NULL,
  -- The address a code went to (for a code record).
  identifier TEXT,
  verified INTEGER NOT NULL DEFAULT 0,
  expires_at INTEGER NOT NULL
);
CREATE INDEX verification_records_user ON verification_records (user_id);

-- The account center settings (Logto's), one row.
CREATE TABLE account_center (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  settings TEXT NOT NULL,
  updated_at INTEGER NOT NULL
);

-- The provider's own first-party app for its account pages (/account). Its settings come
-- from the code (oidc::clients::ACCOUNT_APP); the row is there for the grants and tokens
-- that reference it. The Management API does not change or delete it.
INSERT OR IGNORE INTO applications (id, name, type, created_at)
VALUES ('gatehouse-account', 'Account', 'SPA', 0);
