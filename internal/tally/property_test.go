package tally_test

import (
	"testing"

	"pgregory.net/rapid"

	"caucus/internal/election"
	"caucus/internal/election/electiontest"
	"caucus/internal/results"
	"caucus/internal/rules"
	"caucus/internal/tally"
)

// TestIncrementalEqualsRecount is spec/reliability.md C6: after any sequence of reports,
// conflicts, corrections and reviews, applied in batches of any size, the incremental snapshot
// publishes the same bytes as a recount from scratch, the totals are the sums of the precincts,
// and no count is negative. It checks after every batch, not only at the end.
func TestIncrementalEqualsRecount(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		o := electiontest.Options{Profile: rapid.SampledFrom([]rules.Profile{rules.IowaDem2020,
			rules.IowaDem2020, rules.StrawPoll}).Draw(t, "profile"),
			MaxGroups: 4, MaxPeople: 60, MaxD: 9, Impossible: true}
		def := electiontest.Definition(t, o)
		entries := electiontest.Entries(t, def, o, 25)
		ta := tally.New(def)
		for at := 0; at < len(entries); {
			n := rapid.IntRange(1, len(entries)-at).Draw(t, "batch")
			if err := ta.Apply(entries[at : at+n]...); err != nil {
				t.Fatal(err)
			}
			at += n
			s := ta.Snapshot()
			mustRecount(t, def, entries[:at], s)
			checkSums(t, s, def.Counties(), len(def.Precincts()))
		}
	})
}

// checkSums checks that the state is the sum of the counties and each county the sum of its
// precincts' groups, with SDEs within the rounding bound of R13, and that nothing is negative.
func checkSums(t tb, s *tally.Snapshot, cs []election.County, total int) {
	t.Helper()
	r := resultsOf(t, s)
	b, _ := s.Counties()
	all := decode[counties](t, b)
	if r.PrecinctsTotal != total || len(all.Counties) != len(cs) || all.LogSize != r.LogSize {
		t.Fatalf("results: %d precincts, %d counties, log size %d vs %d", r.PrecinctsTotal, len(all.Counties), all.LogSize, r.LogSize)
	}
	reporting := 0
	state := make([]candidate, len(r.Candidates))
	stateSDE := make([]int64, len(r.Candidates))
	var roundedPrecincts int64
	for _, c := range all.Counties {
		detail := countyOf(t, s, c.CountyID)
		if detail.PrecinctsReporting != c.PrecinctsReporting || len(detail.Precincts) != c.PrecinctsTotal {
			t.Fatalf("county %s: detail and list differ", c.CountyID)
		}
		reporting += c.PrecinctsReporting
		sum := make([]candidate, len(c.Candidates))
		countySDE := make([]int64, len(c.Candidates))
		n := 0
		for _, row := range detail.Precincts {
			p := precinctOf(t, s, row.PrecinctID)
			if p.CountedEntry == nil {
				if row.Status != results.NotReported || len(p.Groups) != 0 {
					t.Fatalf("precinct %s: status %s without a counted entry", p.PrecinctID, row.Status)
				}
				continue
			}
			n++
			roundedPrecincts++
			for i := range c.Candidates {
				g := p.Groups[i]
				if g.CandidateID != c.Candidates[i].CandidateID {
					t.Fatalf("precinct %s: group %d is %s, want ballot order", p.PrecinctID, i, g.CandidateID)
				}
				if g.First < 0 || g.Final < 0 || (g.Delegates != nil && *g.Delegates < 0) {
					t.Fatalf("precinct %s: negative count %+v", p.PrecinctID, g)
				}
				sum[i].First += g.First
				sum[i].Final += g.Final
				if g.Delegates != nil {
					sum[i].CountyDelegates = ptr(deref(sum[i].CountyDelegates) + *g.Delegates)
				}
				if g.SDE != nil {
					countySDE[i] += tenths(t, *g.SDE)
				}
			}
		}
		if n != c.PrecinctsReporting {
			t.Fatalf("county %s: %d precincts counted, %d reporting", c.CountyID, n, c.PrecinctsReporting)
		}
		for i, got := range c.Candidates {
			want := sum[i]
			if got.First != want.First || got.Final != want.Final || deref(got.CountyDelegates) != deref(want.CountyDelegates) {
				t.Fatalf("county %s, %s: %+v, precincts add up to %+v", c.CountyID, got.CandidateID, got, want)
			}
			if got.First < 0 || got.Final < 0 || deref(got.CountyDelegates) < 0 {
				t.Fatalf("county %s: negative total %+v", c.CountyID, got)
			}
			if got.SDE != nil {
				v := tenths(t, *got.SDE)
				// Each precinct's SDE is rounded to ±0.00005, the county's once more.
				if d := v - countySDE[i]; d*2 > int64(n)+1 || -d*2 > int64(n)+1 {
					t.Fatalf("county %s, %s: SDE %s, precincts add up to %d ten-thousandths", c.CountyID, got.CandidateID, *got.SDE, countySDE[i])
				}
				stateSDE[i] += countySDE[i]
			}
			state[i].First += got.First
			state[i].Final += got.Final
			state[i].CountyDelegates = ptr(deref(state[i].CountyDelegates) + deref(got.CountyDelegates))
		}
	}
	if reporting != r.PrecinctsReporting {
		t.Fatalf("precincts_reporting %d, counties add up to %d", r.PrecinctsReporting, reporting)
	}
	for i, got := range r.Candidates {
		if got.First != state[i].First || got.Final != state[i].Final || deref(got.CountyDelegates) != deref(state[i].CountyDelegates) {
			t.Fatalf("state %s: %+v, counties add up to %+v", got.CandidateID, got, state[i])
		}
		if got.SDE != nil {
			if d := tenths(t, *got.SDE) - stateSDE[i]; d*2 > roundedPrecincts+1 || -d*2 > roundedPrecincts+1 {
				t.Fatalf("state %s: SDE %s, precincts add up to %d ten-thousandths", got.CandidateID, *got.SDE, stateSDE[i])
			}
		}
	}
}

func deref(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}

// tenths reads an SDE string with exactly 4 decimals as ten-thousandths.
func tenths(t tb, s string) int64 {
	t.Helper()
	r, err := rules.ParseDecimal(s)
	if err != nil || len(s) < 6 || s[len(s)-5] != '.' {
		t.Fatalf("sde %q is not a decimal with 4 places", s)
	}
	return rules.RoundSDE(r).Int64()
}
