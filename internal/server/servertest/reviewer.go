package servertest

import (
	"context"
	"net/netip"

	"caucus/internal/auth"
)

// StaffLogin creates a staff account (StaffAccount), logs it in through the Authenticator and
// returns the session token, for a Bearer header or the staff cookie. Roles without a second
// factor only: an admin or certifier logs in with a TOTP code as well (see the staff tests).
func (env *Env) StaffLogin(user string, role auth.Role) string {
	t := env.t
	t.Helper()
	if role.NeedsOTP() {
		t.Fatalf("StaffLogin(%s): a %s logs in with a TOTP code too", user, role)
	}
	password := auth.NewPassword(env.StaffAccount(user, role))
	_, tok, err := env.Auth.LoginStaff(context.Background(), user, password, "", netip.MustParseAddr("127.0.0.1"))
	if err != nil {
		t.Fatalf("staff login %s: %v", user, err)
	}
	return tok.Reveal()
}

// StaffAccount creates a staff account (user, role) through the store, as caucus staff add
// does, with a known password hashed with CheapParams (fast), and returns the password.
func (env *Env) StaffAccount(user string, role auth.Role) string {
	t := env.t
	t.Helper()
	password := auth.NewPassword(user + "-correct-horse-battery")
	h, err := auth.HashSecret(CheapParams, password.Reveal())
	if err != nil {
		t.Fatal(err)
	}
	if err := env.DB.CreateStaff(context.Background(), auth.Actor{Name: "servertest", From: "test"},
		auth.StaffAccount{Username: user, Role: role, PasswordHash: h}); err != nil {
		t.Fatal(err)
	}
	return password.Reveal()
}
