package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"caucus/internal/rules"
)

const calcHelp = `Usage: caucus calc [--rules NAME] [--json] < precinct.json

Does the caucus math for one precinct: viability, delegates, SDEs when the county ratio is
given ("sde_ratio": "4/51"), and every consistency check that fires. The input is the precinct
report of spec/interfaces.md plus delegates_to_elect and the optional fields of
spec/caucus-rules.md (§1, §5b).

Flags:
	--rules NAME   iowa-dem-2020 (default), nevada-dem-2020 or straw-poll; overrides "rules"
	--json         print the result as JSON (the contract's format) instead of a table

Exit status: 0 when no error check fired, 1 when one did, 2 on a usage error.
`

func runCalc(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlags("calc")
	profile := fs.String("rules", "", "")
	asJSON := fs.Bool("json", false, "")
	if err := parseFlags(fs, args, calcHelp, stdout); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return &usageError{err: fmt.Errorf("unexpected argument %q", fs.Arg(0)), hint: "caucus calc reads the precinct from standard input: caucus calc < precinct.json"}
	}
	if *profile != "" && !rules.Profile(*profile).Known() {
		return &usageError{err: fmt.Errorf("unknown rules %q", *profile), hint: "use iowa-dem-2020, nevada-dem-2020 or straw-poll"}
	}
	data, err := io.ReadAll(io.LimitReader(stdin, rules.MaxInputBytes+1))
	if err != nil {
		return fmt.Errorf("read standard input: %w", err)
	}
	var res rules.Result
	if len(data) > rules.MaxInputBytes {
		res = rules.CalcJSON([]byte("{}"), rules.Profile(*profile))
		res.Checks[0] = rules.InvalidInput(fmt.Sprintf("the input is larger than %d bytes; a precinct report is a few hundred", rules.MaxInputBytes))
	} else {
		res = rules.CalcJSON(data, rules.Profile(*profile))
	}
	if *asJSON {
		out, err := json.MarshalIndent(res, "", "  ")
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s\n", out)
	} else {
		printResult(stdout, res)
	}
	if res.HasErrors() {
		return &notRightError{}
	}
	return nil
}

// printResult writes a result as a table for people.
func printResult(w io.Writer, res rules.Result) {
	fmt.Fprintf(w, "rules %s", res.Rules)
	if res.DelegatesToElect != nil {
		fmt.Fprintf(w, ", %d delegates to elect", *res.DelegatesToElect)
	}
	if res.Attendees != nil {
		fmt.Fprintf(w, ", %d signed in", *res.Attendees)
	}
	if res.Participants != nil {
		fmt.Fprintf(w, ", %d participants with early cards", *res.Participants)
	}
	if res.Threshold != nil {
		fmt.Fprintf(w, ", viability threshold %d", *res.Threshold)
	}
	fmt.Fprintln(w)
	if res.EarlyExhausted != nil && *res.EarlyExhausted > 0 {
		fmt.Fprintf(w, "%d early cards had no viable choice\n", *res.EarlyExhausted)
	}
	if len(res.Groups) > 0 {
		fmt.Fprintln(w)
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "group\tfirst\tfinal\tviable\tdelegates\tSDE\t")
		for _, g := range res.Groups {
			fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%s\t%s\t\n", g.CandidateID, g.First, g.Final,
				yesNo(g.Viable), orDash(g.Delegates), orDashStr(g.SDE))
		}
		tw.Flush()
	}
	for _, t := range res.TiebreaksNeeded {
		fmt.Fprintf(w, "\ngame of chance needed (%s): %s, for %d\n", t.Kind, strings.Join(t.Between, ", "), t.Delegates)
	}
	if len(res.Checks) > 0 {
		fmt.Fprintln(w)
		for _, c := range res.Checks {
			fmt.Fprintf(w, "%-7s  %s\n", c.Severity, c.Message)
		}
	} else {
		fmt.Fprintln(w, "\nno checks fired")
	}
}

func yesNo(b *bool) string {
	switch {
	case b == nil:
		return "-"
	case *b:
		return "yes"
	}
	return "no"
}

func orDash(n *int64) string {
	if n == nil {
		return "-"
	}
	return fmt.Sprint(*n)
}

func orDashStr(s *string) string {
	if s == nil {
		return "-"
	}
	return *s
}
