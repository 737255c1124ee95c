// Command pgload measures durable ingest through HTTP across one or more caucus serve nodes
// for bench/run: every chair of the election logs in (not timed), then each precinct's
// synthetic report (simulate.Synthetic, the same night for the same seed) is sent at a fixed
// concurrency, precinct i to node i mod the number of nodes, each report sent again on a 503
// or 429 as a phone would, and the next of its plan sent after a 422 as a chair corrects a
// typo. It prints one JSON line: reports stored per second over the timed part, requests,
// and the latency percentiles of the stored answers.
//
//	pgload --urls http://127.0.0.1:8001/,http://127.0.0.1:8002/ --election DIR --pins pins.csv --concurrency 64
package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"caucus/internal/client"
	"caucus/internal/election"
	"caucus/internal/simulate"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "pgload:", err)
		os.Exit(1)
	}
}

// Result is the printed line.
type Result struct {
	Nodes       int     `json:"nodes"`
	Concurrency int     `json:"concurrency"`
	Reports     int     `json:"reports"`  // stored (201, or 200 for a retry that found it stored)
	Requests    int64   `json:"requests"` // every submission sent, retries and refused ones included
	Seconds     float64 `json:"seconds"`
	Rate        float64 `json:"reports_per_s"`
	P50         float64 `json:"p50_ms"`
	P99         float64 `json:"p99_ms"`
}

func run() error {
	urls := flag.String("urls", "", "the nodes, comma-separated")
	dir := flag.String("election", "", "the election folder the nodes serve")
	pinsFile := flag.String("pins", "", "pins.csv of caucus credentials")
	conc := flag.Int("concurrency", 64, "chairs at work at once")
	seed := flag.Uint64("seed", 1, "the synthetic night's seed")
	flag.Parse()
	if *urls == "" || *dir == "" || *pinsFile == "" || *conc < 1 {
		return errors.New("needs --urls, --election, --pins and a --concurrency of at least 1")
	}
	def, err := election.LoadDir(*dir)
	if err != nil {
		return err
	}
	pins, err := readPins(*pinsFile)
	if err != nil {
		return err
	}
	hc := &http.Client{Timeout: time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: *conc}}
	var nodes []*client.Client
	for u := range strings.SplitSeq(*urls, ",") {
		c, err := client.New(u, hc)
		if err != nil {
			return err
		}
		nodes = append(nodes, c)
	}
	plans := simulate.Synthetic(def, 0, *seed).Plans
	ctx := context.Background()

	// The logins, not timed, a few per node at once: the PIN lane of a node is narrow (a PIN's
	// hash is costly) and sheds what does not fit, which would only add waits.
	tokens := make([]string, len(plans))
	if err := each(len(plans), min(*conc, 4*len(nodes)), func(i int) error {
		id := plans[i].Precinct.ID
		for try := 1; ; try++ {
			tok, err := nodes[i%len(nodes)].Login(ctx, id, pins[id])
			var se *client.StatusError
			if errors.As(err, &se) && (se.Status == http.StatusServiceUnavailable || se.Status == http.StatusTooManyRequests) && try < 100 {
				// Logins are throttled (the PIN's hash is costly): wait as told, and again.
				time.Sleep(min(max(se.RetryAfter, 100*time.Millisecond), time.Second))
				continue
			}
			if err != nil {
				return fmt.Errorf("login %s: %w", id, err)
			}
			tokens[i] = tok
			return nil
		}
	}); err != nil {
		return err
	}

	var requests atomic.Int64
	lat := make([]time.Duration, len(plans)) // of the answer that stored the report
	retry := client.Retry{Attempts: 50, MaxWait: 200 * time.Millisecond}
	start := time.Now()
	if err := each(len(plans), *conc, func(i int) error {
		for _, r := range plans[i].Reports {
			t0 := time.Now()
			s, err := nodes[i%len(nodes)].Submit(ctx, tokens[i], r, retry)
			requests.Add(int64(s.Tries))
			if err != nil {
				return fmt.Errorf("report %s: %w", r.ReportID, err)
			}
			switch s.Status {
			case http.StatusCreated, http.StatusOK:
				lat[i] = time.Since(t0)
				return nil
			case http.StatusUnprocessableEntity:
				continue // refused: the chair sends the corrected one
			default:
				return fmt.Errorf("report %s: %d, want 201", r.ReportID, s.Status)
			}
		}
		return fmt.Errorf("precinct %s: every report of its plan refused", plans[i].Precinct.ID)
	}); err != nil {
		return err
	}
	elapsed := time.Since(start)
	slices.Sort(lat)
	pct := func(p int) float64 { return float64(lat[(len(lat)-1)*p/100]) / float64(time.Millisecond) }
	return json.NewEncoder(os.Stdout).Encode(Result{Nodes: len(nodes), Concurrency: *conc, Reports: len(plans),
		Requests: requests.Load(), Seconds: elapsed.Seconds(), Rate: float64(len(plans)) / elapsed.Seconds(),
		P50: pct(50), P99: pct(99)})
}

// each runs f(0) … f(n-1) on conc goroutines and returns the first error.
func each(n, conc int, f func(int) error) error {
	var next atomic.Int64
	var first error
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range min(conc, n) {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				if err := f(i); err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
					next.Store(int64(n)) // stop handing out work
					return
				}
			}
		})
	}
	wg.Wait()
	return first
}

// readPins reads pins.csv (precinct_id,pin).
func readPins(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(rows) == 0 || len(rows[0]) != 2 || rows[0][0] != "precinct_id" {
		return nil, fmt.Errorf("%s: not a pins.csv (precinct_id,pin)", path)
	}
	pins := make(map[string]string, len(rows))
	for _, r := range rows[1:] {
		pins[r[0]] = r[1]
	}
	return pins, nil
}
