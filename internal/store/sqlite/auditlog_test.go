package sqlite_test

import (
	"bytes"
	"database/sql"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"caucus/internal/store"
)

// TestAuditEntriesMigrate: a database made before audit entries existed keeps every entry byte
// for byte and every precinct's state when the entries table is made again to admit them; an
// audit entry is then stored under no precinct and changes no precinct's state; hand-count
// copies are kept, append-only.
func TestAuditEntriesMigrate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "caucus.db")
	raw, err := sql.Open("sqlite", "file:"+path+"?_pragma=foreign_keys(1)")
	if err != nil {
		t.Fatal(err)
	}
	old, err := filepath.Glob("migrations/000[1-8]_*.sql")
	if err != nil || len(old) != 8 {
		t.Fatalf("migrations 0001–0008: %v, %v", old, err)
	}
	sort.Strings(old)
	if _, err := raw.Exec(`CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY CHECK (version > 0),
		name TEXT NOT NULL, applied_at INTEGER NOT NULL) STRICT`); err != nil {
		t.Fatal(err)
	}
	for i, name := range old {
		text, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := raw.Exec(string(text)); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if _, err := raw.Exec(`INSERT INTO schema_migrations VALUES (?, ?, 0)`, i+1, filepath.Base(name)); err != nil {
			t.Fatal(err)
		}
	}
	bodies := [][]byte{[]byte(`{"kind":"report","n":0}`), []byte(`{"kind":"report","n":1}`), []byte(`{"kind":"review","n":2}`)}
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{`INSERT INTO entries VALUES (0, 'report', 'p1', 'r1', 'p1', 'app', 1580770800000, ?, ?, 'accepted', NULL, X'0102')`, []any{bodies[0], hash(bodies[0])}},
		{`INSERT INTO entries VALUES (1, 'report', 'p1', 'r2', 'p1', 'app', 1580770800001, ?, ?, 'under_review', NULL, NULL)`, []any{bodies[1], hash(bodies[1])}},
		{`INSERT INTO entries VALUES (2, 'review', 'p1', NULL, 'rita', 'staff', 1580770800002, ?, ?, 'accepted', 1, NULL)`, []any{bodies[2], hash(bodies[2])}},
		{`INSERT INTO precinct_state VALUES ('p1', 'accepted', 1, 2, 0, 2, 1580770800002)`, nil},
	} {
		if _, err := raw.Exec(q.sql, q.args...); err != nil {
			t.Fatalf("%s: %v", q.sql, err)
		}
	}
	raw.Close()

	clock := time.UnixMilli(1580770900000)
	db := MustOpenDB(t, path, func() time.Time { return clock })
	ctx := t.Context()
	es, err := db.Entries(ctx, 0, 10)
	if err != nil || len(es) != 3 {
		t.Fatalf("entries after migration: %d, %v", len(es), err)
	}
	for i, e := range es {
		if !bytes.Equal(e.Body, bodies[i]) || e.LeafHash != store.LeafHash(bodies[i]) {
			t.Errorf("entry %d after migration: %+v", i, e)
		}
	}
	if es[2].Counts != 1 || es[1].Status != store.StatusUnderReview {
		t.Errorf("entries after migration: %+v", es)
	}
	before, _, err := db.PrecinctStates(ctx)
	if err != nil || len(before) != 1 || before[0].Counted != 1 || before[0].LastIndex != 2 {
		t.Fatalf("precinct states after migration: %+v, %v", before, err)
	}

	body := []byte(`{"kind":"audit"}`)
	rs, err := db.Append(ctx, []store.NewEntry{
		{Kind: store.KindAudit, Submitter: "ann", Channel: store.ChannelStaff, Body: body},
		{Kind: store.KindAudit, PrecinctID: "p1", Submitter: "ann", Channel: store.ChannelStaff, Body: body},
		{Kind: store.KindAudit, Submitter: "ann", Channel: store.ChannelStaff, Status: store.StatusAccepted, Body: body},
	})
	if err != nil {
		t.Fatal(err)
	}
	if rs[0].Outcome != store.Appended || rs[0].Entry.Index != 3 || rs[0].Entry.Status != "" || rs[0].Entry.PrecinctID != "" {
		t.Errorf("audit entry: %+v", rs[0])
	}
	if rs[1].Outcome != store.Invalid || rs[2].Outcome != store.Invalid {
		t.Errorf("an audit entry with a precinct or a status: %v, %v; want both invalid", rs[1].Outcome, rs[2].Outcome)
	}
	after, _, err := db.PrecinctStates(ctx)
	if err != nil || len(after) != 1 || after[0] != before[0] {
		t.Errorf("precinct states after an audit entry: %+v, want %+v (%v)", after, before, err)
	}
	if got, err := db.PrecinctEntries(ctx, ""); err != nil || len(got) != 1 || got[0].Index != 3 || got[0].Kind != store.KindAudit {
		t.Errorf("the audit's entries: %+v, %v", got, err)
	}

	c, err := db.AddHandCopy(ctx, store.HandCopy{PrecinctID: "p1", Operator: "otto", Counts: []byte(`{"first":{"a":1}}`)})
	if err != nil || c.ID != 1 || !c.At.Equal(clock) {
		t.Fatalf("AddHandCopy: %+v, %v", c, err)
	}
	for _, bad := range []store.HandCopy{{Operator: "otto", Counts: []byte(`{}`)}, {PrecinctID: "p1", Counts: []byte(`{}`)},
		{PrecinctID: "p1", Operator: "otto", Counts: []byte(`[1]`)}} {
		if _, err := db.AddHandCopy(ctx, bad); err == nil {
			t.Errorf("AddHandCopy(%+v) succeeded", bad)
		}
	}
	if cs, err := db.HandCopies(ctx, "p1"); err != nil || len(cs) != 1 || cs[0].Operator != "otto" || string(cs[0].Counts) != `{"first":{"a":1}}` {
		t.Errorf("HandCopies: %+v, %v", cs, err)
	}
	raw, err = sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	for _, q := range []string{`UPDATE audit_hand_copies SET operator = 'eve'`, `DELETE FROM audit_hand_copies`,
		`UPDATE entries SET status = '' WHERE idx = 0`} {
		if _, err := raw.Exec(q); err == nil {
			t.Errorf("%s succeeded", q)
		}
	}
}

func hash(b []byte) []byte {
	h := store.LeafHash(b)
	return h[:]
}
