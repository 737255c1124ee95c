-- 0008: the hotline's double entry and the call-back queue's work. Append-only like the rest:
-- a copy, a round's settlement, a claim or an outcome is never changed or removed; the state
-- of a call-back request is its last event.
CREATE TABLE hotline_copies (
	id          INTEGER PRIMARY KEY,
	at          INTEGER NOT NULL,
	precinct_id TEXT NOT NULL CHECK (precinct_id <> ''),
	round       INTEGER NOT NULL CHECK (round >= 1),
	operator    TEXT NOT NULL CHECK (operator <> ''),
	verified_by TEXT NOT NULL CHECK (verified_by IN ('pin', 'callback', 'paper')),
	channel     TEXT NOT NULL CHECK (channel IN ('hotline', 'paper')),
	report      BLOB NOT NULL CHECK (length(report) BETWEEN 1 AND 16384),
	content     BLOB NOT NULL CHECK (length(content) BETWEEN 1 AND 64),
	-- One operator keys one copy of a precinct's round: a second would be no check at all.
	UNIQUE (precinct_id, round, operator)
) STRICT;

CREATE TABLE hotline_rounds (
	precinct_id TEXT NOT NULL CHECK (precinct_id <> ''),
	round       INTEGER NOT NULL CHECK (round >= 1),
	outcome     TEXT NOT NULL CHECK (outcome IN ('matched', 'reviewed')),
	copies      TEXT NOT NULL CHECK (json_valid(copies) AND json_type(copies) = 'array'),
	report_id   TEXT NOT NULL,
	log_index   INTEGER NOT NULL CHECK (log_index >= -1),
	actor       TEXT NOT NULL CHECK (actor <> ''),
	at          INTEGER NOT NULL,
	PRIMARY KEY (precinct_id, round)
) STRICT, WITHOUT ROWID;

CREATE TABLE callback_events (
	id          INTEGER PRIMARY KEY,
	callback_id INTEGER NOT NULL REFERENCES callbacks (id),
	at          INTEGER NOT NULL,
	kind        TEXT NOT NULL CHECK (kind IN ('claim', 'outcome')),
	operator    TEXT NOT NULL CHECK (operator <> ''),
	outcome     TEXT NOT NULL CHECK ((kind = 'claim' AND outcome = '') OR
	                                 (kind = 'outcome' AND outcome IN ('reported', 'no_answer', 'wrong_number'))),
	note        TEXT NOT NULL CHECK (length(note) <= 500)
) STRICT;

CREATE INDEX callback_events_callback ON callback_events (callback_id, id);

CREATE TRIGGER hotline_copies_no_update BEFORE UPDATE ON hotline_copies
BEGIN
	SELECT RAISE(ABORT, 'hotline copies are append-only: no UPDATE');
END;
CREATE TRIGGER hotline_copies_no_delete BEFORE DELETE ON hotline_copies
BEGIN
	SELECT RAISE(ABORT, 'hotline copies are append-only: no DELETE');
END;
CREATE TRIGGER hotline_rounds_no_update BEFORE UPDATE ON hotline_rounds
BEGIN
	SELECT RAISE(ABORT, 'hotline rounds are append-only: no UPDATE');
END;
CREATE TRIGGER hotline_rounds_no_delete BEFORE DELETE ON hotline_rounds
BEGIN
	SELECT RAISE(ABORT, 'hotline rounds are append-only: no DELETE');
END;
CREATE TRIGGER callback_events_no_update BEFORE UPDATE ON callback_events
BEGIN
	SELECT RAISE(ABORT, 'call-back events are append-only: no UPDATE');
END;
CREATE TRIGGER callback_events_no_delete BEFORE DELETE ON callback_events
BEGIN
	SELECT RAISE(ABORT, 'call-back events are append-only: no DELETE');
END;
