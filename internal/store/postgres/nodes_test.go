package postgres_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"sync"
	"testing"

	"caucus/internal/auth"
	"caucus/internal/store"
	"caucus/internal/store/postgres"
	"caucus/internal/store/postgres/pgtest"
)

// report is a report entry for precinct under reportID saying numbers.
func report(precinct, reportID, numbers string) store.NewEntry {
	return store.NewEntry{Kind: store.KindReport, PrecinctID: precinct, ReportID: reportID,
		Submitter: precinct, Channel: store.ChannelApp, Status: store.StatusAccepted,
		Body: []byte(`{"report_id":"` + reportID + `","precinct_id":"` + precinct + `","numbers":"` + numbers + `"}`)}
}

// TestTwoNodes: two handles with pools of their own, as two server processes would have, send
// the same reports (retries) and conflicting reports for the same precincts, released at the
// same instant. The database alone decides: per precinct exactly one counted report and one
// conflict kept, every retry a Duplicate of what was stored, indices dense, one audit row per
// submission.
func TestTwoNodes(t *testing.T) {
	url := pgtest.NewDatabase(t)
	nodes := []*postgres.DB{MustOpen(t, url, postgres.Options{}), MustOpen(t, url, postgres.Options{})}
	const precincts, copies = 40, 2 // each report sent copies times by each node
	type sent struct {
		e store.NewEntry
		r store.AppendResult
	}
	var mu sync.Mutex
	var all []sent
	start := make(chan struct{})
	var wg sync.WaitGroup
	for p := range precincts {
		pid := fmt.Sprintf("polk-%02d", p)
		for _, version := range []string{"a", "b"} {
			e := report(pid, pid+"-"+version, version)
			for _, node := range nodes {
				for range copies {
					wg.Go(func() {
						<-start
						rs, err := node.Append(t.Context(), []store.NewEntry{e})
						if err != nil {
							t.Errorf("Append %s: %v", e.ReportID, err)
							return
						}
						mu.Lock()
						all = append(all, sent{e, rs[0]})
						mu.Unlock()
					})
				}
			}
		}
	}
	close(start)
	wg.Wait()
	if t.Failed() {
		return
	}
	outcomes := map[string]map[store.Outcome]int{} // by report ID
	stored := map[string]int64{}                   // report ID → index of its Appended or Conflict
	for _, s := range all {
		if outcomes[s.e.ReportID] == nil {
			outcomes[s.e.ReportID] = map[store.Outcome]int{}
		}
		outcomes[s.e.ReportID][s.r.Outcome]++
		if s.r.Outcome == store.Appended || s.r.Outcome == store.Conflict {
			stored[s.e.ReportID] = s.r.Entry.Index
		}
	}
	for _, s := range all {
		if s.r.Outcome == store.Duplicate && s.r.Entry.Index != stored[s.e.ReportID] {
			t.Errorf("%s: duplicate names index %d, the report is stored at %d", s.e.ReportID, s.r.Entry.Index, stored[s.e.ReportID])
		}
	}
	size, err := nodes[0].Size(t.Context())
	if err != nil || size != 2*precincts {
		t.Fatalf("Size = %d, %v; want %d (two reports per precinct, each stored once)", size, err, 2*precincts)
	}
	es, err := nodes[1].Entries(t.Context(), 0, size)
	if err != nil || int64(len(es)) != size {
		t.Fatalf("Entries = %d, %v", len(es), err)
	}
	for i, e := range es {
		if e.Index != int64(i) {
			t.Fatalf("entry %d has index %d", i, e.Index)
		}
	}
	for p := range precincts {
		pid := fmt.Sprintf("polk-%02d", p)
		a, b := outcomes[pid+"-a"], outcomes[pid+"-b"]
		if a[store.Appended]+b[store.Appended] != 1 || a[store.Conflict]+b[store.Conflict] != 1 ||
			a[store.Duplicate] != 2*copies-1 || b[store.Duplicate] != 2*copies-1 {
			t.Errorf("%s: outcomes %v and %v; want one appended, one conflict, the rest duplicates", pid, a, b)
			continue
		}
		first := pid + "-a"
		if b[store.Appended] == 1 {
			first = pid + "-b"
		}
		st, err := nodes[p%2].PrecinctState(t.Context(), pid)
		if err != nil || st.Counted != stored[first] || st.Reports != 2 || !st.Conflict || st.Status != store.StatusUnderReview {
			t.Errorf("%s: state %+v, %v; want the first report (%d) counted, 2 reports, conflict, under review", pid, st, err, stored[first])
		}
		pe, err := nodes[(p+1)%2].PrecinctEntries(t.Context(), pid)
		if err != nil || len(pe) != 2 {
			t.Errorf("%s: %d entries, %v; want 2", pid, len(pe), err)
			continue
		}
		for _, e := range pe {
			want := report(pid, e.ReportID, e.ReportID[len(e.ReportID)-1:]).Body
			if !bytes.Equal(e.Body, want) || e.LeafHash != store.LeafHash(want) {
				t.Errorf("%s: entry %d body %q differs from what was sent", pid, e.Index, e.Body)
			}
		}
	}
	if err := nodes[0].IntegrityCheck(t.Context()); err != nil {
		t.Error(err)
	}
	audit, err := nodes[0].Audit(t.Context(), 0, 1_000_000)
	if err != nil || len(audit) != len(all) {
		t.Errorf("%d audit rows, %v; want one per submission, %d", len(audit), err, len(all))
	}
	for i := 1; i < len(audit); i++ { // a rolled-back transaction may leave a gap, never a step back
		if audit[i].ID <= audit[i-1].ID {
			t.Fatalf("audit row %d has ID %d after %d: IDs must grow in commit order", i, audit[i].ID, audit[i-1].ID)
		}
	}
}

