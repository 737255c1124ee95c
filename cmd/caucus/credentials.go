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
	"sync"
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
	logins.csv        precinct_id,county,name,pin,login_url
	sheets/COUNTY.html  a printable page per county: each precinct's QR code and PIN

Issuing again replaces every precinct's secret (old packets stop working). Keep --out safe.

The hashing is deliberately slow (argon2id at the OWASP minimum, about 23 ms of CPU a PIN): it
runs on every core and stores the hashes as it goes, a batch at a time, saying how far it is
and how long is left. Two idle cores hash 43 precincts a second (two hashes at once run slower
than one alone): a national election (175,000 precincts) takes about 68 min there, and about
10 min on 16 cores. If it stops half way (a crash, Ctrl-C),
run it again with --resume: it reads the secrets back from --out, finds where the store stops
matching them, and hashes only the rest; the packets already written stay valid.

Flags:
	--election DIR   the election definition folder (election.json, counties.csv, precincts.csv)
	--db URL         sqlite:PATH or postgres://USER@HOST:PORT/DB (the server's database)
	--out DIR        where to write the secrets
	--base-url URL   the address chairs open (default http://127.0.0.1:8080/)
	--resume         finish an issuance that stopped: keep the secrets in --out, hash the rest
`

func runCredentials(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlags("credentials")
	dir := fs.String("election", "", "")
	dbURL := fs.String("db", "", "")
	out := fs.String("out", "", "")
	base := fs.String("base-url", "http://127.0.0.1:8080/", "")
	resume := fs.Bool("resume", false, "")
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
	n, err := issue(ctx, def, db, *out, *base, *resume, stdout)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "issued %d precinct credentials; secrets written to %s\n", n, *out)
	return nil
}

var _ = flag.ErrHelp

// issueCredentials generates, hashes and stores a secret per precinct and writes the sheets.
func issueCredentials(ctx context.Context, def *election.Definition, st auth.Store, out, base string, progress io.Writer) (int, error) {
	return issue(ctx, def, st, out, base, false, progress)
}

// issue is issueCredentials, or with resume the end of one that stopped: the secrets are read
// back from out (logins.csv), and only the precincts after the last stored batch are hashed.
func issue(ctx context.Context, def *election.Definition, st auth.Store, out, base string, resume bool, progress io.Writer) (int, error) {
	precincts := def.Precincts()
	ids := make([]string, len(precincts))
	for i, p := range precincts {
		ids[i] = p.ID
	}
	var secrets []auth.PrecinctSecret
	var err error
	if resume {
		if secrets, err = readIssuedSecrets(filepath.Join(out, "logins.csv"), ids); err != nil {
			return 0, &hintError{err: err, hint: "--resume finishes an issuance into the same --out for the same election; without it, issue afresh"}
		}
	} else {
		if secrets, err = auth.GeneratePrecinctSecrets(ids); err != nil {
			return 0, err
		}
		// Write the secrets first: if that fails, nothing stored refers to secrets nobody has.
		if err := writeSecrets(def, secrets, out, base, progress); err != nil {
			return 0, err
		}
	}
	from := 0
	if resume {
		if from, err = storedPrefix(ctx, st, secrets); err != nil {
			return 0, err
		}
		fmt.Fprintf(progress, "resuming: %s of %s precincts already stored\n", thousands(from), thousands(len(secrets)))
	}
	err = hashWithProgress(ctx, secrets[from:], progress, func(creds []auth.PrecinctCredential) error {
		if err := st.PutPrecinctCredentials(ctx, "system", creds); err != nil {
			return fmt.Errorf("store credentials: %w", err)
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return len(secrets), nil
}

// writeSecrets writes a printable sheet per county, then pins.csv and logins.csv, to out. The
// sheets (a QR code per precinct) are drawn on every core and each written as soon as it is
// drawn, so a nation's 175,000 cards never sit in memory at once; logins.csv comes last, so
// that its presence means every file of the issuance is written (--resume reads it).
func writeSecrets(def *election.Definition, secrets []auth.PrecinctSecret, out, base string, progress io.Writer) error {
	precincts := def.Precincts()
	cards := make([]Card, len(secrets))
	for i, s := range secrets {
		county, _ := def.CountyOf(s.PrecinctID)
		cards[i] = Card{County: county.Name, Name: precincts[i].Name, Secret: s}
	}
	if err := os.MkdirAll(filepath.Join(out, "sheets"), 0o700); err != nil {
		return err
	}
	sheets := CountySheets(cards)
	fmt.Fprintf(progress, "writing %s county sheets of QR codes to %s…\n", thousands(len(sheets)), filepath.Join(out, "sheets"))
	next := make(chan CountySheet)
	errs := make(chan error, runtime.GOMAXPROCS(0))
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			var err error
			for sheet := range next {
				if err != nil {
					continue // drain: another sheet failed
				}
				var b bytes.Buffer
				if err = WriteCountySheet(&b, base, sheet); err == nil {
					err = writeFileAtomic(filepath.Join(out, "sheets", slug(sheet.County)+".html"), b.Bytes(), 0o600)
				}
			}
			errs <- err
		})
	}
	for _, sheet := range sheets {
		next <- sheet
	}
	close(next)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			return err
		}
	}
	var pins, logins bytes.Buffer
	if err := WritePINsCSV(&pins, secrets); err != nil {
		return err
	}
	if err := WriteLoginsCSV(&logins, base, cards); err != nil {
		return err
	}
	if err := writeFileAtomic(filepath.Join(out, "pins.csv"), pins.Bytes(), 0o600); err != nil {
		return err
	}
	return writeFileAtomic(filepath.Join(out, "logins.csv"), logins.Bytes(), 0o600)
}

// progressEvery is how often a long hashing says how far it is.
const progressEvery = 3 * time.Second

// hashWithProgress hashes the precincts' PINs and tokens (argon2id, deliberately slow: a minute
// or more for a state on a small machine, an hour for a nation on 2 cores) on every core in chunks,
// hands each chunk's credentials to store in order as soon as it is hashed (so a run that
// stops loses one chunk, and --resume finds a prefix stored), and says every few seconds how
// many are done and how long is left, so a long run is never silent.
func hashWithProgress(ctx context.Context, secrets []auth.PrecinctSecret, progress io.Writer, store func([]auth.PrecinctCredential) error) error {
	fmt.Fprintf(progress, "hashing %s precinct credentials with argon2id (once; %d cores)…\n", thousands(len(secrets)), runtime.GOMAXPROCS(0))
	chunk := 25 * runtime.GOMAXPROCS(0)
	start := time.Now()
	last := start
	done := 0
	for i := 0; i < len(secrets); i += chunk {
		got, err := auth.HashPrecinctSecrets(ctx, secrets[i:min(i+chunk, len(secrets))], auth.DefaultParams())
		if err != nil {
			return err
		}
		if err := store(got); err != nil {
			return err
		}
		done += len(got)
		if now := time.Now(); now.Sub(last) >= progressEvery || done == len(secrets) {
			last = now
			took := now.Sub(start)
			fmt.Fprintf(progress, "  hashed %s of %s PINs (%d s, %.0f a second", thousands(done), thousands(len(secrets)), int(took.Seconds()), float64(done)/took.Seconds())
			if left := len(secrets) - done; left > 0 {
				fmt.Fprintf(progress, ", about %s left", (took * time.Duration(left) / time.Duration(done)).Round(time.Second))
			}
			fmt.Fprintln(progress, ")")
		}
	}
	return nil
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
