package simulate

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"math/big"
	"slices"
	"strconv"

	"caucus/internal/client"
	"caucus/internal/results"
	"caucus/internal/resultscsv"
	"caucus/internal/rules"
)

// maxDifferences bounds the differences kept for the summary; all are counted.
const maxDifferences = 100

// area is the truth's totals of one area (a county or the state), per candidate in ballot
// order. sde is the exact sum of d × ρ over the delegates that count toward SDEs; nil when
// the area has no ratio.
type area struct {
	first, final, delegates []int64
	sde                     []*big.Rat
	reporting, total        int
}

func newArea(n int, sde bool) *area {
	a := &area{first: make([]int64, n), final: make([]int64, n), delegates: make([]int64, n)}
	if sde {
		a.sde = make([]*big.Rat, n)
		for i := range a.sde {
			a.sde[i] = new(big.Rat)
		}
	}
	return a
}

// precinctTruth is what a precinct must show.
type precinctTruth struct {
	reported bool
	status   results.Status
	flags    []rules.CheckID
	reports  int64
	first    map[string]int64
	final    map[string]int64
	sde      map[string]string // "" when the precinct has no SDE
}

// expect sums the truth: each precinct's first report the rules accept, worked out by
// internal/rules; with headquarters, that is the report its decision made count.
func expect(t *Truth, sum *Summary) (map[string]*precinctTruth, map[string]*area, *area) {
	def := t.Def
	el := def.Election()
	straw := rules.Profile(el.Rules) == rules.StrawPoll
	n := len(el.Candidates)
	pos := map[string]int{}
	for i, c := range el.Candidates {
		pos[c.ID] = i
	}
	precincts := map[string]*precinctTruth{}
	for _, p := range def.Precincts() {
		precincts[p.ID] = &precinctTruth{status: results.NotReported, flags: []rules.CheckID{}}
	}
	counties := map[string]*area{}
	state := newArea(n, !straw)
	for _, c := range def.Counties() {
		_, ok := c.SDERatio()
		counties[c.ID] = newArea(n, ok && !straw)
		counties[c.ID].total = len(def.PrecinctsIn(c.ID))
	}
	state.total = len(def.Precincts())
	for _, plan := range t.Plans {
		pt := precincts[plan.Precinct.ID]
		for _, r := range plan.Reports {
			res := t.Calc(r)
			if res.HasErrors() {
				continue
			}
			pt.reported, pt.reports = true, 1
			pt.first, pt.final, pt.sde = map[string]int64{}, map[string]int64{}, map[string]string{}
			pt.status = results.Accepted
			for _, ch := range res.Checks {
				if !slices.Contains(pt.flags, ch.ID) {
					pt.flags = append(pt.flags, ch.ID)
				}
			}
			if len(res.Checks) > 0 || sum.conflicted[plan.Precinct.ID] {
				pt.status = results.UnderReview
			}
			if sum.conflicted[plan.Precinct.ID] {
				pt.reports = 2
			}
			if st, ok := sum.decided[plan.Precinct.ID]; ok {
				pt.status = st // headquarters decided: the truth counts
			}
			ca := counties[plan.Precinct.CountyID]
			rho := t.facts[plan.Precinct.ID].Ratio
			withSDE := rho != nil && !straw && !res.TieOpen()
			ca.reporting++
			state.reporting++
			for _, g := range res.Groups {
				i, ok := pos[g.CandidateID]
				if !ok {
					continue
				}
				var d int64
				if g.Delegates != nil {
					d = *g.Delegates
				}
				pt.first[g.CandidateID], pt.final[g.CandidateID] = g.First, g.Final
				for _, a := range []*area{ca, state} {
					a.first[i] += g.First
					a.final[i] += g.Final
					a.delegates[i] += d
					if withSDE && a.sde != nil {
						a.sde[i].Add(a.sde[i], new(big.Rat).Mul(big.NewRat(d, 1), rho))
					}
				}
			}
			for _, c := range el.Candidates {
				if withSDE {
					var d int64
					for _, g := range res.Groups {
						if g.CandidateID == c.ID && g.Delegates != nil {
							d = *g.Delegates
						}
					}
					pt.sde[c.ID] = rules.SDE(d, rho)
				} else {
					pt.sde[c.ID] = ""
				}
			}
			break
		}
	}
	return precincts, counties, state
}

type differ struct {
	sum *Summary
}

func (d differ) eq(what string, published, truth any) {
	d.sum.Compared++
	if fmt.Sprint(published) == fmt.Sprint(truth) {
		return
	}
	d.sum.mu.Lock()
	defer d.sum.mu.Unlock()
	if len(d.sum.Differences) < maxDifferences {
		d.sum.Differences = append(d.sum.Differences, fmt.Sprintf("%s: published %v, truth %v", what, published, truth))
	} else if len(d.sum.Differences) == maxDifferences {
		d.sum.Differences = append(d.sum.Differences, "… more differences not shown")
	}
}

