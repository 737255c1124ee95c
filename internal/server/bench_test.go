package server_test

// Whole-server benchmarks over real HTTP on loopback and a real SQLite file, and the baseline
// they are measured against: plain INSERTs of the same leaf bytes into a bare SQLite table in
// the same durability mode. scripts/bench runs them together and prints the ratios; figures go
// in notes, never in assertions (STYLE.md §10).

import (
	"bytes"
	"database/sql"
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"caucus/internal/election"
	"caucus/internal/report"
	"caucus/internal/rules"
	"caucus/internal/server/servertest"
	"caucus/internal/store"

	_ "modernc.org/sqlite"
)

// benchClients is how many chairs submit at once.
const benchClients = 64

// benchReports returns n valid reports for precinct p with different numbers (seeded), so that
// none repeats another's numbers (which would be counted once, C4, and not stored).
func benchReports(tb testing.TB, def *election.Definition, p string, n int) []report.Report {
	return benchReportsOf(tb, report.Facts(def)[p], p, n)
}

// benchReportsOf is benchReports given the precinct's facts (intake.Facts is the whole
// election's: computed once for thousands of precincts).
func benchReportsOf(tb testing.TB, facts report.Precinct, p string, n int) []report.Report {
	seen := map[string]bool{}
	var out []report.Report
	for s := 0; len(out) < n && s < 100*n; s++ {
		counts := []int64{int64(40 + s%17), int64(27 + s%7), int64(13 + s%5), 3}
		first := map[string]int64{}
		var total int64
		for i, c := range counts {
			first[servertest.Candidates[i]] = c
			total += c
		}
		key := fmt.Sprint(counts)
		r := report.Report{ReportID: "x", PrecinctID: p, Attendees: total, First: first, Channel: "app",
			Final: map[string]int64{"adams": counts[0], "baker": counts[1] + counts[3], "clark": counts[2]}}
		if res := rules.Calc(report.CalcInput(r, facts)); !seen[key] && !res.HasErrors() {
			seen[key] = true
			out = append(out, r)
		}
	}
	if len(out) < n {
		tb.Fatalf("only %d distinct valid reports for %s", len(out), p)
	}
	return out
}

// load runs b.Loop's iterations on benchClients concurrent workers and reports rate and
// latency percentiles. do is one request by worker w (its i-th); it returns false on failure.
func load(b *testing.B, unit string, do func(w, i int) bool) {
	b.Helper()
	work := make(chan int, benchClients)
	lat := make([][]time.Duration, benchClients)
	var failed atomic.Int64
	var wg sync.WaitGroup
	for w := range benchClients {
		wg.Go(func() {
			for i := range work {
				t0 := time.Now()
				if !do(w, i) {
					failed.Add(1)
				}
				lat[w] = append(lat[w], time.Since(t0))
			}
		})
	}
	start := time.Now()
	n := 0
	for b.Loop() {
		work <- n
		n++
	}
	close(work)
	wg.Wait()
	elapsed := time.Since(start)
	if f := failed.Load(); f > 0 {
		b.Fatalf("%d of %d requests failed", f, n)
	}
	all := slices.Concat(lat...)
	slices.Sort(all)
	pct := func(p float64) float64 { return float64(all[int(p*float64(len(all)-1))].Microseconds()) / 1000 }
	b.ReportMetric(float64(n)/elapsed.Seconds(), unit)
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
}

// benchPrecincts is the size of BenchmarkSubmit's election: enough precincts that every timed
// report is its precinct's first, as on caucus night (b.Loop's iterations at a few thousand
// reports/s for -benchtime 2s); past it the reports are second reports (409), counted in the
// second-reports metric.
const benchPrecincts = 20000

