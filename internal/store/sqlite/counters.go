package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"caucus/internal/auth"
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

// AddThrottle implements auth.Store with one atomic UPSERT … RETURNING, on the caller's clock.
func (d *DB) AddThrottle(ctx context.Context, key string, now time.Time) (auth.ThrottleCounter, error) {
	if key == "" || now.IsZero() {
		return auth.ThrottleCounter{}, fmt.Errorf("add throttle: %w: key %q at %v", store.ErrInvalid, key, now)
	}
	var c auth.ThrottleCounter
	err := d.write(ctx, "add throttle", func(tx *txStmts) error {
		var last int64
		if err := tx.QueryRowContext(ctx, addCounter, key, ms(now)).Scan(&c.Count, &last); err != nil {
			return err
		}
		c.Last = fromMS(last)
		return nil
	})
	if err != nil {
		return auth.ThrottleCounter{}, err
	}
	return c, nil
}

// Throttle implements auth.Store.
func (d *DB) Throttle(ctx context.Context, key string) (auth.ThrottleCounter, error) {
	if err := d.checkOpen("read throttle"); err != nil {
		return auth.ThrottleCounter{}, err
	}
	var c auth.ThrottleCounter
	var last int64
	err := d.rs.QueryRowContext(ctx, selectCounter, key).Scan(&c.Count, &last)
	if errors.Is(err, sql.ErrNoRows) {
		return auth.ThrottleCounter{}, nil
	} else if err != nil {
		return auth.ThrottleCounter{}, d.wrap("read throttle", err)
	}
	c.Last = fromMS(last)
	return c, nil
}

// ResetThrottle implements auth.Store.
func (d *DB) ResetThrottle(ctx context.Context, key string) error {
	_, err := d.execCount(ctx, "reset throttle", deleteCounter, key)
	return err
}

// ExpireThrottles implements auth.Store. It refuses with ErrInvalid a prefix that could reach
// a precinct's PIN budget, the empty prefix included.
func (d *DB) ExpireThrottles(ctx context.Context, prefix string, before time.Time) (int, error) {
	if strings.HasPrefix(auth.PrecinctKeyPrefix, prefix) || strings.HasPrefix(prefix, auth.PrecinctKeyPrefix) {
		return 0, fmt.Errorf("expire throttles %q: %w: would expire precinct PIN budgets, which only a staff reset may clear",
			prefix, store.ErrInvalid)
	}
	n, err := d.execCount(ctx, "expire throttles", expireCounters, prefix, ms(before))
	return int(n), err
}
