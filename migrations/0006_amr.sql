-- How the user authenticated (OIDC `amr`), carried from the session to codes and tokens.
ALTER TABLE oidc_codes ADD COLUMN amr TEXT NOT NULL DEFAULT '["pwd"]';
ALTER TABLE oidc_token_families ADD COLUMN amr TEXT NOT NULL DEFAULT '["pwd"]';
