package intake_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"slices"
	"sync"
	"testing"

	"caucus/internal/election"
	"caucus/internal/intake"
	"caucus/internal/report"
	"caucus/internal/rules"
	"caucus/internal/store"
	"caucus/internal/store/sqlite"
)

// The SQLite store serves the intake's interface directly.
var _ intake.Store = (*sqlite.DB)(nil)

var candidates = []string{"adams", "baker", "clark", "davis"}

// definition is a small election: one county, four precincts electing 4 to 7 delegates.
func definition(t *testing.T) *election.Definition {
	t.Helper()
	return definitionOf(t, 4)
}

// definitionOf is an election of n precincts electing 4 to 7 delegates.
func definitionOf(t *testing.T, n int) *election.Definition {
	t.Helper()
	e := election.Election{ID: "intake-2020", Name: "Intake test", Date: "2020-02-03", Rules: election.RulesIowa}
	for _, c := range candidates {
		e.Candidates = append(e.Candidates, election.Candidate{ID: c, Name: c})
	}
	var ps []election.Precinct
	total := 0
	for i := range n {
		ps = append(ps, election.Precinct{ID: fmt.Sprintf("p%d", i), CountyID: "alpha", Name: fmt.Sprintf("Precinct %d", i), DelegatesToElect: 4 + i%4})
		total += 4 + i%4
	}
	sde, err := election.ParseSDE("2")
	if err != nil {
		t.Fatal(err)
	}
	def, err := election.New(e, []election.County{{ID: "alpha", Name: "Alpha", CountyDelegates: total, StateDelegates: sde}}, ps)
	if err != nil {
		t.Fatal(err)
	}
	return def
}

// valid is a report for precinct p with numbers chosen by seed and no check at all.
func valid(t *testing.T, def *election.Definition, p, reportID string, seed int) report.Report {
	t.Helper()
	facts := report.Facts(def)[p]
	for s := seed; s < seed+1000; s++ {
		first := map[string]int64{"adams": int64(40 + s%17), "baker": int64(27 + s%7), "clark": int64(13 + s%5), "davis": 3}
		final := map[string]int64{"adams": first["adams"], "baker": first["baker"] + 3, "clark": first["clark"]}
		r := report.Report{ReportID: reportID, PrecinctID: p, Attendees: first["adams"] + first["baker"] + first["clark"] + 3,
			First: first, Final: final, Channel: report.ChannelApp}
		if res := rules.Calc(report.CalcInput(r, facts)); len(res.Checks) == 0 {
			return r
		}
	}
	t.Fatalf("no valid report for %s", p)
	return report.Report{}
}

// cancelKey carries, in a submission's context, the function that cancels it.
type cancelKey struct{}

// observed is the real SQLite store with what the tests watch: the order of events around
// Append, and a hook that cancels a submission's context once its last read before queueing is
// done (EntryByReportID), so that Submit returns as soon as its report is queued, without a
// committer running.
type observed struct {
	*sqlite.DB
	mu     sync.Mutex
	events []string
	// hold, when set, is called by Append before the real one (a slow or stalled disk), and
	// readHold by EntryByReportID (reads queueing for the database).
	hold, readHold func()
}

func (o *observed) event(s string) {
	o.mu.Lock()
	o.events = append(o.events, s)
	o.mu.Unlock()
}

func (o *observed) Append(ctx context.Context, batch []store.NewEntry) ([]store.AppendResult, error) {
	o.mu.Lock()
	hold := o.hold
	o.mu.Unlock()
	if hold != nil {
		hold()
	}
	res, err := o.DB.Append(ctx, batch)
	o.event(fmt.Sprintf("append returned %d", len(batch)))
	return res, err
}

func (o *observed) EntryByReportID(ctx context.Context, reportID string) (store.Entry, error) {
	o.mu.Lock()
	hold := o.readHold
	o.mu.Unlock()
	if hold != nil {
		hold()
	}
	st, err := o.DB.EntryByReportID(ctx, reportID)
	if cancel, ok := ctx.Value(cancelKey{}).(context.CancelFunc); ok {
		cancel()
	}
	return st, err
}

