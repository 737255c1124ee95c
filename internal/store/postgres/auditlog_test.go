package postgres_test

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"caucus/internal/store"
	"caucus/internal/store/postgres"
	"caucus/internal/store/postgres/pgtest"
)

// TestAuditEntriesMigrate: a database migrated before audit entries existed (0001 to 0003)
// keeps its entries byte for byte and its precinct's state when 0004 changes the entries
// table's CHECKs; an audit entry is then stored between reports, under no precinct, and the
// integrity check replays the log; the CHECKs refuse an audit entry with a precinct or a
// status and any other entry without them; hand-count copies are append-only.
func TestAuditEntriesMigrate(t *testing.T) {
	url := pgtest.NewDatabase(t)
	raw := rawConn(t, url)
	ctx := t.Context()
	if _, err := raw.Exec(ctx, `CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY CHECK (version > 0),
		name TEXT NOT NULL, applied_at BIGINT NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	for i, name := range []string{"0001_init.sql", "0002_staff.sql", "0003_hotline.sql"} {
		text, err := fs.ReadFile(postgres.Migrations(), "migrations/"+name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := raw.Exec(ctx, string(text)); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if _, err := raw.Exec(ctx, `INSERT INTO schema_migrations VALUES ($1, $2, 0)`, i+1, name); err != nil {
			t.Fatal(err)
		}
	}
	bodies := [][]byte{[]byte(`{"kind":"report","n":0}`), []byte(`{"kind":"report","n":1}`), []byte(`{"kind":"review","n":2}`)}
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{`INSERT INTO entries VALUES (0, 'report', 'p1', 'r1', 'p1', 'app', 1580770800000, $1, $2, 'accepted', NULL, '\x0102')`, []any{bodies[0], hash(bodies[0])}},
		{`INSERT INTO entries VALUES (1, 'report', 'p1', 'r2', 'p1', 'app', 1580770800001, $1, $2, 'under_review', NULL, NULL)`, []any{bodies[1], hash(bodies[1])}},
		{`INSERT INTO entries VALUES (2, 'review', 'p1', NULL, 'rita', 'staff', 1580770800002, $1, $2, 'accepted', 1, NULL)`, []any{bodies[2], hash(bodies[2])}},
		{`INSERT INTO precinct_state VALUES ('p1', 'accepted', 1, 2, false, 2, 1580770800002)`, nil},
	} {
		if _, err := raw.Exec(ctx, q.sql, q.args...); err != nil {
			t.Fatalf("%s: %v", q.sql, err)
		}
	}

	clock := time.UnixMilli(1580770900000)
	db := MustOpen(t, url, postgres.Options{Now: func() time.Time { return clock }})
	es, err := db.Entries(ctx, 0, 10)
	if err != nil || len(es) != 3 {
		t.Fatalf("entries after migration: %d, %v", len(es), err)
	}
	for i, e := range es {
		if !bytes.Equal(e.Body, bodies[i]) || e.LeafHash != store.LeafHash(bodies[i]) {
			t.Errorf("entry %d after migration: %+v", i, e)
		}
	}
	before, _, err := db.PrecinctStates(ctx)
	if err != nil || len(before) != 1 || before[0].Counted != 1 || before[0].LastIndex != 2 {
		t.Fatalf("precinct states after migration: %+v, %v", before, err)
	}

	audit := store.NewEntry{Kind: store.KindAudit, Submitter: "ann", Channel: store.ChannelStaff, Body: []byte(`{"kind":"audit"}`)}
	rs, err := db.Append(ctx, []store.NewEntry{report("p2", "r3", "3"), audit, report("p1", "r4", "4")})
	if err != nil {
		t.Fatal(err)
	}
	if rs[1].Outcome != store.Appended || rs[1].Entry.Index != 4 || rs[1].Entry.PrecinctID != "" || rs[1].Entry.Status != "" {
		t.Errorf("audit entry: %+v", rs[1])
	}
	if rs[0].Entry.Index != 3 || rs[2].Entry.Index != 5 || rs[2].Outcome != store.Conflict {
		t.Errorf("reports around the audit entry: %+v", rs)
	}
	if st, err := db.PrecinctState(ctx, "p1"); err != nil || st.Counted != 1 || st.Reports != 3 || st.LastIndex != 5 {
		t.Errorf("p1 after the batch: %+v, %v", st, err)
	}
	if err := db.IntegrityCheck(ctx); err != nil {
		t.Errorf("integrity check of a log with an audit entry: %v", err)
	}
	if _, err := db.AddHandCopy(ctx, store.HandCopy{PrecinctID: "p1", Operator: "otto", Counts: []byte(`{"first":{"a":1}}`)}); err != nil {
		t.Fatal(err)
	}

	// Each insert has the next index, so only the CHECK named can refuse it.
	entry := `INSERT INTO entries (idx, kind, precinct_id, submitter, channel, received_at, body, leaf_hash, status, report_id)
	VALUES (6, $1, $2, 'ann', 'staff', 0, '\x7b7d', $3, $4, 'x')`
	h := hash([]byte(`{}`))
	for _, c := range []struct {
		kind, precinct, status, constraint string
	}{
		{"audit", "p1", "", "entries_precinct_id_check"},
		{"audit", "", "accepted", "entries_status_check"},
		{"report", "", "accepted", "entries_precinct_id_check"},
		{"report", "p1", "", "entries_status_check"},
		{"correction", "", "corrected", "entries_precinct_id_check"},
		{"audits", "p1", "accepted", "entries_kind_check"},
	} {
		_, err := raw.Exec(ctx, entry, c.kind, c.precinct, h, c.status)
		var pe *pgconn.PgError
		if !errors.As(err, &pe) || pe.Code != "23514" || pe.ConstraintName != c.constraint {
			t.Errorf("a %s entry of precinct %q, status %q: %v; want %s refusing it", c.kind, c.precinct, c.status, err, c.constraint)
		}
	}
	if _, err := raw.Exec(ctx, entry, "audit", "", h, ""); err != nil {
		t.Errorf("an audit entry by hand: %v", err)
	}
	for _, q := range []string{`UPDATE audit_hand_copies SET operator = 'eve'`, `DELETE FROM audit_hand_copies`,
		`TRUNCATE audit_hand_copies`, `INSERT INTO audit_hand_copies (precinct_id, operator, at, counts) VALUES ('p1', 'eve', 0, '[1]')`,
		`INSERT INTO audit_hand_copies (precinct_id, operator, at, counts) VALUES ('p1', 'eve', 0, '{')`} {
		if _, err := raw.Exec(ctx, q); err == nil {
			t.Errorf("%s succeeded", q)
		}
	}
	if cs, err := db.HandCopies(ctx, "p1"); err != nil || len(cs) != 1 || cs[0].Operator != "otto" {
		t.Errorf("hand copies after the refused changes: %+v, %v", cs, err)
	}
}

// TestHandCopiesAcrossHandles: two handles, as two server processes, add hand copies at once;
// every copy is kept under its own ID, the IDs 1 to n.
func TestHandCopiesAcrossHandles(t *testing.T) {
	url := pgtest.NewDatabase(t)
	dbs := []*postgres.DB{MustOpen(t, url, postgres.Options{}), MustOpen(t, url, postgres.Options{})}
	const each = 20
	errs := make(chan error, 2*each)
	for i, db := range dbs {
		for j := range each {
			go func() {
				_, err := db.AddHandCopy(t.Context(), store.HandCopy{PrecinctID: "p1", Operator: fmt.Sprintf("op%d", i),
					Counts: fmt.Appendf(nil, `{"n":%d}`, j)})
				errs <- err
			}()
		}
	}
	for range 2 * each {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	cs, err := dbs[0].HandCopies(t.Context(), "p1")
	if err != nil || len(cs) != 2*each {
		t.Fatalf("HandCopies = %d copies, %v; want %d", len(cs), err, 2*each)
	}
	for i, c := range cs {
		if c.ID != int64(i+1) {
			t.Errorf("copy %d has ID %d", i, c.ID)
		}
	}
}

func hash(b []byte) []byte {
	h := store.LeafHash(b)
	return h[:]
}
