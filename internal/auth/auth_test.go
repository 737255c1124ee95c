package auth_test

import (
	"bytes"
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
	"caucus/internal/store/sqlite"
)

var (
	ctx    = context.Background()
	night  = time.Date(2020, 2, 3, 18, 0, 0, 0, time.UTC) // the live window opens
	chairA = netip.MustParseAddr("198.51.100.7")
)

type fixture struct {
	a       *auth.Authenticator
	st      *sqlite.DB // a real store, in a temporary directory
	path    string     // its file
	clock   *authtest.Clock
	secrets []auth.PrecinctSecret
	logs    *syncBuffer
}

// syncBuffer collects log output for the no-secrets check, and echoes it to t.Log.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
	t   testing.TB
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.t.Log(strings.TrimSuffix(string(p), "\n"))
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// newFixture makes n precincts p0…p(n-1) with fresh secrets. PIN hashes use TokenParams so
// the tests run fast; the hash parameters play no part in the logic under test.
func newFixture(tb testing.TB, n int, window bool) *fixture {
	tb.Helper()
	clock := authtest.NewClock(night)
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("p%d", i)
	}
	secrets, err := auth.GeneratePrecinctSecrets(ids)
	if err != nil {
		tb.Fatal(err)
	}
	creds, err := auth.HashPrecinctSecrets(ctx, secrets, auth.TokenParams())
	if err != nil {
		tb.Fatal(err)
	}
	path := filepath.Join(tb.TempDir(), "caucus.db")
	store := openStore(tb, path)
	if err := store.PutPrecinctCredentials(ctx, "system", creds); err != nil {
		tb.Fatal(err)
	}
	logs := &syncBuffer{t: tb}
	// Lanes wide enough that no test here is shed by accident; TestShed narrows them.
	cfg := auth.Config{Store: store, Now: clock.Now, Log: slog.New(slog.NewTextHandler(logs, nil)),
		MaxWaitingHashes: 1000}
	if window {
		cfg.LiveOpens, cfg.LiveCloses = night, night.Add(10*time.Hour)
	}
	a, err := auth.New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	f := &fixture{a: a, st: store, path: path, clock: clock, secrets: secrets, logs: logs}
	if t, ok := tb.(*testing.T); ok {
		t.Cleanup(func() { f.checkLogs(t) })
	}
	return f
}

// openStore opens the SQLite store at path with its own (real) clock, closing it at the end.
// The store's clock is deliberately not auth's: everything auth keeps must follow the clock
// auth passes in.
func openStore(tb testing.TB, path string) *sqlite.DB {
	tb.Helper()
	st, err := sqlite.Open(context.Background(), path, sqlite.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	return st
}

// attempts returns how many PIN attempts precinctID has had, as the store counts them.
func (f *fixture) attempts(tb testing.TB, precinctID string) int {
	tb.Helper()
	c, err := f.st.Throttle(ctx, auth.PrecinctKeyPrefix+precinctID)
	if err != nil {
		tb.Fatal(err)
	}
	return c.Count
}

// checkLogs asserts that no PIN or token reached the log (reliability.md A3).
func (f *fixture) checkLogs(t *testing.T) {
	logs := f.logs.String()
	for _, s := range f.secrets {
		if strings.Contains(logs, s.PIN.Reveal()) || strings.Contains(logs, s.Token.Reveal()) {
			t.Errorf("a secret of %s is in the log", s.PrecinctID)
		}
	}
}

// wrongPIN returns a PIN with a valid check digit that is not want.
func wrongPIN(t testing.TB, want auth.PIN) string {
	for {
		p, err := auth.GeneratePIN()
		if err != nil {
			t.Fatal(err)
		}
		if p.Reveal() != want.Reveal() {
			return p.Reveal()
		}
	}
}

func TestLoginPIN(t *testing.T) {
	f := newFixture(t, 2, false)
	p0 := f.secrets[0]
	typo := p0.PIN.Reveal()[:11] + string('0'+(p0.PIN.Reveal()[11]-'0'+1)%10)
	for _, tc := range []struct {
		name     string
		precinct string
		pin      string
		want     error
		counted  int // precinct p0's attempts after the call
	}{
		{"typo", "p0", typo, auth.ErrTypo, 0},
		{"too short", "p0", "1234", auth.ErrTypo, 0},
		{"wrong PIN", "p0", wrongPIN(t, p0.PIN), auth.ErrBadCredentials, 1},
		{"unknown precinct", "nowhere", p0.PIN.Reveal(), auth.ErrBadCredentials, 1},
		{"other precinct's PIN", "p1", p0.PIN.Reveal(), auth.ErrBadCredentials, 1},
		{"precinct ID too long", strings.Repeat("p", auth.MaxNameLen+1), p0.PIN.Reveal(), auth.ErrTooLong, 1},
		{"right PIN, grouped", "p0", p0.PIN.Grouped(), nil, 1}, // a right PIN spends no budget
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, tok, err := f.a.LoginPIN(ctx, tc.precinct, tc.pin, chairA)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if n := f.attempts(t, "p0"); n != tc.counted {
				t.Errorf("p0 attempts = %d, want %d", n, tc.counted)
			}
			if err != nil {
				return
			}
			if s.Role != auth.RoleChair || s.PrecinctID != "p0" || !s.Expires.Equal(night.Add(auth.ChairSessionTTL)) {
				t.Fatalf("session = %+v", s)
			}
			got, err := f.a.Authenticate(ctx, tok.Reveal())
			if err != nil || got.ID != s.ID {
				t.Fatalf("Authenticate = %+v, %v", got, err)
			}
		})
	}
}

