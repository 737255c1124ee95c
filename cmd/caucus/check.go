package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"text/tabwriter"

	"caucus/internal/bulk"
	"caucus/internal/election"
	"caucus/internal/resultscsv"
	"caucus/internal/rules"
)

const checkHelp = `Usage: caucus check [--json] [--counties FILE] [--rules NAME] FILE.csv

Reads published precinct results in the long CSV format of shared/data/iowa-2020/precincts.csv
and reports, for every precinct, the recomputed delegates and SDEs and every inconsistency, by
check ID (spec/caucus-rules.md §5, built as its R22 says), then a summary.

SDEs are recomputed with each county's ratio (state ÷ county delegates) from counties.csv: the
file given with --counties, else counties.csv beside FILE.csv when there is one.

Flags:
	--json           print {precincts: [...], summary: {...}} (the contract's format)
	--counties FILE  the counties.csv (county_id,name,county_delegates,state_delegates)
	--rules NAME     iowa-dem-2020 (default), nevada-dem-2020 or straw-poll

Exit status: 0 when no precinct is flagged, 1 when any is (or the file is not valid), 2 on a
usage error.
`

func runCheck(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlags("check")
	asJSON := fs.Bool("json", false, "")
	countiesPath := fs.String("counties", "", "")
	profile := fs.String("rules", string(rules.DefaultProfile), "")
	if err := parseFlags(fs, args, checkHelp, stdout); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return &usageError{err: errors.New("caucus check needs exactly one results file"), hint: "caucus check ../shared/data/iowa-2020/precincts.csv"}
	}
	if !rules.Profile(*profile).Known() {
		return &usageError{err: fmt.Errorf("unknown rules %q", *profile), hint: "use iowa-dem-2020, nevada-dem-2020 or straw-poll"}
	}
	path := fs.Arg(0)
	f, err := os.Open(path)
	if err != nil {
		return &hintError{err: err, hint: "give the path of a results CSV"}
	}
	defer f.Close()
	precincts, err := resultscsv.Read(f)
	if err != nil {
		return &hintError{err: fmt.Errorf("%s: %w", path, err), hint: "the file must be in the long results format: " + fmt.Sprint(resultscsv.Header)}
	}
	ratios, note, err := countyRatios(*countiesPath, path)
	if err != nil {
		return err
	}
	if note != "" {
		fmt.Fprintf(stderr, "caucus: note: %s\n", note)
	}
	rep := bulk.Check(precincts, ratios, rules.Profile(*profile))
	if *asJSON {
		if err := writeCheckJSON(stdout, rep); err != nil {
			return err
		}
	} else {
		printCheck(stdout, rep)
	}
	if rep.Summary.Flagged > 0 {
		return &notRightError{}
	}
	return nil
}

// countyRatios reads the county ratios from --counties, or counties.csv beside the results.
func countyRatios(flagPath, resultsPath string) (bulk.Ratios, string, error) {
	path := flagPath
	if path == "" {
		path = filepath.Join(filepath.Dir(resultsPath), election.CountiesFile)
		if _, err := os.Stat(path); err != nil {
			return func(string) *big.Rat { return nil }, "no counties.csv beside the results and no --counties: SDEs are not recomputed", nil
		}
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, "", &hintError{err: err, hint: "--counties names a counties.csv (county_id,name,county_delegates,state_delegates)"}
	}
	counties, err := election.ReadCounties(data)
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", path, err)
	}
	m := make(map[string]*big.Rat, len(counties))
	for _, c := range counties {
		if r, ok := c.SDERatio(); ok {
			m[c.ID] = r
		}
	}
	return func(id string) *big.Rat { return m[id] }, "", nil
}

type checkJSON struct {
	Precincts []precinctJSON `json:"precincts"`
	Summary   summaryJSON    `json:"summary"`
}

type precinctJSON struct {
	PrecinctID       string         `json:"precinct_id"`
	County           string         `json:"county"`
	Precinct         string         `json:"precinct"`
	Checks           []rules.Check  `json:"checks"`
	Computed         map[string]int `json:"computed"`
	MatchesPublished bool           `json:"matches_published"`
}

type summaryJSON struct {
	Precincts  int            `json:"precincts"`
	Reproduced int            `json:"reproduced"`
	Flagged    int            `json:"flagged"`
	ByCheck    map[string]int `json:"by_check"`
}

func writeCheckJSON(w io.Writer, rep bulk.Report) error {
	out := checkJSON{Precincts: make([]precinctJSON, 0, len(rep.Precincts))}
	for _, p := range rep.Precincts {
		pj := precinctJSON{PrecinctID: p.ID, County: p.County, Precinct: p.Name, Checks: p.Result.Checks,
			Computed: map[string]int{}, MatchesPublished: p.Reproduced}
		if pj.Checks == nil {
			pj.Checks = []rules.Check{}
		}
		for id, n := range p.Computed {
			pj.Computed[id] = int(n)
		}
		out.Precincts = append(out.Precincts, pj)
	}
	s := rep.Summary
	out.Summary = summaryJSON{Precincts: s.Precincts, Reproduced: s.Reproduced, Flagged: s.Flagged, ByCheck: map[string]int{}}
	for id, n := range s.ByCheck {
		out.Summary.ByCheck[string(id)] = n
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

// printCheck writes every flagged precinct, grouped by check ID, then the summary table.
func printCheck(w io.Writer, rep bulk.Report) {
	byCheck := map[rules.CheckID][]string{}
	for _, p := range rep.Precincts {
		for _, c := range p.Result.Checks {
			byCheck[c.ID] = append(byCheck[c.ID], fmt.Sprintf("  %s (%s, %s): %s", p.ID, p.County, p.Name, c.Message))
		}
	}
	ids := make([]rules.CheckID, 0, len(byCheck))
	for id := range byCheck {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		fmt.Fprintf(w, "%s %s: %d precincts\n", id, id.Title(), len(byCheck[id]))
		for _, line := range byCheck[id] {
			fmt.Fprintln(w, line)
		}
		fmt.Fprintln(w)
	}
	s := rep.Summary
	fmt.Fprintln(w, "Summary")
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "  precincts\t%d\n", s.Precincts)
	fmt.Fprintf(tw, "  with a county ratio (SDEs recomputed)\t%d\n", s.WithRatio)
	fmt.Fprintf(tw, "  reproduce the published SDEs exactly\t%d\n", s.Reproduced)
	fmt.Fprintf(tw, "  flagged (at least one check)\t%d\n", s.Flagged)
	tw.Flush()
	if len(ids) > 0 {
		fmt.Fprintln(w, "\n  check  precincts  what")
		for _, id := range ids {
			fmt.Fprintf(w, "  %s  %9d  %s\n", id, s.ByCheck[id], id.Title())
		}
	}
}
