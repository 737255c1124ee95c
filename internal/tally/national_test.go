package tally_test

import (
	"runtime"
	"testing"
	"time"

	"caucus/internal/election"
	"caucus/internal/election/electiontest"
	"caucus/internal/simulate"
	"caucus/internal/store"
	"caucus/internal/tally"
)

// BenchmarkNational is the national size (175,000 precincts in 3,000 counties, simulate's
// generator): one iteration builds the tally and applies 17,500 reports in batches of 16 (the
// server's group commits), reading the state results after each batch. It reports the live
// heap empty and after the reports (after a GC), entries/s, and the cost of a first read of
// the counties list, a county and a precinct of the last snapshot.
func BenchmarkNational(b *testing.B) {
	def, entries := national(b)
	const batch = 16
	heap := func() float64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return float64(m.HeapAlloc) / (1 << 20)
	}
	base := heap()
	var empty, full, applySecs, readNs float64
	for b.Loop() {
		ta := tally.New(def)
		empty = heap() - base
		b.ResetTimer()
		for i := 0; i < len(entries); i += batch {
			if err := ta.Apply(entries[i:min(i+batch, len(entries))]...); err != nil {
				b.Fatal(err)
			}
			ta.Snapshot().Results()
		}
		applySecs = b.Elapsed().Seconds()
		b.StopTimer()
		s := ta.Snapshot()
		t0 := testingNow()
		s.Counties()
		s.County("county-0042")
		s.Precinct("county-0042-p0003")
		readNs = float64(testingNow() - t0)
		full = heap() - base
		runtime.KeepAlive(ta)
		b.StartTimer()
	}
	b.ReportMetric(empty, "MiB-empty")
	b.ReportMetric(full, "MiB-17500")
	b.ReportMetric(float64(len(entries))/applySecs, "entries/s")
	b.ReportMetric(readNs/1e6, "first-reads-ms")
}

// BenchmarkApplyNational is BenchmarkApply at the national size: one correction at a time on a
// tally of 175,000 precincts in 3,000 counties holding 17,500 reports, the leaf read by Apply
// or already parsed.
func BenchmarkApplyNational(b *testing.B) {
	def, entries := national(b)
	for _, parsed := range []bool{false, true} {
		b.Run(map[bool]string{false: "leaf", true: "parsed"}[parsed], func(b *testing.B) {
			ta := tally.New(def)
			if err := ta.Apply(entries...); err != nil {
				b.Fatal(err)
			}
			benchCorrections(b, ta, def.Election().ID, entries, parsed)
		})
	}
}

// national is simulate's national election (175,000 precincts in 3,000 counties) and one
// accepted report for each of 17,500 of its precincts.
func national(b *testing.B) (*election.Definition, []store.Entry) {
	b.Helper()
	def, err := simulate.Generate(175000, 3000, 1)
	if err != nil {
		b.Fatal(err)
	}
	truth := simulate.Synthetic(def, 17500, 1)
	l := electiontest.NewLog(def.Election().ID)
	var entries []store.Entry
	for _, p := range truth.Plans {
		r := p.Reports[len(p.Reports)-1]
		e, err := l.Report(r, store.StatusAccepted)
		if err != nil {
			b.Fatal(err)
		}
		entries = append(entries, e)
	}
	return def, entries
}

func testingNow() int64 { return time.Now().UnixNano() }
