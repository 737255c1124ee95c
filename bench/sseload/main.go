// Command sseload measures the time from an acknowledged report to its SSE event on every one
// of many open event streams: it opens --streams GET /api/v1/events streams on loopback (from
// several 127.x source addresses, with RLIMIT_NOFILE raised in-process), waits until each has
// its first event, then sends --reports reports through the real API one after another, and
// for every report and every stream takes the time from the report's acknowledgement (the
// answer read by the chair) to the first event on that stream whose id (the log size) covers
// the report's log index. The reports are a synthetic night's (internal/simulate) for the
// first precincts; a precinct that already has a report answers 409, stored all the same.
//
// It prints one line of figures, and with --json the same as JSON. bench/run runs it.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"caucus/internal/client"
	"caucus/internal/election"
	"caucus/internal/simulate"
)

// event is one event a stream read: its id (log size) and when it was read whole.
type event struct {
	id int64
	at time.Time
}

type stream struct {
	mu     sync.Mutex
	events []event
}

func (s *stream) add(e event) {
	s.mu.Lock()
	s.events = append(s.events, e)
	s.mu.Unlock()
}

func main() {
	base := flag.String("url", "", "the server, e.g. http://127.0.0.1:8080/")
	dir := flag.String("election", "", "the election folder the server serves")
	pinsFile := flag.String("pins", "", "pins.csv")
	n := flag.Int("streams", 10000, "event streams to open")
	reports := flag.Int("reports", 20, "reports to send")
	interval := flag.Duration("interval", 250*time.Millisecond, "pause between reports")
	sources := flag.Int("sources", 16, "127.0.0.x source addresses to spread the streams over")
	seed := flag.Uint64("seed", 7, "seed of the synthetic reports")
	asJSON := flag.Bool("json", false, "print the figures as JSON")
	flag.Parse()
	if err := run(*base, *dir, *pinsFile, *n, *reports, *interval, *sources, *seed, *asJSON); err != nil {
		fmt.Fprintln(os.Stderr, "sseload:", err)
		os.Exit(1)
	}
}

func raiseNoFile() uint64 {
	var l syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l) == nil {
		l.Cur = l.Max
		syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l)
		syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l)
	}
	return l.Cur
}

func readPINs(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		return nil, err
	}
	pins := map[string]string{}
	for _, r := range rows[1:] {
		pins[r[0]] = r[1]
	}
	return pins, nil
}

// open opens one event stream and reads it until ctx is done.
func open(ctx context.Context, u *url.URL, local *net.TCPAddr, s *stream, first chan<- error) {
	d := net.Dialer{LocalAddr: local, Timeout: 10 * time.Second}
	conn, err := d.DialContext(ctx, "tcp", u.Host)
	if err != nil {
		first <- err
		return
	}
	defer conn.Close()
	context.AfterFunc(ctx, func() { conn.Close() })
	req, _ := http.NewRequest("GET", u.JoinPath("api/v1/events").String(), nil)
	req.Header.Set("Accept", "text/event-stream")
	if err := req.Write(conn); err != nil {
		first <- err
		return
	}
	br := bufio.NewReaderSize(conn, 8<<10)
	resp, err := http.ReadResponse(br, req)
	if err != nil {
		first <- err
		return
	}
	if resp.StatusCode != http.StatusOK {
		first <- fmt.Errorf("events: %s", resp.Status)
		return
	}
	body := bufio.NewReaderSize(resp.Body, 8<<10)
	var id int64 = -1
	got := false
	for {
		line, err := body.ReadSlice('\n')
		if err != nil {
			if !got {
				first <- err
			}
			return
		}
		switch {
		case bytes.HasPrefix(line, []byte("id: ")):
			id, _ = strconv.ParseInt(string(bytes.TrimSpace(line[4:])), 10, 64)
		case len(bytes.TrimSpace(line)) == 0 && id >= 0:
			s.add(event{id, time.Now()})
			id = -1
			if !got {
				got = true
				first <- nil
			}
		}
	}
}

type figures struct {
	Streams, Reports, Samples, Missed int
	P50, P95, P99, Max                float64 // ms
	OpenSeconds                       float64
}

