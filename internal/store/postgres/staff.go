package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"caucus/internal/auth"
	"caucus/internal/store"
)

const (
	insertStaff = `INSERT INTO staff (username, role, password_hash, disabled, created_at, totp_secret, totp_step)
	VALUES ($1, $2, $3, false, $4, $5, 0) ON CONFLICT (username) DO NOTHING`
	selectStaffList = `SELECT username, role, disabled, created_at FROM staff ORDER BY username COLLATE "C"`
	// The account's row is locked, so that a concurrent change waits for this one.
	selectStaffRole = `SELECT role, disabled FROM staff WHERE username = $1 FOR UPDATE`
	disableStaff    = `UPDATE staff SET disabled = true WHERE username = $1`
	// In an UPDATE's SET, totp_secret is the row's value before the update.
	setStaffCreds = `UPDATE staff SET password_hash = $1, totp_secret = $2,
		totp_step = CASE WHEN totp_secret = $2 THEN totp_step ELSE 0 END WHERE username = $3 AND NOT disabled`
	// One conditional UPDATE: a second use of the same step waits for the first's row lock,
	// then finds the condition false on the row the first wrote.
	useTOTPStep       = `UPDATE staff SET totp_step = $1 WHERE username = $2 AND NOT disabled AND totp_step < $1`
	selectStaffExists = `SELECT 1 FROM staff WHERE username = $1 AND NOT disabled`
	// A staff session's subject is its username; a chair's is a precinct ID, which may be
	// spelled like a username, hence the role.
	deleteStaffSessions = `DELETE FROM sessions WHERE subject = $1 AND role <> 'chair'`
)

// StaffAccounts implements auth.Store.
func (d *DB) StaffAccounts(ctx context.Context) ([]auth.StaffAccount, error) {
	if err := d.checkOpen("list staff accounts"); err != nil {
		return nil, err
	}
	rows, err := d.pool.Query(ctx, selectStaffList)
	if err != nil {
		return nil, d.wrap("list staff accounts", err)
	}
	defer rows.Close()
	var out []auth.StaffAccount
	for rows.Next() {
		var a auth.StaffAccount
		var role string
		var created int64
		if err := rows.Scan(&a.Username, &role, &a.Disabled, &created); err != nil {
			return nil, d.wrap("list staff accounts", err)
		}
		a.Role, a.Created = auth.Role(role), fromMS(created)
		if !a.Role.Staff() {
			return nil, fmt.Errorf("staff account %q: stored role %q is not a staff role", a.Username, role)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, d.wrap("list staff accounts", err)
	}
	return out, nil
}

// CreateStaff implements auth.Store.
func (d *DB) CreateStaff(ctx context.Context, by auth.Actor, a auth.StaffAccount) error {
	if a.Username == "" || a.PasswordHash.IsZero() || !a.Role.Staff() || by.Name == "" {
		return fmt.Errorf("create staff account: %w: username %q, role %q", store.ErrInvalid, a.Username, a.Role)
	}
	now := ms(d.now())
	return d.write(ctx, "create staff account", func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, insertStaff, a.Username, string(a.Role), []byte(a.PasswordHash.Encoded()),
			now, a.TOTPSecret.Reveal())
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("staff account %q: %w", a.Username, auth.ErrAccountExists)
		}
		return d.staffAudit(ctx, tx, now, by, a.Username, "created", map[string]any{
			"role": string(a.Role), "second_factor": !a.TOTPSecret.IsZero()})
	})
}

// DisableStaff implements auth.Store.
func (d *DB) DisableStaff(ctx context.Context, by auth.Actor, username string) (int, error) {
	if by.Name == "" {
		return 0, fmt.Errorf("disable staff account: %w: no actor", store.ErrInvalid)
	}
	now := ms(d.now())
	var ended int64
	err := d.write(ctx, "disable staff account", func(tx pgx.Tx) error {
		var role string
		var disabled bool
		err := tx.QueryRow(ctx, selectStaffRole, username).Scan(&role, &disabled)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("staff account %q: %w", username, auth.ErrNotFound)
		} else if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, disableStaff, username); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, deleteStaffSessions, username)
		if err != nil {
			return err
		}
		ended = tag.RowsAffected()
		return d.staffAudit(ctx, tx, now, by, username, "disabled", map[string]any{
			"role": role, "was_disabled": disabled, "sessions_ended": ended})
	})
	return int(ended), err
}

// SetStaffCredentials implements auth.Store.
func (d *DB) SetStaffCredentials(ctx context.Context, by auth.Actor, username string, hash auth.Hash, totp auth.TOTPSecret) (int, error) {
	if by.Name == "" || hash.IsZero() {
		return 0, fmt.Errorf("set staff credentials: %w: no actor or hash", store.ErrInvalid)
	}
	now := ms(d.now())
	var ended int64
	err := d.write(ctx, "set staff credentials", func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, setStaffCreds, []byte(hash.Encoded()), totp.Reveal(), username)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("staff account %q: %w", username, auth.ErrNotFound)
		}
		if tag, err = tx.Exec(ctx, deleteStaffSessions, username); err != nil {
			return err
		}
		ended = tag.RowsAffected()
		return d.staffAudit(ctx, tx, now, by, username, "credentials_reset", map[string]any{
			"second_factor": !totp.IsZero(), "sessions_ended": ended})
	})
	return int(ended), err
}

// UseTOTPStep implements auth.Store: one conditional UPDATE; when it changes nothing, a read
// tells a replay from a missing account.
func (d *DB) UseTOTPStep(ctx context.Context, username string, step int64) (bool, error) {
	var used bool
	err := d.write(ctx, "use TOTP step", func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, useTOTPStep, step, username)
		if err != nil {
			return err
		}
		if used = tag.RowsAffected() == 1; used {
			return nil
		}
		var one int
		err = tx.QueryRow(ctx, selectStaffExists, username).Scan(&one)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("staff account %q: %w", username, auth.ErrNotFound)
		}
		return err
	})
	return used, err
}

// staffAudit writes an account change's audit row, under the audit lock: by whom and from
// where, whose account, what.
func (d *DB) staffAudit(ctx context.Context, tx pgx.Tx, at int64, by auth.Actor, username, change string, more map[string]any) error {
	detail := map[string]any{"username": username, "change": change, "from": by.From}
	if by.Reason != "" {
		detail["reason"] = by.Reason
	}
	for k, v := range more {
		detail[k] = v
	}
	b, err := json.Marshal(detail)
	if err != nil {
		return err
	}
	if err := d.lock(ctx, tx, lockAudit); err != nil {
		return err
	}
	_, err = addAudit(ctx, tx, at, store.NewAudit{Actor: by.Name, Kind: store.AuditStaffAccount, Detail: b})
	return err
}
