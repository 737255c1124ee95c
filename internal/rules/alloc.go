package rules

import "math/big"

// This file is the delegate allocation of R05 and R08–R12, done exactly.
//
// Every claim of a group (its quotient q = F·D/P, its claim to its last delegate c = q − (r−1),
// its claim to one more e = q − r) is a rational over the same divisor P, so it is kept as the
// integer numerator and compared as an integer (R50). The adjustment loops of R11 ("take one
// delegate from the smallest current c, which then rises by 1"; "give one to the largest current
// e, which then drops by 1") pick, one delegate at a time, the smallest values of several
// arithmetic sequences with the common step P. Instead of looping once per delegate, which with
// impossible numbers (C03, C04) could mean 10¹² steps, boundary finds the value at which the last
// delegate moves by binary search: everything below it moves, and the groups sitting exactly at
// it either all fit in what is left or are the tie of R12. The result is the same as the loop's.

// seq is a group's sequence of claim numerators a, a+P, a+2P, … with n terms (n < 0: unlimited).
type seq struct {
	a, n int64
}

// count is how many terms of s are ≤ x.
func (s seq) count(x, p int64) int64 {
	if x < s.a {
		return 0
	}
	k := (x-s.a)/p + 1
	if s.n >= 0 && k > s.n {
		return s.n
	}
	return k
}

// at reports whether x is a term of s.
func (s seq) at(x, p int64) bool {
	return x >= s.a && (x-s.a)%p == 0 && (s.n < 0 || (x-s.a)/p < s.n)
}

