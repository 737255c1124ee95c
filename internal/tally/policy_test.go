package tally_test

import (
	"errors"
	"strings"
	"testing"

	"caucus/internal/election/electiontest"
	"caucus/internal/results"
	"caucus/internal/rules"
	"caucus/internal/store"
	"caucus/internal/tally"
)

// TestPolicyWithheld: under the withheld policy a precinct under review (a conflict) adds
// nothing to any total and its page shows no numbers, but it is listed (status, withheld, the
// count of withheld precincts); once a reviewer decides, its numbers count again. The marked
// policy publishes the same log with the first report's numbers in the totals. The incremental
// tally and the recount agree under both.
func TestPolicyWithheld(t *testing.T) {
	first := rules.Counts{"a": 20, "b": 10, "c": 5}
	other := rules.Counts{"a": 15, "b": 15, "c": 5}
	two := rules.Counts{"a": 3, "b": 30, "c": 2}
	def := small(t)
	l := electiontest.NewLog("small")
	must(t)(l.Report(rep(l, "adair-1", 35, first, first), store.StatusAccepted))
	must(t)(l.Report(rep(l, "adair-2", 35, two, two), store.StatusAccepted))
	must(t)(l.Report(rep(l, "adair-1", 35, other, other), store.StatusAccepted)) // a conflict
	conflict := len(l.Entries)
	must(t)(l.Review("adair-1", store.StatusAccepted, ptr[int64](2), "the second is the worksheet"))

	for _, tt := range []struct {
		policy    results.Policy
		reporting int
		withheld  int
		want      rules.Counts // the state's first alignment while adair-1 is under review
	}{
		{results.Policy{UnderReview: results.PolicyMarked}, 2, 0, rules.Counts{"a": 23, "b": 40, "c": 7}},
		{results.Policy{UnderReview: results.PolicyWithheld}, 1, 1, two},
	} {
		t.Run(tt.policy.UnderReview, func(t *testing.T) {
			ta := tally.New(def)
			if err := ta.SetPolicy(tt.policy); err != nil {
				t.Fatal(err)
			}
			if err := ta.Apply(l.Entries[:conflict]...); err != nil {
				t.Fatal(err)
			}
			s := ta.Snapshot()
			r := resultsOf(t, s)
			if r.PublicationPolicy == nil || *r.PublicationPolicy != tt.policy {
				t.Errorf("publication_policy %v, want %v", r.PublicationPolicy, tt.policy)
			}
			if r.PrecinctsReporting != tt.reporting || r.PrecinctsWithheld != tt.withheld {
				t.Errorf("reporting %d, withheld %d; want %d, %d", r.PrecinctsReporting, r.PrecinctsWithheld, tt.reporting, tt.withheld)
			}
			for _, c := range r.Candidates {
				if c.First != tt.want[c.CandidateID] {
					t.Errorf("%s first %d, want %d", c.CandidateID, c.First, tt.want[c.CandidateID])
				}
			}
			p := precinctOf(t, s, "adair-1")
			withheld := tt.policy.Withholds()
			if p.Status != results.UnderReview || p.Withheld != withheld || p.CountedEntry == nil || *p.CountedEntry != 0 {
				t.Errorf("adair-1: status %s, withheld %v, counted %v", p.Status, p.Withheld, p.CountedEntry)
			}
			if withheld && (len(p.Groups) != 0 || p.Attendees != nil || len(p.Checks) != 0) {
				t.Errorf("adair-1 withheld shows numbers: %+v", p)
			}
			if !withheld && len(p.Groups) == 0 {
				t.Errorf("adair-1 marked shows no numbers")
			}
			if row := countyOf(t, s, "adair").Precincts[0]; row.Withheld != withheld || row.Status != results.UnderReview {
				t.Errorf("county row %+v", row)
			}
			csv, _ := s.CSV()
			if got := strings.Contains(string(csv), "adair-1"); got == withheld {
				t.Errorf("results.csv has adair-1: %v, withheld %v", got, withheld)
			}
			mustRecountPolicy(t, def, l.Entries[:conflict], s, tt.policy)
			var lines int
			for line := range s.Lines {
				if line.PrecinctID == "adair-1" && (!line.Conflict || line.Withheld != withheld || line.Channel != "app" || line.Reports != 2) {
					t.Errorf("line %+v", line)
				}
				lines++
			}
			if lines != 3 {
				t.Errorf("%d lines, want 3", lines)
			}

			// The reviewer decides: the second report counts, under either policy.
			if err := ta.Apply(l.Entries[conflict:]...); err != nil {
				t.Fatal(err)
			}
			s = ta.Snapshot()
			r = resultsOf(t, s)
			if r.PrecinctsReporting != 2 || r.PrecinctsWithheld != 0 || r.Candidates[0].First != other["a"]+two["a"] {
				t.Errorf("after review: reporting %d, withheld %d, a first %d", r.PrecinctsReporting, r.PrecinctsWithheld, r.Candidates[0].First)
			}
			mustRecountPolicy(t, def, l.Entries, s, tt.policy)

			// Set before the night only: the policy in force is accepted again, another refused.
			if err := ta.SetPolicy(tt.policy); err != nil {
				t.Errorf("the same policy again: %v", err)
			}
			other := results.Policy{UnderReview: results.PolicyMarked}
			if !withheld {
				other.UnderReview = results.PolicyWithheld
			}
			if err := ta.SetPolicy(other); !errors.Is(err, tally.ErrPolicyLocked) {
				t.Errorf("SetPolicy after entries: %v, want ErrPolicyLocked", err)
			}
			if ta.Policy() != tt.policy {
				t.Errorf("policy %v after a refused change, want %v", ta.Policy(), tt.policy)
			}
		})
	}
	if err := tally.New(def).SetPolicy(results.Policy{UnderReview: "hidden"}); err == nil {
		t.Error("an unknown policy was taken")
	}
}

func mustRecountPolicy(t *testing.T, _ any, entries []store.Entry, s *tally.Snapshot, p results.Policy) {
	t.Helper()
	r, err := tally.RecountWithPolicy(small(t), entries, tally.Log{}, p)
	if err != nil {
		t.Fatal(err)
	}
	if d := s.Diff(r); d != "" {
		a, _ := s.Results()
		b, _ := r.Results()
		t.Fatalf("incremental and recount differ in %s\nincremental: %s\nrecount:     %s", d, a, b)
	}
}
