package postgres_test

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"caucus/internal/store"
	"caucus/internal/store/postgres"
	"caucus/internal/store/postgres/pgtest"
)

// TestHotlineTwoNodes: two handles on one database, as two server processes would have, race
// for the same call-back request, key the same operator's copy and settle the same round: the
// database lets exactly one of each through.
func TestHotlineTwoNodes(t *testing.T) {
	url := pgtest.NewDatabase(t)
	nodes := []*postgres.DB{MustOpen(t, url, postgres.Options{}), MustOpen(t, url, postgres.Options{})}
	ctx := t.Context()
	for round := range 5 {
		cb, err := nodes[0].AddCallback(ctx, store.NewCallback{PrecinctID: "p" + string(rune('a'+round)), Phone: "+15155550101", Actor: "x"})
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		var mu sync.Mutex
		var won []string
		for i := range 8 {
			op := "op" + string(rune('a'+i))
			wg.Go(func() {
				_, err := nodes[i%2].ClaimCallback(ctx, cb.ID, op)
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

	var wg sync.WaitGroup
	errs := make([]error, 2)
	created := make([]bool, 2)
	for i, db := range nodes {
		wg.Go(func() {
			_, errs[i] = db.AddHotlineCopy(ctx, store.NewHotlineCopy{PrecinctID: "p1", Operator: "alice",
				VerifiedBy: store.VerifiedPIN, Channel: "hotline", Report: []byte(`{}`), Content: []byte("10-5")})
		})
	}
	wg.Wait()
	if (errs[0] == nil) == (errs[1] == nil) || !errors.Is(errors.Join(errs...), store.ErrExists) {
		t.Fatalf("alice keyed the same round on two nodes: %v; want one copy and one ErrExists", errs)
	}
	for i, db := range nodes {
		wg.Go(func() {
			created[i], errs[i] = db.SettleHotlineRound(ctx, store.HotlineSettlement{PrecinctID: "p1", Round: 1,
				Outcome: store.RoundMatched, LogIndex: -1, Actor: "bob"})
		})
	}
	wg.Wait()
	if errs[0] != nil || errs[1] != nil || created[0] == created[1] {
		t.Fatalf("round 1 settled on two nodes: created %v, errors %v; want exactly one settlement", created, errs)
	}
	as, err := nodes[1].Audit(ctx, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var claims, copies, settled int
	for _, a := range as {
		switch a.Kind {
		case store.AuditCallbackClaimed:
			claims++
		case store.AuditHotlineCopy:
			copies++
		case store.AuditHotlineSettled:
			settled++
		}
	}
	if claims != 5 || copies != 1 || settled != 1 {
		t.Errorf("audit: %d claims, %d copies, %d settlements; want 5, 1, 1", claims, copies, settled)
	}
}

// TestHotlineGuardedBySchema: what the store promises of the hotline's tables holds against a
// writer that bypasses it (a hand-written statement, another tool): they are append-only, a copy
// goes into the open round only, rounds are settled in order, and a call-back event must follow
// the request's last one.
func TestHotlineGuardedBySchema(t *testing.T) {
	url := pgtest.NewDatabase(t)
	db := MustOpen(t, url, postgres.Options{})
	ctx := t.Context()
	if _, err := db.AddHotlineCopy(ctx, store.NewHotlineCopy{PrecinctID: "p1", Operator: "alice",
		VerifiedBy: store.VerifiedPIN, Channel: "hotline", Report: []byte(`{}`), Content: []byte("10-5")}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.SettleHotlineRound(ctx, store.HotlineSettlement{PrecinctID: "p2", Round: 1,
		Outcome: store.RoundReviewed, LogIndex: -1, Actor: "rita"}); err != nil {
		t.Fatal(err)
	}
	cb, err := db.AddCallback(ctx, store.NewCallback{PrecinctID: "p1", Phone: "+15155550101", Actor: "p1"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.ClaimCallback(ctx, cb.ID, "olga"); err != nil {
		t.Fatal(err)
	}
	raw := rawConn(t, url)
	copyRow := func(precinct string, round int, operator string) string {
		return fmt.Sprintf(`INSERT INTO hotline_copies (at, precinct_id, round, operator, verified_by, channel, report, content)
			VALUES (0, '%s', %d, '%s', 'pin', 'hotline', '\x7b7d', '\x01')`, precinct, round, operator)
	}
	settlement := func(precinct string, round int) string {
		return fmt.Sprintf(`INSERT INTO hotline_rounds (precinct_id, round, outcome, copies, report_id, log_index, actor, at)
			VALUES ('%s', %d, 'matched', '[]', '', -1, 'bob', 0)`, precinct, round)
	}
	event := func(id int64, kind, operator, outcome string) string {
		return fmt.Sprintf(`INSERT INTO callback_events (callback_id, at, kind, operator, outcome, note)
			VALUES (%d, 0, '%s', '%s', '%s', '')`, id, kind, operator, outcome)
	}
	for _, tc := range []struct{ q, why string }{
		{`UPDATE hotline_copies SET content = '\x02'`, "append-only"},
		{`DELETE FROM hotline_copies`, "append-only"},
		{`TRUNCATE hotline_copies`, "append-only"},
		{`UPDATE hotline_rounds SET outcome = 'matched'`, "append-only"},
		{`DELETE FROM hotline_rounds`, "append-only"},
		{`TRUNCATE hotline_rounds`, "append-only"},
		{`UPDATE callback_events SET operator = 'oscar'`, "append-only"},
		{`DELETE FROM callback_events`, "append-only"},
		{`TRUNCATE callback_events`, "append-only"},
		{copyRow("p1", 2, "bob"), "not open"},        // round 1 is open
		{copyRow("p2", 1, "bob"), "not open"},        // round 1 is settled
		{copyRow("p1", 1, "alice"), "duplicate key"}, // alice's second copy
		{settlement("p1", 2), "not open"},            // round 1 is not settled
		{settlement("p2", 1), "duplicate key"},       // settled already
		{event(cb.ID, "claim", "oscar", ""), "claimed by someone"},
		{event(cb.ID, "outcome", "oscar", "reported"), "not claimed by oscar"},
		{event(cb.ID+1, "claim", "oscar", ""), "foreign key"},
	} {
		if _, err := raw.Exec(ctx, tc.q); err == nil || !strings.Contains(err.Error(), tc.why) {
			t.Errorf("%s: %v, want refused (%s)", strings.Join(strings.Fields(tc.q), " "), err, tc.why)
		}
	}
	// The store's own writes still go through.
	if _, err := db.CallbackOutcome(ctx, cb.ID, "olga", store.CallbackReported, ""); err != nil {
		t.Fatal(err)
	}
	r, err := db.HotlineRound(ctx, "p1")
	if err != nil || r.Round != 1 || len(r.Copies) != 1 || string(r.Copies[0].Content) != "10-5" {
		t.Errorf("p1 after the attempts: %+v, %v", r, err)
	}
}
