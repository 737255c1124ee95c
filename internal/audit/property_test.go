package audit_test

import (
	"math/big"
	"math/rand/v2"
	"testing"

	"caucus/internal/audit"
	"caucus/internal/rules"
)

// TestPickIsTheDefinition: for random hashes, Pick selects the precinct the definition names,
// computed here with rationals: the first k with h·U/2²⁵⁶ < Σ_{j≤k} u_j.
func TestPickIsTheDefinition(t *testing.T) {
	ps, ratio := load2020(t)
	e, err := audit.FromPublished(ps, ratio, rules.DefaultProfile)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	two256 := new(big.Rat).SetInt(new(big.Int).Lsh(big.NewInt(1), 256))
	for _, c := range e.Contests {
		if c.Tie {
			continue
		}
		cum := make([]*big.Rat, len(c.Batches))
		sum := new(big.Rat)
		for i := range c.Batches {
			sum.Add(sum, c.Bound(i))
			cum[i] = new(big.Rat).Set(sum)
		}
		for n := 0; n < 300; n++ {
			var h [32]byte
			for i := range h {
				h[i] = byte(rng.UintN(256))
			}
			if n == 0 {
				h = [32]byte{}
			}
			x := new(big.Rat).SetInt(new(big.Int).SetBytes(h[:]))
			x.Mul(x, c.U)
			x.Quo(x, two256)
			want := 0
			for want < len(cum) && x.Cmp(cum[want]) >= 0 {
				want++
			}
			if got := c.Pick(h); got != want {
				t.Fatalf("%s: hash %x picks %d, the definition %d", c.Kind, h, got, want)
			}
		}
	}
}

// TestRiskComparisonExact: the interval arithmetic never changes an answer: AtMost agrees with
// the exact comparison of the reduced p-value, for random draws and risk limits on each side of
// the p-value and equal to it.
func TestRiskComparisonExact(t *testing.T) {
	c := threePrecincts(t)
	rng := rand.New(rand.NewPCG(3, 4))
	r := c.NewRisk()
	for n := 0; n < 200; n++ {
		i := rng.IntN(3)
		e := big.NewRat(int64(rng.IntN(7))-2, int64(1+rng.IntN(5))) // from −2 to 4: some over, some under
		if e.Cmp(c.Bound(i)) >= 0 {
			e = big.NewRat(0, 1)
		}
		r = r.After(c, i, e)
		p := r.Rat()
		tiny := new(big.Rat).SetFrac(big.NewInt(1), new(big.Int).Lsh(big.NewInt(1), 400))
		for _, alpha := range []*big.Rat{p, new(big.Rat).Add(p, tiny), new(big.Rat).Sub(p, tiny), big.NewRat(1, 20), big.NewRat(int64(1+rng.IntN(99)), 100)} {
			if alpha.Sign() <= 0 {
				continue
			}
			if got, want := r.AtMost(alpha), p.Cmp(alpha) <= 0; got != want {
				t.Fatalf("after %d draws, risk %s vs α %s: AtMost %v, exact %v", n+1, p.FloatString(30), alpha.FloatString(30), got, want)
			}
		}
	}
}
