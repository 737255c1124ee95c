package main

// reliability.md D1, CI version: SIGKILL the real binary under load, restart it on the same
// database, and check that nothing acknowledged was lost, doubled or changed (tessera's
// integration/fault/posix/fault_test.go habit).

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"caucus/internal/election"
	"caucus/internal/report"
	"caucus/internal/rules"
	"caucus/internal/server/servertest"
	"caucus/internal/store"
	"caucus/internal/store/sqlite"
	"caucus/internal/tally"
)

// Budgets of the crash test: every wait is bounded, none is a synchronisation by sleeping.
const (
	crashStartTimeout = 20 * time.Second // the binary prints "serving" (it rebuilds the tally first)
	crashTestTimeout  = 90 * time.Second // the whole load, kills included
	crashHTTPTimeout  = 15 * time.Second // one request (the server's own submit budget is 10 s)
	crashAttempts     = 200              // one operation's tries across kills and 503s
)

// buildCaucus builds the real binary into a temporary folder.
func buildCaucus(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "caucus")
	cmd := exec.Command(filepath.Join(runtime.GOROOT(), "bin", "go"), "build", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// crashServer is the real `caucus serve` as a child process.
type crashServer struct {
	t     *testing.T
	bin   string
	args  []string
	cmd   *exec.Cmd
	url   string
	mu    sync.Mutex
	up    chan struct{} // closed by the next restart: clients whose request failed wait on it
	stops int
	// waitExit has the running process's Wait result.
	waitExit chan error
	watch    *lineWatch // the running process's stderr
}

// lastLines is the end of the running server's log, for failure messages.
func (s *crashServer) lastLines() string {
	s.mu.Lock()
	w := s.watch
	s.mu.Unlock()
	w.mu.Lock()
	defer w.mu.Unlock()
	return strings.Join(w.last, "\n")
}

// lineWatch (chaos.go) is the child's stderr.

func (s *crashServer) start() {
	s.t.Helper()
	watch := &lineWatch{ready: make(chan struct{})}
	cmd := exec.Command(s.bin, s.args...)
	cmd.Stderr = watch
	if err := cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	select {
	case <-watch.ready:
	case err := <-exited:
		s.t.Fatalf("caucus serve exited at start: %v\n%s", err, strings.Join(watch.last, "\n"))
	case <-time.After(crashStartTimeout):
		cmd.Process.Kill()
		s.t.Fatalf("caucus serve not serving after %v\n%s", crashStartTimeout, strings.Join(watch.last, "\n"))
	}
	s.mu.Lock()
	s.cmd, s.watch = cmd, watch
	old := s.up
	s.up = make(chan struct{})
	s.mu.Unlock()
	if old != nil {
		close(old)
	}
	s.waitExit = exited
}

// stop sends sig and waits for the process to end.
func (s *crashServer) stop(sig os.Signal) error {
	s.mu.Lock()
	cmd := s.cmd
	s.stops++
	s.mu.Unlock()
	if err := cmd.Process.Signal(sig); err != nil {
		return err
	}
	select {
	case err := <-s.waitExit:
		return err
	case <-time.After(crashStartTimeout):
		cmd.Process.Kill()
		return errors.New("caucus serve did not stop")
	}
}

// restarted is what a client waits on after a failed request: closed by the next start.
func (s *crashServer) restarted() chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.up
}

// crashReport is a valid report for precinct p whose numbers differ from every report in seen:
// the same numbers under another report_id would be counted once (C4), not stored.
func crashReport(facts report.Precinct, p, id string, seed int, seen map[string]bool) report.Report {
	for k := 0; ; k++ {
		s := seed + k*7919
		counts := []int64{int64(40 + s%17), int64(27 + s%7), int64(13 + s%5), 3}
		first := map[string]int64{}
		var total int64
		for i, c := range counts {
			first[servertest.Candidates[i]] = c
			total += c
		}
		final := map[string]int64{"adams": counts[0], "baker": counts[1] + counts[3], "clark": counts[2]}
		key := fmt.Sprint(counts)
		r := report.Report{ReportID: id, PrecinctID: p, Attendees: total, First: first, Final: final, Channel: "app"}
		if res := rules.Calc(report.CalcInput(r, facts)); !seen[key] && !res.HasErrors() {
			seen[key] = true
			return r
		}
	}
}

