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