// TestMigrateConcurrently: several processes opening a new database at once (here, handles
// with their own connections) apply each migration exactly once and all open it.
func TestMigrateConcurrently(t *testing.T) {
	url := pgtest.NewDatabase(t)
	const nodes = 6
	start := make(chan struct{})
	var wg sync.WaitGroup
	for range nodes {
		wg.Go(func() {
			<-start
			db, err := postgres.Open(t.Context(), url, postgres.Options{})
			if err != nil {
				t.Errorf("Open: %v", err)
				return
			}
			defer db.Close()
			if _, err := db.InitSettings(t.Context(), "iowa-2020"); err != nil {
				t.Errorf("InitSettings: %v", err)
			}
		})
	}
	close(start)
	wg.Wait()
	raw := rawConn(t, url)
	var n, distinct int
	if err := raw.QueryRow(t.Context(), "SELECT count(*), count(DISTINCT name) FROM schema_migrations").Scan(&n, &distinct); err != nil {
		t.Fatal(err)
	}
	if want := migrationFiles(t); n != want || distinct != want {
		t.Errorf("%d migrations recorded (%d distinct); want %d", n, distinct, want)
	}
	var heads int
	if err := raw.QueryRow(t.Context(), "SELECT count(*) FROM log_head").Scan(&heads); err != nil || heads != 1 {
		t.Errorf("log_head has %d rows, %v; want 1", heads, err)
	}
}

// migrationFiles is how many migrations the package embeds.
func migrationFiles(t *testing.T) int {
	names, err := fs.Glob(postgres.Migrations(), "migrations/*.sql")
	if err != nil || len(names) == 0 {
		t.Fatalf("no migrations: %v", err)
	}
	return len(names)
}

// TestNewerSchemaRefused: a database migrated by a newer binary is refused, not written.
func TestNewerSchemaRefused(t *testing.T) {
	url := pgtest.NewDatabase(t)
	MustOpen(t, url, postgres.Options{}).Close()
	if _, err := rawConn(t, url).Exec(t.Context(),
		"INSERT INTO schema_migrations (version, name, applied_at) VALUES (99, '0099_future.sql', 0)"); err != nil {
		t.Fatal(err)
	}
	if db, err := postgres.Open(t.Context(), url, postgres.Options{}); err == nil {
		db.Close()
		t.Fatal("Open of a newer schema succeeded, want refused")
	} else if !strings.Contains(err.Error(), "newer") {
		t.Errorf("Open error %q does not say the schema is newer", err)
	}
}

