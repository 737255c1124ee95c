-- 0001: one election's night, in PostgreSQL's dialect. It has the meaning of SQLite's migrations
-- 0001 to 0007 together (store/sqlite/migrations): the same tables, columns, constraints and
-- append-only rules, times as unix milliseconds (BIGINT), bytes as BYTEA. Shipped migrations are
-- never edited; add 0002_….sql instead, with the meaning of the SQLite migration it mirrors.

-- The singleton row binding this database to one election.
CREATE TABLE settings (
	id          INTEGER PRIMARY KEY CHECK (id = 1),
	election_id TEXT NOT NULL CHECK (election_id <> ''),
	created_at  BIGINT NOT NULL
);

-- The log: append-only, dense 0-based indices, the leaf bytes exactly as received.
CREATE TABLE entries (
	idx         BIGINT PRIMARY KEY CHECK (idx >= 0),
	kind        TEXT NOT NULL CHECK (kind IN ('report', 'correction', 'review')),
	precinct_id TEXT NOT NULL CHECK (precinct_id <> ''),
	report_id   TEXT CHECK (report_id IS NULL OR report_id <> ''),
	submitter   TEXT NOT NULL CHECK (submitter <> ''),
	channel     TEXT NOT NULL CHECK (channel IN ('app', 'hotline', 'paper', 'staff')),
	received_at BIGINT NOT NULL,
	body        BYTEA NOT NULL CHECK (length(body) > 0),
	leaf_hash   BYTEA NOT NULL CHECK (length(leaf_hash) = 32),
	status      TEXT NOT NULL CHECK (status IN ('accepted', 'under_review', 'corrected', 'certified')),
	counts      BIGINT CHECK (counts IS NULL OR (kind = 'review' AND counts >= 0 AND counts < idx)),
	content     BYTEA CHECK (content IS NULL OR (kind = 'report' AND length(content) BETWEEN 1 AND 64)),
	CHECK (kind <> 'report' OR report_id IS NOT NULL)
);

CREATE UNIQUE INDEX entries_report_id ON entries (report_id) WHERE report_id IS NOT NULL;
CREATE INDEX entries_precinct ON entries (precinct_id, idx);

-- The log's head: its size, kept with the entries in every appending transaction. Appends lock
-- this one row (SELECT … FOR UPDATE), which is what serializes them across every process sharing
-- the database and keeps indices dense in commit order. writer_epoch is the fencing token of
-- the node that holds the log's signer lease: it grows each time one takes the lease, and a
-- checkpoint written under a token that is no longer the current one is refused (nodes.go). The
-- size follows the entries by trigger, so it cannot drift from them.
CREATE TABLE log_head (
	id           INTEGER PRIMARY KEY CHECK (id = 1),
	size         BIGINT NOT NULL CHECK (size >= 0),
	writer_epoch BIGINT NOT NULL CHECK (writer_epoch >= 0)
);
INSERT INTO log_head (id, size, writer_epoch) VALUES (1, 0, 0);

CREATE FUNCTION caucus_entries_dense() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF NEW.idx <> coalesce((SELECT max(idx) FROM entries), -1) + 1 THEN
		RAISE EXCEPTION 'entries: log index must be the next one';
	END IF;
	RETURN NEW;
END $$;

CREATE TRIGGER entries_dense BEFORE INSERT ON entries
FOR EACH ROW EXECUTE FUNCTION caucus_entries_dense();

CREATE FUNCTION caucus_log_head_follows() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	UPDATE log_head SET size = (SELECT max(idx) + 1 FROM new_entries)
	WHERE id = 1 AND EXISTS (SELECT 1 FROM new_entries);
	RETURN NULL;
END $$;

CREATE TRIGGER entries_log_head AFTER INSERT ON entries
REFERENCING NEW TABLE AS new_entries
FOR EACH STATEMENT EXECUTE FUNCTION caucus_log_head_follows();

