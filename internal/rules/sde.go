package rules

import "math/big"

// This file is the state delegate equivalents (R13) and their reading back (R22).

// RoundSDE rounds an exact SDE half-up to 4 decimal places (R13, R50) and returns the value in
// ten-thousandths: floor(x·10⁴ + 1/2).
func RoundSDE(x *big.Rat) *big.Int {
	// floor((2·num·10⁴ + den) / (2·den)); x is never negative here.
	num := new(big.Int).Mul(x.Num(), big.NewInt(20000))
	num.Add(num, x.Denom())
	den := new(big.Int).Lsh(x.Denom(), 1)
	return num.Quo(num, den)
}

// FormatSDE writes a value in ten-thousandths with exactly 4 decimals: 1569 → "0.1569".
func FormatSDE(tenThousandths *big.Int) string {
	s := tenThousandths.String()
	for len(s) < 5 {
		s = "0" + s
	}
	return s[:len(s)-4] + "." + s[len(s)-4:]
}

// SDE is the SDE string of a group holding delegates in a county of ratio rho: the exact product
// rounded half-up to 4 places (R13), e.g. 2 × 4/51 → "0.1569".
func SDE(delegates int64, rho *big.Rat) string {
	// The common case in int64: floor((2·delegates·num·10⁴ + den) / 2·den), when it cannot
	// overflow (delegates ≤ 10⁶ and num, den < 2³¹ keep it below 2⁶³).
	if num, den := rho.Num(), rho.Denom(); delegates >= 0 && delegates <= MaxCount &&
		num.IsInt64() && den.IsInt64() && num.Int64() < 1<<31 && den.Int64() < 1<<31 {
		n, d := num.Int64(), den.Int64()
		v := (2*delegates*n*10000 + d) / (2 * d)
		return formatTenThousandths(v)
	}
	x := new(big.Rat).Mul(new(big.Rat).SetInt64(delegates), rho)
	return FormatSDE(RoundSDE(x))
}

func formatTenThousandths(v int64) string {
	var b [24]byte
	s := appendInt(b[:0], v)
	for len(s) < 5 {
		s = append([]byte{'0'}, s...)
	}
	return string(s[:len(s)-4]) + "." + string(s[len(s)-4:])
}

// formatRat4 shows a rational with 4 decimals (half-up), for messages only.
func formatRat4(x *big.Rat) string {
	if x.Sign() < 0 {
		return "-" + formatRat4(new(big.Rat).Neg(x))
	}
	return FormatSDE(RoundSDE(x))
}

// DelegatesFromSDE reads a group's county delegates back from its published SDE in a county of
// ratio rho (R22): round-half-up(sde ÷ rho), saturating at the largest int64. rho must be > 0.
func DelegatesFromSDE(sde, rho *big.Rat) int64 {
	x := new(big.Rat).Quo(sde, rho)
	n := new(big.Int).Lsh(x.Num(), 1)
	n.Add(n, x.Denom())
	n.Quo(n, new(big.Int).Lsh(x.Denom(), 1))
	if !n.IsInt64() {
		return 1<<63 - 1
	}
	return n.Int64()
}
