package main

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/netip"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"caucus/internal/auth"
	"caucus/internal/store"
	"caucus/internal/store/sqlite"
)

var staffClient = netip.MustParseAddr("192.0.2.1")

// openAuth opens the database a command wrote, as a server sharing it would.
func openAuth(t *testing.T, path string) (*sqlite.DB, *auth.Authenticator) {
	t.Helper()
	db, err := sqlite.Open(context.Background(), path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	a, err := auth.New(auth.Config{Store: db, Now: time.Now, Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	return db, a
}

var passwordRE = regexp.MustCompile(`one-time password  (\S+)`)
var secretRE = regexp.MustCompile(`otpauth://totp/caucus:[a-z]+\?\S*secret=([A-Z2-7]+)`)

func TestStaffCommands(t *testing.T) {
	path := filepath.Join(t.TempDir(), "caucus.db")
	db := "sqlite:" + path
	for _, c := range []struct {
		args   []string
		code   int
		stderr string
	}{
		{[]string{"staff"}, 2, "needs a command"},
		{[]string{"staff", "frob"}, 2, `unknown staff command "frob"`},
		{[]string{"staff", "add", "--db", db, "--user", "ann", "--role", "root"}, 2, `unknown role "root"`},
		{[]string{"staff", "add", "--db", db, "--role", "admin"}, 2, "needs --user"},
		{[]string{"staff", "add", "--db", db, "--user", "Ann B", "--role", "admin"}, 2, "lower-case"},
		{[]string{"staff", "list"}, 2, "needs --db"},
		{[]string{"staff", "disable", "--db", db}, 2, "needs --user"},
		{[]string{"staff", "reset-pin", "--db", db}, 2, "needs --precinct"},
	} {
		if code, _, stderr := run(t, "", c.args...); code != c.code || !strings.Contains(stderr, c.stderr) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", c.args, code, stderr, c.code, c.stderr)
		}
	}
	for _, cmd := range []string{"add", "list", "disable", "reset-password", "reset-pin"} {
		if code, out, _ := run(t, "", "staff", cmd, "--help"); code != 0 || !strings.HasPrefix(out, "Usage: caucus staff "+cmd) {
			t.Errorf("staff %s --help: exit %d, %q", cmd, code, out)
		}
	}
	if code, out, _ := run(t, "", "staff", "--help"); code != 0 || !strings.Contains(out, "reset-pin") {
		t.Errorf("staff --help: exit %d, %q", code, out)
	}

	code, out, stderr := run(t, "", "staff", "add", "--db", db, "--user", "ann", "--role", "admin", "--reason", "chair of the party")
	pw, secret := passwordRE.FindStringSubmatch(out), secretRE.FindStringSubmatch(out)
	if code != 0 || pw == nil || secret == nil {
		t.Fatalf("add admin: exit %d\n%s%s", code, out, stderr)
	}
	code, out, _ = run(t, "", "staff", "add", "--db", db, "--user", "otto", "--role", "operator")
	opw := passwordRE.FindStringSubmatch(out)
	if code != 0 || opw == nil || strings.Contains(out, "otpauth") {
		t.Fatalf("add operator: exit %d\n%s", code, out)
	}
	if code, _, stderr := run(t, "", "staff", "add", "--db", db, "--user", "ann", "--role", "observer"); code != 1 || !strings.Contains(stderr, "already an account") {
		t.Errorf("add again: exit %d, %q", code, stderr)
	}
	st, a := openAuth(t, path)
	codeNow, _ := totp.GenerateCodeCustom(secret[1], time.Now(), totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if s, _, err := a.LoginStaff(context.Background(), "ann", auth.NewPassword(pw[1]), codeNow, staffClient); err != nil || s.Role != auth.RoleAdmin {
		t.Errorf("login with the printed password and URI: %+v, %v", s, err)
	}
	_, otok, err := a.LoginStaff(context.Background(), "otto", auth.NewPassword(opw[1]), "", staffClient)
	if err != nil {
		t.Fatal(err)
	}

	code, out, _ = run(t, "", "staff", "list", "--db", db)
	if code != 0 || !regexp.MustCompile(`ann +admin +enabled +TOTP`).MatchString(out) || !regexp.MustCompile(`otto +operator +enabled +-`).MatchString(out) ||
		strings.Contains(out, pw[1]) || strings.Contains(out, secret[1]) {
		t.Errorf("list: exit %d\n%s", code, out)
	}
	if code, _, stderr := run(t, "", "staff", "disable", "--db", db, "--user", "nobody"); code != 1 || !strings.Contains(stderr, `no staff account "nobody"`) {
		t.Errorf("disable unknown: exit %d, %q", code, stderr)
	}
	if code, out, _ := run(t, "", "staff", "disable", "--db", db, "--user", "otto", "--reason", "left"); code != 0 || !strings.Contains(out, "1 session(s) ended") {
		t.Errorf("disable: exit %d, %q", code, out)
	}
	if _, err := a.Authenticate(context.Background(), otok.Reveal()); !errors.Is(err, auth.ErrUnauthenticated) {
		t.Errorf("the disabled operator's session in the other process: %v", err)
	}
	code, out, _ = run(t, "", "staff", "list", "--db", db, "--json")
	var list struct {
		Accounts []struct {
			User     string
			Disabled bool
		}
	}
	if err := json.Unmarshal([]byte(out), &list); code != 0 || err != nil || len(list.Accounts) != 2 || !list.Accounts[1].Disabled || list.Accounts[0].Disabled {
		t.Errorf("list --json: exit %d, %v\n%s", code, err, out)
	}
	code, out, _ = run(t, "", "staff", "reset-password", "--db", db, "--user", "ann")
	npw := passwordRE.FindStringSubmatch(out)
	if code != 0 || npw == nil || npw[1] == pw[1] || secretRE.FindStringSubmatch(out)[1] == secret[1] {
		t.Errorf("reset-password: exit %d\n%s", code, out)
	}
	if _, _, err := a.LoginStaff(context.Background(), "ann", auth.NewPassword(pw[1]), codeNow, staffClient); !errors.Is(err, auth.ErrBadCredentials) {
		t.Errorf("old password after reset: %v", err)
	}

	rows, err := st.Audit(context.Background(), 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var changes []string
	for _, r := range rows {
		if r.Kind == store.AuditStaffAccount {
			var d map[string]any
			json.Unmarshal(r.Detail, &d)
			changes = append(changes, d["change"].(string)+" "+d["username"].(string))
			if !strings.HasPrefix(r.Actor, "cli") || !strings.HasPrefix(d["from"].(string), "command line") {
				t.Errorf("account change by %q from %v", r.Actor, d["from"])
			}
		}
	}
	if got := strings.Join(changes, ", "); got != "created ann, created otto, disabled otto, credentials_reset ann" {
		t.Errorf("account changes audited: %s", got)
	}
}

func TestStaffResetPIN(t *testing.T) {
	path := filepath.Join(t.TempDir(), "caucus.db")
	db := "sqlite:" + path
	st, a := openAuth(t, path)
	secrets, err := auth.GeneratePrecinctSecrets([]string{"p1"})
	if err != nil {
		t.Fatal(err)
	}
	creds, err := auth.HashPrecinctSecrets(context.Background(), secrets, auth.TokenParams())
	if err != nil {
		t.Fatal(err)
	}
	if err := st.PutPrecinctCredentials(context.Background(), "system", creds); err != nil {
		t.Fatal(err)
	}
	if _, err := st.UpdateThrottles(context.Background(), []string{auth.PrecinctKeyPrefix + "p1"}, func([]auth.ThrottleCounter) ([]auth.ThrottleCounter, error) {
		return []auth.ThrottleCounter{{Count: auth.PrecinctBudget, Last: time.Now()}}, nil
	}); err != nil {
		t.Fatal(err)
	}
	pin := secrets[0].PIN.Reveal()
	if _, _, err := a.LoginPIN(context.Background(), "p1", pin, staffClient); !errors.Is(err, auth.ErrPINClosed) {
		t.Fatalf("closed: %v", err)
	}
	if code, out, _ := run(t, "", "staff", "reset-pin", "--db", db, "--precinct", "p1", "--reason", "called back"); code != 0 || !strings.Contains(out, "40 wrong PINs") {
		t.Errorf("reset-pin: exit %d, %q", code, out)
	}
	if _, _, err := a.LoginPIN(context.Background(), "p1", pin, staffClient); err != nil {
		t.Errorf("after reset-pin: %v", err)
	}
	code, out, _ := run(t, "", "staff", "reset-pin", "--db", db, "--precinct", "p1", "--new-pin")
	m := regexp.MustCompile(`new PIN  ([0-9-]+)`).FindStringSubmatch(out)
	if code != 0 || m == nil {
		t.Fatalf("reset-pin --new-pin: exit %d, %q", code, out)
	}
	if _, _, err := a.LoginPIN(context.Background(), "p1", pin, staffClient); !errors.Is(err, auth.ErrBadCredentials) {
		t.Errorf("old PIN: %v", err)
	}
	if _, _, err := a.LoginPIN(context.Background(), "p1", m[1], staffClient); err != nil {
		t.Errorf("new PIN: %v", err)
	}
	if code, _, stderr := run(t, "", "staff", "reset-pin", "--db", db, "--precinct", "nowhere"); code != 1 || !strings.Contains(stderr, "no credentials") {
		t.Errorf("unknown precinct: exit %d, %q", code, stderr)
	}
	rows, _ := st.Audit(context.Background(), 0, 100)
	var resets []string
	for _, r := range rows {
		if r.Kind == store.AuditThrottleReset {
			var d struct {
				Reason string
				NewPIN bool `json:"new_pin"`
			}
			json.Unmarshal(r.Detail, &d)
			resets = append(resets, r.PrecinctID+" "+d.Reason)
			if strings.Contains(string(r.Detail), m[1]) {
				t.Error("the new PIN is in the audit trail")
			}
		}
	}
	if got := strings.Join(resets, ", "); got != "p1 called back, p1 reset from the command line" {
		t.Errorf("resets audited: %s", got)
	}
}
