package election_test

import (
	"bytes"
	"encoding/csv"
	"errors"
	"flag"
	"io"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	"caucus/internal/election"
)

var update = flag.Bool("update", false, "rewrite iowa2020/ from "+sharedIowa)

// sharedIowa is the copy of the shared data folder that tests read (internal/shareddata).
const sharedIowa = "../shareddata/testdata/data/iowa-2020"

// The files of iowa2020/, as generated.
var iowaFiles = []string{"election.json", "counties.csv", "precincts.csv", "practice/election.json"}

// TestIowa2020Generated checks that the embedded Iowa 2020 files are exactly what the
// generator makes from the shared data; with -update it rewrites them.
func TestIowa2020Generated(t *testing.T) {
	files := generateIowa(t)
	for _, name := range iowaFiles {
		path := filepath.Join("iowa2020", filepath.FromSlash(name))
		if *update {
			if err := os.WriteFile(path, files[name], 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, files[name]) {
			t.Errorf("%s differs from what the generator makes from %s; run go test ./internal/election -run TestIowa2020Generated -update and review the diff", path, sharedIowa)
		}
	}
}

// generateIowa builds the Iowa 2020 and practice definitions from the shared data; the
// package documentation explains how the satellites are filled.
func generateIowa(t *testing.T) map[string][]byte {
	t.Helper()
	if _, err := os.Stat(sharedIowa); err != nil {
		t.Fatalf("the copy of the shared Iowa 2020 data is not at %s (%v)", sharedIowa, err)
	}
	counties := readSharedCSV(t, "counties.csv", []string{"county_id", "name", "county_delegates", "state_delegates"})
	rows := readSharedCSV(t, "precincts.csv", []string{"county_id", "county", "precinct_id", "precinct",
		"delegates_to_elect", "satellite", "candidate_id", "candidate", "first", "final", "sde"})

	var (
		candidates []election.Candidate
		precincts  []election.Precinct
		index      = map[string]int{}
		first      = map[string]int{}
		final      = map[string]int{}
		sde        = map[string]election.SDE{} // published SDE sum per county
	)
	for _, r := range rows {
		id := r[2]
		i, seen := index[id]
		if !seen {
			i = len(precincts)
			index[id] = i
			p := election.Precinct{ID: id, CountyID: r[0], Name: r[3], Satellite: r[5] == "true"}
			if r[4] != "" {
				p.DelegatesToElect = atoi(t, r[4])
			}
			precincts = append(precincts, p)
		}
		if i == 0 {
			candidates = append(candidates, election.Candidate{ID: r[6], Name: r[7]})
		}
		first[id] += atoi(t, r[8])
		final[id] += atoi(t, r[9])
		v, err := election.ParseSDE(r[10])
		if err != nil {
			t.Fatalf("precincts.csv sde of %s: %v", id, err)
		}
		sde[r[0]] += v
	}
	if len(rows) != len(precincts)*len(candidates) {
		t.Fatalf("precincts.csv has %d rows, not %d precincts × %d candidates", len(rows), len(precincts), len(candidates))
	}

	// A pseudo-county's county delegates are the R14 bands of its satellites' attendance.
	bands := map[string]int{}
	for _, p := range precincts {
		if p.Satellite {
			bands[p.CountyID] += satelliteDelegates(max(first[p.ID], final[p.ID]))
		}
	}
	var cs []election.County
	for _, r := range counties {
		c := election.County{ID: r[0], Name: r[1]}
		if r[2] == "" && r[3] == "" {
			c.CountyDelegates, c.StateDelegates = bands[c.ID], sde[c.ID]
		} else {
			c.CountyDelegates = atoi(t, r[2])
			c.StateDelegates = election.SDE(atoi(t, r[3])) * 10000
		}
		cs = append(cs, c)
	}

	real, err := election.New(election.Election{
		ID:         "iowa-2020",
		Name:       "2020 Iowa Democratic Caucuses",
		Date:       "2020-02-03",
		Rules:      election.RulesIowa,
		Candidates: candidates,
		TimeZone:   "America/Chicago",
	}, cs, precincts)
	if err != nil {
		t.Fatalf("the generated Iowa 2020 definition is not valid: %v", err)
	}
	practice, err := election.New(election.Election{
		ID:    "iowa-2020-practice",
		Name:  "PRACTICE: 2020 Iowa Democratic Caucuses rehearsal",
		Date:  "2020-02-03",
		Rules: election.RulesIowa,
		Candidates: []election.Candidate{
			{ID: "oakhurst", Name: "Harriet Oakhurst"},
			{ID: "wrenfield", Name: "Tobias Wrenfield"},
			{ID: "castellano", Name: "Priya Castellano"},
			{ID: "pembrook", Name: "Jonah Pembrook"},
			{ID: "marchetti", Name: "Lena Marchetti"},
			{ID: "uncommitted", Name: "Uncommitted"},
		},
		Practice: true,
		TimeZone: "America/Chicago",
	}, cs, precincts)
	if err != nil {
		t.Fatalf("the generated practice definition is not valid: %v", err)
	}
	files := real.Marshal()
	files["practice/election.json"] = practice.Marshal()[election.ElectionFile]
	return files
}

// satelliteDelegates is the R14 band: the delegates a satellite with a attendees elects.
func satelliteDelegates(a int) int {
	switch {
	case a == 0:
		return 0
	case a <= 20:
		return 4
	case a <= 40:
		return 5
	case a <= 60:
		return 6
	case a <= 80:
		return 7
	case a <= 100:
		return 8
	}
	return 9
}

func readSharedCSV(t *testing.T, name string, header []string) [][]string {
	t.Helper()
	f, err := os.Open(filepath.Join(sharedIowa, name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = len(header)
	var rows [][]string
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		rows = append(rows, rec)
	}
	if len(rows) == 0 || !slices.Equal(rows[0], header) {
		t.Fatalf("%s: the header is not %v", name, header)
	}
	return rows[1:]
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestIowa2020Figures pins the embedded structure against the figures of the shared data's
// README.
func TestIowa2020Figures(t *testing.T) {
	d, err := election.Iowa2020()
	if err != nil {
		t.Fatal(err)
	}
	e := d.Election()
	if e.ID != "iowa-2020" || e.Rules != election.RulesIowa || e.Practice || e.Date != "2020-02-03" {
		t.Errorf("election = %+v", e)
	}
	var ids []string
	for _, c := range d.Candidates() {
		ids = append(ids, c.ID)
	}
	wantIDs := []string{"bennet", "biden", "bloomberg", "buttigieg", "delaney", "gabbard", "klobuchar",
		"patrick", "sanders", "steyer", "warren", "yang", "other", "uncommitted"}
	if !slices.Equal(ids, wantIDs) {
		t.Errorf("candidates = %v, want %v", ids, wantIDs)
	}
	if c, ok := d.Candidate("uncommitted"); !ok || c.Name != "Uncommitted" {
		t.Errorf("Candidate(uncommitted) = %+v, %v", c, ok)
	}

	counties := d.Counties()
	precincts := d.Precincts()
	if len(counties) != 104 {
		t.Errorf("%d counties, want 104", len(counties))
	}
	if len(precincts) != 1765 {
		t.Errorf("%d precincts, want 1765", len(precincts))
	}
	satellites := 0
	for _, p := range precincts {
		if p.Satellite {
			satellites++
			if !p.FollowsAttendance() {
				t.Errorf("satellite %s has delegates_to_elect %d, want empty", p.ID, p.DelegatesToElect)
			}
		} else if p.DelegatesToElect < 1 {
			t.Errorf("precinct %s has delegates_to_elect %d", p.ID, p.DelegatesToElect)
		}
	}
	if satellites != 87 {
		t.Errorf("%d satellites, want 87", satellites)
	}

	pseudo := map[string]struct {
		countyDelegates int
		state           string
		satellites      int
	}{
		"cd1-satellite":          {57, "6.0023", 12},
		"cd2-satellite":          {90, "11.0001", 17},
		"cd3-satellite":          {136, "18.1033", 20},
		"cd4-satellite":          {41, "4.0004", 11},
		"out-of-state-satellite": {148, "4.0421", 27},
	}
	var countyDelegates int
	var stateDelegates election.SDE
	real := 0
	for _, c := range counties {
		in := d.PrecinctsIn(c.ID)
		if want, ok := pseudo[c.ID]; ok {
			if c.CountyDelegates != want.countyDelegates || c.StateDelegates.String() != want.state || len(in) != want.satellites {
				t.Errorf("%s: county_delegates %d, state_delegates %s, %d satellites; want %d, %s, %d",
					c.ID, c.CountyDelegates, c.StateDelegates, len(in), want.countyDelegates, want.state, want.satellites)
			}
			for _, p := range in {
				if !p.Satellite {
					t.Errorf("%s in %s is not a satellite", p.ID, c.ID)
				}
			}
			continue
		}
		real++
		countyDelegates += c.CountyDelegates
		stateDelegates += c.StateDelegates
		sum := 0
		for _, p := range in {
			if p.Satellite {
				t.Errorf("satellite %s is in the real county %s", p.ID, c.ID)
			}
			sum += p.DelegatesToElect
		}
		if sum != c.CountyDelegates {
			t.Errorf("%s: delegates_to_elect sum to %d, county_delegates is %d", c.ID, sum, c.CountyDelegates)
		}
	}
	if real != 99 || countyDelegates != 11402 || stateDelegates.String() != "2107" {
		t.Errorf("%d real counties with %d county and %s state delegates; want 99, 11402, 2107", real, countyDelegates, stateDelegates)
	}

	adair, ok := d.CountyOf("adair-1nw-adair")
	if !ok || adair.ID != "adair" {
		t.Fatalf("CountyOf(adair-1nw-adair) = %+v, %v", adair, ok)
	}
	if r, ok := adair.SDERatio(); !ok || r.Cmp(big.NewRat(4, 51)) != 0 {
		t.Errorf("Adair ratio = %v, %v; want 4/51", r, ok)
	}
	cd1, _ := d.County("cd1-satellite")
	if r, ok := cd1.SDERatio(); !ok || r.Cmp(big.NewRat(60023, 570000)) != 0 {
		t.Errorf("CD1 ratio = %v, %v; want 60023/570000", r, ok)
	}
}

func TestIowa2020Practice(t *testing.T) {
	real, err := election.Iowa2020()
	if err != nil {
		t.Fatal(err)
	}
	d, err := election.Iowa2020Practice()
	if err != nil {
		t.Fatal(err)
	}
	e := d.Election()
	if !e.Practice || e.ID != "iowa-2020-practice" || e.ID == real.Election().ID {
		t.Errorf("practice election = %+v", e)
	}
	if _, ok := d.Candidate("uncommitted"); !ok {
		t.Error("the practice election has no uncommitted")
	}
	for _, c := range d.Candidates() {
		if _, ok := real.Candidate(c.ID); ok && c.ID != "uncommitted" {
			t.Errorf("practice candidate %q is a real 2020 candidate", c.ID)
		}
	}
	files, realFiles := d.Marshal(), real.Marshal()
	for _, name := range []string{election.CountiesFile, election.PrecinctsFile} {
		if !bytes.Equal(files[name], realFiles[name]) {
			t.Errorf("the practice %s differs from the real one", name)
		}
	}
}

// TestIowa2020Fresh checks that each call returns a definition of its own.
func TestIowa2020Fresh(t *testing.T) {
	a, err := election.Iowa2020()
	if err != nil {
		t.Fatal(err)
	}
	a.Election().Candidates[0].Name = "changed"
	a.Counties()[0].Name = "changed"
	b, err := election.Iowa2020()
	if err != nil {
		t.Fatal(err)
	}
	if b.Candidates()[0].Name == "changed" || b.Counties()[0].Name == "changed" || a.Candidates()[0].Name == "changed" {
		t.Error("a change to a returned slice reached the definition")
	}
}

func BenchmarkIowa2020(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := election.Iowa2020(); err != nil {
			b.Fatal(err)
		}
	}
}