CREATE FUNCTION caucus_log_head_size() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF NEW.size <> (SELECT coalesce(max(idx), -1) + 1 FROM entries) THEN
		RAISE EXCEPTION 'log_head: size must be the number of entries';
	END IF;
	RETURN NEW;
END $$;

CREATE TRIGGER log_head_size BEFORE UPDATE OF size ON log_head
FOR EACH ROW EXECUTE FUNCTION caucus_log_head_size();

CREATE FUNCTION caucus_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION '%', TG_ARGV[0];
END $$;

CREATE TRIGGER entries_no_update BEFORE UPDATE ON entries
FOR EACH ROW EXECUTE FUNCTION caucus_refuse('entries are append-only: no UPDATE');
CREATE TRIGGER entries_no_delete BEFORE DELETE ON entries
FOR EACH ROW EXECUTE FUNCTION caucus_refuse('entries are append-only: no DELETE');
CREATE TRIGGER entries_no_truncate BEFORE TRUNCATE ON entries
FOR EACH STATEMENT EXECUTE FUNCTION caucus_refuse('entries are append-only: no TRUNCATE');
CREATE TRIGGER log_head_no_delete BEFORE DELETE ON log_head
FOR EACH ROW EXECUTE FUNCTION caucus_refuse('log_head is one row: no DELETE');

-- Derived from entries (store.Next); updated in place, rebuildable.
CREATE TABLE precinct_state (
	precinct_id TEXT PRIMARY KEY CHECK (precinct_id <> ''),
	status      TEXT NOT NULL CHECK (status IN ('not_reported', 'accepted', 'under_review', 'corrected', 'certified')),
	counted_idx BIGINT REFERENCES entries (idx),
	reports     BIGINT NOT NULL CHECK (reports >= 0),
	conflict    BOOLEAN NOT NULL,
	last_idx    BIGINT NOT NULL REFERENCES entries (idx),
	updated_at  BIGINT NOT NULL,
	CHECK ((status = 'not_reported') = (counted_idx IS NULL))
);

-- Every state change, append-only. IDs are taken under a lock held to commit (see the store's
-- audit.go), so they grow in commit order and paging by the last ID seen never skips a row.
CREATE TABLE audit (
	id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	at          BIGINT NOT NULL,
	actor       TEXT NOT NULL CHECK (actor <> ''),
	kind        TEXT NOT NULL CHECK (kind <> ''),
	precinct_id TEXT CHECK (precinct_id IS NULL OR precinct_id <> ''),
	-- the JSON object exactly as written (JSONB would reorder its keys)
	detail      TEXT NOT NULL CHECK (jsonb_typeof(detail::jsonb) = 'object')
);

CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
FOR EACH ROW EXECUTE FUNCTION caucus_refuse('audit is append-only: no UPDATE');
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
FOR EACH ROW EXECUTE FUNCTION caucus_refuse('audit is append-only: no DELETE');
CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit
FOR EACH STATEMENT EXECUTE FUNCTION caucus_refuse('audit is append-only: no TRUNCATE');

-- Opaque hashes from package auth (argon2id in PHC form); the store never sees a secret.
CREATE TABLE credentials (
	precinct_id TEXT PRIMARY KEY CHECK (precinct_id <> ''),
	pin_hash    TEXT NOT NULL CHECK (pin_hash <> '' AND strpos(pin_hash, chr(10)) = 0),
	token_hash  TEXT NOT NULL CHECK (token_hash <> '' AND strpos(token_hash, chr(10)) = 0),
	created_at  BIGINT NOT NULL
);

CREATE TABLE staff (
	username      TEXT PRIMARY KEY CHECK (username <> ''),
	role          TEXT NOT NULL CHECK (role IN ('admin', 'operator', 'reviewer', 'observer', 'certifier')),
	password_hash BYTEA NOT NULL CHECK (length(password_hash) > 0),
	disabled      BOOLEAN NOT NULL,
	created_at    BIGINT NOT NULL
);

