-- 0001: one election's night. Shipped migrations are never edited; add 0002_….sql instead.

-- The singleton row binding this file to one election.
CREATE TABLE settings (
	id          INTEGER PRIMARY KEY CHECK (id = 1),
	election_id TEXT NOT NULL CHECK (election_id <> ''),
	created_at  INTEGER NOT NULL
) STRICT;

-- The log: append-only, dense 0-based indices, the leaf bytes exactly as received.
CREATE TABLE entries (
	idx         INTEGER PRIMARY KEY CHECK (idx >= 0),
	kind        TEXT NOT NULL CHECK (kind IN ('report', 'correction', 'review')),
	precinct_id TEXT NOT NULL CHECK (precinct_id <> ''),
	report_id   TEXT CHECK (report_id IS NULL OR report_id <> ''),
	submitter   TEXT NOT NULL CHECK (submitter <> ''),
	channel     TEXT NOT NULL CHECK (channel IN ('app', 'hotline', 'paper', 'staff')),
	received_at INTEGER NOT NULL,
	body        BLOB NOT NULL CHECK (length(body) > 0),
	leaf_hash   BLOB NOT NULL CHECK (length(leaf_hash) = 32),
	status      TEXT NOT NULL CHECK (status IN ('accepted', 'under_review', 'corrected', 'certified')),
	counts      INTEGER CHECK (counts IS NULL OR (kind = 'review' AND counts >= 0 AND counts < idx)),
	CHECK (kind <> 'report' OR report_id IS NOT NULL)
) STRICT;

CREATE UNIQUE INDEX entries_report_id ON entries (report_id) WHERE report_id IS NOT NULL;
CREATE INDEX entries_precinct ON entries (precinct_id, idx);

CREATE TRIGGER entries_dense BEFORE INSERT ON entries
WHEN NEW.idx IS NOT coalesce((SELECT max(idx) FROM entries), -1) + 1
BEGIN
	SELECT RAISE(ABORT, 'entries: log index must be the next one');
END;

CREATE TRIGGER entries_no_update BEFORE UPDATE ON entries
BEGIN
	SELECT RAISE(ABORT, 'entries are append-only: no UPDATE');
END;

CREATE TRIGGER entries_no_delete BEFORE DELETE ON entries
BEGIN
	SELECT RAISE(ABORT, 'entries are append-only: no DELETE');
END;

-- Derived from entries (store.Next); updated in place, rebuildable.
CREATE TABLE precinct_state (
	precinct_id TEXT PRIMARY KEY CHECK (precinct_id <> ''),
	status      TEXT NOT NULL CHECK (status IN ('not_reported', 'accepted', 'under_review', 'corrected', 'certified')),
	counted_idx INTEGER REFERENCES entries (idx),
	reports     INTEGER NOT NULL CHECK (reports >= 0),
	conflict    INTEGER NOT NULL CHECK (conflict IN (0, 1)),
	last_idx    INTEGER NOT NULL REFERENCES entries (idx),
	updated_at  INTEGER NOT NULL,
	CHECK ((status = 'not_reported') = (counted_idx IS NULL))
) STRICT;

-- Every state change, append-only.
CREATE TABLE audit (
	id          INTEGER PRIMARY KEY,
	at          INTEGER NOT NULL,
	actor       TEXT NOT NULL CHECK (actor <> ''),
	kind        TEXT NOT NULL CHECK (kind <> ''),
	precinct_id TEXT CHECK (precinct_id IS NULL OR precinct_id <> ''),
	detail      TEXT NOT NULL CHECK (json_valid(detail) AND json_type(detail) = 'object')
) STRICT;

CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
BEGIN
	SELECT RAISE(ABORT, 'audit is append-only: no UPDATE');
END;

CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
BEGIN
	SELECT RAISE(ABORT, 'audit is append-only: no DELETE');
END;

-- Opaque hashes from package auth; the store never sees a secret.
CREATE TABLE credentials (
	precinct_id TEXT PRIMARY KEY CHECK (precinct_id <> ''),
	hash        BLOB NOT NULL CHECK (length(hash) > 0),
	created_at  INTEGER NOT NULL
) STRICT;

CREATE TABLE staff (
	username      TEXT PRIMARY KEY CHECK (username <> ''),
	role          TEXT NOT NULL CHECK (role IN ('admin', 'operator', 'reviewer', 'observer')),
	password_hash BLOB NOT NULL CHECK (length(password_hash) > 0),
	disabled      INTEGER NOT NULL CHECK (disabled IN (0, 1)),
	created_at    INTEGER NOT NULL
) STRICT;

CREATE TABLE sessions (
	token_hash BLOB PRIMARY KEY CHECK (length(token_hash) >= 16),
	subject    TEXT NOT NULL CHECK (subject <> ''),
	role       TEXT NOT NULL CHECK (role IN ('chair', 'admin', 'operator', 'reviewer', 'observer')),
	created_at INTEGER NOT NULL,
	expires_at INTEGER NOT NULL CHECK (expires_at > created_at)
) STRICT, WITHOUT ROWID;

CREATE INDEX sessions_subject ON sessions (subject);
CREATE INDEX sessions_expires ON sessions (expires_at);

-- Named opaque values: the log's signing key, the latest checkpoint (compare-and-swap).
CREATE TABLE kv (
	name       TEXT PRIMARY KEY CHECK (name <> ''),
	value      BLOB NOT NULL,
	updated_at INTEGER NOT NULL
) STRICT;
