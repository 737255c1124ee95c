package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"os"
	"slices"
	"strings"
	"testing/fstest"
	"text/tabwriter"

	"caucus/internal/audit"
	"caucus/internal/bulk"
	"caucus/internal/client"
	"caucus/internal/election"
	"caucus/internal/resultscsv"
	"caucus/internal/rules"
)

const auditHelp = `Usage: caucus audit <plan|draw|status> [flags]

A risk-limiting audit of the caucus from its preference cards: a batch-comparison audit (one
batch per precinct, MACRO bounds, PPEB sampling, Kaplan–Markov risk) of each of the night's three
contests on its own: the first alignment (people), the final alignment (people) and the state
delegate equivalents.

Commands:
	plan   each contest's margin, total error bound U and expected sample; says when only a full
	       hand count can confirm the outcome
	draw   the sample drawn from a public seed (dice), with its tickets, so anyone can redraw it
	status each contest's rounds, measured risk and the precincts still to hand count, from the
	       seed and the hand counts entered so far

Run "caucus audit <command> --help" for its flags.
`

const auditPlanHelp = `Usage: caucus audit plan (--url URL | --csv FILE.csv) --risk-limit P [--json]

Prints, for each contest (first alignment, final alignment, SDEs), the reported winner and
runner-up, the margin, U (the sum of the precincts' error bounds u_p) and the expected sample:
how many precincts must be drawn (with replacement, each with probability u_p/U) to confirm the
outcome at the risk limit when the hand counts find no overstatement, ⌈ln α / ln(1 − 1/U)⌉. It
says plainly when only a full hand count can confirm an outcome: a tie, or an expected sample not
smaller than the number of precincts.

Flags:
	--url URL        a running server: reads GET /api/v1/results.csv and its election definition
	--csv FILE.csv   published results in the long format of caucus check
	--counties FILE  with --csv: the counties.csv for the SDE ratios (default: beside FILE.csv)
	--rules NAME     with --csv: iowa-dem-2020 (default), nevada-dem-2020 or straw-poll
	--risk-limit P   the risk limit in percent, more than 0 and less than 100 (5 means 5 %)
	--json           print {risk_limit, precincts, contests: [{contest, winner, runner_up, margin,
	                 u_total, u_total_exact, expected_sample, full_hand_count, reason}]}: risk_limit
	                 in percent as given; margin an integer for people, an exact decimal string for
	                 SDEs; u_total a decimal string rounded to 6 places and u_total_exact the exact
	                 fraction "p/q"; expected_sample an integer (for a full hand count, an estimate;
	                 0 for a tie); with --url, log_size: the log size the results were computed from

Exit status: 0 when the plan is printed, 1 when the results cannot be read, 2 on a usage error.
`

const auditDrawHelp = `Usage: caucus audit draw --seed DIGITS (--url URL | --csv FILE.csv) --risk-limit P [--n N] [--json]

Draws each contest's sample from a public seed: at least 20 decimal digits rolled with dice in
public. Draw i is SHA-256 of the ASCII bytes "SEED,i" (the seed's digits, a comma, the decimal draw
number from 1), read as a 256-bit big-endian integer h and mapped onto [0, U) as x = h·U/2^256;
the draw is the precinct whose interval of cumulative bounds holds x (precincts in byte order of
their ids, each with an interval as long as its u_p). Every contest maps the same hashes onto its
own bounds, so a precinct drawn for several contests is counted once. Anyone can redraw the sample.

Flags:
	--seed DIGITS    the seed, 20 or more decimal digits
	--url, --csv, --counties, --rules, --risk-limit   as for caucus audit plan
	--n N            draw N tickets per contest (default: each contest's expected sample; a
	                 contest that needs a full hand count draws nothing unless --n is given)
	--json           print {seed, risk_limit, contests: [{contest, full_hand_count, tickets:
	                 [{draw, hash, precinct_id}]}], precincts_to_count: [ids]}; with --url, log_size

Exit status: 0 when the sample is printed, 1 when the results cannot be read, 2 on a usage error.
`

func runAudit(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return &usageError{err: errors.New("caucus audit needs a command: plan, draw or status"), hint: `run "caucus audit --help"`}
	}
	switch args[0] {
	case "-h", "--help", "help":
		fmt.Fprint(stdout, auditHelp)
		return nil
	case "plan":
		return runAuditPlan(ctx, args[1:], stdout, stderr)
	case "draw":
		return runAuditDraw(ctx, args[1:], stdout, stderr)
	case "status":
		return runAuditStatus(ctx, args[1:], stdout, stderr)
	}
	return &usageError{err: fmt.Errorf("unknown audit command %q", args[0]), hint: `run "caucus audit --help"`}
}

