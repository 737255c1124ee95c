package simulate

import (
	"fmt"
	"io"
	"math"
	"math/big"
	"math/rand/v2"
	"slices"

	"caucus/internal/bulk"
	"caucus/internal/election"
	"caucus/internal/report"
	"caucus/internal/resultscsv"
	"caucus/internal/rules"
)

// Plan is what one precinct's chair will send, decided before the night: the ground truth.
type Plan struct {
	Precinct election.Precinct
	// Reports are sent in order until one is stored: a report the rules refuse (422) is
	// followed by the next, as a chair corrects a typo the server pointed out. Reports[last]
	// may be refused too (a replayed precinct whose published numbers break the rules).
	Reports []report.Report
}

// Truth is a night's ground truth: the election and every precinct's plan.
type Truth struct {
	Def   *election.Definition
	Plans []Plan
	facts map[string]report.Precinct
}

// Calc is the rules' verdict on a report for its precinct.
func (t *Truth) Calc(r report.Report) rules.Result {
	return rules.Calc(report.CalcInput(r, t.facts[r.PrecinctID]))
}

func newTruth(def *election.Definition) *Truth { return &Truth{Def: def, facts: report.Facts(def)} }

// Synthetic is a realistic night for the first n precincts of def (all of them when n ≤ 0 or
// more than it has), the same for the same seed: candidates' statewide strength, each
// precinct's own lean, attendance from its delegates, people who sign in and do not align
// (C05), realignment from non-viable groups (some go home, a few stay put: C08), a few viable
// groups that lose people (C06), games of chance recorded when the math needs them, chairs
// who copy the computed delegates (a few mistype one: C12), and a few typos the rules refuse
// (C04) that the chair corrects and sends again.
func Synthetic(def *election.Definition, n int, seed uint64) *Truth {
	t := newTruth(def)
	ps := def.Precincts()
	if n <= 0 || n > len(ps) {
		n = len(ps)
	}
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	cands := def.Election().Candidates
	strength := make([]float64, len(cands))
	for i := range strength {
		strength[i] = math.Exp(rng.NormFloat64() * 1.1)
		if cands[i].ID == "uncommitted" || cands[i].ID == "other" {
			strength[i] *= 0.05
		}
	}
	for i, p := range ps[:n] {
		r := t.synthetic(rng, p, cands, strength, fmt.Sprintf("sim-%d-%d", seed, i))
		plan := Plan{Precinct: p, Reports: []report.Report{r}}
		if rng.IntN(100) == 0 { // a typo the rules refuse: final > first (C04)
			bad := r
			bad.ReportID += "-typo"
			bad.Final = maps(r.Final)
			for id := range bad.Final {
				bad.Final[id] += 10
				break
			}
			if res := t.Calc(bad); res.HasErrors() {
				plan.Reports = []report.Report{bad, r}
			}
		}
		t.Plans = append(t.Plans, plan)
	}
	return t
}

func maps(c rules.Counts) rules.Counts {
	out := make(rules.Counts, len(c))
	for k, v := range c {
		out[k] = v
	}
	return out
}

func (t *Truth) synthetic(rng *rand.Rand, p election.Precinct, cands []election.Candidate, strength []float64, id string) report.Report {
	var attendees int64
	switch {
	case p.FollowsAttendance():
		attendees = int64(3 + rng.IntN(80))
	default:
		attendees = int64(p.DelegatesToElect) * int64(8+rng.IntN(30))
	}
	if attendees == 0 {
		attendees = int64(5 + rng.IntN(20))
	}
	// This precinct's lean: statewide strength times a log-normal local factor.
	w := make([]float64, len(cands))
	var sum float64
	for i := range w {
		w[i] = strength[i] * math.Exp(rng.NormFloat64()*0.6)
		sum += w[i]
	}
	aligned := attendees
	if rng.IntN(50) == 0 { // signed in, never joined a group (C05)
		aligned -= int64(1 + rng.IntN(3))
	}
	first := rules.Counts{}
	for range aligned {
		first[cands[pick(rng, w, sum)].ID]++
	}
	r := report.Report{ReportID: id, PrecinctID: p.ID, Attendees: attendees, First: first, Channel: report.ChannelApp}
	// Viability at first alignment, from the rules themselves (final = first).
	r.Final = maps(first)
	res := t.Calc(r)
	viable := map[string]bool{}
	var vw float64
	for _, g := range res.Groups {
		if g.ViableFirst != nil && *g.ViableFirst {
			viable[g.CandidateID] = true
		}
	}
	for i, c := range cands {
		if viable[c.ID] {
			vw += w[i]
		}
	}
	final := rules.Counts{}
	stay := rng.IntN(100) == 0 // a non-viable group that does not realign (C08)
	for i, c := range cands {
		n := first[c.ID]
		switch {
		case n == 0:
		case viable[c.ID]:
			if rng.IntN(50) == 0 && n > 1 { // someone leaves a viable group (C06)
				n--
			}
			final[c.ID] += n
		case stay || vw == 0:
			stay = false
			final[c.ID] += n
		default:
			for range n {
				if rng.IntN(10) == 0 {
					continue // went home
				}
				j := pickViable(rng, w, vw, cands, viable)
				final[cands[j].ID]++
			}
		}
		_ = i
	}
	for id, n := range final {
		if n == 0 {
			delete(final, id)
		}
	}
	r.Final = final
	// Games of chance: a coin for each tied delegate, the winners at random.
	for range 4 {
		res = t.Calc(r)
		if !res.TieOpen() {
			break
		}
		for _, tie := range res.TiebreaksNeeded {
			between := slices.Clone(tie.Between)
			rng.Shuffle(len(between), func(a, b int) { between[a], between[b] = between[b], between[a] })
			for k := int64(0); k < tie.Delegates && int(k) < len(between); k++ {
				r.Tiebreaks = append(r.Tiebreaks, rules.Tiebreak{Kind: tie.Kind, Between: tie.Between, Winner: between[k]})
			}
		}
	}
	if d := res.DelegatesByGroup(); d != nil && !res.HasErrors() {
		r.Delegates = rules.Counts{}
		for id, n := range d {
			if n > 0 {
				r.Delegates[id] = n
			}
		}
		if rng.IntN(100) == 0 && len(r.Delegates) >= 2 { // the worksheet swaps a delegate (C12)
			ids := slices.Sorted(keys(r.Delegates))
			r.Delegates[ids[0]]--
			r.Delegates[ids[1]]++
			if r.Delegates[ids[0]] == 0 {
				delete(r.Delegates, ids[0])
			}
		}
	}
	return r
}

