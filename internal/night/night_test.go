package night_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	"caucus/internal/election"
	"caucus/internal/intake"
	"caucus/internal/night"
	"caucus/internal/report"
	"caucus/internal/rules"
	"caucus/internal/server/servertest"
	"caucus/internal/store"
	"caucus/internal/store/sqlite"
	"caucus/internal/tally"
)

// The SQLite store serves the night's interface directly.
var _ night.Store = (*sqlite.DB)(nil)

// testNight is a night on a real SQLite file, running until the test ends.
type testNight struct {
	t     *testing.T
	def   *election.Definition
	path  string
	db    *sqlite.DB
	night *night.Night
	stop  func()
}

func openNight(t *testing.T, def *election.Definition, path string) *testNight {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	n, stop := runNight(t, def, db, func() { db.Close() })
	return &testNight{t: t, def: def, path: path, db: db, night: n, stop: stop}
}

// runNight opens a night of def on st and runs it until stop is called or the test ends;
// closeStore is called then, or at once if the night does not open.
func runNight(t *testing.T, def *election.Definition, st night.Store, closeStore func()) (n *night.Night, stop func()) {
	t.Helper()
	n, err := night.Open(context.Background(), night.Config{Def: def, Store: st})
	if err != nil {
		closeStore()
		t.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { n.Run(runCtx); close(done) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			<-done
			closeStore()
		})
	}
	t.Cleanup(stop)
	return n, stop
}

func startNight(t *testing.T) *testNight {
	return openNight(t, servertest.Definition(t, 4), filepath.Join(t.TempDir(), "caucus.db"))
}

// validReport is a report for precinct p with numbers chosen by seed and no error check.
func (tn *testNight) validReport(p, reportID string, seed int) report.Report {
	tn.t.Helper()
	facts := report.Facts(tn.def)[p]
	c := servertest.Candidates
	for s := seed; s < seed+1000; s++ {
		counts := []int64{int64(40 + s%17), int64(27 + s%7), int64(13 + s%5), 3}
		first := map[string]int64{}
		var total int64
		for i, k := range counts {
			first[c[i]] = k
			total += k
		}
		r := report.Report{ReportID: reportID, PrecinctID: p, Attendees: total, First: first, Channel: report.ChannelApp,
			Final: map[string]int64{c[0]: counts[0], c[1]: counts[1] + counts[3], c[2]: counts[2]}}
		if res := rules.Calc(report.CalcInput(r, facts)); !res.HasErrors() {
			return r
		}
	}
	tn.t.Fatalf("no valid report for %s", p)
	return report.Report{}
}

func (tn *testNight) submit(r report.Report, want intake.Kind) intake.Outcome {
	tn.t.Helper()
	out, err := tn.night.Submit(context.Background(), r, intake.Submitter{ID: r.PrecinctID})
	if err != nil {
		tn.t.Fatalf("submit %s: %v", r.ReportID, err)
	}
	if out.Kind != want {
		tn.t.Fatalf("submit %s: outcome %d, want %d (%+v)", r.ReportID, out.Kind, want, out)
	}
	return out
}

// precinctDoc is what the published results say of one precinct.
type precinctDoc struct {
	Status       string  `json:"status"`
	CountedEntry *int64  `json:"counted_entry"`
	Entries      []int64 `json:"entries"`
	Attendees    *int64  `json:"attendees"`
}

func (tn *testNight) published(p string) precinctDoc {
	tn.t.Helper()
	b, _, ok := tn.night.Snapshot().Precinct(p)
	if !ok {
		tn.t.Fatalf("no results for precinct %s", p)
	}
	var d precinctDoc
	if err := json.Unmarshal(b, &d); err != nil {
		tn.t.Fatal(err)
	}
	return d
}

// checkRecount checks that the live results are a recount of the stored log, byte for byte,
// and that a signed checkpoint covers every entry.
func (tn *testNight) checkRecount() {
	tn.t.Helper()
	ctx := context.Background()
	if err := tn.night.SignCheckpoint(ctx); err != nil {
		tn.t.Fatal(err)
	}
	size, err := tn.db.Size(ctx)
	if err != nil {
		tn.t.Fatal(err)
	}
	entries, err := tn.db.Entries(ctx, 0, size)
	if err != nil {
		tn.t.Fatal(err)
	}
	recount, err := tally.RecountWithLog(tn.def, entries, servertest.LogNames(tn.t, tn.db, tn.def, entries, ""))
	if err != nil {
		tn.t.Fatal(err)
	}
	if d := recount.Diff(tn.night.Snapshot()); d != "" {
		tn.t.Errorf("the live results differ from a recount of the log in %s", d)
	}
	if _, c := tn.night.Checkpoint(); c.N != size {
		tn.t.Errorf("checkpoint of size %d, the log holds %d", c.N, size)
	}
}

func (tn *testNight) state(p string) store.PrecinctState {
	tn.t.Helper()
	st, err := tn.db.PrecinctState(context.Background(), p)
	if err != nil {
		tn.t.Fatal(err)
	}
	return st
}

