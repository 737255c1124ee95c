package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"caucus/internal/store"
)

const (
	upsertCredential = `INSERT INTO credentials (precinct_id, hash, created_at) VALUES (?, ?, ?)
	ON CONFLICT (precinct_id) DO UPDATE SET hash = excluded.hash, created_at = excluded.created_at`
	selectCredential = `SELECT hash, created_at FROM credentials WHERE precinct_id = ?`
	insertStaff      = `INSERT INTO staff (username, role, password_hash, disabled, created_at)
	VALUES (?, ?, ?, ?, ?) ON CONFLICT (username) DO NOTHING`
	updateStaff = `UPDATE staff SET role = ?, password_hash = ?, disabled = ? WHERE username = ?`
	staffCols   = `username, role, password_hash, disabled, created_at`
	selectStaff = `SELECT ` + staffCols + ` FROM staff WHERE username = ?`
	listStaff   = `SELECT ` + staffCols + ` FROM staff ORDER BY username`
)

// PutCredentials implements store.Store.
func (d *DB) PutCredentials(ctx context.Context, actor string, creds []store.Credential) error {
	for _, c := range creds {
		if c.PrecinctID == "" || len(c.Hash) == 0 {
			return fmt.Errorf("put credentials: %w: empty precinct or hash", store.ErrInvalid)
		}
	}
	now := ms(d.now())
	return d.write(ctx, "put credentials", func(tx *txStmts) error {
		for _, c := range creds {
			if _, err := tx.ExecContext(ctx, upsertCredential, c.PrecinctID, []byte(c.Hash), now); err != nil {
				return fmt.Errorf("precinct %q: %w", c.PrecinctID, err)
			}
			if _, err := addAudit(ctx, tx, now, store.NewAudit{Actor: actor,
				Kind: store.AuditCredentialIssued, PrecinctID: c.PrecinctID}); err != nil {
				return err
			}
		}
		return nil
	})
}

// Credential implements store.Store.
func (d *DB) Credential(ctx context.Context, precinctID string) (store.Credential, error) {
	if err := d.checkOpen("read credential"); err != nil {
		return store.Credential{}, err
	}
	c := store.Credential{PrecinctID: precinctID}
	var hash []byte
	var created int64
	err := d.rs.QueryRowContext(ctx, selectCredential, precinctID).Scan(&hash, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return store.Credential{}, fmt.Errorf("credential of precinct %q: %w", precinctID, store.ErrNotFound)
	} else if err != nil {
		return store.Credential{}, d.wrap("read credential", err)
	}
	c.Hash, c.CreatedAt = hash, fromMS(created)
	return c, nil
}

func checkStaff(u store.Staff) error {
	if u.Username == "" || !u.Role.StaffRole() || len(u.PasswordHash) == 0 {
		return fmt.Errorf("%w: staff %q with role %q and %d-byte hash", store.ErrInvalid,
			u.Username, u.Role, len(u.PasswordHash))
	}
	return nil
}

func staffDetail(u store.Staff) json.RawMessage {
	js, _ := json.Marshal(map[string]any{"username": u.Username, "role": u.Role, "disabled": u.Disabled})
	return js
}

// CreateStaff implements store.Store.
func (d *DB) CreateStaff(ctx context.Context, actor string, u store.Staff) error {
	if err := checkStaff(u); err != nil {
		return fmt.Errorf("create staff: %w", err)
	}
	now := ms(d.now())
	return d.write(ctx, "create staff", func(tx *txStmts) error {
		res, err := tx.ExecContext(ctx, insertStaff, u.Username, u.Role, []byte(u.PasswordHash), u.Disabled, now)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return fmt.Errorf("staff %q: %w", u.Username, store.ErrExists)
		}
		_, err = addAudit(ctx, tx, now, store.NewAudit{Actor: actor, Kind: store.AuditStaffCreated,
			Detail: staffDetail(u)})
		return err
	})
}

// UpdateStaff implements store.Store.
func (d *DB) UpdateStaff(ctx context.Context, actor string, u store.Staff) error {
	if err := checkStaff(u); err != nil {
		return fmt.Errorf("update staff: %w", err)
	}
	now := ms(d.now())
	return d.write(ctx, "update staff", func(tx *txStmts) error {
		res, err := tx.ExecContext(ctx, updateStaff, u.Role, []byte(u.PasswordHash), u.Disabled, u.Username)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return fmt.Errorf("staff %q: %w", u.Username, store.ErrNotFound)
		}
		_, err = addAudit(ctx, tx, now, store.NewAudit{Actor: actor, Kind: store.AuditStaffUpdated,
			Detail: staffDetail(u)})
		return err
	})
}

func scanStaff(s scanner) (store.Staff, error) {
	var u store.Staff
	var hash []byte
	var created int64
	if err := s.Scan(&u.Username, &u.Role, &hash, &u.Disabled, &created); err != nil {
		return store.Staff{}, err
	}
	u.PasswordHash, u.CreatedAt = hash, fromMS(created)
	return u, nil
}

// Staff implements store.Store.
func (d *DB) Staff(ctx context.Context, username string) (store.Staff, error) {
	if err := d.checkOpen("read staff"); err != nil {
		return store.Staff{}, err
	}
	u, err := scanStaff(d.rs.QueryRowContext(ctx, selectStaff, username))
	if errors.Is(err, sql.ErrNoRows) {
		return store.Staff{}, fmt.Errorf("staff %q: %w", username, store.ErrNotFound)
	} else if err != nil {
		return store.Staff{}, d.wrap("read staff", err)
	}
	return u, nil
}

