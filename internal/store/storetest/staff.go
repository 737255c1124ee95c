package storetest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"caucus/internal/auth"
	"caucus/internal/store"
)

// admin is the actor of the account changes the tests make.
var admin = auth.Actor{Name: "root", From: "192.0.2.9"}

// addStaff creates an account through the store, disabled at once when disabled is set.
func (h *authHarness) addStaff(username string, role auth.Role, hash auth.Hash, totp auth.TOTPSecret, disabled bool) {
	h.t.Helper()
	if err := h.s.CreateStaff(h.ctx, admin, auth.StaffAccount{Username: username, Role: role, PasswordHash: hash, TOTPSecret: totp}); err != nil {
		h.t.Fatal(err)
	}
	if disabled {
		if _, err := h.s.DisableStaff(h.ctx, admin, username); err != nil {
			h.t.Fatal(err)
		}
	}
}

// staffSession stores a session of username (role) with id, live at farFromClock.
func (h *authHarness) staffSession(id byte, username string, role auth.Role) auth.Session {
	h.t.Helper()
	s := auth.Session{ID: auth.SessionID{id}, Role: role, Username: username, Created: farFromClock,
		Expires: farFromClock.Add(auth.StaffSessionTTL)}
	if role == auth.RoleChair {
		s.Username, s.PrecinctID = "", username
	}
	if err := h.s.CreateSession(h.ctx, s); err != nil {
		h.t.Fatal(err)
	}
	return s
}

// accountAudit returns the staff_account rows, failing the test if one holds a secret.
func (h *authHarness) accountAudit(secrets ...string) []map[string]any {
	h.t.Helper()
	rows, err := h.s.Audit(h.ctx, 0, 1000)
	if err != nil {
		h.t.Fatal(err)
	}
	var out []map[string]any
	for _, r := range rows {
		if r.Kind != store.AuditStaffAccount {
			continue
		}
		for _, s := range secrets {
			if bytes.Contains(r.Detail, []byte(s)) {
				h.t.Errorf("audit row holds a secret: %s", r.Detail)
			}
		}
		var d map[string]any
		if err := json.Unmarshal(r.Detail, &d); err != nil {
			h.t.Fatal(err)
		}
		d["actor"] = r.Actor
		out = append(out, d)
	}
	return out
}

// testStaffAccounts: the list holds every account, disabled ones marked, in username order,
// and no hash or secret; a username is taken for good; bad accounts are refused whole; each
// creation is one audit row naming who, from where and what, and no secret.
func testStaffAccounts(t *testing.T, h *authHarness) {
	if got, err := h.s.StaffAccounts(h.ctx); err != nil || len(got) != 0 {
		t.Fatalf("StaffAccounts(empty) = %v, %v", got, err)
	}
	pw := h.hash("correct horse battery staple")
	totp := auth.NewTOTPSecret("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")
	h.addStaff("zoe", auth.RoleCertifier, pw, totp, false)
	h.addStaff("ann", auth.RoleOperator, pw, auth.TOTPSecret{}, true)
	h.addStaff("bob", auth.RoleAdmin, pw, totp, false)
	got, err := h.s.StaffAccounts(h.ctx)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, a := range got {
		names = append(names, fmt.Sprintf("%s:%s:%v", a.Username, a.Role, a.Disabled))
		if !a.PasswordHash.IsZero() || !a.TOTPSecret.IsZero() || !a.Created.Equal(h.clock.Now()) {
			t.Errorf("listed account %+v holds a secret or the wrong time", a)
		}
	}
	if want := "[ann:operator:true bob:admin:false zoe:certifier:false]"; fmt.Sprint(names) != want {
		t.Errorf("StaffAccounts = %v, want %s", names, want)
	}
	if a, err := h.s.StaffAccount(h.ctx, "zoe"); err != nil || a.TOTPSecret.Reveal() != totp.Reveal() {
		t.Errorf("StaffAccount(zoe) = %+v, %v; want its TOTP secret", a, err)
	}
	for _, name := range []string{"ann", "bob"} {
		err := h.s.CreateStaff(h.ctx, admin, auth.StaffAccount{Username: name, Role: auth.RoleObserver, PasswordHash: pw})
		if !errors.Is(err, auth.ErrAccountExists) {
			t.Errorf("CreateStaff(%s again) = %v, want ErrAccountExists", name, err)
		}
	}
	for name, a := range map[string]auth.StaffAccount{
		"no username": {Role: auth.RoleObserver, PasswordHash: pw},
		"no hash":     {Username: "cat", Role: auth.RoleObserver},
		"chair":       {Username: "cat", Role: auth.RoleChair, PasswordHash: pw},
		"no role":     {Username: "cat", PasswordHash: pw},
	} {
		if err := h.s.CreateStaff(h.ctx, admin, a); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("CreateStaff(%s) = %v, want ErrInvalid", name, err)
		}
	}
	if _, err := h.s.StaffAccount(h.ctx, "cat"); !errors.Is(err, auth.ErrNotFound) {
		t.Errorf("a refused account was stored: %v", err)
	}
	rows := h.accountAudit(pw.Encoded(), totp.Reveal())
	var changes []string
	for _, r := range rows {
		changes = append(changes, fmt.Sprintf("%s:%s:%s:%s", r["actor"], r["from"], r["change"], r["username"]))
	}
	if want := "[root:192.0.2.9:created:zoe root:192.0.2.9:created:ann root:192.0.2.9:disabled:ann root:192.0.2.9:created:bob]"; fmt.Sprint(changes) != want {
		t.Errorf("staff_account rows = %v, want %s", changes, want)
	}
}

