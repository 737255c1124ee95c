package night_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"caucus/internal/election"
	"caucus/internal/intake"
	"caucus/internal/night"
	"caucus/internal/report"
	"caucus/internal/server/servertest"
	"caucus/internal/store"
	"caucus/internal/store/postgres"
	"caucus/internal/store/postgres/pgtest"
	"caucus/internal/tlog"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// The PostgreSQL store is one the nodes share: they follow each other's appends (Watcher), one
// signs (Leader), and headquarters' decisions go one at a time across them (Serializer).
var (
	_ night.Watcher    = (*postgres.DB)(nil)
	_ night.Leader     = (*postgres.DB)(nil)
	_ night.Serializer = (*postgres.DB)(nil)
)

// openNode opens a night on the PostgreSQL database at url, as one serve node, running until
// the test ends.
func openNode(t *testing.T, def *election.Definition, url string) (*night.Night, *postgres.DB) {
	t.Helper()
	ctx := context.Background()
	db, err := postgres.Open(ctx, url, postgres.Options{LeaseValues: []string{tlog.CheckpointValue}})
	if err != nil {
		t.Fatal(err)
	}
	n, _ := runNight(t, def, db, func() { db.Close() })
	return n, db
}

// both runs a on one node and b on the other at the same instant and returns their errors.
func both(a, b func() error) (errA, errB error) {
	var wg sync.WaitGroup
	start := make(chan struct{})
	wg.Go(func() { <-start; errA = a() })
	wg.Go(func() { <-start; errB = b() })
	close(start)
	wg.Wait()
	return errA, errB
}

// oneOf checks that exactly one of two errors is nil and the other is want.
func oneOf(t *testing.T, what string, errA, errB, want error) {
	t.Helper()
	if (errA == nil) == (errB == nil) || !errors.Is(errors.Join(errA, errB), want) {
		t.Fatalf("%s through two nodes at once: %v and %v; want one done and one refused (%v)", what, errA, errB, want)
	}
}