// boundary takes the l smallest terms of all sequences (l ≥ 1, and at most the number of terms).
// It returns how many terms each sequence gives strictly below the boundary value x, the
// sequences that have a term exactly at x, and how many of those terms are still to be taken
// (1 ≤ left ≤ len(at)). left < len(at) is a tie.
func boundary(seqs []seq, p, l int64) (below []int64, at []int, left int64, x int64) {
	lo, hi := int64(0), int64(0)
	first := true
	for _, s := range seqs {
		n := s.n
		if n < 0 || n > l {
			n = l
		}
		if n == 0 {
			continue
		}
		last := s.a + (n-1)*p
		if first || s.a < lo {
			lo = s.a
		}
		if first || last > hi {
			hi = last
		}
		first = false
	}
	total := func(x int64) int64 {
		var c int64
		for _, s := range seqs {
			c += s.count(x, p)
			if c >= l {
				return c
			}
		}
		return c
	}
	// The smallest x with total(x) ≥ l.
	for lo < hi {
		mid := lo + (hi-lo)/2
		if total(mid) >= l {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	x = lo
	below = make([]int64, len(seqs))
	var taken int64
	for i, s := range seqs {
		below[i] = s.count(x-1, p)
		taken += below[i]
		if s.at(x, p) {
			at = append(at, i)
		}
	}
	return below, at, l - taken, x
}

// tie is a game of chance met during the allocation: n of the groups (indices into the
// allocation's groups, in id order) come out ahead. claim is the tied claim, for messages.
type tie struct {
	groups    []int
	n         int64
	gain      bool // a tie for delegates to give (else for delegates to take)
	plurality bool // a one-delegate precinct's tie for most people (R05); claim is people
	claim     *big.Rat
}

// allocation holds the state of one precinct's allocation.
type allocation struct {
	f      []int64 // combined final alignment of each group
	viable []bool
	r      []int64 // delegates
	p, d   int64
	// settle is asked when a tie is met; it returns the recorded winners (group indices) when
	// the tie is settled, or ok = false to leave it open.
	settle func(t tie) (winners []int, ok bool)
	open   *tie
	keep   bool // R33 (Nevada): a viable group never loses its only delegate
}

func (a *allocation) run() {
	var idx []int
	for i, v := range a.viable {
		if v {
			idx = append(idx, i)
		}
	}
	if len(idx) == 0 || a.d <= 0 || a.p <= 0 {
		return
	}
	if a.d == 1 {
		a.plurality(idx)
		return
	}
	var s int64
	for _, i := range idx {
		// R09: floor(q + 1/2) = floor((2·F·D + P) / 2P).
		r := (2*a.f[i]*a.d + a.p) / (2 * a.p)
		if r == 0 {
			r = 1 // R10
		}
		a.r[i] = r
		s += r
	}
	switch {
	case s > a.d:
		a.tooMany(idx, s-a.d)
	case s < a.d:
		a.tooFew(idx, a.d-s)
	}
}

// plurality gives a one-delegate precinct's delegate to the largest group (R05).
func (a *allocation) plurality(idx []int) {
	var most int64 = -1
	var top []int
	for _, i := range idx {
		switch {
		case a.f[i] > most:
			most, top = a.f[i], []int{i}
		case a.f[i] == most:
			top = append(top, i)
		}
	}
	if len(top) == 1 {
		a.r[top[0]] = 1
		return
	}
	t := tie{groups: top, n: 1, gain: true, plurality: true, claim: new(big.Rat).SetInt64(most)}
	if winners, ok := a.settle(t); ok {
		a.r[winners[0]] = 1
		return
	}
	a.open = &t
}

// tooMany takes l delegates back (R11 "too many"): smallest claim to the last delegate first,
// never a group's only delegate; then, in Iowa only, from groups holding one.
func (a *allocation) tooMany(idx []int, l int64) {
	seqs := make([]seq, len(idx))
	var avail int64
	for k, i := range idx {
		// c = q − (r−1): numerator F·D − (r−1)·P, rising by P with each loss; r−1 losses allowed.
		seqs[k] = seq{a: a.f[i]*a.d - (a.r[i]-1)*a.p, n: a.r[i] - 1}
		avail += a.r[i] - 1
	}
	if avail > l {
		a.take(idx, seqs, l, false)
		return
	}
	for _, i := range idx {
		a.r[i] = 1
	}
	l -= avail
	if l == 0 || a.keep {
		return
	}
	// More viable groups than delegates (C15): the groups holding one, smallest c = q first.
	for k, i := range idx {
		seqs[k] = seq{a: a.f[i] * a.d, n: 1}
	}
	a.take(idx, seqs, l, false)
}

// tooFew gives k more delegates (R11 "too few"): largest claim to one more first.
func (a *allocation) tooFew(idx []int, k int64) {
	seqs := make([]seq, len(idx))
	for j, i := range idx {
		// e = q − r: numerator F·D − r·P, falling by P with each gain. Negated, so that the
		// largest claims are the smallest terms.
		seqs[j] = seq{a: -(a.f[i]*a.d - a.r[i]*a.p), n: -1}
	}
	a.take(idx, seqs, k, true)
}

// take moves l delegates along the sequences (gain: give, else take away), stopping at a tie.
func (a *allocation) take(idx []int, seqs []seq, l int64, gain bool) {
	below, at, left, x := boundary(seqs, a.p, l)
	sign := int64(-1)
	if gain {
		sign = 1
	}
	for k, i := range idx {
		a.r[i] += sign * below[k]
	}
	groups := make([]int, len(at))
	for j, k := range at {
		groups[j] = idx[k]
	}
	if left == int64(len(at)) {
		for _, i := range groups {
			a.r[i] += sign
		}
		return
	}
	claim := big.NewRat(x, a.p)
	t := tie{groups: groups, gain: gain}
	if gain {
		t.n = left
		t.claim = claim.Neg(claim)
	} else {
		t.n = int64(len(at)) - left // the groups that keep their delegate
		t.claim = claim
	}
	winners, ok := a.settle(t)
	if !ok {
		// Until recorded, every tied group gets the less favourable outcome (R12).
		if !gain {
			for _, i := range groups {
				a.r[i]--
			}
		}
		a.open = &t
		return
	}
	won := map[int]bool{}
	for _, w := range winners {
		won[w] = true
	}
	for _, i := range groups {
		if gain && won[i] {
			a.r[i]++
		}
		if !gain && !won[i] {
			a.r[i]--
		}
	}
}

// allocate sets up the allocation of D delegates among the groups by their combined final
// alignment (R05, R08–R12); keep is R33.
func allocate(gs []*group, p, d int64, keep bool) *allocation {
	a := &allocation{p: p, d: d, keep: keep,
		f: make([]int64, len(gs)), viable: make([]bool, len(gs)), r: make([]int64, len(gs))}
	for i, g := range gs {
		a.f[i], a.viable[i] = g.cfinal, g.viable
	}
	return a
}

// Quotient is a viable group's raw delegates q = final × D ÷ P (R08), exact; nil when P is 0.
func Quotient(final, p, d int64) *big.Rat {
	if p <= 0 {
		return nil
	}
	return big.NewRat(final*d, p)
}

// QuotientString is Quotient written with 4 decimals, rounded half-up ("1.5000"), for people to
// read; "" when P is 0. Decisions compare the exact Quotient, never this.
func QuotientString(final, p, d int64) string {
	q := Quotient(final, p, d)
	if q == nil {
		return ""
	}
	return formatRat4(q)
}
