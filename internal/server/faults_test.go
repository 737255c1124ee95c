package server_test

// reliability.md D3, CI version: ack ordering and ambiguous commits, with a store wrapper that
// injects faults around the REAL SQLite store's Append (sunlight's failCheckpointButPersist).

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"caucus/internal/report"
	"caucus/internal/server/servertest"
	"caucus/internal/store"
)

// fault is what the fault store does to one Append.
type fault int

const (
	noFault     fault = iota
	failBefore        // (a) return an error without calling the real Append: nothing persisted
	failAfter         // (b) call the real Append, then return an error anyway: persisted
	delayCommit       // (c) block until the test releases, then call the real Append
	ackNoCommit       // negative control: report success without persisting anything
)

var errInjected = errors.New("injected store fault")

// faultStore is the real store with faults injected into Append. Every other method is the
// real store's.
type faultStore struct {
	store.Store
	mu      sync.Mutex
	next    fault         // the fault of the next Append only
	always  fault         // the fault of every Append (negative control)
	entered chan struct{} // delayCommit: closed when the Append is blocked
	release chan struct{} // delayCommit: the test closes it to let the commit go
	// gate, when set, is waited on by every Append before it commits (overload_test.go);
	// it is read under mu on each Append, so a test can swap it.
	gate chan struct{}
	// slow, when set, is how long every Append takes before it commits (a slow disk).
	slow    time.Duration
	appends int // Append calls that reached the real store
	maxLen  int // the largest batch seen
	active  int // Appends in progress
	maxAct  int // the most Appends in progress at once
}

// inject arms a fault for the next Append.
func (f *faultStore) inject(k fault) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.next = k
	if k == delayCommit {
		f.entered, f.release = make(chan struct{}), make(chan struct{})
	}
}

func (f *faultStore) Append(ctx context.Context, batch []store.NewEntry) ([]store.AppendResult, error) {
	f.mu.Lock()
	k := f.next
	f.next = noFault
	if f.always != noFault {
		k = f.always
	}
	entered, release, gate, slow := f.entered, f.release, f.gate, f.slow
	f.active++
	f.maxAct = max(f.maxAct, f.active)
	f.maxLen = max(f.maxLen, len(batch))
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		f.active--
		f.mu.Unlock()
	}()
	if gate != nil {
		<-gate
	}
	time.Sleep(slow)
	switch k {
	case failBefore:
		return nil, errInjected
	case failAfter:
		if _, err := f.real(ctx, batch); err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("commit outcome unknown: %w", errInjected)
	case delayCommit:
		close(entered)
		<-release
	case ackNoCommit:
		size, err := f.Store.Size(ctx)
		if err != nil {
			return nil, err
		}
		out := make([]store.AppendResult, len(batch))
		for i, e := range batch {
			out[i] = store.AppendResult{Outcome: store.Appended, Entry: store.Entry{Index: size + int64(i),
				Kind: e.Kind, PrecinctID: e.PrecinctID, ReportID: e.ReportID, Submitter: e.Submitter,
				Channel: e.Channel, ReceivedAt: e.ReceivedAt, Body: e.Body, LeafHash: store.LeafHash(e.Body),
				Status: e.Status, Counts: store.NoIndex}}
		}
		return out, nil
	}
	return f.real(ctx, batch)
}

func (f *faultStore) real(ctx context.Context, batch []store.NewEntry) ([]store.AppendResult, error) {
	f.mu.Lock()
	f.appends++
	f.mu.Unlock()
	return f.Store.Append(ctx, batch)
}

// startFaulty starts a server whose store is the real SQLite store wrapped in f.
func startFaulty(t testing.TB, f *faultStore, opts servertest.Options) *servertest.Env {
	opts.Wrap = func(s store.Store) store.Store { f.Store = s; return f }
	return servertest.Start(t, opts)
}

