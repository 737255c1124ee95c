package storetest

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"caucus/internal/hotline"
	"caucus/internal/store"
)

// HotlineStore is what RunHotline checks: package hotline's Store, with the call-back requests
// it works on, the audit trail its writes land in, and Close.
type HotlineStore interface {
	hotline.Store
	AddCallback(ctx context.Context, c store.NewCallback) (store.Callback, error)
	Audit(ctx context.Context, after int64, limit int) ([]store.AuditRecord, error)
	Close() error
}

// HotlineOpener opens the database called name with now as its clock, as Opener does.
type HotlineOpener func(t *testing.T, name string, now func() time.Time) HotlineStore

// RunHotline runs the conformance tests of hotline.Store as subtests of t.
func RunHotline(t *testing.T, open HotlineOpener) {
	tests := []struct {
		name string
		f    func(t *testing.T, s HotlineStore, clock *Clock, reopen func() HotlineStore)
	}{
		{"Copies", testHotlineCopies},
		{"Callbacks", testCallbackWork},
		{"ClaimIsExclusive", testClaimExclusive},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := NewClock()
			var cur HotlineStore
			reopen := func() HotlineStore {
				if cur != nil {
					cur.Close()
				}
				cur = open(t, "hotline-"+tt.name, clock.Now)
				t.Cleanup(func() { cur.Close() })
				return cur
			}
			tt.f(t, reopen(), clock, reopen)
		})
	}
}

func hotlineCopy(precinct, operator, numbers string) store.NewHotlineCopy {
	return store.NewHotlineCopy{PrecinctID: precinct, Operator: operator, VerifiedBy: store.VerifiedPIN,
		Channel: "hotline", Report: []byte(`{"precinct_id":"` + precinct + `","numbers":"` + numbers + `"}`),
		Content: []byte(numbers)}
}