func TestLoginToken(t *testing.T) {
	f := newFixture(t, 2, true)
	p0 := f.secrets[0]
	f.clock.Set(night.Add(-14 * 24 * time.Hour)) // tokens work before the live window
	for _, tc := range []struct {
		name, precinct, token string
		want                  error
	}{
		{"right", "p0", p0.Token.Reveal(), nil},
		{"lower case", "p0", strings.ToLower(p0.Token.Reveal()), nil},
		{"other precinct", "p1", p0.Token.Reveal(), auth.ErrBadCredentials},
		{"unknown precinct", "nowhere", p0.Token.Reveal(), auth.ErrBadCredentials},
		{"wrong token", "p0", auth.GenerateToken().Reveal(), auth.ErrBadCredentials},
		{"truncated", "p0", p0.Token.Reveal()[:31], auth.ErrBadLink},
		{"not base32", "p0", strings.Repeat("1", 32), auth.ErrBadLink},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, _, err := f.a.LoginToken(ctx, tc.precinct, tc.token, chairA); !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestLiveWindow(t *testing.T) {
	f := newFixture(t, 1, true)
	pin := f.secrets[0].PIN.Reveal()
	for _, at := range []time.Time{night.Add(-time.Second), night.Add(10 * time.Hour)} {
		f.clock.Set(at)
		if _, _, err := f.a.LoginPIN(ctx, "p0", pin, chairA); !errors.Is(err, auth.ErrNotOpen) {
			t.Fatalf("at %v: err = %v, want ErrNotOpen", at, err)
		}
	}
	if n := f.attempts(t, "p0"); n != 0 {
		t.Fatalf("attempts outside the window were counted: %d", n)
	}
	f.clock.Set(night)
	if _, _, err := f.a.LoginPIN(ctx, "p0", pin, chairA); err != nil {
		t.Fatalf("at opening: %v", err)
	}
}

// TestLoginBackoff walks one precinct through the free attempts and the doubling waits.
func TestLoginBackoff(t *testing.T) {
	f := newFixture(t, 1, false)
	right := f.secrets[0].PIN.Reveal()
	wrong := wrongPIN(t, f.secrets[0].PIN)
	attacker := netip.MustParseAddr("203.0.113.1")
	for range auth.PrecinctFreeAttempts {
		if _, _, err := f.a.LoginPIN(ctx, "p0", wrong, attacker); !errors.Is(err, auth.ErrBadCredentials) {
			t.Fatalf("free attempt: %v", err)
		}
	}
	for _, wait := range []time.Duration{30 * time.Second, time.Minute, 2 * time.Minute, 4 * time.Minute, 5 * time.Minute, 5 * time.Minute} {
		_, _, err := f.a.LoginPIN(ctx, "p0", right, chairA) // even the right PIN waits
		var e *auth.Error
		if !errors.As(err, &e) || e.Code != auth.CodeThrottled || e.RetryAfter != wait {
			t.Fatalf("err = %v, want throttled for %v", err, wait)
		}
		f.clock.Advance(wait - time.Second)
		if _, _, err := f.a.LoginPIN(ctx, "p0", right, chairA); !errors.Is(err, auth.ErrThrottled) {
			t.Fatalf("a second early: %v", err)
		}
		f.clock.Advance(time.Second)
		if _, _, err := f.a.LoginPIN(ctx, "p0", wrong, attacker); !errors.Is(err, auth.ErrBadCredentials) {
			t.Fatalf("after %v: %v", wait, err)
		}
	}
	f.clock.Advance(auth.PrecinctMaxDelay)
	if _, _, err := f.a.LoginPIN(ctx, "p0", right, chairA); err != nil {
		t.Fatalf("right PIN after the wait: %v", err)
	}
}

// TestGuessingAttack is reliability.md A1 on a fake clock: an attacker with 10,000 addresses
// tries fresh check-valid PINs at every precinct every 10 s, from two weeks before the night
// to its end. No precinct sees more than PrecinctBudget verified attempts, nothing before the
// window counts, and the bound computed from the measured maximum is below 1e-6.
func TestGuessingAttack(t *testing.T) {
	const precincts = 40
	f := newFixture(t, precincts, true)
	addr := func(i int) netip.Addr { return netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}) }
	tries, verified := 0, 0
	attack := func(from, to time.Time, step time.Duration) {
		for f.clock.Set(from); f.clock.Now().Before(to); f.clock.Advance(step) {
			for p := range precincts {
				pin, err := auth.GeneratePIN()
				if err != nil {
					t.Fatal(err)
				}
				_, _, err = f.a.LoginPIN(ctx, fmt.Sprint("p", p), pin.Reveal(), addr(tries%10000))
				tries++
				switch {
				case err == nil:
					t.Fatal("the attacker got in") // chance 40·40/1e11
				case errors.Is(err, auth.ErrBadCredentials):
					verified++
				case errors.Is(err, auth.ErrThrottled), errors.Is(err, auth.ErrPINClosed), errors.Is(err, auth.ErrNotOpen):
				default:
					t.Fatal(err)
				}
			}
		}
	}
	attack(night.Add(-14*24*time.Hour), night, time.Hour)
	if verified != 0 {
		t.Fatalf("%d attempts before the window were verified", verified)
	}
	attack(night, night.Add(10*time.Hour), 10*time.Second)
	maxCount := 0
	for p := range precincts {
		maxCount = max(maxCount, f.attempts(t, fmt.Sprint("p", p)))
	}
	if maxCount > auth.PrecinctBudget || verified > precincts*auth.PrecinctBudget {
		t.Fatalf("max attempts per precinct %d, verified %d: budget %d", maxCount, verified, auth.PrecinctBudget)
	}
	p := float64(1765) * float64(maxCount) / auth.PINSpace()
	if p >= 1e-6 {
		t.Fatalf("measured bound %.3g", p)
	}
	t.Logf("%d tries, %d verified, max %d per precinct: P(any of 1,765) ≤ %.3g", tries, verified, maxCount, p)
}