// TestDecideAcceptsConflictingReport: two different reports for a precinct put it under review
// with the first counted; the reviewer accepts the second, and the store's state, the log, the
// results and the subscribers all say so.
func TestDecideAcceptsConflictingReport(t *testing.T) {
	tn := startNight(t)
	ctx := context.Background()
	events, unsubscribe, err := tn.night.Subscribe()
	if err != nil {
		t.Fatal(err)
	}
	defer unsubscribe()
	a := tn.submit(tn.validReport("p0001", "a", 0), intake.Stored)
	second := tn.validReport("p0001", "b", 5)
	b := tn.submit(second, intake.Conflict)
	st := tn.state("p0001")
	if st.Status != store.StatusUnderReview || !st.Conflict || st.Counted != a.Receipt.LogIndex {
		t.Fatalf("after a conflict: %+v, want under_review, conflict, counting %d", st, a.Receipt.LogIndex)
	}
	if d := tn.published("p0001"); d.Status != "under_review" || *d.CountedEntry != a.Receipt.LogIndex {
		t.Fatalf("published after a conflict: %+v", d)
	}

	counts := b.Receipt.LogIndex
	e, err := tn.night.Decide(ctx, night.Decision{PrecinctID: "p0001", Author: "alice", Reason: "the chair's call: the second count is right",
		Status: store.StatusAccepted, Counts: &counts})
	if err != nil {
		t.Fatal(err)
	}
	if e.Kind != store.KindReview || e.Index != b.Receipt.LogIndex+1 || e.Counts != counts || e.Submitter != "alice" {
		t.Fatalf("decision stored as %+v", e)
	}
	st = tn.state("p0001")
	if st.Status != store.StatusAccepted || st.Conflict || st.Counted != counts || st.LastIndex != e.Index {
		t.Fatalf("after the decision: %+v, want accepted, no conflict, counting %d", st, counts)
	}
	// The decision is a leaf of the log, saying who decided what and why.
	stored, err := tn.db.Entries(ctx, e.Index, e.Index+1)
	if err != nil || len(stored) != 1 {
		t.Fatalf("entry %d: %v", e.Index, err)
	}
	leaf, err := report.ParseEntry(stored[0].Body)
	if err != nil {
		t.Fatal(err)
	}
	if leaf.Kind != report.KindReview || leaf.Decision != "accepted" || leaf.Counts == nil || *leaf.Counts != counts ||
		leaf.Submitter != "alice" || leaf.Reason == "" || leaf.Channel != "staff" {
		t.Errorf("the decision's leaf: %+v", leaf)
	}
	d := tn.published("p0001")
	if d.Status != "accepted" || *d.CountedEntry != counts || *d.Attendees != second.Attendees ||
		fmt.Sprint(d.Entries) != fmt.Sprint([]int64{a.Receipt.LogIndex, counts, e.Index}) {
		t.Errorf("published after the decision: %+v, want accepted, counting %d with %d attendees", d, counts, second.Attendees)
	}
	// The subscriber holds the latest results, which include the decision.
	if snap := <-events; snap.LogSize() != e.Index+1 {
		t.Errorf("the subscriber's latest results are of log size %d, want %d", snap.LogSize(), e.Index+1)
	}
	tn.checkRecount()
}

// TestDecideCorrection: a correction from headquarters counts from then on, status corrected,
// and a retry of the same correction (same report_id) stores nothing more.
func TestDecideCorrection(t *testing.T) {
	tn := startNight(t)
	ctx := context.Background()
	tn.submit(tn.validReport("p0002", "a", 0), intake.Stored)
	fixed := tn.validReport("p0002", "fix-1", 9)
	fixed.Channel = report.ChannelPaper
	d := night.Decision{PrecinctID: "p0002", Author: "bob", Reason: "recanvass of the worksheet", Correction: &fixed}
	e, err := tn.night.Decide(ctx, d)
	if err != nil {
		t.Fatal(err)
	}
	if e.Kind != store.KindCorrection || e.Status != store.StatusCorrected {
		t.Fatalf("correction stored as %+v", e)
	}
	if st := tn.state("p0002"); st.Status != store.StatusCorrected || st.Counted != e.Index {
		t.Fatalf("after the correction: %+v", st)
	}
	if p := tn.published("p0002"); p.Status != "corrected" || *p.CountedEntry != e.Index || *p.Attendees != fixed.Attendees {
		t.Errorf("published after the correction: %+v", p)
	}
	again, err := tn.night.Decide(ctx, d)
	if err != nil || again.Index != e.Index {
		t.Errorf("the same correction again: %+v, %v; want entry %d", again, err, e.Index)
	}
	if size, _ := tn.db.Size(ctx); size != e.Index+1 {
		t.Errorf("log size %d after a retried correction, want %d", size, e.Index+1)
	}
	tn.checkRecount()
}

