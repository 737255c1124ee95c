package night_test

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"caucus/internal/auth"
	"caucus/internal/night"
	"caucus/internal/server/servertest"
	"caucus/internal/store/sqlite"
)

// TestHousekeepingSweepsSessions: one round of the night's housekeeping deletes the sessions
// expired by auth's clock and keeps the live ones.
func TestHousekeepingSweepsSessions(t *testing.T) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "caucus.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	now := time.Date(2020, 2, 3, 23, 0, 0, 0, time.UTC)
	authn, err := auth.New(auth.Config{Store: db, Now: func() time.Time { return now }, Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	n, err := night.Open(ctx, night.Config{Def: servertest.Definition(t, 4), Store: db, Counters: authn, Sessions: authn})
	if err != nil {
		t.Fatal(err)
	}
	live := auth.Session{ID: auth.SessionID{1}, Role: auth.RoleChair, PrecinctID: "p0001", Created: now.Add(-time.Hour), Expires: now.Add(time.Hour)}
	expired := auth.Session{ID: auth.SessionID{2}, Role: auth.RoleChair, PrecinctID: "p0002", Created: now.Add(-13 * time.Hour), Expires: now.Add(-time.Hour)}
	for _, s := range []auth.Session{live, expired} {
		if err := db.CreateSession(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	n.Housekeep(ctx)
	if _, err := db.Session(ctx, expired.ID); !errors.Is(err, auth.ErrNotFound) {
		t.Errorf("the expired session is still stored: %v", err)
	}
	if _, err := db.Session(ctx, live.ID); err != nil {
		t.Errorf("the live session was swept: %v", err)
	}
}
