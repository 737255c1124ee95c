package auth_test

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"caucus/internal/auth"
	"caucus/internal/auth/authtest"
)

var root = auth.Actor{Name: "root", From: "test"}

// code is the TOTP code of secret at t, as an authenticator app shows it.
func code(t *testing.T, secret auth.TOTPSecret, at time.Time) string {
	t.Helper()
	c, err := totp.GenerateCodeCustom(secret.Reveal(), at, totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// create makes an account through the Authenticator and checks that no secret it hands out
// reaches the log.
func (f *fixture) create(t *testing.T, user string, role auth.Role) auth.NewStaff {
	t.Helper()
	n, err := f.a.CreateStaff(ctx, root, user, role)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if logs := f.logs.String(); strings.Contains(logs, n.Password.Reveal()) || (!n.TOTP.IsZero() && strings.Contains(logs, n.TOTP.Reveal())) {
			t.Errorf("a secret of %s is in the log", user)
		}
	})
	return n
}

func TestPasswordRules(t *testing.T) {
	for pw, ok := range map[string]bool{
		"":                       false,
		"elevenchars":            false,
		"twelve chars":           true,
		"ééééééééééé":            false, // 11 characters, 22 bytes: characters count
		"éééééééééééé":           true,
		strings.Repeat("x", 256): true,
		strings.Repeat("x", 257): false,
	} {
		if err := auth.CheckPassword(auth.NewPassword(pw)); (err == nil) != ok {
			t.Errorf("CheckPassword(%d chars) = %v, want ok %v", len([]rune(pw)), err, ok)
		}
	}
	seen := map[string]bool{}
	for range 100 {
		p := auth.GeneratePassword().Reveal()
		if len(strings.ReplaceAll(p, "-", "")) < 16 || auth.CheckPassword(auth.NewPassword(p)) != nil || seen[p] {
			t.Fatalf("generated password %q: too short, refused or repeated", p)
		}
		seen[p] = true
	}
}

func TestCreateStaff(t *testing.T) {
	f := newFixture(t, 0, false)
	for _, role := range auth.StaffRoles {
		n := f.create(t, "u-"+string(role), role)
		if n.Role != role || n.Password.IsZero() || n.TOTP.IsZero() != !role.NeedsOTP() {
			t.Errorf("%s: %+v", role, n)
		}
		uri := n.OTPURI()
		if role.NeedsOTP() != strings.HasPrefix(uri, "otpauth://totp/caucus:u-"+string(role)+"?") ||
			(role.NeedsOTP() && !strings.Contains(uri, "secret="+n.TOTP.Reveal())) {
			t.Errorf("%s: otpauth URI %q", role, uri)
		}
	}
	for name, c := range map[string]struct {
		user string
		role auth.Role
		want string
	}{
		"unknown role": {"zed", "root", auth.CodeInvalidArgument},
		"chair":        {"zed", auth.RoleChair, auth.CodeInvalidArgument},
		"upper case":   {"Zed", auth.RoleObserver, auth.CodeInvalidArgument},
		"space":        {"z ed", auth.RoleObserver, auth.CodeInvalidArgument},
		"empty":        {"", auth.RoleObserver, auth.CodeInvalidArgument},
	} {
		var ae *auth.Error
		if _, err := f.a.CreateStaff(ctx, root, c.user, c.role); !errors.As(err, &ae) || ae.Code != c.want {
			t.Errorf("%s: %v, want code %s", name, err, c.want)
		}
	}
	if _, err := f.a.CreateStaff(ctx, root, "u-admin", auth.RoleObserver); !errors.Is(err, auth.ErrAccountExists) {
		t.Errorf("same name again: %v, want ErrAccountExists", err)
	}
	l, err := f.a.StaffAccounts(ctx)
	if err != nil || len(l) != len(auth.StaffRoles) {
		t.Fatalf("StaffAccounts = %v, %v", l, err)
	}
}