func sdeString(a *area, i int) string {
	if a.sde == nil {
		return "<nil>"
	}
	return rules.FormatSDE(rules.RoundSDE(a.sde[i]))
}

func (d differ) candidates(where string, pub []results.Candidate, a *area, t *Truth) {
	cands := t.Def.Election().Candidates
	if len(pub) != len(cands) {
		d.eq(where+": number of candidates", len(pub), len(cands))
		return
	}
	for i, c := range cands {
		p := pub[i]
		w := fmt.Sprintf("%s, %s", where, c.ID)
		d.eq(w+": candidate", p.CandidateID, c.ID)
		d.eq(w+": first", p.First, a.first[i])
		d.eq(w+": final", p.Final, a.final[i])
		var cd any = "<nil>"
		if p.CountyDelegates != nil {
			cd = *p.CountyDelegates
		}
		if rules.Profile(t.Def.Election().Rules) != rules.StrawPoll {
			d.eq(w+": county_delegates", cd, a.delegates[i])
		}
		var sde any = "<nil>"
		if p.SDE != nil {
			sde = *p.SDE
		}
		d.eq(w+": sde", sde, sdeString(a, i))
	}
}

// compare reads every published number and compares it with the truth.
func compare(ctx context.Context, pub *client.Client, t *Truth, sum *Summary) error {
	precincts, counties, state := expect(t, sum)
	d := differ{sum}
	res, err := pub.Results(ctx)
	if err != nil {
		return fmt.Errorf("read results: %w", err)
	}
	d.eq("state: precincts_total", res.PrecinctsTotal, state.total)
	d.eq("state: precincts_reporting", res.PrecinctsReporting, state.reporting)
	// Every acknowledged report is a log entry, once: the log holds exactly the reports
	// (and conflicting second reports) the truth says were stored, and headquarters' decisions.
	entries := int64(sum.Decisions)
	for _, pt := range precincts {
		entries += pt.reports
	}
	d.eq("state: log_size (reports stored and decisions)", res.LogSize, entries)
	d.candidates("state", res.Candidates, state, t)

	cs, err := pub.Counties(ctx)
	if err != nil {
		return fmt.Errorf("read counties: %w", err)
	}
	d.eq("number of counties", len(cs.Counties), len(t.Def.Counties()))
	for _, c := range cs.Counties {
		a, ok := counties[c.CountyID]
		if !ok {
			d.eq("county "+c.CountyID, "published", "not in the election")
			continue
		}
		w := "county " + c.CountyID
		d.eq(w+": precincts_total", c.PrecinctsTotal, a.total)
		d.eq(w+": precincts_reporting", c.PrecinctsReporting, a.reporting)
		d.candidates(w, c.Candidates, a, t)
	}
	// Each precinct's status, flags and reports, from its county's page.
	for _, c := range t.Def.Counties() {
		doc, err := pub.County(ctx, c.ID)
		if err != nil {
			return fmt.Errorf("read county %s: %w", c.ID, err)
		}
		for _, p := range doc.Precincts {
			pt, ok := precincts[p.PrecinctID]
			if !ok {
				d.eq("precinct "+p.PrecinctID, "published", "not in the election")
				continue
			}
			w := "precinct " + p.PrecinctID
			d.eq(w+": status", p.Status, pt.status)
			flags := slices.Clone(p.Flags)
			slices.Sort(flags)
			want := slices.Clone(pt.flags)
			slices.Sort(want)
			d.eq(w+": flags", flags, want)
			d.eq(w+": reports", p.Reports, pt.reports)
		}
	}
	// Each precinct's numbers, from results.csv.
	b, err := pub.ResultsCSV(ctx)
	if err != nil {
		return fmt.Errorf("read results.csv: %w", err)
	}
	rd := csv.NewReader(bytes.NewReader(b))
	rows, err := rd.ReadAll()
	if err != nil || len(rows) == 0 || !slices.Equal(rows[0], resultscsv.Header) {
		d.eq("results.csv", "not the long results CSV", "its header and rows")
		return nil
	}
	seen := map[string]int{}
	for _, row := range rows[1:] {
		id, cand := row[2], row[6]
		pt, ok := precincts[id]
		w := fmt.Sprintf("results.csv precinct %s, %s", id, cand)
		if !ok || !pt.reported {
			d.eq(w, "a row", "no row (not reporting)")
			continue
		}
		seen[id]++
		first, _ := strconv.ParseInt(row[8], 10, 64)
		final, _ := strconv.ParseInt(row[9], 10, 64)
		d.eq(w+": first", first, pt.first[cand])
		d.eq(w+": final", final, pt.final[cand])
		d.eq(w+": sde", row[10], pt.sde[cand])
	}
	n := len(t.Def.Election().Candidates)
	for id, pt := range precincts {
		if pt.reported {
			d.eq("results.csv precinct "+id+": rows", seen[id], n)
		}
	}
	return nil
}
