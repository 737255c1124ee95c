package auth_test

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"caucus/internal/auth"
	"caucus/internal/auth/authtest"
	"caucus/internal/store/sqlite"
)

// gatedStore is the real SQLite store whose PIN reservations (keys under "addr/") wait at a
// gate: it holds PIN logins inside their lane for as long as a test needs, as slow hashes would.
type gatedStore struct {
	*sqlite.DB
	entered chan struct{}
	gate    chan struct{}
}

func (g *gatedStore) UpdateThrottles(ctx context.Context, keys []string, decide func([]auth.ThrottleCounter) ([]auth.ThrottleCounter, error)) ([]auth.ThrottleCounter, error) {
	if strings.HasPrefix(keys[len(keys)-1], "addr/") {
		g.entered <- struct{}{}
		<-g.gate
	}
	return g.DB.UpdateThrottles(ctx, keys, decide)
}

// TestShed: with the PIN lane full, a PIN login is shed at once with ErrBusy and a Retry-After
// of 2–10 s (never "wrong PIN"), and a QR-token login, in its own lane, still gets in.
func TestShed(t *testing.T) {
	secrets, err := auth.GeneratePrecinctSecrets([]string{"p0", "p1"})
	if err != nil {
		t.Fatal(err)
	}
	creds, err := auth.HashPrecinctSecrets(ctx, secrets, auth.TokenParams())
	if err != nil {
		t.Fatal(err)
	}
	db := openStore(t, filepath.Join(t.TempDir(), "caucus.db"))
	if err := db.PutPrecinctCredentials(ctx, "system", creds); err != nil {
		t.Fatal(err)
	}
	g := &gatedStore{DB: db, entered: make(chan struct{}, 2), gate: make(chan struct{})}
	a, err := auth.New(auth.Config{Store: g, Now: authtest.NewClock(night).Now, Log: slog.New(slog.DiscardHandler),
		MaxConcurrentHashes: 1, MaxWaitingHashes: 1})
	if err != nil {
		t.Fatal(err)
	}
	held := make(chan error, 2)
	for range 2 { // the lane's two places (one running, one waiting)
		go func() { _, _, err := a.LoginPIN(ctx, "p0", secrets[0].PIN.Reveal(), chairA); held <- err }()
		<-g.entered
	}
	_, _, err = a.LoginPIN(ctx, "p1", secrets[1].PIN.Reveal(), chairA)
	var e *auth.Error
	if !errors.As(err, &e) || e.Code != auth.CodeBusy || e.RetryAfter < 2*time.Second || e.RetryAfter > 10*time.Second {
		t.Fatalf("PIN login with the lane full: %v; want busy with Retry-After 2–10 s", err)
	}
	if _, _, err := a.LoginToken(ctx, "p1", secrets[1].Token.Reveal(), chairA); err != nil {
		t.Fatalf("QR login with the PIN lane full: %v", err)
	}
	close(g.gate)
	for range 2 {
		if err := <-held; err != nil {
			t.Fatalf("held PIN login: %v", err)
		}
	}
}

// TestPracticeBudget: practice PINs work outside the live window and spend only the practice
// budget; spending it leaves the live budget whole and the live PIN open on the night.
func TestPracticeBudget(t *testing.T) {
	f := newFixture(t, 1, true)
	s := f.secrets[0]
	wrong := wrongPIN(t, s.PIN)
	f.clock.Set(night.Add(-7 * 24 * time.Hour)) // practice week
	if _, _, err := f.a.LoginPracticePIN(ctx, "p0", s.PIN.Reveal(), chairA); err != nil {
		t.Fatalf("practice login before the night: %v", err)
	}
	if _, _, err := f.a.LoginPIN(ctx, "p0", s.PIN.Reveal(), chairA); !errors.Is(err, auth.ErrNotOpen) || !strings.Contains(err.Error(), "opens at") {
		t.Fatalf("live login before the night: %v; want ErrNotOpen saying when it opens", err)
	}
	for {
		_, _, err := f.a.LoginPracticePIN(ctx, "p0", wrong, chairA)
		if errors.Is(err, auth.ErrPINClosed) {
			break
		} else if !errors.Is(err, auth.ErrBadCredentials) && !errors.Is(err, auth.ErrThrottled) {
			t.Fatal(err)
		}
		f.clock.Advance(auth.PrecinctMaxDelay)
	}
	c, err := f.st.Throttle(ctx, auth.PracticeKeyPrefix+"p0")
	if err != nil || c.Count != auth.PracticeBudget {
		t.Fatalf("practice budget = %+v, %v; want %d", c, err, auth.PracticeBudget)
	}
	if n := f.attempts(t, "p0"); n != 0 {
		t.Fatalf("practice spent %d of the live budget", n)
	}
	f.clock.Set(night)
	if _, _, err := f.a.LoginPIN(ctx, "p0", s.PIN.Reveal(), chairA); err != nil {
		t.Fatalf("live login on the night: %v", err)
	}
}
