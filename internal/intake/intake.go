// Package intake is the one path every precinct report takes, whatever its channel (the chair's
// app, a hotline operator, a paper worksheet keyed at headquarters): the caucus math
// (internal/rules) refuses hard errors, then the report is appended to the store's log in one
// transaction, and only after that commit is durable does the submitter get a receipt.
//
// Concurrent submissions are committed together (group commit): one goroutine drains a bounded
// queue into batches of up to Config.MaxBatch entries and appends each batch with one
// store.Append, so hundreds of chairs do not queue behind one fsync each. When the queue is full
// the submission is refused at once with ErrBusy (the server answers 503 with Retry-After):
// never a late or false acknowledgement.
//
// It is not HTTP (internal/server), nor the totals (internal/tally), which follow the log.
package intake

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"caucus/internal/election"
	"caucus/internal/report"
	"caucus/internal/rules"
	"caucus/internal/store"
)

// Defaults for Config.
const (
	// DefaultMaxBatch bounds one group commit: 128 entries of ~600 bytes commit in about a
	// millisecond on SQLite; more would only delay the first of them.
	DefaultMaxBatch = 128
	// DefaultQueue bounds the submissions waiting for a commit; beyond it the server is over
	// capacity and says so (503) instead of piling up memory and latency.
	DefaultQueue = 1024
)

// ErrBusy means the queue is full: nothing was stored; the client retries later.
var ErrBusy = errors.New("intake: too many reports waiting to be stored")

// ErrClosed means the intake has stopped: nothing was stored.
var ErrClosed = errors.New("intake: stopped")

// Store is what the intake reads and appends: the store.Store methods it calls, so that
// store/sqlite serves it directly and a test or another backend provides only these.
// Durability, idempotence and sentinels are store.Store's, method by method.
type Store interface {
	Append(ctx context.Context, batch []store.NewEntry) ([]store.AppendResult, error)
	Size(ctx context.Context) (int64, error)
	Entries(ctx context.Context, from, to int64) ([]store.Entry, error)
	EntryByReportID(ctx context.Context, reportID string) (store.Entry, error)
	PrecinctState(ctx context.Context, precinctID string) (store.PrecinctState, error)
	AddAudit(ctx context.Context, a store.NewAudit) (store.AuditRecord, error)
}

// Config sets up an Intake.
type Config struct {
	Store    Store
	Def      *election.Definition
	Now      func() time.Time // the clock; nil: time.Now
	Log      *slog.Logger     // nil: discard
	MaxBatch int              // 0: DefaultMaxBatch
	Queue    int              // 0: DefaultQueue
	// Committed, if set, is called from the committing goroutine after each durable commit that
	// appended entries, with the log size after it, and after a failed commit with the store's
	// size then (a failed commit may have happened all the same). It must not block for long.
	Committed func(size int64)
	// CommittedLeaves, if set, is called instead of Committed after a durable commit that
	// appended entries, with the leaves of the entries it appended as parsed on the
	// submitters' goroutines, so that the followers need not parse them again.
	CommittedLeaves func(size int64, leaves []Leaf)
	// BatchSize, if set, observes each commit's batch size (metrics).
	BatchSize func(n int)
}

// Leaf is an appended entry's leaf: Body, the stored bytes, and Entry, report.ParseEntry(Body).
type Leaf struct {
	Index int64
	Body  []byte
	Entry report.Entry
}

// Intake accepts reports. Its methods are safe for concurrent use.
type Intake struct {
	cfg      Config
	queue    chan *pending
	precinct map[string]report.Precinct // the math's facts per precinct
	stopOnce sync.Once
	stopped  chan struct{}
}

// New makes an Intake; Run commits what Submit queues.
func New(cfg Config) *Intake {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.MaxBatch <= 0 {
		cfg.MaxBatch = DefaultMaxBatch
	}
	if cfg.Queue <= 0 {
		cfg.Queue = DefaultQueue
	}
	return &Intake{cfg: cfg, queue: make(chan *pending, cfg.Queue), precinct: report.Facts(cfg.Def), stopped: make(chan struct{})}
}

