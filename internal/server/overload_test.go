package server_test

// reliability.md O1, CI version: offered load at about twice what the server can hold, with a
// capacity made small and exact: Queue 4, MaxBatch 2, and every commit held at a gate the test
// opens, so that at most 2 + 4 = 6 submissions can be waiting for a commit at once.

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"caucus/internal/report"
	"caucus/internal/server/servertest"
	"caucus/internal/store"
)

// TestOverload: each round 12 chairs submit at once while commits are held; the server can hold
// at most 6, so at least 6 are refused at once with 503 and a Retry-After of 2–10 s, and nothing
// of theirs is stored; no 2xx ever names a report that is not stored. Then the gate opens and
// every refused chair retries with the same report_id until it is stored: each report ends up
// stored exactly once.
func TestOverload(t *testing.T) {
	const (
		rounds   = 3
		offered  = 12 // per round
		maxBatch = 2
		queue    = 4
		capacity = maxBatch + queue // submissions that can wait for a held commit
		waitFor  = 30 * time.Second // bound on any wait; never reached when the server is right
		tries    = 5000             // bound on one chair's retries (at 1 ms apart: 5 s)
	)
	f := &faultStore{}
	env := startFaulty(t, f, servertest.Options{Precincts: rounds * offered, Queue: queue, MaxBatch: maxBatch})
	ctx := context.Background()
	var acked servertest.Acked
	tokens := map[string]string{}
	for i := range rounds * offered {
		p := fmt.Sprintf("p%04d", i)
		tokens[p] = env.Login(p)
	}
	type answer struct {
		r          report.Report
		status     int
		rc         report.Receipt
		retryAfter string
		err        error
	}
	refusedTotal, retriesTotal := 0, 0
	for round := range rounds {
		gate := make(chan struct{})
		f.mu.Lock()
		f.gate = gate
		f.mu.Unlock()
		answers := make(chan answer, offered)
		for j := range offered {
			p := fmt.Sprintf("p%04d", round*offered+j)
			r := env.Report(p, "overload-"+p, j)
			go func() {
				status, rc, ra, err := tryReport(env, tokens[p], r)
				answers <- answer{r, status, rc, ra, err}
			}()
		}
		var refused []report.Report
		gateOpen := false
		deadline := time.After(waitFor)
		for range offered {
			var a answer
			select {
			case a = <-answers:
			case <-deadline:
				t.Fatalf("round %d: %d answers of %d after %v", round, len(refused), offered, waitFor)
			}
			switch {
			case a.err != nil:
				t.Fatal(a.err)
			case a.status == http.StatusCreated:
				if !gateOpen {
					t.Errorf("round %d: report %s acknowledged while every commit is held", round, a.r.ReportID)
				}
				acked.Add(t, a.rc)
			case a.status == http.StatusServiceUnavailable:
				if secs, err := strconv.Atoi(a.retryAfter); err != nil || secs < 2 || secs > 10 {
					t.Errorf("503 with Retry-After %q, want 2 to 10 seconds", a.retryAfter)
				}
				if _, err := env.DB.EntryByReportID(ctx, a.r.ReportID); !errors.Is(err, store.ErrNotFound) {
					t.Errorf("report %s refused with 503 but stored (%v)", a.r.ReportID, err)
				}
				refused = append(refused, a.r)
			default:
				t.Fatalf("report %s: status %d, want 201 or 503", a.r.ReportID, a.status)
			}
			// At most capacity submissions can be held, so offered-capacity refusals come
			// while the gate is shut; then capacity returns.
			if !gateOpen && len(refused) == offered-capacity {
				close(gate)
				gateOpen = true
			}
		}
		if len(refused) < offered-capacity {
			t.Fatalf("round %d: %d refused, want at least %d", round, len(refused), offered-capacity)
		}
		refusedTotal += len(refused)
		// Every refused chair retries with the same report_id, at once, until it is stored.
		var wg sync.WaitGroup
		var mu sync.Mutex
		for _, r := range refused {
			wg.Go(func() {
				// A chair keeps retrying, as the app does; a refused retry yields, so that one
				// chair is not starved by the others hammering the same small queue.
				for n := range tries {
					if n > 0 {
						time.Sleep(time.Millisecond)
					}
					status, rc, _, err := tryReport(env, tokens[r.PrecinctID], r)
					if err != nil {
						t.Error(err)
						return
					}
					if status == http.StatusCreated || status == http.StatusOK {
						acked.Add(t, rc)
						mu.Lock()
						retriesTotal += n + 1
						mu.Unlock()
						return
					}
					if status != http.StatusServiceUnavailable {
						t.Errorf("retry of %s: status %d", r.ReportID, status)
						return
					}
				}
				t.Errorf("report %s still refused after %d retries", r.ReportID, tries)
			})
		}
		wg.Wait()
	}
	if len(acked.Receipts) != rounds*offered {
		t.Errorf("%d reports acknowledged, want %d", len(acked.Receipts), rounds*offered)
	}
	if size, _ := env.DB.Size(ctx); size != rounds*offered {
		t.Errorf("log size %d, want %d: every report stored exactly once", size, rounds*offered)
	}
	f.mu.Lock()
	if f.maxAct > 1 || f.maxLen > maxBatch {
		t.Errorf("in-flight commits: %d at once, batches up to %d; want 1 and %d", f.maxAct, f.maxLen, maxBatch)
	}
	f.mu.Unlock()
	t.Logf("%d rounds of %d offered against a capacity of %d: %d refused with 503, %d retries to store them",
		rounds, offered, capacity, refusedTotal, retriesTotal)
	env.Check(&acked)
}
