-- SAML assertions already consumed at the assertion consumer service: an assertion id is
-- accepted once, and remembered until the assertion would have expired anyway (then the
-- time check refuses it), when the scheduled sweep forgets it.
CREATE TABLE saml_assertions (
  id TEXT PRIMARY KEY,
  expires_at INTEGER NOT NULL
);