type fixture struct {
	t   *testing.T
	def *election.Definition
	st  *observed
	in  *intake.Intake

	mu      sync.Mutex
	batches []int
	told    chan int64 // the log size after each commit, as the followers are told it
}

func newFixture(t *testing.T, maxBatch, queue int, opts ...func(*intake.Config)) *fixture {
	t.Helper()
	return newFixtureOf(t, definition(t), maxBatch, queue, opts...)
}

// newFixtureOf is newFixture for an election def, with opts applied to the intake's Config.
func newFixtureOf(t *testing.T, def *election.Definition, maxBatch, queue int, opts ...func(*intake.Config)) *fixture {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "caucus.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.InitSettings(ctx, def.Election().ID); err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, def: def, st: &observed{DB: db}, told: make(chan int64, 100)}
	cfg := intake.Config{Store: f.st, Def: def, MaxBatch: maxBatch, Queue: queue,
		Committed: func(size int64) { f.told <- size },
		CommittedLeaves: func(size int64, leaves []intake.Leaf) {
			// The followers are told after the commit: every leaf is stored, byte for byte.
			for _, l := range leaves {
				es, err := db.Entries(context.Background(), l.Index, l.Index+1)
				if err != nil || len(es) != 1 || string(es[0].Body) != string(l.Body) {
					t.Errorf("followers told of entry %d before it is stored: %v", l.Index, err)
				}
			}
			f.st.event(fmt.Sprintf("followers told %d", size))
			f.told <- size
		},
		BatchSize: func(n int) {
			f.mu.Lock()
			f.batches = append(f.batches, n)
			f.mu.Unlock()
		}}
	for _, o := range opts {
		o(&cfg)
	}
	f.in = intake.New(cfg)
	return f
}

// run runs the committer until the test ends.
func (f *fixture) run() {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { f.in.Run(ctx); close(done) }()
	f.t.Cleanup(func() { cancel(); <-done })
}

func (f *fixture) submit(r report.Report) intake.Outcome {
	f.t.Helper()
	out, err := f.in.Submit(context.Background(), r, intake.Submitter{ID: r.PrecinctID})
	if err != nil {
		f.t.Fatalf("submit %s: %v", r.ReportID, err)
	}
	return out
}

// queue submits r and returns once it is queued (context.Canceled) or refused (ErrBusy).
func (f *fixture) queue(r report.Report) error {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_, err := f.in.Submit(context.WithValue(ctx, cancelKey{}, cancel), r, intake.Submitter{ID: r.PrecinctID})
	return err
}

func (f *fixture) size() int64 {
	f.t.Helper()
	n, err := f.st.Size(context.Background())
	if err != nil {
		f.t.Fatal(err)
	}
	return n
}

// audited counts the audit rows of a kind.
func (f *fixture) audited(kind store.AuditKind) int {
	f.t.Helper()
	rows, err := f.st.Audit(context.Background(), 0, 1000)
	if err != nil {
		f.t.Fatal(err)
	}
	n := 0
	for _, a := range rows {
		if a.Kind == kind {
			n++
		}
	}
	return n
}

// TestCommittedBeforeReceipt: the receipt comes after the commit and after the followers are
// told, and says what the store holds.
func TestCommittedBeforeReceipt(t *testing.T) {
	f := newFixture(t, 0, 0)
	f.run()
	r := valid(t, f.def, "p1", "r1", 0)
	out := f.submit(r)
	f.st.event("receipt")
	if out.Kind != intake.Stored {
		t.Fatalf("outcome %d, want Stored", out.Kind)
	}
	if want := []string{"append returned 1", "followers told 1", "receipt"}; !slices.Equal(f.st.events, want) {
		t.Errorf("events %q, want %q", f.st.events, want)
	}
	e, err := f.st.EntryByReportID(context.Background(), "r1")
	if err != nil {
		t.Fatal(err)
	}
	rc := out.Receipt
	if rc.LogIndex != e.Index || rc.LeafHash != report.HexHash(e.LeafHash) || rc.LeafHash != report.HexHash(store.LeafHash(e.Body)) ||
		rc.Status != "accepted" || rc.ReceivedAt != report.FormatTime(e.ReceivedAt) || rc.ElectionID != "intake-2020" {
		t.Errorf("receipt %+v, stored %+v", rc, e)
	}
	leaf, err := report.ParseEntry(e.Body)
	if err != nil || leaf.Report == nil || string(leaf.Report.Canonical()) != string(r.Canonical()) || leaf.Submitter != "p1" {
		t.Errorf("the stored leaf %+v (%v) is not the report", leaf, err)
	}
	if f.audited(store.AuditReportAccepted) != 1 {
		t.Errorf("no audit row for the accepted report")
	}
}