// TestLease: one handle at a time holds the signer lease, and only it may write the lease's
// values; a leader whose lease connection was cut (a network partition, a server restart) and
// whose lease another node took is fenced: its writes of those values fail and change nothing.
// Appends go through from every handle, leader or not.
func TestLease(t *testing.T) {
	url := pgtest.NewDatabase(t)
	opts := postgres.Options{LeaseValues: []string{"checkpoint"}}
	first, second := MustOpen(t, url, opts), MustOpen(t, url, opts)
	if err := second.CreateValue(t.Context(), "checkpoint", []byte("x")); !errors.Is(err, postgres.ErrNotLeader) {
		t.Fatalf("CreateValue before any lease: %v, want ErrNotLeader", err)
	}
	if ok, err := first.Lead(t.Context()); !ok || err != nil {
		t.Fatalf("first Lead: %v, %v; want the lease", ok, err)
	}
	if ok, err := second.Lead(t.Context()); ok || err != nil {
		t.Fatalf("second Lead while the first holds it: %v, %v; want false", ok, err)
	}
	if ok, err := first.Lead(t.Context()); !ok || err != nil {
		t.Fatalf("first Lead again: %v, %v; want still held", ok, err)
	}
	if err := first.CreateValue(t.Context(), "checkpoint", []byte("1")); err != nil {
		t.Fatalf("the leader's CreateValue: %v", err)
	}
	if err := second.SwapValue(t.Context(), "checkpoint", []byte("1"), []byte("2")); !errors.Is(err, postgres.ErrNotLeader) {
		t.Errorf("a follower's SwapValue: %v, want ErrNotLeader", err)
	}
	if err := second.CreateValue(t.Context(), "other", []byte("o")); err != nil {
		t.Errorf("a follower's CreateValue of another value: %v", err)
	}
	for i, node := range []*postgres.DB{first, second} {
		if _, err := node.Append(t.Context(), []store.NewEntry{report(fmt.Sprintf("p%d", i), fmt.Sprintf("r%d", i), "a")}); err != nil {
			t.Fatalf("Append through node %d: %v", i, err)
		}
	}
	// Cut the leader's lock connection.
	raw := rawConn(t, url)
	tag, err := raw.Exec(t.Context(), `SELECT pg_terminate_backend(pid, 10000) FROM pg_locks
		WHERE locktype = 'advisory' AND granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`)
	if err != nil || tag.RowsAffected() != 1 {
		t.Fatalf("terminate the lock holder: %v, %v", tag, err)
	}
	if ok, err := second.Lead(t.Context()); !ok || err != nil {
		t.Fatalf("second Lead after the first's connection was cut: %v, %v; want the lease", ok, err)
	}
	if err := first.SwapValue(t.Context(), "checkpoint", []byte("1"), []byte("stale")); !errors.Is(err, postgres.ErrNotLeader) {
		t.Errorf("the deposed leader's SwapValue: %v, want ErrNotLeader", err)
	}
	if err := second.SwapValue(t.Context(), "checkpoint", []byte("1"), []byte("2")); err != nil {
		t.Errorf("the new leader's SwapValue: %v", err)
	}
	if ok, err := first.Lead(t.Context()); ok || err == nil {
		t.Errorf("the deposed leader's Lead: %v, %v; want false and its connection's error", ok, err)
	}
	if ok, err := first.Lead(t.Context()); ok || err != nil {
		t.Errorf("the deposed leader's next Lead: %v, %v; want false (the other holds it)", ok, err)
	}
	if err := second.Close(); err != nil {
		t.Fatal(err)
	}
	if ok, err := first.Lead(t.Context()); !ok || err != nil { // failover: the lease is free again
		t.Errorf("Lead after the leader closed: %v, %v; want the lease", ok, err)
	}
	if v, err := first.Value(t.Context(), "checkpoint"); err != nil || string(v) != "2" {
		t.Errorf("checkpoint %q, %v; want the new leader's 2", v, err)
	}
}

