package verify_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"sync"
	"testing"

	"caucus/internal/client"
	"caucus/internal/server/servertest"
	"caucus/internal/verify"
)

// BenchmarkVerify is `caucus verify` end to end over loopback HTTP against a real server:
// checkpoint, every entry bundle and hash tile, the election, the results, every county and
// precinct page and results.csv, recomputed and compared.
//
//   - iowa-2020: the 2020 file replayed through intake (1,505 reports the math accepts and 100
//     conflicting second reports on 1,765 precincts in 99 counties): spec target < 5 s.
//   - entries-N: a log of N entries (VERIFY_BENCH_N, default 20000; 175000 is the national
//     size) on 2,000 precincts (servertest's PINs stop there): each precinct's chair reports
//     once, then sends N/2000 − 1 conflicting reports, each a new entry.
func BenchmarkVerify(b *testing.B) {
	b.Run("iowa-2020", func(b *testing.B) {
		n := newIowaNight(b)
		benchVerify(b, n.env.URL, n.key, int64(len(n.bodies)))
	})
	size := 20000
	if s := os.Getenv("VERIFY_BENCH_N"); s != "" {
		var err error
		if size, err = strconv.Atoi(s); err != nil {
			b.Fatal(err)
		}
	}
	b.Run(fmt.Sprintf("entries-%d", size), func(b *testing.B) {
		env := servertest.Start(b, servertest.Options{Precincts: min(size, 2000)})
		ps := env.Def.Precincts()
		per := size / len(ps)
		var wg sync.WaitGroup
		for w := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := w; i < len(ps); i += 8 {
					tok := env.Login(ps[i].ID)
					for k := range per {
						body, _ := json.Marshal(env.Report(ps[i].ID, fmt.Sprintf("b-%d-%d", i, k), i+k))
						if status, out := env.Do("POST", "/api/v1/reports", tok, body); status != http.StatusCreated && status != http.StatusConflict {
							b.Errorf("report %d/%d: %d %s", i, k, status, out)
							return
						}
					}
				}
			}()
		}
		wg.Wait()
		if err := env.Server.SignCheckpoint(context.Background()); err != nil {
			b.Fatal(err)
		}
		c, _ := client.New(env.URL, nil)
		res, err := c.Results(context.Background())
		if err != nil {
			b.Fatal(err)
		}
		benchVerify(b, env.URL, res.LogPublicKey, res.LogSize)
	})
}

func benchVerify(b *testing.B, url, key string, size int64) {
	c, err := client.New(url, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		res, err := verify.Run(context.Background(), verify.Config{Client: c, Key: key})
		if err != nil || !res.OK() || res.TreeSize != size {
			b.Fatalf("verify: %v %v (tree %d, want %d)", err, res.Findings, res.TreeSize, size)
		}
	}
	b.ReportMetric(float64(size), "entries")
}
