package auth

import (
	"net/netip"
	"testing"
	"time"
)

// TestGuessBound recomputes the package doc's bound from the constants: changing the PIN
// length, the budget or MaxPrecincts the wrong way fails it.
func TestGuessBound(t *testing.T) {
	if p := GuessBound(MaxPrecincts); p >= 1e-6 {
		t.Fatalf("P(any of %d precincts) ≤ %.3g, not below 1e-6", MaxPrecincts, p)
	}
	t.Logf("P(any of %d) ≤ %.3g; P(any of Iowa's 1,765) ≤ %.3g; each reset adds %.3g",
		MaxPrecincts, GuessBound(MaxPrecincts), GuessBound(1765), float64(PrecinctBudget)/PINSpace())
	// The budget must outlast the back-off for a good part of the night: spending it takes
	// the attacker more than two hours, during which the chair's QR code still works.
	if n := MaxAttemptsIn(2 * time.Hour); n >= PrecinctBudget {
		t.Fatalf("the back-off lets %d attempts through in 2 h: the budget goes in under 2 h", n)
	}
	// A chair's own slips must fit in the free attempts, and a wait is never more than
	// "a few minutes".
	if PrecinctFreeAttempts < 3 || PrecinctMaxDelay > 10*time.Minute || PrecinctFreeAttempts >= PrecinctBudget {
		t.Fatal("throttle constants no longer leave a chair a usable PIN path")
	}
}

func TestBackoff(t *testing.T) {
	const s = time.Second
	for _, tc := range []struct {
		count int
		want  time.Duration
	}{
		{0, 0}, {4, 0}, {5, 30 * s}, {6, 60 * s}, {7, 120 * s}, {8, 240 * s}, {9, 300 * s}, {39, 300 * s}, {1000, 300 * s},
	} {
		if got := backoff(tc.count, PrecinctFreeAttempts, PrecinctBaseDelay, PrecinctMaxDelay); got != tc.want {
			t.Errorf("backoff(%d) = %v, want %v", tc.count, got, tc.want)
		}
	}
	// 5 at once, then 30+60+120+240 s, then 31 × 5 min: 2 h 42 min 30 s for the budget.
	if got := MaxAttemptsIn(2*time.Hour + 42*time.Minute + 30*time.Second); got != PrecinctBudget {
		t.Errorf("MaxAttemptsIn(2h42m30s) = %d, want %d", got, PrecinctBudget)
	}
	if got := MaxAttemptsIn(6 * time.Hour); got != 79 {
		t.Errorf("MaxAttemptsIn(6h) = %d, want 79", got)
	}
}

func TestAddressKey(t *testing.T) {
	w := time.Unix(3600, 0)
	for _, tc := range []struct{ a, b string }{
		{"2001:db8:1:2:aaaa::1", "2001:db8:1:2:bbbb::2"}, // one /64
		{"2001:db8:1:2::1", "2001:db8:1:ffff::1"},        // one /48
		{"::ffff:192.0.2.1", "192.0.2.1"},                // mapped IPv4
	} {
		if ka, kb := addressKey(addressPrefix, netip.MustParseAddr(tc.a), w), addressKey(addressPrefix, netip.MustParseAddr(tc.b), w); ka != kb {
			t.Errorf("%s and %s have different keys %s, %s", tc.a, tc.b, ka, kb)
		}
	}
	for _, tc := range []struct{ a, b string }{
		{"2001:db8:1:2::1", "2001:db8:2:2::1"},
		{"192.0.2.1", "192.0.2.2"},
	} {
		if ka, kb := addressKey(addressPrefix, netip.MustParseAddr(tc.a), w), addressKey(addressPrefix, netip.MustParseAddr(tc.b), w); ka == kb {
			t.Errorf("%s and %s share key %s", tc.a, tc.b, ka)
		}
	}
	if got := addressKey(addressPrefix, netip.Addr{}, w); got != "addr/unknown/3600" {
		t.Errorf("unknown address key = %s", got)
	}
}

// TestPINDigitsFor proves the PIN length chosen for each size of election: a state's 2,000
// precincts keep the 12 digits printed on today's cards, and each larger election gets the
// shortest PIN that keeps the bound below 1e-6, up to MaxPrecincts (a national election of
// 175,000 precincts has 14 digits), beyond which nothing is issued.
func TestPINDigitsFor(t *testing.T) {
	for _, tc := range []struct{ precincts, digits int }{
		{0, 12}, {1, 12}, {1765, 12}, {StatePrecincts, 12},
		{StatePrecincts + 1, 13}, {20_000, 13}, {20_001, 14}, {175_000, 14}, {MaxPrecincts, MaxPINDigits},
	} {
		got, err := PINDigitsFor(tc.precincts)
		if err != nil || got != tc.digits {
			t.Errorf("PINDigitsFor(%d) = %d, %v; want %d", tc.precincts, got, err, tc.digits)
		}
	}
	if _, err := PINDigitsFor(MaxPrecincts + 1); err == nil {
		t.Errorf("PINDigitsFor(%d) gave a length: the bound does not cover it", MaxPrecincts+1)
	}
	// At the top of each length's range the bound is below 1e-6, as for a state, and one
	// digit fewer would not be: the length is the shortest that holds it.
	for _, top := range []int{StatePrecincts, 20_000, 175_000, MaxPrecincts} {
		digits, _ := PINDigitsFor(top)
		if p := GuessBound(top); p >= 1e-6 {
			t.Errorf("P(any of %d precincts with %d-digit PINs) ≤ %.3g, not below 1e-6", top, digits, p)
		}
		if digits > PINDigits {
			if p := GuessBoundOf(top, digits-1); p < 1e-6 {
				t.Errorf("%d precincts: %d digits would do (%.3g), but %d are issued", top, digits-1, p, digits)
			}
		}
	}
	t.Logf("P(any of 175,000 with 14 digits) ≤ %.3g; each reset adds %.3g", GuessBound(175_000), float64(PrecinctBudget)/PINSpaceOf(14))
}
