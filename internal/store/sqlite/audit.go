package sqlite

import (
	"context"
	"encoding/json"
	"fmt"

	"caucus/internal/store"
)

const selectAudit = `SELECT id, at, actor, kind, coalesce(precinct_id, ''), detail
	FROM audit WHERE id > ? ORDER BY id LIMIT ?`

// addAudit writes one audit row in tx; detail nil means {}.
func addAudit(ctx context.Context, tx *txStmts, at int64, a store.NewAudit) (int64, error) {
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
	res, err := tx.ExecContext(ctx, insertAudit, at, a.Actor, a.Kind, nullString(a.PrecinctID), detail)
	if err != nil {
		return 0, fmt.Errorf("insert audit: %w", err)
	}
	return res.LastInsertId()
}

// AddAudit implements store.Store.
func (d *DB) AddAudit(ctx context.Context, a store.NewAudit) (store.AuditRecord, error) {
	now := fromMS(ms(d.now()))
	var id int64
	err := d.write(ctx, "add audit", func(tx *txStmts) error {
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
	rows, err := d.rs.QueryContext(ctx, selectAudit, after, limit)
	if err != nil {
		return nil, d.wrap("read audit", err)
	}
	defer rows.Close()
	var out []store.AuditRecord
	for rows.Next() {
		var r store.AuditRecord
		var at int64
		var detail string
		if err := rows.Scan(&r.ID, &at, &r.Actor, &r.Kind, &r.PrecinctID, &detail); err != nil {
			return nil, d.wrap("read audit", err)
		}
		r.At = fromMS(at)
		r.Detail = json.RawMessage(detail)
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, d.wrap("read audit", err)
	}
	return out, nil
}
