package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"caucus/internal/store"
)

const (
	// addCounter is one statement, so the count it returns is the one it wrote: with the
	// writer's BEGIN IMMEDIATE, no other connection or process can interleave.
	addCounter = `INSERT INTO counters (key, count, last_at) VALUES (?, 1, ?)
	ON CONFLICT (key) DO UPDATE SET count = count + 1, last_at = excluded.last_at
	RETURNING count, last_at`
	selectCounter = `SELECT count, last_at FROM counters WHERE key = ?`
	deleteCounter = `DELETE FROM counters WHERE key = ?`
	// expireCounters compares the prefix with substr, not LIKE or GLOB, whose wildcards
	// ('_', '%', '*', '?', '[') may appear in keys (precinct IDs, IPv6 addresses).
	expireCounters = `DELETE FROM counters
	WHERE substr(key, 1, length(?1)) = ?1 AND last_at < ?2`
)

// AddCounter implements store.Store.
func (d *DB) AddCounter(ctx context.Context, key string, at time.Time) (store.Counter, error) {
	if key == "" || at.IsZero() {
		return store.Counter{}, fmt.Errorf("add counter: %w: key %q at %v", store.ErrInvalid, key, at)
	}
	c := store.Counter{Key: key}
	err := d.write(ctx, "add counter", func(tx *txStmts) error {
		var last int64
		if err := tx.QueryRowContext(ctx, addCounter, key, ms(at)).Scan(&c.Count, &last); err != nil {
			return err
		}
		c.Last = fromMS(last)
		return nil
	})
	if err != nil {
		return store.Counter{}, err
	}
	return c, nil
}

// Counter implements store.Store.
func (d *DB) Counter(ctx context.Context, key string) (store.Counter, error) {
	if err := d.checkOpen("read counter"); err != nil {
		return store.Counter{}, err
	}
	c := store.Counter{Key: key}
	var last int64
	err := d.rs.QueryRowContext(ctx, selectCounter, key).Scan(&c.Count, &last)
	if errors.Is(err, sql.ErrNoRows) {
		return c, nil
	} else if err != nil {
		return store.Counter{}, d.wrap("read counter", err)
	}
	c.Last = fromMS(last)
	return c, nil
}

// ResetCounter implements store.Store.
func (d *DB) ResetCounter(ctx context.Context, key string) error {
	_, err := d.execCount(ctx, "reset counter", deleteCounter, key)
	return err
}

// ExpireCounters implements store.Store.
func (d *DB) ExpireCounters(ctx context.Context, prefix string, before time.Time) (int64, error) {
	if prefix == "" {
		return 0, fmt.Errorf("expire counters: %w: empty prefix would expire every counter", store.ErrInvalid)
	}
	return d.execCount(ctx, "expire counters", expireCounters, prefix, ms(before))
}
