// Package intake is the one path every precinct report takes, whatever its channel (the chair's
// app, a hotline operator, a paper worksheet keyed at headquarters): the caucus math
// (internal/rules) refuses hard errors, then the report is appended to the store's log in one
// transaction, and only after that commit is durable does the submitter get a receipt.
//
// Concurrent submissions are committed together (group commit): one goroutine drains a bounded
// queue into batches of up to Config.MaxBatch entries and appends each batch with one
// store.Append, so hundreds of chairs do not queue behind one fsync each.
//
// Load shedding (spec/reliability.md O1): a submission is admitted only while the wait it can
// expect, the commits ahead of it at the cost per report the committer measures, stays within
// Config.MaxWait, and while fewer are in flight than a limit which answers later than MaxWait
// shrink and answers in time grow (it sees what the commits' cost does not: reads queueing for
// the database, a starved CPU). Beyond that, or when the queue is full, it is refused at once
// with ErrBusy (the server answers 503 with Retry-After): never a late or false acknowledgement.
//
// The same numbers under a second report_id (a double tap, the app and the hotline both) are
// recognised by the store inside the appending transaction, from a digest of what the report
// says (store.NewEntry.Content): counted once, whatever the timing (reliability.md C4).
//
// It is not HTTP (internal/server), nor the totals (internal/tally), which follow the log.
package intake

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
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
	// DefaultMaxWait bounds the commit wait a submission is admitted to: half of the one-second
	// p99 the spec asks of an acknowledgement (reliability.md O1), the other half left for the
	// HTTP work around it on a loaded machine.
	DefaultMaxWait = 500 * time.Millisecond
	// initialCost is the cost per report assumed until commits under load are measured: about
	// what full batches cost on a 2-core machine (bench/results.md: 5,284 reports/s through
	// HTTP). A stalled or slow disk is seen before any commit ends, by expectedWait.
	initialCost = 250 * time.Microsecond
)

// ErrBusy means the server is at capacity (the expected wait is over Config.MaxWait, or the
// queue is full): nothing was stored; the client retries later with the same report_id.
var ErrBusy = errors.New("intake: too many reports waiting to be stored")

// ErrClosed means the intake has stopped: nothing was stored.
var ErrClosed = errors.New("intake: stopped")

// Store is what the intake reads and appends: the store.Store methods it calls, so that
// store/sqlite serves it directly and a test or another backend provides only these.
// Durability, idempotence and sentinels are store.Store's, method by method.
type Store interface {
	Append(ctx context.Context, batch []store.NewEntry) ([]store.AppendResult, error)
	Size(ctx context.Context) (int64, error)
	EntryByReportID(ctx context.Context, reportID string) (store.Entry, error)
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
	// MaxWait bounds the wait for a commit that a submission is admitted to (load shedding);
	// 0: DefaultMaxWait. At least MaxBatch submissions are always admitted, so that a slow
	// commit never stops the intake altogether.
	MaxWait time.Duration
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

	// Admission (load shedding). inFlight counts the submissions admitted and not yet answered
	// (being checked, queued, or in the batch being committed); cost is the commit time per
	// report the committer last measured, smoothed (nanoseconds); since is when the commit
	// under way started (Config.Now, Unix nanoseconds), 0 between commits.
	inFlight atomic.Int64
	cost     atomic.Int64
	since    atomic.Int64
	// limit bounds inFlight, between MaxBatch and MaxBatch + Queue: an answer later than
	// MaxWait cuts it by an eighth (once for the submissions admitted since the last cut),
	// an answer within half of MaxWait raises it by one. cut is when it was last cut
	// (Config.Now, Unix nanoseconds).
	limit atomic.Int64
	cut   atomic.Int64
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
	if cfg.MaxWait <= 0 {
		cfg.MaxWait = DefaultMaxWait
	}
	in := &Intake{cfg: cfg, queue: make(chan *pending, cfg.Queue), precinct: report.Facts(cfg.Def), stopped: make(chan struct{})}
	in.cost.Store(int64(initialCost))
	in.limit.Store(int64(cfg.MaxBatch + cfg.Queue))
	return in
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
	// SameNumbers, for Same, says that the report came under another report_id with the
	// numbers the precinct already counts: Receipt is the counted report's (an informational
	// flag: nothing was stored, nothing is under review).
	SameNumbers bool
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
	// Admitted before any work, the store's reads and audit rows included, so that shedding
	// costs the server nothing but the answer.
	if !in.admit() {
		return Outcome{}, ErrBusy
	}
	admitted, answered := in.cfg.Now(), true
	defer func() {
		if answered { // a submission given up by its caller tells nothing of the wait
			in.answered(admitted)
		}
	}()
	queued := false
	defer func() {
		if !queued {
			in.inFlight.Add(-1)
		}
	}()
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
		Channel: store.Channel(r.Channel), ReceivedAt: now, Body: leaf.Marshal(), Status: status,
		Content: content(r)}}
	// The tally takes this entry as it would parse it from the leaf, without parsing its own
	// bytes back on the one goroutine that commits: decoding a report's canonical form gives
	// the same value (report's FuzzDecode), and the B0 check of every server test compares the
	// live tally with a recount parsed from the stored leaves.
	p.parsed = &leaf
	select {
	case <-in.stopped:
		answered = false
		return Outcome{}, ErrClosed
	default:
	}
	select {
	case in.queue <- p:
		queued = true // the committer answers it and ends its admission
	default:
		answered = false
		return Outcome{}, ErrBusy
	}
	var done result
	select {
	case done = <-p.done:
	case <-ctx.Done():
		answered = false
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
	case store.SameContent:
		// The precinct counts these numbers already, under another report_id: counted once.
		return in.sameNumbers(done.res.Entry)
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

// sameNumbers answers a report the store found to be the counted entry e's numbers again.
func (in *Intake) sameNumbers(e store.Entry) (Outcome, error) {
	counted, err := report.ParseEntry(e.Body)
	if err != nil || counted.Report == nil {
		return Outcome{}, fmt.Errorf("counted entry %d does not parse: %v", e.Index, err)
	}
	checks := in.checksOf(*counted.Report)
	return Outcome{Kind: Same, Receipt: in.receipt(e, checks), Checks: checks, SameNumbers: true}, nil
}

// content is the digest of what the math reads of a report: the same for the same numbers
// under another report_id, by another channel, with or without a photo.
func content(r report.Report) []byte {
	r.ReportID, r.Channel, r.PhotoSHA256 = "", "", ""
	sum := sha256.Sum256(r.Canonical())
	return sum[:]
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
			start := in.cfg.Now()
			in.since.Store(start.UnixNano())
			answers := in.commit(batch)
			in.measure(in.cfg.Now().Sub(start), len(batch))
			in.since.Store(0)
			for i, p := range batch {
				in.inFlight.Add(-1)
				p.done <- answers[i]
			}
		}
	}
}

