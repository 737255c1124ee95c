package auth

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"
)

// TestDammTable proves, over the whole table, the properties the check digit is chosen for:
// a quasigroup (every row and column a permutation, so a single wrong digit always changes
// the result), a zero diagonal, and weak total anti-symmetry (so swapping two different
// neighbours always changes the result).
func TestDammTable(t *testing.T) {
	for i := range 10 {
		var row, col [10]bool
		for j := range 10 {
			row[dammTable[i][j]] = true
			col[dammTable[j][i]] = true
		}
		for d := range 10 {
			if !row[d] || !col[d] {
				t.Fatalf("row or column %d is not a permutation", i)
			}
		}
		if dammTable[i][i] != 0 {
			t.Fatalf("diagonal at %d is %d", i, dammTable[i][i])
		}
	}
	for c := range 10 {
		for x := range 10 {
			for y := range 10 {
				if x != y && dammTable[dammTable[c][x]][y] == dammTable[dammTable[c][y]][x] {
					t.Fatalf("swap of %d,%d after interim %d goes unnoticed", x, y, c)
				}
			}
		}
	}
	if got := damm("572"); got != 4 { // the worked example of Damm's paper and Wikipedia
		t.Fatalf(`damm("572") = %d, want 4`, got)
	}
}

// TestPINCatchesTypos changes every digit of generated PINs to every other digit, and swaps
// every pair of different neighbours: ParsePIN must call each a typo.
func TestPINCatchesTypos(t *testing.T) {
	for range 500 {
		pin, err := GeneratePIN()
		if err != nil {
			t.Fatal(err)
		}
		s := pin.Reveal()
		if _, err := ParsePIN(s); err != nil {
			t.Fatalf("generated PIN does not parse: %v", err)
		}
		for i := range len(s) {
			for d := byte('0'); d <= '9'; d++ {
				if d == s[i] {
					continue
				}
				if _, err := ParsePIN(s[:i] + string(d) + s[i+1:]); !errors.Is(err, ErrTypo) {
					t.Fatalf("one wrong digit at %d: err = %v, want ErrTypo", i, err)
				}
			}
			if i+1 < len(s) && s[i] != s[i+1] {
				swapped := s[:i] + string(s[i+1]) + string(s[i]) + s[i+2:]
				if _, err := ParsePIN(swapped); !errors.Is(err, ErrTypo) {
					t.Fatalf("swap at %d: err = %v, want ErrTypo", i, err)
				}
			}
		}
	}
}

func TestGeneratePINHasNoWeakPatterns(t *testing.T) {
	n := 20000
	if testing.Short() {
		n = 2000
	}
	seen := make(map[string]bool, n)
	for range n {
		pin, err := GeneratePIN()
		if err != nil {
			t.Fatal(err)
		}
		s := pin.Reveal()
		if len(s) != PINDigits || strings.Trim(s, "0123456789") != "" || damm(s) != 0 {
			t.Fatalf("malformed PIN of length %d", len(s))
		}
		if weakPIN(s[:PINRandomDigits]) {
			t.Fatal("GeneratePIN issued a weak PIN")
		}
		if seen[s] {
			t.Fatal("the same PIN twice") // 1 chance in 10^6 per test run; a repeat means a bad generator
		}
		seen[s] = true
	}
}

func TestWeakPIN(t *testing.T) {
	for _, tc := range []struct {
		digits string
		weak   bool
	}{
		{"12345000000", true}, // run of 4 zeros and 5 up
		{"90712345638", true}, // 1-2-3-4-5
		{"98765038271", true}, // 9-8-7-6-5
		{"11103333841", true}, // 3333
		{"11102333841", false},
		{"12340987123", false},
		{"90817263544", false},
	} {
		t.Run(tc.digits, func(t *testing.T) {
			if got := weakPIN(tc.digits); got != tc.weak {
				t.Errorf("weakPIN(%s) = %v, want %v", tc.digits, got, tc.weak)
			}
		})
	}
}

// TestWeakFractionBound proves weakFractionBound, which PINSpace relies on, by weakFractionOf's
// union bound over where each weak run can start.
func TestWeakFractionBound(t *testing.T) {
	if f := weakFractionOf(PINRandomDigits); f > weakFractionBound {
		t.Fatalf("weak PINs are up to %.4f of all, more than weakFractionBound %.4f", f, weakFractionBound)
	}
}

func TestParsePIN(t *testing.T) {
	const valid = "123456789018" // damm("12345678901") = 8
	if damm(valid) != 0 {
		t.Fatal("test PIN is not valid")
	}
	for _, tc := range []struct {
		name, in string
		ok       bool
	}{
		{"plain", valid, true},
		{"grouped", "1234-5678-9018", true},
		{"spaces", " 1234 5678 9018 ", true},
		{"dots and underscores", "1234.5678_9018", true},
		{"unicode hyphen and nbsp", "1234\u20105678\u00a09018", true},
		{"full-width digits", "１２３４５６７８９０１８", true},
		{"full-width hyphen", "1234－5678－9018", true},
		{"tab and newline", "1234\t5678\n9018", true},
		{"check digit wrong", "123456789017", false},
		{"one digit short", "12345678901", false},
		{"one digit long", "1234567890180", false},
		{"letter", "1234567890I8", false},
		{"arabic-indic digits", "١٢٣٤٥٦٧٨٩٠١٨", false},
		{"superscript", "¹23456789018", false},
		{"empty", "", false},
		{"only separators", "- - -", false},
		{"too long", strings.Repeat(" ", 200) + valid, false},
		{"invalid UTF-8", "1234\xff56789018", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pin, err := ParsePIN(tc.in)
			if tc.ok {
				if err != nil || pin.Reveal() != valid {
					t.Fatalf("ParsePIN = %v; want the PIN", err)
				}
				return
			}
			if !errors.Is(err, ErrTypo) {
				t.Fatalf("ParsePIN err = %v, want ErrTypo", err)
			}
			if strings.Contains(err.Error(), "123456") {
				t.Fatalf("error quotes the input: %q", err)
			}
		})
	}
}

