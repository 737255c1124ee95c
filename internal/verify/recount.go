package verify

import (
	"bytes"
	"context"
	"fmt"
	"math/big"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing/fstest"

	"caucus/internal/client"
	"caucus/internal/election"
	"caucus/internal/report"
	"caucus/internal/results"
	"caucus/internal/resultscsv"
	"caucus/internal/rules"
)

// docs are the published documents verify compares, each with the log size it was computed
// from: a server keeps taking reports while verify reads, so they need not all be of one size.
type docs struct {
	def       *election.Definition
	results   results.Results
	counties  results.Counties
	county    []results.County   // def.Counties() order
	precincts []results.Precinct // def.Precincts() order
	// countySize and precinctSize are the log sizes county[i] and precincts[i] were computed
	// from (the server's LogSizeHeader), as csvSize is the CSV's.
	countySize, precinctSize []int64
	csv                      []byte
	csvSize                  int64
	// certs are the published certifications, and certCSV the results CSV of each
	// certification (not withdrawal) by its log index.
	certs   results.Certifications
	certCSV map[int64][]byte
}

// fetchWorkers is how many documents verify reads at once: enough to hide a loopback or LAN
// round trip behind another, few enough not to look like a flood to the server's throttles.
const fetchWorkers = 8

// fetchDocs reads the election definition, the results and the counties list.
func fetchDocs(ctx context.Context, c *client.Client) (*docs, error) {
	el, err := c.Election(ctx)
	if err != nil {
		return nil, err
	}
	fsys := fstest.MapFS{}
	for name, data := range el.Files {
		fsys[name] = &fstest.MapFile{Data: []byte(data)}
	}
	def, err := election.Load(fsys)
	if err != nil {
		return nil, fmt.Errorf("the published election definition does not load: %w", err)
	}
	d := &docs{def: def}
	if d.results, err = c.Results(ctx); err != nil {
		return nil, err
	}
	if d.counties, err = c.Counties(ctx); err != nil {
		return nil, err
	}
	return d, nil
}

// fetchPages reads the county and precinct pages and results.csv.
func (d *docs) fetchPages(ctx context.Context, c *client.Client) error {
	var err error
	def := d.def
	counties, precincts := def.Counties(), def.Precincts()
	d.county, d.countySize = make([]results.County, len(counties)), make([]int64, len(counties))
	d.precincts, d.precinctSize = make([]results.Precinct, len(precincts)), make([]int64, len(precincts))
	jobs := make(chan func() error)
	errs := make(chan error, fetchWorkers)
	var wg sync.WaitGroup
	for range fetchWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var first error
			for job := range jobs {
				if first == nil {
					first = job()
				}
			}
			errs <- first
		}()
	}
	send := func(job func() error) bool {
		select {
		case jobs <- job:
			return true
		case <-ctx.Done():
			return false
		}
	}
	for i, cty := range counties {
		if !send(func() (err error) { d.county[i], d.countySize[i], err = c.CountyAt(ctx, cty.ID); return err }) {
			break
		}
	}
	for i, p := range precincts {
		if !send(func() (err error) { d.precincts[i], d.precinctSize[i], err = c.PrecinctAt(ctx, p.ID); return err }) {
			break
		}
	}
	close(jobs)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			return err
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if d.csv, d.csvSize, err = c.ResultsCSVAt(ctx); err != nil {
		return err
	}
	if err := d.fetchCertifications(ctx, c); err != nil {
		return err
	}
	// A server that does not name the log size of a document: the size of the results.
	for i := range d.countySize {
		if d.countySize[i] < 0 {
			d.countySize[i] = d.counties.LogSize
		}
	}
	for i := range d.precinctSize {
		if d.precinctSize[i] < 0 {
			d.precinctSize[i] = d.results.LogSize
		}
	}
	if d.csvSize < 0 {
		d.csvSize = d.results.LogSize
	}
	return nil
}

