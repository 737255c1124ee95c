package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"caucus/internal/store"
)

const (
	insertSettings = `INSERT INTO settings (id, election_id, created_at) VALUES (1, $1, $2)
	ON CONFLICT (id) DO NOTHING`
	selectSettings = `SELECT election_id, created_at FROM settings WHERE id = 1`
)

func readSettings(ctx context.Context, q queryer) (store.Settings, error) {
	var s store.Settings
	var created int64
	err := q.QueryRow(ctx, selectSettings).Scan(&s.ElectionID, &created)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Settings{}, fmt.Errorf("settings: %w", store.ErrNotFound)
	} else if err != nil {
		return store.Settings{}, err
	}
	s.CreatedAt = fromMS(created)
	return s, nil
}

// InitSettings implements store.Store. Two processes claiming the database at once both insert
// with ON CONFLICT DO NOTHING, and both read back the row that won.
func (d *DB) InitSettings(ctx context.Context, electionID string) (store.Settings, error) {
	if electionID == "" {
		return store.Settings{}, fmt.Errorf("init settings: %w: empty election id", store.ErrInvalid)
	}
	var s store.Settings
	err := d.write(ctx, "init settings", func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, insertSettings, electionID, ms(d.now())); err != nil {
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
	s, err := readSettings(ctx, d.pool)
	if err != nil {
		return store.Settings{}, d.wrap("read settings", err)
	}
	return s, nil
}

const (
	insertValue = `INSERT INTO kv (name, value, updated_at) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING`
	selectValue = `SELECT value FROM kv WHERE name = $1`
	// swapValue is the compare-and-swap in one statement: the row lock its UPDATE takes makes
	// a concurrent swap wait and then re-check the value it would replace.
	swapValue   = `UPDATE kv SET value = $3, updated_at = $4 WHERE name = $1 AND value = $2`
	deleteValue = `DELETE FROM kv WHERE name = $1`
)

// CreateValue implements store.Store.
func (d *DB) CreateValue(ctx context.Context, name string, value []byte) error {
	if name == "" {
		return fmt.Errorf("create value: %w: empty name", store.ErrInvalid)
	}
	return d.write(ctx, "create value "+name, func(tx pgx.Tx) error {
		if err := d.checkLease(ctx, tx, name); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, insertValue, name, nonNil(value), ms(d.now()))
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
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

// Value implements store.Store.
func (d *DB) Value(ctx context.Context, name string) ([]byte, error) {
	if err := d.checkOpen("read value " + name); err != nil {
		return nil, err
	}
	var v []byte
	err := d.pool.QueryRow(ctx, selectValue, name).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("read value %s: %w", name, store.ErrNotFound)
	} else if err != nil {
		return nil, d.wrap("read value "+name, err)
	}
	return nonNil(v), nil
}

// SwapValue implements store.Store.
func (d *DB) SwapValue(ctx context.Context, name string, old, new []byte) error {
	return d.write(ctx, "swap value "+name, func(tx pgx.Tx) error {
		if err := d.checkLease(ctx, tx, name); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, swapValue, name, nonNil(old), nonNil(new), ms(d.now()))
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("%w: no such value, or its current value differs from the expected one", store.ErrConflict)
		}
		return nil
	})
}

// DeleteSecretValue implements store.Store: the row is deleted, then VACUUM FULL rewrites the
// table (and its TOAST table) into new files and unlinks the old ones, whose dead tuples held
// the bytes. It takes an exclusive lock on kv while it runs (checkpoint signing waits).
func (d *DB) DeleteSecretValue(ctx context.Context, name string) error {
	if name == "" {
		return fmt.Errorf("delete value: %w: empty name", store.ErrInvalid)
	}
	op := "delete value " + name
	if err := d.write(ctx, op, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, deleteValue, name)
		return err
	}); err != nil {
		return err
	}
	if _, err := d.pool.Exec(ctx, "VACUUM FULL kv"); err != nil {
		return d.wrap(op+": vacuum", err)
	}
	return nil
}
