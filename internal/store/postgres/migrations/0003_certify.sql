-- 0003: the log holds certifications (SQLite's 0010_certify.sql): kind 'certification', a
-- certifier's certification of a scope ("county:ID" or "state", stored in precinct_id) with
-- status 'certified', or its withdrawal with status 'withdrawn', which no other kind may take.
ALTER TABLE entries DROP CONSTRAINT entries_kind_check;
ALTER TABLE entries ADD CONSTRAINT entries_kind_check
	CHECK (kind IN ('report', 'correction', 'review', 'certification'));
ALTER TABLE entries DROP CONSTRAINT entries_status_check;
ALTER TABLE entries ADD CONSTRAINT entries_status_check
	CHECK (status IN ('accepted', 'under_review', 'corrected', 'certified', 'withdrawn'));
ALTER TABLE entries ADD CONSTRAINT entries_certification_status
	CHECK (kind <> 'certification' OR status IN ('certified', 'withdrawn'));
ALTER TABLE entries ADD CONSTRAINT entries_withdrawn_kind
	CHECK (status <> 'withdrawn' OR kind = 'certification');