// maxSize is the largest log size a document names, and which document.
func (d *docs) maxSize() (int64, string) {
	n, what := d.results.LogSize, "/api/v1/results"
	up := func(m int64, w string) {
		if m > n {
			n, what = m, w
		}
	}
	up(d.counties.LogSize, "/api/v1/results/counties")
	for i, c := range d.county {
		up(d.countySize[i], "county "+c.CountyID)
	}
	for i, p := range d.precincts {
		up(d.precinctSize[i], "precinct "+p.PrecinctID)
	}
	up(d.csvSize, "results.csv")
	return n, what
}

// precinct is one precinct's entries in the log, and what verify recomputes of it at a log
// size, replaying its entries with its own reading of the state machine of
// spec/reliability.md C3: the first report counts; a second report is a conflict (under review,
// the first still counts); a correction counts; a review decides the status and may name the
// counted entry.
type precinct struct {
	p       election.Precinct
	county  int
	ratio   *big.Rat
	facts   report.Precinct
	entries []int64
	parsed  []*report.Entry
	memo    map[int]*pstate // by the number of its entries replayed
}

// pstate is a precinct at one log size.
type pstate struct {
	status  results.Status
	counted int64
	entries []int64
	reports int64
	rep     *report.Report
	res     *rules.Result
	sde     bool
	// withheld: the precinct counts an entry but is under review, and the policy keeps its
	// numbers out of the results; shown is the result its published numbers come from (nil
	// when nothing counts or it is withheld).
	withheld bool
	shown    *rules.Result
}

// at is the precinct as the tree of the given size has it.
func (v *run) at(pr *precinct, size int64) *pstate {
	k := sort.Search(len(pr.entries), func(i int) bool { return pr.entries[i] >= size })
	if s := pr.memo[k]; s != nil {
		return s
	}
	s := v.replay(pr, k, nil)
	pr.memo[k] = s
	return s
}

// replay computes a precinct from its first k entries; emit, when set, receives what is wrong
// with them.
func (v *run) replay(pr *precinct, k int, emit func(Finding)) *pstate {
	s := &pstate{status: results.NotReported, counted: -1, entries: pr.entries[:k:k]}
	byIndex := map[int64]*report.Report{}
	for i, le := range pr.parsed[:k] {
		idx := pr.entries[i]
		switch le.Kind {
		case report.KindReport:
			s.reports++
			byIndex[idx] = le.Report
			if s.counted < 0 {
				s.counted = idx
				s.status = results.Accepted
				if r := rules.Calc(report.CalcInput(*le.Report, pr.facts)); len(r.Checks) > 0 {
					s.status = results.UnderReview // counted, flagged for review
				}
			} else {
				s.status = results.UnderReview
			}
		case report.KindCorrection:
			byIndex[idx] = le.Report
			s.counted, s.status = idx, results.Corrected
		case report.KindReview:
			if s.counted < 0 {
				if emit != nil {
					emit(Finding{Check: "entry", Record: fmt.Sprintf("entry %d", idx), Detail: fmt.Sprintf("a review of precinct %s, which counts nothing", le.PrecinctID)})
				}
				continue
			}
			if le.Counts != nil {
				if byIndex[*le.Counts] == nil {
					if emit != nil {
						emit(Finding{Check: "entry", Record: fmt.Sprintf("entry %d", idx), Detail: fmt.Sprintf("a review counts entry %d, not a report of precinct %s", *le.Counts, le.PrecinctID)})
					}
					continue
				}
				s.counted = *le.Counts
			}
			s.status = results.Status(le.Decision)
		}
	}
	if s.counted >= 0 {
		s.rep = byIndex[s.counted]
		res := rules.Calc(report.CalcInput(*s.rep, pr.facts))
		s.res = &res
		s.sde = pr.ratio != nil && pr.facts.Rules != rules.StrawPoll && !res.TieOpen() && !res.HasErrors()
		s.withheld = s.status == results.UnderReview && v.policy.Withholds()
		if !s.withheld {
			s.shown = s.res
		}
	}
	return s
}

// sums are a county's or the state's totals at one log size.
type sums struct {
	first, final, dels  []int64
	sde                 []*big.Rat
	reporting, withheld int
}

