package verify

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"math/big"
	"slices"
	"strconv"
	"testing/fstest"

	"caucus/internal/client"
	"caucus/internal/election"
	"caucus/internal/report"
	"caucus/internal/resultscsv"
	"caucus/internal/rules"
)

var sha256Empty = sha256.Sum256(nil)

// precinct is what verify recomputes of one precinct, replaying its entries with its own
// reading of the state machine of spec/reliability.md C3: the first report counts; a second
// report is a conflict (under review, the first still counts); a correction counts; a review
// decides the status and may name the counted entry.
type precinct struct {
	p        election.Precinct
	county   int
	status   string
	counted  int64
	entries  []int64
	reports  int64
	byIndex  map[int64]*report.Report
	res      *rules.Result
	rep      *report.Report
	sde      bool
	ratio    *big.Rat
	facts    report.Precinct
	notFound bool
}

// recount recomputes every number from the entries and compares the published documents.
func (v *run) recount(ctx context.Context, results client.Results, bodies [][]byte) error {
	c := v.cfg.Client
	el, err := c.Election(ctx)
	if err != nil {
		return err
	}
	fsys := fstest.MapFS{}
	for name, data := range el.Files {
		fsys[name] = &fstest.MapFile{Data: []byte(data)}
	}
	def, err := election.Load(fsys)
	if err != nil {
		return fmt.Errorf("the published election definition does not load: %w", err)
	}
	e := def.Election()
	if e.ID != results.ElectionID {
		v.find(Finding{Check: "election", Record: "election_id", Published: results.ElectionID, Recomputed: e.ID + " (definition)"})
		return nil
	}
	profile := rules.Profile(e.Rules)
	straw := profile == rules.StrawPoll
	var ids []string
	names := map[string]string{}
	for _, cand := range def.Candidates() {
		ids = append(ids, cand.ID)
		names[cand.ID] = cand.Name
	}
	counties := def.Counties()
	ratios := make([]*big.Rat, len(counties))
	ps := map[string]*precinct{}
	var order []*precinct
	for ci, cty := range counties {
		if r, ok := cty.SDERatio(); ok {
			ratios[ci] = r
		}
		for _, p := range def.PrecinctsIn(cty.ID) {
			pr := &precinct{p: p, county: ci, status: "not_reported", counted: -1, byIndex: map[int64]*report.Report{}, ratio: ratios[ci],
				facts: report.Precinct{Rules: profile, DelegatesToElect: int64(p.DelegatesToElect), Satellite: p.Satellite, Ratio: ratios[ci], Candidates: ids, Names: names}}
			ps[p.ID] = pr
			order = append(order, pr)
		}
	}
	for i, body := range bodies {
		idx := int64(i)
		le, err := report.ParseEntry(body)
		if err != nil {
			v.find(Finding{Check: "entry", Record: fmt.Sprintf("entry %d", idx), Detail: "does not read as an entry: " + err.Error()})
			continue
		}
		pr, ok := ps[le.PrecinctID]
		if !ok || le.ElectionID != e.ID {
			v.find(Finding{Check: "entry", Record: fmt.Sprintf("entry %d", idx), Published: fmt.Sprintf("election %q precinct %q", le.ElectionID, le.PrecinctID), Recomputed: "a precinct of election " + e.ID})
			continue
		}
		pr.entries = append(pr.entries, idx)
		switch le.Kind {
		case report.KindReport:
			pr.reports++
			pr.byIndex[idx] = le.Report
			if pr.counted < 0 {
				pr.counted = idx
				pr.status = "accepted"
				if r := rules.Calc(report.CalcInput(*le.Report, pr.facts)); len(r.Checks) > 0 {
					pr.status = "under_review" // counted, flagged for review
				}
			} else {
				pr.status = "under_review"
			}
		case report.KindCorrection:
			pr.byIndex[idx] = le.Report
			pr.counted, pr.status = idx, "corrected"
		case report.KindReview:
			if pr.counted < 0 {
				v.find(Finding{Check: "entry", Record: fmt.Sprintf("entry %d", idx), Detail: fmt.Sprintf("a review of precinct %s, which counts nothing", le.PrecinctID)})
				continue
			}
			if le.Counts != nil {
				if pr.byIndex[*le.Counts] == nil {
					v.find(Finding{Check: "entry", Record: fmt.Sprintf("entry %d", idx), Detail: fmt.Sprintf("a review counts entry %d, not a report of precinct %s", *le.Counts, le.PrecinctID)})
					continue
				}
				pr.counted = *le.Counts
			}
			pr.status = le.Decision
		}
	}
	// Compute each counted precinct and sum counties and the state, exactly.
	n := len(ids)
	type sums struct {
		first, final, dels []int64
		sde                []*big.Rat
		reporting          int
	}
	newSums := func() *sums {
		s := &sums{first: make([]int64, n), final: make([]int64, n), dels: make([]int64, n), sde: make([]*big.Rat, n)}
		for i := range s.sde {
			s.sde[i] = new(big.Rat)
		}
		return s
	}
	state := newSums()
	cs := make([]*sums, len(counties))
	for i := range cs {
		cs[i] = newSums()
	}
	for _, pr := range order {
		if pr.counted < 0 {
			continue
		}
		pr.rep = pr.byIndex[pr.counted]
		res := rules.Calc(report.CalcInput(*pr.rep, pr.facts))
		pr.res = &res
		pr.sde = pr.ratio != nil && !straw && !res.TieOpen() && !res.HasErrors()
		cs[pr.county].reporting++
		state.reporting++
		for _, g := range res.Groups {
			i := slices.Index(ids, g.CandidateID)
			if i < 0 {
				continue
			}
			var d int64
			if g.Delegates != nil {
				d = *g.Delegates
			}
			for _, s := range []*sums{cs[pr.county], state} {
				s.first[i] += g.First
				s.final[i] += g.Final
				s.dels[i] += d
				if pr.sde {
					s.sde[i].Add(s.sde[i], new(big.Rat).Mul(big.NewRat(d, 1), pr.ratio))
				}
			}
		}
	}
	v.res.Entries = int64(len(bodies))
	cmpCands := func(where string, pub []client.Candidate, s *sums, sde bool) {
		if len(pub) != n {
			v.find(Finding{Check: "total", Record: where + " candidates", Published: strconv.Itoa(len(pub)), Recomputed: strconv.Itoa(n)})
			return
		}
		for i, pc := range pub {
			rec := fmt.Sprintf("%s candidate %s", where, ids[i])
			if pc.CandidateID != ids[i] {
				v.find(Finding{Check: "total", Record: where + " candidate order", Published: pc.CandidateID, Recomputed: ids[i]})
				continue
			}
			v.cmpInt("total", rec+" first", pc.First, s.first[i])
			v.cmpInt("total", rec+" final", pc.Final, s.final[i])
			if !straw {
				v.cmpPtr("total", rec+" county_delegates", pc.CountyDelegates, s.dels[i])
			}
			want := ""
			if sde && !straw {
				want = rules.FormatSDE(rules.RoundSDE(s.sde[i]))
			}
			v.cmpStr("total", rec+" sde", pc.SDE, want)
		}
	}
	// The state.
	v.cmpInt("total", "state precincts_reporting", int64(results.PrecinctsReporting), int64(state.reporting))
	v.cmpInt("total", "state precincts_total", int64(results.PrecinctsTotal), int64(len(order)))
	cmpCands("state", results.Candidates, state, true)
	v.say("state totals: %d precincts reporting, %d candidates' first, final, county delegates and SDEs", state.reporting, n)
	// The counties.
	all, err := c.Counties(ctx)
	if err != nil {
		return err
	}
	if all.LogSize != results.LogSize {
		return fmt.Errorf("the results changed while being read (log_size %d, then %d): run again", results.LogSize, all.LogSize)
	}
	if len(all.Counties) != len(counties) {
		v.find(Finding{Check: "total", Record: "counties", Published: strconv.Itoa(len(all.Counties)), Recomputed: strconv.Itoa(len(counties))})
	}
	for ci, cty := range counties {
		where := "county " + cty.ID
		if ci < len(all.Counties) && all.Counties[ci].CountyID == cty.ID {
			v.cmpInt("total", where+" precincts_reporting", int64(all.Counties[ci].PrecinctsReporting), int64(cs[ci].reporting))
			cmpCands(where, all.Counties[ci].Candidates, cs[ci], ratios[ci] != nil)
		}
		detail, err := c.County(ctx, cty.ID)
		if err != nil {
			return err
		}
		cmpCands(where+" (its page)", detail.Candidates, cs[ci], ratios[ci] != nil)
		for _, row := range detail.Precincts {
			if pr := ps[row.PrecinctID]; pr != nil {
				v.cmpString("status", fmt.Sprintf("precinct %s status (county page)", row.PrecinctID), row.Status, pr.status)
			}
		}
		v.res.Counties++
	}
	v.say("%d counties: totals and precinct statuses", len(counties))
	// Every precinct.
	for _, pr := range order {
		pub, err := c.Precinct(ctx, pr.p.ID)
		if err != nil {
			return err
		}
		v.precinct(pr, pub, ids)
		v.res.Precincts++
	}
	v.say("%d precincts: status, entries, counted entry, attendees, first, final, delegates and SDEs per group", len(order))
	// The CSV.
	csvBody, err := c.ResultsCSV(ctx)
	if err != nil {
		return err
	}
	rows, err := resultscsv.Read(bytes.NewReader(csvBody))
	if err != nil {
		v.find(Finding{Check: "results.csv", Record: "the file", Detail: err.Error()})
		return nil
	}
	seen := map[string]bool{}
	for _, row := range rows {
		pr := ps[row.ID]
		if pr == nil || pr.res == nil {
			v.find(Finding{Check: "results.csv", Record: "precinct " + row.ID, Published: "a row", Recomputed: "not reporting"})
			continue
		}
		seen[row.ID] = true
		for _, id := range ids {
			rec := fmt.Sprintf("results.csv precinct %s candidate %s", row.ID, id)
			g := group(pr.res, id)
			v.cmpInt("total", rec+" first", row.First[id], g.First)
			v.cmpInt("total", rec+" final", row.Final[id], g.Final)
			if pr.sde {
				sde := row.SDE[id]
				v.cmpStr("total", rec+" sde", &sde, rules.SDE(dels(g), pr.ratio))
			}
		}
	}
	for _, pr := range order {
		if pr.res != nil && !seen[pr.p.ID] {
			v.find(Finding{Check: "results.csv", Record: "precinct " + pr.p.ID, Published: "no row", Recomputed: "reporting"})
		}
	}
	v.say("results.csv: %d precincts' rows", len(rows))
	return nil
}

