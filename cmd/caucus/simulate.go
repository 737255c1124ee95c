package main

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	neturl "net/url"
	"os"
	"slices"
	"strings"
	"testing/fstest"

	"caucus/internal/auth"
	"caucus/internal/client"
	"caucus/internal/election"
	"caucus/internal/simulate"
)

const simulateHelp = `Usage: caucus simulate --url URL --pins FILE [--precincts N | --replay FILE.csv]
                       [--concurrency C] [--faults LIST] [--seed S] [--election DIR] [--progress]
                       [--hq-user U (password in $CAUCUS_HQ_PASSWORD) | --hq-token T]
                       [--hotline-share F --operators FILE]
       caucus simulate --chaos N --binary PATH --election DIR [the flags above but --url, --pins]
       caucus simulate --generate DIR --precincts N --counties K [--seed S]

Rehearses caucus night against a running server: every chair logs in with the PIN of pins.csv
and sends the precinct report through the real HTTP API, with the faults asked for, then every
published state, county and precinct number is compared with the ground truth. Exit 1 on any
difference, or on any answer other than the caucus rules call for.

The truth is a realistic synthetic night for the first N precincts of the server's election
(--precincts, default all; the same --seed gives the same night), or the published results of
--replay FILE.csv (the long results CSV, e.g. shared/data/iowa-2020/precincts.csv against
"caucus demo"): every precinct sent as its chair would have, the bad ones included, which must
come out refused (422 with the checks the rules name) or flagged, never silently published.

Faults (--faults, comma-separated, or all; loopback servers only):
	wrong-pin    some chairs type a wrong PIN first
	retry        some phones send an acknowledged report again (200, the same receipt)
	drop-before  some connections die while the report is sent; the phone sends it again
	drop-after   some answers are lost after the server sent them; the phone sends again (200)
	conflict     some chairs send a second, different report (409, kept for review)
	slow         some reports dribble in over a slow link
	burst        every chair sends at the same moment (ignores --concurrency for the reports)
	troll        junk logins and reports from other addresses all night (must all be refused)

Headquarters (--hq-user U, a reviewer's account, its password in the environment variable
CAUCUS_HQ_PASSWORD; or --hq-token T, a reviewer's session token): after the reports, a reviewer
resolves the review queue through the API as one holding the worksheets would, accepting the
report that says what the truth says or, when none does, entering the truth as a correction;
then the published numbers must equal the truth with every precinct settled. With it, chairs hit
by the conflict fault also get their first report wrong (the second is right, or neither is).

Crash drill (--chaos N): starts "PATH serve" on the election folder with a fresh database and
fresh credentials, runs the rehearsal, and SIGKILLs and restarts the server at N random
moments while the reports come in; chairs send again what got no answer. Then every
acknowledged report must be stored exactly once and every number exact.

Hotline (--hotline-share F): that share of the chairs (0 to 1, e.g. 0.2) report by phone
instead: a first operator keys the worksheet the chair reads with the PIN, a second keys it again
independently, with keying slips now and then, and a third keys it when the copies differ. Every
slip must be caught by the double entry (nothing mis-keyed counted), and the published numbers
must still equal the truth. --operators is a CSV of the operators' accounts (username,password;
three at least, created with "caucus staff add --role operator"), or the demo's
credentials/staff.csv, whose operators it takes.

--generate DIR writes a synthetic election of N precincts in K counties (a national-size one
is --precincts 175000 --counties 3000) to measure how costs grow; then run "caucus serve" on it.

Flags:
	--url URL          the server (e.g. http://127.0.0.1:8080/); several nodes of one deployment
	                   as URL,URL,…: the chairs are spread over them round-robin, results read
	                   from the first
	--pins FILE        the chairs' PINs: pins.csv as "caucus demo" or "caucus credentials" wrote it,
	                   or logins.csv (which has the QR codes' links too)
	--qr-share F       the share of chairs who log in by scanning the packet's QR code instead of
	                   typing the PIN (0 to 1, default 0; needs --pins logins.csv)
	--precincts N      synthetic night: the first N precincts (default all)
	--replay FILE      replay a published results CSV instead
	--election DIR     the election folder (default: read from the server, GET /api/v1/election)
	--concurrency C    chairs at work at once (default 50)
	--faults LIST      fault kinds, or all (default none)
	--seed S           the seed of the synthetic night and of the faults (default 1)
	--retry-wait D     cap on a phone's wait before sending again (default 200ms)
	--hotline-share F  the share of chairs who report by phone through the hotline (default 0)
	--operators FILE   the hotline operators' accounts: CSV username,password (three at least), or staff.csv
	--progress         draw the progress line even when stderr is not a terminal
	--chaos N          crash drill with N kills (needs --binary and --election)
	--binary PATH      the caucus binary the drill runs (default: this one)
	--generate DIR     write a synthetic election (with --precincts, --counties) and exit
	--counties K       counties of --generate (default precincts/60)
	--hq-user U        a reviewer's account: headquarters resolves the review queue
	--hq-token T       a reviewer's session token instead of --hq-user
`

