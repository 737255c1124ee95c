-- 0008: staff accounts are written by caucus itself (caucus staff, the admin's routes), with the
-- certifier role, a TOTP second factor for admin and certifier, and sessions that record when
-- they were last used (the staff idle limit). SQLite cannot change a CHECK, so both tables are
-- made again and every row moves across unchanged.
CREATE TABLE staff_v2 (
	username      TEXT PRIMARY KEY CHECK (username <> ''),
	role          TEXT NOT NULL CHECK (role IN ('admin', 'operator', 'reviewer', 'observer', 'certifier')),
	password_hash BLOB NOT NULL CHECK (length(password_hash) > 0),
	disabled      INTEGER NOT NULL CHECK (disabled IN (0, 1)),
	created_at    INTEGER NOT NULL,
	-- The TOTP secret (RFC 6238, base32) of an account with a second factor, '' for one without,
	-- and the last time step a code was accepted for: a code is good once.
	totp_secret   TEXT NOT NULL DEFAULT '',
	totp_step     INTEGER NOT NULL DEFAULT 0 CHECK (totp_step >= 0)
) STRICT;

INSERT INTO staff_v2 (username, role, password_hash, disabled, created_at)
SELECT username, role, password_hash, disabled, created_at FROM staff;

DROP TABLE staff;
ALTER TABLE staff_v2 RENAME TO staff;

CREATE TABLE sessions_v2 (
	token_hash   BLOB PRIMARY KEY CHECK (length(token_hash) >= 16),
	subject      TEXT NOT NULL CHECK (subject <> ''),
	role         TEXT NOT NULL CHECK (role IN ('chair', 'admin', 'operator', 'reviewer', 'observer', 'certifier')),
	created_at   INTEGER NOT NULL,
	expires_at   INTEGER NOT NULL CHECK (expires_at > created_at),
	-- When the session was last used (to the minute): a staff session ends 30 minutes after.
	-- A row written without it (by hand) reads as never used.
	last_seen_at INTEGER NOT NULL DEFAULT 0
) STRICT, WITHOUT ROWID;

INSERT INTO sessions_v2 (token_hash, subject, role, created_at, expires_at, last_seen_at)
SELECT token_hash, subject, role, created_at, expires_at, created_at FROM sessions;

DROP TABLE sessions;
ALTER TABLE sessions_v2 RENAME TO sessions;

CREATE INDEX sessions_subject ON sessions (subject);
CREATE INDEX sessions_expires ON sessions (expires_at);
