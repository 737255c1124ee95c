package sqlite_test

import (
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"caucus/internal/auth"
	"caucus/internal/store/sqlite"
	"caucus/internal/store/storetest"
)

func TestAuthConformance(t *testing.T) {
	dir := t.TempDir()
	storetest.RunAuth(t, func(t *testing.T, name string, now func() time.Time) storetest.AuthStore {
		return MustOpenDB(t, filepath.Join(dir, name+".db"), now)
	})
}

// TestCredentialsMigrate opens a database written before credentials had typed columns (the
// schema up to 0003, each credential one blob: the PIN's hash, a newline, the token's hash) and
// checks that every credential reads back as it was written, and that the first login
// attempts it already counted stay counted.
func TestCredentialsMigrate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "caucus.db")
	raw := oldDatabase(t, path)
	var err error
	hashes := map[string][2]auth.Hash{}
	for _, p := range []string{"polk-1", "story-2"} {
		var pair [2]auth.Hash
		for i := range pair {
			if pair[i], err = auth.HashSecret(auth.TokenParams(), p+"-secret-"+string(rune('a'+i))); err != nil {
				t.Fatal(err)
			}
		}
		hashes[p] = pair
		blob := []byte(pair[0].Encoded() + "\n" + pair[1].Encoded())
		if _, err := raw.Exec(`INSERT INTO credentials (precinct_id, hash, created_at) VALUES (?, ?, 1580770800000)`, p, blob); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := raw.Exec(`INSERT INTO counters (key, count, last_at) VALUES ('precinct/polk-1', 3, 1580770800000)`); err != nil {
		t.Fatal(err)
	}
	raw.Close()

	db := MustOpenDB(t, path, nil)
	for p, pair := range hashes {
		c, err := db.PrecinctCredential(t.Context(), p)
		if err != nil || c.PrecinctID != p || c.PINHash.Encoded() != pair[0].Encoded() || c.TokenHash.Encoded() != pair[1].Encoded() {
			t.Errorf("%s after the migration: differs (%v)", p, err)
		}
	}
	if c, err := db.Throttle(t.Context(), "precinct/polk-1"); err != nil || c.Count != 3 {
		t.Errorf("counter after the migration = %+v, %v; want 3", c, err)
	}
}

// TestCredentialsMigrateRefusesGarbage: a stored blob that is not two hashes stops the
// migration (and so Open) instead of being dropped.
func TestCredentialsMigrateRefusesGarbage(t *testing.T) {
	path := filepath.Join(t.TempDir(), "caucus.db")
	raw := oldDatabase(t, path)
	if _, err := raw.Exec(`INSERT INTO credentials (precinct_id, hash, created_at) VALUES ('p1', x'6e6f742061206861736821', 0)`); err != nil {
		t.Fatal(err)
	}
	raw.Close()
	if db, err := sqlite.Open(t.Context(), path, sqlite.Options{}); err == nil {
		db.Close()
		t.Fatal("Open migrated a credential that is not two hashes, want refused")
	}
}

// TestCredentialGarbage: a stored hash that does not parse is an internal error, never
// ErrNotFound (which would answer like an unknown precinct).
func TestCredentialGarbage(t *testing.T) {
	path := filepath.Join(t.TempDir(), "caucus.db")
	db := MustOpenDB(t, path, nil)
	raw, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.Exec(`INSERT INTO credentials (precinct_id, pin_hash, token_hash, created_at)
		VALUES ('p3', 'not a hash', 'nor this', 0)`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.PrecinctCredential(t.Context(), "p3"); err == nil || errors.Is(err, auth.ErrNotFound) {
		t.Errorf("PrecinctCredential(garbage) = %v, want an internal error", err)
	}
	if _, err := raw.Exec(`INSERT INTO staff (username, role, password_hash, disabled, created_at)
		VALUES ('eve', 'admin', x'00', 0, 0)`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.StaffAccount(t.Context(), "eve"); err == nil || errors.Is(err, auth.ErrNotFound) {
		t.Errorf("StaffAccount(garbage) = %v, want an internal error", err)
	}
}

// oldDatabase creates at path a database as a binary of migration 0003 left it, and returns a
// raw handle on it.
func oldDatabase(t *testing.T, path string) *sql.DB {
	t.Helper()
	raw, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	old, err := filepath.Glob("migrations/000[123]_*.sql")
	if err != nil || len(old) != 3 {
		t.Fatalf("migrations 0001–0003: %v, %v", old, err)
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
	return raw
}

// TestStaffMigrate opens a database written before accounts had a second factor and sessions a
// last-seen time: the account and the session read back as written, the session last seen
// when it was made, and the new role (certifier) can be stored.
func TestStaffMigrate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "caucus.db")
	raw := oldDatabase(t, path)
	h, err := auth.HashSecret(auth.TokenParams(), "correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	id := auth.SessionID{9}
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{`INSERT INTO staff (username, role, password_hash, disabled, created_at) VALUES ('ann', 'reviewer', ?, 0, 1580770800000)`, []any{[]byte(h.Encoded())}},
		{`INSERT INTO sessions (token_hash, subject, role, created_at, expires_at) VALUES (?, 'ann', 'reviewer', 1580770800000, 1580814000000)`, []any{id[:]}},
	} {
		if _, err := raw.Exec(q.sql, q.args...); err != nil {
			t.Fatal(err)
		}
	}
	raw.Close()
	db := MustOpenDB(t, path, time.Now)
	if a, err := db.StaffAccount(t.Context(), "ann"); err != nil || a.Role != auth.RoleReviewer || a.PasswordHash.Encoded() != h.Encoded() ||
		!a.TOTPSecret.IsZero() || a.Created.UnixMilli() != 1580770800000 {
		t.Errorf("account after migration = %+v, %v", a, err)
	}
	if s, err := db.Session(t.Context(), id); err != nil || s.Username != "ann" || !s.LastSeen.Equal(s.Created) || s.Created.UnixMilli() != 1580770800000 {
		t.Errorf("session after migration = %+v, %v", s, err)
	}
	if err := db.CreateStaff(t.Context(), auth.Actor{Name: "root", From: "test"}, auth.StaffAccount{Username: "cy",
		Role: auth.RoleCertifier, PasswordHash: h, TOTPSecret: auth.NewTOTPSecret("JBSWY3DPEHPK3PXP")}); err != nil {
		t.Errorf("CreateStaff(certifier) after migration: %v", err)
	}
}
