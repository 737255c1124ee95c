package audit

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strconv"
)

// MinSeedDigits is the fewest decimal digits a seed may have: 20 rolls of a ten-sided die, about
// 66 bits, more than anyone can search to steer the sample.
const MinSeedDigits = 20

// maxSeedDigits keeps a seed something people can read out and type.
const maxSeedDigits = 200

// ErrSeed means the seed is not at least MinSeedDigits decimal digits.
var ErrSeed = fmt.Errorf("the seed must be %d or more decimal digits (0–9, nothing else), rolled with dice in public", MinSeedDigits)

// ValidSeed checks a seed: decimal digits only, at least MinSeedDigits of them.
func ValidSeed(seed string) error {
	if len(seed) < MinSeedDigits || len(seed) > maxSeedDigits {
		return ErrSeed
	}
	for i := 0; i < len(seed); i++ {
		if seed[i] < '0' || seed[i] > '9' {
			return ErrSeed
		}
	}
	return nil
}

// TicketHash is draw number i's hash: SHA-256 of the ASCII bytes of the seed, a comma and the
// decimal draw number (draws count from 1; no leading zeros, no newline). For seed
// "12345678901234567890" the first draw hashes "12345678901234567890,1". Anyone can recompute it,
// e.g. `printf '%s' "12345678901234567890,1" | sha256sum`.
func TicketHash(seed string, draw int64) [32]byte {
	return sha256.Sum256([]byte(seed + "," + strconv.FormatInt(draw, 10)))
}

// Ticket is one draw: its number, its hash and the precinct it selects.
type Ticket struct {
	Draw       int64
	Hash       [32]byte
	Index      int // of the contest's Batches
	PrecinctID string
}

// HashHex is the ticket's hash in lowercase hex.
func (t Ticket) HashHex() string { return hex.EncodeToString(t.Hash[:]) }

// sampler holds a contest's cumulative bounds as integers: with L a common denominator of every
// u_p, C_k = L · Σ_{j≤k} u_j and T = L·U. The draw of hash h is the first k with
// x = h·U/2²⁵⁶ < C_k/L, which for integer C_k is the first k with ⌊h·T / 2²⁵⁶⌋ < C_k.
type sampler struct {
	cum []*big.Int
	t   *big.Int
}

func (c *Contest) sampler() *sampler {
	c.smpOnce.Do(c.buildSampler)
	return c.smp
}

func (c *Contest) buildSampler() {
	l := big.NewInt(1)
	g := new(big.Int)
	for _, u := range c.u {
		// l = lcm(l, denom(u))
		d := u.Denom()
		g.GCD(nil, nil, l, d)
		l.Mul(l, new(big.Int).Quo(d, g))
	}
	s := &sampler{cum: make([]*big.Int, len(c.cum))}
	for k, x := range c.cum {
		n := new(big.Int).Mul(x.Num(), l)
		s.cum[k] = n.Quo(n, x.Denom())
	}
	s.t = s.cum[len(s.cum)-1]
	c.smp = s
}

// Pick returns the index of the batch a hash selects: PPEB, batch p with probability u_p/U.
func (c *Contest) Pick(h [32]byte) int {
	s := c.sampler()
	y := new(big.Int).SetBytes(h[:])
	y.Mul(y, s.t)
	y.Rsh(y, 256)
	// the first k with y < cum[k]; y < T = cum[last], so k exists
	k, _ := slices.BinarySearchFunc(s.cum, y, func(c, y *big.Int) int {
		if c.Cmp(y) <= 0 {
			return -1
		}
		return 1
	})
	return k
}

// Draw returns the tickets of draws from..to (inclusive, counting from 1).
func (c *Contest) Draw(seed string, from, to int64) ([]Ticket, error) {
	if err := ValidSeed(seed); err != nil {
		return nil, err
	}
	if c.Tie {
		return nil, ErrTie
	}
	if from < 1 || to < from-1 {
		return nil, errors.New("draws count from 1")
	}
	out := make([]Ticket, 0, to-from+1)
	for i := from; i <= to; i++ {
		h := TicketHash(seed, i)
		k := c.Pick(h)
		out = append(out, Ticket{Draw: i, Hash: h, Index: k, PrecinctID: c.Batches[k].ID})
	}
	return out, nil
}
