-- 0005: the log holds certifications (SQLite's 0011_certify.sql): kind 'certification', a
-- certifier's certification of a scope ("county:ID" or "state", stored in precinct_id, so not
-- one of the kinds without a precinct) with status 'certified', or its withdrawal with status
-- 'withdrawn', which no other kind may take. The CHECKs that name the kinds are dropped by the
-- names 0004 gave them and made again with the kind added.
ALTER TABLE entries
	DROP CONSTRAINT entries_kind_check,
	DROP CONSTRAINT entries_status_check,
	ADD CONSTRAINT entries_kind_check CHECK (kind IN ('report', 'correction', 'review', 'audit', 'certification')),
	ADD CONSTRAINT entries_status_check CHECK (CASE WHEN kind IN ('audit') THEN status = ''
		WHEN kind = 'certification' THEN status IN ('certified', 'withdrawn')
		ELSE status IN ('accepted', 'under_review', 'corrected', 'certified') END);
