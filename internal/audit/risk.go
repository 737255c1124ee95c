package audit

import (
	"errors"
	"math"
	"math/big"
)

// Risk is a Kaplan–Markov p-value, the product Π (1 − 1/U) / (1 − e_p/u_p) over the draws so
// far. It is kept exactly, as ((U − 1)/U)^Draws times the factors u_p/(u_p − e_p) of the draws
// that found an overstatement (the others contribute 1), each an exact rational, with an interval
// [lo, hi] holding their product (big.Float, every product rounded outwards) so that comparing
// with α rarely needs the exact product. Infinite means a drawn precinct overstated by its whole
// bound (e_p ≥ u_p): no further sampling can bring the risk under any limit. Start from
// Contest.NewRisk; a Risk is a value, After never changes its receiver.
type Risk struct {
	Draws    int64
	Infinite bool
	p, q     *big.Int   // U = p/q' and 1 − 1/U = q/p
	over     []*big.Rat // u/(u − e) of each draw with e > 0, in draw order
	lo, hi   *big.Float // lo ≤ Π over ≤ hi
}

// NewRisk is the p-value before any draw: 1. It panics on a tied contest, which has no U.
func (c *Contest) NewRisk() Risk {
	p := c.U.Num()
	q := new(big.Int).Sub(p, c.U.Denom())
	return Risk{p: p, q: q, lo: newBound(big.ToNegativeInf).SetInt64(1), hi: newBound(big.ToPositiveInf).SetInt64(1)}
}

func newBound(mode big.RoundingMode) *big.Float {
	return new(big.Float).SetPrec(boundPrec).SetMode(mode)
}

// After returns the risk after one more draw: the batch at index i with overstatement e.
func (r Risk) After(c *Contest, i int, e *big.Rat) Risk {
	out := r.clone()
	out.add(c, i, e)
	return out
}

// clone returns a copy that shares nothing mutable with r.
func (r Risk) clone() Risk {
	r.over = append([]*big.Rat(nil), r.over...) // the factors themselves are never changed
	if r.lo != nil {
		r.lo, r.hi = newBound(big.ToNegativeInf).Set(r.lo), newBound(big.ToPositiveInf).Set(r.hi)
	}
	return r
}

// factor is one draw's u/(u − e), exactly and as an interval; nil f when it is 1 (e ≤ 0), inf
// when it is infinite (e ≥ u).
type factor struct {
	e      *big.Rat
	f      *big.Rat
	lo, hi *big.Float
	inf    bool
}

func newFactor(c *Contest, i int, e *big.Rat) *factor {
	fc := &factor{e: e}
	u := c.u[i]
	switch {
	case e.Sign() <= 0: // an understatement counts as 0: a factor of 1
	case e.Cmp(u) >= 0:
		fc.inf = true
	default:
		fc.f = new(big.Rat).Sub(u, e)
		fc.f.Quo(u, fc.f)
		fc.lo = newBound(big.ToNegativeInf).SetRat(fc.f)
		fc.hi = newBound(big.ToPositiveInf).SetRat(fc.f)
	}
	return fc
}

// factor returns the batch's factor for overstatement e, remembered for the batch's next draws
// (and other audits of the contest) while e stays the same.
func (c *Contest) factor(i int, e *big.Rat) *factor {
	c.mu.Lock()
	defer c.mu.Unlock()
	if fc := c.factors[i]; fc != nil && fc.e.Cmp(e) == 0 {
		return fc
	}
	fc := newFactor(c, i, e)
	if c.factors == nil {
		c.factors = map[int]*factor{}
	}
	c.factors[i] = fc
	return fc
}

// add multiplies in one draw, in place.
func (r *Risk) add(c *Contest, i int, e *big.Rat) { r.addFactor(newFactor(c, i, e)) }

func (r *Risk) addFactor(fc *factor) {
	r.Draws++
	switch {
	case r.Infinite || fc.f == nil && !fc.inf:
	case fc.inf:
		r.Infinite = true
	default:
		r.over = append(r.over, fc.f)
		r.lo.Mul(r.lo, fc.lo)
		r.hi.Mul(r.hi, fc.hi)
	}
}

// frac returns the p-value after m more draws with no overstatement as num/den (not reduced).
func (r Risk) frac(m int64) (num, den *big.Int) {
	n := big.NewInt(r.Draws + m)
	num = new(big.Int).Exp(r.q, n, nil)
	den = new(big.Int).Exp(r.p, n, nil)
	for _, f := range r.over {
		num.Mul(num, f.Num())
		den.Mul(den, f.Denom())
	}
	return num, den
}

// Rat returns the p-value as a reduced rational (nil when Infinite).
func (r Risk) Rat() *big.Rat {
	if r.Infinite {
		return nil
	}
	num, den := r.frac(0)
	return new(big.Rat).SetFrac(num, den)
}

// AtMost reports whether the p-value is at most alpha, exactly (see atMostAfter).
func (r Risk) AtMost(alpha *big.Rat) bool { return r.atMostAfter(0, alpha) }

// atMostAfter reports whether the p-value after m more draws with no overstatement is at most
// alpha. The answer is always the exact one: it is first sought with interval arithmetic (big.Float
// of boundPrec bits, every operation rounded outwards, so the true value lies in [lo, hi]), and
// only when the interval holds α are the exact integers compared, num·b ≤ a·den.
func (r Risk) atMostAfter(m int64, alpha *big.Rat) bool {
	if r.Infinite {
		return false
	}
	if n := r.Draws + m; int64(r.p.BitLen())*max(n, 1) < 1<<30 {
		aLo := new(big.Float).SetPrec(boundPrec).SetMode(big.ToNegativeInf).SetRat(alpha)
		aHi := new(big.Float).SetPrec(boundPrec).SetMode(big.ToPositiveInf).SetRat(alpha)
		if r.bound(n, true).Cmp(aLo) <= 0 {
			return true
		}
		if r.bound(n, false).Cmp(aHi) > 0 {
			return false
		}
	}
	num, den := r.frac(m)
	num.Mul(num, alpha.Denom())
	den.Mul(den, alpha.Num())
	return num.Cmp(den) <= 0
}

// boundPrec is the precision of the interval arithmetic of atMostAfter.
const boundPrec = 128

// bound is an upper (up) or lower bound of (q/p)^n · Π over, every operation rounded outwards.
func (r Risk) bound(n int64, up bool) *big.Float {
	out, in, over := big.ToPositiveInf, big.ToNegativeInf, r.hi
	if !up {
		out, in, over = in, out, r.lo
	}
	num := pow(r.q, n, out)
	num.Mul(num, over)
	return num.Quo(num, pow(r.p, n, in))
}

// pow is x^n for x ≥ 0 by squaring, every operation rounded in the given mode.
func pow(x *big.Int, n int64, mode big.RoundingMode) *big.Float {
	f := func() *big.Float { return new(big.Float).SetPrec(boundPrec).SetMode(mode) }
	result := f().SetInt64(1)
	base := f().SetInt(x)
	for ; n > 0; n >>= 1 {
		if n&1 == 1 {
			result.Mul(result, base)
		}
		base.Mul(base, base)
	}
	return result
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
	ok := func(m int64) bool { return r.atMostAfter(m, alpha) }
	p, q := r.p, r.q
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
	lnQ := logRat(q, p)
	over, _ := r.hi.Float64()
	lnA := logRat(alpha.Num(), alpha.Denom()) - math.Log(over) - float64(r.Draws)*lnQ
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
