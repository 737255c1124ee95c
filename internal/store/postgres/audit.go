package postgres

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/jackc/pgx/v5"

	"caucus/internal/store"
)

const (
	insertAudit = `INSERT INTO audit (at, actor, kind, precinct_id, detail) VALUES ($1, $2, $3, $4, $5)`
	addAuditRow = insertAudit + ` RETURNING id`
	selectAudit = `SELECT id, at, actor, kind, coalesce(precinct_id, ''), detail
	FROM audit WHERE id > $1 ORDER BY id LIMIT $2`
)

// addAudit writes one audit row in tx, which holds the audit lock; detail nil means {}.
func addAudit(ctx context.Context, tx pgx.Tx, at int64, a store.NewAudit) (int64, error) {
	if !a.Kind.Valid() {
		return 0, fmt.Errorf("%w: audit kind %q not in store.AuditKinds", store.ErrInvalid, a.Kind)
	}
	if a.Actor == "" {
		return 0, fmt.Errorf("%w: audit without actor", store.ErrInvalid)
	}
	detail := "{}"
	if len(a.Detail) > 0 {
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(a.Detail, &obj); err != nil || obj == nil {
			return 0, fmt.Errorf("%w: audit detail is not a JSON object", store.ErrInvalid)
		}
		detail = string(a.Detail)
	}
	var id int64
	if err := tx.QueryRow(ctx, addAuditRow, at, a.Actor, string(a.Kind), nullString(a.PrecinctID), detail).Scan(&id); err != nil {
		return 0, fmt.Errorf("insert audit: %w", err)
	}
	return id, nil
}

// AddAudit implements store.Store.
func (d *DB) AddAudit(ctx context.Context, a store.NewAudit) (store.AuditRecord, error) {
	now := fromMS(ms(d.now()))
	var id int64
	err := d.write(ctx, "add audit", func(tx pgx.Tx) error {
		if err := d.lock(ctx, tx, lockAudit); err != nil {
			return err
		}
		var err error
		id, err = addAudit(ctx, tx, ms(now), a)
		return err
	})
	if err != nil {
		return store.AuditRecord{}, err
	}
	detail := a.Detail
	if len(detail) == 0 {
		detail = json.RawMessage("{}")
	}
	return store.AuditRecord{ID: id, At: now, Actor: a.Actor, Kind: a.Kind, PrecinctID: a.PrecinctID,
		Detail: detail}, nil
}

// Audit implements store.Store.
func (d *DB) Audit(ctx context.Context, after int64, limit int) ([]store.AuditRecord, error) {
	if err := d.checkOpen("read audit"); err != nil {
		return nil, err
	}
	if limit <= 0 {
		return nil, fmt.Errorf("read audit: %w: limit %d", store.ErrInvalid, limit)
	}
	rows, err := d.pool.Query(ctx, selectAudit, after, limit)
	if err != nil {
		return nil, d.wrap("read audit", err)
	}
	defer rows.Close()
	var out []store.AuditRecord
	for rows.Next() {
		var r store.AuditRecord
		var at int64
		var kind, detail string
		if err := rows.Scan(&r.ID, &at, &r.Actor, &kind, &r.PrecinctID, &detail); err != nil {
			return nil, d.wrap("read audit", err)
		}
		r.Kind = store.AuditKind(kind)
		r.At = fromMS(at)
		r.Detail = json.RawMessage(detail)
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, d.wrap("read audit", err)
	}
	return out, nil
}
