package servertest

import (
	"context"
	"database/sql"
	"net/netip"
	"time"

	"caucus/internal/auth"
)

// StaffLogin creates a staff account (StaffAccount), logs it in through the Authenticator and
// returns the session token, for a Bearer header or the staff cookie.
func (env *Env) StaffLogin(user string, role auth.Role) string {
	t := env.t
	t.Helper()
	password := auth.NewPassword(env.StaffAccount(user, role))
	_, tok, err := env.Auth.LoginStaff(context.Background(), user, password, netip.MustParseAddr("127.0.0.1"))
	if err != nil {
		t.Fatalf("staff login %s: %v", user, err)
	}
	return tok.Reveal()
}

// StaffAccount creates a staff account (user, role) as an account command would store it (an
// argon2id hash in the staff table) and returns its password.
func (env *Env) StaffAccount(user string, role auth.Role) string {
	t := env.t
	t.Helper()
	password := auth.NewPassword(user + "-correct-horse-battery")
	h, err := auth.HashSecret(CheapParams, password.Reveal())
	if err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", "file:"+env.Path+"?_pragma=busy_timeout(10000)&_txlock=immediate")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`INSERT INTO staff (username, role, password_hash, disabled, created_at) VALUES (?, ?, ?, 0, ?)`,
		user, string(role), []byte(h.Encoded()), time.Now().UnixMilli()); err != nil {
		t.Fatal(err)
	}
	return password.Reveal()
}