CREATE TABLE sessions (
	token_hash BYTEA PRIMARY KEY CHECK (length(token_hash) >= 16),
	subject    TEXT NOT NULL CHECK (subject <> ''),
	role       TEXT NOT NULL CHECK (role IN ('chair', 'admin', 'operator', 'reviewer', 'observer', 'certifier')),
	created_at BIGINT NOT NULL,
	expires_at BIGINT NOT NULL CHECK (expires_at > created_at)
);

CREATE INDEX sessions_subject ON sessions (subject);
CREATE INDEX sessions_expires ON sessions (expires_at);

-- Named opaque values: the log's signing key (databases of earlier versions), the latest
-- checkpoint (compare-and-swap).
CREATE TABLE kv (
	name       TEXT PRIMARY KEY CHECK (name <> ''),
	value      BYTEA NOT NULL,
	updated_at BIGINT NOT NULL
);

-- Attempt counters on the caller's clock (package auth's PIN budget, back-off and per-address
-- counts). A row goes only by ResetThrottle (a staff reset) or ExpireThrottles with a prefix the
-- caller names.
CREATE TABLE counters (
	key     TEXT PRIMARY KEY CHECK (key <> ''),
	count   BIGINT NOT NULL CHECK (count > 0),
	last_at BIGINT NOT NULL
);

-- Failed and refused logins, aggregated: one row per minute, known precinct ('' for any
-- unknown one), client address group and reason, with a count.
CREATE TABLE login_failures (
	minute      BIGINT NOT NULL,
	precinct_id TEXT NOT NULL CHECK (length(precinct_id) <= 128),
	client      TEXT NOT NULL CHECK (client <> '' AND length(client) <= 64),
	reason      TEXT NOT NULL CHECK (reason <> '' AND length(reason) <= 32),
	count       BIGINT NOT NULL CHECK (count > 0),
	PRIMARY KEY (minute, precinct_id, client, reason)
);

-- Chairs' "call me back" requests, append-only. IDs are taken under the audit lock, in
-- commit order, like the audit's.
CREATE TABLE callbacks (
	id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	at          BIGINT NOT NULL,
	precinct_id TEXT NOT NULL CHECK (precinct_id <> ''),
	phone       TEXT NOT NULL CHECK (phone <> '' AND char_length(phone) <= 40),
	note        TEXT NOT NULL CHECK (char_length(note) <= 500),
	actor       TEXT NOT NULL CHECK (actor <> '')
);

CREATE INDEX callbacks_precinct_at ON callbacks (precinct_id, at);

CREATE TRIGGER callbacks_no_update BEFORE UPDATE ON callbacks
FOR EACH ROW EXECUTE FUNCTION caucus_refuse('callbacks are append-only: no UPDATE');
CREATE TRIGGER callbacks_no_delete BEFORE DELETE ON callbacks
FOR EACH ROW EXECUTE FUNCTION caucus_refuse('callbacks are append-only: no DELETE');

-- Worksheet photos, content-addressed: the key is the SHA-256 of the bytes.
CREATE TABLE photos (
	sha256       TEXT PRIMARY KEY CHECK (sha256 ~ '^[0-9a-f]{64}$'),
	content_type TEXT NOT NULL CHECK (content_type IN ('image/jpeg', 'image/png')),
	data         BYTEA NOT NULL CHECK (length(data) BETWEEN 1 AND 2097152),
	at           BIGINT NOT NULL,
	precinct_id  TEXT NOT NULL DEFAULT ''
);

CREATE INDEX photos_precinct ON photos (precinct_id);

CREATE TRIGGER photos_no_update BEFORE UPDATE ON photos
FOR EACH ROW EXECUTE FUNCTION caucus_refuse('photos are content-addressed: no UPDATE');
CREATE TRIGGER photos_no_delete BEFORE DELETE ON photos
FOR EACH ROW EXECUTE FUNCTION caucus_refuse('photos are kept: no DELETE');
