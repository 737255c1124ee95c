package sqlite_test

import (
	"crypto/rand"
	"fmt"
	"path/filepath"
	"testing"

	"caucus/internal/store"
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

// BenchmarkAppend measures durable batched appends (WAL, synchronous=FULL): one transaction and
// one fsync per batch. rows/s is the figure to compare with group commit's batch sizes.
func BenchmarkAppend(b *testing.B) {
	for _, n := range []int{1, 16, 128} {
		b.Run(fmt.Sprintf("batch=%d", n), func(b *testing.B) {
			db := MustOpenDB(b, filepath.Join(b.TempDir(), "bench.db"), nil)
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
				if _, err := db.Append(b.Context(), batch); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(seq)/b.Elapsed().Seconds(), "entries/s")
		})
	}
}

// BenchmarkEntries measures reading the log back: a point read and a 256-entry range (a tile's
// worth, what the tlog integrator and the entry bundles read).
func BenchmarkEntries(b *testing.B) {
	db := MustOpenDB(b, filepath.Join(b.TempDir(), "bench.db"), nil)
	const size = 4096
	batch := make([]store.NewEntry, 0, 128)
	for i := range size {
		id := fmt.Sprintf("r%09d", i)
		batch = append(batch, store.NewEntry{Kind: store.KindReport, PrecinctID: "p" + id, ReportID: id,
			Submitter: "p" + id, Channel: store.ChannelApp, Body: body600(id), Status: store.StatusAccepted})
		if len(batch) == cap(batch) {
			if _, err := db.Append(b.Context(), batch); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	for _, n := range []int64{1, 256} {
		b.Run(fmt.Sprintf("range=%d", n), func(b *testing.B) {
			var from int64
			b.ReportAllocs()
			for b.Loop() {
				es, err := db.Entries(b.Context(), from, from+n)
				if err != nil || int64(len(es)) != n {
					b.Fatalf("Entries: %d, %v", len(es), err)
				}
				from = (from + n) % (size - n)
			}
		})
	}
}