// Kind is how a submission ended.
type Kind int

// The outcomes of Submit; the server maps them to the contract's statuses.
const (
	Stored   Kind = iota + 1 // stored: 201
	Same                     // the same report again (or the same numbers already counted): 200
	Conflict                 // stored, but the precinct already had a report: kept, flagged; 409
	Reused                   // the report_id was used for a different report: nothing stored; 409
	Refused                  // hard errors or an unknown precinct: nothing stored; 422
)

// Outcome is the answer to one submission.
type Outcome struct {
	Kind    Kind
	Receipt *report.Receipt // New, Same, Conflict: this report's; Reused: the original's
	Checks  []rules.Check   // every check that fired (Refused: the errors among them)
	Message string          // Refused without checks: why
}

// Submitter is who submits: a chair (the precinct id) or a staff username.
type Submitter struct {
	ID string
}

type pending struct {
	entry  store.NewEntry
	rep    report.Report
	parsed *report.Entry // the entry entry.Body encodes, for the followers
	done   chan result
}

type result struct {
	res store.AppendResult
	err error
}

// Submit validates a report, stores it durably and returns the outcome. Errors are ErrBusy,
// ErrClosed, the context's error (the report may or may not be stored: retrying with the same
// report_id is always safe) or a store failure.
func (in *Intake) Submit(ctx context.Context, r report.Report, who Submitter) (Outcome, error) {
	facts, ok := in.precinct[r.PrecinctID]
	if !ok {
		return Outcome{Kind: Refused, Message: fmt.Sprintf("precinct %q is not in this election", r.PrecinctID)}, nil
	}
	res := rules.Calc(report.CalcInput(r, facts))
	if res.HasErrors() {
		var errs []rules.Check
		for _, c := range res.Checks {
			if c.Severity == rules.Error {
				errs = append(errs, c)
			}
		}
		in.audit(ctx, who, store.AuditReportRejected, r.PrecinctID, map[string]any{"report_id": r.ReportID, "checks": ids(errs)})
		return Outcome{Kind: Refused, Checks: res.Checks}, nil
	}
	// The same report_id already stored: the same report again, or a different one.
	if e, err := in.cfg.Store.EntryByReportID(ctx, r.ReportID); err == nil {
		return in.again(ctx, r, e, who)
	} else if !errors.Is(err, store.ErrNotFound) {
		return Outcome{}, fmt.Errorf("look up report_id: %w", err)
	}
	// The same numbers already counted for this precinct under another report_id (a double
	// tap, or the app and the hotline both): counted once (reliability.md C4).
	if o, ok, err := in.sameContent(ctx, r, who); err != nil || ok {
		return o, err
	}
	status := store.StatusAccepted
	if len(res.Checks) > 0 {
		status = store.StatusUnderReview // warnings: accepted, counted, flagged for review
	}
	if len(r.Tiebreaks) == 0 {
		r.Tiebreaks = nil // as decoding the leaf would give it
	}
	now := in.cfg.Now().UTC().Truncate(time.Millisecond)
	leaf := report.Entry{Kind: report.KindReport, ElectionID: in.cfg.Def.Election().ID, PrecinctID: r.PrecinctID,
		ReportID: r.ReportID, ReceivedAt: report.FormatTime(now), Submitter: who.ID, Channel: r.Channel, Report: &r}
	p := &pending{rep: r, done: make(chan result, 1), entry: store.NewEntry{
		Kind: store.KindReport, PrecinctID: r.PrecinctID, ReportID: r.ReportID, Submitter: who.ID,
		Channel: store.Channel(r.Channel), ReceivedAt: now, Body: leaf.Marshal(), Status: status}}
	// The tally takes this entry as it would parse it from the leaf, without parsing its own
	// bytes back on the one goroutine that commits: decoding a report's canonical form gives
	// the same value (report's FuzzDecode), and the B0 check of every server test compares the
	// live tally with a recount parsed from the stored leaves.
	p.parsed = &leaf
	select {
	case <-in.stopped:
		return Outcome{}, ErrClosed
	default:
	}
	select {
	case in.queue <- p:
	default:
		return Outcome{}, ErrBusy
	}
	var done result
	select {
	case done = <-p.done:
	case <-ctx.Done():
		return Outcome{}, ctx.Err()
	}
	if done.err != nil {
		return Outcome{}, done.err
	}
	switch done.res.Outcome {
	case store.Appended:
		return Outcome{Kind: Stored, Receipt: in.receipt(done.res.Entry, res.Checks), Checks: res.Checks}, nil
	case store.Conflict:
		return Outcome{Kind: Conflict, Receipt: in.receipt(done.res.Entry, res.Checks), Checks: res.Checks}, nil
	case store.Duplicate, store.ReportIDReused:
		// Another submission of this report_id committed first.
		return in.again(ctx, r, done.res.Entry, who)
	}
	return Outcome{}, fmt.Errorf("store refused the entry: %w", done.res.Err)
}

