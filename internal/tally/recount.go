package tally

import (
	"fmt"
	"math/big"

	"caucus/internal/election"
	"caucus/internal/results"
	"caucus/internal/store"
)

// Recount computes the results from scratch from a whole log, entries[i] having index i: the
// other path of spec/reliability.md B0.3, for tests and checkers. It shares with Apply the
// reading of leaves, the state machine and the caucus math of one precinct, but not the
// arithmetic: every county and state total is the sum, over its counted precincts, of their
// counts, delegates and exact SDEs (delegates × ratio as a rational), rendered afresh. Its
// snapshot must hold the same bytes as the tally fed the same entries.
func Recount(def *election.Definition, entries []store.Entry) (*Snapshot, error) {
	return RecountWithLog(def, entries, Log{})
}

// RecountWithLog is Recount for results that name the transparency log (see NewWithLog).
func RecountWithLog(def *election.Definition, entries []store.Entry, lg Log) (*Snapshot, error) {
	return RecountWithPolicy(def, entries, lg, results.DefaultPolicy)
}

// RecountWithPolicy is RecountWithLog for results published under policy (Tally.SetPolicy).
func RecountWithPolicy(def *election.Definition, entries []store.Entry, lg Log, policy results.Policy) (*Snapshot, error) {
	ix := newIndex(def)
	ix.log, ix.policy = lg, policy
	ps := make([][]pstate, len(ix.counties))
	for ci := range ix.counties {
		ps[ci] = make([]pstate, len(ix.precincts[ci]))
		for pi, p := range ix.precincts[ci] {
			ps[ci][pi] = newPstate(p.ID)
		}
	}
	countyUpdated := make([]string, len(ix.counties))
	var updatedAt string
	cs := newCerts(len(ix.counties))
	for i := range entries {
		e := &entries[i]
		if e.Index != int64(i) {
			return nil, fmt.Errorf("tally: recount: entry %d has log index %d", i, e.Index)
		}
		if e.Kind == store.KindCertification {
			le, ci, err := ix.decodeCert(e, nil)
			if err != nil {
				return nil, fmt.Errorf("tally: recount: entry %d: %w", i, err)
			}
			if on := cs.apply(e, &le, ci); ci >= 0 {
				for pi := range ps[ci] {
					ps[ci][pi].certified = on
				}
				countyUpdated[ci] = le.ReceivedAt
			}
			updatedAt = le.ReceivedAt
			continue
		}
		if e.Kind == store.KindAudit {
			if err := ix.auditEntry(e); err != nil {
				return nil, fmt.Errorf("tally: recount: entry %d: %w", i, err)
			}
			continue
		}
		l, le, err := ix.decode(e, nil)
		if err == nil {
			ps[l.county][l.pos], err = ix.advance(l, ps[l.county][l.pos], e, &le)
		}
		if err != nil {
			return nil, fmt.Errorf("tally: recount: entry %d: %w", i, err)
		}
		countyUpdated[l.county] = le.ReceivedAt
		updatedAt = le.ReceivedAt
	}

	n := len(ix.ids)
	state, stateSDE := newTotals(n), newRats(n, !ix.straw)
	pv := make([]*precinctView, 0, ix.total)
	cts := make([]totals, len(ix.counties))
	for ci := range ix.counties {
		ratio := ix.ratios[ci]
		ct, ctSDE := newTotals(n), newRats(n, ratio != nil && !ix.straw)
		for pi := range ps[ci] {
			p := &ps[ci][pi]
			pv = append(pv, ix.renderPrecinct(loc{ci, pi}, p))
			if ix.withheld(p) {
				ct.withheld++
				state.withheld++
			}
			o := ix.shown(p)
			if o == nil {
				continue
			}
			ct.reporting++
			state.reporting++
			for i := range n {
				ct.first[i] += o.first[i]
				ct.final[i] += o.final[i]
				ct.delegates[i] += o.delegates[i]
				state.first[i] += o.first[i]
				state.final[i] += o.final[i]
				state.delegates[i] += o.delegates[i]
				if o.sde {
					sde := new(big.Rat).SetInt64(o.delegates[i])
					sde.Mul(sde, ratio)
					ctSDE[i].Add(ctSDE[i], sde)
					stateSDE[i].Add(stateSDE[i], sde)
				}
			}
		}
		ct.sde = roundSDE(ctSDE)
		cts[ci] = ct
	}
	state.sde = roundSDE(stateSDE)
	precincts := newPvec(pv)
	views := make([]*countyView, len(ix.counties))
	for ci := range ix.counties {
		views[ci] = ix.renderCounty(ci, cts[ci], countyUpdated[ci], precincts)
	}
	snap := ix.snapshot(int64(len(entries)), updatedAt, state, newPvec(views), precincts)
	snap.certs = cs
	return snap, nil
}
