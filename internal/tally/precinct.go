package tally

import (
	"bytes"
	"fmt"
	"math/big"
	"slices"

	"caucus/internal/election"
	"caucus/internal/report"
	"caucus/internal/results"
	"caucus/internal/rules"
	"caucus/internal/store"
)

// index is what a tally knows of its election, built once and shared by every snapshot. It is
// never modified after newIndex.
type index struct {
	elec      election.Election
	profile   rules.Profile
	straw     bool              // straw-poll: no delegates, no SDEs
	ids       []string          // candidate ids in ballot order
	names     map[string]string // candidate id → name
	cand      map[string]int    // candidate id → ballot position
	counties  []election.County
	ratios    []*big.Rat // per county; nil when the county's ratio is not known
	county    map[string]int
	precincts [][]election.Precinct // per county, in file order
	offset    []int                 // per county: the ordinal of its first precinct
	where     map[string]loc        // precinct id → its place
	total     int                   // precincts in the election
	log       Log                   // the log results name; zero: none
	policy    results.Policy        // how precincts under review are published
	// sdeDen is the least common multiple of the ratios' denominators, and sdeMul[c] is county
	// c's ratio times sdeDen (nil when the county has no ratio): the state's exact SDEs are
	// kept as integers over sdeDen.
	sdeDen *big.Int
	sdeMul []*big.Int
}

// loc is a precinct's place: its county's ordinal and its position among the county's precincts.
type loc struct{ county, pos int }

// ordinal is a precinct's position among all the election's precincts, county by county.
func (ix *index) ordinal(l loc) int { return ix.offset[l.county] + l.pos }

func newIndex(def *election.Definition) *index {
	ix := &index{elec: def.Election(), names: map[string]string{}, cand: map[string]int{},
		county: map[string]int{}, where: map[string]loc{}, policy: results.DefaultPolicy}
	ix.profile = rules.Profile(ix.elec.Rules)
	ix.straw = ix.profile == rules.StrawPoll
	for i, c := range def.Candidates() {
		ix.ids = append(ix.ids, c.ID)
		ix.names[c.ID] = c.Name
		ix.cand[c.ID] = i
	}
	ix.counties = def.Counties()
	ix.ratios = make([]*big.Rat, len(ix.counties))
	ix.precincts = make([][]election.Precinct, len(ix.counties))
	ix.offset = make([]int, len(ix.counties))
	ix.sdeDen, ix.sdeMul = big.NewInt(1), make([]*big.Int, len(ix.counties))
	for ci, c := range ix.counties {
		if r, ok := c.SDERatio(); ok {
			ix.ratios[ci] = r
			ix.sdeDen.Mul(ix.sdeDen, new(big.Int).Quo(r.Denom(), new(big.Int).GCD(nil, nil, ix.sdeDen, r.Denom())))
		}
		ix.county[c.ID] = ci
		ix.precincts[ci] = def.PrecinctsIn(c.ID)
		for pi, p := range ix.precincts[ci] {
			ix.where[p.ID] = loc{ci, pi}
		}
		ix.offset[ci] = ix.total
		ix.total += len(ix.precincts[ci])
	}
	for ci, r := range ix.ratios {
		if r != nil { // ratio = num/den = (num · sdeDen/den) / sdeDen
			ix.sdeMul[ci] = new(big.Int).Mul(r.Num(), new(big.Int).Quo(ix.sdeDen, r.Denom()))
		}
	}
	return ix
}

func (ix *index) precinct(l loc) election.Precinct { return ix.precincts[l.county][l.pos] }

// pstate is what a tally knows of one precinct. It is a value: advance returns a new one and
// leaves the old one as it was, so that an entry that fails changes nothing.
type pstate struct {
	st        store.PrecinctState
	entries   []int64                // every log index of the precinct, in order
	reports   []counted              // its reports and corrections: what a review may make counted
	out       *outcome               // the counted entry's numbers; nil when nothing is counted
	history   []results.HistoryEntry // every entry, as the precinct document lists it (Counted unset)
	updatedAt string                 // received_at of its latest entry
	certified bool                   // its county is certified (see status)
}