// TestReportIDIdempotent: the same report again gets the same receipt; another report under the
// same report_id is refused with the original's receipt; either way nothing more is stored.
func TestReportIDIdempotent(t *testing.T) {
	f := newFixture(t, 0, 0)
	f.run()
	r := valid(t, f.def, "p0", "r1", 0)
	first := f.submit(r)
	again := f.submit(r)
	if again.Kind != intake.Same || !reflect.DeepEqual(again.Receipt, first.Receipt) {
		t.Errorf("the same report again: %d %+v, want Same %+v", again.Kind, again.Receipt, first.Receipt)
	}
	other := valid(t, f.def, "p0", "r1", 5)
	reused := f.submit(other)
	if reused.Kind != intake.Reused || reused.Receipt.LogIndex != first.Receipt.LogIndex || reused.Receipt.LeafHash != first.Receipt.LeafHash {
		t.Errorf("another report under r1: %d %+v, want Reused with the original's receipt", reused.Kind, reused.Receipt)
	}
	if n := f.size(); n != 1 {
		t.Errorf("log size %d, want 1", n)
	}
	if f.audited(store.AuditReportIDReused) != 1 {
		t.Errorf("no audit row keeps the reused report_id's body")
	}
}

// TestSameContentOtherReportID is reliability.md C4: the same numbers for a precinct under another
// report_id (a double tap, the app and the hotline both) are counted once.
func TestSameContentOtherReportID(t *testing.T) {
	f := newFixture(t, 0, 0)
	f.run()
	r := valid(t, f.def, "p2", "app-1", 0)
	first := f.submit(r)
	hotline := r
	hotline.ReportID, hotline.Channel = "hotline-1", report.ChannelHotline
	out := f.submit(hotline)
	if out.Kind != intake.Same || !out.SameNumbers || out.Receipt.LogIndex != first.Receipt.LogIndex || out.Receipt.ReportID != "app-1" {
		t.Errorf("the same numbers again: %d %+v, want Same (same numbers) with app-1's receipt", out.Kind, out.Receipt)
	}
	if again := f.submit(r); again.Kind != intake.Same || again.SameNumbers {
		t.Errorf("app-1 itself again: %d, same numbers %v; want Same by its report_id", again.Kind, again.SameNumbers)
	}
	if n := f.size(); n != 1 {
		t.Errorf("log size %d, want 1", n)
	}
	if f.audited(store.AuditReportDup) != 1 {
		t.Errorf("no audit row for the duplicate")
	}
}

// TestSecondReportKeptAndFlagged: a different report for a precinct already counting one is
// stored, flagged, and the precinct goes to review with the first still counted.
func TestSecondReportKeptAndFlagged(t *testing.T) {
	f := newFixture(t, 0, 0)
	f.run()
	first := f.submit(valid(t, f.def, "p3", "a", 0))
	second := f.submit(valid(t, f.def, "p3", "b", 5))
	if second.Kind != intake.Conflict || second.Receipt.Status != "under_review" || second.Receipt.LogIndex != first.Receipt.LogIndex+1 {
		t.Fatalf("second report: %d %+v, want Conflict stored under review", second.Kind, second.Receipt)
	}
	st, err := f.st.PrecinctState(context.Background(), "p3")
	if err != nil {
		t.Fatal(err)
	}
	if st.Status != store.StatusUnderReview || !st.Conflict || st.Counted != first.Receipt.LogIndex || st.Reports != 2 {
		t.Errorf("precinct state %+v", st)
	}
}

