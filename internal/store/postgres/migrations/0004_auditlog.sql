-- 0004: log entries of kind 'audit' and the audit's hand-count copies (SQLite's
-- 0010_auditlog.sql). An audit entry, a risk-limiting audit's start, sample, hand count or
-- measured risk, belongs to no precinct (precinct_id '') and changes no precinct's status
-- (status ''). PostgreSQL changes a CHECK in place: the three that name the kinds are dropped
-- by the names 0001 gave them (PostgreSQL's table_column_check) and made again under the same
-- names, every row checked against them. The kinds without a precinct are one list, kept the
-- same in both CHECKs: a later kind of that sort drops and adds the two again with the list one
-- longer (and entries_kind_check with the kind added).
ALTER TABLE entries
	DROP CONSTRAINT entries_kind_check,
	DROP CONSTRAINT entries_precinct_id_check,
	DROP CONSTRAINT entries_status_check,
	ADD CONSTRAINT entries_kind_check CHECK (kind IN ('report', 'correction', 'review', 'audit')),
	ADD CONSTRAINT entries_precinct_id_check CHECK ((precinct_id <> '') <> (kind IN ('audit'))),
	ADD CONSTRAINT entries_status_check CHECK (CASE WHEN kind IN ('audit') THEN status = ''
		ELSE status IN ('accepted', 'under_review', 'corrected', 'certified') END);

-- One operator's keying of a sampled precinct's hand count (first and final alignment, JSON),
-- kept whether or not it matched: two operators key the cards independently and matching
-- copies become one audit entry of the log. Append-only. IDs are taken under the audit lock,
-- in commit order, like the audit's.
CREATE TABLE audit_hand_copies (
	id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	precinct_id TEXT NOT NULL CHECK (precinct_id <> ''),
	operator    TEXT NOT NULL CHECK (operator <> ''),
	at          BIGINT NOT NULL,
	-- the JSON object exactly as keyed (JSONB would reorder its keys); checked as json, not
	-- jsonb, which would refuse escapes (\u0000, a lone surrogate) that SQLite's json_valid takes
	counts      TEXT NOT NULL CHECK (json_typeof(counts::json) = 'object')
);

CREATE INDEX audit_hand_copies_precinct ON audit_hand_copies (precinct_id, id);

CREATE TRIGGER audit_hand_copies_no_update BEFORE UPDATE ON audit_hand_copies
FOR EACH ROW EXECUTE FUNCTION caucus_refuse('audit_hand_copies is append-only: no UPDATE');
CREATE TRIGGER audit_hand_copies_no_delete BEFORE DELETE ON audit_hand_copies
FOR EACH ROW EXECUTE FUNCTION caucus_refuse('audit_hand_copies is append-only: no DELETE');
CREATE TRIGGER audit_hand_copies_no_truncate BEFORE TRUNCATE ON audit_hand_copies
FOR EACH STATEMENT EXECUTE FUNCTION caucus_refuse('audit_hand_copies is append-only: no TRUNCATE');
