package storetest

import (
	"errors"
	"sync"
	"testing"
	"time"

	"caucus/internal/store"
)

// farFromClock is a time far from the store's clock: counters must keep the caller's time.
var farFromClock = time.Date(2031, 7, 1, 12, 0, 0, 0, time.UTC)

func testCounters(t *testing.T, h *harness) {
	const key = "precinct/p1"
	if c, err := h.s.Counter(h.ctx, key); err != nil || c.Count != 0 || !c.Last.IsZero() || c.Key != key {
		t.Fatalf("Counter(new) = %+v, %v; want zero", c, err)
	}
	for i := int64(1); i <= 3; i++ {
		at := farFromClock.Add(time.Duration(i) * time.Second)
		c, err := h.s.AddCounter(h.ctx, key, at)
		if err != nil || c.Count != i || !c.Last.Equal(at) || c.Key != key {
			t.Fatalf("AddCounter %d = %+v, %v; want count %d at %v", i, c, err, i, at)
		}
	}
	if c, err := h.s.Counter(h.ctx, key); err != nil || c.Count != 3 || !c.Last.Equal(farFromClock.Add(3*time.Second)) {
		t.Errorf("Counter = %+v, %v; want 3 at the caller's last time", c, err)
	}
	if c, _ := h.s.Counter(h.ctx, "precinct/p2"); c.Count != 0 {
		t.Errorf("keys are not independent: %+v", c)
	}
	h.clock.Advance(48 * time.Hour) // the store's clock forgets nothing
	if c, _ := h.s.Counter(h.ctx, key); c.Count != 3 {
		t.Errorf("Counter after the store's clock moved = %+v, want 3", c)
	}
	if err := h.s.ResetCounter(h.ctx, key); err != nil {
		t.Fatal(err)
	}
	if c, _ := h.s.Counter(h.ctx, key); c.Count != 0 {
		t.Errorf("after reset: %+v", c)
	}
	if err := h.s.ResetCounter(h.ctx, key); err != nil {
		t.Errorf("ResetCounter of a missing key = %v, want nil", err)
	}
	if _, err := h.s.AddCounter(h.ctx, "", farFromClock); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("AddCounter(empty key) = %v, want ErrInvalid", err)
	}
	if _, err := h.s.AddCounter(h.ctx, key, time.Time{}); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("AddCounter(zero time) = %v, want ErrInvalid", err)
	}
}

// testExpireCounters: only the named prefix, compared literally, and only before the time.
func testExpireCounters(t *testing.T, h *harness) {
	old, recent := farFromClock, farFromClock.Add(time.Hour)
	for key, at := range map[string]time.Time{
		"addr/192.0.2.1/1": old, "addr/192.0.2.2/1": old, "addr/2001:db8::/64/1": old,
		"addr/192.0.2.3/2": recent,
		"precinct/p1":      old, "precinct/addr_1": old, "addrX/1": old, "a%/1": old,
	} {
		if _, err := h.s.AddCounter(h.ctx, key, at); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := h.s.ExpireCounters(h.ctx, "", recent); !errors.Is(err, store.ErrInvalid) || n != 0 {
		t.Errorf("ExpireCounters(empty prefix) = %d, %v; want 0, ErrInvalid", n, err)
	}
	if n, err := h.s.ExpireCounters(h.ctx, "a_dr/", recent); err != nil || n != 0 {
		t.Errorf("ExpireCounters(a_dr/) = %d, %v; want 0 (no wildcards)", n, err)
	}
	if n, err := h.s.ExpireCounters(h.ctx, "a%", recent); err != nil || n != 1 {
		t.Errorf("ExpireCounters(a%%) = %d, %v; want only the literal a%% key", n, err)
	}
	if n, err := h.s.ExpireCounters(h.ctx, "addr/", recent); err != nil || n != 3 {
		t.Errorf("ExpireCounters(addr/) = %d, %v; want 3", n, err)
	}
	// Nothing else forgets a counter with age: a day later the rest are all still there.
	h.clock.Advance(24 * time.Hour)
	for key, want := range map[string]int64{
		"addr/192.0.2.1/1": 0, "addr/2001:db8::/64/1": 0, "addr/192.0.2.3/2": 1,
		"precinct/p1": 1, "precinct/addr_1": 1, "addrX/1": 1, "a%/1": 0,
	} {
		if c, err := h.s.Counter(h.ctx, key); err != nil || c.Count != want {
			t.Errorf("%s: count %d, %v; want %d", key, c.Count, err, want)
		}
	}
}

// testConcurrentCounter: concurrent AddCounter calls never hand out the same count.
func testConcurrentCounter(t *testing.T, h *harness) {
	const n = 64
	seen := make([]bool, n+1)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			c, err := h.s.AddCounter(h.ctx, "precinct/p1", farFromClock)
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			if c.Count < 1 || c.Count > n || seen[c.Count] {
				t.Errorf("count %d handed out twice or out of range", c.Count)
				return
			}
			seen[c.Count] = true
		})
	}
	wg.Wait()
	if c, err := h.s.Counter(h.ctx, "precinct/p1"); err != nil || c.Count != n {
		t.Errorf("Counter = %+v, %v; want %d", c, err, n)
	}
}
