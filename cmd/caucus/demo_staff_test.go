package main

import (
	"context"
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"caucus/internal/auth"
)

// TestDemoStaff: the demo's staff.csv lists an account of every role, three operators and two
// reviewers, with a TOTP secret exactly for admin and certifier, readable by its owner only;
// every account logs in with what the file says; a resumed demo keeps the file and the
// accounts, and makes again from the file an account the database lacks.
func TestDemoStaff(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "caucus.db")
	credDir := filepath.Join(dir, "credentials")
	csvPath, err := prepareDemoStaff(context.Background(), "sqlite:"+path, credDir)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(csvPath)
	if err != nil || fi.Mode().Perm() != 0o600 || csvPath != filepath.Join(credDir, "staff.csv") {
		t.Fatalf("staff.csv %s: %v, %v", csvPath, fi.Mode(), err)
	}
	first, _ := os.ReadFile(csvPath)
	f, _ := os.Open(csvPath)
	rows, err := csv.NewReader(f).ReadAll()
	f.Close()
	if err != nil || len(rows) != 9 || strings.Join(rows[0], ",") != "user,role,password,totp_secret" {
		t.Fatalf("staff.csv: %v, %v", rows, err)
	}
	roles := map[string]int{}
	for _, r := range rows[1:] {
		roles[r[1]]++
		if len(r[2]) < 16 || (r[3] != "") != auth.Role(r[1]).NeedsOTP() {
			t.Errorf("row %v: short password, or a secret where none belongs (or none where one does)", r)
		}
	}
	if roles["operator"] != 3 || roles["reviewer"] != 2 || roles["admin"] != 1 || roles["certifier"] != 1 || roles["observer"] != 1 {
		t.Errorf("roles = %v", roles)
	}
	st, a := openAuth(t, path)
	for _, r := range rows[1:] {
		code := ""
		if r[3] != "" {
			code, _ = totp.GenerateCodeCustom(r[3], time.Now(), totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
		}
		if s, _, err := a.LoginStaff(context.Background(), r[0], auth.NewPassword(r[2]), code, staffClient); err != nil || string(s.Role) != r[1] {
			t.Errorf("login %s: %+v, %v", r[0], s, err)
		}
	}
	// Resumed, with one account gone missing from the database (as if the first run stopped
	// before storing it): the file is kept byte for byte and the account is back.
	if _, err := st.DisableStaff(context.Background(), auth.Actor{Name: "test", From: "test"}, "observer"); err != nil {
		t.Fatal(err)
	}
	if _, err := prepareDemoStaff(context.Background(), "sqlite:"+filepath.Join(dir, "other.db"), credDir); err != nil {
		t.Fatal(err)
	}
	if _, err := prepareDemoStaff(context.Background(), "sqlite:"+path, credDir); err != nil {
		t.Fatal(err)
	}
	if again, _ := os.ReadFile(csvPath); string(again) != string(first) {
		t.Error("a resumed demo rewrote staff.csv")
	}
	_, other := openAuth(t, filepath.Join(dir, "other.db"))
	if _, _, err := other.LoginStaff(context.Background(), "operator2", auth.NewPassword(rows[5][2]), "", staffClient); err != nil {
		t.Errorf("an account missing from a database is made again from staff.csv: %v", err)
	}
	if _, _, err := a.LoginStaff(context.Background(), "observer", auth.NewPassword(rows[3][2]), "", staffClient); err == nil {
		t.Error("a resumed demo enabled again an account disabled since")
	}
}
