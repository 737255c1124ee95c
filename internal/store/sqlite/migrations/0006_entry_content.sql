-- 0005: a report's content digest (store.NewEntry.Content), so that the same numbers under a
-- second report_id are recognised inside the appending transaction, whatever the timing. Entries
-- stored before it have none, and a report is never the same content as an entry without one.
ALTER TABLE entries ADD COLUMN content BLOB
	CHECK (content IS NULL OR (kind = 'report' AND length(content) BETWEEN 1 AND 64));
