package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"time"

	"caucus/internal/client"
	"caucus/internal/election"
	"caucus/internal/hq"
)

const demoHelp = `Usage: caucus demo [--addr 127.0.0.1:8080] [--data DIR]
	[--tls-cert FILE --tls-key FILE | --acme-host NAME [--acme-cache DIR]]

Starts a full caucus-night server on the embedded database with a ready election: the 2020 Iowa
Democratic structure (its 99 counties and 5 satellite groups, all 1,765 precincts and satellites
with their delegates, the 2020 candidates), and a practice election over the same precincts with
fictional candidates, served under /practice with the same credentials. Chairs report with the
app at /; the public follows the results at /results.

The first run writes, under DIR (default ./caucus-demo):
	election/, practice/      the election definitions (usable with "caucus serve")
	caucus.db, caucus-practice.db   the databases
	caucus.log-key, caucus-practice.log-key   the logs' signing keys (0600)
	credentials/pins.csv      precinct_id,pin for every precinct (and logins.csv, sheets/)
	credentials/staff.csv     the headquarters staff accounts, one per role and three operators
	                          and two reviewers: user,role,password,totp_secret (0600)
	contacts.csv              made-up chairs' names and 555 phone numbers, for headquarters' board
Run again on the same DIR, it resumes that election, its credentials and its staff accounts.
Headquarters staff log in at /hq/login (admin and certifier with a TOTP code of their
totp_secret, from any authenticator app).
PIN login to the election is open from an hour before the start for a day (as caucus serve
--live-window would set it); the practice election and the QR login links work at any time.

Flags:
	--addr HOST:PORT  where to listen (default 127.0.0.1:8080)
	--data DIR        where the demo keeps its files (default ./caucus-demo)
` + tlsHelp

func runDemo(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlags("demo")
	addr := fs.String("addr", "127.0.0.1:8080", "")
	dir := fs.String("data", "caucus-demo", "")
	var tf tlsFlags
	tf.register(fs)
	if err := parseFlags(fs, args, demoHelp, stdout); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return &usageError{err: fmt.Errorf("unexpected argument %q", fs.Arg(0)), hint: `run "caucus demo --help"`}
	}
	tlsConfig, err := tf.config()
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return &hintError{err: err, hint: "another program uses that address: choose another with --addr"}
	}
	// The QR login links on the sheets point where the phones will find the server.
	base := "http://" + ln.Addr().String() + "/"
	switch {
	case tf.acmeHost != "":
		base = "https://" + tf.acmeHost + "/"
	case tlsConfig != nil:
		base = "https://" + ln.Addr().String() + "/"
	}
	def, practice, dbURL, err := prepareDemo(ctx, *dir, base, stdout)
	if err != nil {
		ln.Close()
		return err
	}
	staffCSV, err := prepareDemoStaff(ctx, dbURL, filepath.Join(*dir, "credentials"))
	if err != nil {
		ln.Close()
		return err
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	// The demo's night is now: PIN login is open from an hour ago for a day, so the live
	// window is exercised as on a real night.
	now := time.Now()
	opts := serveOptions{liveOpens: now.Add(-time.Hour), liveCloses: now.Add(24 * time.Hour), tls: tlsConfig}
	return serve(ctx, ln, def, practice, dbURL, log, opts, func(url string) {
		e := def.Election()
		fmt.Fprintf(stdout, "\ncaucus demo: %s (%d precincts), rules %s\n", e.Name, len(def.Precincts()), e.Rules)
		fmt.Fprintf(stdout, "  chair app     %s   (practice: %spractice/)\n", url, url)
		fmt.Fprintf(stdout, "  public site   %sresults   (map: %sresults/map, newsrooms: %sapi)\n", url, url, url)
		fmt.Fprintf(stdout, "  results       %sapi/v1/results\n", url)
		fmt.Fprintf(stdout, "  counties      %sapi/v1/results/counties\n", url)
		fmt.Fprintf(stdout, "  results CSV   %sapi/v1/results.csv\n", url)
		fmt.Fprintf(stdout, "  live events   %sapi/v1/events\n", url)
		fmt.Fprintf(stdout, "  login         POST %sapi/v1/login {\"precinct_id\", \"pin\"}\n", url)
		fmt.Fprintf(stdout, "  report        POST %sapi/v1/reports (Authorization: Bearer <token>)\n", url)
		fmt.Fprintf(stdout, "  practice      %spractice/api/v1/results (PRACTICE, same PINs)\n", url)
		fmt.Fprintf(stdout, "  health        %shealthz   (metrics: caucus serve --metrics-addr)\n", url)
		if c, err := client.New(url, nil); err == nil {
			if r, err := c.Results(ctx); err == nil {
				fmt.Fprintf(stdout, "  log key       %s\n", r.LogPublicKey)
				fmt.Fprintf(stdout, "  verify        caucus verify --url %s --key %s\n", url, r.LogPublicKey)
			}
		}
		fmt.Fprintf(stdout, "  chairs' PINs  %s\n", filepath.Join(*dir, "credentials", "pins.csv"))
		fmt.Fprintf(stdout, "  headquarters  %shq/login   (staff accounts: %s)\n", url, staffCSV)
		fmt.Fprintf(stdout, "  data          %s (run again with --data %s to resume)\n", *dir, *dir)
		fmt.Fprintln(stdout, "Press Ctrl-C to stop.")
	})
}

