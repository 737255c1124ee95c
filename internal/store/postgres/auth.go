package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"caucus/internal/auth"
	"caucus/internal/store"
)

var _ auth.Store = (*DB)(nil)

const (
	upsertCredential = `INSERT INTO credentials (precinct_id, pin_hash, token_hash, created_at)
	VALUES ($1, $2, $3, $4) ON CONFLICT (precinct_id) DO UPDATE SET pin_hash = excluded.pin_hash,
	token_hash = excluded.token_hash, created_at = excluded.created_at`
	selectCredential = `SELECT pin_hash, token_hash FROM credentials WHERE precinct_id = $1`
	selectStaff      = `SELECT role, password_hash, totp_secret, created_at FROM staff WHERE username = $1 AND NOT disabled`
)

// PutPrecinctCredentials implements auth.Store: one transaction, all or nothing, one
// credential_issued audit row per precinct naming actor.
func (d *DB) PutPrecinctCredentials(ctx context.Context, actor string, creds []auth.PrecinctCredential) error {
	for _, c := range creds {
		if c.PrecinctID == "" || c.PINHash.IsZero() || c.TokenHash.IsZero() {
			return fmt.Errorf("put precinct credentials: %w: incomplete credential for %q", store.ErrInvalid, c.PrecinctID)
		}
	}
	now := ms(d.now())
	return d.write(ctx, "put precinct credentials", func(tx pgx.Tx) error {
		if err := d.lock(ctx, tx, lockAudit); err != nil {
			return err
		}
		for _, c := range creds {
			if _, err := tx.Exec(ctx, upsertCredential, c.PrecinctID,
				c.PINHash.Encoded(), c.TokenHash.Encoded(), now); err != nil {
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

// PrecinctCredential implements auth.Store. A stored hash that does not parse is an internal
// error, never ErrNotFound.
func (d *DB) PrecinctCredential(ctx context.Context, precinctID string) (auth.PrecinctCredential, error) {
	if err := d.checkOpen("read precinct credential"); err != nil {
		return auth.PrecinctCredential{}, err
	}
	var pin, token string
	err := d.pool.QueryRow(ctx, selectCredential, precinctID).Scan(&pin, &token)
	if errors.Is(err, pgx.ErrNoRows) {
		return auth.PrecinctCredential{}, fmt.Errorf("precinct credential %q: %w", precinctID, auth.ErrNotFound)
	} else if err != nil {
		return auth.PrecinctCredential{}, d.wrap("read precinct credential", err)
	}
	c := auth.PrecinctCredential{PrecinctID: precinctID}
	if c.PINHash, err = auth.ParseHash(pin); err != nil {
		return auth.PrecinctCredential{}, fmt.Errorf("precinct credential %q: PIN hash: %w", precinctID, err)
	}
	if c.TokenHash, err = auth.ParseHash(token); err != nil {
		return auth.PrecinctCredential{}, fmt.Errorf("precinct credential %q: token hash: %w", precinctID, err)
	}
	return c, nil
}

// StaffAccount implements auth.Store.
func (d *DB) StaffAccount(ctx context.Context, username string) (auth.StaffAccount, error) {
	if err := d.checkOpen("read staff account"); err != nil {
		return auth.StaffAccount{}, err
	}
	var role, totp string
	var hash []byte
	var created int64
	err := d.pool.QueryRow(ctx, selectStaff, username).Scan(&role, &hash, &totp, &created)
	if errors.Is(err, pgx.ErrNoRows) {
		return auth.StaffAccount{}, fmt.Errorf("staff account %q: %w", username, auth.ErrNotFound)
	} else if err != nil {
		return auth.StaffAccount{}, d.wrap("read staff account", err)
	}
	a := auth.StaffAccount{Username: username, Role: auth.Role(role), TOTPSecret: auth.NewTOTPSecret(totp),
		Created: fromMS(created)}
	if !a.Role.Staff() {
		return auth.StaffAccount{}, fmt.Errorf("staff account %q: stored role %q is not a staff role", username, role)
	}
	if a.PasswordHash, err = auth.ParseHash(string(hash)); err != nil {
		return auth.StaffAccount{}, fmt.Errorf("staff account %q: %w", username, err)
	}
	return a, nil
}

const (
	insertSession = `INSERT INTO sessions (token_hash, subject, role, created_at, expires_at, last_seen_at)
	VALUES ($1, $2, $3, $4, $5, $4) ON CONFLICT (token_hash) DO NOTHING`
	selectSession = `SELECT subject, role, created_at, expires_at, last_seen_at FROM sessions WHERE token_hash = $1`
	touchSession  = `UPDATE sessions SET last_seen_at = greatest(last_seen_at, $1) WHERE token_hash = $2`
	deleteSession = `DELETE FROM sessions WHERE token_hash = $1`
	deleteExpired = `DELETE FROM sessions WHERE expires_at <= $1`
)

// CreateSession implements auth.Store. The subject column holds the precinct ID of a chair
// and the username of staff; the times are auth's, to the millisecond.
func (d *DB) CreateSession(ctx context.Context, s auth.Session) error {
	subject := s.Username
	if s.Role == auth.RoleChair {
		subject = s.PrecinctID
	}
	if subject == "" || !s.Role.Valid() || ms(s.Expires) <= ms(s.Created) {
		return fmt.Errorf("create session: %w: subject %q, role %q, expires %v", store.ErrInvalid,
			subject, s.Role, s.Expires)
	}
	return d.write(ctx, "create session", func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, insertSession, s.ID[:], subject, string(s.Role), ms(s.Created), ms(s.Expires))
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("session: %w", store.ErrExists)
		}
		return nil
	})
}

// Session implements auth.Store: the stored session, expired or not.
func (d *DB) Session(ctx context.Context, id auth.SessionID) (auth.Session, error) {
	if err := d.checkOpen("read session"); err != nil {
		return auth.Session{}, err
	}
	var subject, role string
	var created, expires, seen int64
	err := d.pool.QueryRow(ctx, selectSession, id[:]).Scan(&subject, &role, &created, &expires, &seen)
	if errors.Is(err, pgx.ErrNoRows) {
		return auth.Session{}, fmt.Errorf("session: %w", auth.ErrNotFound)
	} else if err != nil {
		return auth.Session{}, d.wrap("read session", err)
	}
	s := auth.Session{ID: id, Role: auth.Role(role), Created: fromMS(created), Expires: fromMS(expires),
		LastSeen: fromMS(seen)}
	if !s.Role.Valid() {
		return auth.Session{}, fmt.Errorf("session: stored role %q is not a role", role)
	}
	if s.Role == auth.RoleChair {
		s.PrecinctID = subject
	} else {
		s.Username = subject
	}
	return s, nil
}

// DeleteSession implements auth.Store in one statement, so that of two logouts of one session
// at the same instant exactly one finds it (the second DELETE waits for the first's row lock and
// then finds the row gone).
func (d *DB) DeleteSession(ctx context.Context, id auth.SessionID) error {
	n, err := d.execCount(ctx, "delete session", deleteSession, id[:])
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("delete session: %w", auth.ErrNotFound)
	}
	return nil
}

// TouchSession implements auth.Store in one statement.
func (d *DB) TouchSession(ctx context.Context, id auth.SessionID, at time.Time) error {
	n, err := d.execCount(ctx, "touch session", touchSession, ms(at), id[:])
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("touch session: %w", auth.ErrNotFound)
	}
	return nil
}

// DeleteExpiredSessions implements auth.Store, by the index on expires_at.
func (d *DB) DeleteExpiredSessions(ctx context.Context, now time.Time) (int, error) {
	n, err := d.execCount(ctx, "delete expired sessions", deleteExpired, ms(now))
	return int(n), err
}

// execCount runs one statement in a transaction and returns the rows it changed.
func (d *DB) execCount(ctx context.Context, op, query string, args ...any) (int64, error) {
	var n int64
	err := d.write(ctx, op, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, query, args...)
		n = tag.RowsAffected()
		return err
	})
	return n, err
}
