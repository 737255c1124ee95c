-- 0003: the hotline's double entry and the call-back queue's work (SQLite's 0009_hotline.sql).
-- Append-only like the rest: a copy, a round's settlement, a claim or an outcome is never
-- changed or removed; the state of a call-back request is its last event. IDs are taken under
-- the audit lock, in commit order, like the audit's.
CREATE TABLE hotline_copies (
	id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	at          BIGINT NOT NULL,
	precinct_id TEXT NOT NULL CHECK (precinct_id <> ''),
	round       BIGINT NOT NULL CHECK (round >= 1),
	operator    TEXT NOT NULL CHECK (operator <> ''),
	verified_by TEXT NOT NULL CHECK (verified_by IN ('pin', 'callback', 'paper')),
	channel     TEXT NOT NULL CHECK (channel IN ('hotline', 'paper')),
	report      BYTEA NOT NULL CHECK (octet_length(report) BETWEEN 1 AND 16384),
	content     BYTEA NOT NULL CHECK (octet_length(content) BETWEEN 1 AND 64),
	-- One operator keys one copy of a precinct's round: a second would be no check at all.
	UNIQUE (precinct_id, round, operator)
);

-- A round is settled once: the primary key refuses a second settlement.
CREATE TABLE hotline_rounds (
	precinct_id TEXT NOT NULL CHECK (precinct_id <> ''),
	round       BIGINT NOT NULL CHECK (round >= 1),
	outcome     TEXT NOT NULL CHECK (outcome IN ('matched', 'reviewed')),
	-- the copies' IDs, a JSON array as written
	copies      TEXT NOT NULL CHECK (jsonb_typeof(copies::jsonb) = 'array'),
	report_id   TEXT NOT NULL,
	log_index   BIGINT NOT NULL CHECK (log_index >= -1),
	actor       TEXT NOT NULL CHECK (actor <> ''),
	at          BIGINT NOT NULL,
	PRIMARY KEY (precinct_id, round)
);

CREATE TABLE callback_events (
	id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	callback_id BIGINT NOT NULL REFERENCES callbacks (id),
	at          BIGINT NOT NULL,
	kind        TEXT NOT NULL CHECK (kind IN ('claim', 'outcome')),
	operator    TEXT NOT NULL CHECK (operator <> ''),
	outcome     TEXT NOT NULL CHECK ((kind = 'claim' AND outcome = '') OR
	                                 (kind = 'outcome' AND outcome IN ('reported', 'no_answer', 'wrong_number'))),
	note        TEXT NOT NULL CHECK (char_length(note) <= 500)
);

CREATE INDEX callback_events_callback ON callback_events (callback_id, id);

-- An event follows the request's last one, whoever writes it: a claim only a request nobody
-- holds and nobody finished (no events, or a last outcome of no answer); an outcome only the
-- claim of the same operator. The request's row is locked first, so that two transactions
-- adding events to one request (in any process) take turns and the second sees the first's.
CREATE FUNCTION caucus_callback_event_follows() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
	prev callback_events%ROWTYPE;
BEGIN
	PERFORM 1 FROM callbacks WHERE id = NEW.callback_id FOR UPDATE;
	SELECT * INTO prev FROM callback_events WHERE callback_id = NEW.callback_id ORDER BY id DESC LIMIT 1;
	IF NEW.kind = 'claim' AND FOUND AND (prev.kind = 'claim' OR prev.outcome <> 'no_answer') THEN
		RAISE EXCEPTION 'call-back %: claimed by someone or done', NEW.callback_id;
	END IF;
	IF NEW.kind = 'outcome' AND (NOT FOUND OR prev.kind <> 'claim' OR prev.operator <> NEW.operator) THEN
		RAISE EXCEPTION 'call-back %: not claimed by %', NEW.callback_id, NEW.operator;
	END IF;
	RETURN NEW;
END $$;

CREATE TRIGGER callback_events_follow BEFORE INSERT ON callback_events
FOR EACH ROW EXECUTE FUNCTION caucus_callback_event_follows();

-- A copy goes into its precinct's open round (the one after the last settled), and a round is
-- settled in order (a settlement of an earlier round is refused by the primary key). Both take
-- the precinct's hotline lock first (the key the store's lockKeys takes, "hotline/" and the
-- precinct), so a copy and a settlement of one precinct take turns in every process.
CREATE FUNCTION caucus_hotline_round_open() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
	open_round BIGINT;
BEGIN
	PERFORM pg_advisory_xact_lock(hashtextextended('hotline/' || NEW.precinct_id, 0));
	SELECT coalesce(max(round), 0) + 1 INTO open_round FROM hotline_rounds WHERE precinct_id = NEW.precinct_id;
	IF (TG_TABLE_NAME = 'hotline_copies' AND NEW.round <> open_round) OR NEW.round > open_round THEN
		RAISE EXCEPTION '%: round % of precinct % is not open (round % is)', TG_TABLE_NAME, NEW.round, NEW.precinct_id, open_round;
	END IF;
	RETURN NEW;
END $$;

CREATE TRIGGER hotline_copies_open_round BEFORE INSERT ON hotline_copies
FOR EACH ROW EXECUTE FUNCTION caucus_hotline_round_open();
CREATE TRIGGER hotline_rounds_in_order BEFORE INSERT ON hotline_rounds
FOR EACH ROW EXECUTE FUNCTION caucus_hotline_round_open();

CREATE TRIGGER hotline_copies_no_update BEFORE UPDATE ON hotline_copies
FOR EACH ROW EXECUTE FUNCTION caucus_refuse('hotline copies are append-only: no UPDATE');
CREATE TRIGGER hotline_copies_no_delete BEFORE DELETE ON hotline_copies
FOR EACH ROW EXECUTE FUNCTION caucus_refuse('hotline copies are append-only: no DELETE');
CREATE TRIGGER hotline_copies_no_truncate BEFORE TRUNCATE ON hotline_copies
FOR EACH STATEMENT EXECUTE FUNCTION caucus_refuse('hotline copies are append-only: no TRUNCATE');
CREATE TRIGGER hotline_rounds_no_update BEFORE UPDATE ON hotline_rounds
FOR EACH ROW EXECUTE FUNCTION caucus_refuse('hotline rounds are append-only: no UPDATE');
CREATE TRIGGER hotline_rounds_no_delete BEFORE DELETE ON hotline_rounds
FOR EACH ROW EXECUTE FUNCTION caucus_refuse('hotline rounds are append-only: no DELETE');
CREATE TRIGGER hotline_rounds_no_truncate BEFORE TRUNCATE ON hotline_rounds
FOR EACH STATEMENT EXECUTE FUNCTION caucus_refuse('hotline rounds are append-only: no TRUNCATE');
CREATE TRIGGER callback_events_no_update BEFORE UPDATE ON callback_events
FOR EACH ROW EXECUTE FUNCTION caucus_refuse('call-back events are append-only: no UPDATE');
CREATE TRIGGER callback_events_no_delete BEFORE DELETE ON callback_events
FOR EACH ROW EXECUTE FUNCTION caucus_refuse('call-back events are append-only: no DELETE');
CREATE TRIGGER callback_events_no_truncate BEFORE TRUNCATE ON callback_events
FOR EACH STATEMENT EXECUTE FUNCTION caucus_refuse('call-back events are append-only: no TRUNCATE');