// testDisableStaff: disabling ends every session of the account at once (another handle sees
// them gone), and only its own: a chair whose precinct ID is spelled like the username, and
// other accounts, keep theirs.
func testDisableStaff(t *testing.T, h *authHarness) {
	pw := h.hash("correct horse battery staple")
	h.addStaff("ann", auth.RoleReviewer, pw, auth.TOTPSecret{}, false)
	h.addStaff("bob", auth.RoleReviewer, pw, auth.TOTPSecret{}, false)
	other := h.reopen()
	a1, a2 := h.staffSession(1, "ann", auth.RoleReviewer), h.staffSession(2, "ann", auth.RoleReviewer)
	b := h.staffSession(3, "bob", auth.RoleReviewer)
	chair := h.staffSession(4, "ann", auth.RoleChair)
	n, err := h.s.DisableStaff(h.ctx, admin, "ann")
	if err != nil || n != 2 {
		t.Fatalf("DisableStaff = %d, %v; want 2 sessions ended", n, err)
	}
	for _, s := range []auth.Session{a1, a2} {
		if _, err := other.Session(h.ctx, s.ID); !errors.Is(err, auth.ErrNotFound) {
			t.Errorf("session %x of the disabled account: %v, want ErrNotFound", s.ID[:1], err)
		}
	}
	for _, s := range []auth.Session{b, chair} {
		if _, err := other.Session(h.ctx, s.ID); err != nil {
			t.Errorf("session %x of someone else ended: %v", s.ID[:1], err)
		}
	}
	if _, err := other.StaffAccount(h.ctx, "ann"); !errors.Is(err, auth.ErrNotFound) {
		t.Errorf("StaffAccount(disabled) = %v, want ErrNotFound", err)
	}
	if n, err := h.s.DisableStaff(h.ctx, admin, "ann"); err != nil || n != 0 {
		t.Errorf("DisableStaff again = %d, %v; want 0, nil", n, err)
	}
	if _, err := h.s.DisableStaff(h.ctx, admin, "nobody"); !errors.Is(err, auth.ErrNotFound) {
		t.Errorf("DisableStaff(unknown) = %v, want ErrNotFound", err)
	}
	if _, err := h.s.SetStaffCredentials(h.ctx, admin, "ann", pw, auth.TOTPSecret{}); !errors.Is(err, auth.ErrNotFound) {
		t.Errorf("SetStaffCredentials(disabled) = %v, want ErrNotFound", err)
	}
	rows := h.accountAudit()
	if last := rows[len(rows)-1]; last["change"] != "disabled" || last["sessions_ended"] != 0.0 || last["username"] != "ann" {
		t.Errorf("last audit row = %v", last)
	}
	if first := rows[2]; first["change"] != "disabled" || first["sessions_ended"] != 2.0 {
		t.Errorf("disable audit row = %v, want 2 sessions ended", first)
	}
}

