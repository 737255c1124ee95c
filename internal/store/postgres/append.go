package postgres

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"caucus/internal/store"
)

const (
	// lockLogHead is how an Append starts: the row lock serializes appends across every
	// process until commit, and the row gives the next index.
	lockLogHead = `SELECT size FROM log_head WHERE id = 1 FOR UPDATE`
	// notifySize tells every node's Watch the log's new size; PostgreSQL delivers it when the
	// transaction commits, and never if it rolls back.
	notifySize = `SELECT pg_notify($1, $2)`
	// The batch's reads, each one statement for the whole batch: the entries stored under the
	// batch's report IDs, named by its reviews, and counted by its precincts (an entry may come
	// twice), and its precincts' states.
	selectBatchEntries = `SELECT ` + entryColumns + `, content FROM entries WHERE report_id = ANY($1)
	UNION ALL SELECT ` + entryColumns + `, content FROM entries WHERE idx = ANY($2)
	UNION ALL SELECT ` + entryColumns + `, content FROM entries
		WHERE idx IN (SELECT counted_idx FROM precinct_state WHERE precinct_id = ANY($3))`
	selectPrecinctStatesOf = `SELECT precinct_id, status, counted_idx, reports, conflict, last_idx, updated_at
	FROM precinct_state WHERE precinct_id = ANY($1)`
	// The batch's writes, each one statement for the whole batch: the rows go in in the
	// order of the arrays (WITH ORDINALITY … ORDER BY), so audit IDs follow the entries.
	insertEntries = `INSERT INTO entries
	(idx, kind, precinct_id, report_id, submitter, channel, received_at, body, leaf_hash, status, counts, content)
	SELECT idx, kind, precinct_id, report_id, submitter, channel, received_at, body, leaf_hash, status, counts, content
	FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::bigint[],
		$8::bytea[], $9::bytea[], $10::text[], $11::bigint[], $12::bytea[])
	WITH ORDINALITY AS e (idx, kind, precinct_id, report_id, submitter, channel, received_at, body, leaf_hash, status, counts, content, ord)
	ORDER BY ord`
	upsertPrecinctStates = `INSERT INTO precinct_state
	(precinct_id, status, counted_idx, reports, conflict, last_idx, updated_at)
	SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[], $5::boolean[], $6::bigint[], $7::bigint[])
	ON CONFLICT (precinct_id) DO UPDATE SET status = excluded.status,
	counted_idx = excluded.counted_idx, reports = excluded.reports, conflict = excluded.conflict,
	last_idx = excluded.last_idx, updated_at = excluded.updated_at`
	insertAudits = `INSERT INTO audit (at, actor, kind, precinct_id, detail)
	SELECT at, actor, kind, precinct_id, detail
	FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[]) WITH ORDINALITY AS a (at, actor, kind, precinct_id, detail, ord)
	ORDER BY ord`
)

// Append implements store.Store: the whole batch in one transaction holding log_head's row
// lock (and the audit lock, for its audit rows), so one commit, one flush of the WAL, covers
// every entry in it, and no other process's append interleaves. Read committed suffices: every
// read of the batch comes after the row lock is granted, so it sees every append committed
// before, and no other can commit until this one has.
//
// The batch costs two round trips, not a few per entry: what its entries need
// (the entries stored under their report IDs, their precincts' states, the entries reviews
// name) is read in one go, each entry is resolved in order in memory, exactly as store.Next
// and the per-entry rules say, seeing the entries before it in the batch, and the new entries,
// the precincts' final states and the audit rows are written with one statement each.
func (d *DB) Append(ctx context.Context, batch []store.NewEntry) ([]store.AppendResult, error) {
	if len(batch) == 0 {
		return nil, d.checkOpen("append")
	}
	if err := d.checkOpen("append"); err != nil {
		return nil, err
	}
	for attempt := 1; ; attempt++ {
		results, err := d.appendOnce(ctx, batch)
		if err != nil && retryable(err) && attempt < maxAttempts {
			continue
		}
		if err != nil {
			return nil, d.wrap("append", err)
		}
		return results, nil
	}
}

