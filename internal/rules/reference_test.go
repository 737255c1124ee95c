package rules_test

import (
	"math/big"
	"slices"
	"testing"

	"pgregory.net/rapid"

	"caucus/internal/election/electiontest"
	"caucus/internal/rules"
)

// reference is R05 and R08–R12 written as the spec says them, one delegate at a time with
// math/big rationals: slow and plain, to check the fast allocation against. It returns the
// delegates and, if the allocation stops at a game of chance, the tied groups and n.
func reference(final []int64, viable []bool, p, d int64, keep bool) ([]int64, []int, int64) {
	r := make([]int64, len(final))
	var idx []int
	for i, v := range viable {
		if v {
			idx = append(idx, i)
		}
	}
	if len(idx) == 0 || d <= 0 || p <= 0 {
		return r, nil, 0
	}
	if d == 1 {
		most := int64(-1)
		for _, i := range idx {
			most = max(most, final[i])
		}
		var top []int
		for _, i := range idx {
			if final[i] == most {
				top = append(top, i)
			}
		}
		if len(top) == 1 {
			r[top[0]] = 1
			return r, nil, 0
		}
		return r, top, 1
	}
	q := func(i int) *big.Rat { return big.NewRat(final[i]*d, p) }
	half := big.NewRat(1, 2)
	var s int64
	for _, i := range idx {
		x := new(big.Rat).Add(q(i), half)
		r[i] = new(big.Int).Quo(x.Num(), x.Denom()).Int64()
		if r[i] == 0 {
			r[i] = 1
		}
		s += r[i]
	}
	for s > d {
		var cands []int
		for _, i := range idx {
			if r[i] >= 2 {
				cands = append(cands, i)
			}
		}
		if len(cands) == 0 {
			if keep {
				break
			}
			for _, i := range idx {
				if r[i] == 1 {
					cands = append(cands, i)
				}
			}
		}
		c := func(i int) *big.Rat { return new(big.Rat).Sub(q(i), big.NewRat(r[i]-1, 1)) }
		best := c(cands[0])
		for _, i := range cands {
			if c(i).Cmp(best) < 0 {
				best = c(i)
			}
		}
		var tied []int
		for _, i := range cands {
			if c(i).Cmp(best) == 0 {
				tied = append(tied, i)
			}
		}
		if int64(len(tied)) > s-d {
			n := int64(len(tied)) - (s - d)
			for _, i := range tied {
				r[i]--
			}
			return r, tied, n
		}
		for _, i := range tied {
			r[i]--
			s--
		}
	}
	for s < d {
		e := func(i int) *big.Rat { return new(big.Rat).Sub(q(i), big.NewRat(r[i], 1)) }
		best := e(idx[0])
		for _, i := range idx {
			if e(i).Cmp(best) > 0 {
				best = e(i)
			}
		}
		var tied []int
		for _, i := range idx {
			if e(i).Cmp(best) == 0 {
				tied = append(tied, i)
			}
		}
		if int64(len(tied)) > d-s {
			return r, tied, d - s
		}
		for _, i := range tied {
			r[i]++
			s++
		}
	}
	return r, nil, 0
}

// compareWithReference runs Calc and the reference on the same precinct.
func compareWithReference(t interface{ Fatalf(string, ...any) }, in rules.Input) {
	res := rules.Calc(in)
	if res.Has(rules.C01) {
		t.Fatalf("invalid input: %v", res.Checks)
	}
	final := make([]int64, len(res.Groups))
	viable := make([]bool, len(res.Groups))
	for i, g := range res.Groups {
		final[i], viable[i] = g.Final, *g.Viable
	}
	p := in.Attendees
	if res.Participants != nil {
		p = *res.Participants
	}
	want, tied, n := reference(final, viable, p, *res.DelegatesToElect, in.Rules == rules.NevadaDem2020)
	for i, g := range res.Groups {
		if *g.Delegates != want[i] {
			t.Fatalf("%s: %d delegates, the reference says %d\ninput %+v\nresult %s", g.CandidateID, *g.Delegates, want[i], in, js(res))
		}
	}
	var wantTie []string
	for _, i := range tied {
		wantTie = append(wantTie, res.Groups[i].CandidateID)
	}
	switch {
	case len(tied) == 0 && res.TieOpen():
		t.Fatalf("tie %v, the reference has none\ninput %+v", res.TiebreaksNeeded, in)
	case len(tied) > 0 && (!res.TieOpen() || !slices.Equal(res.TiebreaksNeeded[0].Between, wantTie) || res.TiebreaksNeeded[0].Delegates != n):
		t.Fatalf("tie %v, the reference has %v for %d\ninput %+v", res.TiebreaksNeeded, wantTie, n, in)
	}
}

// TestAllocationExhaustive compares the allocation with the reference for every precinct of up
// to 3 groups, 12 people and 7 delegates, possible or not (x/mod's TestTree habit: every small
// case, not a sample).
func TestAllocationExhaustive(t *testing.T) {
	ids := []string{"a", "b", "c"}
	cases := 0
	for _, prof := range []rules.Profile{rules.IowaDem2020, rules.NevadaDem2020} {
		for d := int64(1); d <= 7; d++ {
			for a := int64(0); a <= 10; a++ {
				for f0 := int64(0); f0 <= 10; f0++ {
					for f1 := int64(0); f1 <= 10-f0; f1++ {
						for f2 := int64(0); f2 <= 10-f0-f1; f2++ {
							for mask := 0; mask < 8; mask++ { // which groups were viable at first (first = final + 1 or 0)
								first, final := rules.Counts{}, rules.Counts{}
								for i, f := range []int64{f0, f1, f2} {
									final[ids[i]] = f
									first[ids[i]] = f
									if mask&(1<<i) != 0 {
										first[ids[i]] = f + 2 // some left
									}
								}
								compareWithReference(t, rules.Input{Rules: prof, Attendees: a, DelegatesToElect: d,
									HasDelegatesToElect: true, First: first, Final: final})
								cases++
							}
						}
					}
				}
			}
		}
	}
	t.Logf("%d precincts compared", cases)
}

// TestAllocationRandom compares with the reference on larger random precincts.
func TestAllocationRandom(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		prof := rapid.SampledFrom([]rules.Profile{rules.IowaDem2020, rules.NevadaDem2020}).Draw(t, "profile")
		in := electiontest.Precinct(t, electiontest.Options{Profile: prof, MaxGroups: 8, MaxPeople: 2000, MaxD: 40,
			Impossible: true, Early: prof == rules.NevadaDem2020})
		compareWithReference(t, in)
	})
}
