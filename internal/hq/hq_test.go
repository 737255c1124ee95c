package hq_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"caucus/internal/auth"
	"caucus/internal/hq"
	"caucus/internal/night"
	"caucus/internal/store/sqlite"
)

// TestAttacksAcrossReads: failed logins are counted once each however many boards read them:
// a minute older than the settling time is read once and kept, a recent one read again as it
// grows, and the PIN budget is the counter's. Before the night nothing is reported, so every
// precinct is missing, in the definition's order.
func TestAttacksAcrossReads(t *testing.T) {
	ctx := context.Background()
	def := twoPrecincts(t)
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "caucus.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	n, err := night.Open(ctx, night.Config{Def: def, Store: db})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2020, 2, 3, 20, 0, 0, 0, time.UTC)
	h, err := hq.New(hq.Config{Main: n, Store: db, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	add := func(minute time.Time, precinct, reason string, count int) {
		t.Helper()
		if err := db.AddLoginFailures(ctx, []auth.FailureCount{{Minute: minute, PrecinctID: precinct, Client: "192.0.2.0",
			Reason: reason, Count: count}}); err != nil {
			t.Fatal(err)
		}
	}
	old, recent := now.Add(-30*time.Minute).Truncate(time.Minute), now.Add(-time.Minute).Truncate(time.Minute)
	add(old, "p1", auth.CodeBadCredentials, 3)
	add(recent, "p1", auth.CodeBadCredentials, 2)
	add(recent, "p2", auth.CodeTypo, 9) // typos spend nothing
	add(recent, "", auth.CodeBadCredentials, 50)
	for range 4 {
		if _, err := db.AddThrottle(ctx, auth.PrecinctKeyPrefix+"p1", now); err != nil {
			t.Fatal(err)
		}
	}
	check := func(wantFailures int) {
		t.Helper()
		b, err := h.Board(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(b.LoginAttacks) != 1 {
			t.Fatalf("login_attacks %+v, want p1 only", b.LoginAttacks)
		}
		if a := b.LoginAttacks[0]; a.PrecinctID != "p1" || a.Failures != wantFailures || a.BudgetSpent != 4 || a.Closed {
			t.Errorf("attack %+v, want p1 with %d failures, 4 of the budget spent", a, wantFailures)
		}
		if len(b.Missing) != 2 || b.Missing[0].PrecinctID != "p1" || b.Missing[0].ChairContact != nil || b.ContactsLoaded {
			t.Errorf("missing %+v", b.Missing)
		}
	}
	check(5)
	add(recent, "p1", auth.CodeBadCredentials, 1) // the recent minute grows
	now = now.Add(hq.PollEvery)
	check(6)
	now = now.Add(time.Hour) // everything has settled
	add(now.Truncate(time.Minute), "p1", auth.CodePINClosed, 1)
	check(7)
	now = now.Add(hq.PollEvery)
	check(7)
}