// TestNodesDecideOneAtATime: two nights on one PostgreSQL database, as two serve nodes.
// Headquarters' staff act on the same thing through the two nodes at the same instant, each on
// what they read: two reviewers settling one conflict each their own way (one decision stands,
// the other is refused as stale), two certifiers certifying one county (one certification),
// two admins starting the audit (one start), and two operators keying a hand count's two
// copies (they match: one hand count, not two copies each waiting for the other).
func TestNodesDecideOneAtATime(t *testing.T) {
	def := servertest.Definition(t, 40)
	url := pgtest.NewDatabase(t)
	a, db := openNode(t, def, url)
	b, _ := openNode(t, def, url)
	ctx := context.Background()
	tn := &testNight{t: t, def: def}
	reports := map[string]report.Report{}
	contested := def.Precincts()[:4]
	for i, p := range def.Precincts() {
		reports[p.ID] = tn.validReport(p.ID, p.ID+"-a", 0)
		if i >= len(contested) {
			if _, err := []*night.Night{a, b}[i%2].Submit(ctx, reports[p.ID], intake.Submitter{ID: p.ID}); err != nil {
				t.Fatal(err)
			}
			continue
		}
		for i, n := range []*night.Night{a, b} { // the first report through one node, a different one through the other
			want := []intake.Kind{intake.Stored, intake.Conflict}[i]
			r := tn.validReport(p.ID, p.ID+"-"+string(rune('a'+i)), 3*i)
			if out, err := n.Submit(ctx, r, intake.Submitter{ID: p.ID}); err != nil || out.Kind != want {
				t.Fatalf("submit %s: %+v %v, want outcome %d", r.ReportID, out, err, want)
			}
		}
	}
	size, err := db.Size(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []*night.Night{a, b} {
		waitFor(t, func() bool { return n.Snapshot().LogSize() == size })
	}

	for _, p := range contested {
		es, err := db.PrecinctEntries(ctx, p.ID)
		if err != nil || len(es) != 2 {
			t.Fatalf("%s: %d entries, %v", p.ID, len(es), err)
		}
		last := es[1].Index
		decide := func(n *night.Night, author string, counts int64) func() error {
			return func() error {
				_, err := n.Decide(ctx, night.Decision{PrecinctID: p.ID, Author: author, Reason: "read the worksheet",
					Status: store.StatusAccepted, Counts: &counts, LastIndex: &last})
				return err
			}
		}
		errA, errB := both(decide(a, "rita", es[0].Index), decide(b, "rob", es[1].Index))
		oneOf(t, "two decisions on "+p.ID, errA, errB, night.ErrStale)
		if es, _ := db.PrecinctEntries(ctx, p.ID); len(es) != 3 {
			t.Fatalf("%s has %d entries after the two decisions, want 3", p.ID, len(es))
		}
	}

	for i, c := range def.Counties() {
		scope := report.CountyScope(c.ID)
		certify := func(n *night.Night, author string) func() error {
			return func() error {
				_, err := n.Certify(ctx, night.Certification{Scope: scope, Author: author, Reason: "canvass board met"})
				return err
			}
		}
		if i > 0 {
			if err := certify(b, "carl")(); err != nil {
				t.Fatal(err)
			}
			continue
		}
		errA, errB := both(certify(a, "cora"), certify(b, "carl"))
		oneOf(t, "two certifications of "+scope, errA, errB, night.ErrRefused)
	}
	if _, err := a.Certify(ctx, night.Certification{Scope: report.StateScope, Author: "cora"}); err != nil {
		t.Fatal(err)
	}

	const seed = "16180339887498948482045"
	var started results
	start := func(n *night.Night, author string) func() error {
		return func() error {
			au, err := n.StartAudit(ctx, author, seed, "10")
			if err == nil {
				started.set(au.PrecinctsToCount)
			}
			return err
		}
	}
	errA, errB := both(start(a, "ann"), start(b, "abe"))
	oneOf(t, "two starts of the audit", errA, errB, night.ErrAuditStarted)
	toCount := started.get()
	if len(toCount) == 0 {
		au, _ := a.AuditStatus(ctx)
		t.Fatalf("the audit drew no precinct: %+v", au)
	}
	id := toCount[0]
	var keyed [2]night.HandCountKeyed
	key := func(n *night.Night, i int, operator string) func() error {
		return func() (err error) {
			keyed[i], err = n.KeyHandCount(ctx, operator, id, reports[id].First, reports[id].Final)
			return err
		}
	}
	if errA, errB := both(key(a, 0, "otto"), key(b, 1, "oona")); errA != nil || errB != nil {
		t.Fatalf("two operators keying %s through two nodes: %v, %v", id, errA, errB)
	}
	states := []string{keyed[0].State, keyed[1].State}
	slices.Sort(states)
	if !slices.Equal(states, []string{"matched", "waiting_second"}) {
		t.Fatalf("two operators keying %s through two nodes: %q, want one waiting_second and one matched", id, states)
	}
	for _, n := range []*night.Night{a, b} {
		waitFor(t, func() bool {
			au, err := n.AuditStatus(ctx)
			return err == nil && len(au.HandCounts) == 1 && au.HandCounts[0].PrecinctID == id
		})
	}
}

// results holds what one goroutine found for the test.
type results struct {
	mu  sync.Mutex
	ids []string
}

func (r *results) set(ids []string) { r.mu.Lock(); r.ids = ids; r.mu.Unlock() }
func (r *results) get() []string    { r.mu.Lock(); defer r.mu.Unlock(); return r.ids }

// waitFor polls ok until it holds, for up to 10 s (a node follows another's commit within a
// second).
func waitFor(t *testing.T, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !ok(); {
		if time.Now().After(deadline) {
			t.Fatal("the nodes did not converge in 10 s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
