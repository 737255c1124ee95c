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

// shedRig is an intake on a fake clock whose commits and reads take the time the test says.
type shedRig struct {
	t       *testing.T
	f       *fixture
	clock   *fakeClock
	queue   int
	mu      sync.Mutex
	step    time.Duration // what each commit takes on the fake clock
	read    time.Duration // what each EntryByReportID takes on the fake clock
	gate    chan struct{} // when set, every commit waits for it
	entered chan struct{}
	seq     int
	// busy is what Intake.Busy said when fill's report was refused.
	busy bool
}

func newShedRig(t *testing.T, maxBatch, queue int, maxWait time.Duration) *shedRig {
	clock := &fakeClock{now: time.Date(2020, 2, 3, 19, 0, 0, 0, time.UTC)}
	rig := &shedRig{t: t, clock: clock, queue: queue, entered: make(chan struct{}, 1)}
	rig.f = newFixtureOf(t, definitionOf(t, 4), maxBatch, queue, func(c *intake.Config) {
		c.Now, c.MaxWait = clock.Now, maxWait
	})
	rig.f.st.hold = func() {
		rig.mu.Lock()
		d, g := rig.step, rig.gate
		rig.mu.Unlock()
		clock.advance(d)
		if g != nil {
			rig.entered <- struct{}{}
			<-g
		}
	}
	rig.f.st.readHold = func() {
		rig.mu.Lock()
		d := rig.read
		rig.mu.Unlock()
		clock.advance(d)
	}
	// Nobody here waits for the followers: drain what they are told until the committer stops
	// (cleanups run last first, so this one after the committer's).
	stop := make(chan struct{})
	t.Cleanup(func() { close(stop) })
	go func() {
		for {
			select {
			case <-rig.f.told:
			case <-stop:
				return
			}
		}
	}()
	rig.f.run()
	return rig
}

// set sets what commits and reads take.
func (rig *shedRig) set(commit, read time.Duration) {
	rig.mu.Lock()
	rig.step, rig.read = commit, read
	rig.mu.Unlock()
}

func (rig *shedRig) next() report.Report {
	rig.seq++
	return valid(rig.t, rig.f.def, fmt.Sprint("p", rig.seq%4), fmt.Sprint("shed-", rig.seq), rig.seq)
}

// submit submits n reports one after the other.
func (rig *shedRig) submit(n int) {
	rig.t.Helper()
	for range n {
		if _, err := rig.f.in.Submit(context.Background(), rig.next(), intake.Submitter{ID: "chair"}); err != nil {
			rig.t.Fatal(err)
		}
	}
}

// fill stalls the committer on one report, then queues reports until one is refused, and
// returns how many were in flight (admitted, not answered) when it was. The refused report is
// not stored.
func (rig *shedRig) fill() int {
	t := rig.t
	t.Helper()
	g := make(chan struct{})
	rig.mu.Lock()
	rig.gate = g
	rig.mu.Unlock()
	done := make(chan error, 1)
	go func() {
		_, err := rig.f.in.Submit(context.Background(), rig.next(), intake.Submitter{ID: "chair"})
		done <- err
	}()
	<-rig.entered
	inFlight := 1
	for ; inFlight <= rig.queue+1; inFlight++ {
		r := rig.next()
		err := rig.f.queue(r)
		if errors.Is(err, intake.ErrBusy) {
			rig.busy = rig.f.in.Busy()
			if _, err := rig.f.st.DB.EntryByReportID(context.Background(), r.ReportID); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("refused report %s: %v, want not stored", r.ReportID, err)
			}
			break
		}
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("queueing %s: %v", r.ReportID, err)
		}
	}
	rig.mu.Lock()
	rig.gate = nil
	rig.mu.Unlock()
	close(g)
	select { // a commit already waiting at the gate passes it
	case <-rig.entered:
	default:
	}
	if err := <-done; err != nil {
		t.Fatalf("the report held in its commit: %v", err)
	}
	return inFlight
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
	rig := newShedRig(t, maxBatch, queue, maxWait)
	// Commits of 100 ms per report: the measured cost converges on it.
	rig.set(slow, 0)
	rig.submit(12)
	rig.set(0, 0)
	// Each commit of one report weighs half (MaxBatch 2): after twelve the cost is between 96
	// and 100 ms, and the budget holds 10.
	if n := rig.fill(); n < int(maxWait/slow) || n > int(maxWait/(96*time.Millisecond))+1 {
		t.Errorf("after slow commits, refused with %d in flight, want about %d (%v / %v)", n, maxWait/slow, maxWait, slow)
	}
	if !rig.busy {
		t.Errorf("refused for the expected wait, but Busy says no")
	}
	// Fast commits bring the cost down: the queue's bound is the one that holds.
	rig.submit(40)
	if n := rig.fill(); n != queue+1 {
		t.Errorf("after fast commits, refused with %d in flight, want the queue full (%d, and the one committing)", n, queue)
	}
	if rig.busy {
		t.Errorf("refused for a full queue, but Busy says the load refuses")
	}
}

// TestShedByLateAnswers: when answers come later than MaxWait for a reason the commits do not
// show (here every read of the store takes two seconds, commits none), the limit on what is in
// flight shrinks to MaxBatch; answers in time grow it again.
func TestShedByLateAnswers(t *testing.T) {
	const (
		maxBatch = 2
		queue    = 64
		maxWait  = time.Second
	)
	rig := newShedRig(t, maxBatch, queue, maxWait)
	if n := rig.fill(); n != queue+1 {
		t.Fatalf("at the start, refused with %d in flight, want the queue full (%d, and the one committing)", n, queue)
	}
	rig.set(0, 2*time.Second)
	rig.submit(40) // late answers, one after the other: each a round of its own
	rig.set(0, 0)
	if n := rig.fill(); n != maxBatch {
		t.Errorf("after late answers, refused with %d in flight, want %d (MaxBatch)", n, maxBatch)
	}
	if !rig.busy {
		t.Errorf("refused for the limit, but Busy says no")
	}
	rig.submit(40)
	if n := rig.fill(); n <= 10*maxBatch {
		t.Errorf("after answers in time, refused with %d in flight, want the limit grown past %d", n, 10*maxBatch)
	}
}
