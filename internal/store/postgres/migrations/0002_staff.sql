-- 0002: staff accounts written by caucus itself, with a TOTP second factor, and sessions that
-- record when they were last used (SQLite's 0008_staff.sql; the certifier role is in 0001's
-- CHECKs already).
-- The TOTP secret (RFC 6238, base32) of an account with a second factor, '' for one without,
-- and the last time step a code was accepted for: a code is good once.
ALTER TABLE staff ADD COLUMN totp_secret TEXT NOT NULL DEFAULT '';
ALTER TABLE staff ADD COLUMN totp_step BIGINT NOT NULL DEFAULT 0 CHECK (totp_step >= 0);

-- When the session was last used (to the minute): a staff session ends 30 minutes after. A row
-- written without it (by hand) reads as never used; existing sessions were last seen when made.
ALTER TABLE sessions ADD COLUMN last_seen_at BIGINT NOT NULL DEFAULT 0;
UPDATE sessions SET last_seen_at = created_at;
