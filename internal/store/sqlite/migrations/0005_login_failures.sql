-- 0005: failed and refused logins, aggregated (package auth's FailureCount): one row per
-- minute, known precinct (or '' for any unknown one), client address group and reason, with a
-- count. A flood of junk logins updates a bounded set of rows instead of adding one per
-- attempt, and never stores what the attacker typed.
CREATE TABLE login_failures (
	minute      INTEGER NOT NULL,
	precinct_id TEXT NOT NULL CHECK (length(precinct_id) <= 128),
	client      TEXT NOT NULL CHECK (client <> '' AND length(client) <= 64),
	reason      TEXT NOT NULL CHECK (reason <> '' AND length(reason) <= 32),
	count       INTEGER NOT NULL CHECK (count > 0),
	PRIMARY KEY (minute, precinct_id, client, reason)
) STRICT, WITHOUT ROWID;