// ledger is the log read by precinct, and the totals computed so far by log size.
type ledger struct {
	ids      []string
	straw    bool
	counties []election.County
	ratios   []*big.Rat
	order    []*precinct // def.Precincts() order
	ps       map[string]*precinct
	byCounty [][]*precinct
	state    map[int64]*sums
	county   map[[2]int64]*sums
	certs    []certEntry // the log's certification entries, in log order
	cty      map[string]int
}

func (v *run) sumsOf(l *ledger, prs []*precinct, size int64) *sums {
	n := len(l.ids)
	s := &sums{first: make([]int64, n), final: make([]int64, n), dels: make([]int64, n), sde: make([]*big.Rat, n)}
	for i := range s.sde {
		s.sde[i] = new(big.Rat)
	}
	for _, pr := range prs {
		st := v.at(pr, size)
		if st.withheld {
			s.withheld++
		}
		if st.shown == nil {
			continue
		}
		s.reporting++
		for _, g := range st.shown.Groups {
			i := slices.Index(l.ids, g.CandidateID)
			if i < 0 {
				continue
			}
			d := dels(g)
			s.first[i] += g.First
			s.final[i] += g.Final
			s.dels[i] += d
			if st.sde {
				s.sde[i].Add(s.sde[i], new(big.Rat).Mul(big.NewRat(d, 1), pr.ratio))
			}
		}
	}
	return s
}

func (v *run) stateAt(l *ledger, size int64) *sums {
	if s := l.state[size]; s != nil {
		return s
	}
	s := v.sumsOf(l, l.order, size)
	l.state[size] = s
	return s
}

func (v *run) countyAt(l *ledger, ci int, size int64) *sums {
	k := [2]int64{int64(ci), size}
	if s := l.county[k]; s != nil {
		return s
	}
	s := v.sumsOf(l, l.byCounty[ci], size)
	l.county[k] = s
	return s
}