// again answers a report whose report_id is already stored in e.
func (in *Intake) again(ctx context.Context, r report.Report, e store.Entry, who Submitter) (Outcome, error) {
	stored, err := report.ParseEntry(e.Body)
	if err != nil || stored.Report == nil {
		return Outcome{}, fmt.Errorf("stored entry %d does not parse: %v", e.Index, err)
	}
	checks := in.checksOf(*stored.Report)
	if bytes.Equal(stored.Report.Canonical(), r.Canonical()) {
		return Outcome{Kind: Same, Receipt: in.receipt(e, checks), Checks: checks}, nil
	}
	in.audit(ctx, who, store.AuditReportIDReused, r.PrecinctID, map[string]any{
		"report_id": r.ReportID, "original_index": e.Index, "body": json.RawMessage(r.Canonical())})
	return Outcome{Kind: Reused, Receipt: in.receipt(e, checks), Checks: checks}, nil
}

// sameContent finds the precinct's counted report when it has exactly r's numbers.
func (in *Intake) sameContent(ctx context.Context, r report.Report, who Submitter) (Outcome, bool, error) {
	st, err := in.cfg.Store.PrecinctState(ctx, r.PrecinctID)
	if err != nil || st.Counted == store.NoIndex {
		if errors.Is(err, store.ErrNotFound) {
			err = nil
		}
		return Outcome{}, false, err
	}
	es, err := in.cfg.Store.Entries(ctx, st.Counted, st.Counted+1)
	if err != nil || len(es) != 1 {
		return Outcome{}, false, err
	}
	counted, err := report.ParseEntry(es[0].Body)
	if err != nil || counted.Report == nil || !sameNumbers(*counted.Report, r) {
		return Outcome{}, false, nil
	}
	in.audit(ctx, who, store.AuditReportDup, r.PrecinctID, map[string]any{
		"report_id": r.ReportID, "same_numbers_as_index": es[0].Index})
	checks := in.checksOf(*counted.Report)
	return Outcome{Kind: Same, Receipt: in.receipt(es[0], checks), Checks: checks}, true, nil
}

// sameNumbers compares what the math reads of two reports.
func sameNumbers(a, b report.Report) bool {
	a.ReportID, a.Channel, a.PhotoSHA256 = "", "", ""
	b.ReportID, b.Channel, b.PhotoSHA256 = "", "", ""
	return bytes.Equal(a.Canonical(), b.Canonical())
}

func (in *Intake) checksOf(r report.Report) []rules.Check {
	return rules.Calc(report.CalcInput(r, in.precinct[r.PrecinctID])).Checks
}