// TestStaffTOTP: admin and certifier need the code of their authenticator app at login; each
// code is good once; the password alone, or a wrong code, is the same refusal as a wrong
// password and counts toward the back-off.
func TestStaffTOTP(t *testing.T) {
	f := newFixture(t, 0, false)
	adm := f.create(t, "ann", auth.RoleAdmin)
	login := func(otp string) error {
		_, _, err := f.a.LoginStaff(ctx, "ann", adm.Password, otp, chairA)
		return err
	}
	for name, otp := range map[string]string{"no code": "", "wrong code": wrongCode(t, adm.TOTP, f.clock.Now()), "letters": "abcdef"} {
		if err := login(otp); !errors.Is(err, auth.ErrBadCredentials) {
			t.Errorf("%s: %v, want ErrBadCredentials", name, err)
		}
	}
	good := code(t, adm.TOTP, f.clock.Now())
	if err := login(good); err != nil {
		t.Fatalf("right code: %v", err)
	}
	if err := login(good); !errors.Is(err, auth.ErrBadCredentials) {
		t.Errorf("the same code again: %v, want ErrBadCredentials (a replay)", err)
	}
	// A phone a step behind: the code of the step before is accepted, but not once a later
	// step has been used.
	if err := login(code(t, adm.TOTP, f.clock.Now().Add(-30*time.Second))); !errors.Is(err, auth.ErrBadCredentials) {
		t.Errorf("an earlier step after a later one: %v, want ErrBadCredentials", err)
	}
	f.clock.Advance(30 * time.Second)
	if err := login(" " + code(t, adm.TOTP, f.clock.Now()) + " "); err != nil {
		t.Errorf("next step's code (with spaces): %v", err)
	}
	// Certification asks for a code again: the one just used is refused, the next accepted.
	f.clock.Advance(30 * time.Second)
	now := code(t, adm.TOTP, f.clock.Now())
	if err := f.a.CheckStaffOTP(ctx, "ann", now, chairA); err != nil {
		t.Errorf("CheckStaffOTP(fresh) = %v", err)
	}
	if err := f.a.CheckStaffOTP(ctx, "ann", now, chairA); !errors.Is(err, auth.ErrBadOTP) {
		t.Errorf("CheckStaffOTP(replay) = %v, want ErrBadOTP", err)
	}
	// The replay was the first wrong code: StaffFreeAttempts-1 more are checked, the next waits.
	var throttledAt int
	for i := 1; i <= 10 && throttledAt == 0; i++ {
		if err := f.a.CheckStaffOTP(ctx, "ann", "000000", chairA); errors.Is(err, auth.ErrThrottled) {
			throttledAt = i
		}
	}
	if throttledAt != auth.StaffFreeAttempts {
		t.Errorf("wrong codes throttled at attempt %d, want %d", throttledAt, auth.StaffFreeAttempts)
	}
	op := f.create(t, "bob", auth.RoleOperator)
	if _, _, err := f.a.LoginStaff(ctx, "bob", op.Password, "", chairA); err != nil {
		t.Errorf("operator without a code: %v", err)
	}
	var ae *auth.Error
	if err := f.a.CheckStaffOTP(ctx, "bob", "123456", chairA); !errors.As(err, &ae) || ae.Code != auth.CodeInvalidArgument {
		t.Errorf("CheckStaffOTP(operator) = %v, want invalid argument", err)
	}
}

// wrongCode is a 6-digit code that is none of the three steps around at.
func wrongCode(t *testing.T, s auth.TOTPSecret, at time.Time) string {
	bad := map[string]bool{}
	for _, d := range []time.Duration{-30 * time.Second, 0, 30 * time.Second} {
		bad[code(t, s, at.Add(d))] = true
	}
	for _, c := range []string{"000000", "111111", "222222", "333333"} {
		if !bad[c] {
			return c
		}
	}
	t.Fatal("no wrong code")
	return ""
}