// precinct compares one precinct's published page with the recomputation.
func (v *run) precinct(pr *precinct, pub client.Precinct, ids []string) {
	where := "precinct " + pr.p.ID
	v.cmpString("status", where+" status", pub.Status, pr.status)
	if !slices.Equal(pub.Entries, pr.entries) && !(len(pub.Entries) == 0 && len(pr.entries) == 0) {
		v.find(Finding{Check: "entries", Record: where + " entries", Published: fmt.Sprint(pub.Entries), Recomputed: fmt.Sprint(pr.entries)})
	}
	v.cmpInt("entries", where+" reports", pub.Reports, pr.reports)
	if v.cfg.Receipt != nil && v.cfg.Receipt.PrecinctID == pr.p.ID && pr.counted != v.cfg.Receipt.LogIndex {
		v.find(Finding{Check: "receipt", Record: fmt.Sprintf("%s counted entry (receipt for report %s)", where, v.cfg.Receipt.ReportID),
			Published: fmt.Sprintf("entry %d (status %s)", pr.counted, pr.status), Recomputed: fmt.Sprintf("entry %d, the receipt's", v.cfg.Receipt.LogIndex),
			Detail: "the published numbers are not the ones of this receipt"})
	}
	if pr.res == nil {
		if pub.CountedEntry != nil {
			v.find(Finding{Check: "counted entry", Record: where, Published: strconv.FormatInt(*pub.CountedEntry, 10), Recomputed: "none"})
		}
		return
	}
	v.cmpPtr("counted entry", where+" counted_entry", pub.CountedEntry, pr.counted)
	v.cmpPtr("precinct", where+" attendees", pub.Attendees, pr.rep.Attendees)
	byID := map[string]client.Group{}
	for _, g := range pub.Groups {
		byID[g.CandidateID] = g
	}
	for _, id := range ids {
		rec := fmt.Sprintf("%s candidate %s", where, id)
		g, pg := group(pr.res, id), byID[id]
		v.cmpInt("precinct", rec+" first", pg.First, g.First)
		v.cmpInt("precinct", rec+" final", pg.Final, g.Final)
		if pr.facts.Rules != rules.StrawPoll {
			v.cmpPtr("delegates", rec+" delegates", pg.Delegates, dels(g))
		}
		want := ""
		if pr.sde {
			want = rules.SDE(dels(g), pr.ratio)
		}
		v.cmpStr("precinct", rec+" sde", pg.SDE, want)
	}
}

