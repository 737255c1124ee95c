package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"caucus/internal/store"
)

const (
	insertHandCopy   = `INSERT INTO audit_hand_copies (precinct_id, operator, at, counts) VALUES ($1, $2, $3, $4) RETURNING id`
	selectHandCopies = `SELECT id, precinct_id, operator, at, counts FROM audit_hand_copies WHERE precinct_id = $1 ORDER BY id`
)

// AddHandCopy implements store.Store. The copy's ID is taken under the audit lock, held to
// commit, so IDs grow in commit order like the audit's.
func (d *DB) AddHandCopy(ctx context.Context, c store.HandCopy) (store.HandCopy, error) {
	if err := c.Validate(); err != nil {
		return store.HandCopy{}, err
	}
	c.At = fromMS(ms(d.now()))
	err := d.write(ctx, "add hand copy", func(tx pgx.Tx) error {
		if err := d.lock(ctx, tx, lockAudit); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, insertHandCopy, c.PrecinctID, c.Operator, ms(c.At), string(c.Counts)).Scan(&c.ID); err != nil {
			return fmt.Errorf("insert hand copy: %w", err)
		}
		return nil
	})
	if err != nil {
		return store.HandCopy{}, err
	}
	return c, nil
}

// HandCopies implements store.Store.
func (d *DB) HandCopies(ctx context.Context, precinctID string) ([]store.HandCopy, error) {
	if err := d.checkOpen("read hand copies"); err != nil {
		return nil, err
	}
	rows, err := d.pool.Query(ctx, selectHandCopies, precinctID)
	if err != nil {
		return nil, d.wrap("read hand copies", err)
	}
	defer rows.Close()
	var out []store.HandCopy
	for rows.Next() {
		var c store.HandCopy
		var at int64
		var counts string
		if err := rows.Scan(&c.ID, &c.PrecinctID, &c.Operator, &at, &counts); err != nil {
			return nil, d.wrap("read hand copies", err)
		}
		c.At, c.Counts = fromMS(at), []byte(counts)
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, d.wrap("read hand copies", err)
	}
	return out, nil
}
