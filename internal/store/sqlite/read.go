package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"caucus/internal/store"
)

// queryer is a *sql.DB or a *sql.Tx.
type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

const (
	entryColumns = `idx, kind, precinct_id, coalesce(report_id, ''), submitter, channel, received_at,
	body, leaf_hash, status, coalesce(counts, -1)`
	selectSize            = `SELECT coalesce(max(idx), -1) + 1 FROM entries`
	selectEntries         = `SELECT ` + entryColumns + ` FROM entries WHERE idx >= ? AND idx < ? ORDER BY idx`
	selectEntryByReportID = `SELECT ` + entryColumns + ` FROM entries WHERE report_id = ?`
	selectPrecinctEntries = `SELECT ` + entryColumns + ` FROM entries WHERE precinct_id = ? ORDER BY idx`
	selectPrecinctStates  = `SELECT precinct_id, status, counted_idx, reports, conflict, last_idx, updated_at FROM precinct_state ORDER BY precinct_id`
)

type scanner interface{ Scan(dest ...any) error }

func scanEntry(s scanner) (store.Entry, error) {
	var e store.Entry
	var received int64
	var hash []byte
	if err := s.Scan(&e.Index, &e.Kind, &e.PrecinctID, &e.ReportID, &e.Submitter, &e.Channel,
		&received, &e.Body, &hash, &e.Status, &e.Counts); err != nil {
		return store.Entry{}, err
	}
	if len(hash) != len(e.LeafHash) {
		return store.Entry{}, fmt.Errorf("entry %d: leaf hash of %d bytes", e.Index, len(hash))
	}
	copy(e.LeafHash[:], hash)
	e.ReceivedAt = fromMS(received)
	return e, nil
}

func queryEntries(ctx context.Context, q queryer, query string, args ...any) ([]store.Entry, error) {
	rows, err := q.QueryContext(ctx, query, args...)
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

// Size implements store.Store.
func (d *DB) Size(ctx context.Context) (int64, error) {
	if err := d.checkOpen("log size"); err != nil {
		return 0, err
	}
	var n int64
	if err := d.rs.QueryRowContext(ctx, selectSize).Scan(&n); err != nil {
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
	es, err := queryEntries(ctx, d.rs, selectEntries, from, to)
	if err != nil {
		return nil, d.wrap(fmt.Sprintf("read entries [%d, %d)", from, to), err)
	}
	return es, nil
}

func entryByReportID(ctx context.Context, q queryer, reportID string) (store.Entry, error) {
	e, err := scanEntry(q.QueryRowContext(ctx, selectEntryByReportID, reportID))
	if errors.Is(err, sql.ErrNoRows) {
		return store.Entry{}, fmt.Errorf("report id %q: %w", reportID, store.ErrNotFound)
	}
	return e, err
}

// EntryByReportID implements store.Store.
func (d *DB) EntryByReportID(ctx context.Context, reportID string) (store.Entry, error) {
	if err := d.checkOpen("read entry"); err != nil {
		return store.Entry{}, err
	}
	e, err := entryByReportID(ctx, d.rs, reportID)
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
	es, err := queryEntries(ctx, d.rs, selectPrecinctEntries, precinctID)
	if err != nil {
		return nil, d.wrap(fmt.Sprintf("read entries of precinct %q", precinctID), err)
	}
	return es, nil
}

func scanState(s scanner, st *store.PrecinctState) error {
	var counted sql.NullInt64
	var updated int64
	if err := s.Scan(&st.Status, &counted, &st.Reports, &st.Conflict, &st.LastIndex, &updated); err != nil {
		return err
	}
	st.Counted = store.NoIndex
	if counted.Valid {
		st.Counted = counted.Int64
	}
	st.UpdatedAt = fromMS(updated)
	return nil
}

func precinctState(ctx context.Context, q queryer, precinctID string) (store.PrecinctState, error) {
	st := store.PrecinctState{PrecinctID: precinctID}
	err := scanState(q.QueryRowContext(ctx, selectPrecinctState, precinctID), &st)
	if errors.Is(err, sql.ErrNoRows) {
		return store.PrecinctState{}, fmt.Errorf("precinct %q: %w", precinctID, store.ErrNotFound)
	}
	return st, err
}

// PrecinctState implements store.Store.
func (d *DB) PrecinctState(ctx context.Context, precinctID string) (store.PrecinctState, error) {
	if err := d.checkOpen("read precinct state"); err != nil {
		return store.PrecinctState{}, err
	}
	st, err := precinctState(ctx, d.rs, precinctID)
	if err != nil {
		return store.PrecinctState{}, d.wrap("read precinct state", err)
	}
	return st, nil
}

// PrecinctStates implements store.Store: one read transaction, so the states and the size are
// the same WAL snapshot.
func (d *DB) PrecinctStates(ctx context.Context) ([]store.PrecinctState, int64, error) {
	if err := d.checkOpen("read precinct states"); err != nil {
		return nil, 0, err
	}
	var out []store.PrecinctState
	var size int64
	err := func() error {
		tx, err := d.reader.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
		if err != nil {
			return err
		}
		defer tx.Rollback()
		if err := tx.QueryRowContext(ctx, selectSize).Scan(&size); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, selectPrecinctStates)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var st store.PrecinctState
			var counted sql.NullInt64
			var updated int64
			if err := rows.Scan(&st.PrecinctID, &st.Status, &counted, &st.Reports, &st.Conflict,
				&st.LastIndex, &updated); err != nil {
				return err
			}
			st.Counted = store.NoIndex
			if counted.Valid {
				st.Counted = counted.Int64
			}
			st.UpdatedAt = fromMS(updated)
			out = append(out, st)
		}
		return rows.Err()
	}()
	if err != nil {
		return nil, 0, d.wrap("read precinct states", err)
	}
	return out, size, nil
}