// recount recomputes every number from the entries, at the log size each published document
// names, and compares.
func (v *run) recount(d *docs, bodies [][]byte) {
	def, top := d.def, d.results
	e := def.Election()
	if e.ID != top.ElectionID {
		v.find(Finding{Check: "election", Record: "election_id", Published: top.ElectionID, Recomputed: e.ID + " (definition)"})
		return
	}
	// The policy the results say they follow decides whether a precinct under review is in the
	// totals; a server that names none publishes them marked (in the totals).
	v.policy = results.DefaultPolicy
	if p := top.PublicationPolicy; p != nil {
		if !p.Valid() {
			v.find(Finding{Check: "policy", Record: "publication_policy", Published: strconv.Quote(p.UnderReview), Recomputed: "marked or withheld"})
			return
		}
		v.policy = *p
	}
	v.say("publication policy: precincts under review are %s", v.policy.UnderReview)
	profile := rules.Profile(e.Rules)
	l := &ledger{straw: profile == rules.StrawPoll, counties: def.Counties(), ps: map[string]*precinct{},
		state: map[int64]*sums{}, county: map[[2]int64]*sums{}}
	names := map[string]string{}
	for _, cand := range def.Candidates() {
		l.ids = append(l.ids, cand.ID)
		names[cand.ID] = cand.Name
	}
	l.ratios = make([]*big.Rat, len(l.counties))
	l.byCounty = make([][]*precinct, len(l.counties))
	ci := map[string]int{}
	l.cty = ci
	for i, cty := range l.counties {
		ci[cty.ID] = i
		if r, ok := cty.SDERatio(); ok {
			l.ratios[i] = r
		}
	}
	for _, p := range def.Precincts() {
		i := ci[p.CountyID]
		pr := &precinct{p: p, county: i, ratio: l.ratios[i], memo: map[int]*pstate{},
			facts: report.Precinct{Rules: profile, DelegatesToElect: int64(p.DelegatesToElect), Satellite: p.Satellite, Ratio: l.ratios[i], Candidates: l.ids, Names: names}}
		l.ps[p.ID] = pr
		l.order = append(l.order, pr)
		l.byCounty[i] = append(l.byCounty[i], pr)
	}
	var audits []auditLeaf
	for i, body := range bodies {
		idx := int64(i)
		le, err := report.ParseEntry(body)
		if err != nil {
			v.find(Finding{Check: "entry", Record: fmt.Sprintf("entry %d", idx), Detail: "does not read as an entry: " + err.Error()})
			continue
		}
		if le.Kind == report.KindCertification && le.ElectionID == e.ID {
			l.certs = append(l.certs, certEntry{idx: idx, le: &le})
			continue
		}
		if le.Kind == report.KindAudit && le.ElectionID == e.ID {
			audits = append(audits, auditLeaf{idx, &le})
			continue
		}
		pr, ok := l.ps[le.PrecinctID]
		if !ok || le.ElectionID != e.ID {
			v.find(Finding{Check: "entry", Record: fmt.Sprintf("entry %d", idx), Published: fmt.Sprintf("election %q precinct %q", le.ElectionID, le.PrecinctID), Recomputed: "a precinct of election " + e.ID})
			continue
		}
		pr.entries = append(pr.entries, idx)
		pr.parsed = append(pr.parsed, &le)
	}
	for _, pr := range l.order {
		pr.memo[len(pr.entries)] = v.replay(pr, len(pr.entries), v.find)
	}
	v.res.Entries = top.LogSize
	n := len(l.ids)
	cmpCands := func(where string, pub []results.Candidate, s *sums, sde bool) {
		if len(pub) != n {
			v.find(Finding{Check: "total", Record: where + " candidates", Published: strconv.Itoa(len(pub)), Recomputed: strconv.Itoa(n)})
			return
		}
		for i, pc := range pub {
			rec := fmt.Sprintf("%s candidate %s", where, l.ids[i])
			if pc.CandidateID != l.ids[i] {
				v.find(Finding{Check: "total", Record: where + " candidate order", Published: pc.CandidateID, Recomputed: l.ids[i]})
				continue
			}
			v.cmpInt("total", rec+" first", pc.First, s.first[i])
			v.cmpInt("total", rec+" final", pc.Final, s.final[i])
			if !l.straw {
				v.cmpPtr("total", rec+" county_delegates", pc.CountyDelegates, s.dels[i])
			}
			want := ""
			if sde && !l.straw {
				want = rules.FormatSDE(rules.RoundSDE(s.sde[i]))
			}
			v.cmpStr("total", rec+" sde", pc.SDE, want)
		}
	}
	// The state.
	state := v.stateAt(l, top.LogSize)
	v.cmpInt("total", "state precincts_reporting", int64(top.PrecinctsReporting), int64(state.reporting))
	v.cmpInt("total", "state precincts_withheld", int64(top.PrecinctsWithheld), int64(state.withheld))
	v.cmpInt("total", "state precincts_total", int64(top.PrecinctsTotal), int64(len(l.order)))
	cmpCands("state", top.Candidates, state, true)
	v.say("state totals at log size %d: %d precincts reporting, %d candidates' first, final, county delegates and SDEs", top.LogSize, state.reporting, n)
	// The counties.
	all := d.counties
	if len(all.Counties) != len(l.counties) {
		v.find(Finding{Check: "total", Record: "counties", Published: strconv.Itoa(len(all.Counties)), Recomputed: strconv.Itoa(len(l.counties))})
	}
	sizes := map[int64]bool{top.LogSize: true, all.LogSize: true}
	for ci, cty := range l.counties {
		where := "county " + cty.ID
		if ci < len(all.Counties) && all.Counties[ci].CountyID == cty.ID {
			s := v.countyAt(l, ci, all.LogSize)
			v.cmpInt("total", where+" precincts_reporting", int64(all.Counties[ci].PrecinctsReporting), int64(s.reporting))
			cmpCands(where, all.Counties[ci].Candidates, s, l.ratios[ci] != nil)
		}
		detail, size := d.county[ci], d.countySize[ci]
		sizes[size] = true
		cmpCands(where+" (its page)", detail.Candidates, v.countyAt(l, ci, size), l.ratios[ci] != nil)
		for _, row := range detail.Precincts {
			if pr := l.ps[row.PrecinctID]; pr != nil {
				st := v.at(pr, size)
				v.cmpStatus(fmt.Sprintf("precinct %s status (county page)", row.PrecinctID), row.Status, l.status(pr, st, size))
				v.cmpWithheld(fmt.Sprintf("precinct %s withheld (county page)", row.PrecinctID), row.Withheld, st.withheld)
			}
		}
		v.res.Counties++
	}
	v.say("%d counties: totals and precinct statuses", len(l.counties))
	// Every precinct.
	for i, pr := range l.order {
		pub, size := d.precincts[i], d.precinctSize[i]
		sizes[size] = true
		st := *v.at(pr, size)
		st.status = l.status(pr, &st, size)
		v.precinct(pr, &st, pub, size, l.ids)
		v.res.Precincts++
	}
	v.say("%d precincts: status, entries, history, counted entry, attendees, first, final, delegates and SDEs per group", len(l.order))
	v.checkAudit(l, profile, audits)
	// The CSV.
	sizes[d.csvSize] = true
	v.compareCSV(l, "results.csv", d.csv, d.csvSize, -1)
	v.certifications(l, d)
	if len(sizes) > 1 {
		v.say("reports arrived while verify read: the documents name %d log sizes, each checked against its own", len(sizes))
	}
}

