package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"caucus/internal/auth"
)

// demoAccounts are the demo's staff accounts: every role, three operators and two reviewers, so
// that double entry of hotline reports (and a third keying settling a mismatch) and separation
// of duties can be tried.
var demoAccounts = []struct {
	user string
	role auth.Role
}{
	{"admin", auth.RoleAdmin}, {"certifier", auth.RoleCertifier}, {"observer", auth.RoleObserver},
	{"operator1", auth.RoleOperator}, {"operator2", auth.RoleOperator}, {"operator3", auth.RoleOperator},
	{"reviewer1", auth.RoleReviewer}, {"reviewer2", auth.RoleReviewer},
}

// staffCSVHeader is staff.csv's header (interfaces.md, caucus demo).
var staffCSVHeader = []string{"user", "role", "password", "totp_secret"}

// demoStaff makes sure the demo's staff accounts exist and credDir/staff.csv lists them
// (user,role,password,totp_secret; the secret empty for roles without a second factor; mode
// 0600), and returns the file's path. The first run generates them and writes the file before
// storing anything, so that no stored account has a password nobody has; a resumed run keeps
// the file and the accounts, and makes again from the file any account missing from the
// database (a first run cut short between the two). An account disabled since is left so.
func demoStaff(ctx context.Context, st auth.Store, credDir string) (string, error) {
	path := filepath.Join(credDir, "staff.csv")
	rows, err := readStaffCSV(path)
	if errors.Is(err, os.ErrNotExist) {
		if rows, err = writeStaffCSV(path); err != nil {
			return "", fmt.Errorf("demo staff: %w", err)
		}
	} else if err != nil {
		return "", fmt.Errorf("demo staff: %w", err)
	}
	by := auth.Actor{Name: "demo", From: "caucus demo", Reason: "the demo's staff accounts"}
	for _, r := range rows {
		if _, err := st.StaffAccount(ctx, r[0]); err == nil {
			continue
		} else if !errors.Is(err, auth.ErrNotFound) {
			return "", fmt.Errorf("demo staff: %w", err)
		}
		h, err := auth.HashSecret(auth.DefaultParams(), r[2])
		if err != nil {
			return "", fmt.Errorf("demo staff: %w", err)
		}
		err = st.CreateStaff(ctx, by, auth.StaffAccount{Username: r[0], Role: auth.Role(r[1]), PasswordHash: h, TOTPSecret: auth.NewTOTPSecret(r[3])})
		if err != nil && !errors.Is(err, auth.ErrAccountExists) {
			return "", fmt.Errorf("demo staff: %w", err)
		}
	}
	return path, nil
}

// writeStaffCSV generates the demo accounts' credentials and writes them to path.
func writeStaffCSV(path string) ([][]string, error) {
	rows := make([][]string, 0, len(demoAccounts))
	for _, d := range demoAccounts {
		secret := ""
		if d.role.NeedsOTP() {
			secret = auth.GenerateTOTPSecret().Reveal()
		}
		rows = append(rows, []string{d.user, string(d.role), auth.GeneratePassword().Reveal(), secret})
	}
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	w.Write(staffCSVHeader)
	w.WriteAll(rows)
	if err := w.Error(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	if err := writeFileAtomic(path, b.Bytes(), 0o600); err != nil {
		return nil, err
	}
	return rows, nil
}

// readStaffCSV reads staff.csv's accounts, checking its header and roles.
func readStaffCSV(path string) ([][]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	all, err := csv.NewReader(f).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(all) == 0 || fmt.Sprint(all[0]) != fmt.Sprint(staffCSVHeader) {
		return nil, fmt.Errorf("%s: the header is not %v", path, staffCSVHeader)
	}
	for i, r := range all[1:] {
		if len(r) != len(staffCSVHeader) || !auth.Role(r[1]).Staff() || r[2] == "" || (r[3] == "") == auth.Role(r[1]).NeedsOTP() {
			return nil, fmt.Errorf("%s: line %d is not an account with its credentials", path, i+2)
		}
	}
	return all[1:], nil
}
