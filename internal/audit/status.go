package audit

import (
	"fmt"
	"math/big"
	"slices"

	"caucus/internal/rules"
)

// Replay is where one contest's audit stands, recomputed from its public inputs alone: the
// seed, the risk limit, the reported results and the hand counts entered so far. Rounds follow
// one another as Progress.NextRound decides; a round's draws count only once every precinct it
// drew has been hand counted, so the same inputs always give the same sample, rounds and risk.
type Replay struct {
	Progress *Progress
	Tickets  []Ticket // every draw so far, the current round's included
	// Waiting lists the precincts of the current round not yet hand counted (sorted, each once);
	// empty once the audit is over.
	Waiting []string
	// Overstatements is e_p of every hand-counted precinct drawn, by precinct id.
	Overstatements map[string]*big.Rat
}

// Replay runs the contest's audit from the seed as far as the hand counts allow. overstatement
// gives e_p of the batch at index i when that precinct has been hand counted.
func (c *Contest) Replay(seed string, alpha *big.Rat, overstatement func(i int) (*big.Rat, bool)) (*Replay, error) {
	if err := ValidSeed(seed); err != nil {
		return nil, err
	}
	r := &Replay{Progress: c.Start(alpha), Overstatements: map[string]*big.Rat{}}
	next := int64(1)
	for m := r.Progress.NextRound(); m > 0; m = r.Progress.NextRound() {
		tickets, err := c.Draw(seed, next, next+m-1)
		if err != nil {
			return nil, err
		}
		r.Tickets = append(r.Tickets, tickets...)
		es := make([]*big.Rat, len(tickets))
		for j, tk := range tickets {
			e, ok := overstatement(tk.Index)
			if !ok {
				if !slices.Contains(r.Waiting, tk.PrecinctID) {
					r.Waiting = append(r.Waiting, tk.PrecinctID)
				}
				continue
			}
			es[j] = e
			r.Overstatements[tk.PrecinctID] = e
		}
		if len(r.Waiting) > 0 {
			slices.Sort(r.Waiting)
			return r, nil
		}
		for j, tk := range tickets {
			if err := r.Progress.Add(tk.Index, es[j]); err != nil {
				return nil, err
			}
		}
		next += m
	}
	return r, nil
}

// HandCounted is one precinct's hand count of its preference cards.
type HandCounted struct {
	First, Final rules.Counts
}

// Status replays the audit of every contest from the seed, the risk limit and the hand counts
// entered so far (by precinct id), in the order of e.Contests.
func (e *Election) Status(seed string, alpha *big.Rat, counts map[string]HandCounted) ([]*Replay, error) {
	outcomes := make(map[string]map[Kind][]Tally, len(counts))
	for id, hc := range counts {
		o, err := e.HandCount(id, hc.First, hc.Final)
		if err != nil {
			return nil, err
		}
		outcomes[id] = o
	}
	out := make([]*Replay, 0, len(e.Contests))
	for _, c := range e.Contests {
		r, err := c.Replay(seed, alpha, func(i int) (*big.Rat, bool) {
			o, ok := outcomes[c.Batches[i].ID]
			if !ok {
				return nil, false
			}
			return c.Overstatement(i, o[c.Kind]...), true
		})
		if err != nil {
			return nil, fmt.Errorf("%s contest: %w", c.Kind, err)
		}
		out = append(out, r)
	}
	return out, nil
}

// RoundTickets splits the replay's tickets by round, in order: each round counted so far (as
// Progress.Rounds lists them), then the round drawn and waiting for hand counts, if any.
func (r *Replay) RoundTickets() [][]Ticket {
	var out [][]Ticket
	from := 0
	for _, rd := range r.Progress.Rounds {
		out = append(out, r.Tickets[from:rd.Draws:rd.Draws])
		from = int(rd.Draws)
	}
	if from < len(r.Tickets) {
		out = append(out, r.Tickets[from:])
	}
	return out
}

// RoundOverstatements lists, for the round of tickets ts, each precinct drawn in it (once, in
// draw order) whose hand count gives a nonzero overstatement e_p, with e_p.
func (r *Replay) RoundOverstatements(ts []Ticket) []PrecinctOverstatement {
	var out []PrecinctOverstatement
	seen := map[string]bool{}
	for _, t := range ts {
		e, ok := r.Overstatements[t.PrecinctID]
		if !ok || e.Sign() == 0 || seen[t.PrecinctID] {
			continue
		}
		seen[t.PrecinctID] = true
		out = append(out, PrecinctOverstatement{PrecinctID: t.PrecinctID, E: e})
	}
	return out
}

// PrecinctOverstatement is a precinct's relative overstatement e_p in a contest.
type PrecinctOverstatement struct {
	PrecinctID string
	E          *big.Rat
}