// TestDecideRefused: a decision that breaks a rule stores nothing and says why.
func TestDecideRefused(t *testing.T) {
	tn := startNight(t)
	ctx := context.Background()
	other := tn.submit(tn.validReport("p0000", "other", 0), intake.Stored).Receipt.LogIndex
	tn.submit(tn.validReport("p0003", "a", 0), intake.Stored)
	bad := tn.validReport("p0003", "fix-bad", 3)
	bad.Attendees -= 10 // more people in the first alignment than signed in: a hard error (C03)
	wrongPrecinct := tn.validReport("p0000", "fix-elsewhere", 3)
	reused := tn.validReport("p0003", "a", 7) // the chair's report_id, other numbers
	tests := []struct {
		name   string
		d      night.Decision
		checks bool // the refusal names the checks that fired
	}{
		{"unknown precinct", night.Decision{PrecinctID: "nowhere", Author: "a", Reason: "r", Status: store.StatusAccepted}, false},
		{"no author", night.Decision{PrecinctID: "p0003", Reason: "r", Status: store.StatusAccepted}, false},
		{"no reason", night.Decision{PrecinctID: "p0003", Author: "a", Status: store.StatusAccepted}, false},
		{"unknown decision", night.Decision{PrecinctID: "p0003", Author: "a", Reason: "r", Status: store.StatusCorrected}, false},
		{"review of a precinct counting nothing", night.Decision{PrecinctID: "p0001", Author: "a", Reason: "r", Status: store.StatusAccepted}, false},
		{"counts another precinct's report", night.Decision{PrecinctID: "p0003", Author: "a", Reason: "r", Status: store.StatusAccepted, Counts: &other}, false},
		{"correction with errors", night.Decision{PrecinctID: "p0003", Author: "a", Reason: "r", Correction: &bad}, true},
		{"correction under a report's report_id", night.Decision{PrecinctID: "p0003", Author: "a", Reason: "r", Correction: &reused}, false},
		{"correction of another precinct", night.Decision{PrecinctID: "p0003", Author: "a", Reason: "r", Correction: &wrongPrecinct}, false},
	}
	before, err := tn.db.Size(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tn.night.Decide(ctx, tt.d)
			var re *night.RefusedError
			if !errors.Is(err, night.ErrRefused) || !errors.As(err, &re) {
				t.Fatalf("got %v, want a refusal", err)
			}
			if tt.checks != (len(re.Checks) > 0) {
				t.Errorf("refusal checks %v", re.Checks)
			}
			if size, _ := tn.db.Size(ctx); size != before {
				t.Errorf("log size %d after a refused decision, want %d", size, before)
			}
		})
	}
	tn.checkRecount()
}

// TestRebuildAtStartUp: a night opened again on the same store publishes the same results, byte
// for byte, and signs on from the same log.
func TestRebuildAtStartUp(t *testing.T) {
	tn := startNight(t)
	ctx := context.Background()
	tn.submit(tn.validReport("p0000", "a", 0), intake.Stored)
	tn.submit(tn.validReport("p0000", "b", 4), intake.Conflict)
	tn.submit(tn.validReport("p0001", "c", 1), intake.Stored)
	one := int64(1)
	if _, err := tn.night.Decide(ctx, night.Decision{PrecinctID: "p0000", Author: "a", Reason: "r", Status: store.StatusAccepted, Counts: &one}); err != nil {
		t.Fatal(err)
	}
	before := tn.night.Snapshot()
	_, head := tn.night.Checkpoint()
	tn.stop()
	again := openNight(t, tn.def, tn.path)
	if d := before.Diff(again.night.Snapshot()); d != "" {
		t.Errorf("after a restart the results differ in %s", d)
	}
	if _, c := again.night.Checkpoint(); c.N != 4 || c.N < head.N {
		t.Errorf("after a restart the checkpoint has size %d, want 4", c.N)
	}
	again.checkRecount()
}

// TestOpenRefusesAnotherElection: a store claimed by one election is never served for another.
func TestOpenRefusesAnotherElection(t *testing.T) {
	tn := startNight(t)
	tn.stop()
	e := tn.def.Election()
	e.ID = "other-2020"
	other, err := election.New(e, tn.def.Counties(), tn.def.Precincts())
	if err != nil {
		t.Fatal(err)
	}
	db, err := sqlite.Open(context.Background(), tn.path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := night.Open(context.Background(), night.Config{Def: other, Store: db}); err == nil {
		t.Fatal("a store of election test-2020 opened for other-2020")
	}
}

// TestSubscribeBounded: subscriptions are bounded (each is an open event stream); ending one
// makes room for another.
func TestSubscribeBounded(t *testing.T) {
	tn := startNight(t)
	var ends []func()
	for {
		_, end, err := tn.night.Subscribe()
		if errors.Is(err, night.ErrTooManySubscribers) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		ends = append(ends, end)
		if len(ends) > 1_000_000 {
			t.Fatal("subscriptions are not bounded")
		}
	}
	if len(ends) == 0 {
		t.Fatal("no subscription at all")
	}
	ends[0]()
	ch, end, err := tn.night.Subscribe()
	if err != nil {
		t.Fatalf("after one ended: %v", err)
	}
	defer end()
	tn.submit(tn.validReport("p0000", "a", 0), intake.Stored)
	if snap := <-ch; snap.LogSize() != 1 {
		t.Errorf("the subscriber's results are of log size %d, want 1", snap.LogSize())
	}
	for _, end := range ends[1:] {
		end()
	}
}
