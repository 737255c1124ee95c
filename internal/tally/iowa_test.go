package tally_test

import (
	"os"
	"sync"
	"testing"

	"caucus/internal/election"
	"caucus/internal/election/electiontest"
	"caucus/internal/report"
	"caucus/internal/resultscsv"
	"caucus/internal/rules"
	"caucus/internal/store"
	"caucus/internal/tally"
)

const iowaCSV = "../shareddata/testdata/data/iowa-2020/precincts.csv"

// iowaNight is the 2020 Iowa structure and one report per precinct built from the published
// results: attendees = max(Σ first, Σ final), as caucus check reads them (R22). Reports that
// rules.Calc refuses with an error check, as intake would, are left out and counted.
type iowaNight struct {
	def     *election.Definition
	entries []store.Entry
	refused int
	by      map[rules.CheckID]int // refused reports by error check
}

var iowa = sync.OnceValues(func() (*iowaNight, error) {
	def, err := election.Iowa2020()
	if err != nil {
		return nil, err
	}
	f, err := os.Open(iowaCSV)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	published, err := resultscsv.Read(f)
	if err != nil {
		return nil, err
	}
	n := &iowaNight{def: def, by: map[rules.CheckID]int{}}
	l := electiontest.NewLog(def.Election().ID)
	var ids []string
	names := map[string]string{}
	for _, c := range def.Candidates() {
		ids = append(ids, c.ID)
		names[c.ID] = c.Name
	}
	for _, pp := range published {
		p, ok := def.Precinct(pp.ID)
		if !ok {
			continue
		}
		r := report.Report{ReportID: l.NewReportID(), PrecinctID: p.ID,
			Attendees: max(pp.First.Sum(), pp.Final.Sum()), First: pp.First, Final: pp.Final,
			Channel: report.ChannelApp}
		c, _ := def.CountyOf(p.ID)
		ratio, _ := c.SDERatio()
		res := rules.Calc(report.CalcInput(r, report.Precinct{Rules: rules.Profile(def.Election().Rules),
			DelegatesToElect: int64(p.DelegatesToElect), Satellite: p.Satellite, Ratio: ratio,
			Candidates: ids, Names: names}))
		if res.HasErrors() {
			n.refused++
			for _, c := range res.Checks {
				if c.Severity == rules.Error {
					n.by[c.ID]++
				}
			}
			continue
		}
		status := store.StatusAccepted
		if len(res.Checks) > 0 {
			status = store.StatusUnderReview
		}
		if _, err := l.Report(r, status); err != nil {
			return nil, err
		}
	}
	n.entries = l.Entries
	return n, nil
})

func mustIowa(t interface{ Fatalf(string, ...any) }) *iowaNight {
	n, err := iowa()
	if err != nil {
		t.Fatalf("2020 Iowa night from %s: %v", iowaCSV, err)
	}
	return n
}

// TestIowa2020 feeds the embedded 2020 definition one report per precinct: every report that
// intake would accept makes its precinct reporting, and rebuilding the tally from the same
// entries, in other batch sizes or from scratch, gives byte-identical documents.
func TestIowa2020(t *testing.T) {
	n := mustIowa(t)
	t.Logf("%d reports, %d refused by the math (error checks: %v)", len(n.entries), n.refused, n.by)
	if len(n.entries)+n.refused != len(n.def.Precincts()) {
		t.Errorf("%d reports + %d refused, want %d precincts", len(n.entries), n.refused, len(n.def.Precincts()))
	}
	ta := tally.New(n.def)
	for _, e := range n.entries {
		if err := ta.Apply(e); err != nil {
			t.Fatal(err)
		}
	}
	s := ta.Snapshot()
	r := resultsOf(t, s)
	if r.PrecinctsReporting != len(n.entries) || r.PrecinctsTotal != 1765 || r.LogSize != int64(len(n.entries)) {
		t.Errorf("reporting %d of %d, log size %d; want %d of 1765", r.PrecinctsReporting, r.PrecinctsTotal, r.LogSize, len(n.entries))
	}
	for _, c := range r.Candidates {
		if c.First > 0 {
			t.Logf("%-12s first %6d final %6d county delegates %5d sde %s", c.CandidateID, c.First, c.Final, *c.CountyDelegates, *c.SDE)
		}
	}

	// After a restart: the same entries in one batch, then in batches of 100.
	again := tally.New(n.def)
	if err := again.Apply(n.entries...); err != nil {
		t.Fatal(err)
	}
	if d := s.Diff(again.Snapshot()); d != "" {
		t.Errorf("rebuilt in one batch: differs in %s", d)
	}
	chunks := tally.New(n.def)
	for at := 0; at < len(n.entries); at += 100 {
		if err := chunks.Apply(n.entries[at:min(at+100, len(n.entries))]...); err != nil {
			t.Fatal(err)
		}
	}
	if d := s.Diff(chunks.Snapshot()); d != "" {
		t.Errorf("rebuilt in batches of 100: differs in %s", d)
	}
	mustRecount(t, n.def, n.entries, s)
	checkSums(t, s, n.def.Counties(), 1765)

	// results.csv reads back with the precincts that reported and their published numbers.
	body, _ := s.CSV()
	back, err := resultscsv.Read(bytesReader(body))
	if err != nil {
		t.Fatalf("results.csv does not read back: %v", err)
	}
	if len(back) != len(n.entries) {
		t.Errorf("results.csv has %d precincts, want %d", len(back), len(n.entries))
	}
}

// TestViableFirst: on the 2020 night, every group of every reporting precinct says whether it
// was viable at the first alignment, which is its first count reaching the threshold (at least
// one person), and some group of some precinct was viable at one alignment and not the other.
func TestViableFirst(t *testing.T) {
	n := mustIowa(t)
	ta := tally.New(n.def)
	if err := ta.Apply(n.entries...); err != nil {
		t.Fatal(err)
	}
	s := ta.Snapshot()
	var groups, differ int
	for _, p := range n.def.Precincts() {
		doc := precinctOf(t, s, p.ID)
		if doc.CountedEntry == nil {
			continue
		}
		for _, g := range doc.Groups {
			groups++
			if g.ViableFirst == nil || g.Viable == nil {
				t.Fatalf("precinct %s group %s: viable_first %v, viable %v; want both", p.ID, g.CandidateID, g.ViableFirst, g.Viable)
			}
			// No threshold (no delegates to elect): no group is viable.
			if want := doc.Threshold != nil && g.First >= max(*doc.Threshold, 1); *g.ViableFirst != want {
				t.Errorf("precinct %s group %s: first %d, threshold %v, viable_first %v", p.ID, g.CandidateID, g.First, doc.Threshold, *g.ViableFirst)
			}
			if *g.ViableFirst != *g.Viable {
				differ++
			}
		}
	}
	t.Logf("%d groups, %d viable at one alignment only", groups, differ)
	if groups == 0 || differ == 0 {
		t.Errorf("%d groups, %d viable at one alignment only: the night should have both", groups, differ)
	}
}
