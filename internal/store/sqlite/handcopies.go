package sqlite

import (
	"context"
	"fmt"

	"caucus/internal/store"
)

const (
	insertHandCopy   = `INSERT INTO audit_hand_copies (precinct_id, operator, at, counts) VALUES (?, ?, ?, ?)`
	selectHandCopies = `SELECT id, precinct_id, operator, at, counts FROM audit_hand_copies WHERE precinct_id = ? ORDER BY id`
)

// AddHandCopy implements store.Store.
func (d *DB) AddHandCopy(ctx context.Context, c store.HandCopy) (store.HandCopy, error) {
	if err := c.Validate(); err != nil {
		return store.HandCopy{}, err
	}
	c.At = fromMS(ms(d.now()))
	err := d.write(ctx, "add hand copy", func(tx *txStmts) error {
		res, err := tx.ExecContext(ctx, insertHandCopy, c.PrecinctID, c.Operator, ms(c.At), string(c.Counts))
		if err != nil {
			return fmt.Errorf("insert hand copy: %w", err)
		}
		c.ID, err = res.LastInsertId()
		return err
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
	rows, err := d.rs.QueryContext(ctx, selectHandCopies, precinctID)
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