func (in *Intake) receipt(e store.Entry, checks []rules.Check) *report.Receipt {
	if checks == nil {
		checks = []rules.Check{}
	}
	el := in.cfg.Def.Election()
	return &report.Receipt{ReportID: e.ReportID, PrecinctID: e.PrecinctID, ElectionID: el.ID, LogIndex: e.Index,
		LeafHash: report.HexHash(e.LeafHash), ReceivedAt: report.FormatTime(e.ReceivedAt), Status: string(e.Status),
		Checks: checks, Practice: el.Practice}
}

func (in *Intake) audit(ctx context.Context, who Submitter, kind store.AuditKind, precinct string, detail map[string]any) {
	b, _ := json.Marshal(detail)
	if _, err := in.cfg.Store.AddAudit(ctx, store.NewAudit{Actor: who.ID, Kind: kind, PrecinctID: precinct, Detail: b}); err != nil {
		in.cfg.Log.ErrorContext(ctx, "audit row not written", slog.String("kind", string(kind)), slog.Any("err", err))
	}
}

func ids(cs []rules.Check) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = string(c.ID)
	}
	return out
}

// Run commits queued submissions until ctx is done, then finishes the batch in hand (a commit
// already started always completes) and refuses what is still queued with ErrClosed.
func (in *Intake) Run(ctx context.Context) {
	defer in.stop()
	batch := make([]*pending, 0, in.cfg.MaxBatch)
	for {
		select {
		case <-ctx.Done():
			return
		case p := <-in.queue:
			batch = append(batch[:0], p)
		fill:
			for len(batch) < in.cfg.MaxBatch {
				select {
				case p := <-in.queue:
					batch = append(batch, p)
				default:
					break fill
				}
			}
			in.commit(batch)
		}
	}
}

func (in *Intake) stop() {
	in.stopOnce.Do(func() { close(in.stopped) })
	for {
		select {
		case p := <-in.queue:
			p.done <- result{err: ErrClosed}
		default:
			return
		}
	}
}

// commit appends one batch. It does not use the server's context: a commit once started is
// finished, so that shutdown never leaves an acknowledged-or-not question open.
func (in *Intake) commit(batch []*pending) {
	entries := make([]store.NewEntry, len(batch))
	for i, p := range batch {
		entries[i] = p.entry
	}
	if in.cfg.BatchSize != nil {
		in.cfg.BatchSize(len(batch))
	}
	results, err := in.cfg.Store.Append(context.Background(), entries)
	if err != nil {
		in.cfg.Log.Error("commit failed", slog.Int("batch", len(batch)), slog.Any("err", err))
		// The error may be ambiguous: the batch may be stored all the same, and a retry with
		// the same report_id then answers 200 from the store without any commit. Bring the
		// followers up to the log as it is, so that retry's receipt is never ahead of the
		// results (reliability.md D3 (b); no stale read after an acknowledgement).
		if size, serr := in.cfg.Store.Size(context.Background()); serr == nil && in.cfg.Committed != nil {
			in.cfg.Committed(size)
		}
		for _, p := range batch {
			p.done <- result{err: fmt.Errorf("store: %w", err)}
		}
		return
	}
	// Tell the followers (the tally) before answering, so that a client that has its receipt
	// reads results that include its report (no stale read after an acknowledgement).
	var size int64 = -1
	for _, r := range results {
		if r.Outcome == store.Appended || r.Outcome == store.Conflict {
			size = max(size, r.Entry.Index+1)
		}
	}
	switch {
	case size >= 0 && in.cfg.CommittedLeaves != nil:
		leaves := make([]Leaf, 0, len(batch))
		for i, r := range results {
			if p := batch[i]; p.parsed != nil && (r.Outcome == store.Appended || r.Outcome == store.Conflict) {
				leaves = append(leaves, Leaf{Index: r.Entry.Index, Body: p.entry.Body, Entry: *p.parsed})
			}
		}
		in.cfg.CommittedLeaves(size, leaves)
	case size >= 0 && in.cfg.Committed != nil:
		in.cfg.Committed(size)
	}
	for i, p := range batch {
		p.done <- result{res: results[i]}
	}
}