// appendOnce runs the batch's transaction in two round trips on one connection: BEGIN, the
// locks and the reads in one pipeline; then, once every entry is resolved, the writes and
// COMMIT in another. Any error before COMMIT rolls the transaction back; an error of COMMIT
// itself is ambiguous (the caller's retry by report ID resolves it).
func (d *DB) appendOnce(ctx context.Context, batch []store.NewEntry) ([]store.AppendResult, error) {
	conn, err := d.pool.Acquire(ctx)
	if err != nil {
		return nil, err
	}
	// A connection left inside a transaction is closed by the pool on release, never reused.
	defer conn.Release()
	rollback := func(err error) ([]store.AppendResult, error) {
		if conn.Conn().PgConn().TxStatus() != 'I' {
			conn.Exec(context.WithoutCancel(ctx), "ROLLBACK")
		}
		return nil, err
	}
	a := appender{now: d.now()}
	// The log head's row lock, then the audit lock, in this order, then the reads.
	var b pgx.Batch
	b.Queue("BEGIN ISOLATION LEVEL READ COMMITTED")
	b.Queue(lockLogHead).QueryRow(func(row pgx.Row) error { return row.Scan(&a.next) })
	b.Queue(lockSQL, lockAudit, d.schemaKey)
	a.queueReads(&b, batch)
	if err := conn.SendBatch(ctx, &b).Close(); err != nil {
		return rollback(fmt.Errorf("lock the log head and read what the batch names: %w", err))
	}
	results := make([]store.AppendResult, len(batch))
	for i := range batch {
		r, err := a.one(&batch[i])
		if err != nil {
			return rollback(fmt.Errorf("entry %d of %d: %w", i, len(batch), err))
		}
		results[i] = r
	}
	var w pgx.Batch
	a.queueWrites(&w)
	if len(a.added) > 0 {
		w.Queue(notifySize, d.channel(), strconv.FormatInt(a.next, 10))
	}
	w.Queue("COMMIT")
	if err := conn.SendBatch(ctx, &w).Close(); err != nil {
		return rollback(fmt.Errorf("write the batch: %w", err))
	}
	if st := conn.Conn().PgConn().TxStatus(); st != 'I' {
		return rollback(fmt.Errorf("write the batch: the transaction did not commit (status %c)", st))
	}
	return results, nil
}

// stored is an entry with its content digest (nil: none).
type stored struct {
	store.Entry
	content []byte
}

// appender resolves the entries of one batch inside its transaction.
type appender struct {
	now  time.Time
	next int64 // the next log index

	byReportID map[string]*stored              // stored entries, and the batch's new ones
	byIndex    map[int64]*stored               // entries the batch may name (counted, reviewed)
	states     map[string]*store.PrecinctState // precincts of the batch; nil: no state yet

	added   []*stored       // the batch's new entries, in order
	touched []string        // precincts whose state changed, in first-touch order
	dirty   map[string]bool // the set of touched
	audits  []auditRow      // the batch's audit rows, in order
}

type auditRow struct {
	actor, kind, precinct, detail string
}

// queueReads queues the reads of what the batch's entries need: the entries stored under their
// report IDs, the entries their precincts count and their reviews name, and their precincts'
// states.
func (a *appender) queueReads(b *pgx.Batch, batch []store.NewEntry) {
	a.byReportID, a.byIndex, a.states = map[string]*stored{}, map[int64]*stored{}, map[string]*store.PrecinctState{}
	a.dirty = map[string]bool{}
	var rids, precincts []string
	var indices []int64
	for i := range batch {
		e := &batch[i]
		if e.ReportID != "" {
			rids = append(rids, e.ReportID)
		}
		if e.PrecinctID != "" {
			precincts = append(precincts, e.PrecinctID)
		}
		if e.Counts != nil {
			indices = append(indices, *e.Counts)
		}
	}
	b.Queue(selectBatchEntries, rids, indices, precincts).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			var content []byte
			e, err := scanEntry(scanFunc(func(dest ...any) error { return rows.Scan(append(dest, &content)...) }))
			if err != nil {
				return err
			}
			s := &stored{Entry: e, content: content}
			if e.ReportID != "" {
				a.byReportID[e.ReportID] = s
			}
			a.byIndex[e.Index] = s
		}
		return rows.Err()
	})
	b.Queue(selectPrecinctStatesOf, precincts).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			var st store.PrecinctState
			if err := scanState(rows, &st, true); err != nil {
				return err
			}
			a.states[st.PrecinctID] = &st
		}
		return rows.Err()
	})
}

