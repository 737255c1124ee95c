-- 0005: per-precinct quotas of photos and call-back requests. A photo records the precinct
-- charged for it (existing rows: none, '') and both tables get the index the quota's count
-- reads inside the insert's transaction.
ALTER TABLE photos ADD COLUMN precinct_id TEXT NOT NULL DEFAULT '';

CREATE INDEX photos_precinct ON photos (precinct_id);

CREATE INDEX callbacks_precinct_at ON callbacks (precinct_id, at);