// withheld reports whether the policy keeps a precinct's numbers out of the results: it counts
// an entry and is under review, and the policy withholds such precincts.
func (ix *index) withheld(ps *pstate) bool {
	return ps.out != nil && ps.st.Status == store.StatusUnderReview && ix.policy.Withholds()
}

// shown is the outcome a precinct's published numbers come from: its counted entry's, or nil
// when nothing counts or the policy withholds it.
func (ix *index) shown(ps *pstate) *outcome {
	if ix.withheld(ps) {
		return nil
	}
	return ps.out
}

// counted is a report or correction of a precinct, by log index.
type counted struct {
	index  int64
	report *report.Report
}

func newPstate(id string) pstate { return pstate{st: store.EmptyState(id)} }

// outcome is the counted entry of a precinct worked out by rules.Calc: what the precinct adds
// to its county and the state. It is immutable.
type outcome struct {
	index                   int64
	report                  *report.Report
	result                  rules.Result
	first, final, delegates []int64 // per candidate, ballot order
	// sde says whether the precinct's delegates count toward SDE totals: its county has a ratio,
	// no game of chance is open and no error check fired.
	sde   bool
	flags []rules.CheckID
}

// decode reads an entry's leaf, or takes leaf when it was parsed from the same bytes, and checks
// that it says what the store says of it.
func (ix *index) decode(e *store.Entry, leaf *Leaf) (loc, report.Entry, error) {
	l, ok := ix.where[e.PrecinctID]
	if !ok {
		return loc{}, report.Entry{}, fmt.Errorf("precinct %q is not in election %q", e.PrecinctID, ix.elec.ID)
	}
	var le report.Entry
	if leaf != nil && bytes.Equal(leaf.Body, e.Body) {
		le = leaf.Entry
	} else {
		var err error
		if le, err = report.ParseEntry(e.Body); err != nil {
			return loc{}, report.Entry{}, fmt.Errorf("read leaf: %w", err)
		}
	}
	switch {
	case le.ElectionID != ix.elec.ID:
		return loc{}, le, fmt.Errorf("leaf is for election %q, not %q", le.ElectionID, ix.elec.ID)
	case le.Kind != string(e.Kind):
		return loc{}, le, fmt.Errorf("leaf is a %s, the store says %s", le.Kind, e.Kind)
	case le.PrecinctID != e.PrecinctID:
		return loc{}, le, fmt.Errorf("leaf is for precinct %q, the store says %q", le.PrecinctID, e.PrecinctID)
	case le.Report != nil && le.Report.PrecinctID != e.PrecinctID:
		return loc{}, le, fmt.Errorf("leaf's report is for precinct %q, not %q", le.Report.PrecinctID, e.PrecinctID)
	}
	if e.Kind == store.KindReview {
		if le.Decision != string(e.Status) {
			return loc{}, le, fmt.Errorf("review decides %q, the store says %q", le.Decision, e.Status)
		}
		want := store.NoIndex
		if le.Counts != nil {
			want = *le.Counts
		}
		if want != e.Counts {
			return loc{}, le, fmt.Errorf("review counts entry %d, the store says %d", want, e.Counts)
		}
	}
	return l, le, nil
}

// auditEntry checks an entry of a risk-limiting audit, which counts toward no precinct: its leaf
// parses, is for this election and is the audit entry the store says it is.
func (ix *index) auditEntry(e *store.Entry) error {
	le, err := report.ParseEntry(e.Body)
	switch {
	case err != nil:
		return fmt.Errorf("read leaf: %w", err)
	case le.Kind != string(e.Kind):
		return fmt.Errorf("leaf is a %s, the store says %s", le.Kind, e.Kind)
	case le.ElectionID != ix.elec.ID:
		return fmt.Errorf("leaf is for election %q, not %q", le.ElectionID, ix.elec.ID)
	}
	return nil
}