// auditSource is the flags that name the published results an audit reads.
type auditSource struct {
	url, csv, counties, profile, riskLimit *string
}

func addAuditSource(fs interface {
	String(name, value, usage string) *string
}) auditSource {
	return auditSource{url: fs.String("url", "", ""), csv: fs.String("csv", "", ""), counties: fs.String("counties", "", ""),
		profile: fs.String("rules", string(rules.DefaultProfile), ""), riskLimit: fs.String("risk-limit", "", "")}
}

// check validates the flags and returns the risk limit.
func (s auditSource) check(name string, nargs int, firstArg string) (*big.Rat, error) {
	hint := fmt.Sprintf(`run "caucus audit %s --help"`, name)
	switch {
	case nargs > 0:
		return nil, &usageError{err: fmt.Errorf("unexpected argument %q", firstArg), hint: hint}
	case (*s.url == "") == (*s.csv == ""):
		return nil, &usageError{err: errors.New("give exactly one of --url and --csv"), hint: "caucus audit " + name + " --csv ../shared/data/iowa-2020/precincts.csv --risk-limit 5"}
	case *s.riskLimit == "":
		return nil, &usageError{err: errors.New("--risk-limit is required"), hint: "--risk-limit 5 means 5 %"}
	case *s.url != "" && *s.counties != "":
		return nil, &usageError{err: errors.New("--counties is for --csv: a server publishes its own"), hint: hint}
	case !rules.Profile(*s.profile).Known():
		return nil, &usageError{err: fmt.Errorf("unknown rules %q", *s.profile), hint: "use iowa-dem-2020, nevada-dem-2020 or straw-poll"}
	}
	alpha, err := audit.ParseRiskLimit(*s.riskLimit)
	if err != nil {
		return nil, &usageError{err: err, hint: "--risk-limit 5 means 5 %"}
	}
	return alpha, nil
}

// load reads the published results and builds the election's contests. From a server it also
// returns the log size the results were computed from (nil from a file), which the audit names so
// that anyone redraws from the same results.
func (s auditSource) load(ctx context.Context, stderr io.Writer) (*audit.Election, *int64, error) {
	var (
		logSize *int64
		data    []byte
		ratios  bulk.Ratios
		profile = rules.Profile(*s.profile)
		where   string
	)
	if *s.csv != "" {
		where = *s.csv
		b, err := os.ReadFile(*s.csv)
		if err != nil {
			return nil, nil, &hintError{err: err, hint: "give the path of a results CSV"}
		}
		data = b
		r, note, err := countyRatios(*s.counties, *s.csv)
		if err != nil {
			return nil, nil, err
		}
		if note != "" {
			fmt.Fprintf(stderr, "caucus: note: %s\n", note)
		}
		ratios = r
	} else {
		where = *s.url
		c, err := client.New(*s.url, nil)
		if err != nil {
			return nil, nil, &usageError{err: err, hint: "--url takes the server's address, e.g. http://127.0.0.1:8080/"}
		}
		el, err := c.Election(ctx)
		if err != nil {
			return nil, nil, &hintError{err: err, hint: "check the URL and that the server is running"}
		}
		fsys := fstest.MapFS{}
		for name, d := range el.Files {
			fsys[name] = &fstest.MapFile{Data: []byte(d)}
		}
		def, err := election.Load(fsys)
		if err != nil {
			return nil, nil, fmt.Errorf("the published election definition does not load: %w", err)
		}
		profile = def.Election().Rules
		m := map[string]*big.Rat{}
		for _, co := range def.Counties() {
			if r, ok := co.SDERatio(); ok {
				m[co.ID] = r
			}
		}
		ratios = func(id string) *big.Rat { return m[id] }
		var size int64
		if data, size, err = c.ResultsCSVAt(ctx); err != nil {
			return nil, nil, &hintError{err: err, hint: "check the URL and that the server is running"}
		}
		if size >= 0 {
			logSize = &size
		}
	}
	ps, err := resultscsv.Read(bytes.NewReader(data))
	if err != nil {
		return nil, nil, &hintError{err: fmt.Errorf("%s: %w", where, err), hint: "the results must be in the long results format: " + strings.Join(resultscsv.Header, ",")}
	}
	e, err := audit.FromPublished(ps, ratios, profile)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", where, err)
	}
	return e, logSize, nil
}

