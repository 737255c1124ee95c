package hq_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"caucus/internal/election"
	"caucus/internal/hq"
	"caucus/internal/night"
	"caucus/internal/store/sqlite"
)

// BenchmarkBoardIowa is one board of the 2020 Iowa election before the night (every precinct
// missing, each with a contact: the largest board), computed afresh each time: the work the
// event stream does at most once per hq.MinInterval. It reports the board's JSON size.
func BenchmarkBoardIowa(b *testing.B) {
	ctx := context.Background()
	def, err := election.Iowa2020()
	if err != nil {
		b.Fatal(err)
	}
	db, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "caucus.db"), sqlite.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	n, err := night.Open(ctx, night.Config{Def: def, Store: db})
	if err != nil {
		b.Fatal(err)
	}
	contacts := hq.Contacts{}
	for _, p := range def.Precincts() {
		contacts[p.ID] = hq.Contact{PrecinctID: p.ID, Name: "Ada Abbott", Phone: "+15155551000"}
	}
	now := time.Now()
	h, err := hq.New(hq.Config{Main: n, Store: db, Contacts: contacts, Now: func() time.Time { return now }})
	if err != nil {
		b.Fatal(err)
	}
	var size int
	for b.Loop() {
		now = now.Add(hq.PollEvery) // the board is computed again
		board, err := h.Board(ctx)
		if err != nil {
			b.Fatal(err)
		}
		out, _ := json.Marshal(board)
		size = len(out)
	}
	b.ReportMetric(float64(size), "bytes/board")
}