func testHotlineCopies(t *testing.T, s HotlineStore, clock *Clock, reopen func() HotlineStore) {
	ctx := t.Context()
	r, err := s.HotlineRound(ctx, "p1")
	if err != nil || r.Round != 1 || len(r.Copies) != 0 || len(r.Settled) != 0 {
		t.Fatalf("HotlineRound of a precinct without copies = %+v, %v", r, err)
	}
	r, err = s.AddHotlineCopy(ctx, hotlineCopy("p1", "alice", "10-5"))
	if err != nil || r.Round != 1 || len(r.Copies) != 1 || r.Copies[0].Operator != "alice" || !r.Copies[0].At.Equal(clock.Now()) {
		t.Fatalf("first copy: %+v, %v", r, err)
	}
	if _, err := s.AddHotlineCopy(ctx, hotlineCopy("p1", "alice", "10-6")); !errors.Is(err, store.ErrExists) {
		t.Fatalf("alice's second copy of the round: %v, want ErrExists", err)
	}
	for _, bad := range []store.NewHotlineCopy{
		{PrecinctID: "p1", Operator: "bob", VerifiedBy: "sms", Channel: "hotline", Report: []byte(`{}`), Content: []byte("x")},
		{PrecinctID: "p1", Operator: "bob", VerifiedBy: "pin", Channel: "app", Report: []byte(`{}`), Content: []byte("x")},
		{PrecinctID: "p1", Operator: "", VerifiedBy: "pin", Channel: "hotline", Report: []byte(`{}`), Content: []byte("x")},
		{PrecinctID: "p1", Operator: "bob", VerifiedBy: "pin", Channel: "hotline", Report: []byte(`{`), Content: []byte("x")},
	} {
		if _, err := s.AddHotlineCopy(ctx, bad); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("AddHotlineCopy(%+v): %v, want ErrInvalid", bad, err)
		}
	}
	clock.Advance(time.Minute)
	r, err = s.AddHotlineCopy(ctx, hotlineCopy("p1", "bob", "10-6"))
	if err != nil || len(r.Copies) != 2 || r.Copies[1].Operator != "bob" || string(r.Copies[0].Content) != "10-5" {
		t.Fatalf("second copy: %+v, %v", r, err)
	}
	s.AddHotlineCopy(ctx, hotlineCopy("p2", "alice", "1-1"))
	cs, err := s.ContestedHotlineRounds(ctx)
	if err != nil || len(cs) != 1 || cs[0].PrecinctID != "p1" || len(cs[0].Copies) != 2 {
		t.Fatalf("ContestedHotlineRounds = %+v, %v", cs, err)
	}
	// Durable: a reopened store has the copies.
	s = reopen()
	r, err = s.HotlineRound(ctx, "p1")
	if err != nil || len(r.Copies) != 2 {
		t.Fatalf("after reopen: %+v, %v", r, err)
	}
	if _, err := s.SettleHotlineRound(ctx, store.HotlineSettlement{PrecinctID: "p1", Round: 2, Outcome: store.RoundMatched, Actor: "bob"}); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("settling a round not open: %v, want ErrInvalid", err)
	}
	created, err := s.SettleHotlineRound(ctx, store.HotlineSettlement{PrecinctID: "p1", Round: 1, Outcome: store.RoundReviewed,
		Copies: []int64{1}, ReportID: "c1", LogIndex: 7, Actor: "rita"})
	if err != nil || !created {
		t.Fatalf("settle: %v, %v", created, err)
	}
	if created, err := s.SettleHotlineRound(ctx, store.HotlineSettlement{PrecinctID: "p1", Round: 1, Outcome: store.RoundMatched, Actor: "bob"}); err != nil || created {
		t.Fatalf("settling again: %v, %v; want a no-op", created, err)
	}
	r, err = s.HotlineRound(ctx, "p1")
	if err != nil || r.Round != 2 || len(r.Copies) != 0 || len(r.Settled) != 1 || r.Settled[0].Outcome != store.RoundReviewed ||
		r.Settled[0].LogIndex != 7 || len(r.Settled[0].Copies) != 1 || r.Settled[0].Actor != "rita" {
		t.Fatalf("after settling round 1: %+v, %v", r, err)
	}
	// A new round: alice keys again.
	if r, err = s.AddHotlineCopy(ctx, hotlineCopy("p1", "alice", "10-5")); err != nil || r.Round != 2 || len(r.Copies) != 1 {
		t.Fatalf("round 2's first copy: %+v, %v", r, err)
	}
	if cs, _ := s.ContestedHotlineRounds(ctx); len(cs) != 0 {
		t.Errorf("contested after settling: %+v", cs)
	}
	var copies, settled int
	as, err := s.Audit(ctx, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range as {
		switch a.Kind {
		case store.AuditHotlineCopy:
			copies++
			if !strings.Contains(string(a.Detail), `"numbers"`) {
				t.Errorf("a copy's audit row lacks its report: %s", a.Detail)
			}
		case store.AuditHotlineSettled:
			settled++
		}
	}
	if copies != 4 || settled != 1 {
		t.Errorf("audit: %d copy rows, %d settled rows; want 4, 1", copies, settled)
	}
}

