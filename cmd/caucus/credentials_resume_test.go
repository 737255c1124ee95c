package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"caucus/internal/auth"
	"caucus/internal/server/servertest"
)

// TestCredentialsResume: an issuance that stopped after its first precincts were stored
// (the later ones still hold an older issuance's credentials) is finished by
// "caucus credentials --resume": it keeps the secrets already written, finds the stored
// prefix, hashes only the rest, and afterwards every precinct's stored hashes match the
// secrets in --out.
func TestCredentialsResume(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	def := servertest.Definition(t, 6)
	electionDir := filepath.Join(dir, "election")
	if err := def.Write(electionDir); err != nil {
		t.Fatal(err)
	}
	dbURL := "sqlite:" + filepath.Join(dir, "caucus.db")
	out := filepath.Join(dir, "secrets")
	db, err := openDB(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := issueCredentials(ctx, def, db, out, "http://127.0.0.1/", io.Discard); err != nil {
		t.Fatal(err)
	}
	// Precincts 3, 4, 5 still have an older issuance's credentials, as if the run stopped
	// after storing the first three.
	ids := make([]string, len(def.Precincts()))
	for i, p := range def.Precincts() {
		ids[i] = p.ID
	}
	older, err := auth.GeneratePrecinctSecrets(ids[3:])
	if err != nil {
		t.Fatal(err)
	}
	olderCreds, err := auth.HashPrecinctSecrets(ctx, older, auth.TokenParams())
	if err != nil {
		t.Fatal(err)
	}
	if err := db.PutPrecinctCredentials(ctx, "system", olderCreds); err != nil {
		t.Fatal(err)
	}
	db.Close()
	pinsBefore, err := os.ReadFile(filepath.Join(out, "pins.csv"))
	if err != nil {
		t.Fatal(err)
	}

	var stdout, stderr bytes.Buffer
	if code := (&Main{}).Run(ctx, []string{"credentials", "--election", electionDir, "--db", dbURL, "--out", out, "--resume"},
		nil, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d\n%s%s", code, stdout.String(), stderr.String())
	}
	t.Logf("%s", stdout.String())
	if !strings.Contains(stdout.String(), "resuming: 3 of 6 precincts already stored") ||
		!strings.Contains(stdout.String(), "hashing 3 precinct credentials") {
		t.Errorf("the resumed run did not find the stored prefix of 3, or hashed more than the rest")
	}
	pinsAfter, err := os.ReadFile(filepath.Join(out, "pins.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(pinsBefore, pinsAfter) {
		t.Error("--resume rewrote the secrets")
	}
	secrets, err := readIssuedSecrets(filepath.Join(out, "logins.csv"), ids)
	if err != nil {
		t.Fatal(err)
	}
	db, err = openDB(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, s := range secrets {
		cred, err := db.PrecinctCredential(ctx, s.PrecinctID)
		if err != nil {
			t.Fatal(err)
		}
		pinOK, err1 := cred.PINHash.Matches(s.PIN.Reveal())
		tokOK, err2 := cred.TokenHash.Matches(s.Token.Reveal())
		if !pinOK || !tokOK || err1 != nil || err2 != nil {
			t.Errorf("precinct %s: stored hashes match the written PIN %v, token %v (%v, %v)", s.PrecinctID, pinOK, tokOK, err1, err2)
		}
	}
	if n, err := storedPrefix(ctx, db, secrets); err != nil || n != len(secrets) {
		t.Errorf("storedPrefix after the resumed run = %d, %v; want all %d", n, err, len(secrets))
	}
}
