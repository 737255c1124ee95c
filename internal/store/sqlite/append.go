package sqlite

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"caucus/internal/store"
)

const (
	selectNextIndex = `SELECT coalesce(max(idx), -1) + 1 FROM entries`
	insertEntry     = `INSERT INTO entries
	(idx, kind, precinct_id, report_id, submitter, channel, received_at, body, leaf_hash, status, counts, content)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	selectEntryContent  = `SELECT ` + entryColumns + `, content FROM entries WHERE idx = ?`
	selectPrecinctState = `SELECT status, counted_idx, reports, conflict, last_idx, updated_at
	FROM precinct_state WHERE precinct_id = ?`
	upsertPrecinctState = `INSERT INTO precinct_state
	(precinct_id, status, counted_idx, reports, conflict, last_idx, updated_at)
	VALUES (?, ?, ?, ?, ?, ?, ?)
	ON CONFLICT (precinct_id) DO UPDATE SET status = excluded.status,
	counted_idx = excluded.counted_idx, reports = excluded.reports, conflict = excluded.conflict,
	last_idx = excluded.last_idx, updated_at = excluded.updated_at`
	insertAudit = `INSERT INTO audit (at, actor, kind, precinct_id, detail) VALUES (?, ?, ?, ?, ?)`
)

// Append implements store.Store: the whole batch in one IMMEDIATE transaction on the single
// writer connection, so one fsync (the WAL commit) covers every entry in it.
func (d *DB) Append(ctx context.Context, batch []store.NewEntry) ([]store.AppendResult, error) {
	if len(batch) == 0 {
		return nil, d.checkOpen("append")
	}
	var results []store.AppendResult
	err := d.write(ctx, "append", func(tx *txStmts) error {
		results = make([]store.AppendResult, len(batch)) // reset: a retried func starts clean
		a := appender{ctx: ctx, tx: tx, now: d.now()}
		if err := tx.QueryRowContext(ctx, selectNextIndex).Scan(&a.next); err != nil {
			return fmt.Errorf("read log size: %w", err)
		}
		for i := range batch {
			r, err := a.one(&batch[i])
			if err != nil {
				return fmt.Errorf("entry %d of %d: %w", i, len(batch), err)
			}
			results[i] = r
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return results, nil
}

// appender resolves the entries of one batch inside its transaction.
type appender struct {
	ctx  context.Context
	tx   *txStmts
	now  time.Time
	next int64 // the next log index
}

// one resolves one entry. A returned error aborts the whole batch (database failure); outcomes
// of the entry itself are in the result.
func (a *appender) one(e *store.NewEntry) (store.AppendResult, error) {
	if err := e.Validate(); err != nil {
		return a.invalid(e, err)
	}
	if e.ReportID != "" {
		orig, err := entryByReportID(a.ctx, a.tx, e.ReportID)
		switch {
		case err == nil && bytes.Equal(orig.Body, e.Body):
			return a.audited(store.AppendResult{Outcome: store.Duplicate, Entry: orig},
				e, store.AuditReportDup, entryDetail(orig))
		case err == nil:
			sum := sha256.Sum256(e.Body)
			detail := map[string]any{
				"report_id":      e.ReportID,
				"original_index": orig.Index,
				"original_hash":  hex.EncodeToString(orig.LeafHash[:]),
				"body_sha256":    hex.EncodeToString(sum[:]),
				"body":           e.Body, // evidence (spec/reliability.md C2); base64 in JSON
			}
			return a.audited(store.AppendResult{Outcome: store.ReportIDReused, Entry: orig,
				Err: &store.ReportIDReusedError{ReportID: e.ReportID, Original: orig.Index}},
				e, store.AuditReportIDReused, detail)
		case !errors.Is(err, store.ErrNotFound):
			return store.AppendResult{}, err
		}
	}
	if e.Kind == store.KindAudit {
		return a.auditEntry(e)
	}
	prev, err := precinctState(a.ctx, a.tx, e.PrecinctID)
	if errors.Is(err, store.ErrNotFound) {
		prev = store.EmptyState(e.PrecinctID)
	} else if err != nil {
		return store.AppendResult{}, err
	}
	if e.Kind == store.KindReport && len(e.Content) > 0 && prev.Counted != store.NoIndex {
		counted, content, err := a.entryContent(prev.Counted)
		if err != nil {
			return store.AppendResult{}, err
		}
		if store.IsSameContent(prev, e, content) {
			return a.audited(store.AppendResult{Outcome: store.SameContent, Entry: counted}, e,
				store.AuditReportDup, map[string]any{"report_id": e.ReportID, "same_content_as": entryDetail(counted)})
		}
	}
	if e.Counts != nil {
		if err := a.checkCounts(e); err != nil {
			return a.invalid(e, err)
		}
	}
	state, status, outcome, err := store.Next(prev, e, a.next, a.now)
	if err != nil {
		return a.invalid(e, err)
	}
	received := e.ReceivedAt
	if received.IsZero() {
		received = a.now
	}
	entry := store.Entry{
		Index: a.next, Kind: e.Kind, PrecinctID: e.PrecinctID, ReportID: e.ReportID,
		Submitter: e.Submitter, Channel: e.Channel, ReceivedAt: fromMS(ms(received)),
		Body: bytes.Clone(e.Body), LeafHash: store.LeafHash(e.Body), Status: status,
		Counts: store.NoIndex,
	}
	var counts any
	if e.Counts != nil {
		entry.Counts = *e.Counts
		counts = *e.Counts
	}
	if _, err := a.tx.ExecContext(a.ctx, insertEntry, entry.Index, entry.Kind, entry.PrecinctID,
		nullString(entry.ReportID), entry.Submitter, entry.Channel, ms(entry.ReceivedAt),
		entry.Body, entry.LeafHash[:], entry.Status, counts, nullBytes(e.Content)); err != nil {
		return store.AppendResult{}, fmt.Errorf("insert entry %d: %w", entry.Index, err)
	}
	var counted any
	if e.Kind == store.KindCertification { // a scope has no precinct state
		a.next++
		return a.audited(store.AppendResult{Outcome: outcome, Entry: entry}, e, store.AuditCertification, entryDetail(entry))
	}
	if state.Counted != store.NoIndex {
		counted = state.Counted
	}
	if _, err := a.tx.ExecContext(a.ctx, upsertPrecinctState, state.PrecinctID, state.Status,
		counted, state.Reports, state.Conflict, state.LastIndex, ms(state.UpdatedAt)); err != nil {
		return store.AppendResult{}, fmt.Errorf("update precinct %q: %w", state.PrecinctID, err)
	}
	a.next++
	r := store.AppendResult{Outcome: outcome, Entry: entry}
	kind := store.AuditReportAccepted
	switch {
	case outcome == store.Conflict:
		kind = store.AuditReportConflict
		r.Err = &store.ConflictError{PrecinctID: e.PrecinctID, Index: entry.Index, Counted: prev.Counted}
	case e.Kind == store.KindCorrection:
		kind = store.AuditCorrection
	case e.Kind == store.KindReview:
		kind = store.AuditReview
	case status == store.StatusUnderReview:
		kind = store.AuditReportFlagged
	}
	return a.audited(r, e, kind, entryDetail(entry))
}

// auditEntry appends an entry of a risk-limiting audit: it belongs to no precinct, so no
// precinct's state is read or changed (store.Next leaves it alone).
func (a *appender) auditEntry(e *store.NewEntry) (store.AppendResult, error) {
	received := e.ReceivedAt
	if received.IsZero() {
		received = a.now
	}
	entry := store.Entry{
		Index: a.next, Kind: e.Kind, ReportID: e.ReportID, Submitter: e.Submitter, Channel: e.Channel,
		ReceivedAt: fromMS(ms(received)), Body: bytes.Clone(e.Body), LeafHash: store.LeafHash(e.Body),
		Counts: store.NoIndex,
	}
	if _, err := a.tx.ExecContext(a.ctx, insertEntry, entry.Index, entry.Kind, entry.PrecinctID,
		nullString(entry.ReportID), entry.Submitter, entry.Channel, ms(entry.ReceivedAt),
		entry.Body, entry.LeafHash[:], entry.Status, nil, nil); err != nil {
		return store.AppendResult{}, fmt.Errorf("insert entry %d: %w", entry.Index, err)
	}
	a.next++
	return a.audited(store.AppendResult{Outcome: store.Appended, Entry: entry}, e, store.AuditRLAEntry, entryDetail(entry))
}

// entryContent reads the entry at index with its stored content digest (nil: none).
func (a *appender) entryContent(index int64) (store.Entry, []byte, error) {
	var content []byte
	row := a.tx.QueryRowContext(a.ctx, selectEntryContent, index)
	e, err := scanEntry(scanFunc(func(dest ...any) error { return row.Scan(append(dest, &content)...) }))
	if err != nil {
		return store.Entry{}, nil, fmt.Errorf("read counted entry %d: %w", index, err)
	}
	return e, content, nil
}

// scanFunc is a scanner made of a function.
type scanFunc func(dest ...any) error

func (f scanFunc) Scan(dest ...any) error { return f(dest...) }

// nullBytes stores an empty or nil slice as NULL.
func nullBytes(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	return b
}

const selectCountsTarget = `SELECT kind, precinct_id FROM entries WHERE idx = ?`

// checkCounts checks that a review's Counts names a report or correction of its precinct.
func (a *appender) checkCounts(e *store.NewEntry) error {
	var kind, precinct string
	err := a.tx.QueryRowContext(a.ctx, selectCountsTarget, *e.Counts).Scan(&kind, &precinct)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%w: review counts entry %d, which does not exist", store.ErrInvalid, *e.Counts)
	} else if err != nil {
		return err
	}
	if precinct != e.PrecinctID || (kind != string(store.KindReport) && kind != string(store.KindCorrection)) {
		return fmt.Errorf("%w: review of %q counts entry %d, a %s of %q", store.ErrInvalid,
			e.PrecinctID, *e.Counts, kind, precinct)
	}
	return nil
}

func (a *appender) invalid(e *store.NewEntry, err error) (store.AppendResult, error) {
	if !errors.Is(err, store.ErrInvalid) { // a database error, not the entry's fault
		return store.AppendResult{}, err
	}
	return a.audited(store.AppendResult{Outcome: store.Invalid, Err: err}, e,
		store.AuditEntryInvalid, map[string]any{"report_id": e.ReportID, "kind": e.Kind, "reason": err.Error()})
}

// audited writes the entry's one audit row and returns r.
func (a *appender) audited(r store.AppendResult, e *store.NewEntry, kind store.AuditKind, detail any) (store.AppendResult, error) {
	actor := e.Submitter
	if actor == "" {
		actor = "unknown"
	}
	js, err := json.Marshal(detail)
	if err != nil {
		return store.AppendResult{}, fmt.Errorf("audit detail: %w", err)
	}
	if _, err := a.tx.ExecContext(a.ctx, insertAudit, ms(a.now), actor, kind,
		nullString(e.PrecinctID), string(js)); err != nil {
		return store.AppendResult{}, fmt.Errorf("insert audit: %w", err)
	}
	return r, nil
}

func entryDetail(e store.Entry) map[string]any {
	m := map[string]any{
		"log_index": e.Index,
		"kind":      e.Kind,
		"leaf_hash": hex.EncodeToString(e.LeafHash[:]),
		"status":    e.Status,
		"channel":   e.Channel,
	}
	if e.ReportID != "" {
		m["report_id"] = e.ReportID
	}
	if e.Counts != store.NoIndex {
		m["counts"] = e.Counts
	}
	return m
}
