package authstore_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"caucus/internal/auth"
	"caucus/internal/auth/authtest"
	"caucus/internal/authstore"
	"caucus/internal/store"
	"caucus/internal/store/sqlite"
)

// MustOpenDB opens the SQLite file at path with the store's own (real) clock, closing it at
// the end. The store's clock is deliberately not auth's: everything auth keeps must follow
// the clock auth passes in.
func MustOpenDB(tb testing.TB, path string) *sqlite.DB {
	tb.Helper()
	db, err := sqlite.Open(tb.Context(), path, sqlite.Options{})
	if err != nil {
		tb.Fatalf("open %s: %v", path, err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

// TestStore runs auth's conformance suite on the adapter over a real SQLite file.
func TestStore(t *testing.T) {
	authtest.TestStore(t, func(t *testing.T) auth.Store {
		return authstore.New(MustOpenDB(t, filepath.Join(t.TempDir(), "caucus.db")))
	})
}

// night is when the tests' logins happen, on auth's clock.
var night = time.Date(2020, 2, 3, 19, 0, 0, 0, time.UTC)

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
func issue(t *testing.T, st auth.Store, precinctIDs ...string) []auth.PrecinctSecret {
	t.Helper()
	secrets, err := auth.GeneratePrecinctSecrets(precinctIDs)
	if err != nil {
		t.Fatal(err)
	}
	creds, err := auth.HashPrecinctSecrets(t.Context(), secrets, auth.TokenParams())
	if err != nil {
		t.Fatal(err)
	}
	if err := st.PutPrecinctCredentials(t.Context(), creds); err != nil {
		t.Fatal(err)
	}
	return secrets
}

// wrongPIN returns a well-formed PIN (its check digit is right, so it counts) that is not pin.
func wrongPIN(t *testing.T, pin auth.PIN) string {
	t.Helper()
	for {
		p, err := auth.GeneratePIN()
		if err != nil {
			t.Fatal(err)
		}
		if p.Reveal() != pin.Reveal() {
			return p.Reveal()
		}
	}
}

// client returns a distinct address per attempt, so that the per-address limit never
// interferes with the per-precinct budget under test.
func client(i int) netip.Addr { return netip.AddrFrom4([4]byte{198, 51, byte(i >> 8), byte(i)}) }

// TestTwoProcessesShareBudget opens the same file twice, as two server processes would, and
// spends one precinct's PIN budget alternately through both: the budget is one, not two.
// Sessions made by one are honoured and ended by the other, and only a staff reset reopens
// the PIN path.
func TestTwoProcessesShareBudget(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "caucus.db")
	stA, stB := authstore.New(MustOpenDB(t, path)), authstore.New(MustOpenDB(t, path))
	clock := authtest.NewClock(night)
	a, b := newAuth(t, stA, clock), newAuth(t, stB, clock)
	secret := issue(t, stA, "polk-1")[0]

	for i := range auth.PrecinctBudget {
		srv := []*auth.Authenticator{a, b}[i%2]
		_, _, err := srv.LoginPIN(ctx, "polk-1", wrongPIN(t, secret.PIN), client(i))
		if !errors.Is(err, auth.ErrBadCredentials) {
			t.Fatalf("wrong PIN %d: %v, want ErrBadCredentials", i+1, err)
		}
		clock.Advance(auth.PrecinctMaxDelay) // past any back-off: only the budget limits
	}
	for name, srv := range map[string]*auth.Authenticator{"A": a, "B": b} {
		if n, err := srv.PrecinctAttempts(ctx, "polk-1"); err != nil || n != auth.PrecinctBudget {
			t.Errorf("%s: PrecinctAttempts = %d, %v; want %d", name, n, err, auth.PrecinctBudget)
		}
		// Even the right PIN is refused now, on both: the budget is spent.
		if _, _, err := srv.LoginPIN(ctx, "polk-1", secret.PIN.Reveal(), client(1000)); !errors.Is(err, auth.ErrPINClosed) {
			t.Errorf("%s: right PIN after the budget = %v, want ErrPINClosed", name, err)
		}
	}

	// Time passing and address counters expiring reopen nothing.
	clock.Advance(48 * time.Hour)
	if _, err := a.ExpireAddressCounters(ctx); err != nil {
		t.Fatal(err)
	}
	if n, err := b.PrecinctAttempts(ctx, "polk-1"); err != nil || n != auth.PrecinctBudget {
		t.Errorf("after 48 h and ExpireAddressCounters: PrecinctAttempts = %d, %v; want %d",
			n, err, auth.PrecinctBudget)
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

	// A staff reset through A reopens the PIN path on B.
	if err := a.ResetPrecinct(ctx, "polk-1"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := b.LoginPIN(ctx, "polk-1", secret.PIN.Reveal(), client(2000)); err != nil {
		t.Errorf("right PIN after the reset: %v", err)
	}
}

// TestTwoProcessesAddThrottleIsAtomic: concurrent attempts through two handles on one file
// never get the same count, so no more than PrecinctBudget PINs are ever verified.
func TestTwoProcessesAddThrottleIsAtomic(t *testing.T) {
	path := filepath.Join(t.TempDir(), "caucus.db")
	stores := []*authstore.Store{authstore.New(MustOpenDB(t, path)), authstore.New(MustOpenDB(t, path))}
	const n = 100
	seen := make([]bool, n+1)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			c, err := stores[i%2].AddThrottle(t.Context(), "precinct/p1", night)
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
	for i, s := range stores {
		if c, err := s.Throttle(t.Context(), "precinct/p1"); err != nil || c.Count != n {
			t.Errorf("store %d: Throttle = %+v, %v; want %d", i, c, err, n)
		}
	}
}

// TestExpireThrottlesSparesPrecincts: no prefix that could reach a precinct budget is
// expired, whatever its age.
func TestExpireThrottlesSparesPrecincts(t *testing.T) {
	ctx := t.Context()
	st := authstore.New(MustOpenDB(t, filepath.Join(t.TempDir(), "caucus.db")))
	for _, k := range []string{"precinct/p1", "addr/192.0.2.1/1"} {
		if _, err := st.AddThrottle(ctx, k, night); err != nil {
			t.Fatal(err)
		}
	}
	later := night.Add(24 * time.Hour)
	for _, prefix := range []string{"", "p", "precinct", "precinct/", "precinct/p1"} {
		if n, err := st.ExpireThrottles(ctx, prefix, later); err == nil || n != 0 {
			t.Errorf("ExpireThrottles(%q) = %d, %v; want refused", prefix, n, err)
		}
	}
	if n, err := st.ExpireThrottles(ctx, "addr/", later); err != nil || n != 1 {
		t.Errorf("ExpireThrottles(addr/) = %d, %v; want 1", n, err)
	}
	if c, _ := st.Throttle(ctx, "precinct/p1"); c.Count != 1 {
		t.Errorf("precinct budget after expiry: %+v, want count 1", c)
	}
}

// TestKeysAreAuths checks the adapter's idea of auth's keys against auth itself: a wrong PIN
// counts under "precinct/ID", the prefix ExpireThrottles protects.
func TestKeysAreAuths(t *testing.T) {
	ctx := t.Context()
	db := MustOpenDB(t, filepath.Join(t.TempDir(), "caucus.db"))
	st := authstore.New(db)
	secret := issue(t, st, "p1")[0]
	a := newAuth(t, st, authtest.NewClock(night))
	if _, _, err := a.LoginPIN(ctx, "p1", wrongPIN(t, secret.PIN), client(1)); !errors.Is(err, auth.ErrBadCredentials) {
		t.Fatalf("wrong PIN: %v", err)
	}
	if c, err := db.Counter(ctx, "precinct/p1"); err != nil || c.Count != 1 || !c.Last.Equal(night) {
		t.Errorf(`store counter "precinct/p1" = %+v, %v; auth no longer counts PINs under "precinct/"`, c, err)
	}
}

// TestCredentials: both hashes of a precinct survive the store's one-hash column, a reissue
// replaces them, every issue is audited under the Store's actor, and a stored value that is
// not two hashes is an internal error, never "not found".
func TestCredentials(t *testing.T) {
	ctx := t.Context()
	db := MustOpenDB(t, filepath.Join(t.TempDir(), "caucus.db"))
	st := authstore.New(db)
	first := issue(t, st, "p1", "p2")
	second := issue(t, st.WithActor("alice"), "p1")
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
	rows, err := db.Audit(ctx, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range rows {
		if r.Kind == store.AuditCredentialIssued {
			got = append(got, r.Actor+":"+r.PrecinctID)
		}
	}
	if want := []string{"auth:p1", "auth:p2", "alice:p1"}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("credential_issued rows = %v, want %v", got, want)
	}

	if err := db.PutCredentials(ctx, "x", []store.Credential{{PrecinctID: "p3", Hash: []byte("not a hash")}}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.PrecinctCredential(ctx, "p3"); err == nil || errors.Is(err, auth.ErrNotFound) {
		t.Errorf("PrecinctCredential(garbage) = %v, want an internal error", err)
	}
	if err := st.PutPrecinctCredentials(ctx, []auth.PrecinctCredential{{PrecinctID: "p4"}}); err == nil {
		t.Error("PutPrecinctCredentials accepted a credential without hashes")
	}
}

// TestDisabledStaff: an account disabled in the store cannot log in, answers like an unknown
// user, and stays disabled when auth replaces its password.
func TestDisabledStaff(t *testing.T) {
	ctx := t.Context()
	db := MustOpenDB(t, filepath.Join(t.TempDir(), "caucus.db"))
	st := authstore.New(db)
	a := newAuth(t, st, authtest.NewClock(night))
	pw := auth.GeneratePassword()
	acct, err := auth.NewStaffAccount("ann", auth.RoleOperator, pw, auth.TokenParams())
	if err != nil {
		t.Fatal(err)
	}
	if err := st.PutStaffAccount(ctx, acct); err != nil {
		t.Fatal(err)
	}
	if s, _, err := a.LoginStaff(ctx, "ann", pw, client(1)); err != nil || s.Role != auth.RoleOperator || s.Username != "ann" {
		t.Fatalf("LoginStaff = %+v, %v", s, err)
	}
	u, err := db.Staff(ctx, "ann")
	if err != nil {
		t.Fatal(err)
	}
	u.Disabled = true
	if err := db.UpdateStaff(ctx, "admin", u); err != nil {
		t.Fatal(err)
	}
	if _, _, err := a.LoginStaff(ctx, "ann", pw, client(2)); !errors.Is(err, auth.ErrBadCredentials) {
		t.Errorf("LoginStaff(disabled) = %v, want ErrBadCredentials", err)
	}
	if _, err := st.StaffAccount(ctx, "ann"); !errors.Is(err, auth.ErrNotFound) {
		t.Errorf("StaffAccount(disabled) = %v, want ErrNotFound", err)
	}
	acct.Role = auth.RoleReviewer
	if err := st.PutStaffAccount(ctx, acct); err != nil {
		t.Fatal(err)
	}
	if u, err := db.Staff(ctx, "ann"); err != nil || !u.Disabled || u.Role != store.RoleReviewer {
		t.Errorf("after PutStaffAccount: %+v, %v; want reviewer, still disabled", u, err)
	}
	if err := st.PutStaffAccount(ctx, auth.StaffAccount{Username: "bob", Role: auth.RoleChair, PasswordHash: acct.PasswordHash}); err == nil {
		t.Error("PutStaffAccount accepted a chair account")
	}
}

// TestSessionRestart: a session outlives the process that made it (reliability.md A4; a
// server restart must not log chairs out), and expiry follows auth's clock, not the store's.
func TestSessionRestart(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "caucus.db")
	db := MustOpenDB(t, path)
	st := authstore.New(db)
	secret := issue(t, st, "p1")[0]
	clock := authtest.NewClock(night)
	_, tok, err := newAuth(t, st, clock).LoginToken(ctx, "p1", secret.Token.Reveal(), client(1))
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	a := newAuth(t, authstore.New(MustOpenDB(t, path)), clock)
	clock.Advance(auth.ChairSessionTTL - time.Millisecond)
	if s, err := a.Authenticate(ctx, tok.Reveal()); err != nil || s.PrecinctID != "p1" || s.Role != auth.RoleChair {
		t.Fatalf("after restart: %+v, %v", s, err)
	}
	clock.Advance(time.Millisecond)
	if _, err := a.Authenticate(ctx, tok.Reveal()); !errors.Is(err, auth.ErrUnauthenticated) {
		t.Errorf("at expiry: %v, want ErrUnauthenticated", err)
	}
}