// countingStore counts TouchSession calls.
type countingStore struct {
	auth.Store
	touches atomic.Int64
}

func (c *countingStore) TouchSession(ctx context.Context, id auth.SessionID, at time.Time) error {
	c.touches.Add(1)
	return c.Store.TouchSession(ctx, id, at)
}

// TestStaffSessionIdle: a staff session ends after 30 minutes without use and at 12 hours
// whatever its use; use is written at most once a minute; a chair's session has no idle limit.
func TestStaffSessionIdle(t *testing.T) {
	f := newFixture(t, 1, false)
	cs := &countingStore{Store: f.st}
	a, err := auth.New(auth.Config{Store: cs, Now: f.clock.Now, Log: slog.New(slog.NewTextHandler(f.logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	op := f.create(t, "ann", auth.RoleOperator)
	_, tok, err := a.LoginStaff(ctx, "ann", op.Password, "", chairA)
	if err != nil {
		t.Fatal(err)
	}
	_, chair, err := a.LoginToken(ctx, "p0", f.secrets[0].Token.Reveal(), chairA)
	if err != nil {
		t.Fatal(err)
	}
	use := func() error { _, err := a.Authenticate(ctx, tok.Reveal()); return err }
	for range 100 { // many requests within a minute: no write
		if err := use(); err != nil {
			t.Fatal(err)
		}
		f.clock.Advance(500 * time.Millisecond)
	}
	if n := cs.touches.Load(); n != 0 {
		t.Errorf("%d last-seen writes within the first minute, want 0", n)
	}
	f.clock.Advance(29 * time.Minute) // 29 min 50 s since the login, the last write
	if err := use(); err != nil {
		t.Fatalf("used within the idle limit: %v", err)
	}
	if n := cs.touches.Load(); n != 1 {
		t.Errorf("%d last-seen writes, want 1", n)
	}
	// Used every 25 minutes, it lives until its absolute end, 12 h after the login.
	login := f.clock.Now().Add(-29*time.Minute - 50*time.Second)
	for f.clock.Now().Add(25 * time.Minute).Before(login.Add(auth.StaffSessionTTL)) {
		f.clock.Advance(25 * time.Minute)
		if err := use(); err != nil {
			t.Fatalf("used every 25 min, at %v after login: %v", f.clock.Now().Sub(login), err)
		}
	}
	f.clock.Set(login.Add(auth.StaffSessionTTL))
	if err := use(); !errors.Is(err, auth.ErrUnauthenticated) {
		t.Errorf("at 12 h: %v, want ErrUnauthenticated", err)
	}
	// A fresh session left alone 30 minutes is over, and stays over.
	_, tok, err = a.LoginStaff(ctx, "ann", op.Password, "", chairA)
	if err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(auth.StaffIdleTimeout - time.Millisecond)
	if err := use(); err != nil {
		t.Fatalf("just inside the idle limit: %v", err)
	}
	f.clock.Advance(auth.StaffIdleTimeout)
	if err := use(); !errors.Is(err, auth.ErrUnauthenticated) {
		t.Errorf("idle 30 min: %v, want ErrUnauthenticated", err)
	}
	f.clock.Advance(-auth.StaffIdleTimeout) // even if the clock stepped back, it was deleted
	if err := use(); !errors.Is(err, auth.ErrUnauthenticated) {
		t.Errorf("an idle session came back: %v", err)
	}
	// The chair, unused since the login hours ago, is still in.
	f.clock.Set(login.Add(auth.ChairSessionTTL - time.Minute))
	if _, err := a.Authenticate(ctx, chair.Reveal()); err != nil {
		t.Errorf("chair unused for hours: %v, want still in", err)
	}
}

// TestDisableEndsSessions: disabling an account (here by another process, as `caucus staff
// disable` while `caucus serve` runs) ends its sessions at once in a server whose session
// cache is long, while chairs' sessions are still served from it.
func TestDisableEndsSessions(t *testing.T) {
	path := filepath.Join(t.TempDir(), "caucus.db")
	st := openStore(t, path)
	issue(t, st, "system", "p1")
	clock := authtest.NewClock(night)
	serve, err := auth.New(auth.Config{Store: st, Now: clock.Now, Log: testLog(t), SessionCache: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	other := newAuth(t, openStore(t, path), clock) // the command line's process
	n, err := other.CreateStaff(ctx, root, "ann", auth.RoleReviewer)
	if err != nil {
		t.Fatal(err)
	}
	_, tok1, err := serve.LoginStaff(ctx, "ann", n.Password, "", client(1))
	if err != nil {
		t.Fatal(err)
	}
	_, tok2, err := serve.LoginStaff(ctx, "ann", n.Password, "", client(1))
	if err != nil {
		t.Fatal(err)
	}
	if tok1.Reveal() == tok2.Reveal() {
		t.Fatal("two logins gave the same token")
	}
	for _, tok := range []auth.SessionToken{tok1, tok2} {
		if _, err := serve.Authenticate(ctx, tok.Reveal()); err != nil {
			t.Fatal(err)
		}
	}
	if ended, err := other.DisableStaff(ctx, root, "ann"); err != nil || ended != 2 {
		t.Fatalf("DisableStaff = %d, %v; want 2", ended, err)
	}
	for _, tok := range []auth.SessionToken{tok1, tok2} {
		if _, err := serve.Authenticate(ctx, tok.Reveal()); !errors.Is(err, auth.ErrUnauthenticated) {
			t.Errorf("a session of the disabled account: %v, want ErrUnauthenticated at once", err)
		}
	}
	if _, _, err := serve.LoginStaff(ctx, "ann", n.Password, "", client(1)); !errors.Is(err, auth.ErrBadCredentials) {
		t.Errorf("login of the disabled account: %v", err)
	}
	// A reset password ends the sessions of the account too, and the old password is dead.
	m, err := other.CreateStaff(ctx, root, "bob", auth.RoleObserver)
	if err != nil {
		t.Fatal(err)
	}
	_, tok3, err := serve.LoginStaff(ctx, "bob", m.Password, "", client(1))
	if err != nil {
		t.Fatal(err)
	}
	m2, err := other.ResetStaff(ctx, root, "bob")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := serve.Authenticate(ctx, tok3.Reveal()); !errors.Is(err, auth.ErrUnauthenticated) {
		t.Errorf("session after a reset: %v, want ErrUnauthenticated", err)
	}
	if _, _, err := serve.LoginStaff(ctx, "bob", m.Password, "", client(1)); !errors.Is(err, auth.ErrBadCredentials) {
		t.Errorf("old password after a reset: %v", err)
	}
	if _, _, err := serve.LoginStaff(ctx, "bob", m2.Password, "", client(1)); err != nil {
		t.Errorf("new password after a reset: %v", err)
	}
}

// TestChangeStaffPassword: the current password is checked, the new one must be long enough,
// and afterwards only the new one works and the old sessions are over.
func TestChangeStaffPassword(t *testing.T) {
	f := newFixture(t, 0, false)
	n := f.create(t, "ann", auth.RoleCertifier)
	_, tok, err := f.a.LoginStaff(ctx, "ann", n.Password, code(t, n.TOTP, f.clock.Now()), chairA)
	if err != nil {
		t.Fatal(err)
	}
	mine := auth.NewPassword("my own long passphrase")
	f.clock.Advance(30 * time.Second)
	if err := f.a.ChangeStaffPassword(ctx, root, "ann", n.Password, auth.NewPassword("too short"), code(t, n.TOTP, f.clock.Now()), chairA); err == nil {
		t.Error("a short password was accepted")
	}
	if err := f.a.ChangeStaffPassword(ctx, root, "ann", auth.NewPassword("not the password"), mine, code(t, n.TOTP, f.clock.Now()), chairA); !errors.Is(err, auth.ErrBadCredentials) {
		t.Errorf("wrong current password: %v", err)
	}
	if err := f.a.ChangeStaffPassword(ctx, root, "ann", n.Password, mine, code(t, n.TOTP, f.clock.Now()), chairA); err != nil {
		t.Fatal(err)
	}
	if _, err := f.a.Authenticate(ctx, tok.Reveal()); !errors.Is(err, auth.ErrUnauthenticated) {
		t.Errorf("session after the change: %v", err)
	}
	f.clock.Advance(30 * time.Second)
	if _, _, err := f.a.LoginStaff(ctx, "ann", mine, code(t, n.TOTP, f.clock.Now()), chairA); err != nil {
		t.Errorf("login with the new password and the same second factor: %v", err)
	}
}

// TestReopenPIN: a precinct whose PIN login closed after the budget's wrong PINs opens again
// after a reopening; a new PIN replaces the old one and keeps the QR token.
func TestReopenPIN(t *testing.T) {
	f := newFixture(t, 2, false)
	p0 := f.secrets[0]
	wrong := wrongPIN(t, p0.PIN)
	for range auth.PrecinctBudget {
		_, _, err := f.a.LoginPIN(ctx, "p0", wrong, chairA)
		if !errors.Is(err, auth.ErrBadCredentials) && !errors.Is(err, auth.ErrThrottled) {
			t.Fatal(err)
		}
		f.clock.Advance(auth.PrecinctMaxDelay)
	}
	if _, _, err := f.a.LoginPIN(ctx, "p0", p0.PIN.Reveal(), chairA); !errors.Is(err, auth.ErrPINClosed) {
		t.Fatalf("after the budget: %v, want ErrPINClosed", err)
	}
	if n, err := f.a.ReopenPIN(ctx, "p0"); err != nil || n != auth.PrecinctBudget {
		t.Fatalf("ReopenPIN = %d, %v; want %d", n, err, auth.PrecinctBudget)
	}
	if _, _, err := f.a.LoginPIN(ctx, "p0", p0.PIN.Reveal(), chairA); err != nil {
		t.Fatalf("after reopening: %v", err)
	}
	if _, err := f.a.ReopenPIN(ctx, "nowhere"); !errors.Is(err, auth.ErrNotFound) {
		t.Errorf("ReopenPIN(unknown) = %v, want ErrNotFound", err)
	}
	pin, _, err := f.a.NewPIN(ctx, "ann", "p1")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.a.LoginPIN(ctx, "p1", f.secrets[1].PIN.Reveal(), chairA); !errors.Is(err, auth.ErrBadCredentials) {
		t.Errorf("old PIN after a new one: %v, want ErrBadCredentials", err)
	}
	if _, _, err := f.a.LoginPIN(ctx, "p1", pin.Grouped(), chairA); err != nil {
		t.Errorf("new PIN: %v", err)
	}
	if _, _, err := f.a.LoginToken(ctx, "p1", f.secrets[1].Token.Reveal(), chairA); err != nil {
		t.Errorf("QR token after a new PIN: %v", err)
	}
}

// BenchmarkAuthenticateStaff measures what a staff request's session check costs: staff
// sessions are not cached, so each reads the session and the account (and, once a minute,
// writes the last-seen time).
func BenchmarkAuthenticateStaff(b *testing.B) {
	f := newFixture(b, 0, false)
	n, err := f.a.CreateStaff(ctx, root, "ann", auth.RoleReviewer)
	if err != nil {
		b.Fatal(err)
	}
	_, tok, err := f.a.LoginStaff(ctx, "ann", n.Password, "", chairA)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := f.a.Authenticate(ctx, tok.Reveal()); err != nil {
			b.Fatal(err)
		}
	}
}
