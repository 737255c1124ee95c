package simulate

import (
	"fmt"
	"math/rand/v2"

	"caucus/internal/election"
)

// GenerateCandidates are the candidates of a generated election, in ballot order.
var GenerateCandidates = []string{"adams", "baker", "clark", "davis", "evans", "foster", "green",
	"harris", "irwin", "jones", "other", "uncommitted"}

// Generate is a synthetic election of n precincts in k counties (k ≤ 0: one county per 60
// precincts), the same for the same seed: county sizes vary about tenfold, each precinct
// elects 1 to 12 delegates, about one in twenty precincts is a satellite, and every county has
// an SDE ratio. A national-size one (175,000 precincts, 3,000 counties) shows how the
// server's costs grow past Iowa's 1,765 precincts.
func Generate(n, k int, seed uint64) (*election.Definition, error) {
	if k <= 0 {
		k = max(1, n/60)
	}
	k = min(k, n)
	rng := rand.New(rand.NewPCG(seed, 0x9e7))
	e := election.Election{ID: fmt.Sprintf("synthetic-%d", n), Name: fmt.Sprintf("Synthetic caucus, %d precincts", n),
		Date: "2028-02-07", Rules: election.RulesIowa}
	for _, c := range GenerateCandidates {
		e.Candidates = append(e.Candidates, election.Candidate{ID: c, Name: c})
	}
	// Each county's share of the precincts: between 1 and 10 parts.
	parts := make([]int, k)
	total := 0
	for i := range parts {
		parts[i] = 1 + rng.IntN(10)
		total += parts[i]
	}
	counties := make([]election.County, k)
	var ps []election.Precinct
	left := n
	for ci := range counties {
		id := fmt.Sprintf("county-%04d", ci)
		m := max(1, n*parts[ci]/total)
		if ci == k-1 || m > left-(k-1-ci) {
			m = left - (k - 1 - ci)
		}
		left -= m
		delegates := 0
		for pi := range m {
			d := 1 + rng.IntN(12)
			sat := rng.IntN(20) == 0
			ps = append(ps, election.Precinct{ID: fmt.Sprintf("%s-p%04d", id, pi), CountyID: id,
				Name: fmt.Sprintf("Precinct %d of county %d", pi+1, ci+1), DelegatesToElect: d, Satellite: sat})
			delegates += d
		}
		// About one state delegate per 25 county delegates, in ten-thousandths.
		sde := election.SDE(max(1, delegates*400+rng.IntN(1000)))
		counties[ci] = election.County{ID: id, Name: fmt.Sprintf("County %d", ci+1), CountyDelegates: delegates, StateDelegates: sde}
	}
	return election.New(e, counties, ps)
}
