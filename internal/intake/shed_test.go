package intake_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"caucus/internal/intake"
	"caucus/internal/report"
	"caucus/internal/store"
)

// TestSameNumbersOneBatch is reliability.md C4 inside one group commit: a report and the same
// numbers under another report_id (and by another channel) queued together are committed in one
// Append; one is stored and counted, the other is not stored, and the precinct is accepted, not
// under review.
func TestSameNumbersOneBatch(t *testing.T) {
	f := newFixture(t, 0, 0)
	var reports []report.Report
	for i, p := range []string{"p0", "p1", "p2"} {
		r := valid(t, f.def, p, "tap-"+p, i*3)
		again := r
		again.ReportID = "again-" + p
		if i == 2 {
			again.Channel = report.ChannelHotline
		}
		reports = append(reports, r, again)
	}
	for _, r := range reports {
		if err := f.queue(r); !errors.Is(err, context.Canceled) {
			t.Fatalf("queueing %s: %v", r.ReportID, err)
		}
	}
	f.run()
	if size := <-f.told; size != 3 {
		t.Errorf("followers told of size %d, want 3", size)
	}
	f.mu.Lock()
	batches := f.batches
	f.mu.Unlock()
	if len(batches) != 1 || batches[0] != len(reports) {
		t.Fatalf("batches %v, want all %d reports in one", batches, len(reports))
	}
	ctx := context.Background()
	for _, p := range []string{"p0", "p1", "p2"} {
		if _, err := f.st.EntryByReportID(ctx, "tap-"+p); err != nil {
			t.Errorf("tap-%s not stored: %v", p, err)
		}
		if _, err := f.st.EntryByReportID(ctx, "again-"+p); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("again-%s stored (%v): the same numbers are counted once", p, err)
		}
		st, err := f.st.PrecinctState(ctx, p)
		if err != nil || st.Status != store.StatusAccepted || st.Conflict || st.Reports != 1 {
			t.Errorf("precinct %s: %+v (%v), want accepted with one report, no conflict", p, st, err)
		}
	}
	if n := f.audited(store.AuditReportDup); n != 3 {
		t.Errorf("%d report_duplicate audit rows, want 3", n)
	}
}

// TestSameNumbersRacing: pairs of reports with the same numbers under two report_ids, each
// pair submitted at the same instant while the committer runs: whatever the batches, every pair
// is one Stored and one Same carrying the first's receipt, never a Conflict.
func TestSameNumbersRacing(t *testing.T) {
	const pairs = 60
	f := newFixtureOf(t, definitionOf(t, pairs), 8, 0, func(c *intake.Config) { c.MaxWait = time.Minute })
	f.run()
	outs := make([][2]intake.Outcome, pairs)
	var wg sync.WaitGroup
	for i := range pairs {
		p := fmt.Sprint("p", i)
		r := valid(t, f.def, p, "a-"+p, i)
		b := r
		b.ReportID = "b-" + p
		for j, rep := range []report.Report{r, b} {
			wg.Go(func() {
				out, err := f.in.Submit(context.Background(), rep, intake.Submitter{ID: p})
				if err != nil {
					t.Errorf("submit %s: %v", rep.ReportID, err)
				}
				outs[i][j] = out
			})
		}
	}
	wg.Wait()
	for i, o := range outs {
		stored, same := -1, -1
		for j := range o {
			switch {
			case o[j].Kind == intake.Stored:
				stored = j
			case o[j].Kind == intake.Same && o[j].SameNumbers:
				same = j
			}
		}
		if stored < 0 || same < 0 {
			t.Errorf("pair %d: outcomes %d and %d, want one Stored and one Same (same numbers)", i, o[0].Kind, o[1].Kind)
			continue
		}
		if s, d := o[stored].Receipt, o[same].Receipt; s.LogIndex != d.LogIndex || s.LeafHash != d.LeafHash || s.ReportID != d.ReportID {
			t.Errorf("pair %d: the same numbers got receipt %+v, want the stored one's %+v", i, d, s)
		}
	}
	if n := f.size(); n != pairs {
		t.Errorf("log size %d, want %d: each precinct counted once", n, pairs)
	}
}

