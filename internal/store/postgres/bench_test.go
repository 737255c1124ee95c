package postgres_test

import (
	"crypto/rand"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"sync"
	"testing"
	"time"

	"caucus/internal/store"
	"caucus/internal/store/postgres"
	"caucus/internal/store/postgres/pgtest"
	"caucus/internal/store/sqlite"
)

// body600 is a ~600-byte entry body, the size of a canonical Iowa report.
func body600(id string) []byte {
	b := make([]byte, 0, 600)
	b = fmt.Appendf(b, `{"report_id":%q,"pad":"`, id)
	pad := make([]byte, (600-len(b)-2)/2)
	rand.Read(pad)
	b = fmt.Appendf(b, "%x", pad)
	return append(b, `"}`...)
}

// BenchmarkIngest measures durable ingest through the store on both engines in the same run:
// batches of 1, 16 and 128 new reports (the intake's group commit makes batches of whatever
// arrived during the previous commit), each batch one transaction and one flush of the WAL
// (SQLite: WAL, synchronous=FULL; PostgreSQL: fsync and synchronous_commit on), from one
// committer, as the intake commits. entries/s is the figure to compare with each other and with
// BenchmarkVsPgbench's single INSERTs.
func BenchmarkIngest(b *testing.B) {
	for _, engine := range []string{"sqlite", "postgres"} {
		for _, n := range []int{1, 16, 128} {
			b.Run(fmt.Sprintf("engine=%s/batch=%d", engine, n), func(b *testing.B) {
				st := openBenchStore(b, engine)
				seq := 0
				batch := make([]store.NewEntry, n)
				b.ReportAllocs()
				for b.Loop() {
					for i := range batch {
						seq++
						id := fmt.Sprintf("r%09d", seq)
						batch[i] = store.NewEntry{Kind: store.KindReport, PrecinctID: "p" + id, ReportID: id,
							Submitter: "p" + id, Channel: store.ChannelApp, Body: body600(id),
							Status: store.StatusAccepted}
					}
					if _, err := st.Append(b.Context(), batch); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(seq)/b.Elapsed().Seconds(), "entries/s")
			})
		}
	}
}

// BenchmarkIngestConcurrent: 8 committers at once (as 8 nodes' intakes would be), batches of
// 16; on PostgreSQL they queue on the log head's row lock, so this shows what serializing the
// log costs when several processes append.
func BenchmarkIngestConcurrent(b *testing.B) {
	for _, engine := range []string{"sqlite", "postgres"} {
		b.Run("engine="+engine, func(b *testing.B) {
			st := openBenchStore(b, engine)
			const committers, n = 8, 16
			var mu sync.Mutex
			seq := 0
			b.SetParallelism(committers)
			b.RunParallel(func(pb *testing.PB) {
				batch := make([]store.NewEntry, n)
				for pb.Next() {
					for i := range batch {
						mu.Lock()
						seq++
						id := fmt.Sprintf("r%09d", seq)
						mu.Unlock()
						batch[i] = store.NewEntry{Kind: store.KindReport, PrecinctID: "p" + id, ReportID: id,
							Submitter: "p" + id, Channel: store.ChannelApp, Body: body600(id),
							Status: store.StatusAccepted}
					}
					if _, err := st.Append(b.Context(), batch); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(seq)/b.Elapsed().Seconds(), "entries/s")
		})
	}
}

// openBenchStore opens a new store on engine, closed at the end of the benchmark.
func openBenchStore(b *testing.B, engine string) store.Store {
	b.Helper()
	var st store.Store
	var err error
	if engine == "sqlite" {
		st, err = sqlite.Open(b.Context(), filepath.Join(b.TempDir(), "bench.db"), sqlite.Options{})
	} else {
		st, err = postgres.Open(b.Context(), pgtest.NewDatabase(b), postgres.Options{})
	}
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	return st
}

// BenchmarkVsPgbench is the store against the server's own rate, on the same machine, in the
// same run, interleaved so that both meet the same load: each round, pgbench sends 200 single
// INSERTs of a 600-byte row from one client (each its own transaction, one flush each), then the
// store appends 200 single-report batches (each one transaction, one flush, as the intake commits
// a lone report). It reports both rates and the store's share of pgbench's.
func BenchmarkVsPgbench(b *testing.B) {
	srv := pgtest.Shared(b)
	pgbench := filepath.Join(srv.Bin, "pgbench")
	if _, err := os.Stat(pgbench); err != nil {
		b.Fatalf("pgbench: %v: %s", err, pgtest.Install)
	}
	script := filepath.Join(b.TempDir(), "insert.sql")
	if err := os.WriteFile(script, []byte("INSERT INTO bench (body) VALUES (convert_to(repeat('x', 600), 'UTF8'));\n"), 0o644); err != nil {
		b.Fatal(err)
	}
	url := pgtest.NewDatabase(b)
	if _, err := rawConn(b, url).Exec(b.Context(), "CREATE TABLE bench (id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, body BYTEA NOT NULL)"); err != nil {
		b.Fatal(err)
	}
	st := MustOpen(b, url, postgres.Options{})
	const round = 200
	tps := regexp.MustCompile(`tps = ([0-9.]+)`)
	var pgTime, storeTime time.Duration
	seq := 0
	for b.Loop() {
		out, err := exec.CommandContext(b.Context(), pgbench, "-n", "-c", "1", "-t", strconv.Itoa(round), "-f", script, url).CombinedOutput()
		if err != nil {
			b.Fatalf("pgbench: %v\n%s", err, out)
		}
		m := tps.FindSubmatch(out) // its rate without connecting, as the store's pool is connected
		if m == nil {
			b.Fatalf("pgbench printed no tps:\n%s", out)
		}
		rate, err := strconv.ParseFloat(string(m[1]), 64)
		if err != nil || rate <= 0 {
			b.Fatalf("pgbench tps %q: %v", m[1], err)
		}
		pgTime += time.Duration(float64(round) / rate * float64(time.Second))
		start := time.Now()
		for range round {
			seq++
			id := fmt.Sprintf("r%09d", seq)
			if _, err := st.Append(b.Context(), []store.NewEntry{{Kind: store.KindReport, PrecinctID: "p" + id, ReportID: id,
				Submitter: "p" + id, Channel: store.ChannelApp, Body: body600(id), Status: store.StatusAccepted}}); err != nil {
				b.Fatal(err)
			}
		}
		storeTime += time.Since(start)
	}
	rounds := float64(b.N * round)
	pg, ours := rounds/pgTime.Seconds(), rounds/storeTime.Seconds()
	b.ReportMetric(pg, "pgbench-inserts/s")
	b.ReportMetric(ours, "store-entries/s")
	b.ReportMetric(ours/pg, "store/pgbench")
}
