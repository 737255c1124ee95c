-- 0004: a precinct's credential is two argon2id hashes in PHC form (package auth), the PIN's and
-- the QR token's, each in its own column. Until now both were packed in one blob (the PIN's
-- hash, a newline, the token's hash); every stored credential moves across unchanged. A stored
-- blob that is not two hashes fails the CHECKs and so the migration, rather than being lost.
CREATE TABLE credentials_typed (
	precinct_id TEXT PRIMARY KEY CHECK (precinct_id <> ''),
	pin_hash    TEXT NOT NULL CHECK (pin_hash <> '' AND instr(pin_hash, char(10)) = 0),
	token_hash  TEXT NOT NULL CHECK (token_hash <> '' AND instr(token_hash, char(10)) = 0),
	created_at  INTEGER NOT NULL
) STRICT;

INSERT INTO credentials_typed (precinct_id, pin_hash, token_hash, created_at)
SELECT precinct_id,
	substr(CAST(hash AS TEXT), 1, instr(CAST(hash AS TEXT), char(10)) - 1),
	substr(CAST(hash AS TEXT), instr(CAST(hash AS TEXT), char(10)) + 1),
	created_at
FROM credentials;

DROP TABLE credentials;
ALTER TABLE credentials_typed RENAME TO credentials;
