package election

import "testing"

// TestFindPrecinctHashCollision: the loose index holds hashes of the keys, so a typed key whose
// hash lands on another precinct's entry (a collision, planted here since FNV-64 gives none in
// practice) finds nothing rather than the wrong precinct.
func TestFindPrecinctHashCollision(t *testing.T) {
	d, err := New(Election{ID: "t", Name: "T", Date: "2020-02-03", Rules: "straw-poll", Candidates: []Candidate{{ID: "a", Name: "A"}}},
		[]County{{ID: "polk", Name: "Polk"}},
		[]Precinct{{ID: "polk-des-moines-41", CountyID: "polk", Name: "Des Moines 41", DelegatesToElect: 5}})
	if err != nil {
		t.Fatal(err)
	}
	if p, ok := d.FindPrecinct("des moines 41"); !ok || p.ID != "polk-des-moines-41" {
		t.Fatalf("the precinct's own name: %v %v", p.ID, ok)
	}
	d.looseIndex[looseHash("ankeny-7")] = 0 // a key of no precinct, pointing at precinct 0
	if p, ok := d.FindPrecinct("Ankeny 7"); ok {
		t.Fatalf("a colliding key found %s", p.ID)
	}
}
