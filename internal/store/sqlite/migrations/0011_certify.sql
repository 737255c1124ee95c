-- 0011: the log holds certifications (kind 'certification': a certifier's certification of a
-- scope, "county:ID" or "state", stored in precinct_id, with status 'certified', or its
-- withdrawal, status 'withdrawn'; the audit's entries keep the rules 0010 gave them). SQLite
-- cannot change a CHECK, so the entries table is made again with every row moved across
-- unchanged, its indexes and triggers made again, and precinct_state, which references it,
-- moved aside and back so that no foreign key dangles.
CREATE TEMP TABLE precinct_state_moving AS SELECT * FROM precinct_state;
DROP TABLE precinct_state;

CREATE TABLE entries_v2 (
	idx         INTEGER PRIMARY KEY CHECK (idx >= 0),
	kind        TEXT NOT NULL CHECK (kind IN ('report', 'correction', 'review', 'audit', 'certification')),
	precinct_id TEXT NOT NULL CHECK ((precinct_id <> '') <> (kind = 'audit')),
	report_id   TEXT CHECK (report_id IS NULL OR report_id <> ''),
	submitter   TEXT NOT NULL CHECK (submitter <> ''),
	channel     TEXT NOT NULL CHECK (channel IN ('app', 'hotline', 'paper', 'staff')),
	received_at INTEGER NOT NULL,
	body        BLOB NOT NULL CHECK (length(body) > 0),
	leaf_hash   BLOB NOT NULL CHECK (length(leaf_hash) = 32),
	status      TEXT NOT NULL CHECK (CASE kind WHEN 'audit' THEN status = ''
		WHEN 'certification' THEN status IN ('certified', 'withdrawn')
		ELSE status IN ('accepted', 'under_review', 'corrected', 'certified') END),
	counts      INTEGER CHECK (counts IS NULL OR (kind = 'review' AND counts >= 0 AND counts < idx)),
	content     BLOB CHECK (content IS NULL OR (kind = 'report' AND length(content) BETWEEN 1 AND 64)),
	CHECK (kind <> 'report' OR report_id IS NOT NULL)
) STRICT;

INSERT INTO entries_v2 (idx, kind, precinct_id, report_id, submitter, channel, received_at, body,
	leaf_hash, status, counts, content)
SELECT idx, kind, precinct_id, report_id, submitter, channel, received_at, body, leaf_hash, status,
	counts, content FROM entries ORDER BY idx;

DROP TABLE entries;
ALTER TABLE entries_v2 RENAME TO entries;

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

INSERT INTO precinct_state SELECT * FROM precinct_state_moving;
DROP TABLE precinct_state_moving;