// BenchmarkSubmit is durable reports per second: 64 chairs POST reports at once over loopback
// HTTP, each the first report of a precinct not yet reported (201); each answer comes after its
// group commit. entries/commit is the mean batch the intake formed.
func BenchmarkSubmit(b *testing.B) {
	f := &faultStore{} // no fault: it only counts the commits
	env := startFaulty(b, f, servertest.Options{Precincts: benchPrecincts, NoCredentials: true})
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: benchClients}}
	ids := make([]string, benchPrecincts)
	bodies := make([]report.Report, benchPrecincts)
	facts := report.Facts(env.Def)
	for i := range ids {
		ids[i] = fmt.Sprintf("p%04d", i)
		bodies[i] = benchReportsOf(b, facts[ids[i]], ids[i], 1)[0]
	}
	tokens := env.ChairSessions(ids)
	var second atomic.Int64
	b.ReportAllocs()
	load(b, "reports/s", func(w, i int) bool {
		p := i % benchPrecincts
		r := bodies[p]
		r.ReportID = fmt.Sprintf("bench-%d", i)
		req, _ := http.NewRequest("POST", env.URL+"/api/v1/reports", bytes.NewReader(r.Canonical()))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+tokens[p])
		resp, err := hc.Do(req)
		if err != nil {
			return false
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusConflict {
			second.Add(1)
		}
		return resp.StatusCode == http.StatusCreated || (i >= benchPrecincts && resp.StatusCode == http.StatusConflict)
	})
	f.mu.Lock()
	if f.appends > 0 {
		b.ReportMetric(float64(b.N)/float64(f.appends), "entries/commit")
	}
	f.mu.Unlock()
	b.ReportMetric(float64(second.Load()), "second-reports")
}

// BenchmarkResults is GET /api/v1/results per second from 64 readers, with 64 precincts
// reported.
func BenchmarkResults(b *testing.B) {
	env := servertest.Start(b, servertest.Options{Precincts: benchClients})
	for w := range benchClients {
		p := fmt.Sprintf("p%04d", w)
		r := benchReports(b, env.Def, p, 1)[0]
		r.ReportID = "r-" + p
		if status, _ := env.Do("POST", "/api/v1/reports", env.Login(p), r.Canonical()); status != http.StatusCreated {
			b.Fatalf("report %s: %d", p, status)
		}
	}
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: benchClients}}
	var buf sync.Pool
	buf.New = func() any { return new(bytes.Buffer) }
	b.ReportAllocs()
	load(b, "req/s", func(w, i int) bool {
		resp, err := hc.Get(env.URL + "/api/v1/results")
		if err != nil {
			return false
		}
		bb := buf.Get().(*bytes.Buffer)
		bb.Reset()
		bb.ReadFrom(resp.Body)
		buf.Put(bb)
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
}

// BenchmarkRawInsert is the baseline: the same leaf bytes (canonical entries of the same
// reports) INSERTed into a bare table, in WAL with synchronous=FULL on one connection, one
// transaction (one fsync) per batch, through the same driver (modernc.org/sqlite). rows/s
// per batch size is what SQLite alone does on this machine; scripts/bench divides the
// server's reports/s by it.
func BenchmarkRawInsert(b *testing.B) {
	def := servertest.Definition(b, benchClients)
	var leaves [][]byte
	for w := range benchClients {
		p := fmt.Sprintf("p%04d", w)
		for _, r := range benchReports(b, def, p, 8) {
			e := report.Entry{Kind: report.KindReport, ElectionID: def.Election().ID, PrecinctID: p, ReportID: "bench-000000",
				ReceivedAt: report.FormatTime(time.Now().UTC()), Submitter: p, Channel: "app", Report: &r}
			leaves = append(leaves, e.Marshal())
		}
	}
	for _, n := range []int{1, 8, 16, 64} {
		b.Run(fmt.Sprintf("batch=%d", n), func(b *testing.B) {
			q := url.Values{}
			q.Add("_pragma", "journal_mode(WAL)")
			q.Add("_pragma", "synchronous(FULL)")
			q.Set("_txlock", "immediate")
			db, err := sql.Open("sqlite", "file:"+filepath.Join(b.TempDir(), "raw.db")+"?"+q.Encode())
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			db.SetMaxOpenConns(1)
			if _, err := db.Exec(`CREATE TABLE entries (idx INTEGER PRIMARY KEY, report_id TEXT NOT NULL UNIQUE,
				body BLOB NOT NULL, leaf_hash BLOB NOT NULL) STRICT`); err != nil {
				b.Fatal(err)
			}
			rows := 0
			b.ReportAllocs()
			for b.Loop() {
				tx, err := db.Begin()
				if err != nil {
					b.Fatal(err)
				}
				for range n {
					leaf := leaves[rows%len(leaves)]
					h := store.LeafHash(leaf)
					if _, err := tx.Exec(`INSERT INTO entries (idx, report_id, body, leaf_hash) VALUES (?, ?, ?, ?)`,
						rows, fmt.Sprintf("bench-%d", rows), leaf, h[:]); err != nil {
						b.Fatal(err)
					}
					rows++
				}
				if err := tx.Commit(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}
