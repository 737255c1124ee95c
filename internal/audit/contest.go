package audit

import (
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strings"
	"sync"
)

// Kind names one of the night's three contests.
type Kind string

// The contests, as spec/interfaces.md names them.
const (
	First Kind = "first" // first alignment, people
	Final Kind = "final" // final alignment, people
	SDE   Kind = "sde"   // state delegate equivalents
)

// Kinds lists the contests in the order they are reported.
var Kinds = []Kind{First, Final, SDE}

// Tally is a candidate's total in one precinct or contest; a missing candidate has 0.
type Tally map[string]*big.Rat

func (t Tally) get(id string) *big.Rat {
	if v := t[id]; v != nil {
		return v
	}
	return new(big.Rat)
}

// Batch is one precinct's reported tallies and its bound b_p.
type Batch struct {
	ID       string
	Reported Tally
	Bound    *big.Rat // b_p: the most a loser can gain on the winner in this precinct, ≥ 0
}

// Contest is one contest's reported outcome with everything the audit derives from it: the
// winner, each loser's margin, each precinct's bound u_p and their sum U.
type Contest struct {
	Kind       Kind
	Candidates []string // sorted
	Batches    []Batch  // sorted by ID, byte order
	Totals     Tally
	Winner     string
	RunnerUp   string   // the loser with the smallest margin
	Losers     []string // every candidate but the winner, sorted
	Margins    Tally    // V_wl per loser
	// Tie is true when the winner's total is shared (zero margin): no sample can confirm it.
	Tie bool

	u       []*big.Rat // u_p per batch (nil when Tie)
	cum     []*big.Rat // cum[k] = Σ u_p over batches[0..k]
	U       *big.Rat   // Σ u_p (nil when Tie)
	smp     *sampler   // built on first use
	smpOnce sync.Once

	mu      sync.Mutex
	factors map[int]*factor // the last Kaplan–Markov factor of each batch drawn
}

// Errors callers branch on.
var (
	ErrNoBatches   = errors.New("no precincts")
	ErrNoLoser     = errors.New("fewer than two candidates")
	ErrDuplicateID = errors.New("a precinct appears twice")
	// ErrBoundTooSmall means a precinct's b_p is smaller than a loser's lead over the winner
	// there: it cannot bound what the hand count may find.
	ErrBoundTooSmall = errors.New("the bound is smaller than a loser's lead in the precinct")
)

// NewContest derives a contest from its batches. Candidates are every candidate named in any
// batch plus those given (a candidate with no votes anywhere is still a loser).
func NewContest(kind Kind, candidates []string, batches []Batch) (*Contest, error) {
	if len(batches) == 0 {
		return nil, ErrNoBatches
	}
	c := &Contest{Kind: kind, Batches: slices.Clone(batches), Totals: Tally{}, Margins: Tally{}}
	slices.SortFunc(c.Batches, func(a, b Batch) int { return strings.Compare(a.ID, b.ID) })
	seen := map[string]bool{}
	for _, id := range candidates {
		seen[id] = true
	}
	for i, b := range c.Batches {
		if i > 0 && c.Batches[i-1].ID == b.ID {
			return nil, fmt.Errorf("%w: %s", ErrDuplicateID, b.ID)
		}
		if b.Bound == nil || b.Bound.Sign() < 0 {
			return nil, fmt.Errorf("precinct %s: the bound must be 0 or more", b.ID)
		}
		for id, v := range b.Reported {
			if v.Sign() < 0 {
				return nil, fmt.Errorf("precinct %s: %s has a negative tally", b.ID, id)
			}
			seen[id] = true
			c.Totals[id] = new(big.Rat).Add(c.Totals.get(id), v)
		}
	}
	for id := range seen {
		c.Candidates = append(c.Candidates, id)
	}
	slices.Sort(c.Candidates)
	if len(c.Candidates) < 2 {
		return nil, ErrNoLoser
	}
	// The winner: the largest total; ties keep the first in id order and set Tie.
	c.Winner = c.Candidates[0]
	for _, id := range c.Candidates[1:] {
		if c.Totals.get(id).Cmp(c.Totals.get(c.Winner)) > 0 {
			c.Winner = id
		}
	}
	for _, id := range c.Candidates {
		if id == c.Winner {
			continue
		}
		c.Losers = append(c.Losers, id)
		m := new(big.Rat).Sub(c.Totals.get(c.Winner), c.Totals.get(id))
		c.Margins[id] = m
		if c.RunnerUp == "" || m.Cmp(c.Margins[c.RunnerUp]) < 0 {
			c.RunnerUp = id
		}
	}
	if c.Margins[c.RunnerUp].Sign() == 0 {
		c.Tie = true
		return c, nil
	}
	c.u = make([]*big.Rat, len(c.Batches))
	c.cum = make([]*big.Rat, len(c.Batches))
	c.U = new(big.Rat)
	for i, b := range c.Batches {
		c.u[i] = c.bound(b)
		if c.u[i].Sign() < 0 {
			return nil, fmt.Errorf("precinct %s: %w", b.ID, ErrBoundTooSmall)
		}
		c.U.Add(c.U, c.u[i])
		c.cum[i] = new(big.Rat).Set(c.U)
	}
	return c, nil
}

// bound is u_p = max over losers of ((v_wp − v_lp) + b_p) / V_wl.
func (c *Contest) bound(b Batch) *big.Rat {
	var best *big.Rat
	for _, l := range c.Losers {
		x := new(big.Rat).Sub(b.Reported.get(c.Winner), b.Reported.get(l))
		x.Add(x, b.Bound)
		x.Quo(x, c.Margins[l])
		if best == nil || x.Cmp(best) > 0 {
			best = x
		}
	}
	return best
}

// Margin is the reported margin between the winner and the runner-up.
func (c *Contest) Margin() *big.Rat { return c.Margins[c.RunnerUp] }

// Bound returns u_p of the batch at index i (nil when Tie).
func (c *Contest) Bound(i int) *big.Rat {
	if c.Tie {
		return nil
	}
	return c.u[i]
}

// Index returns the index of the batch with this ID, or -1.
func (c *Contest) Index(id string) int {
	i, ok := slices.BinarySearchFunc(c.Batches, id, func(b Batch, id string) int { return strings.Compare(b.ID, id) })
	if !ok {
		return -1
	}
	return i
}

// Overstatement returns e_p of the batch at index i given its hand count: the maximum over
// losers of ((v_wp − v_lp) − (a_wp − a_lp)) / V_wl. When the hand count leaves several outcomes
// possible (a game of chance not yet played, see HandSDE), each is given and the largest
// overstatement is taken. The result may be negative (an understatement).
func (c *Contest) Overstatement(i int, outcomes ...Tally) *big.Rat {
	b := c.Batches[i]
	var best *big.Rat
	for _, a := range outcomes {
		for _, l := range c.Losers {
			x := new(big.Rat).Sub(b.Reported.get(c.Winner), b.Reported.get(l))
			x.Sub(x, a.get(c.Winner))
			x.Add(x, a.get(l))
			x.Quo(x, c.Margins[l])
			if best == nil || x.Cmp(best) > 0 {
				best = x
			}
		}
	}
	if best == nil {
		panic("audit: Overstatement needs at least one outcome")
	}
	return best
}