// TestCrashRecovery: 50 chairs each send 6 reports for their precinct (the first counted, the
// other 5 conflicting second reports, kept and flagged), half of them sent again once acked,
// while the server is SIGKILLed 5 times at random points of the load and restarted on the same
// database. Requests whose outcome is unknown are retried with the same report_id. At the end
// every acknowledged report is stored exactly once with the acknowledged leaf hash, the
// database passes integrity_check and the published results equal a recount of the log.
func TestCrashRecovery(t *testing.T) {
	const (
		clients = 50
		reports = 6 // per client: 1 counted + 5 conflicting
		kills   = 5
	)
	began := time.Now()
	bin := buildCaucus(t)
	dir := t.TempDir()
	def := servertest.Definition(t, clients)
	electionDir := filepath.Join(dir, "election")
	if err := def.Write(electionDir); err != nil {
		t.Fatal(err)
	}
	dbPath := filepath.Join(dir, "caucus.db")
	out, err := exec.Command(bin, "credentials", "--election", electionDir, "--db", "sqlite:"+dbPath, "--out", filepath.Join(dir, "pins")).CombinedOutput()
	if err != nil {
		t.Fatalf("caucus credentials: %v\n%s", err, out)
	}
	pins := readPins(t, filepath.Join(dir, "pins", "pins.csv"))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	srv := &crashServer{t: t, bin: bin, url: "http://" + addr,
		args: []string{"serve", "--election", electionDir, "--db", "sqlite:" + dbPath, "--addr", addr}}
	srv.start()
	t.Logf("built, credentials issued and serving after %v", time.Since(began).Round(time.Millisecond))

	hc := &http.Client{Timeout: crashHTTPTimeout, Transport: &http.Transport{MaxIdleConnsPerHost: clients}}
	var (
		acked    servertest.Acked
		ackCount atomic.Int64
		maxIndex atomic.Int64 // the highest log index acknowledged so far
		unknown  atomic.Int64 // requests whose outcome was unknown (connection cut), retried
		progress = make(chan struct{}, 1)
	)
	maxIndex.Store(-1)
	// call sends one request until it has an answer, across kills: a request that fails
	// without an answer waits for the next restart and goes again (same report_id).
	call := func(method, path, token string, body []byte) (int, []byte, error) {
		for range crashAttempts {
			up := srv.restarted()
			req, _ := http.NewRequest(method, srv.url+path, bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			if token != "" {
				req.Header.Set("Authorization", "Bearer "+token)
			}
			resp, err := hc.Do(req)
			if err == nil {
				b, rerr := io.ReadAll(resp.Body)
				resp.Body.Close()
				if rerr == nil && resp.StatusCode != http.StatusServiceUnavailable {
					return resp.StatusCode, b, nil
				}
				if rerr == nil {
					continue // 503: nothing stored, retry at once (bounded)
				}
			}
			unknown.Add(1)
			select {
			case <-up:
			case <-time.After(crashHTTPTimeout):
			}
		}
		return 0, nil, fmt.Errorf("%s %s: no answer after %d attempts", method, path, crashAttempts)
	}
	login := func(p string) (string, error) {
		body, _ := json.Marshal(map[string]string{"precinct_id": p, "pin": pins[p]})
		status, b, err := call("POST", "/api/v1/login", "", body)
		if err != nil || status != http.StatusOK {
			return "", fmt.Errorf("login %s: %d %s %v", p, status, b, err)
		}
		var o struct{ Token string }
		json.Unmarshal(b, &o)
		return o.Token, nil
	}
	submit := func(token *string, r report.Report, wantStatus int) (report.Receipt, error) {
		for range 3 {
			status, b, err := call("POST", "/api/v1/reports", *token, r.Canonical())
			if err != nil {
				return report.Receipt{}, err
			}
			if status == http.StatusUnauthorized { // the session died with the server: log in again
				if *token, err = login(r.PrecinctID); err != nil {
					return report.Receipt{}, err
				}
				continue
			}
			var o struct {
				report.Receipt
				Inner *report.Receipt `json:"receipt"`
			}
			json.Unmarshal(b, &o)
			rc := o.Receipt
			if o.Inner != nil {
				rc = *o.Inner
			}
			// A retry of an unknown outcome may find the report stored: 200 is then right too.
			if (status != wantStatus && status != http.StatusOK) || rc.ReportID != r.ReportID {
				return rc, fmt.Errorf("report %s: %d %s, want %d", r.ReportID, status, b, wantStatus)
			}
			acked.Add(t, rc)
			for m := maxIndex.Load(); rc.LogIndex > m && !maxIndex.CompareAndSwap(m, rc.LogIndex); m = maxIndex.Load() {
			}
			ackCount.Add(1)
			select {
			case progress <- struct{}{}:
			default:
			}
			return rc, nil
		}
		return report.Receipt{}, fmt.Errorf("report %s: unauthorized after logging in again", r.ReportID)
	}

	facts := report.Facts(def)
	// The chairs log in before the load and the kills: this test is about reports, and a login
	// cut by a kill still counts against the precinct's PIN attempts (see the report's note).
	tokens := make([]string, clients)
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	for i := range clients {
		wg.Go(func() {
			var err error
			if tokens[i], err = login(fmt.Sprintf("p%04d", i)); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	if len(errs) > 0 {
		t.Fatal(<-errs)
	}
	for i := range clients {
		wg.Go(func() {
			p := fmt.Sprintf("p%04d", i)
			rng := rand.New(rand.NewPCG(uint64(i), 1))
			token := tokens[i]
			seen := map[string]bool{}
			for k := range reports {
				r := crashReport(facts[p], p, fmt.Sprintf("crash-%s-%d", p, k), i*31+k, seen)
				want := http.StatusCreated
				if k > 0 {
					want = http.StatusConflict
				}
				if _, err := submit(&token, r, want); err != nil {
					errs <- err
					return
				}
				if rng.IntN(2) == 0 { // the phone sends it again: the same receipt, 200
					if _, err := submit(&token, r, http.StatusOK); err != nil {
						errs <- err
						return
					}
				}
			}
		})
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()

	// The killer: SIGKILL after a random number of acknowledgements, 5 times.
	rng := rand.New(rand.NewPCG(1, 2020))
	deadline := time.After(crashTestTimeout)
	for kill := range kills {
		target := ackCount.Load() + int64(10+rng.IntN(50))
	wait:
		for ackCount.Load() < target {
			select {
			case <-progress:
			case <-done:
				break wait
			case <-deadline:
				t.Fatalf("kill %d: the load stalled at %d acknowledgements", kill, ackCount.Load())
			}
		}
		if err := srv.stop(syscall.SIGKILL); err == nil {
			t.Fatalf("kill %d: caucus serve exited cleanly after SIGKILL", kill)
		}
		before := maxIndex.Load() // every ack up to here came from a process now dead
		srv.start()
		// Durability after each restart: the log reaches every index acknowledged before.
		status, b, err := call("GET", "/healthz", "", nil)
		var h map[string]any
		json.Unmarshal(b, &h)
		size, _ := h[def.Election().ID].(map[string]any)["log_size"].(float64)
		if err != nil || status != http.StatusOK || int64(size) < before+1 {
			t.Fatalf("after kill %d: /healthz %d %s, want log_size ≥ %d (%v)", kill, status, b, before+1, err)
		}
	}
	select {
	case <-done:
	case <-deadline:
		t.Fatalf("the load did not finish: %d acknowledgements", ackCount.Load())
	}
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if t.Failed() {
		t.Fatalf("the server's last log lines:\n%s", srv.lastLines())
	}
	status, published, err := call("GET", "/api/v1/results", "", nil)
	if err != nil || status != http.StatusOK {
		t.Fatalf("results: %d %v", status, err)
	}
	if err := srv.stop(syscall.SIGTERM); err != nil {
		t.Errorf("graceful stop: %v", err)
	}

	// B0 on the database, opened by our own store after the last stop.
	ctx := context.Background()
	db, err := sqlite.Open(ctx, dbPath, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for id, rc := range acked.Receipts {
		e, err := db.EntryByReportID(ctx, id)
		if err != nil {
			t.Errorf("B0.1: acknowledged report %s lost: %v", id, err)
			continue
		}
		if e.Index != rc.LogIndex || report.HexHash(e.LeafHash) != rc.LeafHash || report.HexHash(store.LeafHash(e.Body)) != rc.LeafHash {
			t.Errorf("B0.1: report %s stored at %d %x, acknowledged at %d %s", id, e.Index, e.LeafHash, rc.LogIndex, rc.LeafHash)
		}
	}
	size, err := db.Size(ctx)
	if err != nil {
		t.Fatal(err)
	}
	entries, err := db.Entries(ctx, 0, size)
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for i, e := range entries {
		if e.Index != int64(i) || ids[e.ReportID] {
			t.Errorf("B0.1: entry %d (index %d, report %s) is out of place or a duplicate", i, e.Index, e.ReportID)
		}
		ids[e.ReportID] = true
	}
	if len(acked.Receipts) != clients*reports || len(entries) != clients*reports {
		t.Errorf("%d acknowledged, %d stored; want %d of each", len(acked.Receipts), len(entries), clients*reports)
	}
	if err := db.IntegrityCheck(ctx); err != nil {
		t.Errorf("B0.4: %v", err)
	}
	loaded, err := election.LoadDir(electionDir)
	if err != nil {
		t.Fatal(err)
	}
	key, err := os.ReadFile(logKeyPath("sqlite:" + dbPath)) // caucus serve keeps the key beside the database
	if err != nil {
		t.Fatalf("B0.2: the log key: %v", err)
	}
	recount, err := tally.RecountWithLog(loaded, entries, servertest.LogNames(t, db, loaded, entries, strings.TrimSpace(string(key))))
	if err != nil {
		t.Fatal(err)
	}
	if want, _ := recount.Results(); !bytes.Equal(published, want) {
		t.Errorf("B0.3: published results differ from the recount of the log:\n%s\n%s", published, want)
	}
	t.Logf("%d kills, %d reports stored, %d acknowledgements (retries included), %d requests with unknown outcome retried, %v",
		kills, len(entries), ackCount.Load(), unknown.Load(), time.Since(began).Round(time.Millisecond))
}

// readPins reads pins.csv (precinct_id,pin).
func readPins(t *testing.T, path string) map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	pins := map[string]string{}
	for _, row := range rows[1:] {
		pins[row[0]] = row[1]
	}
	return pins
}