// advance folds one entry of a precinct into its state: store.Next says which entry counts and
// the status, and when the counted entry changes its numbers are worked out again.
func (ix *index) advance(l loc, old pstate, e *store.Entry, le *report.Entry) (pstate, error) {
	ne := store.NewEntry{Kind: e.Kind, PrecinctID: e.PrecinctID, Status: e.Status}
	if e.Kind == store.KindReview && e.Counts != store.NoIndex {
		c := e.Counts
		ne.Counts = &c
		if !slices.ContainsFunc(old.reports, func(r counted) bool { return r.index == c }) {
			return old, fmt.Errorf("review counts entry %d, which is not a report or correction of precinct %q",
				c, e.PrecinctID)
		}
	}
	st, _, _, err := store.Next(old.st, &ne, e.Index, e.ReceivedAt)
	if err != nil {
		return old, err
	}
	next := old
	next.st = st
	next.entries = append(old.entries, e.Index)
	h := results.HistoryEntry{LogIndex: e.Index, Kind: le.Kind, ReceivedAt: le.ReceivedAt, Channel: le.Channel,
		Submitter: le.Submitter, Reason: le.Reason, Decision: le.Decision, Counts: le.Counts}
	if r := le.Report; r != nil {
		h.Report = &results.HistoryReport{Attendees: r.Attendees, First: r.First, Final: r.Final, Delegates: r.Delegates}
	}
	next.history = append(old.history[:len(old.history):len(old.history)], h)
	if le.Report != nil {
		next.reports = append(old.reports, counted{e.Index, le.Report})
	}
	next.updatedAt = le.ReceivedAt
	if st.Counted != old.st.Counted {
		i := slices.IndexFunc(next.reports, func(r counted) bool { return r.index == st.Counted })
		if i < 0 { // store.Next counts only reports and corrections
			return old, fmt.Errorf("entry %d is counted but is not a report", st.Counted)
		}
		next.out = ix.compute(l, next.reports[i])
	}
	return next, nil
}

// compute runs the caucus math on a precinct's counted report.
func (ix *index) compute(l loc, c counted) *outcome {
	p := ix.precinct(l)
	ratio := ix.ratios[l.county]
	in := report.CalcInput(*c.report, report.Precinct{Rules: ix.profile,
		DelegatesToElect: int64(p.DelegatesToElect), Satellite: p.Satellite, Ratio: ratio,
		Candidates: ix.ids, Names: ix.names})
	res := rules.Calc(in)
	n := len(ix.ids)
	o := &outcome{index: c.index, report: c.report, result: res,
		first: make([]int64, n), final: make([]int64, n), delegates: make([]int64, n)}
	o.sde = ratio != nil && !ix.straw && !res.TieOpen() && !res.HasErrors()
	for _, g := range res.Groups {
		i, ok := ix.cand[g.CandidateID]
		if !ok {
			continue // not a candidate of this election: C02 flags it, the totals leave it out
		}
		o.first[i], o.final[i] = g.First, g.Final
		if g.Delegates != nil {
			o.delegates[i] = *g.Delegates
		}
	}
	for _, ch := range res.Checks {
		if !slices.Contains(o.flags, ch.ID) {
			o.flags = append(o.flags, ch.ID)
		}
	}
	return o
}

// totals are one area's sums per candidate, ballot order, as a document shows them. sde is the
// exact SDE totals rounded half-up to 4 places as written (R13), nil when no SDE is known (a
// county without a ratio, a straw poll). A view owns its totals: they never change once made.
type totals struct {
	first, final, delegates []int64
	sde                     []string
	reporting               int
	withheld                int // precincts under review whose numbers the policy withholds
}

func newTotals(n int) totals {
	return totals{first: make([]int64, n), final: make([]int64, n), delegates: make([]int64, n)}
}

// roundSDE writes exact SDE totals as published (nil stays nil).
func roundSDE(exact []*big.Rat) []string {
	if exact == nil {
		return nil
	}
	out := make([]string, len(exact))
	for i, x := range exact {
		out[i] = rules.FormatSDE(rules.RoundSDE(x))
	}
	return out
}

// newRats is n zero rationals, or nil when !ok.
func newRats(n int, ok bool) []*big.Rat {
	if !ok {
		return nil
	}
	out := make([]*big.Rat, n)
	for i := range out {
		out[i] = new(big.Rat)
	}
	return out
}