func TestPINGrouped(t *testing.T) {
	pin, err := ParsePIN("123456789018")
	if err != nil {
		t.Fatal(err)
	}
	if got := pin.Grouped(); got != "1234-5678-9018" {
		t.Fatalf("Grouped = %q", got)
	}
}

// FuzzParsePIN checks that ParsePIN accepts exactly the inputs whose digits (ASCII or
// full-width, separators ignored) are PINDigits long with a valid check digit, that what it
// accepts is canonical (ParsePIN of its Grouped form gives the same PIN), and that its
// errors are typos that never quote the input.
func FuzzParsePIN(f *testing.F) {
	for _, s := range []string{"123456789018", "1234-5678-9018", "１２３４５６７８９０１８", "123456789017", "", "x", " 1234 5678 9018"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		pin, err := ParsePIN(in)
		digits, clean := referenceDigits(in)
		want := clean && len(in) <= maxPINInput && len(digits) == PINDigits && damm(digits) == 0
		if (err == nil) != want {
			t.Fatalf("ParsePIN(%q) err = %v; reference says valid = %v", in, err, want)
		}
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Code != CodeTypo {
				t.Fatalf("error %v is not a typo", err)
			}
			if len(digits) >= 4 && strings.Contains(e.Message, digits[:4]) {
				t.Fatalf("error %q quotes the input", e.Message)
			}
			return
		}
		if pin.Reveal() != digits {
			t.Fatalf("ParsePIN(%q) = %s, want %s", in, pin.Reveal(), digits)
		}
		again, err := ParsePIN(pin.Grouped())
		if err != nil || again.Reveal() != pin.Reveal() {
			t.Fatalf("Grouped form does not parse back: %v", err)
		}
	})
}

// referenceDigits is a slow, obvious ParsePIN without the checks: the digits of in, and
// whether in had nothing but digits and separators.
func referenceDigits(in string) (string, bool) {
	var b strings.Builder
	for _, r := range in {
		switch {
		case r == utf8.RuneError:
			return "", false
		case strings.ContainsRune("0123456789", r):
			b.WriteRune(r)
		case strings.ContainsRune("０１２３４５６７８９", r):
			fmt.Fprint(&b, int(r-'０'))
		case isPINSeparator(r):
		default:
			return "", false
		}
	}
	return b.String(), true
}

// TestLongerPINs checks the PINs of larger elections: their length, their check digit and
// weak patterns, their printed groups, and that ParsePINOf takes them back (and a state's
// ParsePIN does not).
func TestLongerPINs(t *testing.T) {
	for _, tc := range []struct {
		digits  int
		grouped string
	}{
		{12, "1234-5678-9018"}, {13, "12345-6789-0123"}, {14, "12345-67890-1230"},
	} {
		raw := strings.ReplaceAll(tc.grouped, "-", "")
		// The examples end in their check digit.
		if damm(raw) != 0 {
			t.Fatalf("example %s has a wrong check digit", raw)
		}
		pin, err := ParsePINOf(tc.grouped, PINDigits, MaxPINDigits)
		if err != nil || pin.Reveal() != raw {
			t.Fatalf("ParsePINOf(%s) = %v", tc.grouped, err)
		}
		if got := pin.Grouped(); got != tc.grouped {
			t.Errorf("Grouped = %q, want %q", got, tc.grouped)
		}
		if _, err := ParsePINOf(raw, tc.digits, tc.digits); err != nil {
			t.Errorf("ParsePINOf(%d digits, exactly %d) = %v", len(raw), tc.digits, err)
		}
		if _, err := ParsePIN(raw); (err == nil) != (tc.digits == PINDigits) {
			t.Errorf("ParsePIN(%d digits) = %v", tc.digits, err)
		}
		for range 200 {
			pin, err := GeneratePINOf(tc.digits)
			if err != nil {
				t.Fatal(err)
			}
			s := pin.Reveal()
			if len(s) != tc.digits || strings.Trim(s, "0123456789") != "" || damm(s) != 0 || weakPIN(s[:tc.digits-1]) {
				t.Fatalf("GeneratePINOf(%d) gave a malformed or weak PIN of length %d", tc.digits, len(s))
			}
			if again, err := ParsePINOf(pin.Grouped(), tc.digits, tc.digits); err != nil || again.Reveal() != s {
				t.Fatalf("the grouped form of a %d-digit PIN does not parse back: %v", tc.digits, err)
			}
		}
	}
	for _, d := range []int{PINDigits - 1, MaxPINDigits + 1} {
		if _, err := GeneratePINOf(d); err == nil {
			t.Errorf("GeneratePINOf(%d) issued a PIN", d)
		}
		if _, err := ParsePINOf("123456789018", PINDigits, d); err == nil && d > MaxPINDigits {
			t.Errorf("ParsePINOf accepted a bound of %d digits", d)
		}
	}
	if _, err := ParsePINOf("1234567890123", PINDigits, PINDigits); !errors.Is(err, ErrTypo) {
		t.Errorf("a 13-digit PIN where 12 are issued: %v, want a typo", err)
	}
}
