package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	xtlog "golang.org/x/mod/sumdb/tlog"

	"caucus/internal/election"
	"caucus/internal/report"
	"caucus/internal/server/servertest"
	"caucus/internal/store"
	"caucus/internal/store/postgres"
	"caucus/internal/store/postgres/pgtest"
	"caucus/internal/tally"
)

// Budgets of the nodes test: every wait is bounded, none is a synchronisation by sleeping.
const (
	nodesConverge = 15 * time.Second // every node publishes the last commit (a second, with slack for a loaded machine)
	nodesAttempts = 400              // one request's tries across the nodes, kills and 503s included
)

// nodeCluster is several real `caucus serve` processes on one PostgreSQL database, and a client
// that sends each request to them in turn, moving on to the next node when one does not answer.
type nodeCluster struct {
	t           *testing.T
	nodes       []*crashServer
	hc          *http.Client
	rr          atomic.Int64
	bin         string // the caucus binary
	electionDir string
	keyFile     string // the log key, every node's
	cpFile      string // verify's saved checkpoint
	def         *election.Definition
	db          *postgres.DB // the test's own handle, for reading what is stored
	tokens      []string     // each precinct's chair's session

	acked    servertest.Acked
	ackCount atomic.Int64

	cpMu      sync.Mutex
	published map[string]bool // every checkpoint note a node served while watched
}

// newCluster issues credentials for an election of precincts into the database at dbURL,
// starts nodes caucus serve processes on it and logs every chair in.
func newCluster(t *testing.T, precincts, nodes int, dbURL string) *nodeCluster {
	t.Helper()
	began := time.Now()
	dir := t.TempDir()
	c := &nodeCluster{t: t, bin: buildCaucus(t), def: servertest.Definition(t, precincts),
		electionDir: filepath.Join(dir, "election"), keyFile: filepath.Join(dir, "election.log-key"),
		cpFile: filepath.Join(dir, "verify.checkpoint"), published: map[string]bool{},
		hc: &http.Client{Timeout: crashHTTPTimeout, Transport: &http.Transport{MaxIdleConnsPerHost: 3 * precincts}}}
	if err := c.def.Write(c.electionDir); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(c.bin, "credentials", "--election", c.electionDir, "--db", dbURL, "--out", filepath.Join(dir, "pins")).CombinedOutput(); err != nil {
		t.Fatalf("caucus credentials: %v\n%s", err, out)
	}
	pins := readPins(t, filepath.Join(dir, "pins", "pins.csv"))
	for range nodes {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		node := &crashServer{t: t, bin: c.bin, url: "http://" + addr,
			args: []string{"serve", "--election", c.electionDir, "--db", dbURL, "--addr", addr, "--log-key", c.keyFile}}
		node.start() // one after the other: the first creates the key file the others read
		c.nodes = append(c.nodes, node)
	}
	t.Cleanup(func() {
		for _, node := range c.nodes {
			node.mu.Lock()
			node.cmd.Process.Kill()
			node.mu.Unlock()
		}
	})
	var err error
	if c.db, err = postgres.Open(t.Context(), dbURL, postgres.Options{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.db.Close() })

	// Every chair logs in, through the nodes in turn: a session is the database's, valid on
	// every node.
	c.tokens = make([]string, precincts)
	var wg sync.WaitGroup
	errs := make(chan error, precincts)
	for i := range precincts {
		wg.Go(func() {
			p := fmt.Sprintf("p%04d", i)
			body, _ := json.Marshal(map[string]string{"precinct_id": p, "pin": pins[p]})
			status, b, err := c.call(-1, "POST", "/api/v1/login", "", body)
			if err != nil || status != http.StatusOK {
				errs <- fmt.Errorf("login %s: %d %s %v", p, status, b, err)
				return
			}
			var o struct{ Token string }
			json.Unmarshal(b, &o)
			c.tokens[i] = o.Token
		})
	}
	wg.Wait()
	if len(errs) > 0 {
		t.Fatal(<-errs)
	}
	t.Logf("built, credentials issued, %d nodes serving and %d chairs logged in after %v", nodes, precincts, time.Since(began).Round(time.Millisecond))
	return c
}