// TestHardErrorsRefused: a report with hard errors, or for a precinct not in the election, is
// refused with its checks and nothing is stored in the log.
func TestHardErrorsRefused(t *testing.T) {
	f := newFixture(t, 0, 0)
	f.run()
	bad := valid(t, f.def, "p1", "bad", 0)
	bad.Final = map[string]int64{"adams": bad.First["adams"] + 50} // more in the final alignment than the first
	out := f.submit(bad)
	if out.Kind != intake.Refused || !slices.ContainsFunc(out.Checks, func(c rules.Check) bool { return c.Severity == rules.Error }) {
		t.Errorf("report with hard errors: %d %+v, want Refused with its errors", out.Kind, out.Checks)
	}
	nowhere := valid(t, f.def, "p1", "nowhere", 0)
	nowhere.PrecinctID = "p9"
	if out := f.submit(nowhere); out.Kind != intake.Refused || out.Message == "" {
		t.Errorf("report for no precinct: %+v, want Refused saying why", out)
	}
	if n := f.size(); n != 0 {
		t.Errorf("log size %d after refusals, want 0", n)
	}
	if _, err := f.st.EntryByReportID(context.Background(), "bad"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the refused report is stored: %v", err)
	}
	if f.audited(store.AuditReportRejected) != 1 {
		t.Errorf("no audit row for the refused report")
	}
}

// TestQueueFull: past the queue's bound a submission is refused at once with ErrBusy and never
// stored; what was queued is committed when the committer runs; after it stops, ErrClosed.
func TestQueueFull(t *testing.T) {
	f := newFixture(t, 0, 2)
	for i, p := range []string{"p0", "p1"} {
		if err := f.queue(valid(t, f.def, p, fmt.Sprint("q", i), 0)); !errors.Is(err, context.Canceled) {
			t.Fatalf("queueing %s: %v", p, err)
		}
	}
	if err := f.queue(valid(t, f.def, "p2", "over", 0)); !errors.Is(err, intake.ErrBusy) {
		t.Fatalf("a third report in a queue of two: %v, want ErrBusy", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { f.in.Run(ctx); close(done) }()
	if size := <-f.told; size != 2 {
		t.Errorf("followers told of size %d, want 2", size)
	}
	cancel()
	<-done
	if _, err := f.st.EntryByReportID(context.Background(), "over"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the report refused as busy is stored: %v", err)
	}
	if n := f.size(); n != 2 {
		t.Errorf("log size %d, want the 2 queued", n)
	}
	if _, err := f.in.Submit(context.Background(), valid(t, f.def, "p3", "late", 0), intake.Submitter{ID: "p3"}); !errors.Is(err, intake.ErrClosed) {
		t.Errorf("submit after the committer stopped: %v, want ErrClosed", err)
	}
}

// TestGroupCommit: reports queued together are committed in batches of at most MaxBatch, one
// Append each, at dense indices.
func TestGroupCommit(t *testing.T) {
	f := newFixture(t, 3, 16)
	for i := range 8 {
		p := fmt.Sprint("p", i%4)
		if err := f.queue(valid(t, f.def, p, fmt.Sprint("g", i), i*5)); !errors.Is(err, context.Canceled) {
			t.Fatalf("queueing report %d: %v", i, err)
		}
	}
	f.run()
	for got := int64(0); got < 8; {
		got = <-f.told
	}
	f.mu.Lock()
	batches := slices.Clone(f.batches)
	f.mu.Unlock()
	if !slices.Equal(batches, []int{3, 3, 2}) {
		t.Errorf("batches %v, want [3 3 2]", batches)
	}
	if appends := slices.DeleteFunc(slices.Clone(f.st.events), func(e string) bool { return e[0] != 'a' }); len(appends) != 3 {
		t.Errorf("%d Appends for 3 batches: %q", len(appends), appends)
	}
	es, err := f.st.Entries(context.Background(), 0, 8)
	if err != nil || len(es) != 8 {
		t.Fatalf("%d entries stored, want 8: %v", len(es), err)
	}
	for i, e := range es {
		if e.Index != int64(i) || e.ReportID != fmt.Sprint("g", i) {
			t.Errorf("entry %d is %s at %d, want g%d in queue order", i, e.ReportID, e.Index, i)
		}
	}
}