func runSimulate(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlags("simulate")
	url := fs.String("url", "", "")
	pinsFile := fs.String("pins", "", "")
	precincts := fs.Int("precincts", 0, "")
	replay := fs.String("replay", "", "")
	electionDir := fs.String("election", "", "")
	conc := fs.Int("concurrency", 50, "")
	faultList := fs.String("faults", "", "")
	seed := fs.Uint64("seed", 1, "")
	retryWait := fs.Duration("retry-wait", 0, "")
	progress := fs.Bool("progress", false, "")
	chaos := fs.Int("chaos", 0, "")
	binary := fs.String("binary", "", "")
	generate := fs.String("generate", "", "")
	counties := fs.Int("counties", 0, "")
	hqUser := fs.String("hq-user", "", "")
	hqToken := fs.String("hq-token", "", "")
	hotlineShare := fs.Float64("hotline-share", 0, "")
	operatorsFile := fs.String("operators", "", "")
	qrShare := fs.Float64("qr-share", 0, "")
	if err := parseFlags(fs, args, simulateHelp, stdout); err != nil {
		return err
	}
	usage := func(msg string) error {
		return &usageError{err: errors.New(msg), hint: `run "caucus simulate --help"`}
	}
	faults, err := simulate.ParseFaults(*faultList)
	switch {
	case err != nil:
		return usage(err.Error())
	case fs.NArg() > 0:
		return usage(fmt.Sprintf("unexpected argument %q", fs.Arg(0)))
	case *generate != "":
		if *precincts <= 0 {
			return usage("--generate needs --precincts N")
		}
		return generateElection(*generate, *precincts, *counties, *seed, stdout)
	case *precincts != 0 && *replay != "":
		return usage("--precincts and --replay are two kinds of truth: give one")
	case *conc < 1:
		return usage("--concurrency must be at least 1")
	case *chaos > 0 && (*electionDir == "" || *url != "" || *pinsFile != ""):
		return usage("--chaos starts its own server: it needs --election DIR, and no --url or --pins")
	case *chaos == 0 && (*url == "" || *pinsFile == ""):
		return usage("caucus simulate needs --url and --pins (or --chaos)")
	case (*hqUser != "" || *hqToken != "") && *chaos > 0:
		return usage("--chaos starts its own server, which has no staff accounts: no --hq-user or --hq-token")
	case *hqUser != "" && *hqToken != "":
		return usage("--hq-user and --hq-token are two ways to log headquarters in: give one")
	case *hqUser != "" && os.Getenv("CAUCUS_HQ_PASSWORD") == "":
		return usage("--hq-user needs the reviewer's password in the environment variable CAUCUS_HQ_PASSWORD")
	case *hotlineShare < 0 || *hotlineShare > 1:
		return usage("--hotline-share is a share of the chairs, from 0 to 1 (e.g. 0.2)")
	case *hotlineShare > 0 && *operatorsFile == "":
		return usage("--hotline-share needs --operators FILE: the operators who key the phoned worksheets")
	case *qrShare < 0 || *qrShare > 1:
		return usage("--qr-share is a share of the chairs, from 0 to 1 (e.g. 0.8)")
	case *qrShare > 0 && *chaos > 0:
		return usage("--qr-share needs the QR codes' links of logins.csv; --chaos issues credentials of its own")
	case *hotlineShare > 0 && *chaos > 0:
		return usage("--hotline-share needs operators' accounts on the server; --chaos starts a server of its own without them")
	}
	nodes := strings.Split(*url, ",")
	cfg := simulate.Config{URL: nodes[0], Nodes: nodes[1:], Concurrency: *conc, Faults: faults, Seed: *seed, RetryWait: *retryWait, HQToken: *hqToken}
	if *hqUser != "" {
		cfg.HQ = &simulate.Staff{Username: *hqUser, Password: os.Getenv("CAUCUS_HQ_PASSWORD")}
	}
	if *progress || isTerminal(stderr) {
		cfg.Progress = stderr
	}
	truth := func(def *election.Definition) (*simulate.Truth, error) {
		if *replay == "" {
			return simulate.Synthetic(def, *precincts, *seed), nil
		}
		f, err := os.Open(*replay)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		t, err := simulate.Replay(def, f, fmt.Sprint(*seed))
		if err != nil {
			return nil, &hintError{err: fmt.Errorf("%s: %w", *replay, err), hint: "replay a results file of the election the server runs"}
		}
		return t, nil
	}
	if *chaos > 0 {
		return runChaos(ctx, chaosConfig{kills: *chaos, binary: *binary, electionDir: *electionDir, sim: cfg, truth: truth}, stdout, stderr)
	}
	def, err := loadElection(ctx, nodes[0], *electionDir)
	if err != nil {
		return err
	}
	if cfg.Truth, err = truth(def); err != nil {
		return err
	}
	if cfg.PINs, cfg.Tokens, err = readPINsFile(*pinsFile); err != nil {
		return err
	}
	if *qrShare > 0 && len(cfg.Tokens) == 0 {
		return usage("--qr-share needs --pins logins.csv: pins.csv has no QR codes")
	}
	cfg.QRShare = *qrShare
	if *hotlineShare > 0 {
		ops, err := readOperatorsFile(*operatorsFile)
		if err != nil {
			return err
		}
		cfg.Hotline = &simulate.Hotline{Share: *hotlineShare, Operators: ops}
	}
	return finish(simulate.Run(ctx, cfg))(stdout)
}

