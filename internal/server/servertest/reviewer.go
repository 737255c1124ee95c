package servertest

import (
	"context"
	"net/netip"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"caucus/internal/auth"
)

// StaffLogin creates a staff account (StaffAccount), logs it in through the Authenticator and
// returns the session token, for a Bearer header or the staff cookie. An admin or certifier
// logs in with the current TOTP code of its secret, so each such account logs in once per
// 30-second step (a code is accepted once).
func (env *Env) StaffLogin(user string, role auth.Role) string {
	t := env.t
	t.Helper()
	password, secret := env.staffAccount(user, role)
	code := ""
	if role.NeedsOTP() {
		var err error
		code, err = totp.GenerateCodeCustom(secret.Reveal(), time.Now(), totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
		if err != nil {
			t.Fatal(err)
		}
	}
	_, tok, err := env.Auth.LoginStaff(context.Background(), user, auth.NewPassword(password), code, netip.MustParseAddr("127.0.0.1"))
	if err != nil {
		t.Fatalf("staff login %s: %v", user, err)
	}
	return tok.Reveal()
}

// StaffAccount creates a staff account (user, role) through the store, as caucus staff add
// does, with a known password hashed with CheapParams (fast), and returns the password.
func (env *Env) StaffAccount(user string, role auth.Role) string {
	env.t.Helper()
	password, _ := env.staffAccount(user, role)
	return password
}

// staffAccount is StaffAccount, also returning the account's TOTP secret (zero for roles
// without a second factor).
func (env *Env) staffAccount(user string, role auth.Role) (string, auth.TOTPSecret) {
	t := env.t
	t.Helper()
	var secret auth.TOTPSecret
	if role.NeedsOTP() {
		secret = auth.GenerateTOTPSecret()
	}
	password := auth.NewPassword(user + "-correct-horse-battery")
	h, err := auth.HashSecret(CheapParams, password.Reveal())
	if err != nil {
		t.Fatal(err)
	}
	if err := env.DB.CreateStaff(context.Background(), auth.Actor{Name: "servertest", From: "test"},
		auth.StaffAccount{Username: user, Role: role, PasswordHash: h, TOTPSecret: secret}); err != nil {
		t.Fatal(err)
	}
	return password.Reveal(), secret
}
