-- 0010 (auditlog): log entries of kind 'audit', a risk-limiting audit's start, samples, hand
-- counts and measured risks. They belong to no precinct (precinct_id '') and change no precinct's
-- status (status ''). SQLite cannot change a CHECK, so the entries table is made again: its rows
-- are copied aside, the table dropped and made anew, and every row moved back unchanged. The
-- foreign keys of precinct_state are deferred to the commit, when every entry they name is back.
PRAGMA defer_foreign_keys = ON;

CREATE TABLE entries_copy AS SELECT * FROM entries;

DROP TABLE entries;

CREATE TABLE entries (
	idx         INTEGER PRIMARY KEY CHECK (idx >= 0),
	kind        TEXT NOT NULL CHECK (kind IN ('report', 'correction', 'review', 'audit')),
	precinct_id TEXT NOT NULL CHECK ((precinct_id <> '') <> (kind = 'audit')),
	report_id   TEXT CHECK (report_id IS NULL OR report_id <> ''),
	submitter   TEXT NOT NULL CHECK (submitter <> ''),
	channel     TEXT NOT NULL CHECK (channel IN ('app', 'hotline', 'paper', 'staff')),
	received_at INTEGER NOT NULL,
	body        BLOB NOT NULL CHECK (length(body) > 0),
	leaf_hash   BLOB NOT NULL CHECK (length(leaf_hash) = 32),
	status      TEXT NOT NULL CHECK (CASE WHEN kind = 'audit' THEN status = ''
		ELSE status IN ('accepted', 'under_review', 'corrected', 'certified') END),
	counts      INTEGER CHECK (counts IS NULL OR (kind = 'review' AND counts >= 0 AND counts < idx)),
	content     BLOB CHECK (content IS NULL OR (kind = 'report' AND length(content) BETWEEN 1 AND 64)),
	CHECK (kind <> 'report' OR report_id IS NOT NULL)
) STRICT;

INSERT INTO entries (idx, kind, precinct_id, report_id, submitter, channel, received_at, body,
	leaf_hash, status, counts, content)
SELECT idx, kind, precinct_id, report_id, submitter, channel, received_at, body, leaf_hash,
	status, counts, content FROM entries_copy ORDER BY idx;

DROP TABLE entries_copy;

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

-- One operator's keying of a sampled precinct's hand count (first and final alignment, JSON),
-- kept whether or not it matched: two operators key the cards independently and matching
-- copies become one audit entry of the log. Append-only.
CREATE TABLE audit_hand_copies (
	id          INTEGER PRIMARY KEY,
	precinct_id TEXT NOT NULL CHECK (precinct_id <> ''),
	operator    TEXT NOT NULL CHECK (operator <> ''),
	at          INTEGER NOT NULL,
	counts      TEXT NOT NULL CHECK (json_valid(counts) AND json_type(counts) = 'object')
) STRICT;

CREATE INDEX audit_hand_copies_precinct ON audit_hand_copies (precinct_id, id);

CREATE TRIGGER audit_hand_copies_no_update BEFORE UPDATE ON audit_hand_copies
BEGIN
	SELECT RAISE(ABORT, 'audit_hand_copies is append-only: no UPDATE');
END;

CREATE TRIGGER audit_hand_copies_no_delete BEFORE DELETE ON audit_hand_copies
BEGIN
	SELECT RAISE(ABORT, 'audit_hand_copies is append-only: no DELETE');
END;
