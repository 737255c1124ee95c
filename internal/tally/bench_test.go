package tally_test

import (
	"testing"

	"caucus/internal/election/electiontest"
	"caucus/internal/report"
	"caucus/internal/store"
	"caucus/internal/tally"
)

// BenchmarkApply is one new entry on a full 2020 Iowa tally: a staff correction of a precinct,
// which replaces its counted entry (subtract, add) and publishes a new snapshot. The
// corrections' leaves are built before the timer; each iteration gives one the next log index.
// Apply reads the leaf; "parsed" is ApplyParsed with the leaf already read, as the server calls
// it (intake parses each leaf on the submitter's goroutine).
func BenchmarkApply(b *testing.B) {
	n := mustIowa(b)
	for _, parsed := range []bool{false, true} {
		b.Run(map[bool]string{false: "leaf", true: "parsed"}[parsed], func(b *testing.B) {
			ta := tally.New(n.def)
			if err := ta.Apply(n.entries...); err != nil {
				b.Fatal(err)
			}
			benchCorrections(b, ta, n.def.Election().ID, n.entries, parsed)
		})
	}
}

// benchCorrections applies, one per iteration, a correction of each reported precinct in turn
// (its own report again, as a correction) to ta, which holds entries; with parsed, each with
// its leaf already read.
func benchCorrections(b *testing.B, ta *tally.Tally, electionID string, entries []store.Entry, parsed bool) {
	l := electiontest.NewLog(electionID)
	var fixes []store.Entry
	var leaves []tally.Leaf
	for _, e := range entries {
		le, err := report.ParseEntry(e.Body)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := l.Report(*le.Report, store.StatusAccepted); err != nil {
			b.Fatal(err)
		}
		c, err := l.Correction(*le.Report, "recanvass")
		if err != nil {
			b.Fatal(err)
		}
		fixes = append(fixes, c)
		lc, err := report.ParseEntry(c.Body)
		if err != nil {
			b.Fatal(err)
		}
		leaves = append(leaves, tally.Leaf{Body: c.Body, Entry: lc})
	}
	size := int64(len(entries))
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		e := fixes[i%len(fixes)]
		e.Index = size
		var err error
		if parsed {
			leaf := leaves[i%len(leaves)]
			leaf.Index = size
			err = ta.ApplyParsed([]tally.Leaf{leaf}, e)
		} else {
			err = ta.Apply(e)
		}
		if err != nil {
			b.Fatal(err)
		}
		size++
		i++
	}
}

// BenchmarkSnapshot is what a results request costs the tally: load the snapshot and take the
// state, a county and a precinct document.
func BenchmarkSnapshot(b *testing.B) {
	n := mustIowa(b)
	ta := tally.New(n.def)
	if err := ta.Apply(n.entries...); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		s := ta.Snapshot()
		r, _ := s.Results()
		c, _, _ := s.County("polk")
		p, _, _ := s.Precinct("adair-1nw-adair")
		if len(r) == 0 || len(c) == 0 || len(p) == 0 {
			b.Fatal("empty document")
		}
	}
}

// BenchmarkCSV is the first results.csv read of a new snapshot: the whole file put together
// from the precincts' rendered rows and hashed. Each iteration first applies one more entry
// (timer stopped) so that the snapshot is new.
func BenchmarkCSV(b *testing.B) {
	n := mustIowa(b)
	ta := tally.New(n.def)
	if err := ta.Apply(n.entries...); err != nil {
		b.Fatal(err)
	}
	// The last precinct's report again, as a review that changes nothing but the log size.
	last := n.entries[len(n.entries)-1]
	l := electiontest.NewLog(n.def.Election().ID)
	le, err := report.ParseEntry(last.Body)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := l.Report(*le.Report, store.StatusAccepted); err != nil {
		b.Fatal(err)
	}
	review, err := l.Review(last.PrecinctID, store.StatusAccepted, nil, "checked")
	if err != nil {
		b.Fatal(err)
	}
	size := int64(len(n.entries))
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		review.Index = size
		if err := ta.Apply(review); err != nil {
			b.Fatal(err)
		}
		size++
		b.StartTimer()
		body, _ := ta.Snapshot().CSV()
		b.SetBytes(int64(len(body)))
	}
}

// BenchmarkRebuild is a restart: a new tally and every 2020 report in one Apply.
func BenchmarkRebuild(b *testing.B) {
	n := mustIowa(b)
	b.ReportAllocs()
	for b.Loop() {
		ta := tally.New(n.def)
		if err := ta.Apply(n.entries...); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRecount is the same from scratch (reliability B0.3's other path).
func BenchmarkRecount(b *testing.B) {
	n := mustIowa(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := tally.Recount(n.def, n.entries); err != nil {
			b.Fatal(err)
		}
	}
}
