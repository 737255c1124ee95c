-- 0002: attempt counters on the caller's clock (package auth's PIN budget, back-off and
-- per-address counts). Nothing here is forgotten by time on its own: a row
-- goes only by ResetCounter (a staff reset) or ExpireCounters with a prefix the caller names.
CREATE TABLE counters (
	key     TEXT PRIMARY KEY CHECK (key <> ''),
	count   INTEGER NOT NULL CHECK (count > 0),
	last_at INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
