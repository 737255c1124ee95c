package audit

import (
	"errors"
	"fmt"
	"math/big"

	"caucus/internal/rules"
)

// Status is where a contest's audit stands.
type Status string

// The statuses.
const (
	InProgress    Status = "in_progress"     // more precincts to hand count
	Confirmed     Status = "confirmed"       // the measured risk is at most the risk limit
	FullHandCount Status = "full_hand_count" // only a full hand count can confirm the outcome
)

// ParseRiskLimit reads a risk limit given in percent as an exact decimal ("5", "2.5": digits and
// at most one point) and returns the fraction α, which must be more than 0 and less than 1.
func ParseRiskLimit(percent string) (*big.Rat, error) {
	r, err := rules.ParseDecimal(percent)
	if err != nil || len(percent) > 20 {
		return nil, fmt.Errorf("the risk limit %q is not a number of percent like 5 or 2.5", percent)
	}
	r.Quo(r, big.NewRat(100, 1))
	if r.Sign() <= 0 || r.Cmp(big.NewRat(1, 1)) >= 0 {
		return nil, fmt.Errorf("the risk limit %s%% must be more than 0 and less than 100", percent)
	}
	return r, nil
}

// Plan is a contest's audit plan before any draw.
type Plan struct {
	Kind     Kind
	Winner   string
	RunnerUp string
	Margin   *big.Rat // winner's total − runner-up's
	U        *big.Rat // nil for a tie
	// ExpectedSample is the smallest n with (1 − 1/U)^n ≤ α: the draws that end the audit if
	// they find no overstatement (⌈ln α / ln(1 − 1/U)⌉). Exact when FullHandCount is false;
	// otherwise a floating-point estimate, 0 for a tie.
	ExpectedSample int64
	FullHandCount  bool
	Reason         string // why only a full hand count can confirm, when it is so
	Precincts      int
}

// Plan works out the contest's plan at risk limit alpha. Sampling can confirm the outcome only
// when the expected sample is smaller than the number of precincts: otherwise hand counting
// every precinct is no more work, and it is the only way.
func (c *Contest) Plan(alpha *big.Rat) Plan {
	n := len(c.Batches)
	pl := Plan{Kind: c.Kind, Winner: c.Winner, RunnerUp: c.RunnerUp, Margin: c.Margin(), U: c.U, Precincts: n}
	if c.Tie {
		pl.FullHandCount = true
		pl.Reason = fmt.Sprintf("the reported outcome is a tie (%s and %s, zero margin): no sample can confirm it", c.Winner, c.RunnerUp)
		return pl
	}
	m, within, _ := c.DrawsNeeded(c.NewRisk(), alpha, int64(n)-1)
	pl.ExpectedSample = m
	if !within {
		pl.FullHandCount = true
		pl.Reason = fmt.Sprintf("the expected sample (%d draws) is not smaller than the number of precincts (%d): the margin is too small for sampling", m, n)
	}
	return pl
}

// Round is the state after one round of hand counts.
type Round struct {
	Draws int64 // draws so far
	Risk  Risk
}

// Progress is one contest's audit, draw after draw, as the hand counts come in. Draws are added
// in draw order; NextRound says how many more to draw, or that the audit is over.
type Progress struct {
	Contest *Contest
	Alpha   *big.Rat
	Draws   []int // batch index of each draw, in draw order
	Risk    Risk
	Status  Status
	Rounds  []Round
}

// Start begins a contest's audit at risk limit alpha. A tie starts as a full hand count.
func (c *Contest) Start(alpha *big.Rat) *Progress {
	if c.Tie {
		return &Progress{Contest: c, Alpha: alpha, Risk: Risk{Infinite: true}, Status: FullHandCount}
	}
	return &Progress{Contest: c, Alpha: alpha, Risk: c.NewRisk(), Status: InProgress}
}

// ErrOver means the audit has ended and takes no more hand counts.
var ErrOver = errors.New("the audit of this contest is over")

// Add records the next draw's hand count: the batch drawn and its overstatement e_p (from
// Contest.Overstatement). A draw of a precinct already drawn counts again (sampling is with
// replacement) with the same hand count.
func (p *Progress) Add(i int, e *big.Rat) error {
	if p.Status != InProgress {
		return ErrOver
	}
	p.Draws = append(p.Draws, i)
	p.Risk.addFactor(p.Contest.factor(i, e))
	return nil
}

// NextRound ends the current round (when draws were added since the last one) and decides: the
// outcome is confirmed when the risk is at most α; otherwise the next round draws m more, the
// smallest number that ends the audit if they find no overstatement; and when the draws so far
// plus m would reach the number of precincts (or the risk is infinite), the audit escalates to a
// full hand count. It returns m (0 once the audit is over).
func (p *Progress) NextRound() int64 {
	if p.Status != InProgress {
		return 0
	}
	drawn := int64(len(p.Draws))
	if len(p.Rounds) == 0 || p.Rounds[len(p.Rounds)-1].Draws != drawn {
		if drawn > 0 {
			p.Rounds = append(p.Rounds, Round{Draws: drawn, Risk: p.Risk.clone()})
		}
	}
	if drawn > 0 && p.Risk.AtMost(p.Alpha) {
		p.Status = Confirmed
		return 0
	}
	limit := int64(len(p.Contest.Batches)) - 1 - drawn
	m, within, err := p.Contest.DrawsNeeded(p.Risk, p.Alpha, limit)
	if err != nil || !within {
		p.Status = FullHandCount
		return 0
	}
	return m
}