// finish prints a run's summary and decides the exit: 1 when anything was not right.
func finish(sum *simulate.Summary, err error) func(io.Writer) error {
	return func(w io.Writer) error {
		if sum != nil {
			sum.Print(w)
		}
		if err != nil {
			return err
		}
		if !sum.OK() {
			return &notRightError{msg: fmt.Sprintf("the rehearsal found %d differences and %d wrong answers", len(sum.Differences), len(sum.Problems))}
		}
		fmt.Fprintln(w, "ok: every answer was the one the rules call for, and every published number equals the truth")
		return nil
	}
}

// loadElection reads the election definition from a folder, or from the server.
func loadElection(ctx context.Context, url, dir string) (*election.Definition, error) {
	if dir != "" {
		def, err := election.LoadDir(dir)
		if err != nil {
			return nil, &hintError{err: err, hint: "give the folder the server was started with"}
		}
		return def, nil
	}
	c, err := client.New(url, nil)
	if err != nil {
		return nil, &usageError{err: err, hint: "--url is the server's address, e.g. http://127.0.0.1:8080/"}
	}
	e, err := c.Election(ctx)
	if err != nil {
		return nil, &hintError{err: fmt.Errorf("read the election from the server: %w", err), hint: "is the server running? or give --election DIR"}
	}
	m := fstest.MapFS{}
	for name, body := range e.Files {
		m[name] = &fstest.MapFile{Data: []byte(body)}
	}
	def, err := election.Load(m)
	if err != nil {
		return nil, fmt.Errorf("the server's election definition: %w", err)
	}
	return def, nil
}

