-- 0003: chairs' "call me back" requests and worksheet photos (issue 5).
-- Both are append-only like the audit trail: a request or a photo is never changed or removed.
CREATE TABLE callbacks (
	id          INTEGER PRIMARY KEY,
	at          INTEGER NOT NULL,
	precinct_id TEXT NOT NULL CHECK (precinct_id <> ''),
	phone       TEXT NOT NULL CHECK (phone <> '' AND length(phone) <= 40),
	note        TEXT NOT NULL CHECK (length(note) <= 500),
	actor       TEXT NOT NULL CHECK (actor <> '')
) STRICT;

CREATE TRIGGER callbacks_no_update BEFORE UPDATE ON callbacks
BEGIN
	SELECT RAISE(ABORT, 'callbacks are append-only: no UPDATE');
END;

CREATE TRIGGER callbacks_no_delete BEFORE DELETE ON callbacks
BEGIN
	SELECT RAISE(ABORT, 'callbacks are append-only: no DELETE');
END;

-- Content-addressed: the key is the SHA-256 of the bytes, so a photo can only be stored once
-- and a report's photo_sha256 names exactly one image.
CREATE TABLE photos (
	sha256       TEXT PRIMARY KEY CHECK (length(sha256) = 64 AND sha256 NOT GLOB '*[^0-9a-f]*'),
	content_type TEXT NOT NULL CHECK (content_type IN ('image/jpeg', 'image/png')),
	data         BLOB NOT NULL CHECK (length(data) BETWEEN 1 AND 2097152),
	at           INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

CREATE TRIGGER photos_no_update BEFORE UPDATE ON photos
BEGIN
	SELECT RAISE(ABORT, 'photos are content-addressed: no UPDATE');
END;

CREATE TRIGGER photos_no_delete BEFORE DELETE ON photos
BEGIN
	SELECT RAISE(ABORT, 'photos are kept: no DELETE');
END;
