-- Failed sign-in attempts, per identifier and per client IP, for lockout.
CREATE TABLE sign_in_failures (
  -- "id:<identifier>" or "ip:<address>"
  key TEXT PRIMARY KEY,
  window_start INTEGER NOT NULL,
  failures INTEGER NOT NULL,
  locked_until INTEGER
);