// TestLockoutDoS is reliability.md A2: with a precinct's PIN budget spent by an attacker,
// the chair still gets in at once with the QR token.
func TestLockoutDoS(t *testing.T) {
	f := newFixture(t, 1, false)
	s := f.secrets[0]
	wrong := wrongPIN(t, s.PIN)
	for i := 0; ; i++ {
		_, _, err := f.a.LoginPIN(ctx, "p0", wrong, netip.AddrFrom4([4]byte{10, 0, 0, byte(i)}))
		if errors.Is(err, auth.ErrPINClosed) {
			break
		}
		f.clock.Advance(auth.PrecinctMaxDelay)
	}
	if _, _, err := f.a.LoginPIN(ctx, "p0", s.PIN.Reveal(), chairA); !errors.Is(err, auth.ErrPINClosed) {
		t.Fatalf("right PIN on a closed precinct: %v", err)
	}
	if _, _, err := f.a.LoginToken(ctx, "p0", s.Token.Reveal(), chairA); err != nil {
		t.Fatalf("QR token on a closed precinct: %v", err)
	}
}

// TestBudgetIsExactUnderConcurrency fires many wrong PINs at one instant: whatever the
// interleaving, exactly the free attempts are verified (the back-off is reserved with the
// attempt, so it holds under concurrency), and the budget is left for the chair.
func TestBudgetIsExactUnderConcurrency(t *testing.T) {
	f := newFixture(t, 1, false)
	wrong := wrongPIN(t, f.secrets[0].PIN)
	var mu sync.Mutex
	verified := 0
	var wg sync.WaitGroup
	for i := range 200 {
		wg.Go(func() {
			_, _, err := f.a.LoginPIN(ctx, "p0", wrong, netip.AddrFrom4([4]byte{10, 1, 0, byte(i)}))
			if errors.Is(err, auth.ErrBadCredentials) {
				mu.Lock()
				verified++
				mu.Unlock()
			} else if !errors.Is(err, auth.ErrThrottled) && !errors.Is(err, auth.ErrPINClosed) {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if verified != auth.PrecinctFreeAttempts {
		t.Fatalf("%d verified at once; want exactly the %d free attempts", verified, auth.PrecinctFreeAttempts)
	}
	if n := f.attempts(t, "p0"); n != auth.PrecinctFreeAttempts {
		t.Fatalf("budget spent %d; want %d", n, auth.PrecinctFreeAttempts)
	}
}

// TestAddressThrottle: past AddressMaxFailures an address (IPv6 by /48) is refused attempts
// at unknown precincts, cheaply, but a right PIN for a real precinct from it still gets in:
// a chair behind the same NAT as an attacker is never locked out for the address's sake.
func TestAddressThrottle(t *testing.T) {
	f := newFixture(t, 2, false)
	attacker := netip.MustParseAddr("2001:db8::1")
	for i := range auth.AddressMaxFailures {
		_, _, err := f.a.LoginPIN(ctx, fmt.Sprint("nowhere", i), f.secrets[0].PIN.Reveal(), attacker)
		if !errors.Is(err, auth.ErrBadCredentials) {
			t.Fatal(err)
		}
	}
	// Same /48: made-up precincts are refused without a hash.
	neighbour := netip.MustParseAddr("2001:db8:0:ffff::1")
	if _, _, err := f.a.LoginPIN(ctx, "nowhere-else", f.secrets[1].PIN.Reveal(), neighbour); !errors.Is(err, auth.ErrThrottled) {
		t.Fatalf("same /48, unknown precinct: %v", err)
	}
	// A real precinct's right PIN and QR token get in from it.
	if _, _, err := f.a.LoginPIN(ctx, "p1", f.secrets[1].PIN.Reveal(), neighbour); err != nil {
		t.Fatalf("right PIN from a throttled address: %v", err)
	}
	if _, _, err := f.a.LoginToken(ctx, "p1", f.secrets[1].Token.Reveal(), neighbour); err != nil {
		t.Fatalf("token from a throttled address: %v", err)
	}
	f.clock.Advance(auth.AddressWindow)
	if n, err := f.a.ExpireAddressCounters(ctx); err != nil || n == 0 {
		t.Fatalf("ExpireAddressCounters = %d, %v", n, err)
	}
	if _, _, err := f.a.LoginPIN(ctx, "nowhere-else", f.secrets[1].PIN.Reveal(), neighbour); !errors.Is(err, auth.ErrBadCredentials) {
		t.Fatalf("next window: %v", err)
	}
}

func TestSessions(t *testing.T) {
	f := newFixture(t, 2, false)
	s, tok, err := f.a.LoginToken(ctx, "p0", f.secrets[0].Token.Reveal(), chairA)
	if err != nil {
		t.Fatal(err)
	}
	if !s.MaySubmit("p0") || s.MaySubmit("p1") {
		t.Fatal("a chair may submit for its own precinct only")
	}
	f.clock.Advance(auth.ChairSessionTTL - time.Nanosecond)
	if _, err := f.a.Authenticate(ctx, tok.Reveal()); err != nil {
		t.Fatalf("just before expiry: %v", err)
	}
	f.clock.Advance(time.Nanosecond)
	if _, err := f.a.Authenticate(ctx, tok.Reveal()); !errors.Is(err, auth.ErrUnauthenticated) {
		t.Fatalf("at expiry: %v", err)
	}

	_, tok, err = f.a.LoginToken(ctx, "p0", f.secrets[0].Token.Reveal(), chairA)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.a.Logout(ctx, tok.Reveal()); err != nil {
		t.Fatal(err)
	}
	if err := f.a.Logout(ctx, tok.Reveal()); err != nil {
		t.Fatalf("second logout: %v", err)
	}
	for name, bearer := range map[string]string{
		"logged out": tok.Reveal(),
		"empty":      "",
		"short":      tok.Reveal()[:42],
		"not base64": strings.Repeat("*", 43),
		"unknown":    strings.Repeat("A", 43),
	} {
		if _, err := f.a.Authenticate(ctx, bearer); !errors.Is(err, auth.ErrUnauthenticated) {
			t.Errorf("%s: err = %v, want ErrUnauthenticated", name, err)
		}
	}
}

func TestLoginStaff(t *testing.T) {
	f := newFixture(t, 0, false)
	pw := auth.NewPassword("correct horse battery staple")
	addStaff(t, f.path, "ann", auth.RoleReviewer, pw, false)
	// An outsider hammers the account all night from many addresses: it slows down, and the
	// owner gets in after at most StaffMaxDelay.
	for i := range 100 {
		_, _, err := f.a.LoginStaff(ctx, "ann", auth.NewPassword("guess-"+fmt.Sprint(i)), "", netip.AddrFrom4([4]byte{10, 2, 0, byte(i)}))
		if !errors.Is(err, auth.ErrBadCredentials) && !errors.Is(err, auth.ErrThrottled) {
			t.Fatal(err)
		}
		f.clock.Advance(time.Minute)
	}
	f.clock.Advance(auth.StaffMaxDelay)
	s, _, err := f.a.LoginStaff(ctx, "ann", pw, "", chairA)
	if err != nil {
		t.Fatalf("owner after the attack: %v", err)
	}
	if s.Role != auth.RoleReviewer || s.Username != "ann" || s.MaySubmit("p0") {
		t.Fatalf("session = %+v", s)
	}
	if _, _, err := f.a.LoginStaff(ctx, "nobody", pw, "", chairA); !errors.Is(err, auth.ErrBadCredentials) {
		t.Fatalf("unknown user: %v", err)
	}
}

// BenchmarkThrottleCheck measures what a guess at a throttled precinct costs the server: the
// answer comes from the counters, without a hash.
func BenchmarkThrottleCheck(b *testing.B) {
	f := newFixture(b, 1, false)
	wrong := wrongPIN(b, f.secrets[0].PIN)
	for range auth.PrecinctFreeAttempts {
		f.a.LoginPIN(ctx, "p0", wrong, chairA)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := f.a.LoginPIN(ctx, "p0", wrong, chairA); !errors.Is(err, auth.ErrThrottled) {
			b.Fatal(err)
		}
	}
}

// TestRepeatedRightPIN: a chair who logs in again and again (two phones, an app retrying a
// login the server never answered) is never made to wait, a right PIN clears the back-off
// of earlier wrong ones, and only the wrong ones count against the budget.
func TestRepeatedRightPIN(t *testing.T) {
	f := newFixture(t, 1, false)
	right := f.secrets[0].PIN.Reveal()
	wrong := wrongPIN(t, f.secrets[0].PIN)
	for i := range 2 * auth.PrecinctFreeAttempts {
		if _, _, err := f.a.LoginPIN(ctx, "p0", right, chairA); err != nil {
			t.Fatalf("login %d with the right PIN: %v", i+1, err)
		}
	}
	for range auth.PrecinctFreeAttempts {
		f.a.LoginPIN(ctx, "p0", wrong, chairA)
	}
	if _, _, err := f.a.LoginPIN(ctx, "p0", right, chairA); !errors.Is(err, auth.ErrThrottled) {
		t.Fatalf("after %d wrong PINs: %v, want throttled", auth.PrecinctFreeAttempts, err)
	}
	f.clock.Advance(auth.PrecinctBaseDelay)
	if _, _, err := f.a.LoginPIN(ctx, "p0", right, chairA); err != nil {
		t.Fatalf("right PIN after the wait: %v", err)
	}
	if _, _, err := f.a.LoginPIN(ctx, "p0", right, chairA); err != nil {
		t.Fatalf("right PIN again at once (back-off cleared): %v", err)
	}
	if n, want := f.attempts(t, "p0"), auth.PrecinctFreeAttempts; n != want {
		t.Errorf("attempts counted = %d; want %d", n, want)
	}
}

// TestSessionCache: with Config.SessionCache, Authenticate reads a session from the store once
// per period; expiry is still checked on every request; a logout through the Authenticator ends
// the session at once, one made elsewhere within the period.
func TestSessionCache(t *testing.T) {
	clock := authtest.NewClock(night)
	secrets, err := auth.GeneratePrecinctSecrets([]string{"p0"})
	if err != nil {
		t.Fatal(err)
	}
	creds, err := auth.HashPrecinctSecrets(ctx, secrets, auth.TokenParams())
	if err != nil {
		t.Fatal(err)
	}
	store := openStore(t, filepath.Join(t.TempDir(), "caucus.db"))
	if err := store.PutPrecinctCredentials(ctx, "system", creds); err != nil {
		t.Fatal(err)
	}
	const period = 2 * time.Second
	log := slog.New(slog.DiscardHandler)
	a, err := auth.New(auth.Config{Store: store, Now: clock.Now, Log: log, SessionCache: period})
	if err != nil {
		t.Fatal(err)
	}
	other, err := auth.New(auth.Config{Store: store, Now: clock.Now, Log: log}) // another process
	if err != nil {
		t.Fatal(err)
	}
	login := func() string {
		t.Helper()
		_, tok, err := a.LoginToken(ctx, "p0", secrets[0].Token.Reveal(), chairA)
		if err != nil {
			t.Fatal(err)
		}
		return tok.Reveal()
	}

	// Ended elsewhere: still good here until the period is over, then refused.
	tok := login()
	if _, err := a.Authenticate(ctx, tok); err != nil {
		t.Fatal(err)
	}
	if err := other.Logout(ctx, tok); err != nil {
		t.Fatal(err)
	}
	if s, err := a.Authenticate(ctx, tok); err != nil || s.PrecinctID != "p0" {
		t.Fatalf("within the period after a logout elsewhere: %+v, %v", s, err)
	}
	clock.Advance(period)
	if _, err := a.Authenticate(ctx, tok); !errors.Is(err, auth.ErrUnauthenticated) {
		t.Fatalf("after the period: %v, want ErrUnauthenticated", err)
	}

	// Ended here: refused at once.
	tok = login()
	if _, err := a.Authenticate(ctx, tok); err != nil {
		t.Fatal(err)
	}
	if err := a.Logout(ctx, tok); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Authenticate(ctx, tok); !errors.Is(err, auth.ErrUnauthenticated) {
		t.Fatalf("after logout here: %v, want ErrUnauthenticated", err)
	}

	// Expiry is checked on every request, cached or not.
	tok = login()
	clock.Advance(auth.ChairSessionTTL - time.Second)
	if _, err := a.Authenticate(ctx, tok); err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Second)
	if _, err := a.Authenticate(ctx, tok); !errors.Is(err, auth.ErrUnauthenticated) {
		t.Fatalf("at expiry, cached: %v, want ErrUnauthenticated", err)
	}
}

// addStaff writes a staff account into the store's file with SQL, as headquarters' account
// commands will: the store itself only reads accounts.
func addStaff(t *testing.T, path, username string, role auth.Role, pw auth.Password, disabled bool) {
	t.Helper()
	h, err := auth.HashSecret(auth.TokenParams(), pw.Reveal())
	if err != nil {
		t.Fatal(err)
	}
	st := openStore(t, path)
	defer st.Close()
	by := auth.Actor{Name: "root", From: "test"}
	if err := st.CreateStaff(t.Context(), by, auth.StaffAccount{Username: username, Role: role, PasswordHash: h}); err != nil {
		t.Fatal(err)
	}
	if disabled {
		if _, err := st.DisableStaff(t.Context(), by, username); err != nil {
			t.Fatal(err)
		}
	}
}
