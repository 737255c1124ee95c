package bulk_test

import (
	"bytes"
	"encoding/csv"
	"maps"
	"math/big"
	"os"
	"slices"
	"testing"

	"caucus/internal/bulk"
	"caucus/internal/election"
	"caucus/internal/resultscsv"
	"caucus/internal/rules"
)

// The real 2020 published results, copied from the shared folder (internal/shareddata).
const dataDir = "../shareddata/testdata/data/iowa-2020/"

func read(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(dataDir + name)
	if err != nil {
		t.Fatalf("the real 2020 results (internal/shareddata/testdata/data/iowa-2020): %v", err)
	}
	return data
}

func iowa(t testing.TB) ([]resultscsv.Precinct, bulk.Ratios) {
	ps, err := resultscsv.Read(bytes.NewReader(read(t, "precincts.csv")))
	if err != nil {
		t.Fatal(err)
	}
	counties, err := election.ReadCounties(read(t, "counties.csv"))
	if err != nil {
		t.Fatal(err)
	}
	ratios := map[string]*big.Rat{}
	for _, c := range counties {
		if r, ok := c.SDERatio(); ok {
			ratios[c.ID] = r
		}
	}
	return ps, func(id string) *big.Rat { return ratios[id] }
}

// TestIowa2020 pins the figures `caucus check` finds on the real 2020 file.
func TestIowa2020(t *testing.T) {
	ps, ratios := iowa(t)
	rep := bulk.Check(ps, ratios, rules.IowaDem2020)
	s := rep.Summary
	if s.Precincts != 1765 || s.WithRatio != 1678 || s.Reproduced != 1616 || s.Flagged != 695 {
		t.Errorf("summary = %+v", s)
	}
	want := map[rules.CheckID]int{"C04": 80, "C05": 80, "C06": 61, "C07": 121, "C08": 408, "C13": 143,
		"C15": 57, "C16": 1, "C17": 20, "C18": 14, "C19": 50}
	if !maps.Equal(s.ByCheck, want) {
		t.Errorf("by check = %v, want %v", s.ByCheck, want)
	}
	settled := 0
	for _, p := range rep.Precincts {
		if p.TieFromPublished {
			settled++
		}
		if p.Result.HasErrors() {
			t.Errorf("%s: bulk checks must all be warnings: %v", p.ID, p.Result.Checks)
		}
	}
	if settled != 127 {
		t.Errorf("%d games of chance settled from the published SDEs, want 127", settled)
	}
}

// TestIowa2020KnownProblems compares the flags with the data's own list of known problems
// (inconsistencies.csv): the computed kinds on the final data must be found exactly.
func TestIowa2020KnownProblems(t *testing.T) {
	ps, ratios := iowa(t)
	rep := bulk.Check(ps, ratios, rules.IowaDem2020)
	flagged := map[rules.CheckID][]string{}
	for _, p := range rep.Precincts {
		for _, c := range p.Result.Checks {
			flagged[c.ID] = append(flagged[c.ID], p.ID)
		}
	}
	rows, err := csv.NewReader(bytes.NewReader(read(t, "inconsistencies.csv"))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	known := map[string][]string{}
	for _, r := range rows[1:] {
		known[r[1]] = append(known[r[1]], r[0])
	}
	for kind, ids := range known {
		slices.Sort(ids)
		known[kind] = slices.Compact(ids)
	}
	// final_more_than_first is exactly C04.
	if got := sorted(flagged["C04"]); !slices.Equal(got, known["final_more_than_first"]) {
		t.Errorf("C04 = %v\nknown final_more_than_first = %v", got, known["final_more_than_first"])
	}
	// sde_total_mismatch is C18, plus johnson-graham-township: its final alignment is empty, so no
	// group is viable and the allotment is 0 (R18), while the list compared with D × ratio.
	want := sorted(append(slices.Clone(known["sde_total_mismatch"]), "johnson-graham-township"))
	if got := sorted(flagged["C18"]); !slices.Equal(got, want) {
		t.Errorf("C18 = %v\nwant %v", got, want)
	}
}

func sorted(ids []string) []string {
	s := slices.Clone(ids)
	slices.Sort(s)
	return s
}

// BenchmarkCheckIowa2020 is `caucus check` on the whole 2020 file: CSV parsing included.
func BenchmarkCheckIowa2020(b *testing.B) {
	data := read(b, "precincts.csv")
	counties, err := election.ReadCounties(read(b, "counties.csv"))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		ps, err := resultscsv.Read(bytes.NewReader(data))
		if err != nil {
			b.Fatal(err)
		}
		ratios := map[string]*big.Rat{}
		for _, c := range counties {
			if r, ok := c.SDERatio(); ok {
				ratios[c.ID] = r
			}
		}
		bulk.Check(ps, func(id string) *big.Rat { return ratios[id] }, rules.IowaDem2020)
	}
}