// StaffList implements store.Store.
func (d *DB) StaffList(ctx context.Context) ([]store.Staff, error) {
	if err := d.checkOpen("list staff"); err != nil {
		return nil, err
	}
	rows, err := d.rs.QueryContext(ctx, listStaff)
	if err != nil {
		return nil, d.wrap("list staff", err)
	}
	defer rows.Close()
	var out []store.Staff
	for rows.Next() {
		u, err := scanStaff(rows)
		if err != nil {
			return nil, d.wrap("list staff", err)
		}
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, d.wrap("list staff", err)
	}
	return out, nil
}

const (
	insertSession = `INSERT INTO sessions (token_hash, subject, role, created_at, expires_at)
	VALUES (?, ?, ?, ?, ?) ON CONFLICT (token_hash) DO NOTHING`
	selectSession = `SELECT subject, role, created_at, expires_at FROM sessions
	WHERE token_hash = ? AND expires_at > ?`
	selectStoredSession = `SELECT subject, role, created_at, expires_at FROM sessions
	WHERE token_hash = ?`
	extendSession       = `UPDATE sessions SET expires_at = ? WHERE token_hash = ? AND expires_at > ?`
	deleteSession       = `DELETE FROM sessions WHERE token_hash = ?`
	deleteSessions      = `DELETE FROM sessions WHERE subject = ?`
	deleteExpiredSessns = `DELETE FROM sessions WHERE expires_at <= ?`
)

// CreateSession implements store.Store.
func (d *DB) CreateSession(ctx context.Context, s store.Session) (store.Session, error) {
	if s.CreatedAt.IsZero() {
		s.CreatedAt = d.now()
	}
	s.CreatedAt = fromMS(ms(s.CreatedAt))
	s.ExpiresAt = fromMS(ms(s.ExpiresAt))
	if len(s.TokenHash) < 16 || s.Subject == "" || (!s.Role.StaffRole() && s.Role != store.RoleChair) ||
		!s.ExpiresAt.After(s.CreatedAt) {
		return store.Session{}, fmt.Errorf("create session: %w: subject %q, role %q, %d-byte hash, expires %v",
			store.ErrInvalid, s.Subject, s.Role, len(s.TokenHash), s.ExpiresAt)
	}
	s.TokenHash = bytes.Clone(s.TokenHash)
	err := d.write(ctx, "create session", func(tx *txStmts) error {
		res, err := tx.ExecContext(ctx, insertSession, []byte(s.TokenHash), s.Subject, s.Role,
			ms(s.CreatedAt), ms(s.ExpiresAt))
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return fmt.Errorf("session: %w", store.ErrExists)
		}
		return nil
	})
	if err != nil {
		return store.Session{}, err
	}
	return s, nil
}

// Session implements store.Store.
func (d *DB) Session(ctx context.Context, tokenHash []byte) (store.Session, error) {
	return d.readSession(ctx, tokenHash, selectSession, tokenHash, ms(d.now()))
}

// StoredSession implements store.Store.
func (d *DB) StoredSession(ctx context.Context, tokenHash []byte) (store.Session, error) {
	return d.readSession(ctx, tokenHash, selectStoredSession, tokenHash)
}

func (d *DB) readSession(ctx context.Context, tokenHash []byte, query string, args ...any) (store.Session, error) {
	if err := d.checkOpen("read session"); err != nil {
		return store.Session{}, err
	}
	s := store.Session{TokenHash: bytes.Clone(tokenHash)}
	var created, expires int64
	err := d.rs.QueryRowContext(ctx, query, args...).Scan(&s.Subject, &s.Role, &created, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return store.Session{}, fmt.Errorf("session: %w", store.ErrNotFound)
	} else if err != nil {
		return store.Session{}, d.wrap("read session", err)
	}
	s.CreatedAt, s.ExpiresAt = fromMS(created), fromMS(expires)
	return s, nil
}

// ExtendSession implements store.Store.
func (d *DB) ExtendSession(ctx context.Context, tokenHash []byte, expiresAt time.Time) error {
	now := ms(d.now())
	if ms(expiresAt) <= now {
		return fmt.Errorf("extend session: %w: expiry %v not after now", store.ErrInvalid, expiresAt)
	}
	return d.write(ctx, "extend session", func(tx *txStmts) error {
		res, err := tx.ExecContext(ctx, extendSession, ms(expiresAt), tokenHash, now)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return fmt.Errorf("session: %w", store.ErrNotFound)
		}
		return nil
	})
}

// DeleteSession implements store.Store.
func (d *DB) DeleteSession(ctx context.Context, tokenHash []byte) error {
	return d.write(ctx, "delete session", func(tx *txStmts) error {
		_, err := tx.ExecContext(ctx, deleteSession, tokenHash)
		return err
	})
}

// DeleteSessions implements store.Store.
func (d *DB) DeleteSessions(ctx context.Context, subject string) (int64, error) {
	return d.execCount(ctx, "delete sessions", deleteSessions, subject)
}

// DeleteExpiredSessions implements store.Store.
func (d *DB) DeleteExpiredSessions(ctx context.Context) (int64, error) {
	return d.execCount(ctx, "delete expired sessions", deleteExpiredSessns, ms(d.now()))
}

// execCount runs one statement in a write transaction and returns the rows it changed.
func (d *DB) execCount(ctx context.Context, op, query string, args ...any) (int64, error) {
	var n int64
	err := d.write(ctx, op, func(tx *txStmts) error {
		res, err := tx.ExecContext(ctx, query, args...)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return n, err
}
