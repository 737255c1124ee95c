package sqlite_test

import (
	"database/sql"
	"errors"
	"path/filepath"
	"testing"

	"caucus/internal/store"
)

// TestCertificationEntries: a certification is stored at the next index with its own status and
// touches no precinct's state; the migration that admits the kind moves every row across (run
// again here on a log that has every kind) and keeps the triggers and foreign keys.
func TestCertificationEntries(t *testing.T) {
	path := filepath.Join(t.TempDir(), "caucus.db")
	db := MustOpenDB(t, path, nil)
	ctx := t.Context()
	batch := []store.NewEntry{
		{Kind: store.KindReport, PrecinctID: "p1", ReportID: "r1", Submitter: "p1", Channel: store.ChannelApp,
			Body: []byte(`{"r":1}`), Status: store.StatusAccepted},
		{Kind: store.KindCertification, PrecinctID: "county:c1", Submitter: "cert", Channel: store.ChannelStaff,
			Body: []byte(`{"c":1}`), Status: store.StatusCertified},
		{Kind: store.KindCertification, PrecinctID: "county:c1", Submitter: "cert", Channel: store.ChannelStaff,
			Body: []byte(`{"c":2}`), Status: store.StatusWithdrawn},
		{Kind: store.KindCertification, PrecinctID: "state", Submitter: "cert", Channel: store.ChannelStaff,
			Body: []byte(`{"c":3}`), Status: store.StatusAccepted}, // not a certification's status
		{Kind: store.KindReview, PrecinctID: "p1", Submitter: "rev", Channel: store.ChannelStaff,
			Body: []byte(`{"v":1}`), Status: store.StatusWithdrawn}, // not a review's
	}
	rs, err := db.Append(ctx, batch)
	if err != nil {
		t.Fatal(err)
	}
	want := []store.Outcome{store.Appended, store.Appended, store.Appended, store.Invalid, store.Invalid}
	for i, r := range rs {
		if r.Outcome != want[i] {
			t.Errorf("entry %d: %s (%v), want %s", i, r.Outcome, r.Err, want[i])
		}
	}
	if rs[1].Entry.Index != 1 || rs[1].Entry.Status != store.StatusCertified || rs[2].Entry.Status != store.StatusWithdrawn {
		t.Errorf("certifications stored as %+v and %+v", rs[1].Entry, rs[2].Entry)
	}
	check := func() {
		t.Helper()
		states, size, err := db.PrecinctStates(ctx)
		if err != nil || size != 3 || len(states) != 1 || states[0].PrecinctID != "p1" || states[0].LastIndex != 0 ||
			states[0].Status != store.StatusAccepted {
			t.Errorf("precinct states %+v at size %d, %v: want p1 alone, untouched by the certifications", states, size, err)
		}
		if _, err := db.PrecinctState(ctx, "county:c1"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("state of a scope: %v, want ErrNotFound", err)
		}
		es, err := db.PrecinctEntries(ctx, "county:c1")
		if err != nil || len(es) != 2 || es[0].Kind != store.KindCertification || es[1].Index != 2 {
			t.Errorf("the scope's entries: %+v, %v", es, err)
		}
	}
	check()
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	raw, err := sql.Open("sqlite", "file:"+path+"?_pragma=foreign_keys(1)")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.Exec(`DELETE FROM schema_migrations WHERE name = '0011_certify.sql'`); err != nil {
		t.Fatal(err)
	}
	raw.Close()
	db = MustOpenDB(t, path, nil) // the migration runs again, over every kind of row
	check()
	raw, err = sql.Open("sqlite", "file:"+path+"?_pragma=foreign_keys(1)")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	for _, q := range []string{`DELETE FROM entries`, `UPDATE entries SET status = 'accepted'`,
		`INSERT INTO precinct_state (precinct_id, status, counted_idx, reports, conflict, last_idx, updated_at)
		 VALUES ('p2', 'accepted', 0, 1, 0, 7, 0)`} {
		if _, err := raw.Exec(q); err == nil {
			t.Errorf("%s: succeeded after the migration, want refused", q)
		}
	}
	var ok string
	if err := raw.QueryRow("PRAGMA integrity_check").Scan(&ok); err != nil || ok != "ok" {
		t.Errorf("integrity_check = %q, %v", ok, err)
	}
}