func (in *Intake) stop() {
	in.stopOnce.Do(func() { close(in.stopped) })
	for {
		select {
		case p := <-in.queue:
			in.inFlight.Add(-1)
			p.done <- result{err: ErrClosed}
		default:
			return
		}
	}
}

// admit reserves a place for one more submission if fewer than the limit are in flight and the
// wait it can expect is within MaxWait (expectedWait); the first MaxBatch submissions in flight
// are always admitted.
func (in *Intake) admit() bool {
	for {
		n := in.inFlight.Load()
		if in.refuses(n) {
			return false
		}
		if in.inFlight.CompareAndSwap(n, n+1) {
			return true
		}
	}
}

// refuses reports whether a submission would be refused with n in flight before it.
func (in *Intake) refuses(n int64) bool {
	return n >= int64(in.cfg.MaxBatch) && (n >= in.limit.Load() || in.expectedWait(n+1) > in.cfg.MaxWait)
}

// Busy reports whether a submission made now would be refused with ErrBusy for the load (a
// full queue aside), so that a front end can answer at once, before any work of its own. It
// reserves nothing: Submit decides.
func (in *Intake) Busy() bool { return in.refuses(in.inFlight.Load()) }

// expectedWait is how long the n-th submission in flight can expect to wait for its answer:
// n times the measured cost per report (the commits take them MaxBatch at a time, and the cost
// per report is measured at the batch sizes the load makes), plus the time the commit under way
// has run so far, which is what tells a stalled disk before any commit completes. It errs long,
// so that a report admitted is answered in time rather than a report refused needlessly.
func (in *Intake) expectedWait(n int64) time.Duration {
	var running time.Duration
	if since := in.since.Load(); since != 0 {
		running = max(0, in.cfg.Now().Sub(time.Unix(0, since)))
	}
	return running + time.Duration(n*in.cost.Load())
}

// answered moves the limit on a submission admitted at admitted being answered now: down by an
// eighth when it took longer than MaxWait (unless the limit was cut after it was admitted: one
// cut per round of late answers), up by one when it took at most half of MaxWait.
func (in *Intake) answered(admitted time.Time) {
	now := in.cfg.Now()
	switch took := now.Sub(admitted); {
	case took > in.cfg.MaxWait:
		last := in.cut.Load()
		if admitted.UnixNano() < last || !in.cut.CompareAndSwap(last, now.UnixNano()) {
			return // the limit was cut for this round of late answers already
		}
		in.moveLimit(func(l int64) int64 { return l - max(1, l/8) })
	case took <= in.cfg.MaxWait/2:
		in.moveLimit(func(l int64) int64 { return l + 1 })
	}
}

// moveLimit sets the limit to f of it, kept between MaxBatch and MaxBatch + Queue.
func (in *Intake) moveLimit(f func(int64) int64) {
	lo, hi := int64(in.cfg.MaxBatch), int64(in.cfg.MaxBatch+in.cfg.Queue)
	for {
		old := in.limit.Load()
		if in.limit.CompareAndSwap(old, min(hi, max(lo, f(old)))) {
			return
		}
	}
}

// measure folds one commit's time (the Append and the followers, for n submissions) into the
// cost per report, an exponentially weighted mean in which a commit weighs n/MaxBatch: a full
// batch, which is what a load worth shedding makes, sets the cost at once, while the commits of
// a quiet night, one report and one fsync each, would overstate it for a burst (the fsync is
// shared by a whole batch) and so move it little.
func (in *Intake) measure(took time.Duration, n int) {
	n = max(n, 1)
	per := int64(took) / int64(n)
	old := in.cost.Load()
	in.cost.Store(max(1, old+(per-old)*int64(n)/int64(max(in.cfg.MaxBatch, n))))
}

// commit appends one batch and returns the answers, in order. It does not use the server's
// context: a commit once started is finished, so that shutdown never leaves an
// acknowledged-or-not question open.
func (in *Intake) commit(batch []*pending) []result {
	answers := make([]result, len(batch))
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
		for i := range batch {
			answers[i] = result{err: fmt.Errorf("store: %w", err)}
		}
		return answers
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
	for i := range batch {
		answers[i] = result{res: results[i]}
	}
	return answers
}
