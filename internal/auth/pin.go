package auth

import (
	"crypto/rand"
	"fmt"
	"math/big"
	"unicode"
)

// PIN layout. A PIN is PINRandomDigits digits from crypto/rand followed by one Damm check
// digit. The length comes from the guessing bound in the package doc: with 11 random digits
// and PrecinctBudget counted attempts per precinct, 2,000 precincts stay below 1e-6.
const (
	PINRandomDigits = 11
	PINDigits       = PINRandomDigits + 1
	pinGroup        = 4   // printed as three groups of four: 1234-5678-9012
	maxPINInput     = 100 // bytes of user input ParsePIN looks at; more is a typo
)

// Weak patterns GeneratePIN never issues (reliability.md A3): a run of weakRepeatRun equal
// digits, or of weakSequenceRun digits going up or down by one. They are excluded so a card
// never looks broken to the chair; the bound in the package doc charges for the exclusion by
// using weakFractionBound (proved in TestWeakFractionBound) to shrink the space.
const (
	weakRepeatRun     = 4
	weakSequenceRun   = 5
	weakFractionBound = 0.01
)

// Why Damm and not Luhn or Verhoeff: Luhn misses the transpositions 09↔90 and some twin
// errors; Verhoeff and Damm both catch every single-digit error and every transposition of
// adjacent digits, but Damm needs one 10×10 table and no permutation step, and a valid
// number ends in interim digit 0, which makes the phone's JavaScript check four lines.
//
// dammTable is the weakly totally anti-symmetric quasigroup of order 10 from H. M. Damm,
// "Total anti-symmetrische Quasigruppen" (2004); TestDammTable proves its properties.
var dammTable = [10][10]byte{
	{0, 3, 1, 7, 5, 9, 8, 6, 4, 2},
	{7, 0, 9, 2, 1, 5, 4, 8, 6, 3},
	{4, 2, 0, 6, 8, 7, 1, 3, 5, 9},
	{1, 7, 5, 0, 9, 8, 3, 4, 2, 6},
	{6, 1, 2, 3, 0, 4, 5, 9, 7, 8},
	{3, 6, 7, 4, 2, 0, 9, 5, 8, 1},
	{5, 8, 6, 9, 7, 2, 0, 1, 3, 4},
	{8, 9, 4, 5, 3, 6, 2, 0, 1, 7},
	{9, 4, 3, 8, 6, 1, 7, 2, 0, 5},
	{2, 5, 8, 1, 4, 3, 6, 7, 9, 0},
}

// damm returns the Damm interim digit of ASCII digits: the check digit to append to them,
// or 0 when digits already end in a valid check digit.
func damm(digits string) byte {
	var interim byte
	for i := 0; i < len(digits); i++ {
		interim = dammTable[interim][digits[i]-'0']
	}
	return interim
}

// GeneratePIN returns a new random PIN from crypto/rand, weak patterns excluded.
func GeneratePIN() (PIN, error) {
	limit := new(big.Int).Exp(big.NewInt(10), big.NewInt(PINRandomDigits), nil)
	for {
		n, err := rand.Int(rand.Reader, limit)
		if err != nil {
			return PIN{}, fmt.Errorf("generate PIN: %w", err)
		}
		digits := fmt.Sprintf("%0*d", PINRandomDigits, n)
		if weakPIN(digits) {
			continue
		}
		return PIN{newSecret(digits + string('0'+damm(digits)))}, nil
	}
}

// weakPIN reports whether the random digits contain a weak pattern.
func weakPIN(digits string) bool {
	same, up, down := 1, 1, 1
	for i := 1; i < len(digits); i++ {
		d := int(digits[i]) - int(digits[i-1])
		same, up, down = next(same, d == 0), next(up, d == 1), next(down, d == -1)
		if same >= weakRepeatRun || up >= weakSequenceRun || down >= weakSequenceRun {
			return true
		}
	}
	return false
}

func next(run int, continues bool) int {
	if continues {
		return run + 1
	}
	return 1
}

// ParsePIN normalises what a chair typed and checks it. It ignores spaces and dashes (any
// Unicode space, ASCII '-', '.', '_', and the Unicode hyphens and minus), reads ASCII and
// full-width digits (a Japanese or Chinese keyboard types ０-９), and requires PINDigits digits
// whose Damm check holds. Every failure is an *Error with CodeTypo (errors.Is ErrTypo):
// it is answered "this PIN has a typo" and never counts as a guess. Messages never quote
// the input.
func ParsePIN(s string) (PIN, error) {
	if len(s) > maxPINInput {
		return PIN{}, typo("This is too long for a PIN: a PIN has %d digits.", PINDigits)
	}
	digits := make([]byte, 0, PINDigits)
	n := 0
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			r -= '0'
		case r >= '０' && r <= '９':
			r -= '０'
		case isPINSeparator(r):
			continue
		default:
			return PIN{}, typo("A PIN has only digits: check what you typed.")
		}
		n++
		if n <= PINDigits {
			digits = append(digits, byte('0'+r))
		}
	}
	if n != PINDigits {
		return PIN{}, typo("A PIN has %d digits; this one has %d.", PINDigits, n)
	}
	if damm(string(digits)) != 0 {
		return PIN{}, ErrTypo
	}
	return PIN{newSecret(string(digits))}, nil
}

func isPINSeparator(r rune) bool {
	switch r {
	case '-', '.', '_', '\u2010', '\u2011', '\u2012', '\u2013', '\u2014', '\u2212', '\uff0d':
		return true
	}
	return unicode.IsSpace(r)
}

func typo(format string, args ...any) error {
	return &Error{Code: CodeTypo, Message: fmt.Sprintf(format, args...)}
}
