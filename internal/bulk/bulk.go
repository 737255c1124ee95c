// Package bulk checks published precinct results in bulk, as `caucus check` does (spec
// caucus-rules.md R22): it rebuilds each precinct's calc input from the published numbers,
// recomputes delegates and SDEs with internal/rules, and reports every inconsistency by check ID
// with a summary. It is pure (no I/O); reading the CSV is internal/resultscsv's job.
package bulk

import (
	"maps"
	"math/big"
	"slices"

	"caucus/internal/resultscsv"
	"caucus/internal/rules"
)

// Ratios gives a county's SDE ratio (state ÷ county delegates), or nil when it is not known.
type Ratios func(countyID string) *big.Rat

// Precinct is the outcome for one precinct of the file.
type Precinct struct {
	ID, County, Name string
	Result           rules.Result
	// Computed is the computed delegates per candidate: the outcome the published numbers show
	// when they are one outcome of an open game of chance (R22), else the less favourable one.
	Computed rules.Counts
	// Reproduced is true when a ratio is known and every candidate's computed SDE equals the
	// published one exactly.
	Reproduced bool
	// TieFromPublished is true when an open game of chance was settled from the published SDEs.
	TieFromPublished bool
}

// Summary counts the whole file.
type Summary struct {
	Precincts  int
	Reproduced int
	Flagged    int // precincts with at least one check
	WithRatio  int // precincts whose county ratio is known
	ByCheck    map[rules.CheckID]int
}

// Report is the outcome for a whole file.
type Report struct {
	Precincts []Precinct
	Summary   Summary
}

// Check checks every precinct of a file under the given rules profile.
func Check(ps []resultscsv.Precinct, ratio Ratios, profile rules.Profile) Report {
	bySig := make(map[string][]string, len(ps))
	for _, p := range ps {
		sig := rules.Signature(p.First, p.Final)
		bySig[sig] = append(bySig[sig], p.ID)
	}
	rep := Report{Precincts: make([]Precinct, 0, len(ps)), Summary: Summary{ByCheck: map[rules.CheckID]int{}}}
	for _, p := range ps {
		out := checkOne(p, ratio(p.CountyID), profile, func(sig string) string {
			for _, id := range bySig[sig] {
				if id != p.ID {
					return id
				}
			}
			return ""
		})
		rep.Precincts = append(rep.Precincts, out)
		s := &rep.Summary
		s.Precincts++
		if out.Reproduced {
			s.Reproduced++
		}
		if ratio(p.CountyID) != nil {
			s.WithRatio++
		}
		if len(out.Result.Checks) > 0 {
			s.Flagged++
		}
		for _, c := range out.Result.Checks {
			s.ByCheck[c.ID]++
		}
	}
	return rep
}

// Input builds the calc input of one published precinct (R22).
func Input(p resultscsv.Precinct, rho *big.Rat, profile rules.Profile) rules.Input {
	in := rules.Input{
		Rules:               profile,
		Mode:                rules.Bulk,
		Attendees:           max(p.First.Sum(), p.Final.Sum()),
		DelegatesToElect:    p.DelegatesToElect,
		HasDelegatesToElect: p.HasDelegatesToElect,
		Satellite:           p.Satellite,
		First:               p.First,
		Final:               p.Final,
		SDERatio:            rho,
		SDE:                 make(map[string]*big.Rat, len(p.SDE)),
		Candidates:          make([]string, len(p.Candidates)),
		Names:               make(map[string]string, len(p.Candidates)),
	}
	for i, c := range p.Candidates {
		in.Candidates[i] = c.ID
		in.Names[c.ID] = c.Name
	}
	for id, s := range p.SDE {
		in.SDE[id], _ = rules.ParseDecimal(s) // resultscsv.Read checked the grammar
	}
	return in
}

func checkOne(p resultscsv.Precinct, rho *big.Rat, profile rules.Profile, dup func(string) string) Precinct {
	in := Input(p, rho, profile)
	in.Duplicates = dup
	res := rules.Calc(in)
	out := Precinct{ID: p.ID, County: p.County, Name: p.Name, Result: res}
	if res.TieOpen() && rho != nil {
		if settled, ok := settleFromPublished(in, res, rho); ok {
			out.Result, out.TieFromPublished = settled, true
		}
	}
	out.Computed = out.Result.DelegatesByGroup()
	if rho != nil && !out.Result.TieOpen() {
		out.Reproduced = true
		for _, g := range out.Result.Groups {
			if g.SDE == nil {
				out.Reproduced = false
				break
			}
			computed, _ := rules.ParseDecimal(*g.SDE)
			published := new(big.Rat)
			if s, ok := p.SDE[g.CandidateID]; ok {
				published, _ = rules.ParseDecimal(s)
			}
			if computed.Cmp(published) != 0 {
				out.Reproduced = false
				break
			}
		}
	}
	return out
}

// settleFromPublished reads the winners of an open game of chance from the published SDEs (R22):
// a tied group's published delegates are round-half-up(SDE ÷ ρ); those above the less favourable
// outcome won. If recording them settles the tie with no C14, that is the precinct's result, with
// C13 kept as a warning.
func settleFromPublished(in rules.Input, res rules.Result, rho *big.Rat) (rules.Result, bool) {
	tie := res.TiebreaksNeeded[0]
	shown := res.DelegatesByGroup()
	for _, id := range tie.Between {
		pub := in.SDE[id]
		if pub == nil {
			pub = new(big.Rat)
		}
		if rules.DelegatesFromSDE(pub, rho) > shown[id] {
			in.Tiebreaks = append(in.Tiebreaks, rules.Tiebreak{Kind: tie.Kind, Between: tie.Between, Winner: id})
		}
	}
	if len(in.Tiebreaks) == 0 {
		return res, false
	}
	again := rules.Calc(in)
	if again.TieOpen() || again.Has(rules.C14) {
		return res, false
	}
	for _, c := range res.Checks {
		if c.ID == rules.C13 {
			args := maps.Clone(c.Args)
			args["settled"] = rules.Text("published")
			again.Checks = append(again.Checks, rules.NewCheck(c.ID, rules.Warning, args))
		}
	}
	slices.SortFunc(again.Checks, func(a, b rules.Check) int {
		switch {
		case a.ID < b.ID:
			return -1
		case a.ID > b.ID:
			return 1
		}
		return 0
	})
	return again, true
}
