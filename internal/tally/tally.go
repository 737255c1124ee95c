package tally

import (
	"errors"
	"fmt"
	"math/big"
	"slices"
	"sync"
	"sync/atomic"

	"caucus/internal/election"
	"caucus/internal/report"
	"caucus/internal/results"
	"caucus/internal/rules"
	"caucus/internal/store"
)

// Tally is the live tabulation of one election. Apply folds new log entries in; Snapshot returns
// the latest published results. Apply calls are serialized; Snapshot may be called from any
// goroutine at any time and never waits.
type Tally struct {
	def  *election.Definition
	ix   *index
	snap atomic.Pointer[Snapshot]

	mu        sync.Mutex // serializes Apply; guards everything below
	size      int64      // entries applied: the next log index expected
	updatedAt string     // received_at of the last entry applied
	precincts [][]pstate // per county, per precinct, as in index.precincts
	counties  []countyState
	state     stateSums
	product   big.Int // scratch for contribute
	certs     certs   // the certification entries applied
}

// countyState is a county's running totals, per candidate in ballot order. sdeDelegates are the
// delegates that count toward SDEs: the county's exact SDEs are sdeDelegates × its ratio.
type countyState struct {
	first, final, delegates, sdeDelegates []int64
	reporting, withheld                   int
	updatedAt                             string
}

// stateSums is the state's running totals. sdeNum are its exact SDEs as numerators over the
// common denominator index.sdeDen (Σ delegates × ratio, each ratio index.sdeMul/sdeDen), so
// that an entry adds an integer product, never a fraction to reduce; sde holds them as written,
// worked out again only for the candidates whose numerator changed (stale).
type stateSums struct {
	first, final, delegates []int64
	sdeNum                  []*big.Int // nil in a straw poll
	sde                     []string
	stale                   []bool
	reporting, withheld     int
}

// New returns the tally of def with no entry applied: every precinct not reported.
func New(def *election.Definition) *Tally { return NewWithLog(def, Log{}) }

// NewWithLog is New for results that name the transparency log they were computed from.
func NewWithLog(def *election.Definition, lg Log) *Tally {
	return newTally(def, lg, results.DefaultPolicy)
}

// newTally is the tally of def with no entry applied, publishing under policy.
func newTally(def *election.Definition, lg Log, policy results.Policy) *Tally {
	ix := newIndex(def)
	ix.log, ix.policy = lg, policy
	n := len(ix.ids)
	t := &Tally{def: def, ix: ix, precincts: make([][]pstate, len(ix.counties)), certs: newCerts(len(ix.counties)),
		counties: make([]countyState, len(ix.counties)),
		state:    stateSums{first: make([]int64, n), final: make([]int64, n), delegates: make([]int64, n)}}
	if !ix.straw {
		t.state.sdeNum, t.state.sde, t.state.stale = make([]*big.Int, n), make([]string, n), make([]bool, n)
		for i := range t.state.sdeNum {
			t.state.sdeNum[i], t.state.stale[i] = new(big.Int), true
		}
	}
	pv := make([]*precinctView, 0, ix.total)
	for ci := range ix.counties {
		t.counties[ci] = countyState{first: make([]int64, n), final: make([]int64, n),
			delegates: make([]int64, n), sdeDelegates: make([]int64, n)}
		t.precincts[ci] = make([]pstate, len(ix.precincts[ci]))
		for pi, p := range ix.precincts[ci] {
			t.precincts[ci][pi] = newPstate(p.ID)
			pv = append(pv, ix.renderPrecinct(loc{ci, pi}, &t.precincts[ci][pi]))
		}
	}
	precincts := newPvec(pv)
	cv := make([]*countyView, len(ix.counties))
	for ci := range ix.counties {
		cv[ci] = t.renderCounty(ci, precincts)
	}
	s := ix.snapshot(0, "", t.stateTotals(), newPvec(cv), precincts)
	s.certs = t.certs.clone()
	t.snap.Store(s)
	return t
}

// ErrPolicyLocked means SetPolicy refused: entries are already applied, and results published
// under one policy cannot be recomputed under another without misleading whoever read them.
var ErrPolicyLocked = errors.New("the publication policy is set before the first entry")

