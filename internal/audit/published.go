package audit

import (
	"errors"
	"fmt"
	"math/big"

	"caucus/internal/bulk"
	"caucus/internal/resultscsv"
	"caucus/internal/rules"
)

// Election is the three contests of published precinct results (the long results CSV), with what
// the hand counts of its precincts need: each precinct's published row, its county's SDE ratio
// and the games of chance its published numbers record.
type Election struct {
	Contests  []*Contest // First, Final, SDE, in that order
	profile   rules.Profile
	ratio     bulk.Ratios
	precincts map[string]resultscsv.Precinct
	recorded  map[string][]rules.Tiebreak
}

// ErrNoRatio means the rules computed no SDEs (no county ratio was given).
var ErrNoRatio = errors.New("the county's SDE ratio is not known")

// ErrUnknownPrecinct means a hand count names a precinct the results do not have.
var ErrUnknownPrecinct = errors.New("no such precinct in the results")

// FromPublished builds the contests of published results (spec R22 reads them):
//   - first and final alignment: a precinct's tallies are its counts and b_p its attendance
//     A = max(Σ first, Σ final);
//   - SDEs: a precinct's tallies are its published SDEs, and b_p the most SDEs it can award, the
//     larger of the sum of its published SDEs and, when its county's ratio is known, the SDEs of
//     all its delegates (rules.SDE(D, ρ), D as the rules compute it from its published counts):
//     a loser's hand-counted SDEs can never exceed the latter, and the former keeps the bound
//     valid when the published SDEs were over-allocated.
//
// The games of chance each precinct's published SDEs record (R22) are kept for its hand count.
func FromPublished(ps []resultscsv.Precinct, ratio bulk.Ratios, profile rules.Profile) (*Election, error) {
	if len(ps) == 0 {
		return nil, ErrNoBatches
	}
	e := &Election{profile: profile, ratio: ratio, precincts: make(map[string]resultscsv.Precinct, len(ps)),
		recorded: map[string][]rules.Tiebreak{}}
	rep := bulk.Check(ps, ratio, profile)
	var candidates []string
	seenCand := map[string]bool{}
	first, final, sde := make([]Batch, len(ps)), make([]Batch, len(ps)), make([]Batch, len(ps))
	for i, p := range ps {
		e.precincts[p.ID] = p
		for _, c := range p.Candidates {
			if !seenCand[c.ID] {
				seenCand[c.ID] = true
				candidates = append(candidates, c.ID)
			}
		}
		attendance := new(big.Rat).SetInt64(max(p.First.Sum(), p.Final.Sum()))
		first[i] = Batch{ID: p.ID, Reported: people(p.First), Bound: attendance}
		final[i] = Batch{ID: p.ID, Reported: people(p.Final), Bound: attendance}
		reported, total := Tally{}, new(big.Rat)
		for id, s := range p.SDE {
			v, err := rules.ParseDecimal(s)
			if err != nil {
				return nil, fmt.Errorf("precinct %s: sde of %s: %w", p.ID, id, err)
			}
			reported[id] = v
			total.Add(total, v)
		}
		res := rep.Precincts[i].Result
		if rho := ratio(p.CountyID); rho != nil && res.DelegatesToElect != nil {
			all, err := rules.ParseDecimal(rules.SDE(*res.DelegatesToElect, rho))
			if err != nil {
				return nil, fmt.Errorf("precinct %s: %w", p.ID, err)
			}
			if all.Cmp(total) > 0 {
				total = all
			}
		}
		sde[i] = Batch{ID: p.ID, Reported: reported, Bound: total}
		if rep.Precincts[i].TieFromPublished {
			for _, t := range res.TiebreaksSettled {
				e.recorded[p.ID] = append(e.recorded[p.ID], rules.Tiebreak{Kind: t.Kind, Between: t.Between, Winner: t.Winner})
			}
		}
	}
	for _, k := range []struct {
		kind    Kind
		batches []Batch
	}{{First, first}, {Final, final}, {SDE, sde}} {
		c, err := NewContest(k.kind, candidates, k.batches)
		if err != nil {
			return nil, fmt.Errorf("%s contest: %w", k.kind, err)
		}
		e.Contests = append(e.Contests, c)
	}
	return e, nil
}

// Contest returns the contest of this kind.
func (e *Election) Contest(k Kind) *Contest {
	for _, c := range e.Contests {
		if c.Kind == k {
			return c
		}
	}
	return nil
}

