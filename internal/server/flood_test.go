package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/netip"
	"os"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"caucus/internal/server/servertest"
)

// TestTrollFlood is reliability.md O3 at CI size: junk logins of every kind from many
// addresses (through a trusted loopback proxy, X-Forwarded-For varying per request) for the
// whole time 200 chairs log in and report. Every chair gets through: a 503 is retried after a
// short pause (the app waits Retry-After), and a chair whose own precinct the trolls have put
// into its back-off (429) scans the QR code instead, as the app tells them to. The chairs'
// login p99, memory and disk growth are logged, never asserted on time.
func TestTrollFlood(t *testing.T) {
	const chairs = 200
	env := servertest.Start(t, servertest.Options{Precincts: chairs,
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}})
	size := func() int64 {
		var n int64
		for _, suffix := range []string{"", "-wal"} {
			if fi, err := os.Stat(env.Path + suffix); err == nil {
				n += fi.Size()
			}
		}
		return n
	}
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	heapBefore, diskBefore := ms.HeapAlloc, size()

	post := func(body any, xff, token string) (int, []byte) {
		b, _ := json.Marshal(body)
		req, _ := http.NewRequest("POST", env.URL+"/api/v1/login", bytes.NewReader(b))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Forwarded-For", xff)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, nil
		}
		defer resp.Body.Close()
		var out bytes.Buffer
		out.ReadFrom(resp.Body)
		return resp.StatusCode, out.Bytes()
	}

	// The trolls: 24 workers, as fast as the server answers, from random addresses.
	stop := make(chan struct{})
	var junk atomic.Int64
	var trolls sync.WaitGroup
	for w := range 24 {
		trolls.Go(func() {
			r := rand.New(rand.NewPCG(uint64(w), 1))
			for {
				select {
				case <-stop:
					return
				default:
				}
				xff := fmt.Sprintf("198.18.%d.%d", r.IntN(256), r.IntN(256))
				var body map[string]string
				switch r.IntN(4) {
				case 0:
					body = map[string]string{"precinct_id": fmt.Sprintf("p%04d", r.IntN(chairs)), "pin": guessPIN(t)}
				case 1:
					body = map[string]string{"precinct_id": fmt.Sprint("made-up-", r.Int()), "pin": guessPIN(t)}
				case 2:
					body = map[string]string{"precinct_id": fmt.Sprintf("p%04d", r.IntN(chairs)), "token": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}
				case 3:
					body = map[string]string{"precinct_id": "p0000", "pin": "12345678901x"}
				}
				post(body, xff, "")
				junk.Add(1)
			}
		})
	}

	// The chairs arrive into a flood already going, each from its own address, 20 at a time.
	const floodFor = 12 * time.Second // at least; longer if the chairs take longer
	floodStart := time.Now()
	time.Sleep(2 * time.Second)
	start := time.Now()
	latencies := make([]time.Duration, chairs)
	retries := make([]int, chairs)
	var viaQR atomic.Int64
	var acked servertest.Acked
	var wg sync.WaitGroup
	sem := make(chan struct{}, 20)
	for i := range chairs {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			p := fmt.Sprintf("p%04d", i)
			xff := fmt.Sprintf("203.0.113.%d, 10.9.%d.%d", i%250, i/250, i%250) // the last hop is the proxy's view
			var token string
			t0 := time.Now()
			body := map[string]string{"precinct_id": p, "pin": env.PINs[p]}
			for token == "" {
				status, b := post(body, xff, "")
				switch status {
				case http.StatusOK:
					var out struct{ Token string }
					json.Unmarshal(b, &out)
					token = out.Token
				case http.StatusTooManyRequests:
					body = map[string]string{"precinct_id": p, "token": env.Tokens[p]}
					viaQR.Add(1)
				case http.StatusServiceUnavailable:
					retries[i]++
					time.Sleep(50 * time.Millisecond)
				default:
					t.Errorf("chair %s login: %d %s", p, status, b)
					return
				}
			}
			latencies[i] = time.Since(t0)
			for {
				status, rc, b := submit(env, token, env.Report(p, "flood-"+p, i))
				if status == http.StatusCreated || status == http.StatusOK {
					acked.Add(t, rc)
					return
				}
				if status != http.StatusServiceUnavailable && status != http.StatusTooManyRequests {
					t.Errorf("chair %s report: %d %s", p, status, b)
					return
				}
				time.Sleep(50 * time.Millisecond)
			}
		})
	}
	wg.Wait()
	chairTime := time.Since(start)
	time.Sleep(time.Until(floodStart.Add(floodFor)))
	close(stop)
	trolls.Wait()
	elapsed := time.Since(floodStart)
	env.Auth.FlushFailures(context.Background())

	runtime.GC()
	runtime.ReadMemStats(&ms)
	slices.Sort(latencies)
	total := 0
	for _, r := range retries {
		total += r
	}
	t.Logf("troll flood: %d junk logins in %v (%.0f/s); %d chairs logged in and reported in %v",
		junk.Load(), elapsed.Round(time.Millisecond), float64(junk.Load())/elapsed.Seconds(), chairs, chairTime.Round(time.Millisecond))
	t.Logf("chairs' login (retries included): p50 %v, p99 %v, max %v; %d retries after 503; %d chairs switched to the QR link after 429",
		latencies[chairs/2].Round(time.Millisecond), latencies[chairs*99/100-1].Round(time.Millisecond),
		latencies[chairs-1].Round(time.Millisecond), total, viaQR.Load())
	t.Logf("heap %d → %d KiB; database+WAL %d → %d KiB", heapBefore>>10, ms.HeapAlloc>>10, diskBefore>>10, size()>>10)
	if len(acked.Receipts) != chairs {
		t.Fatalf("%d chairs' reports acknowledged, want %d", len(acked.Receipts), chairs)
	}
	env.Check(&acked)
}