// SetPolicy sets the publication policy (results.Policy) of a tally with no entry applied and
// publishes a snapshot that names it. With entries applied it returns ErrPolicyLocked (unless
// the policy is the one in force) and changes nothing.
func (t *Tally) SetPolicy(p results.Policy) error {
	if !p.Valid() {
		return fmt.Errorf("publication policy %q: want %q or %q", p.UnderReview, results.PolicyMarked, results.PolicyWithheld)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if p == t.ix.policy {
		return nil
	}
	if t.size > 0 {
		return ErrPolicyLocked
	}
	fresh := newTally(t.def, t.ix.log, p)
	t.ix, t.precincts, t.counties, t.state = fresh.ix, fresh.precincts, fresh.counties, fresh.state
	t.snap.Store(fresh.snap.Load())
	return nil
}

// Policy is the publication policy the tally publishes under.
func (t *Tally) Policy() results.Policy {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.ix.policy
}

// Snapshot returns the latest results. It never blocks and never sees half of an Apply.
func (t *Tally) Snapshot() *Snapshot { return t.snap.Load() }

// ApplyError is Apply's error for one entry that could not be folded in: the entries before it
// are applied and published, it and the ones after it are not.
type ApplyError struct {
	Index int64
	Err   error
}

func (e *ApplyError) Error() string { return fmt.Sprintf("tally: entry %d: %v", e.Index, e.Err) }

func (e *ApplyError) Unwrap() error { return e.Err }

// Apply folds entries into the tally, in order. Their indices must follow on from the entries
// already applied (the first one's Index is Snapshot().LogSize(), then +1 each): a gap or a
// repeat is refused. Each entry is applied whole or not at all; on the first entry that cannot
// be applied (a gap, a leaf that does not parse or does not say what the store says, an entry
// store.Next refuses), Apply publishes what came before it and returns an *ApplyError. The
// tally then stays at that entry until it is given again: a results page that silently skipped
// a stored entry would no longer be the sum of what was accepted.
//
// An entry costs work for its own precinct, its county and the state, in proportion to the
// groups and candidates, never to the number of precincts or counties: the totals are running
// sums changed by the precinct's old and new numbers, and documents are rendered when first
// read (the state's results, once per call). The new Snapshot is published when Apply returns.
func (t *Tally) Apply(entries ...store.Entry) error { return t.ApplyParsed(nil, entries...) }

// Leaf is an entry's leaf as its writer parsed it (report.ParseEntry of Body), so that Apply
// need not parse it again on the one goroutine that applies: the intake parses each leaf it
// builds on the submitter's goroutine, before the commit.
type Leaf struct {
	Index int64
	Body  []byte
	Entry report.Entry
}

// ApplyParsed is Apply with some leaves already parsed. A leaf is used for the entry of its
// index only when its Body is the entry's Body byte for byte; any other entry is parsed as
// Apply does. The leaves' reports must not be modified afterwards.
func (t *Tally) ApplyParsed(leaves []Leaf, entries ...store.Entry) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	dirty := map[loc]bool{}
	var err error
	size := t.size
	for i := range entries {
		var leaf *Leaf
		for j := range leaves {
			if leaves[j].Index == entries[i].Index {
				leaf = &leaves[j]
				break
			}
		}
		if err = t.apply(&entries[i], leaf, dirty); err != nil {
			err = &ApplyError{Index: entries[i].Index, Err: err}
			break
		}
	}
	// An entry that changes no precinct (an audit's, the state's certification) still moves the
	// results' log size on.
	if len(dirty) > 0 || t.size != size {
		t.publish(dirty)
	}
	return err
}