func run(base, dir, pinsFile string, n, reports int, interval time.Duration, sources int, seed uint64, asJSON bool) error {
	u, err := url.Parse(base)
	if err != nil {
		return err
	}
	if lim := raiseNoFile(); lim < uint64(n)+256 {
		return fmt.Errorf("RLIMIT_NOFILE is %d, too low for %d streams", lim, n)
	}
	def, err := election.LoadDir(dir)
	if err != nil {
		return err
	}
	pins, err := readPINs(pinsFile)
	if err != nil {
		return err
	}
	truth := simulate.Synthetic(def, reports, seed)
	hc := &http.Client{Timeout: 30 * time.Second}
	cl, err := client.New(base, hc)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// The chairs log in first: PIN hashing is slow on purpose and not what is measured.
	tokens := make([]string, reports)
	for i := range reports {
		p := truth.Plans[i].Precinct.ID
		if tokens[i], err = cl.Login(ctx, p, pins[p]); err != nil {
			return fmt.Errorf("login %s: %w", p, err)
		}
	}
	// Open the streams, a few hundred dials at once.
	t0 := time.Now()
	streams := make([]*stream, n)
	first := make(chan error, n)
	sem := make(chan struct{}, 256)
	var opened atomic.Int64
	go func() {
		for i := range n {
			sem <- struct{}{}
			streams[i] = &stream{events: make([]event, 0, reports+2)}
			local := &net.TCPAddr{IP: net.IPv4(127, 0, 0, byte(1+i%max(1, sources)))}
			s := streams[i]
			go open(ctx, u, local, s, first)
			opened.Add(1)
		}
	}()
	for range n {
		if err := <-first; err != nil {
			return fmt.Errorf("open stream: %w", err)
		}
		<-sem
	}
	openSecs := time.Since(t0).Seconds()
	// The reports, one after another; the ack is when the chair has read the answer.
	acks := make([]time.Time, reports)
	need := make([]int64, reports)
	for i := range reports {
		plan := truth.Plans[i]
		r := plan.Reports[len(plan.Reports)-1]
		r.ReportID = fmt.Sprintf("sseload-%d-%d", seed, i)
		s, err := cl.Submit(ctx, tokens[i], r, client.Retry{Attempts: 5})
		acks[i] = time.Now()
		if err != nil {
			return fmt.Errorf("report %s: %w", r.PrecinctID, err)
		}
		if s.Receipt == nil {
			return fmt.Errorf("report %s: %d without a receipt (%s)", r.PrecinctID, s.Status, s.Message)
		}
		need[i] = s.Receipt.LogIndex + 1
		time.Sleep(interval)
	}
	// Every stream must see the last report within 10 s.
	deadline := time.Now().Add(10 * time.Second)
	last := need[reports-1]
	for _, s := range streams {
		for time.Now().Before(deadline) {
			s.mu.Lock()
			done := len(s.events) > 0 && s.events[len(s.events)-1].id >= last
			s.mu.Unlock()
			if done {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	cancel()
	var lat []time.Duration
	missed := 0
	for _, s := range streams {
		s.mu.Lock()
		evs := slices.Clone(s.events)
		s.mu.Unlock()
		for k := range reports {
			j := slices.IndexFunc(evs, func(e event) bool { return e.id >= need[k] })
			if j < 0 {
				missed++
				continue
			}
			lat = append(lat, max(0, evs[j].at.Sub(acks[k])))
		}
	}
	if len(lat) == 0 {
		return errors.New("no event arrived")
	}
	slices.Sort(lat)
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	pct := func(p float64) float64 { return ms(lat[int(p*float64(len(lat)-1))]) }
	f := figures{Streams: n, Reports: reports, Samples: len(lat), Missed: missed,
		P50: pct(0.50), P95: pct(0.95), P99: pct(0.99), Max: ms(lat[len(lat)-1]), OpenSeconds: openSecs}
	if asJSON {
		return json.NewEncoder(os.Stdout).Encode(f)
	}
	fmt.Printf("sse: %d streams (opened in %.1f s), %d reports, %d samples, %d missed: ack→event p50 %.1f ms, p95 %.1f ms, p99 %.1f ms, max %.1f ms\n",
		f.Streams, f.OpenSeconds, f.Reports, f.Samples, f.Missed, f.P50, f.P95, f.P99, f.Max)
	return nil
}