// fakeClock moves only when told.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// TestShedByExpectedWait is load shedding (reliability.md O1) at the intake: a submission is
// admitted only while the wait it can expect, at the commit cost per report measured so far,
// is within MaxWait; the rest are refused at once with ErrBusy and never stored. The clock is
// fake and every commit takes the time the test says, so the bound is exact: after commits of
// 100 ms a report, a one-second budget admits about ten; once commits are fast again the bound
// is the queue's.
func TestShedByExpectedWait(t *testing.T) {
	const (
		maxBatch = 2
		queue    = 64
		maxWait  = time.Second
		slow     = 100 * time.Millisecond
	)
	clock := &fakeClock{now: time.Date(2020, 2, 3, 19, 0, 0, 0, time.UTC)}
	f := newFixtureOf(t, definitionOf(t, 4), maxBatch, queue, func(c *intake.Config) {
		c.Now, c.MaxWait = clock.Now, maxWait
	})
	var (
		mu      sync.Mutex
		step    time.Duration // what each commit takes on the fake clock
		gate    chan struct{} // when set, every commit waits for it
		entered = make(chan struct{}, 1)
	)
	f.st.hold = func() {
		mu.Lock()
		d, g := step, gate
		mu.Unlock()
		clock.advance(d)
		if g != nil {
			entered <- struct{}{}
			<-g
		}
	}
	f.run()
	seq := 0
	next := func() report.Report {
		seq++
		return valid(t, f.def, fmt.Sprint("p", seq%4), fmt.Sprint("shed-", seq), seq)
	}
	// fill stalls the committer on one report, then queues reports until one is refused, and
	// returns how many were in flight (admitted, not answered) when it was.
	fill := func() int {
		t.Helper()
		g := make(chan struct{})
		mu.Lock()
		gate = g
		mu.Unlock()
		done := make(chan error, 1)
		go func() {
			_, err := f.in.Submit(context.Background(), next(), intake.Submitter{ID: "chair"})
			done <- err
		}()
		<-entered
		inFlight := 1
		for ; inFlight <= queue+1; inFlight++ {
			r := next()
			err := f.queue(r)
			if errors.Is(err, intake.ErrBusy) {
				if _, err := f.st.EntryByReportID(context.Background(), r.ReportID); !errors.Is(err, store.ErrNotFound) {
					t.Errorf("refused report %s: %v, want not stored", r.ReportID, err)
				}
				break
			}
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("queueing %s: %v", r.ReportID, err)
			}
		}
		mu.Lock()
		gate = nil
		mu.Unlock()
		close(g)
		for range cap(entered) { // the commits already waiting at the gate pass it
			select {
			case <-entered:
			default:
			}
		}
		if err := <-done; err != nil {
			t.Fatalf("the report held in its commit: %v", err)
		}
		return inFlight
	}
	// Commits of 100 ms per report: the measured cost converges on it.
	mu.Lock()
	step = slow
	mu.Unlock()
	for range 12 {
		if _, err := f.in.Submit(context.Background(), next(), intake.Submitter{ID: "chair"}); err != nil {
			t.Fatal(err)
		}
	}
	mu.Lock()
	step = 0
	mu.Unlock()
	// Each commit of one report weighs half (MaxBatch 2): after twelve the cost is between 96
	// and 100 ms, and the budget holds 10.
	if n := fill(); n < int(maxWait/slow) || n > int(maxWait/(96*time.Millisecond))+1 {
		t.Errorf("after slow commits, refused with %d in flight, want about %d (%v / %v)", n, maxWait/slow, maxWait, slow)
	}
	// Fast commits bring the cost down: the queue's bound is the one that holds.
	for range 40 {
		if _, err := f.in.Submit(context.Background(), next(), intake.Submitter{ID: "chair"}); err != nil {
			t.Fatal(err)
		}
	}
	if n := fill(); n != queue+1 {
		t.Errorf("after fast commits, refused with %d in flight, want the queue full (%d, and the one committing)", n, queue)
	}
}
