package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"caucus/internal/auth"
	"caucus/internal/store"
)

// A counter is changed under its key's advisory lock (lockKeys), held to commit, by every method
// that writes one key: so UpdateThrottles' read, decision and write cannot interleave with
// another process's AddThrottle, ResetThrottle or UpdateThrottles of the same key, even when the
// key has no row yet to lock.
const (
	addCounter = `INSERT INTO counters (key, count, last_at) VALUES ($1, 1, $2)
	ON CONFLICT (key) DO UPDATE SET count = counters.count + 1, last_at = excluded.last_at
	RETURNING count, last_at`
	selectCounter = `SELECT count, last_at FROM counters WHERE key = $1`
	deleteCounter = `DELETE FROM counters WHERE key = $1`
	putCounter    = `INSERT INTO counters (key, count, last_at) VALUES ($1, $2, $3)
	ON CONFLICT (key) DO UPDATE SET count = excluded.count, last_at = excluded.last_at`
	// expireCounters compares the prefix with left(), not LIKE, whose wildcards ('_', '%') may
	// appear in keys (precinct IDs, IPv6 addresses); COLLATE "C" compares bytes.
	expireCounters = `DELETE FROM counters
	WHERE left(key, char_length($1::text)) = $1::text COLLATE "C" AND last_at < $2`
)

// AddThrottle implements auth.Store with one atomic UPSERT … RETURNING, on the caller's clock.
func (d *DB) AddThrottle(ctx context.Context, key string, now time.Time) (auth.ThrottleCounter, error) {
	if key == "" || now.IsZero() {
		return auth.ThrottleCounter{}, fmt.Errorf("add throttle: %w: key %q at %v", store.ErrInvalid, key, now)
	}
	var c auth.ThrottleCounter
	err := d.write(ctx, "add throttle", func(tx pgx.Tx) error {
		if err := lockKeys(ctx, tx, key); err != nil {
			return err
		}
		var last int64
		if err := tx.QueryRow(ctx, addCounter, key, ms(now)).Scan(&c.Count, &last); err != nil {
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
	err := d.pool.QueryRow(ctx, selectCounter, key).Scan(&c.Count, &last)
	if errors.Is(err, pgx.ErrNoRows) {
		return auth.ThrottleCounter{}, nil
	} else if err != nil {
		return auth.ThrottleCounter{}, d.wrap("read throttle", err)
	}
	c.Last = fromMS(last)
	return c, nil
}

// ResetThrottle implements auth.Store.
func (d *DB) ResetThrottle(ctx context.Context, key string) error {
	return d.write(ctx, "reset throttle", func(tx pgx.Tx) error {
		if err := lockKeys(ctx, tx, key); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, deleteCounter, key)
		return err
	})
}

// ExpireThrottles implements auth.Store. It refuses with ErrInvalid a prefix that could reach
// a precinct's PIN budget, the empty prefix included.
func (d *DB) ExpireThrottles(ctx context.Context, prefix string, before time.Time) (int, error) {
	for _, budget := range auth.BudgetKeyPrefixes {
		if strings.HasPrefix(budget, prefix) || strings.HasPrefix(prefix, budget) {
			return 0, fmt.Errorf("expire throttles %q: %w: would expire precinct PIN budgets, which only a staff reset may clear",
				prefix, store.ErrInvalid)
		}
	}
	n, err := d.execCount(ctx, "expire throttles", expireCounters, prefix, ms(before))
	return int(n), err
}

// UpdateThrottles implements auth.Store: the keys are locked, then their counters read,
// decided on and written in one transaction.
func (d *DB) UpdateThrottles(ctx context.Context, keys []string, decide func([]auth.ThrottleCounter) ([]auth.ThrottleCounter, error)) ([]auth.ThrottleCounter, error) {
	for _, k := range keys {
		if k == "" {
			return nil, fmt.Errorf("update throttles: %w: empty key", store.ErrInvalid)
		}
	}
	var out []auth.ThrottleCounter
	err := d.write(ctx, "update throttles", func(tx pgx.Tx) error {
		if err := lockKeys(ctx, tx, keys...); err != nil {
			return err
		}
		cur := make([]auth.ThrottleCounter, len(keys))
		for i, k := range keys {
			var last int64
			err := tx.QueryRow(ctx, selectCounter, k).Scan(&cur[i].Count, &last)
			if errors.Is(err, pgx.ErrNoRows) {
				continue
			} else if err != nil {
				return err
			}
			cur[i].Last = fromMS(last)
		}
		next, err := decide(cur)
		if err != nil {
			return err
		}
		if len(next) != len(keys) {
			return fmt.Errorf("%w: %d counters decided for %d keys", store.ErrInvalid, len(next), len(keys))
		}
		for i, k := range keys {
			if next[i] == cur[i] {
				continue
			}
			if next[i].Count <= 0 {
				if _, err := tx.Exec(ctx, deleteCounter, k); err != nil {
					return err
				}
				continue
			}
			if next[i].Last.IsZero() {
				return fmt.Errorf("%w: counter %q without a time", store.ErrInvalid, k)
			}
			if _, err := tx.Exec(ctx, putCounter, k, next[i].Count, ms(next[i].Last)); err != nil {
				return err
			}
		}
		out = next
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

const (
	addLoginFailure = `INSERT INTO login_failures (minute, precinct_id, client, reason, count)
	VALUES ($1, $2, $3, $4, $5) ON CONFLICT (minute, precinct_id, client, reason)
	DO UPDATE SET count = login_failures.count + excluded.count`
	selectLoginFailures = `SELECT minute, precinct_id, client, reason, count FROM login_failures
	WHERE minute >= $1 ORDER BY minute, precinct_id COLLATE "C", client COLLATE "C", reason COLLATE "C"`
)

// AddLoginFailures implements auth.Store: every count in one transaction, each added to its
// row (minute, precinct, client, reason) by an UPSERT, atomic across processes.
func (d *DB) AddLoginFailures(ctx context.Context, counts []auth.FailureCount) error {
	for _, c := range counts {
		if c.Count <= 0 || c.Client == "" || c.Reason == "" || c.Minute.IsZero() {
			return fmt.Errorf("add login failures: %w: %+v", store.ErrInvalid, c)
		}
	}
	if len(counts) == 0 {
		return nil
	}
	return d.write(ctx, "add login failures", func(tx pgx.Tx) error {
		for _, c := range counts {
			if _, err := tx.Exec(ctx, addLoginFailure, ms(c.Minute), c.PrecinctID, c.Client,
				c.Reason, c.Count); err != nil {
				return err
			}
		}
		return nil
	})
}

// LoginFailures implements auth.Store: the aggregated rows from minute since on, in order
// (bytewise, as SQLite orders text).
func (d *DB) LoginFailures(ctx context.Context, since time.Time) ([]auth.FailureCount, error) {
	if err := d.checkOpen("read login failures"); err != nil {
		return nil, err
	}
	rows, err := d.pool.Query(ctx, selectLoginFailures, ms(since))
	if err != nil {
		return nil, d.wrap("read login failures", err)
	}
	defer rows.Close()
	var out []auth.FailureCount
	for rows.Next() {
		var c auth.FailureCount
		var minute int64
		if err := rows.Scan(&minute, &c.PrecinctID, &c.Client, &c.Reason, &c.Count); err != nil {
			return nil, d.wrap("read login failures", err)
		}
		c.Minute = fromMS(minute)
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, d.wrap("read login failures", err)
	}
	return out, nil
}