// apply folds one entry in, changing nothing when it fails.
func (t *Tally) apply(e *store.Entry, leaf *Leaf, dirty map[loc]bool) error {
	if e.Index != t.size {
		return fmt.Errorf("log index %d, want %d: entries must be applied in order, each once", e.Index, t.size)
	}
	if e.Kind == store.KindCertification {
		return t.applyCert(e, leaf, dirty)
	}
	if e.Kind == store.KindAudit {
		if err := t.ix.auditEntry(e); err != nil {
			return err
		}
		t.size++
		return nil
	}
	l, le, err := t.ix.decode(e, leaf)
	if err != nil {
		return err
	}
	ps := &t.precincts[l.county][l.pos]
	next, err := t.ix.advance(l, *ps, e, &le)
	if err != nil {
		return err
	}
	// What the precinct adds to the totals: its counted numbers unless the policy withholds
	// them (then it adds nothing, and counts among the withheld).
	if was, is := t.ix.shown(ps), t.ix.shown(&next); was != is {
		t.contribute(l.county, was, -1)
		t.contribute(l.county, is, +1)
		d := 0
		switch {
		case was == nil:
			d = 1
		case is == nil:
			d = -1
		}
		t.counties[l.county].reporting += d
		t.state.reporting += d
	}
	if d := b2i(t.ix.withheld(&next)) - b2i(t.ix.withheld(ps)); d != 0 {
		t.counties[l.county].withheld += d
		t.state.withheld += d
	}
	*ps = next
	t.counties[l.county].updatedAt = le.ReceivedAt
	t.size++
	t.updatedAt = le.ReceivedAt
	dirty[l] = true
	return nil
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// contribute adds (sign +1) or takes away (sign -1) a precinct's outcome from its county and
// the state: a few integer additions per candidate, and for SDEs one integer product.
func (t *Tally) contribute(ci int, o *outcome, sign int64) {
	if o == nil {
		return
	}
	c, s := &t.counties[ci], &t.state
	for i := range t.ix.ids {
		c.first[i] += sign * o.first[i]
		c.final[i] += sign * o.final[i]
		c.delegates[i] += sign * o.delegates[i]
		s.first[i] += sign * o.first[i]
		s.final[i] += sign * o.final[i]
		s.delegates[i] += sign * o.delegates[i]
		if o.sde && o.delegates[i] != 0 { // o.sde: the county has a ratio, and this is no straw poll
			c.sdeDelegates[i] += sign * o.delegates[i]
			t.product.SetInt64(sign * o.delegates[i])
			s.sdeNum[i].Add(s.sdeNum[i], t.product.Mul(&t.product, t.ix.sdeMul[ci]))
			s.stale[i] = true
		}
	}
}

// renderCounty makes county ci's view around the precinct views of precincts: a copy of its
// totals, its SDEs and documents worked out when first read.
func (t *Tally) renderCounty(ci int, precincts pvec[*precinctView]) *countyView {
	c := &t.counties[ci]
	tot := totals{first: slices.Clone(c.first), final: slices.Clone(c.final),
		delegates: slices.Clone(c.delegates), reporting: c.reporting, withheld: c.withheld}
	v := t.ix.renderCounty(ci, tot, c.updatedAt, precincts)
	if !t.ix.straw && t.ix.ratios[ci] != nil {
		v.sdeDelegates = slices.Clone(c.sdeDelegates)
	}
	return v
}

// stateTotals is a copy of the state's totals, its SDEs rounded as written.
func (t *Tally) stateTotals() totals {
	s := &t.state
	tot := totals{first: slices.Clone(s.first), final: slices.Clone(s.final),
		delegates: slices.Clone(s.delegates), reporting: s.reporting, withheld: s.withheld}
	if s.sdeNum != nil {
		for i, num := range s.sdeNum {
			if s.stale[i] {
				s.sde[i] = rules.FormatSDE(rules.RoundSDE(new(big.Rat).SetFrac(num, t.ix.sdeDen)))
				s.stale[i] = false
			}
		}
		tot.sde = slices.Clone(s.sde)
	}
	return tot
}

// publish makes the next snapshot from the last one: the touched precincts' views and their
// counties' views are new, every other view is shared, and the vectors holding them copy only
// the paths to what changed. Its cost follows the entries applied, not the election's size.
func (t *Tally) publish(dirty map[loc]bool) {
	old := t.snap.Load()
	pb := old.precincts.Edit()
	counties := make(map[int]bool, len(dirty))
	for l := range dirty {
		pb.Set(t.ix.ordinal(l), t.ix.renderPrecinct(l, &t.precincts[l.county][l.pos]))
		counties[l.county] = true
	}
	precincts := pb.Done()
	cb := old.counties.Edit()
	for ci := range counties {
		cb.Set(ci, t.renderCounty(ci, precincts))
	}
	s := t.ix.snapshot(t.size, t.updatedAt, t.stateTotals(), cb.Done(), precincts)
	s.certs = t.certs.clone()
	t.snap.Store(s)
}
