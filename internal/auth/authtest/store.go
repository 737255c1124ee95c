package authtest

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"caucus/internal/auth"
)

// TestStore checks that the stores newStore returns behave as auth's interfaces document.
// newStore must return a new, empty store each time it is called.
func TestStore(t *testing.T, newStore func(t *testing.T) auth.Store) {
	ctx := context.Background()
	t0 := time.Date(2020, 2, 3, 19, 0, 0, 0, time.UTC)
	pinHash, err := auth.HashSecret(auth.TokenParams(), "123456789012")
	if err != nil {
		t.Fatal(err)
	}

	t.Run("PrecinctCredential", func(t *testing.T) {
		s := newStore(t)
		if _, err := s.PrecinctCredential(ctx, "p1"); !errors.Is(err, auth.ErrNotFound) {
			t.Fatalf("missing credential: err = %v, want ErrNotFound", err)
		}
		c := auth.PrecinctCredential{PrecinctID: "p1", PINHash: pinHash, TokenHash: pinHash}
		if err := s.PutPrecinctCredentials(ctx, []auth.PrecinctCredential{c}); err != nil {
			t.Fatal(err)
		}
		got, err := s.PrecinctCredential(ctx, "p1")
		if err != nil {
			t.Fatal(err)
		}
		if got.PrecinctID != "p1" || got.PINHash.Encoded() != pinHash.Encoded() || got.TokenHash.Encoded() != pinHash.Encoded() {
			t.Fatalf("credential read back differs")
		}
	})

	t.Run("StaffAccount", func(t *testing.T) {
		s := newStore(t)
		if _, err := s.StaffAccount(ctx, "ann"); !errors.Is(err, auth.ErrNotFound) {
			t.Fatalf("missing account: err = %v, want ErrNotFound", err)
		}
		a := auth.StaffAccount{Username: "ann", Role: auth.RoleOperator, PasswordHash: pinHash}
		if err := s.PutStaffAccount(ctx, a); err != nil {
			t.Fatal(err)
		}
		a.Role = auth.RoleReviewer
		if err := s.PutStaffAccount(ctx, a); err != nil {
			t.Fatalf("replace account: %v", err)
		}
		got, err := s.StaffAccount(ctx, "ann")
		if err != nil {
			t.Fatal(err)
		}
		if got.Username != "ann" || got.Role != auth.RoleReviewer || got.PasswordHash.Encoded() != pinHash.Encoded() {
			t.Fatalf("account read back = %+v", got)
		}
	})

	t.Run("Throttle", func(t *testing.T) {
		s := newStore(t)
		if c, err := s.Throttle(ctx, "precinct/p1"); err != nil || c.Count != 0 {
			t.Fatalf("missing counter = %+v, %v; want zero, nil", c, err)
		}
		for i := 1; i <= 3; i++ {
			c, err := s.AddThrottle(ctx, "precinct/p1", t0.Add(time.Duration(i)*time.Second))
			if err != nil {
				t.Fatal(err)
			}
			if c.Count != i || !c.Last.Equal(t0.Add(time.Duration(i)*time.Second)) {
				t.Fatalf("after %d adds: %+v", i, c)
			}
		}
		if c, _ := s.Throttle(ctx, "precinct/p2"); c.Count != 0 {
			t.Fatalf("keys are not independent: %+v", c)
		}
		if err := s.ResetThrottle(ctx, "precinct/p1"); err != nil {
			t.Fatal(err)
		}
		if c, _ := s.Throttle(ctx, "precinct/p1"); c.Count != 0 {
			t.Fatalf("after reset: %+v", c)
		}
		if err := s.ResetThrottle(ctx, "precinct/none"); err != nil {
			t.Fatalf("reset of a missing key: %v", err)
		}
	})

	t.Run("AddThrottleIsAtomic", func(t *testing.T) {
		s := newStore(t)
		const n = 50
		seen := make([]bool, n+1)
		var mu sync.Mutex
		var wg sync.WaitGroup
		for range n {
			wg.Go(func() {
				c, err := s.AddThrottle(ctx, "precinct/p1", t0)
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
	})

	t.Run("ExpireThrottles", func(t *testing.T) {
		s := newStore(t)
		for _, k := range []string{"addr/192.0.2.1/1", "addr/192.0.2.2/1", "precinct/p1"} {
			if _, err := s.AddThrottle(ctx, k, t0); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := s.AddThrottle(ctx, "addr/192.0.2.3/2", t0.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		n, err := s.ExpireThrottles(ctx, "addr/", t0.Add(time.Minute))
		if err != nil || n != 2 {
			t.Fatalf("expired %d, %v; want 2, nil", n, err)
		}
		for k, want := range map[string]int{"addr/192.0.2.1/1": 0, "addr/192.0.2.3/2": 1, "precinct/p1": 1} {
			if c, _ := s.Throttle(ctx, k); c.Count != want {
				t.Errorf("%s: count %d, want %d", k, c.Count, want)
			}
		}
	})

	t.Run("Sessions", func(t *testing.T) {
		s := newStore(t)
		id := auth.SessionID{1, 2, 3}
		if _, err := s.Session(ctx, id); !errors.Is(err, auth.ErrNotFound) {
			t.Fatalf("missing session: err = %v, want ErrNotFound", err)
		}
		want := auth.Session{ID: id, Role: auth.RoleChair, PrecinctID: "p1", Created: t0, Expires: t0.Add(auth.ChairSessionTTL)}
		if err := s.CreateSession(ctx, want); err != nil {
			t.Fatal(err)
		}
		if err := s.CreateSession(ctx, want); err == nil {
			t.Fatal("a duplicate session ID was accepted")
		}
		got, err := s.Session(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if got.ID != want.ID || got.Role != want.Role || got.PrecinctID != want.PrecinctID ||
			!got.Created.Equal(want.Created) || !got.Expires.Equal(want.Expires) {
			t.Fatalf("session read back = %+v, want %+v", got, want)
		}
		if err := s.DeleteSession(ctx, id); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteSession(ctx, id); !errors.Is(err, auth.ErrNotFound) {
			t.Fatalf("second delete: err = %v, want ErrNotFound", err)
		}
	})
}
