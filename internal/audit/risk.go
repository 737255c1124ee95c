package audit

import (
	"errors"
	"math"
	"math/big"
)

// Risk is a Kaplan–Markov p-value, the product Π (1 − 1/U) / (1 − e_p/u_p) over the draws so
// far, kept as an unreduced fraction of big integers: reducing it after every draw would cost a
// gcd of ever longer numbers, and comparing it with α needs only two products. Infinite means a
// drawn precinct overstated by its whole bound (e_p ≥ u_p): no further sampling can bring the
// risk under any limit. The zero value is not valid; start from NewRisk.
type Risk struct {
	num, den *big.Int
	Infinite bool
}

// NewRisk is the p-value before any draw: 1.
func NewRisk() Risk { return Risk{num: big.NewInt(1), den: big.NewInt(1)} }

// Rat returns the p-value as a reduced rational (nil when Infinite).
func (r Risk) Rat() *big.Rat {
	if r.Infinite {
		return nil
	}
	return new(big.Rat).SetFrac(r.num, r.den)
}

// AtMost reports whether the p-value is at most alpha, exactly.
func (r Risk) AtMost(alpha *big.Rat) bool {
	if r.Infinite {
		return false
	}
	// num/den ≤ a/b  ⇔  num·b ≤ a·den (den, b > 0).
	lhs := new(big.Int).Mul(r.num, alpha.Denom())
	rhs := new(big.Int).Mul(alpha.Num(), r.den)
	return lhs.Cmp(rhs) <= 0
}

// String shows the p-value with 6 decimals (rounded half-up), or "infinite".
func (r Risk) String() string {
	if r.Infinite {
		return "infinite"
	}
	return r.Rat().FloatString(6)
}

// Factor is one draw's Kaplan–Markov factor (1 − 1/U) / (1 − e/u_p) for the batch at index i
// with overstatement e, understatements counted as 0. ok is false when e ≥ u_p (the factor is
// infinite). It panics on a tied contest, which has no U.
func (c *Contest) Factor(i int, e *big.Rat) (f *big.Rat, ok bool) {
	u := c.u[i]
	if e.Sign() < 0 {
		e = new(big.Rat)
	}
	if e.Cmp(u) >= 0 {
		return nil, false
	}
	// (U − 1)/U · u/(u − e)
	f = new(big.Rat).Sub(c.U, big.NewRat(1, 1))
	f.Quo(f, c.U)
	f.Mul(f, u)
	return f.Quo(f, new(big.Rat).Sub(u, e)), true
}

// Times returns the risk after one more draw of factor f (ok false: an infinite factor).
func (r Risk) Times(f *big.Rat, ok bool) Risk {
	if r.Infinite || !ok {
		return Risk{Infinite: true}
	}
	return Risk{num: new(big.Int).Mul(r.num, f.Num()), den: new(big.Int).Mul(r.den, f.Denom())}
}

// ErrTie means the contest's reported outcome is a tie: only a full hand count decides it.
var ErrTie = errors.New("the reported outcome is a tie")

// DrawsNeeded returns the smallest m with r·(1 − 1/U)^m ≤ alpha, the number of further draws
// that would end the audit if none of them found an overstatement, when it is at most limit.
// Otherwise within is false and m is an estimate greater than limit (⌈ln(α/r) / ln(1 − 1/U)⌉
// in floating point, only for showing; or -1 when no number of draws can do it: an infinite
// risk). Whether m ≤ limit is decided exactly, with integer powers.
func (c *Contest) DrawsNeeded(r Risk, alpha *big.Rat, limit int64) (m int64, within bool, err error) {
	if c.Tie {
		return 0, false, ErrTie
	}
	if r.Infinite {
		return -1, false, nil
	}
	// U = P/Q, so 1 − 1/U = (P − Q)/P.
	p := c.U.Num()
	q := new(big.Int).Sub(p, c.U.Denom())
	ok := func(m int64) bool {
		// r.num/r.den · (q/p)^m ≤ a/b  ⇔  r.num · q^m · b ≤ a · r.den · p^m
		em := big.NewInt(m)
		lhs := new(big.Int).Exp(q, em, nil)
		lhs.Mul(lhs, r.num)
		lhs.Mul(lhs, alpha.Denom())
		rhs := new(big.Int).Exp(p, em, nil)
		rhs.Mul(rhs, r.den)
		rhs.Mul(rhs, alpha.Num())
		return lhs.Cmp(rhs) <= 0
	}
	if ok(0) {
		return 0, true, nil
	}
	if q.Sign() == 0 { // U = 1: one draw with no overstatement proves it
		return 1, 1 <= limit, nil
	}
	guess := estimate(r, alpha, q, p)
	if limit < 1 || !ok(limit) {
		return max(guess, limit+1), false, nil
	}
	// ok(limit) holds and ok(0) does not: find the boundary, starting from the float guess,
	// which is off by at most a few draws, then by bisection, exactly.
	lo, hi := int64(0), limit
	if g := min(max(guess, 1), limit); ok(g) {
		hi = g
		if g > 1 && !ok(g-1) {
			return g, true, nil
		}
	} else {
		lo = g
	}
	for hi-lo > 1 {
		mid := lo + (hi-lo)/2
		if ok(mid) {
			hi = mid
		} else {
			lo = mid
		}
	}
	return hi, true, nil
}

// estimate is ⌈ln(α/r) / ln(q/p)⌉ in floating point, saturating at MaxInt64/2.
func estimate(r Risk, alpha *big.Rat, q, p *big.Int) int64 {
	lnA := logRat(alpha.Num(), alpha.Denom()) - logRat(r.num, r.den)
	lnQ := logRat(q, p)
	x := math.Ceil(lnA / lnQ)
	if math.IsNaN(x) || x > math.MaxInt64/2 {
		return math.MaxInt64 / 2
	}
	return max(int64(x), 0)
}

// logRat is ln(a/b) for positive big integers of any size, in floating point.
func logRat(a, b *big.Int) float64 {
	return logInt(a) - logInt(b)
}

func logInt(a *big.Int) float64 {
	f := new(big.Float).SetInt(a)
	mant := new(big.Float)
	exp := f.MantExp(mant)
	m, _ := mant.Float64()
	return math.Log(m) + float64(exp)*math.Ln2
}
