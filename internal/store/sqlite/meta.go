package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"caucus/internal/store"
)

const (
	selectThrottle = `SELECT failures, window_start, locked_until FROM throttle WHERE key = ?`
	upsertThrottle = `INSERT INTO throttle (key, failures, window_start, locked_until) VALUES (?, ?, ?, ?)
	ON CONFLICT (key) DO UPDATE SET failures = excluded.failures,
	window_start = excluded.window_start, locked_until = excluded.locked_until`
	deleteThrottle = `DELETE FROM throttle WHERE key = ?`
	pruneThrottles = `DELETE FROM throttle WHERE window_start < ? AND locked_until <= ?`
)

func readThrottle(ctx context.Context, q queryer, key string) (store.Throttle, error) {
	t := store.Throttle{Key: key}
	var start, locked int64
	err := q.QueryRowContext(ctx, selectThrottle, key).Scan(&t.Failures, &start, &locked)
	if errors.Is(err, sql.ErrNoRows) {
		return t, nil
	} else if err != nil {
		return store.Throttle{}, err
	}
	t.WindowStart, t.LockedUntil = fromMS(start), fromMS(locked)
	return t, nil
}

// updateThrottle is the read-modify-write of one key in one write transaction.
func (d *DB) updateThrottle(ctx context.Context, op, key string, f func(*store.Throttle)) (store.Throttle, error) {
	if key == "" {
		return store.Throttle{}, fmt.Errorf("%s: %w: empty key", op, store.ErrInvalid)
	}
	var t store.Throttle
	err := d.write(ctx, op, func(tx *txStmts) error {
		var err error
		if t, err = readThrottle(ctx, tx, key); err != nil {
			return err
		}
		f(&t)
		_, err = tx.ExecContext(ctx, upsertThrottle, key, t.Failures, ms(t.WindowStart), ms(t.LockedUntil))
		return err
	})
	return t, err
}

// RecordFailure implements store.Store.
func (d *DB) RecordFailure(ctx context.Context, key string, window time.Duration) (store.Throttle, error) {
	now := fromMS(ms(d.now()))
	return d.updateThrottle(ctx, "record failure", key, func(t *store.Throttle) {
		if t.WindowStart.IsZero() || !now.Before(t.WindowStart.Add(window)) {
			t.Failures, t.WindowStart = 0, now
		}
		t.Failures++
	})
}

// LockThrottle implements store.Store.
func (d *DB) LockThrottle(ctx context.Context, key string, until time.Time) (store.Throttle, error) {
	now := fromMS(ms(d.now()))
	until = fromMS(ms(until))
	return d.updateThrottle(ctx, "lock throttle", key, func(t *store.Throttle) {
		if t.WindowStart.IsZero() {
			t.WindowStart = now
		}
		if until.After(t.LockedUntil) {
			t.LockedUntil = until
		}
	})
}

// Throttle implements store.Store.
func (d *DB) Throttle(ctx context.Context, key string) (store.Throttle, error) {
	if err := d.checkOpen("read throttle"); err != nil {
		return store.Throttle{}, err
	}
	t, err := readThrottle(ctx, d.rs, key)
	if err != nil {
		return store.Throttle{}, d.wrap("read throttle", err)
	}
	return t, nil
}

// ResetThrottle implements store.Store.
func (d *DB) ResetThrottle(ctx context.Context, key string) error {
	_, err := d.execCount(ctx, "reset throttle", deleteThrottle, key)
	return err
}

// PruneThrottles implements store.Store.
func (d *DB) PruneThrottles(ctx context.Context, before time.Time) (int64, error) {
	return d.execCount(ctx, "prune throttles", pruneThrottles, ms(before), ms(before))
}

const (
	insertSettings = `INSERT INTO settings (id, election_id, created_at) VALUES (1, ?, ?)
	ON CONFLICT (id) DO NOTHING`
	selectSettings = `SELECT election_id, created_at FROM settings WHERE id = 1`
)

func readSettings(ctx context.Context, q queryer) (store.Settings, error) {
	var s store.Settings
	var created int64
	err := q.QueryRowContext(ctx, selectSettings).Scan(&s.ElectionID, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return store.Settings{}, fmt.Errorf("settings: %w", store.ErrNotFound)
	} else if err != nil {
		return store.Settings{}, err
	}
	s.CreatedAt = fromMS(created)
	return s, nil
}

// InitSettings implements store.Store.
func (d *DB) InitSettings(ctx context.Context, electionID string) (store.Settings, error) {
	if electionID == "" {
		return store.Settings{}, fmt.Errorf("init settings: %w: empty election id", store.ErrInvalid)
	}
	var s store.Settings
	err := d.write(ctx, "init settings", func(tx *txStmts) error {
		if _, err := tx.ExecContext(ctx, insertSettings, electionID, ms(d.now())); err != nil {
			return err
		}
		var err error
		s, err = readSettings(ctx, tx)
		return err
	})
	if err != nil {
		return store.Settings{}, err
	}
	if s.ElectionID != electionID {
		return s, fmt.Errorf("init settings: %w: database holds election %q, not %q",
			store.ErrConflict, s.ElectionID, electionID)
	}
	return s, nil
}

// Settings implements store.Store.
func (d *DB) Settings(ctx context.Context) (store.Settings, error) {
	if err := d.checkOpen("read settings"); err != nil {
		return store.Settings{}, err
	}
	s, err := readSettings(ctx, d.reader)
	if err != nil {
		return store.Settings{}, d.wrap("read settings", err)
	}
	return s, nil
}

const (
	insertValue = `INSERT INTO kv (name, value, updated_at) VALUES (?, ?, ?) ON CONFLICT (name) DO NOTHING`
	selectValue = `SELECT value FROM kv WHERE name = ?`
	updateValue = `UPDATE kv SET value = ?, updated_at = ? WHERE name = ?`
)

// CreateValue implements store.Store.
func (d *DB) CreateValue(ctx context.Context, name string, value []byte) error {
	if name == "" {
		return fmt.Errorf("create value: %w: empty name", store.ErrInvalid)
	}
	return d.write(ctx, "create value "+name, func(tx *txStmts) error {
		res, err := tx.ExecContext(ctx, insertValue, name, nonNil(value), ms(d.now()))
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return store.ErrExists
		}
		return nil
	})
}

// nonNil keeps an empty value from binding as NULL.
func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

func readValue(ctx context.Context, q queryer, name string) ([]byte, error) {
	var v []byte
	err := q.QueryRowContext(ctx, selectValue, name).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	return nonNil(v), err
}

// Value implements store.Store.
func (d *DB) Value(ctx context.Context, name string) ([]byte, error) {
	if err := d.checkOpen("read value " + name); err != nil {
		return nil, err
	}
	v, err := readValue(ctx, d.rs, name)
	if err != nil {
		return nil, d.wrap("read value "+name, err)
	}
	return v, nil
}

// SwapValue implements store.Store.
func (d *DB) SwapValue(ctx context.Context, name string, old, new []byte) error {
	return d.write(ctx, "swap value "+name, func(tx *txStmts) error {
		cur, err := readValue(ctx, tx, name)
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("%w: no such value", store.ErrConflict)
		} else if err != nil {
			return err
		}
		if !bytes.Equal(cur, old) {
			return fmt.Errorf("%w: current value differs from the expected one", store.ErrConflict)
		}
		_, err = tx.ExecContext(ctx, updateValue, nonNil(new), ms(d.now()), name)
		return err
	})
}