func people(c rules.Counts) Tally {
	t := make(Tally, len(c))
	for id, n := range c {
		t[id] = new(big.Rat).SetInt64(n)
	}
	return t
}

// HandCount turns one precinct's hand count of its preference cards (each candidate's first and
// final alignment) into each contest's possible outcomes: the counts themselves for first and
// final alignment, and for SDEs the outcomes of HandSDE. When the rules cannot compute the
// precinct's SDEs because its county's ratio is not known (2020's satellites), the SDE outcome is
// the worst the bound allows, the winner at 0 and every loser at b_p: its overstatement is its
// whole bound u_p, so drawing it sends the SDE contest to a full hand count.
func (e *Election) HandCount(precinctID string, first, final rules.Counts) (map[Kind][]Tally, error) {
	p, ok := e.precincts[precinctID]
	if !ok {
		return nil, fmt.Errorf("%w: %s", ErrUnknownPrecinct, precinctID)
	}
	out := map[Kind][]Tally{First: {people(first)}, Final: {people(final)}}
	rho := e.ratio(p.CountyID)
	if rho == nil {
		out[SDE] = []Tally{e.worstSDE(precinctID)}
		return out, nil
	}
	in := bulk.Input(p, rho, e.profile)
	in.First, in.Final = first, final
	in.Attendees = max(first.Sum(), final.Sum())
	in.SDE = nil
	in.Tiebreaks = e.recorded[precinctID]
	sdes, err := HandSDE(in)
	if err != nil {
		return nil, fmt.Errorf("precinct %s: %w", precinctID, err)
	}
	out[SDE] = sdes
	return out, nil
}

// worstSDE is the SDE outcome least favourable to the reported winner that the bound allows.
func (e *Election) worstSDE(precinctID string) Tally {
	c := e.Contest(SDE)
	b := c.Batches[c.Index(precinctID)]
	t := Tally{c.Winner: new(big.Rat)}
	for _, l := range c.Losers {
		t[l] = b.Bound
	}
	return t
}

// maxTieDepth bounds how many games of chance HandSDE plays out one after another.
const maxTieDepth = 6

// HandSDE computes a precinct's SDEs from its hand count by internal/rules, with the games of
// chance recorded in in.Tiebreaks. When the hand count needs a game of chance that was not
// played (the reported counts did not tie, the hand-counted ones do), every outcome of it is
// returned, so that the audit takes the one least favourable to the reported winner.
func HandSDE(in rules.Input) ([]Tally, error) {
	return handSDE(in, 0)
}

func handSDE(in rules.Input, depth int) ([]Tally, error) {
	res := rules.Calc(in)
	if res.Has(rules.C01) {
		return nil, fmt.Errorf("the hand count is not a valid precinct: %v", res.Checks)
	}
	if !res.TieOpen() {
		t := Tally{}
		for _, g := range res.Groups {
			if g.SDE == nil {
				return nil, ErrNoRatio
			}
			v, err := rules.ParseDecimal(*g.SDE)
			if err != nil {
				return nil, err
			}
			t[g.CandidateID] = v
		}
		return []Tally{t}, nil
	}
	if depth >= maxTieDepth {
		return nil, errors.New("too many games of chance in a row")
	}
	tie := res.TiebreaksNeeded[0]
	var out []Tally
	for _, winners := range combinations(tie.Between, int(tie.Delegates)) {
		next := in
		next.Tiebreaks = append(append([]rules.Tiebreak(nil), in.Tiebreaks...), make([]rules.Tiebreak, 0, len(winners))...)
		for _, w := range winners {
			next.Tiebreaks = append(next.Tiebreaks, rules.Tiebreak{Kind: tie.Kind, Between: tie.Between, Winner: w})
		}
		ts, err := handSDE(next, depth+1)
		if err != nil {
			return nil, err
		}
		out = append(out, ts...)
	}
	if len(out) == 0 {
		return nil, errors.New("a game of chance with no possible outcome")
	}
	return out, nil
}

// combinations lists every choice of k items of s, in order.
func combinations(s []string, k int) [][]string {
	if k <= 0 {
		return [][]string{nil}
	}
	if k > len(s) {
		return nil
	}
	var out [][]string
	for i := 0; i+k <= len(s); i++ {
		for _, rest := range combinations(s[i+1:], k-1) {
			out = append(out, append([]string{s[i]}, rest...))
		}
	}
	return out
}