// TestWatch: a watcher hears the size of every append committed by any handle, in order, and
// starts with the size committed before it listened; a duplicate says nothing; a watcher whose
// connection is cut fails, and listening again catches up.
func TestWatch(t *testing.T) {
	url := pgtest.NewDatabase(t)
	a, b := MustOpen(t, url, postgres.Options{}), MustOpen(t, url, postgres.Options{})
	if _, err := a.Append(t.Context(), []store.NewEntry{report("p0", "r0", "a")}); err != nil {
		t.Fatal(err)
	}
	sizes := make(chan int64, 100)
	ctx, cancel := context.WithCancel(t.Context())
	watched := make(chan error, 1)
	go func() { watched <- b.Watch(ctx, func(n int64) { sizes <- n }) }()
	if n := <-sizes; n != 1 {
		t.Fatalf("first size %d, want 1 (committed before the watch)", n)
	}
	for i := 1; i <= 4; i++ {
		node := []*postgres.DB{a, b}[i%2]
		if _, err := node.Append(t.Context(), []store.NewEntry{report(fmt.Sprintf("p%d", i), fmt.Sprintf("r%d", i), "a")}); err != nil {
			t.Fatal(err)
		}
		if n := <-sizes; n != int64(i+1) {
			t.Fatalf("size after append %d: %d, want %d", i, n, i+1)
		}
	}
	if rs, err := a.Append(t.Context(), []store.NewEntry{report("p1", "r1", "a")}); err != nil || rs[0].Outcome != store.Duplicate {
		t.Fatalf("retry: %v %v", rs, err)
	}
	if _, err := a.Append(t.Context(), []store.NewEntry{report("p9", "r9", "a")}); err != nil {
		t.Fatal(err)
	}
	if n := <-sizes; n != 6 {
		t.Errorf("size after a duplicate and an append: %d, want 6 (a duplicate appends nothing, says nothing)", n)
	}

	// The listening connection cut: Watch fails; the appends made meanwhile are not heard, and
	// the next Watch starts with the size that includes them.
	raw := rawConn(t, url)
	if tag, err := raw.Exec(t.Context(), `SELECT pg_terminate_backend(pid, 10000) FROM pg_stat_activity
		WHERE application_name = 'caucus watch' AND datname = current_database()`); err != nil || tag.RowsAffected() != 1 {
		t.Fatalf("terminate the watch's connection: %v, %v", tag, err)
	}
	if err := <-watched; err == nil {
		t.Fatal("Watch returned nil after its connection was cut, want its error")
	}
	if _, err := a.Append(t.Context(), []store.NewEntry{report("p10", "r10", "a")}); err != nil {
		t.Fatal(err)
	}
	go func() { watched <- b.Watch(ctx, func(n int64) { sizes <- n }) }()
	if n := <-sizes; n != 7 {
		t.Errorf("first size after listening again: %d, want 7 (the append made while nobody listened)", n)
	}
	cancel()
	if err := <-watched; err != nil {
		t.Errorf("Watch after its context ended: %v, want nil", err)
	}
}