func runAuditPlan(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("audit plan")
	src := addAuditSource(fs)
	asJSON := fs.Bool("json", false, "")
	if err := parseFlags(fs, args, auditPlanHelp, stdout); err != nil {
		return err
	}
	alpha, err := src.check("plan", fs.NArg(), fs.Arg(0))
	if err != nil {
		return err
	}
	e, logSize, err := src.load(ctx, stderr)
	if err != nil {
		return err
	}
	plans := make([]audit.Plan, len(e.Contests))
	for i, c := range e.Contests {
		plans[i] = c.Plan(alpha)
	}
	if *asJSON {
		return writePlanJSON(stdout, string(percentOf(alpha)), logSize, plans)
	}
	printLogSize(stdout, logSize)
	printPlan(stdout, string(percentOf(alpha)), plans)
	return nil
}

var contestTitle = map[audit.Kind]string{
	audit.First: "first alignment (people)",
	audit.Final: "final alignment (people)",
	audit.SDE:   "state delegate equivalents (SDEs)",
}

func printPlan(w io.Writer, riskLimit string, plans []audit.Plan) {
	fmt.Fprintf(w, "Audit plan at a risk limit of %s %% over %d precincts\n", riskLimit, plans[0].Precincts)
	for _, p := range plans {
		fmt.Fprintf(w, "\n%s\n", contestTitle[p.Kind])
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintf(tw, "  winner\t%s\n", p.Winner)
		fmt.Fprintf(tw, "  runner-up\t%s\n", p.RunnerUp)
		fmt.Fprintf(tw, "  margin\t%s\n", exactDecimal(p.Margin))
		if p.U != nil {
			fmt.Fprintf(tw, "  U (total error bound)\t%s\n", p.U.FloatString(6))
			fmt.Fprintf(tw, "  expected sample\t%d draws\n", p.ExpectedSample)
		}
		tw.Flush()
		if p.FullHandCount {
			fmt.Fprintf(w, "  ONLY A FULL HAND COUNT CAN CONFIRM THIS OUTCOME: %s\n", p.Reason)
		} else {
			fmt.Fprintf(w, "  a sample can confirm this outcome: %d draws if the hand counts find no overstatement\n", p.ExpectedSample)
		}
	}
}

type planJSON struct {
	RiskLimit json.Number       `json:"risk_limit"`
	Precincts int               `json:"precincts"`
	Contests  []planContestJSON `json:"contests"`
	LogSize   *int64            `json:"log_size,omitempty"` // --url: the log size of the results
}

type planContestJSON struct {
	Contest        audit.Kind `json:"contest"`
	Winner         string     `json:"winner"`
	RunnerUp       string     `json:"runner_up"`
	Margin         any        `json:"margin"`
	UTotal         string     `json:"u_total"`
	UTotalExact    string     `json:"u_total_exact"`
	ExpectedSample int64      `json:"expected_sample"`
	FullHandCount  bool       `json:"full_hand_count"`
	Reason         string     `json:"reason"`
}

