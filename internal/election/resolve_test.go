package election_test

import (
	"testing"

	"caucus/internal/election"
)

// TestFindPrecinct: a chair's precinct is found by its ID or its packet's name however it is
// typed; a name two precincts share, and anything else, finds none.
func TestFindPrecinct(t *testing.T) {
	d, err := looseDefinition()
	if err != nil {
		t.Fatal(err)
	}
	for typed, want := range map[string]string{
		"polk-des-moines-41":                 "polk-des-moines-41",
		"Polk-Des-Moines-41":                 "polk-des-moines-41",
		"  POLK des moines 41 ":              "polk-des-moines-41",
		"polk_des.moines--41":                "polk-des-moines-41",
		"Des Moines 41":                      "polk-des-moines-41",
		"Polk Des Moines 41":                 "polk-des-moines-41",
		"Des Moines 41 · polk-des-moines-41": "polk-des-moines-41",
		"1nw adair":                          "adair-1nw-adair",
		"Adair 1NW Adair":                    "adair-1nw-adair",
		"Polk Union 1":                       "polk-union-1",
		"adair union-1":                      "adair-union-1",
		"Union 1":                            "", // two precincts have that name
		"Des Moines 4":                       "",
		"":                                   "",
		"-- --":                              "",
	} {
		p, ok := d.FindPrecinct(typed)
		if ok != (want != "") || p.ID != want {
			t.Errorf("FindPrecinct(%q) = %q, %v; want %q", typed, p.ID, ok, want)
		}
	}
}

// TestFindPrecinctIowa: every Iowa 2020 precinct is found by its ID typed loosely, and by its
// county's name and its own name.
func TestFindPrecinctIowa(t *testing.T) {
	d, err := election.Iowa2020()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range d.Precincts() {
		c, _ := d.County(p.CountyID)
		for _, typed := range []string{election.LooseKey(p.ID), " " + p.ID + " ", c.Name + " " + p.Name} {
			if got, ok := d.FindPrecinct(typed); !ok || got.ID != p.ID {
				t.Errorf("FindPrecinct(%q) = %q, %v; want %q", typed, got.ID, ok, p.ID)
			}
		}
	}
}

// FuzzFindPrecinct: whatever is typed in the login's precinct field, FindPrecinct never panics,
// and a precinct it finds is found again by its own ID and its own name.
func FuzzFindPrecinct(f *testing.F) {
	d, err := looseDefinition()
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{"Polk-Des-Moines-41", " des moines 41 ", "Union 1", "Adair Union 1", "1nw adair", "", "\x00", "polk--des"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, typed string) {
		p, ok := d.FindPrecinct(typed)
		if !ok {
			return
		}
		if q, ok := d.FindPrecinct(p.ID); !ok || q.ID != p.ID {
			t.Fatalf("%q found %s, but its ID finds %v %v", typed, p.ID, q.ID, ok)
		}
	})
}

// looseDefinition is two counties' precincts, two of them sharing the name "Union 1".
func looseDefinition() (*election.Definition, error) {
	return election.New(election.Election{ID: "t", Name: "T", Date: "2020-02-03", Rules: "straw-poll", Candidates: []election.Candidate{{ID: "a", Name: "A"}}},
		[]election.County{{ID: "polk", Name: "Polk"}, {ID: "adair", Name: "Adair"}},
		[]election.Precinct{
			{ID: "polk-des-moines-41", CountyID: "polk", Name: "Des Moines 41", DelegatesToElect: 5},
			{ID: "adair-1nw-adair", CountyID: "adair", Name: "1NW ADAIR", DelegatesToElect: 4},
			{ID: "polk-union-1", CountyID: "polk", Name: "Union 1", DelegatesToElect: 3},
			{ID: "adair-union-1", CountyID: "adair", Name: "Union 1", DelegatesToElect: 3},
		})
}
