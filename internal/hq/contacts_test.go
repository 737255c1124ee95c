package hq_test

import (
	"bytes"
	"strings"
	"testing"

	"caucus/internal/election"
	"caucus/internal/hq"
)

func twoPrecincts(t testing.TB) *election.Definition {
	t.Helper()
	def, err := election.New(election.Election{ID: "e", Name: "E", Date: "2020-02-03", Rules: election.RulesIowa,
		Candidates: []election.Candidate{{ID: "a", Name: "A"}}},
		[]election.County{{ID: "adair", Name: "Adair", CountyDelegates: 10, StateDelegates: 10000}},
		[]election.Precinct{{ID: "p1", CountyID: "adair", Name: "One", DelegatesToElect: 4},
			{ID: "p2", CountyID: "adair", Name: "Two", DelegatesToElect: 4}})
	if err != nil {
		t.Fatal(err)
	}
	return def
}

// TestContacts: contacts.csv reads back what WriteContacts wrote; a bad line is refused with
// its line number and never its value (the file is private).
func TestContacts(t *testing.T) {
	def := twoPrecincts(t)
	want := []hq.Contact{{PrecinctID: "p1", Name: "Ada Abbott", Phone: "+15155551000"}, {PrecinctID: "p2", Name: "Núñez, José", Phone: "+442079460958"}}
	var buf bytes.Buffer
	if err := hq.WriteContacts(&buf, want); err != nil {
		t.Fatal(err)
	}
	got, err := hq.ReadContacts(&buf, def)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got["p1"] != want[0] || got["p2"] != want[1] {
		t.Errorf("read %v, want %v", got, want)
	}
	for _, tt := range []struct{ name, file, secret, says string }{
		{"header", "precinct,name,phone\n", "", "line 1"},
		{"empty", "", "", "empty"},
		{"unknown precinct", "precinct_id,chair_name,phone\np9,Ada,+15155551000\n", "", "line 2"},
		{"duplicate", "precinct_id,chair_name,phone\np1,Ada,+15155551000\np1,Bert,+15155551001\n", "", "line 3"},
		{"not E.164", "precinct_id,chair_name,phone\np1,Ada,515-555-1000\n", "515-555-1000", "E.164"},
		{"too short", "precinct_id,chair_name,phone\np1,Ada,+1234\n", "+1234", "E.164"},
		{"no name", "precinct_id,chair_name,phone\np1,,+15155551000\n", "+15155551000", "chair_name"},
		{"bidi", "precinct_id,chair_name,phone\np1,Ada\u202eevil,+15155551000\n", "evil", "chair_name"},
		{"columns", "precinct_id,chair_name,phone\np1,Ada Abbott\n", "Ada Abbott", "line 2"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := hq.ReadContacts(strings.NewReader(tt.file), def)
			if err == nil {
				t.Fatal("accepted")
			}
			if !strings.Contains(err.Error(), tt.says) {
				t.Errorf("error %q does not say %q", err, tt.says)
			}
			if tt.secret != "" && strings.Contains(err.Error(), tt.secret) {
				t.Errorf("error %q shows the value %q", err, tt.secret)
			}
		})
	}
	if s := (hq.Contact{PrecinctID: "p1", Name: "Ada Abbott", Phone: "+15155551000"}).String(); strings.Contains(s, "Ada") || strings.Contains(s, "555") {
		t.Errorf("a contact prints as %q", s)
	}
}
