package tally_test

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"caucus/internal/election/electiontest"
	"caucus/internal/rules"
	"caucus/internal/store"
	"caucus/internal/tally"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func bytesReader(b []byte) *bytes.Reader { return bytes.NewReader(b) }

// TestGolden pins every document of a small night: two Adair precincts (one with a conflicting
// second report, then a review), a satellite, and a precinct not reported. Rewrite with
// go test ./internal/tally -run Golden -update, and review the diff like code.
func TestGolden(t *testing.T) {
	def := small(t)
	l := electiontest.NewLog("small")
	must(t)(l.Report(rep(l, "adair-1", 35, rules.Counts{"a": 6, "b": 29}, rules.Counts{"a": 6, "b": 29}), store.StatusAccepted))
	must(t)(l.Report(rep(l, "sat-1", 35, rules.Counts{"a": 20, "b": 3, "c": 12}, rules.Counts{"a": 23, "c": 12}), store.StatusAccepted))
	r := rep(l, "adair-1", 36, rules.Counts{"a": 7, "b": 29}, rules.Counts{"a": 7, "b": 29})
	r.Delegates = rules.Counts{"a": 2, "b": 6}
	must(t)(l.Report(r, store.StatusUnderReview))
	must(t)(l.Review("adair-1", store.StatusAccepted, ptr[int64](2), "the second report is the worksheet"))
	ta := tally.New(def)
	if err := ta.Apply(l.Entries...); err != nil {
		t.Fatal(err)
	}
	s := ta.Snapshot()
	mustRecount(t, def, l.Entries, s)
	docs := map[string]func() ([]byte, string){
		"results.json":          s.Results,
		"counties.json":         s.Counties,
		"county-adair.json":     func() ([]byte, string) { b, e, _ := s.County("adair"); return b, e },
		"precinct-adair-1.json": func() ([]byte, string) { b, e, _ := s.Precinct("adair-1"); return b, e },
		"precinct-adair-2.json": func() ([]byte, string) { b, e, _ := s.Precinct("adair-2"); return b, e },
		"precinct-sat-1.json":   func() ([]byte, string) { b, e, _ := s.Precinct("sat-1"); return b, e },
		"results.csv":           s.CSV,
		"county-sat.json":       func() ([]byte, string) { b, e, _ := s.County("sat"); return b, e },
	}
	for name, get := range docs {
		t.Run(name, func(t *testing.T) {
			got, _ := get()
			path := filepath.Join("testdata", "golden", name)
			if *update {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs from %s:\n got: %s\nwant: %s", name, path, got, want)
			}
		})
	}
}