// TestAppendOnly tries UPDATE, DELETE and out-of-order INSERTs through a raw connection: the
// triggers and constraints refuse.
func TestAppendOnly(t *testing.T) {
	url := pgtest.NewDatabase(t)
	db := MustOpen(t, url, postgres.Options{})
	if rs, err := db.Append(t.Context(), []store.NewEntry{report("p1", "r1", "a")}); err != nil || rs[0].Outcome != store.Appended {
		t.Fatalf("Append: %v %v", rs, err)
	}
	if _, err := db.AddAudit(t.Context(), store.NewAudit{Actor: "x", Kind: store.AuditLogout}); err != nil {
		t.Fatal(err)
	}
	raw := rawConn(t, url)
	for _, q := range []string{
		`UPDATE entries SET body = '\x00' WHERE idx = 0`,
		`UPDATE entries SET status = 'certified'`,
		`DELETE FROM entries`,
		`TRUNCATE entries CASCADE`,
		`INSERT INTO entries (idx, kind, precinct_id, report_id, submitter, channel, received_at, body, leaf_hash, status)
		 VALUES (5, 'report', 'p', 'r9', 's', 'app', 0, '\x01', decode(repeat('00', 32), 'hex'), 'accepted')`,
		`UPDATE log_head SET size = 7`,
		`DELETE FROM log_head`,
		`UPDATE audit SET actor = 'y'`,
		`DELETE FROM audit`,
		`INSERT INTO precinct_state (precinct_id, status, counted_idx, reports, conflict, last_idx, updated_at)
		 VALUES ('p2', 'counted', 0, 1, false, 0, 0)`,
		`INSERT INTO settings (id, election_id, created_at) VALUES (2, 'other', 0)`,
		`INSERT INTO audit (at, actor, kind, detail) VALUES (0, 'x', 'logout', '[]')`,
	} {
		if _, err := raw.Exec(t.Context(), q); err == nil {
			t.Errorf("%s: succeeded, want refused", strings.Join(strings.Fields(q), " "))
		}
	}
	es, err := db.Entries(t.Context(), 0, 10)
	if err != nil || len(es) != 1 || string(es[0].Body) != string(report("p1", "r1", "a").Body) {
		t.Errorf("entries after the attempts: %+v, %v", es, err)
	}
	if n, err := db.Size(t.Context()); err != nil || n != 1 {
		t.Errorf("Size after the attempts = %d, %v; want 1", n, err)
	}
}

// TestSchemas: the URL's search_path names the schema a store lives in, so one database holds
// several elections' stores (the practice election's beside the election's), each its own log.
func TestSchemas(t *testing.T) {
	url := pgtest.NewDatabase(t)
	a := MustOpen(t, url+"&search_path=election", postgres.Options{})
	b := MustOpen(t, url+"&search_path=practice", postgres.Options{})
	for _, node := range []*postgres.DB{a, b} { // a lease of its own in each schema
		if ok, err := node.Lead(t.Context()); !ok || err != nil {
			t.Fatalf("Lead: %v, %v; want the schema's lease", ok, err)
		}
	}
	if _, err := a.InitSettings(t.Context(), "iowa-2020"); err != nil {
		t.Fatal(err)
	}
	if _, err := b.InitSettings(t.Context(), "iowa-2020-practice"); err != nil {
		t.Fatalf("the practice schema is bound to another election: %v", err)
	}
	if _, err := a.Append(t.Context(), []store.NewEntry{report("p1", "r1", "a")}); err != nil {
		t.Fatal(err)
	}
	if n, err := b.Size(t.Context()); err != nil || n != 0 {
		t.Errorf("practice log size %d, %v; want 0", n, err)
	}
	for _, bad := range []string{"Election", "a;b", "x,y"} {
		if _, err := postgres.Open(t.Context(), url+"&search_path="+bad, postgres.Options{}); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("search_path %q: %v, want ErrInvalid", bad, err)
		}
	}
}

func TestOpenBadURL(t *testing.T) {
	for _, u := range []string{"postgres://%zz", "port=notanumber"} {
		if _, err := postgres.Open(t.Context(), u, postgres.Options{}); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("Open(%q) = %v, want ErrInvalid", u, err)
		}
	}
}

// TestDurabilityRefused: a connection that would acknowledge commits before they are flushed
// (synchronous_commit off, here set by the URL for the store's sessions) is refused at Open.
func TestDurabilityRefused(t *testing.T) {
	url := pgtest.NewDatabase(t)
	db, err := postgres.Open(t.Context(), url+"&synchronous_commit=off", postgres.Options{})
	if err == nil {
		db.Close()
		t.Fatal("Open with synchronous_commit=off succeeded, want refused")
	}
	if !strings.Contains(err.Error(), "synchronous_commit=off") {
		t.Errorf("Open error %q does not name the setting", err)
	}
}

