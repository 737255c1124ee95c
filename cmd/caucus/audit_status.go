package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"

	"caucus/internal/audit"
	"caucus/internal/client"
	"caucus/internal/resultscsv"
)

const auditStatusHelp = `Usage: caucus audit status --seed DIGITS (--url URL | --csv FILE.csv) --risk-limit P [--hand-counts FILE.csv] [--json]
       caucus audit status --url URL [--json]

With --url alone, prints the audit a server runs on the record (GET /api/v1/audit): the
checkpoint audited, the seed and risk limit, each contest's rounds, measured risk, discrepancies
and precincts still to count, and the hand counts entered; --json prints the document as is.
caucus verify recomputes all of it from the log.

Recomputes where the audit of each contest stands from its public inputs alone: the seed, the risk
limit, the reported results and the hand counts entered so far. Rounds follow one another: the
first draws the expected sample; when a round's precincts are all hand counted, the measured risk
(Kaplan–Markov) either is at most the risk limit (the outcome is confirmed) or the next round draws
as many more as would end the audit if they found no overstatement, unless that reaches the number
of precincts, when only a full hand count can confirm the outcome. A precinct drawn more than once
counts each time, with its one hand count.

Flags:
	--seed DIGITS        the audit's seed, as for caucus audit draw
	--url, --csv, --counties, --rules, --risk-limit   as for caucus audit plan
	--hand-counts FILE   the hand counts, in the long results format (one row per precinct and
	                     candidate: first and final alignment as counted from the cards; the sde
	                     column is not read); absent: nothing counted yet
	--json               print {seed, risk_limit, hand_counted, contests: [{contest, status, draws,
	                     risk, rounds: [{draws, risk}], waiting: [ids], tickets: [{draw, hash,
	                     precinct_id}], discrepancies: [{precinct_id, overstatement}]}]}; status
	                     in_progress, confirmed or full_hand_count; risk a decimal string (6
	                     places) or "infinite"; overstatement e_p as a decimal string (6 places);
	                     with --url, log_size: the log size the results were computed from

Exit status: 0 when the status is printed, 1 when the results or hand counts cannot be read (or
name a precinct the results do not have), 2 on a usage error.
`

