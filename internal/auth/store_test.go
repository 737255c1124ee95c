package auth_test

import (
	"errors"
	"log/slog"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"caucus/internal/auth"
	"caucus/internal/auth/authtest"
)

// These tests run Authenticators on the election's real store: what they check (a budget
// shared by processes, sessions that outlive one) is the store's as much as auth's.

// testLog sends an Authenticator's logs to t.Log.
func testLog(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type tWriter struct{ t *testing.T }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}

func newAuth(t *testing.T, st auth.Store, clock *authtest.Clock) *auth.Authenticator {
	t.Helper()
	a, err := auth.New(auth.Config{Store: st, Now: clock.Now, Log: testLog(t)})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// issue stores fresh credentials for precinctIDs (PINs hashed with the cheap token
// parameters, to keep the test fast) and returns the secrets.
func issue(t *testing.T, st auth.Store, actor string, precinctIDs ...string) []auth.PrecinctSecret {
	t.Helper()
	secrets, err := auth.GeneratePrecinctSecrets(precinctIDs)
	if err != nil {
		t.Fatal(err)
	}
	creds, err := auth.HashPrecinctSecrets(t.Context(), secrets, auth.TokenParams())
	if err != nil {
		t.Fatal(err)
	}
	if err := st.PutPrecinctCredentials(t.Context(), actor, creds); err != nil {
		t.Fatal(err)
	}
	return secrets
}

// client returns a distinct address per attempt, so that the per-address limit never
// interferes with the per-precinct budget under test.
func client(i int) netip.Addr { return netip.AddrFrom4([4]byte{198, 51, byte(i >> 8), byte(i)}) }

// TestTwoProcessesShareBudget opens the same file twice, as two server processes would, and
// spends one precinct's PIN budget alternately through both: the budget is one, not two.
// Sessions made by one are honoured and ended by the other.
func TestTwoProcessesShareBudget(t *testing.T) {
	path := filepath.Join(t.TempDir(), "caucus.db")
	stA, stB := openStore(t, path), openStore(t, path)
	clock := authtest.NewClock(night)
	a, b := newAuth(t, stA, clock), newAuth(t, stB, clock)
	secret := issue(t, stA, "system", "polk-1")[0]

	for i := range auth.PrecinctBudget {
		srv := []*auth.Authenticator{a, b}[i%2]
		_, _, err := srv.LoginPIN(ctx, "polk-1", wrongPIN(t, secret.PIN), client(i))
		if !errors.Is(err, auth.ErrBadCredentials) {
			t.Fatalf("wrong PIN %d: %v, want ErrBadCredentials", i+1, err)
		}
		clock.Advance(auth.PrecinctMaxDelay) // past any back-off: only the budget limits
	}
	for name, srv := range map[string]*auth.Authenticator{"A": a, "B": b} {
		// Even the right PIN is refused now, on both: the budget is spent.
		if _, _, err := srv.LoginPIN(ctx, "polk-1", secret.PIN.Reveal(), client(1000)); !errors.Is(err, auth.ErrPINClosed) {
			t.Errorf("%s: right PIN after the budget = %v, want ErrPINClosed", name, err)
		}
	}
	for name, st := range map[string]auth.Store{"A": stA, "B": stB} {
		if c, err := st.Throttle(ctx, auth.PrecinctKeyPrefix+"polk-1"); err != nil || c.Count != auth.PrecinctBudget {
			t.Errorf("%s: attempts = %d, %v; want %d", name, c.Count, err, auth.PrecinctBudget)
		}
	}

	// Time passing and address counters expiring reopen nothing.
	clock.Advance(48 * time.Hour)
	if _, err := a.ExpireAddressCounters(ctx); err != nil {
		t.Fatal(err)
	}
	if c, err := stB.Throttle(ctx, auth.PrecinctKeyPrefix+"polk-1"); err != nil || c.Count != auth.PrecinctBudget {
		t.Errorf("after 48 h and ExpireAddressCounters: attempts = %d, %v; want %d", c.Count, err, auth.PrecinctBudget)
	}
	if _, _, err := b.LoginPIN(ctx, "polk-1", secret.PIN.Reveal(), client(1001)); !errors.Is(err, auth.ErrPINClosed) {
		t.Errorf("right PIN 48 h later = %v, want ErrPINClosed", err)
	}

	// The QR token still works, through either; the session is shared.
	sess, tok, err := b.LoginToken(ctx, "polk-1", secret.Token.Reveal(), client(1))
	if err != nil {
		t.Fatalf("token login with the PIN budget spent: %v", err)
	}
	if got, err := a.Authenticate(ctx, tok.Reveal()); err != nil || got.ID != sess.ID || got.PrecinctID != "polk-1" ||
		!got.MaySubmit("polk-1") {
		t.Fatalf("A does not know B's session: %+v, %v", got, err)
	}
	if err := a.Logout(ctx, tok.Reveal()); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Authenticate(ctx, tok.Reveal()); !errors.Is(err, auth.ErrUnauthenticated) {
		t.Errorf("B after A's logout: %v, want ErrUnauthenticated", err)
	}
}

// TestKeysAreAuths: a wrong PIN counts under PrecinctKeyPrefix, the prefix the store's
// ExpireThrottles protects, at auth's clock.
func TestKeysAreAuths(t *testing.T) {
	st := openStore(t, filepath.Join(t.TempDir(), "caucus.db"))
	secret := issue(t, st, "system", "p1")[0]
	a := newAuth(t, st, authtest.NewClock(night))
	if _, _, err := a.LoginPIN(ctx, "p1", wrongPIN(t, secret.PIN), client(1)); !errors.Is(err, auth.ErrBadCredentials) {
		t.Fatalf("wrong PIN: %v", err)
	}
	if c, err := st.Throttle(ctx, "precinct/p1"); err != nil || c.Count != 1 || !c.Last.Equal(night) {
		t.Errorf(`store counter "precinct/p1" = %+v, %v; auth no longer counts PINs under "precinct/"`, c, err)
	}
}

// TestReissue: both secrets of a precinct survive the store, and a reissue replaces them.
func TestReissue(t *testing.T) {
	st := openStore(t, filepath.Join(t.TempDir(), "caucus.db"))
	first := issue(t, st, "system", "p1", "p2")
	second := issue(t, st, "alice", "p1")
	a := newAuth(t, st, authtest.NewClock(night))
	for _, tc := range []struct {
		name, precinct string
		secret         auth.PrecinctSecret
		want           error
	}{
		{"reissued PIN", "p1", second[0], nil},
		{"old PIN", "p1", first[0], auth.ErrBadCredentials},
		{"other precinct", "p2", first[1], nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, _, err := a.LoginPIN(ctx, tc.precinct, tc.secret.PIN.Reveal(), client(1)); !errors.Is(err, tc.want) {
				t.Errorf("LoginPIN = %v, want %v", err, tc.want)
			}
			if _, _, err := a.LoginToken(ctx, tc.precinct, tc.secret.Token.Reveal(), client(1)); !errors.Is(err, tc.want) {
				t.Errorf("LoginToken = %v, want %v", err, tc.want)
			}
		})
	}
}

