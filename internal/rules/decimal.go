package rules

import (
	"errors"
	"math/big"
	"strings"
)

// maxDecimalLen bounds a decimal or ratio string: the grammar (R52) has no limit, but a string of
// megabytes of digits is an attack, not an SDE. 200 characters is far beyond any real value.
const maxDecimalLen = 200

var errDecimalGrammar = errors.New("not a decimal number like 0.1569")

// ParseDecimal parses a non-negative exact decimal in the form D or D.F (digits only, no sign,
// no exponent, no leading or trailing dot), R52. The value is exact: "0.0784313725" is
// 784313725/10^10.
func ParseDecimal(s string) (*big.Rat, error) {
	if len(s) == 0 || len(s) > maxDecimalLen {
		return nil, errDecimalGrammar
	}
	intPart, frac, hasDot := strings.Cut(s, ".")
	if !allDigits(intPart) || (hasDot && !allDigits(frac)) {
		return nil, errDecimalGrammar
	}
	n, ok := new(big.Int).SetString(intPart+frac, 10)
	if !ok {
		return nil, errDecimalGrammar
	}
	den := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(len(frac))), nil)
	return new(big.Rat).SetFrac(n, den), nil
}

// ParseRatio parses a county's SDE ratio (R13, R52): "N/M" with M not zero, or an exact decimal.
// The value must be greater than zero.
func ParseRatio(s string) (*big.Rat, error) {
	if len(s) > maxDecimalLen {
		return nil, errors.New("is too long")
	}
	var r *big.Rat
	if num, den, ok := strings.Cut(s, "/"); ok {
		if !allDigits(num) || !allDigits(den) {
			return nil, errors.New("is not a fraction like \"4/51\" or a decimal like \"0.0784\"")
		}
		n, _ := new(big.Int).SetString(num, 10)
		d, _ := new(big.Int).SetString(den, 10)
		if d.Sign() == 0 {
			return nil, errors.New("divides by zero")
		}
		r = new(big.Rat).SetFrac(n, d)
	} else {
		var err error
		if r, err = ParseDecimal(s); err != nil {
			return nil, errors.New("is not a fraction like \"4/51\" or a decimal like \"0.0784\"")
		}
	}
	if r.Sign() == 0 {
		return nil, errors.New("is zero; a county's ratio must be more than 0")
	}
	return r, nil
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

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