// readPINsFile reads pins.csv (precinct_id,pin) or logins.csv
// (precinct_id,county,precinct,pin,login_url), whose links carry the QR codes' tokens.
func readPINsFile(path string) (pins, tokens map[string]string, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, &hintError{err: err, hint: "--pins is the pins.csv or logins.csv that caucus demo or caucus credentials wrote"}
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.ReuseRecord = true
	head, err := r.Read()
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	pinCol, urlCol := 1, -1
	switch {
	case slices.Equal(head, []string{"precinct_id", "pin"}):
	case slices.Equal(head, loginsCSVHeader):
		pinCol, urlCol = 3, 4
		tokens = map[string]string{}
	default:
		return nil, nil, fmt.Errorf("%s: not a pins.csv (precinct_id,pin) or a logins.csv (%s)", path, strings.Join(loginsCSVHeader, ","))
	}
	pins = map[string]string{}
	for {
		row, err := r.Read()
		if err == io.EOF {
			return pins, tokens, nil
		}
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", path, err)
		}
		pins[row[0]] = row[pinCol]
		if urlCol >= 0 {
			u, err := neturl.Parse(row[urlCol])
			if err != nil {
				return nil, nil, fmt.Errorf("%s: precinct %s: login_url: %w", path, row[0], err)
			}
			q, _ := neturl.ParseQuery(u.Fragment)
			if q.Get("p") != row[0] || q.Get("t") == "" {
				return nil, nil, fmt.Errorf("%s: precinct %s: login_url has no QR token for it", path, row[0])
			}
			tokens[row[0]] = q.Get("t")
		}
	}
}

// readOperatorsFile reads the hotline operators' accounts (username,password, a header line).
func readOperatorsFile(path string) ([]simulate.Staff, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, &hintError{err: err, hint: "--operators is a CSV of username,password lines, one per operator account, or the demo's staff.csv"}
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var ops []simulate.Staff
	switch {
	case len(rows) > 0 && slices.Equal(rows[0], []string{"username", "password"}):
		for _, r := range rows[1:] {
			ops = append(ops, simulate.Staff{Username: r[0], Password: r[1]})
		}
	case len(rows) > 0 && slices.Equal(rows[0], staffCSVHeader): // the demo's staff.csv: its operators
		for _, r := range rows[1:] {
			if r[1] == string(auth.RoleOperator) {
				ops = append(ops, simulate.Staff{Username: r[0], Password: r[2]})
			}
		}
	default:
		return nil, &hintError{err: fmt.Errorf("%s: not an operators file", path),
			hint: "the first line is username,password, or give the demo's credentials/staff.csv"}
	}
	if len(ops) < 3 {
		return nil, &hintError{err: fmt.Errorf("%s: %d operators", path, len(ops)),
			hint: "two operators key each worksheet and a third settles a mismatch: give three at least"}
	}
	return ops, nil
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// generateElection writes a synthetic election folder.
func generateElection(dir string, precincts, counties int, seed uint64, stdout io.Writer) error {
	def, err := simulate.Generate(precincts, counties, seed)
	if err != nil {
		return &hintError{err: err, hint: "the election loader bounds precincts and counties"}
	}
	if err := def.Write(dir); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote election %s: %d precincts in %d counties to %s\n", def.Election().ID, len(def.Precincts()), len(def.Counties()), dir)
	return nil
}