// TestDisabledStaff: a disabled account cannot log in and answers like an unknown user.
func TestDisabledStaff(t *testing.T) {
	path := filepath.Join(t.TempDir(), "caucus.db")
	st := openStore(t, path)
	a := newAuth(t, st, authtest.NewClock(night))
	pw := auth.NewPassword("correct horse battery staple")
	addStaff(t, path, "ann", auth.RoleOperator, pw, false)
	addStaff(t, path, "bob", auth.RoleOperator, pw, true)
	if s, _, err := a.LoginStaff(ctx, "ann", pw, "", client(1)); err != nil || s.Role != auth.RoleOperator || s.Username != "ann" {
		t.Fatalf("LoginStaff = %+v, %v", s, err)
	}
	if _, _, err := a.LoginStaff(ctx, "bob", pw, "", client(2)); !errors.Is(err, auth.ErrBadCredentials) {
		t.Errorf("LoginStaff(disabled) = %v, want ErrBadCredentials", err)
	}
}

// TestSessionRestart: a session outlives the process that made it (reliability.md A4; a
// server restart must not log chairs out), and expiry follows auth's clock, not the store's.
func TestSessionRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "caucus.db")
	st := openStore(t, path)
	secret := issue(t, st, "system", "p1")[0]
	clock := authtest.NewClock(night)
	_, tok, err := newAuth(t, st, clock).LoginToken(ctx, "p1", secret.Token.Reveal(), client(1))
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	a := newAuth(t, openStore(t, path), clock)
	clock.Advance(auth.ChairSessionTTL - time.Millisecond)
	if s, err := a.Authenticate(ctx, tok.Reveal()); err != nil || s.PrecinctID != "p1" || s.Role != auth.RoleChair {
		t.Fatalf("after restart: %+v, %v", s, err)
	}
	clock.Advance(time.Millisecond)
	if _, err := a.Authenticate(ctx, tok.Reveal()); !errors.Is(err, auth.ErrUnauthenticated) {
		t.Errorf("at expiry: %v, want ErrUnauthenticated", err)
	}
}
