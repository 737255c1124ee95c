package tally

import (
	"fmt"
	"math/big"
	"slices"
	"sync"
	"sync/atomic"

	"caucus/internal/election"
	"caucus/internal/report"
	"caucus/internal/store"
)

// Tally is the live tabulation of one election. Apply folds new log entries in; Snapshot returns
// the latest published results. Apply calls are serialized; Snapshot may be called from any
// goroutine at any time and never waits.
type Tally struct {
	ix   *index
	snap atomic.Pointer[Snapshot]

	mu        sync.Mutex // serializes Apply; guards everything below
	size      int64      // entries applied: the next log index expected
	updatedAt string     // received_at of the last entry applied
	precincts [][]pstate // per county, per precinct, as in index.precincts
	counties  []countyState
	state     totals
}

// countyState is a county's running totals. sdeDelegates are the delegates that count toward
// SDEs (countySDE turns them into exact SDEs).
type countyState struct {
	t            totals // sde unused: see sdeDelegates
	sdeDelegates []int64
	updatedAt    string
}

// New returns the tally of def with no entry applied: every precinct not reported.
func New(def *election.Definition) *Tally { return NewWithLog(def, Log{}) }

// NewWithLog is New for results that name the transparency log they were computed from.
func NewWithLog(def *election.Definition, lg Log) *Tally {
	ix := newIndex(def)
	ix.log = lg
	n := len(ix.ids)
	t := &Tally{ix: ix, precincts: make([][]pstate, len(ix.counties)),
		counties: make([]countyState, len(ix.counties)), state: newTotals(n, !ix.straw)}
	views := make([]*countyView, len(ix.counties))
	for ci := range ix.counties {
		t.counties[ci] = countyState{t: newTotals(n, false), sdeDelegates: make([]int64, n)}
		t.precincts[ci] = make([]pstate, len(ix.precincts[ci]))
		pv := make([]*precinctView, len(ix.precincts[ci]))
		for pi, p := range ix.precincts[ci] {
			t.precincts[ci][pi] = newPstate(p.ID)
			pv[pi] = ix.renderPrecinct(loc{ci, pi}, &t.precincts[ci][pi])
		}
		views[ci] = t.renderCounty(ci, pv)
	}
	t.snap.Store(ix.snapshot(0, "", &t.state, views))
	return t
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
// Only the touched precincts, their counties and the state are computed and rendered again,
// once per call; the new Snapshot is published when Apply returns.
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
	if len(dirty) > 0 {
		t.publish(dirty)
	}
	return err
}

// apply folds one entry in, changing nothing when it fails.
func (t *Tally) apply(e *store.Entry, leaf *Leaf, dirty map[loc]bool) error {
	if e.Index != t.size {
		return fmt.Errorf("log index %d, want %d: entries must be applied in order, each once", e.Index, t.size)
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
	if next.out != ps.out {
		c := &t.counties[l.county]
		t.contribute(l.county, ps.out, -1)
		t.contribute(l.county, next.out, +1)
		if ps.out == nil {
			c.t.reporting++
			t.state.reporting++
		}
	}
	*ps = next
	t.counties[l.county].updatedAt = le.ReceivedAt
	t.size++
	t.updatedAt = le.ReceivedAt
	dirty[l] = true
	return nil
}

// contribute adds (sign +1) or takes away (sign -1) a precinct's outcome from its county and
// the state.
func (t *Tally) contribute(ci int, o *outcome, sign int64) {
	if o == nil {
		return
	}
	c := &t.counties[ci]
	ratio := t.ix.ratios[ci]
	for i := range t.ix.ids {
		c.t.first[i] += sign * o.first[i]
		c.t.final[i] += sign * o.final[i]
		c.t.delegates[i] += sign * o.delegates[i]
		t.state.first[i] += sign * o.first[i]
		t.state.final[i] += sign * o.final[i]
		t.state.delegates[i] += sign * o.delegates[i]
		if o.sde && o.delegates[i] != 0 {
			c.sdeDelegates[i] += sign * o.delegates[i]
			d := new(big.Rat).SetInt64(sign * o.delegates[i])
			t.state.sde[i].Add(t.state.sde[i], d.Mul(d, ratio))
		}
	}
}

// renderCounty renders county ci around its precincts' views.
func (t *Tally) renderCounty(ci int, views []*precinctView) *countyView {
	c := &t.counties[ci]
	ct := c.t
	ct.sde = countySDE(t.ix.ratios[ci], c.sdeDelegates)
	if t.ix.straw {
		ct.sde = nil
	}
	return t.ix.renderCounty(ci, &ct, c.updatedAt, views)
}

// publish renders the touched precincts, their counties and the state, shares the rest with the
// previous snapshot, and swaps the new snapshot in.
func (t *Tally) publish(dirty map[loc]bool) {
	old := t.snap.Load()
	views := slices.Clone(old.counties)
	byCounty := map[int][]int{}
	for l := range dirty {
		byCounty[l.county] = append(byCounty[l.county], l.pos)
	}
	for ci, positions := range byCounty {
		pv := slices.Clone(old.counties[ci].precincts)
		for _, pi := range positions {
			pv[pi] = t.ix.renderPrecinct(loc{ci, pi}, &t.precincts[ci][pi])
		}
		views[ci] = t.renderCounty(ci, pv)
	}
	t.snap.Store(t.ix.snapshot(t.size, t.updatedAt, &t.state, views))
}
