package sqlite_test

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"caucus/internal/hotline"
	"caucus/internal/store"
	"caucus/internal/store/sqlite"
	"caucus/internal/store/storetest"
)

// MustOpenDB opens the named database file in dir with the given clock, closing it at the end.
func MustOpenDB(tb testing.TB, path string, now func() time.Time) *sqlite.DB {
	tb.Helper()
	db, err := sqlite.Open(tb.Context(), path, sqlite.Options{Now: now})
	if err != nil {
		tb.Fatalf("open %s: %v", path, err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

func TestConformance(t *testing.T) {
	dir := t.TempDir()
	storetest.Run(t, func(t *testing.T, name string, now func() time.Time) store.Store {
		return MustOpenDB(t, filepath.Join(dir, name+".db"), now)
	})
}

// TestAppendOnly tries UPDATE and DELETE through a raw handle on the file: the triggers refuse.
func TestAppendOnly(t *testing.T) {
	path := filepath.Join(t.TempDir(), "caucus.db")
	db := MustOpenDB(t, path, nil)
	rs, err := db.Append(t.Context(), []store.NewEntry{{Kind: store.KindReport, PrecinctID: "p1",
		ReportID: "r1", Submitter: "p1", Channel: store.ChannelApp, Body: []byte(`{}`),
		Status: store.StatusAccepted}})
	if err != nil || rs[0].Outcome != store.Appended {
		t.Fatalf("Append: %v %v", rs, err)
	}
	if _, err := db.AddAudit(t.Context(), store.NewAudit{Actor: "x", Kind: store.AuditLogout}); err != nil {
		t.Fatal(err)
	}
	raw, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	for _, q := range []string{
		`UPDATE entries SET body = x'00' WHERE idx = 0`,
		`UPDATE entries SET status = 'certified'`,
		`DELETE FROM entries`,
		`INSERT INTO entries (idx, kind, precinct_id, report_id, submitter, channel, received_at, body, leaf_hash, status)
		 VALUES (5, 'report', 'p', 'r9', 's', 'app', 0, x'01', zeroblob(32), 'accepted')`,
		`UPDATE audit SET actor = 'y'`,
		`DELETE FROM audit`,
		`INSERT INTO precinct_state (precinct_id, status, counted_idx, reports, conflict, last_idx, updated_at)
		 VALUES ('p2', 'counted', 0, 1, 0, 0, 0)`,
		`INSERT INTO settings (id, election_id, created_at) VALUES (2, 'other', 0)`,
	} {
		if _, err := raw.ExecContext(t.Context(), q); err == nil {
			t.Errorf("%s: succeeded, want refused", strings.Join(strings.Fields(q), " "))
		}
	}
	es, err := db.Entries(t.Context(), 0, 10)
	if err != nil || len(es) != 1 || string(es[0].Body) != `{}` {
		t.Errorf("entries after the attempts: %+v, %v", es, err)
	}
}

// TestDurabilitySettings reads back what Open promised (spec/reliability.md D5).
func TestDurabilitySettings(t *testing.T) {
	path := filepath.Join(t.TempDir(), "caucus.db")
	MustOpenDB(t, path, nil)
	raw, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	var mode string
	if err := raw.QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		t.Errorf("journal_mode = %q, %v; want wal (persistent in the file)", mode, err)
	}
	var version int
	if err := raw.QueryRow("SELECT max(version) FROM schema_migrations").Scan(&version); err != nil || version != migrationFiles(t) {
		t.Errorf("schema version = %d, %v; want %d", version, err, migrationFiles(t))
	}
	var ok string
	if err := raw.QueryRow("PRAGMA integrity_check").Scan(&ok); err != nil || ok != "ok" {
		t.Errorf("integrity_check = %q, %v", ok, err)
	}
}

// migrationFiles is how many migrations the package embeds.
func migrationFiles(t *testing.T) int {
	names, err := filepath.Glob("migrations/*.sql")
	if err != nil || len(names) == 0 {
		t.Fatalf("no migrations: %v", err)
	}
	return len(names)
}

// TestMigrations: reopening applies nothing twice, and a file from a newer binary is refused.
func TestMigrations(t *testing.T) {
	path := filepath.Join(t.TempDir(), "caucus.db")
	db := MustOpenDB(t, path, nil)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db = MustOpenDB(t, path, nil) // 0001 and 0002 already applied: must not run again
	db.Close()
	raw, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	var n int
	if err := raw.QueryRow("SELECT count(*) FROM schema_migrations").Scan(&n); err != nil || n != migrationFiles(t) {
		t.Fatalf("%d migrations recorded, %v; want %d", n, err, migrationFiles(t))
	}
	if _, err := raw.Exec("INSERT INTO schema_migrations (version, name, applied_at) VALUES (99, '0099_future.sql', 0)"); err != nil {
		t.Fatal(err)
	}
	if db, err := sqlite.Open(t.Context(), path, sqlite.Options{}); err == nil {
		db.Close()
		t.Fatal("Open of a newer schema succeeded, want refused")
	} else if !strings.Contains(err.Error(), "newer") {
		t.Errorf("Open error %q does not say the schema is newer", err)
	}
}

func TestOpenBadPath(t *testing.T) {
	for _, p := range []string{"", "a?mode=memory", "b#c"} {
		if _, err := sqlite.Open(t.Context(), p, sqlite.Options{}); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("Open(%q) = %v, want ErrInvalid", p, err)
		}
	}
}

// TestFileModes: a new database and the -wal and -shm files SQLite makes beside it are 0600
// (they hold credential hashes, sessions and phone numbers); an older database made 0644 is
// made 0600 when it is opened.
func TestFileModes(t *testing.T) {
	ctx := context.Background()
	files := func(path string) []string { return []string{path, path + "-wal", path + "-shm"} }
	check := func(path string) {
		t.Helper()
		for _, p := range files(path) {
			st, err := os.Stat(p)
			if err != nil {
				t.Fatal(err)
			}
			if perm := st.Mode().Perm(); perm != 0o600 {
				t.Errorf("%s: mode %04o, want 0600", filepath.Base(p), perm)
			}
		}
	}
	fresh := filepath.Join(t.TempDir(), "fresh.db")
	db, err := sqlite.Open(ctx, fresh, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.AddAudit(ctx, store.NewAudit{Actor: "t", Kind: store.AuditLogKeyCreated, Detail: []byte(`{}`)}); err != nil {
		t.Fatal(err)
	}
	check(fresh)
	db.Close()

	old := filepath.Join(t.TempDir(), "old.db")
	if err := os.WriteFile(old, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(old, 0o644); err != nil { // whatever the umask
		t.Fatal(err)
	}
	db, err = sqlite.Open(ctx, old, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.AddAudit(ctx, store.NewAudit{Actor: "t", Kind: store.AuditLogKeyCreated, Detail: []byte(`{}`)}); err != nil {
		t.Fatal(err)
	}
	check(old)
}

// The SQLite store serves the hotline's interface directly.
var _ hotline.Store = (*sqlite.DB)(nil)

func TestHotlineConformance(t *testing.T) {
	dir := t.TempDir()
	storetest.RunHotline(t, func(t *testing.T, name string, now func() time.Time) storetest.HotlineStore {
		return MustOpenDB(t, filepath.Join(dir, name+".db"), now)
	})
}
