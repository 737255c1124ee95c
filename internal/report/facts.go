package report

import (
	"math/big"

	"caucus/internal/election"
	"caucus/internal/rules"
)

// Facts is what the math needs to know of each precinct of an election, by precinct id: the
// rules profile, its delegates to elect (0 for a satellite that follows attendance), the
// county's SDE ratio and the election's candidates in ballot order with their names.
func Facts(def *election.Definition) map[string]Precinct {
	e := def.Election()
	ids := make([]string, len(e.Candidates))
	names := make(map[string]string, len(e.Candidates))
	for i, c := range e.Candidates {
		ids[i], names[c.ID] = c.ID, c.Name
	}
	ratios := map[string]*big.Rat{}
	for _, c := range def.Counties() {
		if r, ok := c.SDERatio(); ok {
			ratios[c.ID] = r
		}
	}
	m := make(map[string]Precinct, len(def.Precincts()))
	for _, p := range def.Precincts() {
		m[p.ID] = Precinct{Rules: rules.Profile(e.Rules), DelegatesToElect: int64(p.DelegatesToElect),
			Satellite: p.Satellite, Ratio: ratios[p.CountyID], Candidates: ids, Names: names}
	}
	return m
}