// testSetStaffCredentials: the new hash and secret read back, the account's sessions end,
// and the TOTP step starts again (a new secret's codes are new).
func testSetStaffCredentials(t *testing.T, h *authHarness) {
	pw, pw2 := h.hash("correct horse battery staple"), h.hash("a different long password")
	totp := auth.NewTOTPSecret("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")
	h.addStaff("ann", auth.RoleAdmin, pw, totp, false)
	s := h.staffSession(1, "ann", auth.RoleAdmin)
	if ok, err := h.s.UseTOTPStep(h.ctx, "ann", 1000); err != nil || !ok {
		t.Fatalf("UseTOTPStep = %v, %v", ok, err)
	}
	totp2 := auth.NewTOTPSecret("KRSXG5CTMVRXEZLUKRSXG5CTMVRXEZLU")
	if n, err := h.s.SetStaffCredentials(h.ctx, admin, "ann", pw2, totp2); err != nil || n != 1 {
		t.Fatalf("SetStaffCredentials = %d, %v; want 1 session ended", n, err)
	}
	a, err := h.s.StaffAccount(h.ctx, "ann")
	if err != nil || a.PasswordHash.Encoded() != pw2.Encoded() || a.TOTPSecret.Reveal() != totp2.Reveal() || a.Role != auth.RoleAdmin {
		t.Errorf("account after reset = %+v, %v", a, err)
	}
	if _, err := h.s.Session(h.ctx, s.ID); !errors.Is(err, auth.ErrNotFound) {
		t.Errorf("session after reset: %v, want ErrNotFound", err)
	}
	if ok, err := h.s.UseTOTPStep(h.ctx, "ann", 10); err != nil || !ok {
		t.Errorf("UseTOTPStep after reset = %v, %v; want the steps to start again", ok, err)
	}
	// A new password with the same secret: a code already used stays used.
	if _, err := h.s.SetStaffCredentials(h.ctx, admin, "ann", pw, totp2); err != nil {
		t.Fatal(err)
	}
	if ok, err := h.s.UseTOTPStep(h.ctx, "ann", 10); err != nil || ok {
		t.Errorf("UseTOTPStep(10) after a password change = %v, %v; want false (a replay)", ok, err)
	}
	if _, err := h.s.SetStaffCredentials(h.ctx, admin, "nobody", pw2, totp2); !errors.Is(err, auth.ErrNotFound) {
		t.Errorf("SetStaffCredentials(unknown) = %v, want ErrNotFound", err)
	}
	rows := h.accountAudit(pw.Encoded(), pw2.Encoded(), totp.Reveal(), totp2.Reveal())
	if last := rows[len(rows)-2]; last["change"] != "credentials_reset" || last["sessions_ended"] != 1.0 || last["second_factor"] != true {
		t.Errorf("reset audit row = %v", last)
	}
}

// testUseTOTPStep: a step is good once, and no earlier step after a later one.
func testUseTOTPStep(t *testing.T, h *authHarness) {
	h.addStaff("ann", auth.RoleCertifier, h.hash("correct horse battery staple"), auth.NewTOTPSecret("JBSWY3DPEHPK3PXP"), false)
	h.addStaff("bob", auth.RoleCertifier, h.hash("correct horse battery staple"), auth.NewTOTPSecret("JBSWY3DPEHPK3PXP"), true)
	for _, c := range []struct {
		step int64
		want bool
	}{{5, true}, {5, false}, {4, false}, {6, true}, {8, true}, {7, false}} {
		if ok, err := h.s.UseTOTPStep(h.ctx, "ann", c.step); err != nil || ok != c.want {
			t.Errorf("UseTOTPStep(%d) = %v, %v; want %v", c.step, ok, err, c.want)
		}
	}
	for _, name := range []string{"nobody", "bob"} {
		if _, err := h.s.UseTOTPStep(h.ctx, name, 9); !errors.Is(err, auth.ErrNotFound) {
			t.Errorf("UseTOTPStep(%s) = %v, want ErrNotFound", name, err)
		}
	}
}

// testUseTOTPStepAcrossHandles: of many uses of one code at once, through two handles as two
// server processes would, exactly one is accepted.
func testUseTOTPStepAcrossHandles(t *testing.T, h *authHarness) {
	h.addStaff("ann", auth.RoleAdmin, h.hash("correct horse battery staple"), auth.NewTOTPSecret("JBSWY3DPEHPK3PXP"), false)
	handles := []AuthStore{h.s, h.reopen()}
	var wins atomic.Int64
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Go(func() {
			ok, err := handles[i%2].UseTOTPStep(h.ctx, "ann", 77)
			if err != nil {
				t.Error(err)
			}
			if ok {
				wins.Add(1)
			}
		})
	}
	wg.Wait()
	if wins.Load() != 1 {
		t.Errorf("%d uses of one step accepted, want 1", wins.Load())
	}
}

// testTouchSession: LastSeen starts at Created, moves only forward, on the caller's clock.
func testTouchSession(t *testing.T, h *authHarness) {
	s := h.staffSession(1, "ann", auth.RoleObserver)
	got, err := h.s.Session(h.ctx, s.ID)
	if err != nil || !got.LastSeen.Equal(s.Created) {
		t.Fatalf("LastSeen after create = %v, %v; want Created %v", got.LastSeen, err, s.Created)
	}
	later := farFromClock.Add(7 * time.Minute)
	if err := h.s.TouchSession(h.ctx, s.ID, later); err != nil {
		t.Fatal(err)
	}
	if err := h.s.TouchSession(h.ctx, s.ID, later.Add(-time.Minute)); err != nil {
		t.Fatal(err)
	}
	if got, err := h.s.Session(h.ctx, s.ID); err != nil || !got.LastSeen.Equal(later) || !got.Expires.Equal(s.Expires) {
		t.Errorf("after touches: LastSeen %v, Expires %v, %v; want %v and the expiry unchanged", got.LastSeen, got.Expires, err, later)
	}
	if err := h.s.TouchSession(h.ctx, auth.SessionID{99}, later); !errors.Is(err, auth.ErrNotFound) {
		t.Errorf("TouchSession(missing) = %v, want ErrNotFound", err)
	}
}