func runAuditStatus(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("audit status")
	src := addAuditSource(fs)
	seed := fs.String("seed", "", "")
	handPath := fs.String("hand-counts", "", "")
	asJSON := fs.Bool("json", false, "")
	if err := parseFlags(fs, args, auditStatusHelp, stdout); err != nil {
		return err
	}
	if *seed == "" && *src.url != "" && *src.csv == "" && *src.riskLimit == "" && *handPath == "" && fs.NArg() == 0 {
		return serverAuditStatus(ctx, *src.url, *asJSON, stdout)
	}
	alpha, err := src.check("status", fs.NArg(), fs.Arg(0))
	if err != nil {
		return err
	}
	if err := audit.ValidSeed(*seed); err != nil {
		return &usageError{err: err, hint: "give the seed the audit was drawn from with --seed"}
	}
	counts := map[string]audit.HandCounted{}
	if *handPath != "" {
		f, err := os.Open(*handPath)
		if err != nil {
			return &hintError{err: err, hint: "--hand-counts names a file of hand counts in the long results format"}
		}
		hand, err := resultscsv.Read(f)
		f.Close()
		if err != nil {
			return &hintError{err: fmt.Errorf("%s: %w", *handPath, err), hint: "the hand counts must be in the long results format"}
		}
		for _, p := range hand {
			counts[p.ID] = audit.HandCounted{First: p.First, Final: p.Final}
		}
	}
	e, logSize, err := src.load(ctx, stderr)
	if err != nil {
		return err
	}
	replays, err := e.Status(*seed, alpha, counts)
	if err != nil {
		if errors.Is(err, audit.ErrUnknownPrecinct) {
			return &hintError{err: fmt.Errorf("%s: %w", *handPath, err), hint: "hand count only precincts of the results"}
		}
		return err
	}
	out := statusJSON{Seed: *seed, RiskLimit: percentOf(alpha), HandCounted: len(counts), LogSize: logSize}
	for i, r := range replays {
		out.Contests = append(out.Contests, contestStatus(e.Contests[i], r))
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	printLogSize(stdout, logSize)
	printStatus(stdout, out)
	return nil
}

type statusJSON struct {
	Seed        string              `json:"seed"`
	RiskLimit   json.Number         `json:"risk_limit"`
	HandCounted int                 `json:"hand_counted"`
	Contests    []contestStatusJSON `json:"contests"`
	LogSize     *int64              `json:"log_size,omitempty"` // --url: the log size of the results
}

type contestStatusJSON struct {
	Contest       audit.Kind        `json:"contest"`
	Status        audit.Status      `json:"status"`
	Draws         int               `json:"draws"`
	Risk          string            `json:"risk"`
	Rounds        []roundJSON       `json:"rounds"`
	Waiting       []string          `json:"waiting"`
	Tickets       []ticketJSON      `json:"tickets"`
	Discrepancies []discrepancyJSON `json:"discrepancies"`
}

type roundJSON struct {
	Draws int64  `json:"draws"`
	Risk  string `json:"risk"`
}

type discrepancyJSON struct {
	PrecinctID    string `json:"precinct_id"`
	Overstatement string `json:"overstatement"`
}

func contestStatus(c *audit.Contest, r *audit.Replay) contestStatusJSON {
	p := r.Progress
	cs := contestStatusJSON{Contest: c.Kind, Status: p.Status, Draws: len(p.Draws), Risk: p.Risk.String(),
		Rounds: []roundJSON{}, Waiting: r.Waiting, Tickets: []ticketJSON{}, Discrepancies: []discrepancyJSON{}}
	if cs.Waiting == nil {
		cs.Waiting = []string{}
	}
	for _, rd := range p.Rounds {
		cs.Rounds = append(cs.Rounds, roundJSON{Draws: rd.Draws, Risk: rd.Risk.String()})
	}
	for _, t := range r.Tickets {
		cs.Tickets = append(cs.Tickets, ticketJSON{Draw: t.Draw, Hash: t.HashHex(), PrecinctID: t.PrecinctID})
	}
	for id, e := range r.Overstatements {
		if e.Sign() != 0 {
			cs.Discrepancies = append(cs.Discrepancies, discrepancyJSON{PrecinctID: id, Overstatement: e.FloatString(6)})
		}
	}
	slices.SortFunc(cs.Discrepancies, func(a, b discrepancyJSON) int {
		switch {
		case a.PrecinctID < b.PrecinctID:
			return -1
		case a.PrecinctID > b.PrecinctID:
			return 1
		}
		return 0
	})
	return cs
}

var statusWords = map[audit.Status]string{
	audit.InProgress:    "in progress",
	audit.Confirmed:     "CONFIRMED: the measured risk is at most the risk limit",
	audit.FullHandCount: "ONLY A FULL HAND COUNT CAN CONFIRM THIS OUTCOME",
}

func printStatus(w io.Writer, s statusJSON) {
	fmt.Fprintf(w, "Audit from seed %s at a risk limit of %s %%; %d precincts hand counted\n", s.Seed, s.RiskLimit, s.HandCounted)
	for _, c := range s.Contests {
		fmt.Fprintf(w, "\n%s: %s\n", contestTitle[c.Contest], statusWords[c.Status])
		fmt.Fprintf(w, "  draws counted  %d, measured risk %s\n", c.Draws, c.Risk)
		for i, rd := range c.Rounds {
			fmt.Fprintf(w, "  round %d: %d draws in all, risk %s\n", i+1, rd.Draws, rd.Risk)
		}
		for _, d := range c.Discrepancies {
			fmt.Fprintf(w, "  discrepancy: %s, relative overstatement e_p = %s\n", d.PrecinctID, d.Overstatement)
		}
		if len(c.Waiting) > 0 {
			fmt.Fprintf(w, "  round %d waits for the hand counts of %d precincts:\n", len(c.Rounds)+1, len(c.Waiting))
			for _, id := range c.Waiting {
				fmt.Fprintf(w, "    %s\n", id)
			}
		}
	}
}

// serverAuditStatus prints the audit a server runs on the record (GET /api/v1/audit).
func serverAuditStatus(ctx context.Context, url string, asJSON bool, stdout io.Writer) error {
	c, err := client.New(url, nil)
	if err != nil {
		return &usageError{err: err, hint: "--url takes the server's address, e.g. http://127.0.0.1:8080/"}
	}
	a, err := c.Audit(ctx)
	if err != nil {
		return &hintError{err: err, hint: "check the URL and that the server is running"}
	}
	if asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(a)
	}
	if a.Status == "not_started" {
		fmt.Fprintln(stdout, "The audit has not started: an admin starts it with a seed rolled with dice in public.")
		return nil
	}
	fmt.Fprintf(stdout, "Audit of the checkpoint of size %d (root %s), started by %s at %s\n", a.LogSize, a.RootHash, a.StartedBy, a.StartedAt)
	out := statusJSON{Seed: a.Seed, RiskLimit: a.RiskLimit, HandCounted: len(a.HandCounts)}
	for _, c := range a.Contests {
		cs := contestStatusJSON{Contest: audit.Kind(c.Contest), Status: audit.Status(c.Status), Draws: c.Draws, Risk: c.Risk, Waiting: c.Waiting}
		for _, rd := range c.Rounds {
			cs.Rounds = append(cs.Rounds, roundJSON{Draws: rd.Draws, Risk: rd.Risk})
		}
		for _, d := range c.Discrepancies {
			cs.Discrepancies = append(cs.Discrepancies, discrepancyJSON{PrecinctID: d.PrecinctID, Overstatement: d.Overstatement})
		}
		out.Contests = append(out.Contests, cs)
	}
	printStatus(stdout, out)
	fmt.Fprintf(stdout, "\nstatus: %s\n", a.Status)
	return nil
}