func writePlanJSON(w io.Writer, riskLimit string, logSize *int64, plans []audit.Plan) error {
	out := planJSON{RiskLimit: json.Number(riskLimit), Precincts: plans[0].Precincts, LogSize: logSize}
	for _, p := range plans {
		pc := planContestJSON{Contest: p.Kind, Winner: p.Winner, RunnerUp: p.RunnerUp, ExpectedSample: p.ExpectedSample,
			FullHandCount: p.FullHandCount, Reason: p.Reason, Margin: exactDecimal(p.Margin)}
		if p.Kind != audit.SDE && p.Margin.IsInt() {
			pc.Margin = json.Number(p.Margin.Num().String())
		}
		if p.U != nil {
			pc.UTotal, pc.UTotalExact = p.U.FloatString(6), p.U.String()
		}
		out.Contests = append(out.Contests, pc)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

// printLogSize names the results audited when they came from a server.
func printLogSize(w io.Writer, logSize *int64) {
	if logSize != nil {
		fmt.Fprintf(w, "Results as published at log size %d\n", *logSize)
	}
}

// percentOf is the risk limit α in percent, as the shortest exact decimal ("5", "2.5").
func percentOf(alpha *big.Rat) json.Number {
	return json.Number(exactDecimal(new(big.Rat).Mul(alpha, big.NewRat(100, 1))))
}

// exactDecimal writes a rational with a terminating decimal expansion exactly, with the fewest
// decimals ("562.9541", "2443"); any other rational as the fraction "p/q".
func exactDecimal(r *big.Rat) string {
	ten := big.NewInt(10)
	scale := big.NewInt(1)
	for places := 0; places <= 30; places++ {
		if new(big.Int).Mod(scale, r.Denom()).Sign() == 0 {
			return r.FloatString(places)
		}
		scale.Mul(scale, ten)
	}
	return r.String()
}

func runAuditDraw(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("audit draw")
	src := addAuditSource(fs)
	seed := fs.String("seed", "", "")
	n := fs.Int64("n", 0, "")
	asJSON := fs.Bool("json", false, "")
	if err := parseFlags(fs, args, auditDrawHelp, stdout); err != nil {
		return err
	}
	alpha, err := src.check("draw", fs.NArg(), fs.Arg(0))
	if err != nil {
		return err
	}
	if err := audit.ValidSeed(*seed); err != nil {
		return &usageError{err: err, hint: "roll a ten-sided die 20 times or more in public and give the digits with --seed"}
	}
	if *n < 0 || *n > 1_000_000 {
		return &usageError{err: errors.New("--n must be from 0 to 1000000"), hint: `run "caucus audit draw --help"`}
	}
	e, logSize, err := src.load(ctx, stderr)
	if err != nil {
		return err
	}
	out := drawJSON{Seed: *seed, RiskLimit: percentOf(alpha), PrecinctsToCount: []string{}, LogSize: logSize}
	for _, c := range e.Contests {
		pl := c.Plan(alpha)
		dc := drawContestJSON{Contest: c.Kind, FullHandCount: pl.FullHandCount, Reason: pl.Reason, Tickets: []ticketJSON{}}
		count := pl.ExpectedSample
		if pl.FullHandCount {
			count = 0
		}
		if *n > 0 {
			count = *n
		}
		if c.Tie {
			count = 0
		}
		tickets, err := c.Draw(*seed, 1, count)
		if err != nil {
			return err
		}
		for _, t := range tickets {
			dc.Tickets = append(dc.Tickets, ticketJSON{Draw: t.Draw, Hash: t.HashHex(), PrecinctID: t.PrecinctID})
			if !slices.Contains(out.PrecinctsToCount, t.PrecinctID) {
				out.PrecinctsToCount = append(out.PrecinctsToCount, t.PrecinctID)
			}
		}
		out.Contests = append(out.Contests, dc)
	}
	slices.Sort(out.PrecinctsToCount)
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	printLogSize(stdout, logSize)
	fmt.Fprintf(stdout, "Sample drawn from seed %s at a risk limit of %s %%\n", *seed, percentOf(alpha))
	for _, dc := range out.Contests {
		fmt.Fprintf(stdout, "\n%s: %d draws\n", contestTitle[dc.Contest], len(dc.Tickets))
		if dc.FullHandCount {
			fmt.Fprintf(stdout, "  ONLY A FULL HAND COUNT CAN CONFIRM THIS OUTCOME: %s\n", dc.Reason)
		}
		for _, t := range dc.Tickets {
			fmt.Fprintf(stdout, "  %6d  %s  %s\n", t.Draw, t.Hash, t.PrecinctID)
		}
	}
	fmt.Fprintf(stdout, "\nprecincts to hand count: %d\n", len(out.PrecinctsToCount))
	for _, id := range out.PrecinctsToCount {
		fmt.Fprintf(stdout, "  %s\n", id)
	}
	return nil
}

type drawJSON struct {
	Seed             string            `json:"seed"`
	RiskLimit        json.Number       `json:"risk_limit"`
	Contests         []drawContestJSON `json:"contests"`
	PrecinctsToCount []string          `json:"precincts_to_count"`
	LogSize          *int64            `json:"log_size,omitempty"` // --url: the log size of the results
}

type drawContestJSON struct {
	Contest       audit.Kind   `json:"contest"`
	FullHandCount bool         `json:"full_hand_count"`
	Reason        string       `json:"reason"`
	Tickets       []ticketJSON `json:"tickets"`
}

type ticketJSON struct {
	Draw       int64  `json:"draw"`
	Hash       string `json:"hash"`
	PrecinctID string `json:"precinct_id"`
}
