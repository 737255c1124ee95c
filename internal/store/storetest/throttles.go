package storetest

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"caucus/internal/auth"
	"caucus/internal/store"
)

// errRefused is what the tests' decide functions refuse with.
var errRefused = errors.New("refused")

// testUpdateThrottles: decide sees the counters as stored (zero for a missing key), what it
// returns is written (Count 0 deletes), and a refusal writes nothing.
func testUpdateThrottles(t *testing.T, h *authHarness) {
	at := farFromClock
	if _, err := h.s.AddThrottle(h.ctx, "precinct/p1", at); err != nil {
		t.Fatal(err)
	}
	keys := []string{"precinct/p1", "precinct-fail/p1", "addr/192.0.2.1/1"}
	got, err := h.s.UpdateThrottles(h.ctx, keys, func(cur []auth.ThrottleCounter) ([]auth.ThrottleCounter, error) {
		want := []auth.ThrottleCounter{{Count: 1, Last: at}, {}, {}}
		for i := range cur {
			if cur[i].Count != want[i].Count || !cur[i].Last.Equal(want[i].Last) {
				t.Errorf("decide saw %s = %+v, want %+v", keys[i], cur[i], want[i])
			}
		}
		return []auth.ThrottleCounter{{Count: 2, Last: at.Add(time.Second)}, {Count: 1, Last: at}, {}}, nil
	})
	if err != nil || len(got) != 3 || got[0].Count != 2 {
		t.Fatalf("UpdateThrottles = %+v, %v", got, err)
	}
	for key, want := range map[string]int{"precinct/p1": 2, "precinct-fail/p1": 1, "addr/192.0.2.1/1": 0} {
		if c, err := h.s.Throttle(h.ctx, key); err != nil || c.Count != want {
			t.Errorf("%s = %+v, %v; want %d", key, c, err, want)
		}
	}
	if c, _ := h.s.Throttle(h.ctx, "precinct/p1"); !c.Last.Equal(at.Add(time.Second)) {
		t.Errorf("Last = %v, want the decided time", c.Last)
	}
	// Count 0 deletes.
	if _, err := h.s.UpdateThrottles(h.ctx, keys[:1], func(cur []auth.ThrottleCounter) ([]auth.ThrottleCounter, error) {
		return []auth.ThrottleCounter{{}}, nil
	}); err != nil {
		t.Fatal(err)
	}
	if c, _ := h.s.Throttle(h.ctx, "precinct/p1"); c.Count != 0 {
		t.Errorf("after Count 0: %+v", c)
	}
	// A refusal writes nothing and comes back.
	_, err = h.s.UpdateThrottles(h.ctx, keys, func(cur []auth.ThrottleCounter) ([]auth.ThrottleCounter, error) {
		return nil, errRefused
	})
	if !errors.Is(err, errRefused) {
		t.Errorf("refusal: %v, want errRefused", err)
	}
	if c, _ := h.s.Throttle(h.ctx, "precinct-fail/p1"); c.Count != 1 {
		t.Errorf("after a refusal: %+v, want unchanged", c)
	}
	// A decision of the wrong length, or an empty key, is refused.
	if _, err := h.s.UpdateThrottles(h.ctx, keys, func(cur []auth.ThrottleCounter) ([]auth.ThrottleCounter, error) {
		return cur[:1], nil
	}); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("short decision: %v, want ErrInvalid", err)
	}
	if _, err := h.s.UpdateThrottles(h.ctx, []string{""}, nil); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("empty key: %v, want ErrInvalid", err)
	}
}

// testUpdateThrottlesAcrossHandles: 100 concurrent reservations "if under 10, add one to both
// keys", over two handles as two server processes: exactly 10 succeed and both counters end
// at 10. This is what keeps a budget and its back-off exact under a burst.
func testUpdateThrottlesAcrossHandles(t *testing.T, h *authHarness) {
	stores := []AuthStore{h.s, h.reopen()}
	keys := []string{"precinct/p1", "addr/192.0.2.1/1"}
	var ok atomic.Int64
	var wg sync.WaitGroup
	for i := range 100 {
		wg.Go(func() {
			_, err := stores[i%2].UpdateThrottles(h.ctx, keys, func(cur []auth.ThrottleCounter) ([]auth.ThrottleCounter, error) {
				if cur[0].Count >= 10 {
					return nil, errRefused
				}
				return []auth.ThrottleCounter{{Count: cur[0].Count + 1, Last: farFromClock}, {Count: cur[1].Count + 1, Last: farFromClock}}, nil
			})
			if err == nil {
				ok.Add(1)
			} else if !errors.Is(err, errRefused) {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if ok.Load() != 10 {
		t.Errorf("%d reservations succeeded, want 10", ok.Load())
	}
	for _, key := range keys {
		if c, err := stores[1].Throttle(h.ctx, key); err != nil || c.Count != 10 {
			t.Errorf("%s = %+v, %v; want 10", key, c, err)
		}
	}
}

// testLoginFailures: counts add up per (minute, precinct, client, reason); bad counts are
// refused whole; LoginFailures reads from a minute on, in order.
func testLoginFailures(t *testing.T, h *authHarness) {
	m0, m1 := farFromClock, farFromClock.Add(time.Minute)
	add := []auth.FailureCount{
		{Minute: m0, PrecinctID: "p1", Client: "192.0.2.1", Reason: auth.CodeBadCredentials, Count: 3},
		{Minute: m0, Client: "2001:db8::/48", Reason: auth.CodeThrottled, Count: 1},
		{Minute: m1, PrecinctID: "p1", Client: "192.0.2.1", Reason: auth.CodeBadCredentials, Count: 2},
	}
	for range 2 {
		if err := h.s.AddLoginFailures(h.ctx, add); err != nil {
			t.Fatal(err)
		}
	}
	bad := append(add[:1:1], auth.FailureCount{Minute: m0, Client: "x", Reason: "r", Count: 0})
	if err := h.s.AddLoginFailures(h.ctx, bad); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("a zero count: %v, want ErrInvalid", err)
	}
	got, err := h.s.LoginFailures(h.ctx, m0)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[0].PrecinctID != "" || got[0].Count != 2 || got[1].Count != 6 || got[2].Count != 4 ||
		!got[2].Minute.Equal(m1) {
		t.Fatalf("LoginFailures = %+v; want the three rows doubled, in order (the refused batch not added)", got)
	}
	if got, err := h.s.LoginFailures(h.ctx, m1); err != nil || len(got) != 1 {
		t.Errorf("LoginFailures from the second minute = %+v, %v", got, err)
	}
}