// one resolves one entry against the stored rows and the batch's entries before it. A
// returned error aborts the whole batch; outcomes of the entry itself are in the result.
func (a *appender) one(e *store.NewEntry) (store.AppendResult, error) {
	if err := e.Validate(); err != nil {
		return a.invalid(e, err)
	}
	if e.ReportID != "" {
		if orig, ok := a.byReportID[e.ReportID]; ok {
			if bytes.Equal(orig.Body, e.Body) {
				return a.audited(store.AppendResult{Outcome: store.Duplicate, Entry: orig.Entry},
					e, store.AuditReportDup, entryDetail(orig.Entry))
			}
			sum := sha256.Sum256(e.Body)
			detail := map[string]any{
				"report_id":      e.ReportID,
				"original_index": orig.Index,
				"original_hash":  hex.EncodeToString(orig.LeafHash[:]),
				"body_sha256":    hex.EncodeToString(sum[:]),
				"body":           e.Body, // evidence (spec/reliability.md C2); base64 in JSON
			}
			return a.audited(store.AppendResult{Outcome: store.ReportIDReused, Entry: orig.Entry,
				Err: &store.ReportIDReusedError{ReportID: e.ReportID, Original: orig.Index}},
				e, store.AuditReportIDReused, detail)
		}
	}
	if e.Kind == store.KindAudit {
		return a.auditEntry(e)
	}
	prev := store.EmptyState(e.PrecinctID)
	if st := a.states[e.PrecinctID]; st != nil {
		prev = *st
	}
	if e.Kind == store.KindReport && len(e.Content) > 0 && prev.Counted != store.NoIndex {
		counted, ok := a.byIndex[prev.Counted]
		if !ok {
			return store.AppendResult{}, fmt.Errorf("read counted entry %d: not loaded", prev.Counted)
		}
		if store.IsSameContent(prev, e, counted.content) {
			return a.audited(store.AppendResult{Outcome: store.SameContent, Entry: counted.Entry}, e,
				store.AuditReportDup, map[string]any{"report_id": e.ReportID, "same_content_as": entryDetail(counted.Entry)})
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
	if e.Counts != nil {
		entry.Counts = *e.Counts
	}
	a.add(entry, e.Content)
	r := store.AppendResult{Outcome: outcome, Entry: entry}
	if e.Kind == store.KindCertification { // a scope has no precinct state
		return a.audited(r, e, store.AuditCertification, entryDetail(entry))
	}
	if !a.dirty[state.PrecinctID] {
		a.dirty[state.PrecinctID] = true
		a.touched = append(a.touched, state.PrecinctID)
	}
	a.states[state.PrecinctID] = &state
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

// auditEntry adds an entry of a risk-limiting audit: it belongs to no precinct, so no
// precinct's state is read or changed (store.Next leaves it alone), and the batch's writes
// store it with the others, its audit row with theirs.
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
	a.add(entry, nil)
	return a.audited(store.AppendResult{Outcome: store.Appended, Entry: entry}, e, store.AuditRLAEntry, entryDetail(entry))
}

// add takes entry, the next index's, into the batch's new entries, where the entries after it
// in the batch find it by report ID and index.
func (a *appender) add(entry store.Entry, content []byte) {
	s := &stored{Entry: entry, content: bytes.Clone(nullBytes(content))}
	a.added = append(a.added, s)
	if entry.ReportID != "" {
		a.byReportID[entry.ReportID] = s
	}
	a.byIndex[entry.Index] = s
	a.next++
}

// queueWrites queues the writes of the batch's new entries, the final state of every precinct
// they changed and the audit rows: three statements.
func (a *appender) queueWrites(b *pgx.Batch) {
	if n := len(a.added); n > 0 {
		idx, received, counts := make([]int64, n), make([]int64, n), make([]*int64, n)
		kind, precinct, submitter, channel, status := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		reportID := make([]*string, n)
		body, hash, content := make([][]byte, n), make([][]byte, n), make([][]byte, n)
		for i, s := range a.added {
			idx[i], received[i] = s.Index, ms(s.ReceivedAt)
			kind[i], precinct[i], submitter[i] = string(s.Kind), s.PrecinctID, s.Submitter
			channel[i], status[i], reportID[i] = string(s.Channel), string(s.Status), nullString(s.ReportID)
			body[i], hash[i], content[i] = s.Body, s.LeafHash[:], s.content
			if s.Counts != store.NoIndex {
				counts[i] = &s.Counts
			}
		}
		b.Queue(insertEntries, idx, kind, precinct, reportID, submitter, channel, received, body, hash, status, counts, content)
		n = len(a.touched)
		id, st, conflict := make([]string, n), make([]string, n), make([]bool, n)
		counted, reports, last, updated := make([]*int64, n), make([]int64, n), make([]int64, n), make([]int64, n)
		for i, p := range a.touched {
			s := a.states[p]
			id[i], st[i], conflict[i] = p, string(s.Status), s.Conflict
			reports[i], last[i], updated[i] = s.Reports, s.LastIndex, ms(s.UpdatedAt)
			if s.Counted != store.NoIndex {
				counted[i] = &s.Counted
			}
		}
		b.Queue(upsertPrecinctStates, id, st, counted, reports, conflict, last, updated)
	}
	n := len(a.audits)
	at, actor, kind, precinct, detail := make([]int64, n), make([]string, n), make([]string, n), make([]*string, n), make([]string, n)
	for i, r := range a.audits {
		at[i], actor[i], kind[i], precinct[i], detail[i] = ms(a.now), r.actor, r.kind, nullString(r.precinct), r.detail
	}
	b.Queue(insertAudits, at, actor, kind, precinct, detail)
}

// scanFunc is a scanner made of a function.
type scanFunc func(dest ...any) error

func (f scanFunc) Scan(dest ...any) error { return f(dest...) }

// nullBytes stores an empty or nil slice as NULL.
func nullBytes(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return b
}

// checkCounts checks that a review's Counts names a report or correction of its precinct.
func (a *appender) checkCounts(e *store.NewEntry) error {
	target, ok := a.byIndex[*e.Counts]
	if !ok {
		return fmt.Errorf("%w: review counts entry %d, which does not exist", store.ErrInvalid, *e.Counts)
	}
	if target.PrecinctID != e.PrecinctID || (target.Kind != store.KindReport && target.Kind != store.KindCorrection) {
		return fmt.Errorf("%w: review of %q counts entry %d, a %s of %q", store.ErrInvalid,
			e.PrecinctID, *e.Counts, target.Kind, target.PrecinctID)
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

// audited adds the entry's one audit row to the batch's and returns r.
func (a *appender) audited(r store.AppendResult, e *store.NewEntry, kind store.AuditKind, detail any) (store.AppendResult, error) {
	actor := e.Submitter
	if actor == "" {
		actor = "unknown"
	}
	js, err := json.Marshal(detail)
	if err != nil {
		return store.AppendResult{}, fmt.Errorf("audit detail: %w", err)
	}
	a.audits = append(a.audits, auditRow{actor: actor, kind: string(kind), precinct: e.PrecinctID, detail: string(js)})
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