// prepareDemo makes the demo's folder on the first run (definitions, databases, credentials)
// and finds it again on later runs.
func prepareDemo(ctx context.Context, dir, base string, stdout io.Writer) (def, practice *election.Definition, dbURL string, err error) {
	electionDir, practiceDir := filepath.Join(dir, "election"), filepath.Join(dir, "practice")
	dbURL = "sqlite:" + filepath.Join(dir, "caucus.db")
	credDir := filepath.Join(dir, "credentials")
	if _, err := os.Stat(filepath.Join(credDir, "pins.csv")); err == nil {
		fmt.Fprintf(stdout, "resuming the demo election in %s\n", dir)
		if def, err = election.LoadDir(electionDir); err != nil {
			return nil, nil, "", err
		}
		if practice, err = election.LoadDir(practiceDir); err != nil {
			return nil, nil, "", err
		}
		if err := writeDemoContacts(dir, def); err != nil { // a folder from before the board
			return nil, nil, "", err
		}
		return def, practice, dbURL, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, nil, "", err
	}
	if def, err = election.Iowa2020(); err != nil {
		return nil, nil, "", err
	}
	if practice, err = election.Iowa2020Practice(); err != nil {
		return nil, nil, "", err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, nil, "", err
	}
	if err := def.Write(electionDir); err != nil {
		return nil, nil, "", err
	}
	if err := practice.Write(practiceDir); err != nil {
		return nil, nil, "", err
	}
	if err := writeDemoContacts(dir, def); err != nil {
		return nil, nil, "", err
	}
	d, err := openDB(ctx, dbURL)
	if err != nil {
		return nil, nil, "", err
	}
	defer d.Close()
	if _, err := issueCredentials(ctx, def, d, credDir, base, stdout); err != nil {
		return nil, nil, "", err
	}
	return def, practice, dbURL, nil
}

// prepareDemoStaff opens the demo's database for demoStaff.
func prepareDemoStaff(ctx context.Context, dbURL, credDir string) (string, error) {
	d, err := openDB(ctx, dbURL)
	if err != nil {
		return "", err
	}
	defer d.Close()
	return demoStaff(ctx, d, credDir)
}

// Made-up chairs for the demo's contacts.csv.
var (
	demoFirst = []string{"Ada", "Bert", "Carmen", "Dale", "Edith", "Floyd", "Gwen", "Hank", "Iris", "Jules",
		"Kay", "Lyle", "Marta", "Ned", "Opal", "Pete", "Rosa", "Stan", "Tess", "Vern"}
	demoLast = []string{"Abbott", "Bauer", "Castillo", "Dvorak", "Eng", "Fischer", "Garcia", "Hansen", "Ito",
		"Jensen", "Kowalski", "Larsen", "Moreno", "Nguyen", "Olsen", "Petersen", "Quinn", "Ruiz", "Schmidt", "Thorson"}
)

// writeDemoContacts writes DIR/contacts.csv, beside the election folder where caucus serve
// looks for it, when there is none: a made-up chair for every precinct, with a 555 number
// (+1 515 555 and four digits), so the board's missing list has someone to call.
func writeDemoContacts(dir string, def *election.Definition) error {
	path := filepath.Join(dir, contactsName)
	if _, err := os.Stat(path); err == nil {
		return nil
	}
	var cs []hq.Contact
	for i, p := range def.Precincts() {
		cs = append(cs, hq.Contact{PrecinctID: p.ID,
			Name:  demoFirst[i%len(demoFirst)] + " " + demoLast[(i/len(demoFirst))%len(demoLast)],
			Phone: fmt.Sprintf("+1515555%04d", 1000+i%9000)})
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if err := hq.WriteContacts(f, cs); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	return f.Close()
}
