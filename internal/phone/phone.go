// Package phone reads telephone numbers as headquarters dials them: E.164 ("+15155550101"),
// the form call-back requests are stored in and contacts.csv holds. Std lib only.
package phone

import (
	"errors"
	"strings"
	"unicode/utf8"
)

// Normalize turns what a chair typed into an E.164 number, "+" and 8 to 15 digits: a US
// number of 10 digits (area code and exchange not starting with 0 or 1, an optional leading
// 1), or an international number written with its leading "+". Spaces, dashes, dots and
// parentheses between the digits are dropped; anything else (letters, "=", "<", control or
// direction-changing characters) is refused, so the number is safe in a page, a spreadsheet and
// a dialler. Its errors are sentences for the chair, naming the field.
func Normalize(in string) (string, error) {
	s := strings.TrimSpace(in)
	switch {
	case s == "":
		return "", errors.New("phone: give the number headquarters should call")
	case utf8.RuneCountInString(s) > 40:
		return "", errors.New("phone: the number is too long; give 10 digits, like 515-555-0101")
	}
	plus := strings.HasPrefix(s, "+")
	var digits []byte
	for _, c := range strings.TrimPrefix(s, "+") {
		switch {
		case c >= '0' && c <= '9':
			digits = append(digits, byte(c))
		case c == ' ' || c == '-' || c == '.' || c == '(' || c == ')':
		default:
			return "", errors.New("phone: use only digits (spaces, dashes and a leading + are fine), like 515-555-0101")
		}
	}
	us := func(d []byte) (string, error) {
		if len(d) != 10 || d[0] < '2' || d[3] < '2' {
			return "", errors.New("phone: give a 10-digit US number with its area code, like 515-555-0101, or an international number starting with +")
		}
		return "+1" + string(d), nil
	}
	if !plus {
		if len(digits) == 11 && digits[0] == '1' {
			digits = digits[1:]
		}
		return us(digits)
	}
	if len(digits) > 0 && digits[0] == '1' {
		return us(digits[1:])
	}
	if len(digits) < 8 || len(digits) > 15 || digits[0] == '0' {
		return "", errors.New("phone: an international number has a + and 8 to 15 digits, like +44 20 7946 0958")
	}
	return "+" + string(digits), nil
}

// Valid reports whether s is already a number in the E.164 form Normalize writes.
func Valid(s string) bool {
	n, err := Normalize(s)
	return err == nil && n == s
}