// compareCSV compares a results CSV with the precincts recomputed at a log size: every precinct
// of the state, or of county ci when ci >= 0. label names the file in findings.
func (v *run) compareCSV(l *ledger, label string, csv []byte, size int64, ci int) {
	rows, err := resultscsv.Read(bytes.NewReader(csv))
	if err != nil {
		v.find(Finding{Check: label, Record: "the file", Detail: err.Error()})
		return
	}
	in := func(pr *precinct) bool { return ci < 0 || pr.county == ci }
	seen := map[string]bool{}
	for _, row := range rows {
		pr := l.ps[row.ID]
		var st *pstate
		if pr != nil && in(pr) {
			st = v.at(pr, size)
		}
		if st == nil || st.shown == nil {
			v.find(Finding{Check: label, Record: "precinct " + row.ID, Published: "a row", Recomputed: "not reporting (or withheld)"})
			continue
		}
		seen[row.ID] = true
		for _, id := range l.ids {
			rec := fmt.Sprintf("%s precinct %s candidate %s", label, row.ID, id)
			g := group(st.shown, id)
			v.cmpInt("total", rec+" first", row.First[id], g.First)
			v.cmpInt("total", rec+" final", row.Final[id], g.Final)
			if st.sde {
				sde := row.SDE[id]
				v.cmpStr("total", rec+" sde", &sde, rules.SDE(dels(g), pr.ratio))
			}
		}
	}
	for _, pr := range l.order {
		if in(pr) && v.at(pr, size).shown != nil && !seen[pr.p.ID] {
			v.find(Finding{Check: label, Record: "precinct " + pr.p.ID, Published: "no row", Recomputed: "reporting"})
		}
	}
	v.say("%s: %d precincts' rows", label, len(rows))
}