func group(res *rules.Result, id string) rules.Group {
	for _, g := range res.Groups {
		if g.CandidateID == id {
			return g
		}
	}
	return rules.Group{CandidateID: id}
}

func dels(g rules.Group) int64 {
	if g.Delegates == nil {
		return 0
	}
	return *g.Delegates
}

func (v *run) cmpInt(check, rec string, pub, want int64) {
	if pub != want {
		v.find(Finding{Check: check, Record: rec, Published: strconv.FormatInt(pub, 10), Recomputed: strconv.FormatInt(want, 10)})
	}
}

func (v *run) cmpPtr(check, rec string, pub *int64, want int64) {
	if pub == nil {
		v.find(Finding{Check: check, Record: rec, Published: "null", Recomputed: strconv.FormatInt(want, 10)})
		return
	}
	v.cmpInt(check, rec, *pub, want)
}

func (v *run) cmpString(check, rec, pub, want string) {
	if pub != want {
		v.find(Finding{Check: check, Record: rec, Published: strconv.Quote(pub), Recomputed: strconv.Quote(want)})
	}
}

// cmpStr compares an optional string; want "" means null.
func (v *run) cmpStr(check, rec string, pub *string, want string) {
	p := ""
	if pub != nil {
		p = *pub
	}
	if p != want {
		show := func(s string) string {
			if s == "" {
				return "null"
			}
			return s
		}
		v.find(Finding{Check: check, Record: rec, Published: show(p), Recomputed: show(want)})
	}
}