func testCallbackWork(t *testing.T, s HotlineStore, clock *Clock, _ func() HotlineStore) {
	ctx := t.Context()
	a, _ := s.AddCallback(ctx, store.NewCallback{PrecinctID: "p1", Phone: "+15155550101", Actor: "p1"})
	clock.Advance(time.Minute)
	b, _ := s.AddCallback(ctx, store.NewCallback{PrecinctID: "p2", Phone: "+15155550102", Actor: "p2"})
	q, err := s.CallbackStates(ctx, store.CallbackFilter{Open: true, Limit: 10})
	if err != nil || len(q) != 2 || q[0].ID != a.ID || q[0].State != store.CallbackWaiting || q[1].Phone != "+15155550102" {
		t.Fatalf("queue = %+v, %v", q, err)
	}
	if _, err := s.ClaimCallback(ctx, 99, "olga"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("claim of an unknown request: %v", err)
	}
	clock.Advance(time.Minute)
	st, err := s.ClaimCallback(ctx, a.ID, "olga")
	if err != nil || st.State != store.CallbackClaimed || st.Operator != "olga" || !st.ClaimedAt.Equal(clock.Now()) {
		t.Fatalf("claim: %+v, %v", st, err)
	}
	if _, err := s.ClaimCallback(ctx, a.ID, "oscar"); !errors.Is(err, store.ErrConflict) {
		t.Errorf("a second operator's claim: %v, want ErrConflict", err)
	}
	if _, err := s.CallbackOutcome(ctx, a.ID, "oscar", store.CallbackReported, ""); !errors.Is(err, store.ErrConflict) {
		t.Errorf("an outcome by who does not hold it: %v, want ErrConflict", err)
	}
	if _, err := s.CallbackOutcome(ctx, a.ID, "olga", "maybe", ""); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("an unknown outcome: %v, want ErrInvalid", err)
	}
	st, err = s.CallbackOutcome(ctx, a.ID, "olga", store.CallbackNoAnswer, "rang 10 times")
	if err != nil || st.State != store.CallbackWaiting || st.Attempts != 1 || st.OutcomeNote != "rang 10 times" {
		t.Fatalf("no answer: %+v, %v", st, err)
	}
	if st, err = s.ClaimCallback(ctx, a.ID, "oscar"); err != nil || st.Operator != "oscar" {
		t.Fatalf("claim after no answer: %+v, %v", st, err)
	}
	if st, err = s.CallbackOutcome(ctx, a.ID, "oscar", store.CallbackReported, ""); err != nil || st.State != store.CallbackDone || st.Attempts != 2 {
		t.Fatalf("reported: %+v, %v", st, err)
	}
	if _, err := s.ClaimCallback(ctx, a.ID, "olga"); !errors.Is(err, store.ErrConflict) {
		t.Errorf("claim of a done request: %v, want ErrConflict", err)
	}
	q, _ = s.CallbackStates(ctx, store.CallbackFilter{Open: true, Limit: 10})
	if len(q) != 1 || q[0].ID != b.ID {
		t.Errorf("open queue after: %+v", q)
	}
	mine, _ := s.CallbackStates(ctx, store.CallbackFilter{PrecinctID: "p1", Limit: 10})
	if len(mine) != 1 || mine[0].State != store.CallbackDone || mine[0].Outcome != store.CallbackReported {
		t.Errorf("p1's requests: %+v", mine)
	}
	var claims, outcomes int
	as, _ := s.Audit(ctx, 0, 1000)
	for _, r := range as {
		switch r.Kind {
		case store.AuditCallbackClaimed:
			claims++
		case store.AuditCallbackOutcome:
			outcomes++
		}
		if strings.Contains(string(r.Detail), "555") {
			t.Errorf("an audit row holds the phone number: %s", r.Detail)
		}
	}
	if claims != 2 || outcomes != 2 {
		t.Errorf("audit: %d claims, %d outcomes; want 2, 2", claims, outcomes)
	}
}

// testClaimExclusive races operators for one request: exactly one gets it.
func testClaimExclusive(t *testing.T, s HotlineStore, _ *Clock, _ func() HotlineStore) {
	ctx := t.Context()
	for round := range 10 {
		cb, err := s.AddCallback(ctx, store.NewCallback{PrecinctID: "p" + string(rune('a'+round)), Phone: "+15155550101", Actor: "x"})
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		var mu sync.Mutex
		var won []string
		for i := range 8 {
			op := "op" + string(rune('a'+i))
			wg.Go(func() {
				_, err := s.ClaimCallback(ctx, cb.ID, op)
				switch {
				case err == nil:
					mu.Lock()
					won = append(won, op)
					mu.Unlock()
				case !errors.Is(err, store.ErrConflict):
					t.Errorf("claim: %v", err)
				}
			})
		}
		wg.Wait()
		if len(won) != 1 {
			t.Fatalf("request %d claimed by %v; want exactly one", cb.ID, won)
		}
	}
}
