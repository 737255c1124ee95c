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
