package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"caucus/internal/client"
	"caucus/internal/report"
	"caucus/internal/verify"
)

const verifyHelp = `Usage: caucus verify --url URL [--checkpoint FILE] [--key KEY] [--receipt FILE] [--watch]

The independent check a campaign runs against a caucus server. It fetches the signed checkpoint
(C2SP signed-note, tlog-checkpoint) and every entry of the log (C2SP tlog-tiles), verifies the
signature, rebuilds the Merkle tree from the entries and compares it with the checkpoint and
every served hash tile, checks that the log extends the checkpoint saved by the last run,
recomputes every precinct's math and every county and state total from the entries, and compares
them with the published results (JSON and CSV). It prints what it checked and a summary.

Flags:
	--url URL          the election's server (for a practice election, URL/practice/)
	--key KEY          the log's public key (a note verifier key, as "caucus demo" prints it).
	                   Without it the key published in /api/v1/results is used, which checks the
	                   log against itself only; with it, verify trusts nothing the server says.
	--checkpoint FILE  keep the last good checkpoint in FILE and refuse a log that forks from it
	                   or rolls it back; a fork's two signed notes are kept in FILE.fork
	--receipt FILE     a chair's receipt (JSON): its report must be in the log, and the
	                   precinct's published numbers must be the ones of that report
	--watch            keep checking (every --every) and say at once when anything fails
	--every D          how often --watch checks (default 10s)
	--rounds N         with --watch, stop after N rounds (default: until interrupted)

Exit status: 0 when everything matches, 1 when anything does not (each difference is named with
the record and both values) or the server could not be read, 2 on a usage error.
`

func runVerify(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlags("verify")
	url := fs.String("url", "", "")
	key := fs.String("key", "", "")
	cpFile := fs.String("checkpoint", "", "")
	receiptFile := fs.String("receipt", "", "")
	watch := fs.Bool("watch", false, "")
	every := fs.Duration("every", 10*time.Second, "")
	rounds := fs.Int("rounds", 0, "")
	if err := parseFlags(fs, args, verifyHelp, stdout); err != nil {
		return err
	}
	switch {
	case fs.NArg() > 0:
		return &usageError{err: fmt.Errorf("unexpected argument %q", fs.Arg(0)), hint: `run "caucus verify --help"`}
	case *url == "":
		return &usageError{err: errors.New("--url is required"), hint: "caucus verify --url http://127.0.0.1:8080/"}
	case *every <= 0 || *rounds < 0:
		return &usageError{err: errors.New("--every must be positive and --rounds not negative"), hint: `run "caucus verify --help"`}
	case !*watch && *rounds > 0:
		return &usageError{err: errors.New("--rounds is for --watch"), hint: "add --watch"}
	}
	c, err := client.New(*url, nil)
	if err != nil {
		return &usageError{err: err, hint: "--url takes the server's address, e.g. http://127.0.0.1:8080/"}
	}
	cfg := verify.Config{Client: c, Key: *key, CheckpointFile: *cpFile, Out: stdout}
	if *receiptFile != "" {
		b, err := os.ReadFile(*receiptFile)
		if err != nil {
			return &usageError{err: err, hint: "--receipt takes the receipt the server returned, saved as JSON"}
		}
		var r report.Receipt
		if err := json.Unmarshal(b, &r); err != nil || r.ReportID == "" || r.LeafHash == "" {
			return &usageError{err: fmt.Errorf("%s is not a receipt", *receiptFile), hint: "a receipt is the JSON {report_id, log_index, leaf_hash, …} of POST /api/v1/reports"}
		}
		cfg.Receipt = &r
	}
	for round := 1; ; round++ {
		if *watch {
			fmt.Fprintf(stdout, "round %d at %s\n", round, time.Now().UTC().Format(time.RFC3339))
		}
		res, err := verify.Run(ctx, cfg)
		if err != nil {
			return &hintError{err: fmt.Errorf("could not verify: %w", err), hint: "nothing is known: check the URL and run again"}
		}
		for _, f := range res.Findings {
			fmt.Fprintf(stdout, "FAIL  %s\n", f)
		}
		if !res.OK() {
			fmt.Fprintf(stdout, "summary: %d problem(s) found in a log of %d entries\n", len(res.Findings), res.TreeSize)
			return &notRightError{msg: fmt.Sprintf("%d problem(s): the published results cannot be trusted as they are", len(res.Findings))}
		}
		fmt.Fprintf(stdout, "summary: OK — log of %d entries verified; %d precincts and %d counties recomputed from %d entries match the published results\n",
			res.TreeSize, res.Precincts, res.Counties, res.Entries)
		if !*watch || (*rounds > 0 && round >= *rounds) {
			return nil
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(*every):
		}
	}
}
