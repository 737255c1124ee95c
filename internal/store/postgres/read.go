package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"caucus/internal/store"
)

// queryer is the pool or a transaction.
type queryer interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

const (
	entryColumns = `idx, kind, precinct_id, coalesce(report_id, ''), submitter, channel, received_at,
	body, leaf_hash, status, coalesce(counts, -1)`
	selectSize          = `SELECT size FROM log_head WHERE id = 1`
	selectPrecinctState = `SELECT status, counted_idx, reports, conflict, last_idx, updated_at
	FROM precinct_state WHERE precinct_id = $1`
	selectEntries         = `SELECT ` + entryColumns + ` FROM entries WHERE idx >= $1 AND idx < $2 ORDER BY idx`
	selectEntryByReportID = `SELECT ` + entryColumns + ` FROM entries WHERE report_id = $1`
	selectPrecinctEntries = `SELECT ` + entryColumns + ` FROM entries WHERE precinct_id = $1 ORDER BY idx`
	selectPrecinctStates  = `SELECT precinct_id, status, counted_idx, reports, conflict, last_idx, updated_at
	FROM precinct_state ORDER BY precinct_id COLLATE "C"` // bytewise, as SQLite orders text
)

type scanner interface{ Scan(dest ...any) error }

func scanEntry(s scanner) (store.Entry, error) {
	var e store.Entry
	var received int64
	var hash []byte
	var kind, channel, status string
	if err := s.Scan(&e.Index, &kind, &e.PrecinctID, &e.ReportID, &e.Submitter, &channel,
		&received, &e.Body, &hash, &status, &e.Counts); err != nil {
		return store.Entry{}, err
	}
	if len(hash) != len(e.LeafHash) {
		return store.Entry{}, fmt.Errorf("entry %d: leaf hash of %d bytes", e.Index, len(hash))
	}
	e.Kind, e.Channel, e.Status = store.Kind(kind), store.Channel(channel), store.Status(status)
	copy(e.LeafHash[:], hash)
	e.ReceivedAt = fromMS(received)
	return e, nil
}

func queryEntries(ctx context.Context, q queryer, query string, args ...any) ([]store.Entry, error) {
	rows, err := q.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.Entry
	for rows.Next() {
		e, err := scanEntry(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// Size implements store.Store: log_head's size, which follows the entries by trigger.
func (d *DB) Size(ctx context.Context) (int64, error) {
	if err := d.checkOpen("log size"); err != nil {
		return 0, err
	}
	var n int64
	if err := d.pool.QueryRow(ctx, selectSize).Scan(&n); err != nil {
		return 0, d.wrap("log size", err)
	}
	return n, nil
}

// Entries implements store.Store.
func (d *DB) Entries(ctx context.Context, from, to int64) ([]store.Entry, error) {
	if err := d.checkOpen("read entries"); err != nil {
		return nil, err
	}
	if from < 0 || to < from {
		return nil, fmt.Errorf("read entries [%d, %d): %w", from, to, store.ErrInvalid)
	}
	es, err := queryEntries(ctx, d.pool, selectEntries, from, to)
	if err != nil {
		return nil, d.wrap(fmt.Sprintf("read entries [%d, %d)", from, to), err)
	}
	return es, nil
}

func entryByReportID(ctx context.Context, q queryer, reportID string) (store.Entry, error) {
	e, err := scanEntry(q.QueryRow(ctx, selectEntryByReportID, reportID))
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Entry{}, fmt.Errorf("report id %q: %w", reportID, store.ErrNotFound)
	}
	return e, err
}

// EntryByReportID implements store.Store.
func (d *DB) EntryByReportID(ctx context.Context, reportID string) (store.Entry, error) {
	if err := d.checkOpen("read entry"); err != nil {
		return store.Entry{}, err
	}
	e, err := entryByReportID(ctx, d.pool, reportID)
	if err != nil {
		return store.Entry{}, d.wrap("read entry", err)
	}
	return e, nil
}

// PrecinctEntries implements store.Store.
func (d *DB) PrecinctEntries(ctx context.Context, precinctID string) ([]store.Entry, error) {
	if err := d.checkOpen("read precinct entries"); err != nil {
		return nil, err
	}
	es, err := queryEntries(ctx, d.pool, selectPrecinctEntries, precinctID)
	if err != nil {
		return nil, d.wrap(fmt.Sprintf("read entries of precinct %q", precinctID), err)
	}
	return es, nil
}

// scanState reads a precinct_state row; with id it starts with the precinct's ID.
func scanState(s scanner, st *store.PrecinctState, id bool) error {
	var counted *int64
	var updated int64
	var status string
	dest := []any{&status, &counted, &st.Reports, &st.Conflict, &st.LastIndex, &updated}
	if id {
		dest = append([]any{&st.PrecinctID}, dest...)
	}
	if err := s.Scan(dest...); err != nil {
		return err
	}
	st.Status = store.Status(status)
	st.Counted = store.NoIndex
	if counted != nil {
		st.Counted = *counted
	}
	st.UpdatedAt = fromMS(updated)
	return nil
}

func precinctState(ctx context.Context, q queryer, precinctID string) (store.PrecinctState, error) {
	st := store.PrecinctState{PrecinctID: precinctID}
	err := scanState(q.QueryRow(ctx, selectPrecinctState, precinctID), &st, false)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.PrecinctState{}, fmt.Errorf("precinct %q: %w", precinctID, store.ErrNotFound)
	}
	return st, err
}

// PrecinctState implements store.Store.
func (d *DB) PrecinctState(ctx context.Context, precinctID string) (store.PrecinctState, error) {
	if err := d.checkOpen("read precinct state"); err != nil {
		return store.PrecinctState{}, err
	}
	st, err := precinctState(ctx, d.pool, precinctID)
	if err != nil {
		return store.PrecinctState{}, d.wrap("read precinct state", err)
	}
	return st, nil
}

// PrecinctStates implements store.Store: one repeatable-read transaction, so the states and the
// size are one snapshot.
func (d *DB) PrecinctStates(ctx context.Context) ([]store.PrecinctState, int64, error) {
	if err := d.checkOpen("read precinct states"); err != nil {
		return nil, 0, err
	}
	var out []store.PrecinctState
	var size int64
	err := pgx.BeginTxFunc(ctx, d.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly},
		func(tx pgx.Tx) error {
			if err := tx.QueryRow(ctx, selectSize).Scan(&size); err != nil {
				return err
			}
			rows, err := tx.Query(ctx, selectPrecinctStates)
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
				var st store.PrecinctState
				if err := scanState(rows, &st, true); err != nil {
					return err
				}
				out = append(out, st)
			}
			return rows.Err()
		})
	if err != nil {
		return nil, 0, d.wrap("read precinct states", err)
	}
	return out, size, nil
}