// precinct compares one precinct's published page, computed from the tree of the given size,
// with the recomputation.
func (v *run) precinct(pr *precinct, s *pstate, pub results.Precinct, size int64, ids []string) {
	where := "precinct " + pr.p.ID
	v.cmpStatus(where+" status", pub.Status, s.status)
	if !slices.Equal(pub.Entries, s.entries) && !(len(pub.Entries) == 0 && len(s.entries) == 0) {
		v.find(Finding{Check: "entries", Record: where + " entries", Published: fmt.Sprint(pub.Entries), Recomputed: fmt.Sprint(s.entries)})
	}
	v.cmpInt("entries", where+" reports", pub.Reports, s.reports)
	v.history(pr, s, pub)
	if r := v.cfg.Receipt; r != nil && r.PrecinctID == pr.p.ID && r.LogIndex < size && s.counted != r.LogIndex {
		v.find(Finding{Check: "receipt", Record: fmt.Sprintf("%s counted entry at log size %d (receipt for report %s)", where, size, r.ReportID),
			Published: fmt.Sprintf("entry %d (status %s)", s.counted, s.status), Recomputed: fmt.Sprintf("entry %d, the receipt's", r.LogIndex),
			Detail: "the published numbers are not the ones of this receipt"})
	}
	v.cmpWithheld(where+" withheld", pub.Withheld, s.withheld)
	if s.res == nil {
		if pub.CountedEntry != nil {
			v.find(Finding{Check: "counted entry", Record: where, Published: strconv.FormatInt(*pub.CountedEntry, 10), Recomputed: "none"})
		}
		return
	}
	v.cmpPtr("counted entry", where+" counted_entry", pub.CountedEntry, s.counted)
	if s.withheld {
		// Withheld: no number of the counted report is published.
		if pub.Attendees != nil || len(pub.Groups) != 0 || len(pub.Checks) != 0 || len(pub.Tiebreaks) != 0 || pub.ChairDelegates != nil {
			v.find(Finding{Check: "policy", Record: where, Published: "numbers", Recomputed: "none: under review, withheld by the publication policy"})
		}
		return
	}
	v.cmpPtr("precinct", where+" attendees", pub.Attendees, s.rep.Attendees)
	byID := map[string]results.Group{}
	for _, g := range pub.Groups {
		byID[g.CandidateID] = g
	}
	for _, id := range ids {
		rec := fmt.Sprintf("%s candidate %s", where, id)
		g, pg := group(s.res, id), byID[id]
		v.cmpInt("precinct", rec+" first", pg.First, g.First)
		v.cmpInt("precinct", rec+" final", pg.Final, g.Final)
		if pr.facts.Rules != rules.StrawPoll {
			v.cmpPtr("delegates", rec+" delegates", pg.Delegates, dels(g))
		}
		want := ""
		if s.sde {
			want = rules.SDE(dels(g), pr.ratio)
		}
		v.cmpStr("precinct", rec+" sde", pg.SDE, want)
	}
	// The games of chance the counted entry recorded and the allocation used: a published toss
	// changed, added or left out is a finding.
	if want := results.Tiebreaks(s.res); !slices.EqualFunc(pub.Tiebreaks, want, sameTiebreak) {
		v.find(Finding{Check: "tiebreaks", Record: where + " tiebreaks", Published: tiebreakText(pub.Tiebreaks), Recomputed: tiebreakText(want)})
	}
}

func sameTiebreak(a, b results.Tiebreak) bool {
	return a.Kind == b.Kind && slices.Equal(a.Between, b.Between) && a.Delegates == b.Delegates && a.Winner == b.Winner
}

// tiebreakText writes tiebreaks for a finding: "coin a|b for 1: b; …", or "none".
func tiebreakText(ts []results.Tiebreak) string {
	if len(ts) == 0 {
		return "none"
	}
	parts := make([]string, len(ts))
	for i, t := range ts {
		parts[i] = fmt.Sprintf("%s %s for %d: %s", t.Kind, strings.Join(t.Between, "|"), t.Delegates, t.Winner)
	}
	return strings.Join(parts, "; ")
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

// cmpStatus compares a precinct's status; a status that is not one of the contract's is
// published as it came, quoted.
func (v *run) cmpStatus(rec string, pub, want results.Status) {
	if pub != want {
		v.find(Finding{Check: "status", Record: rec, Published: strconv.Quote(string(pub)), Recomputed: strconv.Quote(string(want))})
	}
}

// cmpWithheld compares whether a precinct is published as withheld (results.Policy).
func (v *run) cmpWithheld(rec string, pub, want bool) {
	if pub != want {
		v.find(Finding{Check: "policy", Record: rec, Published: strconv.FormatBool(pub), Recomputed: strconv.FormatBool(want)})
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
