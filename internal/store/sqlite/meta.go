package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"

	"caucus/internal/store"
)

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

const deleteValue = `DELETE FROM kv WHERE name = ?`

// DeleteSecretValue implements store.Store. VACUUM writes a fresh copy of every live page, so
// no free page keeps the value's bytes (deleting alone would leave them in the file until the
// page is reused); the checkpoint then copies the new pages into the file and truncates the
// WAL, whose older frames held them too.
func (d *DB) DeleteSecretValue(ctx context.Context, name string) error {
	if name == "" {
		return fmt.Errorf("delete value: %w: empty name", store.ErrInvalid)
	}
	op := "delete value " + name
	// secure_delete zeroes the deleted cell in its page, so no copy of the value survives in a
	// page's unused space (VACUUM alone copies live rows but does not promise zeroed free space
	// in the pages it writes). The writer is one connection, so the pragma covers the delete.
	if _, err := d.writer.ExecContext(ctx, "PRAGMA secure_delete = ON"); err != nil {
		return d.wrap(op+": secure_delete", err)
	}
	defer d.writer.ExecContext(context.WithoutCancel(ctx), "PRAGMA secure_delete = OFF")
	if err := d.write(ctx, op, func(tx *txStmts) error {
		_, err := tx.ExecContext(ctx, deleteValue, name)
		return err
	}); err != nil {
		return err
	}
	if _, err := d.writer.ExecContext(ctx, "VACUUM"); err != nil {
		return d.wrap(op+": vacuum", err)
	}
	var busy, frames, done int
	if err := d.writer.QueryRowContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)").Scan(&busy, &frames, &done); err != nil {
		return d.wrap(op+": checkpoint", err)
	}
	if busy != 0 {
		return fmt.Errorf("%s: the WAL could not be truncated: a reader holds it (%d of %d frames copied)", op, done, frames)
	}
	return nil
}