// TestIntegrityCheck: the check passes on a log with conflicts, corrections and reviews, and
// finds a precinct state that replaying the log does not give.
func TestIntegrityCheck(t *testing.T) {
	url := pgtest.NewDatabase(t)
	db := MustOpen(t, url, postgres.Options{})
	correction := store.NewEntry{Kind: store.KindCorrection, PrecinctID: "p1", Submitter: "ann",
		Channel: store.ChannelStaff, Body: []byte(`{"correction":1}`)}
	counts := int64(0)
	review := store.NewEntry{Kind: store.KindReview, PrecinctID: "p1", Submitter: "bob",
		Channel: store.ChannelStaff, Body: []byte(`{"review":1}`), Status: store.StatusCertified, Counts: &counts}
	flagged := report("p3", "r4", "d")
	flagged.Status = store.StatusUnderReview
	for _, batch := range [][]store.NewEntry{
		{report("p1", "r1", "a"), report("p1", "r2", "b"), report("p2", "r3", "c")},
		{correction, review, flagged},
	} {
		if _, err := db.Append(t.Context(), batch); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.IntegrityCheck(t.Context()); err != nil {
		t.Fatalf("a sound log: %v", err)
	}
	if _, err := rawConn(t, url).Exec(t.Context(), "UPDATE precinct_state SET reports = 7 WHERE precinct_id = 'p2'"); err != nil {
		t.Fatal(err)
	}
	if err := db.IntegrityCheck(t.Context()); err == nil || !strings.Contains(err.Error(), `"p2"`) {
		t.Errorf("a tampered state: %v, want an error naming p2", err)
	}
}

// TestStaffMigrate opens a database migrated before accounts had a second factor and sessions
// a last-seen time (0001 only): the account and the session read back as written, the session
// last seen when it was made.
func TestStaffMigrate(t *testing.T) {
	url := pgtest.NewDatabase(t)
	raw := rawConn(t, url)
	first, err := fs.ReadFile(postgres.Migrations(), "migrations/0001_init.sql")
	if err != nil {
		t.Fatal(err)
	}
	h, err := auth.HashSecret(auth.TokenParams(), "correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	id := auth.SessionID{9}
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{`CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY CHECK (version > 0), name TEXT NOT NULL, applied_at BIGINT NOT NULL)`, nil},
		{string(first), nil},
		{`INSERT INTO schema_migrations VALUES (1, '0001_init.sql', 0)`, nil},
		{`INSERT INTO staff (username, role, password_hash, disabled, created_at) VALUES ('ann', 'reviewer', $1, false, 1580770800000)`, []any{[]byte(h.Encoded())}},
		{`INSERT INTO sessions (token_hash, subject, role, created_at, expires_at) VALUES ($1, 'ann', 'reviewer', 1580770800000, 1580814000000)`, []any{id[:]}},
	} {
		if _, err := raw.Exec(t.Context(), q.sql, q.args...); err != nil {
			t.Fatalf("%.40s: %v", q.sql, err)
		}
	}
	db := MustOpen(t, url, postgres.Options{})
	if a, err := db.StaffAccount(t.Context(), "ann"); err != nil || a.Role != auth.RoleReviewer || a.PasswordHash.Encoded() != h.Encoded() ||
		!a.TOTPSecret.IsZero() || a.Created.UnixMilli() != 1580770800000 {
		t.Errorf("account after migration = %+v, %v", a, err)
	}
	if s, err := db.Session(t.Context(), id); err != nil || s.Username != "ann" || !s.LastSeen.Equal(s.Created) || s.Created.UnixMilli() != 1580770800000 {
		t.Errorf("session after migration = %+v, %v", s, err)
	}
}