// submit sends one report through node (or round-robin when node < 0) and records its receipt;
// status is the answer's: 201, 200 (a retry) or 409 (a conflict, kept).
func (c *nodeCluster) submit(node int, precinct int, r report.Report) (int, error) {
	status, b, err := c.call(node, "POST", "/api/v1/reports", c.tokens[precinct], r.Canonical())
	if err != nil {
		return 0, err
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
	if (status != http.StatusCreated && status != http.StatusOK && status != http.StatusConflict) || rc.ReportID != r.ReportID {
		return status, fmt.Errorf("report %s: %d %s", r.ReportID, status, b)
	}
	c.acked.Add(c.t, rc)
	c.ackCount.Add(1)
	return status, nil
}

// load sends later conflicting reports per precinct, round-robin, each chair in a goroutine of
// its own, and returns a channel closed when every one is acknowledged, and their errors.
func (c *nodeCluster) load(later int, seen []map[string]bool) (chan struct{}, chan error) {
	facts := report.Facts(c.def)
	errs := make(chan error, len(c.tokens))
	var wg sync.WaitGroup
	for i := range c.tokens {
		wg.Go(func() {
			p := fmt.Sprintf("p%04d", i)
			for k := range later {
				r := crashReport(facts[p], p, fmt.Sprintf("later-%s-%d", p, k), i*31+2+k, seen[i])
				if status, err := c.submit(-1, i, r); err != nil || (status != http.StatusConflict && status != http.StatusOK) {
					errs <- fmt.Errorf("later report %s: %d %v, want 409 (or 200 for a retry that found it stored)", r.ReportID, status, err)
					return
				}
			}
		})
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(errs); close(done) }()
	return done, errs
}

// waitAcks waits until n reports are acknowledged, or done.
func (c *nodeCluster) waitAcks(n int64, done chan struct{}) {
	c.t.Helper()
	deadline := time.After(crashTestTimeout)
	for c.ackCount.Load() < n {
		select {
		case <-done:
			return
		case <-deadline:
			c.t.Fatalf("the load stalled at %d acknowledgements", c.ackCount.Load())
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// watchCheckpoints keeps every checkpoint any node serves until the returned stop is called.
func (c *nodeCluster) watchCheckpoints() (stop func()) {
	ctx, cancel := context.WithCancel(c.t.Context())
	var watched sync.WaitGroup
	watched.Go(func() {
		for ctx.Err() == nil {
			for i := range c.nodes {
				if cp, err := c.get(i, "/log/checkpoint"); err == nil {
					c.cpMu.Lock()
					c.published[string(cp)] = true
					c.cpMu.Unlock()
				}
			}
			select {
			case <-ctx.Done():
			case <-time.After(50 * time.Millisecond):
			}
		}
	})
	return func() { cancel(); watched.Wait() }
}

// verify runs caucus verify against node, with the checkpoint file every run extends.
func (c *nodeCluster) verify(node int) {
	c.t.Helper()
	out, err := exec.Command(c.bin, "verify", "--url", c.nodes[node].url+"/", "--checkpoint", c.cpFile).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "summary: OK") {
		c.t.Errorf("verify node %d: %v\n%s", node, err, out)
	}
}

// call sends a request to node first (or, when first < 0, the next node in round-robin order),
// moving on to the next node after a failure without an answer (a killed node) and retrying a
// 5xx (a 503 stored nothing; another, a store failure, may have), until it has an answer. Reports carry their report_id, so a retry of
// a request whose outcome is unknown is safe.
func (c *nodeCluster) call(first int, method, path, token string, body []byte) (int, []byte, error) {
	if first < 0 {
		first = int(c.rr.Add(1))
	}
	for attempt := range nodesAttempts {
		node := c.nodes[(first+attempt)%len(c.nodes)]
		req, _ := http.NewRequest(method, node.url+path, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := c.hc.Do(req)
		if err != nil {
			time.Sleep(10 * time.Millisecond) // every node down for a moment: pace the retries
			continue
		}
		b, rerr := io.ReadAll(resp.Body)
		resp.Body.Close()
		if rerr == nil && resp.StatusCode < 500 {
			return resp.StatusCode, b, nil
		}
		time.Sleep(20 * time.Millisecond) // 503: nothing stored; another 5xx: unknown, the retry finds out
	}
	return 0, nil, fmt.Errorf("%s %s: no answer after %d attempts", method, path, nodesAttempts)
}

// get is a GET of one node; an error when the node does not answer 200.
func (c *nodeCluster) get(node int, path string) ([]byte, error) {
	resp, err := c.hc.Get(c.nodes[node].url + path)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("GET %s: %d %s", path, resp.StatusCode, b)
	}
	return b, err
}

// converged waits until every node publishes the same results, of the log's whole size, and
// serves a checkpoint of that size, and returns those results.
func (c *nodeCluster) converged(ctx context.Context) []byte {
	c.t.Helper()
	deadline := time.Now().Add(nodesConverge)
	for {
		size, err := c.db.Size(ctx)
		if err != nil {
			c.t.Fatal(err)
		}
		var first []byte
		same := true
		for i := range c.nodes {
			res, err1 := c.get(i, "/api/v1/results")
			cp, err2 := c.get(i, "/log/checkpoint")
			n, _, err3 := parseCheckpoint(cp)
			var r struct {
				LogSize int64 `json:"log_size"`
			}
			json.Unmarshal(res, &r)
			if err1 != nil || err2 != nil || err3 != nil || r.LogSize != size || n != size || (first != nil && !bytes.Equal(res, first)) {
				same = false
				break
			}
			first = res
		}
		if same {
			return first
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("the nodes did not converge on the log of %d entries within %v", size, nodesConverge)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// sseEvent is one results event of a node's stream: the log size it is of, and the results.
type sseEvent struct {
	size int64
	data []byte
}

// events reads node's /api/v1/events until ctx is done, into the returned channel (closed when
// the stream ends).
func (c *nodeCluster) events(ctx context.Context, node int) chan sseEvent {
	c.t.Helper()
	req, _ := http.NewRequestWithContext(ctx, "GET", c.nodes[node].url+"/api/v1/events", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusOK {
		c.t.Fatalf("node %d's event stream: %v %v", node, resp, err)
	}
	out := make(chan sseEvent, 10000)
	go func() {
		defer close(out)
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(nil, 1<<24)
		var ev sseEvent
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "id: "):
				ev.size, _ = strconv.ParseInt(strings.TrimPrefix(line, "id: "), 10, 64)
			case strings.HasPrefix(line, "data: "):
				ev.data = []byte(strings.TrimPrefix(line, "data: "))
			case line == "" && ev.data != nil:
				out <- ev
				ev = sseEvent{}
			}
		}
	}()
	return out
}

// parseCheckpoint reads the size and root hash of a signed checkpoint note.
func parseCheckpoint(note []byte) (int64, xtlog.Hash, error) {
	lines := strings.Split(string(note), "\n")
	if len(lines) < 3 {
		return 0, xtlog.Hash{}, fmt.Errorf("checkpoint %q: too short", note)
	}
	n, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil {
		return 0, xtlog.Hash{}, fmt.Errorf("checkpoint size: %w", err)
	}
	raw, err := base64.StdEncoding.DecodeString(lines[2])
	if err != nil || len(raw) != len(xtlog.Hash{}) {
		return 0, xtlog.Hash{}, fmt.Errorf("checkpoint root %q: %v", lines[2], err)
	}
	var h xtlog.Hash
	copy(h[:], raw)
	return n, h, nil
}

// TestNodes runs three real caucus serve processes on one PostgreSQL database, the client
// sending to them in turn. First every chair's report, a retry of it and a conflicting second
// report are sent to three different nodes at the same instant: per precinct exactly one is
// accepted, the conflict is kept and flagged, the retry gets the same receipt, and every node
// publishes the same results. Then, while every chair sends more conflicting reports, the node
// that signs is SIGKILLed and restarted: another takes over the signing, and at the end every
// acknowledged report is stored exactly once with its acknowledged hash, the log is consistent
// with every checkpoint any node published, every node publishes results equal to a recount
// of the log, and caucus verify passes against every node, the log extending the checkpoint it
// saved before the kill. Last, the database dumped while the nodes run and restored into
// another serves the same results and log.
func TestNodes(t *testing.T) {
	const (
		precincts = 200
		later     = 3 // conflicting reports per precinct sent during the kill
	)
	ctx := context.Background()
	began := time.Now()
	dbURL := pgtest.NewDatabase(t)
	c := newCluster(t, precincts, 3, dbURL)
	seen := c.simultaneous(ctx)
	t.Logf("%d precincts × 3 simultaneous sends: one accepted each, the nodes converged, after %v", precincts, time.Since(began).Round(time.Millisecond))

	// Under load: more conflicting reports, round-robin, while the signer (the first node, which
	// took the lease at start) is SIGKILLed and restarted; the checkpoints every node publishes
	// meanwhile are kept.
	stopWatch := c.watchCheckpoints()
	before := c.ackCount.Load()
	done, errs := c.load(later, seen)
	total := int64(precincts * later)
	c.waitAcks(before+total/4, done)
	if err := c.nodes[0].stop(syscall.SIGKILL); err == nil {
		t.Fatal("caucus serve exited cleanly after SIGKILL")
	}
	killedAt := c.ackCount.Load() - before
	c.waitAcks(before+total*3/4, done)
	// Failover: with the signer dead, another node takes the lease and signs what was
	// committed since.
	committed, err := c.db.Size(ctx)
	if err != nil {
		t.Fatal(err)
	}
	failover := time.Now()
	for deadline := failover.Add(nodesConverge); ; {
		cp, err := c.get(1, "/log/checkpoint")
		if n, _, perr := parseCheckpoint(cp); err == nil && perr == nil && n >= committed {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no node signed the log of %d entries within %v of the signer's death", committed, nodesConverge)
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("with the signer dead, a checkpoint of the log of %d entries served %v later", committed, time.Since(failover).Round(time.Millisecond))
	c.nodes[0].start()
	<-done
	stopWatch()
	for err := range errs {
		t.Error(err)
	}
	if t.Failed() {
		t.FailNow()
	}
	results := c.check(ctx, precincts*(2+later))
	t.Logf("killed the signer after %d of %d later reports; %d distinct checkpoints published, all consistent; %v in all",
		killedAt, total, len(c.published), time.Since(began).Round(time.Millisecond))

	// The README's back-up and restore: pg_dump of the database while the nodes run, restored
	// into a new database and served by a node of its own, publishes the same results, signs
	// the same log, and verify passes against it, extending the checkpoint it saved.
	pg := pgtest.Shared(t)
	dump := filepath.Join(t.TempDir(), "election.dump")
	if out, err := exec.Command(filepath.Join(pg.Bin, "pg_dump"), "-Fc", "-d", dbURL, "-f", dump).CombinedOutput(); err != nil {
		t.Fatalf("pg_dump: %v\n%s", err, out)
	}
	restored, err := pg.CreateDatabase(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(filepath.Join(pg.Bin, "pg_restore"), "--no-owner", "-d", restored, dump).CombinedOutput(); err != nil {
		t.Fatalf("pg_restore: %v\n%s", err, out)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	node := &crashServer{t: t, bin: c.bin, url: "http://" + addr,
		args: []string{"serve", "--election", c.electionDir, "--db", restored, "--addr", addr, "--log-key", c.keyFile}}
	node.start()
	t.Cleanup(func() { node.stop(syscall.SIGTERM) })
	rdb, err := postgres.Open(ctx, restored, postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer rdb.Close()
	if err := rdb.IntegrityCheck(ctx); err != nil {
		t.Errorf("the restored database: %v", err)
	}
	back := &nodeCluster{t: t, nodes: []*crashServer{node}, hc: c.hc, bin: c.bin, cpFile: c.cpFile, db: rdb}
	if got := back.converged(ctx); !bytes.Equal(got, results) {
		t.Errorf("the restored database's results:\n%s\nthe original's:\n%s", got, results)
	}
	back.verify(0)
}

// TestNodesDatabaseRestart: three nodes under load while their PostgreSQL server is stopped,
// fast and then immediately (crash recovery), and started again: the clients retry until the
// nodes answer again, and at the end every acknowledged report is stored exactly once, the log
// is consistent with every checkpoint published before, every node publishes a recount of the
// log and caucus verify passes against each.
func TestNodesDatabaseRestart(t *testing.T) {
	const (
		precincts = 40
		later     = 4
	)
	ctx := context.Background()
	began := time.Now()
	srv, err := pgtest.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Stop() })
	dbURL, err := srv.CreateDatabase(ctx)
	if err != nil {
		t.Fatal(err)
	}
	c := newCluster(t, precincts, 3, dbURL)
	seen := c.simultaneous(ctx)
	stopWatch := c.watchCheckpoints()
	before := c.ackCount.Load()
	done, errs := c.load(later, seen)
	total := int64(precincts * later)
	for i, mode := range []string{"fast", "immediate"} {
		c.waitAcks(before+total*int64(i+1)/3, done)
		if err := srv.Shutdown(mode); err != nil {
			t.Fatal(err)
		}
		stopped := c.ackCount.Load() - before
		if err := srv.Restart(); err != nil {
			t.Fatal(err)
		}
		t.Logf("PostgreSQL stopped (%s) after %d of %d later reports, and started again", mode, stopped, total)
	}
	<-done
	stopWatch()
	for err := range errs {
		t.Error(err)
	}
	if t.Failed() {
		t.FailNow()
	}
	c.check(ctx, precincts*(2+later))
	t.Logf("%d distinct checkpoints published, all consistent; %v in all", len(c.published), time.Since(began).Round(time.Millisecond))
}

// simultaneous sends, for every precinct at the same instant, a report, its retry and a
// conflicting report to three different nodes, and checks that exactly one is accepted per
// precinct, the other kept and flagged, and that every node converges on the same results and
// streams them as an event;
// then verify, against the second node, saves the checkpoint every later run must extend. It
// returns the numbers each precinct has reported (crashReport's seen).
func (c *nodeCluster) simultaneous(ctx context.Context) []map[string]bool {
	t := c.t
	t.Helper()
	facts := report.Facts(c.def)
	precincts := len(c.tokens)
	type sent struct {
		id     string
		status int
	}
	// Every node's event stream, open before the reports: each must deliver the last commit.
	streams := make([]chan sseEvent, len(c.nodes))
	sctx, stopStreams := context.WithCancel(ctx)
	defer stopStreams()
	for i := range c.nodes {
		streams[i] = c.events(sctx, i)
	}
	statuses := make([][3]sent, precincts)
	seen := make([]map[string]bool, precincts)
	start := make(chan struct{})
	errs := make(chan error, 3*precincts)
	var wg sync.WaitGroup
	for i := range precincts {
		p := fmt.Sprintf("p%04d", i)
		seen[i] = map[string]bool{}
		a := crashReport(facts[p], p, "first-"+p, i*31, seen[i])
		b := crashReport(facts[p], p, "second-"+p, i*31+1, seen[i])
		for k, r := range []report.Report{a, a, b} {
			wg.Go(func() {
				<-start
				status, err := c.submit((i+k)%len(c.nodes), i, r)
				if err != nil {
					errs <- err
				}
				statuses[i][k] = sent{r.ReportID, status}
			})
		}
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if t.Failed() {
		t.FailNow()
	}
	for i, ss := range statuses {
		p := fmt.Sprintf("p%04d", i)
		var created []string
		for _, s := range ss {
			if s.status == http.StatusCreated {
				created = append(created, s.id)
			}
		}
		if len(created) != 1 {
			t.Errorf("%s: %d reports accepted (%v), want exactly 1", p, len(created), ss)
			continue
		}
		st, err := c.db.PrecinctState(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		counted, err := c.db.EntryByReportID(ctx, created[0])
		if err != nil {
			t.Fatal(err)
		}
		if st.Reports != 2 || !st.Conflict || st.Counted != counted.Index {
			t.Errorf("%s: %+v, want 2 reports stored, the conflict flagged, %s (index %d) counted", p, st, created[0], counted.Index)
		}
	}
	converging := time.Now()
	results := c.converged(ctx)
	t.Logf("every node published the last commit and its checkpoint %v after the last acknowledgement", time.Since(converging).Round(time.Millisecond))
	size, err := c.db.Size(ctx)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.After(nodesConverge)
	for i, stream := range streams {
	read:
		for {
			select {
			case ev, ok := <-stream:
				if !ok {
					t.Fatalf("node %d's event stream ended before the log of %d entries", i, size)
				}
				if ev.size == size {
					if !bytes.Equal(ev.data, bytes.TrimRight(results, "\r\n")) {
						t.Errorf("node %d's event for the log of %d entries:\n%s\nits results:\n%s", i, size, ev.data, results)
					}
					break read
				}
			case <-deadline:
				t.Fatalf("node %d's event stream did not reach the log of %d entries within %v", i, size, nodesConverge)
			}
		}
	}
	c.verify(1)
	return seen
}

// check is the end of a test: every node converged on the log, every acknowledged report
// stored exactly once as acknowledged (want in all), the log dense and intact, consistent with
// every checkpoint published, the results a recount of it, and verify passing on every node.
func (c *nodeCluster) check(ctx context.Context, want int) (results []byte) {
	t := c.t
	t.Helper()
	results = c.converged(ctx)
	size, err := c.db.Size(ctx)
	if err != nil {
		t.Fatal(err)
	}
	entries, err := c.db.Entries(ctx, 0, size)
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for i, e := range entries {
		if e.Index != int64(i) || ids[e.ReportID] {
			t.Errorf("entry %d (index %d, report %s) is out of place or a duplicate", i, e.Index, e.ReportID)
		}
		ids[e.ReportID] = true
	}
	for id, rc := range c.acked.Receipts {
		if rc.LogIndex < 0 || rc.LogIndex >= size {
			t.Errorf("acknowledged report %s at %d, beyond the log of %d", id, rc.LogIndex, size)
			continue
		}
		e := entries[rc.LogIndex]
		if e.ReportID != id || report.HexHash(e.LeafHash) != rc.LeafHash || report.HexHash(store.LeafHash(e.Body)) != rc.LeafHash {
			t.Errorf("report %s acknowledged at %d %s, the log holds %s %x there", id, rc.LogIndex, rc.LeafHash, e.ReportID, e.LeafHash)
		}
	}
	if len(c.acked.Receipts) != want || len(entries) != want {
		t.Errorf("%d acknowledged, %d stored; want %d of each", len(c.acked.Receipts), len(entries), want)
	}
	if err := c.db.IntegrityCheck(ctx); err != nil {
		t.Error(err)
	}

	// The log is consistent with every checkpoint any node published.
	var hashes []xtlog.Hash
	reader := xtlog.HashReaderFunc(func(idx []int64) ([]xtlog.Hash, error) {
		out := make([]xtlog.Hash, len(idx))
		for i, x := range idx {
			out[i] = hashes[x]
		}
		return out, nil
	})
	for i, e := range entries {
		hs, err := xtlog.StoredHashes(int64(i), e.Body, reader)
		if err != nil {
			t.Fatal(err)
		}
		hashes = append(hashes, hs...)
	}
	c.cpMu.Lock()
	defer c.cpMu.Unlock()
	for cp := range c.published {
		n, root, err := parseCheckpoint([]byte(cp))
		if err != nil {
			t.Fatal(err)
		}
		if h, err := xtlog.TreeHash(n, reader); err != nil || h != root {
			t.Errorf("a published checkpoint of size %d has root %x, the log's is %x (%v)", n, root, h, err)
		}
	}

	// Every node publishes a recount of the log; verify passes against each, extending the
	// checkpoint it saved before.
	loaded, err := election.LoadDir(c.electionDir)
	if err != nil {
		t.Fatal(err)
	}
	key, err := os.ReadFile(c.keyFile)
	if err != nil {
		t.Fatal(err)
	}
	recount, err := tally.RecountWithLog(loaded, entries, servertest.LogNames(t, c.db, loaded, entries, strings.TrimSpace(string(key))))
	if err != nil {
		t.Fatal(err)
	}
	if want, _ := recount.Results(); !bytes.Equal(results, want) {
		t.Errorf("published results differ from the recount of the log:\n%s\n%s", results, want)
	}
	for i := range c.nodes {
		c.verify(i)
	}
	return results
}
