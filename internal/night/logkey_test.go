package night_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"

	"caucus/internal/night"
	"caucus/internal/server/servertest"
	"caucus/internal/store/sqlite"
	"caucus/internal/tlog"
	"caucus/internal/tlog/c2sp"
)

// keyInFiles says whether any of the database's files holds secret's bytes.
func keyInFiles(t *testing.T, dbPath, secret string) []string {
	t.Helper()
	var in []string
	for _, p := range []string{dbPath, dbPath + "-wal", dbPath + "-shm"} {
		b, err := os.ReadFile(p)
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		if bytes.Contains(b, []byte(secret)) {
			in = append(in, filepath.Base(p))
		}
	}
	return in
}

// secretPart is the private half of a note signer key ("PRIVATE+KEY+name+hash+key"): the
// bytes that must not be in the database. The key is base64, which may itself hold '+', so it is
// everything after the fourth '+' (the name, an origin, holds none), never a short tail that
// could turn up in a database file by chance.
func secretPart(key string) string {
	parts := strings.SplitN(key, "+", 5)
	if len(parts) != 5 || len(parts[4]) < 40 {
		panic("not a note signer key: " + key)
	}
	return parts[4]
}

// openKeyed opens a night on dbPath with cfg's key settings, signs a checkpoint and closes it,
// returning its verifier key.
func openKeyed(t *testing.T, dbPath string, cfg night.Config) (string, error) {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, dbPath, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	cfg.Def, cfg.Store = servertest.Definition(t, 4), db
	n, err := night.Open(ctx, cfg)
	if err != nil {
		return "", err
	}
	if err := n.SignCheckpoint(ctx); err != nil {
		t.Fatal(err)
	}
	return n.VerifierKey(), nil
}

// TestLogKeyFile: a new election's log key is created in its own file, 0600, and never in the
// database; the next start signs with the same key.
func TestLogKeyFile(t *testing.T) {
	dir := t.TempDir()
	dbPath, keyPath := filepath.Join(dir, "caucus.db"), filepath.Join(dir, "caucus.log-key")
	vkey, err := openKeyed(t, dbPath, night.Config{LogKeyFile: keyPath})
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(keyPath)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v, %v", st, err)
	}
	b, _ := os.ReadFile(keyPath)
	key := strings.TrimSpace(string(b))
	if in := keyInFiles(t, dbPath, secretPart(key)); in != nil {
		t.Errorf("the key's bytes are in %v", in)
	}
	again, err := openKeyed(t, dbPath, night.Config{LogKeyFile: keyPath})
	if err != nil || again != vkey {
		t.Errorf("second start: key %q, %v; want %q", again, err, vkey)
	}
	// A key file others may read is refused; so is a lost key file once checkpoints exist.
	os.Chmod(keyPath, 0o644)
	if _, err := openKeyed(t, dbPath, night.Config{LogKeyFile: keyPath}); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Errorf("key file 0644: %v", err)
	}
	os.Remove(keyPath)
	if _, err := openKeyed(t, dbPath, night.Config{LogKeyFile: keyPath}); err == nil || !strings.Contains(err.Error(), "restore the file") {
		t.Errorf("lost key file: %v", err)
	}
	if _, err := os.Stat(keyPath); !os.IsNotExist(err) {
		t.Errorf("a new key file was made for a log signed with another: %v", err)
	}
}

// TestLogKeyMigration: a database of the earlier kind, holding its log key, hands the key to
// the file once (same verifier key, so the published checkpoints still verify) and no longer
// holds its bytes in any of its files.
func TestLogKeyMigration(t *testing.T) {
	dir := t.TempDir()
	dbPath, keyPath := filepath.Join(dir, "caucus.db"), filepath.Join(dir, "caucus.log-key")
	vkey, err := openKeyed(t, dbPath, night.Config{}) // the key in the store, as before
	if err != nil {
		t.Fatal(err)
	}
	db, err := sqlite.Open(context.Background(), dbPath, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	stored, err := db.Value(context.Background(), tlog.KeyValue)
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	if in := keyInFiles(t, dbPath, secretPart(string(stored))); in == nil {
		t.Fatal("the old-style database does not hold its key: the test proves nothing")
	}
	moved, err := openKeyed(t, dbPath, night.Config{LogKeyFile: keyPath})
	if err != nil || moved != vkey {
		t.Fatalf("after the move: key %q, %v; want %q", moved, err, vkey)
	}
	b, _ := os.ReadFile(keyPath)
	if strings.TrimSpace(string(b)) != string(stored) {
		t.Errorf("the file holds another key")
	}
	if in := keyInFiles(t, dbPath, secretPart(string(stored))); in != nil {
		t.Errorf("after the move the key's bytes are still in %v", in)
	}
	if again, err := openKeyed(t, dbPath, night.Config{LogKeyFile: keyPath}); err != nil || again != vkey {
		t.Errorf("next start: %q, %v", again, err)
	}
}

// TestLogKeyEnvironment: a key given directly (caucus serve reads it from CAUCUS_LOG_KEY) signs
// the log, and no file or database copy is made; a key for another election is refused.
func TestLogKeyEnvironment(t *testing.T) {
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "caucus.db")
	skey, vkey, err := note.GenerateKey(rand.Reader, c2sp.Origin("test-2020"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := openKeyed(t, dbPath, night.Config{LogKey: skey, LogKeyFile: filepath.Join(dir, "unused")})
	if err != nil || got != vkey {
		t.Fatalf("key %q, %v; want %q", got, err, vkey)
	}
	if in := keyInFiles(t, dbPath, secretPart(skey)); in != nil {
		t.Errorf("the key's bytes are in %v", in)
	}
	if _, err := os.Stat(filepath.Join(dir, "unused")); !os.IsNotExist(err) {
		t.Errorf("a key file was written: %v", err)
	}
	other, _, _ := note.GenerateKey(rand.Reader, c2sp.Origin("another-election"))
	if _, err := openKeyed(t, filepath.Join(dir, "other.db"), night.Config{LogKey: other}); err == nil {
		t.Error("a key for another election was taken")
	}
}
