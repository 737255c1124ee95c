package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"time"

	"caucus/internal/auth"
	"caucus/internal/election"
)

const credentialsHelp = `Usage: caucus credentials --election DIR --db URL --out DIR [--base-url URL]

Issues a fresh secret for every precinct of the election: a PIN with a check digit (12 digits
for up to 2,000 precincts, 13 up to 20,000, 14 up to 200,000) and a long token for the QR code
on the precinct packet. Only their argon2id hashes are stored in the
database; the secrets are written once, to --out:

	pins.csv          precinct_id,pin
	logins.csv        precinct_id,county,precinct,pin,login_url
	sheets/COUNTY.html  a printable page per county: each precinct's QR code and PIN

Issuing again replaces every precinct's secret (old packets stop working). Keep --out safe.

Flags:
	--election DIR   the election definition folder (election.json, counties.csv, precincts.csv)
	--db URL         sqlite:PATH or postgres://USER@HOST:PORT/DB (the server's database)
	--out DIR        where to write the secrets
	--base-url URL   the address chairs open (default http://127.0.0.1:8080/)
`

func runCredentials(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlags("credentials")
	dir := fs.String("election", "", "")
	dbURL := fs.String("db", "", "")
	out := fs.String("out", "", "")
	base := fs.String("base-url", "http://127.0.0.1:8080/", "")
	if err := parseFlags(fs, args, credentialsHelp, stdout); err != nil {
		return err
	}
	if *dir == "" || *dbURL == "" || *out == "" || fs.NArg() > 0 {
		return &usageError{err: errors.New("caucus credentials needs --election, --db and --out"), hint: `run "caucus credentials --help"`}
	}
	def, err := election.LoadDir(*dir)
	if err != nil {
		return &hintError{err: err, hint: "fix the election folder and run again"}
	}
	db, err := openDB(ctx, *dbURL)
	if err != nil {
		return err
	}
	defer db.Close()
	n, err := issueCredentials(ctx, def, db, *out, *base, stdout)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "issued %d precinct credentials; secrets written to %s\n", n, *out)
	return nil
}

var _ = flag.ErrHelp

// issueCredentials generates, hashes and stores a secret per precinct and writes the sheets.
func issueCredentials(ctx context.Context, def *election.Definition, st auth.Store, out, base string, progress io.Writer) (int, error) {
	precincts := def.Precincts()
	ids := make([]string, len(precincts))
	for i, p := range precincts {
		ids[i] = p.ID
	}
	secrets, err := auth.GeneratePrecinctSecrets(ids)
	if err != nil {
		return 0, err
	}
	creds, err := hashWithProgress(ctx, secrets, progress)
	if err != nil {
		return 0, err
	}
	// Write the secrets first: if that fails, nothing stored refers to secrets nobody has.
	cards := make([]Card, len(secrets))
	for i, s := range secrets {
		county, _ := def.CountyOf(s.PrecinctID)
		cards[i] = Card{County: county.Name, Name: precincts[i].Name, Secret: s}
	}
	if err := os.MkdirAll(filepath.Join(out, "sheets"), 0o700); err != nil {
		return 0, err
	}
	var pins, logins bytes.Buffer
	if err := WritePINsCSV(&pins, secrets); err != nil {
		return 0, err
	}
	if err := WriteLoginsCSV(&logins, base, cards); err != nil {
		return 0, err
	}
	files := map[string][]byte{"pins.csv": pins.Bytes(), "logins.csv": logins.Bytes()}
	for _, sheet := range CountySheets(cards) {
		var b bytes.Buffer
		if err := WriteCountySheet(&b, base, sheet); err != nil {
			return 0, err
		}
		files[filepath.Join("sheets", slug(sheet.County)+".html")] = b.Bytes()
	}
	for name, data := range files {
		if err := writeFileAtomic(filepath.Join(out, name), data, 0o600); err != nil {
			return 0, err
		}
	}
	if err := st.PutPrecinctCredentials(ctx, "system", creds); err != nil {
		return 0, fmt.Errorf("store credentials: %w", err)
	}
	return len(creds), nil
}

// progressEvery is how often a long hashing says how far it is.
const progressEvery = 3 * time.Second

// hashWithProgress hashes the precincts' PINs and tokens (argon2id, deliberately slow: a minute
// or more for a state on a small machine) in chunks, and says every few seconds how many are
// done, so a first run is never silent.
func hashWithProgress(ctx context.Context, secrets []auth.PrecinctSecret, progress io.Writer) ([]auth.PrecinctCredential, error) {
	fmt.Fprintf(progress, "hashing %s precinct credentials with argon2id (once; %d cores)…\n", thousands(len(secrets)), runtime.GOMAXPROCS(0))
	chunk := 25 * runtime.GOMAXPROCS(0)
	start := time.Now()
	last := start
	creds := make([]auth.PrecinctCredential, 0, len(secrets))
	for i := 0; i < len(secrets); i += chunk {
		got, err := auth.HashPrecinctSecrets(ctx, secrets[i:min(i+chunk, len(secrets))], auth.DefaultParams())
		if err != nil {
			return nil, err
		}
		creds = append(creds, got...)
		if now := time.Now(); now.Sub(last) >= progressEvery || len(creds) == len(secrets) {
			last = now
			fmt.Fprintf(progress, "  hashed %s of %s PINs (%d s)\n", thousands(len(creds)), thousands(len(secrets)), int(now.Sub(start).Seconds()))
		}
	}
	return creds, nil
}

// thousands writes n with comma separators, as a person reads it: 1,765.
func thousands(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// writeFileAtomic writes a file through a temporary file, fsync and rename.
func writeFileAtomic(path string, data []byte, perm os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(perm); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