// postReport sends a report and returns the status, the receipt (for 409, the one inside) and
// the Retry-After header.
func postReport(t testing.TB, env *servertest.Env, token string, r report.Report) (int, report.Receipt, string) {
	t.Helper()
	status, rc, retryAfter, err := tryReport(env, token, r)
	if err != nil {
		t.Fatal(err)
	}
	return status, rc, retryAfter
}

// tryReport is postReport for other goroutines than the test's: it returns its error.
func tryReport(env *servertest.Env, token string, r report.Report) (int, report.Receipt, string, error) {
	req, err := http.NewRequest("POST", env.URL+"/api/v1/reports", strings.NewReader(string(r.Canonical())))
	if err != nil {
		return 0, report.Receipt{}, "", err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, report.Receipt{}, "", fmt.Errorf("POST report %s: %w", r.ReportID, err)
	}
	defer resp.Body.Close()
	var body struct {
		report.Receipt
		Inner *report.Receipt `json:"receipt"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return 0, report.Receipt{}, "", fmt.Errorf("report %s: %d, body not JSON: %w", r.ReportID, resp.StatusCode, err)
	}
	rc := body.Receipt
	if body.Inner != nil {
		rc = *body.Inner
	}
	return resp.StatusCode, rc, resp.Header.Get("Retry-After"), nil
}

// TestFaultInjection: 100 Appends fail, half before persisting (a), half after (b), in a seeded
// random order. (a) → 503, no row, and the retry stores it (201). (b) → 503, the row is there,
// and the retry gets that row's receipt (200). No 2xx ever names a report that is not stored.
func TestFaultInjection(t *testing.T) {
	const injections = 100
	f := &faultStore{}
	env := startFaulty(t, f, servertest.Options{Precincts: injections})
	var acked servertest.Acked
	rng := rand.New(rand.NewPCG(4, 3))
	counts := map[fault]int{}
	ctx := context.Background()
	for i := range injections {
		p := fmt.Sprintf("p%04d", i)
		tok := env.Login(p)
		r := env.Report(p, "fault-"+p, i)
		k := failBefore
		if rng.IntN(2) == 1 {
			k = failAfter
		}
		counts[k]++
		f.inject(k)
		status, rc, retryAfter := postReport(t, env, tok, r)
		if status != http.StatusServiceUnavailable || retryAfter == "" {
			t.Fatalf("injection %d (%v): status %d Retry-After %q, want 503 with Retry-After", i, k, status, retryAfter)
		}
		if status/100 == 2 {
			acked.Add(t, rc) // a false ack would be caught by Check below
		}
		stored, err := env.DB.EntryByReportID(ctx, r.ReportID)
		switch {
		case k == failBefore && !errors.Is(err, store.ErrNotFound):
			t.Fatalf("injection %d: failed before persisting, yet the store has it (%v)", i, err)
		case k == failAfter && err != nil:
			t.Fatalf("injection %d: persisted, yet the store does not have it: %v", i, err)
		}
		// The chair's phone retries with the same report_id.
		status, rc, _ = postReport(t, env, tok, r)
		switch {
		case k == failBefore && status != http.StatusCreated:
			t.Fatalf("retry after (a): status %d, want 201", status)
		case k == failAfter && status != http.StatusOK:
			t.Fatalf("retry after (b): status %d, want 200 with the original receipt", status)
		case k == failAfter && (rc.LogIndex != stored.Index || rc.LeafHash != report.HexHash(stored.LeafHash)):
			t.Fatalf("retry after (b): receipt %d %s, the stored row is %d %x", rc.LogIndex, rc.LeafHash, stored.Index, stored.LeafHash)
		}
		acked.Add(t, rc)
		// No stale read after an acknowledgement: results include the acked report.
		_, b := env.Do("GET", "/api/v1/results", "", nil)
		var res struct {
			LogSize int64 `json:"log_size"`
		}
		json.Unmarshal(b, &res)
		if res.LogSize < rc.LogIndex+1 {
			t.Fatalf("after the ack of index %d (fault %v), results are at log size %d", rc.LogIndex, k, res.LogSize)
		}
	}
	if len(acked.Receipts) != injections {
		t.Errorf("%d reports acknowledged, want %d", len(acked.Receipts), injections)
	}
	if size, _ := env.DB.Size(ctx); size != injections {
		t.Errorf("log size %d, want %d: one row per report", size, injections)
	}
	t.Logf("injections: %d fail-before-persist, %d persist-then-fail", counts[failBefore], counts[failAfter])
	env.Check(&acked)
}

func (k fault) String() string {
	return [...]string{"none", "fail-before-persist", "persist-then-fail", "delay-commit", "ack-without-commit"}[k]
}

// TestNoByteBeforeCommit: (c) while the commit is held, the client receives not one byte; once
// it is released, the 201 arrives and its receipt names a stored row.
func TestNoByteBeforeCommit(t *testing.T) {
	f := &faultStore{}
	env := startFaulty(t, f, servertest.Options{Precincts: 2})
	tok := env.Login("p0001")
	r := env.Report("p0001", "held", 1)
	body := r.Canonical()
	conn, err := net.Dial("tcp", env.HTTP.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	f.inject(delayCommit)
	fmt.Fprintf(conn, "POST /api/v1/reports HTTP/1.1\r\nHost: caucus\r\nAuthorization: Bearer %s\r\n"+
		"Content-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s", tok, len(body), body)
	// Wait (bounded) until the commit is under way and held.
	select {
	case <-f.entered:
	case <-time.After(10 * time.Second):
		t.Fatal("the report never reached the store")
	}
	// Not one byte may come back while the commit is held.
	conn.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	var one [1]byte
	n, err := conn.Read(one[:])
	if n != 0 || !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("before the commit: read %d bytes %q, err %v; want nothing", n, one[:n], err)
	}
	if _, err := env.DB.EntryByReportID(context.Background(), r.ReportID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("the held report is already stored: %v", err)
	}
	close(f.release)
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var rc report.Receipt
	if err := json.NewDecoder(resp.Body).Decode(&rc); err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("after the commit: %d %v", resp.StatusCode, err)
	}
	var acked servertest.Acked
	acked.Add(t, rc)
	env.Check(&acked)
}

// recorder is a testing.TB that keeps the errors it is given instead of failing: the
// negative control runs the B0 checker on it to see that it does fail.
type recorder struct {
	testing.TB
	mu   sync.Mutex
	errs []string
}

func (r *recorder) Error(args ...any) { r.add(fmt.Sprint(args...)) }
func (r *recorder) Errorf(format string, args ...any) {
	r.add(fmt.Sprintf(format, args...))
}
func (r *recorder) Fail()        { r.add("Fail") }
func (r *recorder) Failed() bool { r.mu.Lock(); defer r.mu.Unlock(); return len(r.errs) > 0 }
func (r *recorder) add(s string) { r.mu.Lock(); r.errs = append(r.errs, s); r.mu.Unlock() }

// TestNegativeControlAckBeforeCommit: a store that acknowledges without persisting (the bug
// D3 exists to catch) must make the B0 check fail; a checker that cannot fail proves nothing.
func TestNegativeControlAckBeforeCommit(t *testing.T) {
	rec := &recorder{TB: t}
	f := &faultStore{always: ackNoCommit}
	env := startFaulty(rec, f, servertest.Options{Precincts: 3})
	var acked servertest.Acked
	for _, p := range []string{"p0000", "p0001"} {
		status, rc, _ := postReport(t, env, env.Login(p), env.Report(p, "lost-"+p, 1))
		if status != http.StatusCreated {
			t.Fatalf("broken store: status %d, want the false 201 the control needs", status)
		}
		acked.Add(t, rc)
	}
	env.Check(&acked)
	found := false
	for _, e := range rec.errs {
		found = found || strings.HasPrefix(e, "B0.1: acknowledged report")
	}
	if !found {
		t.Fatalf("the B0 checker passed an ack-before-commit server; it reported: %q", rec.errs)
	}
	t.Logf("negative control caught: %s", rec.errs[0])
}
