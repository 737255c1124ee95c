package auth

import (
	"crypto/rand"
	"fmt"
	"math/big"
	"unicode"
)

// PIN layout. A PIN is random digits from crypto/rand followed by one Damm check digit. The
// length comes from the guessing bound in the package doc: with PINRandomDigits (11) random
// digits and PrecinctBudget counted attempts per precinct, a state's StatePrecincts (2,000)
// stay below 1e-6; each further digit multiplies the PINs by ten and so covers ten times the
// precincts at the same bound (PINDigitsFor), up to MaxPINDigits for MaxPrecincts.
const (
	PINRandomDigits = 11                  // a state's PIN: 11 random digits
	PINDigits       = PINRandomDigits + 1 // and the check digit: 12, printed 1234-5678-9012
	MaxPINDigits    = PINDigits + 2       // MaxPrecincts' PIN: 14, printed 12345-67890-1234
	maxPINGroup     = 5                   // digits in a printed group at most
	maxPINInput     = 100                 // bytes of user input ParsePIN looks at; more is a typo
)

// PINDigitsFor returns the length (check digit included) of the PINs of an election of
// precincts precincts: the shortest that keeps the package doc's bound where it is for a
// state, PINDigits up to StatePrecincts and one digit more for each tenfold: 12 digits up to
// 2,000 precincts, 13 up to 20,000, 14 up to 200,000 (MaxPrecincts; a national election of
// 175,000). It refuses more than MaxPrecincts.
func PINDigitsFor(precincts int) (int, error) {
	if precincts > MaxPrecincts {
		return 0, fmt.Errorf("%d precincts, more than the %d the PIN length is chosen for", precincts, MaxPrecincts)
	}
	digits, limit := PINDigits, StatePrecincts
	for precincts > limit {
		digits, limit = digits+1, limit*10
	}
	return digits, nil
}

var errPINLength = fmt.Errorf("a PIN has %d to %d digits", PINDigits, MaxPINDigits)

func checkPINDigits(digits int) error {
	if digits < PINDigits || digits > MaxPINDigits {
		return fmt.Errorf("%d digits: %w", digits, errPINLength)
	}
	return nil
}

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

// GeneratePIN returns a new random PIN of PINDigits digits from crypto/rand, weak patterns
// excluded: a state's PIN.
func GeneratePIN() (PIN, error) { return GeneratePINOf(PINDigits) }

// GeneratePINOf returns a new random PIN of digits digits (check digit included; PINDigitsFor
// chooses it) from crypto/rand, weak patterns excluded.
func GeneratePINOf(digits int) (PIN, error) {
	if err := checkPINDigits(digits); err != nil {
		return PIN{}, fmt.Errorf("generate PIN: %w", err)
	}
	random := digits - 1
	limit := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(random)), nil)
	for {
		n, err := rand.Int(rand.Reader, limit)
		if err != nil {
			return PIN{}, fmt.Errorf("generate PIN: %w", err)
		}
		digits := fmt.Sprintf("%0*d", random, n)
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

// ParsePIN is ParsePINOf for a state's PINs of PINDigits digits.
func ParsePIN(s string) (PIN, error) { return ParsePINOf(s, PINDigits, PINDigits) }

// ParsePINOf normalises what a chair typed and checks it. It ignores spaces and dashes (any
// Unicode space, ASCII '-', '.', '_', and the Unicode hyphens and minus), reads ASCII and
// full-width digits (a Japanese or Chinese keyboard types ０-９), and requires from min to max
// digits (PINDigits ≤ min ≤ max ≤ MaxPINDigits) whose Damm check holds. Every failure is an *Error with CodeTypo (errors.Is ErrTypo):
// it is answered "this PIN has a typo" and never counts as a guess. Messages never quote
// the input.
func ParsePINOf(s string, min, max int) (PIN, error) {
	if checkPINDigits(min) != nil || checkPINDigits(max) != nil || min > max {
		return PIN{}, fmt.Errorf("parse PIN: %d to %d digits: %w", min, max, errPINLength)
	}
	length := fmt.Sprint(min)
	if max > min {
		length = fmt.Sprintf("%d to %d", min, max)
	}
	if len(s) > maxPINInput {
		return PIN{}, typo("This is too long for a PIN: a PIN has %s digits.", length)
	}
	digits := make([]byte, 0, max)
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
		if n <= max {
			digits = append(digits, byte('0'+r))
		}
	}
	if n < min || n > max {
		return PIN{}, typo("A PIN has %s digits; this one has %d.", length, n)
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