func keys(c rules.Counts) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range c {
			if !yield(k) {
				return
			}
		}
	}
}

func pick(rng *rand.Rand, w []float64, sum float64) int {
	x := rng.Float64() * sum
	for i, v := range w {
		if x < v {
			return i
		}
		x -= v
	}
	return len(w) - 1
}

func pickViable(rng *rand.Rand, w []float64, sum float64, cands []election.Candidate, viable map[string]bool) int {
	x := rng.Float64() * sum
	last := 0
	for i, v := range w {
		if !viable[cands[i].ID] {
			continue
		}
		last = i
		if x < v {
			return i
		}
		x -= v
	}
	return last
}

// Replay is the night of a published results file (resultscsv) against def: every precinct
// of the file reported as its chair would have, attendees = max(Σ first, Σ final), the
// worksheet's delegates read back from the published SDEs (round-half-up of SDE ÷ ratio) when
// the county's ratio is known, and games of chance settled from the published SDEs as
// internal/bulk does (spec R22). The bad precincts are sent too: the truth is what
// internal/rules says of each report.
func Replay(def *election.Definition, r io.Reader, tag string) (*Truth, error) {
	ps, err := resultscsv.Read(r)
	if err != nil {
		return nil, err
	}
	t := newTruth(def)
	profile := rules.Profile(def.Election().Rules)
	for i, p := range ps {
		dp, ok := def.Precinct(p.ID)
		if !ok {
			return nil, fmt.Errorf("line %d: precinct %q is not in election %q", p.Line, p.ID, def.Election().ID)
		}
		if dp.CountyID != p.CountyID {
			return nil, fmt.Errorf("line %d: precinct %q is in county %q in the file but %q in the election", p.Line, p.ID, p.CountyID, dp.CountyID)
		}
		rho := t.facts[p.ID].Ratio
		in := bulk.Input(p, rho, profile)
		rep := report.Report{ReportID: fmt.Sprintf("replay-%s-%d", tag, i), PrecinctID: p.ID,
			Attendees: in.Attendees, First: nonZero(p.First), Final: nonZero(p.Final), Channel: report.ChannelApp}
		if rho != nil {
			rep.Delegates = rules.Counts{}
			for id, s := range p.SDE {
				v, err := rules.ParseDecimal(s)
				if err != nil {
					continue
				}
				if d := rules.DelegatesFromSDE(v, rho); d > 0 {
					rep.Delegates[id] = d
				}
			}
		}
		rep.Tiebreaks = settled(p, in, rho, profile)
		t.Plans = append(t.Plans, Plan{Precinct: dp, Reports: []report.Report{rep}})
	}
	return t, nil
}

func nonZero(c rules.Counts) rules.Counts {
	out := rules.Counts{}
	for k, v := range c {
		if v != 0 {
			out[k] = v
		}
	}
	return out
}

// settled is the games of chance bulk settles from the published SDEs: the tied groups whose
// settled delegates exceed the less favourable outcome won.
func settled(p resultscsv.Precinct, in rules.Input, rho *big.Rat, profile rules.Profile) []rules.Tiebreak {
	open := rules.Calc(in)
	if !open.TieOpen() || rho == nil {
		return nil
	}
	out := bulk.Check([]resultscsv.Precinct{p}, func(string) *big.Rat { return rho }, profile).Precincts[0]
	if !out.TieFromPublished {
		return nil
	}
	shown := open.DelegatesByGroup()
	var tbs []rules.Tiebreak
	for _, tie := range open.TiebreaksNeeded {
		for _, id := range tie.Between {
			if out.Computed[id] > shown[id] {
				tbs = append(tbs, rules.Tiebreak{Kind: tie.Kind, Between: tie.Between, Winner: id})
			}
		}
	}
	return tbs
}
