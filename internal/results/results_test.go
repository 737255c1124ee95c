package results_test

import (
	"encoding/json"
	"testing"

	"caucus/internal/results"
)

// TestStatuses: the five statuses of spec/interfaces.md, spelled as on the wire, and nothing
// else is one.
func TestStatuses(t *testing.T) {
	want := []string{"not_reported", "accepted", "under_review", "corrected", "certified"}
	if len(results.Statuses) != len(want) {
		t.Fatalf("%d statuses, want %d", len(results.Statuses), len(want))
	}
	for i, s := range results.Statuses {
		if string(s) != want[i] || !s.Valid() {
			t.Errorf("status %d is %q (valid %v), want %q", i, s, s.Valid(), want[i])
		}
	}
	for _, s := range []results.Status{"", "Accepted", "not reported", "rejected"} {
		if s.Valid() {
			t.Errorf("%q is valid", s)
		}
	}
}

// TestNulls: what the contract publishes as null is null when not known, and lists of a
// writer's document are never null once filled.
func TestNulls(t *testing.T) {
	b, err := json.Marshal(results.Candidate{CandidateID: "a", Name: "Avery"})
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"candidate_id":"a","name":"Avery","first":0,"final":0,"county_delegates":null,"sde":null}`; string(b) != want {
		t.Errorf("got %s\nwant %s", b, want)
	}
	b, err = json.Marshal(results.Results{ElectionID: "e", Candidates: []results.Candidate{}})
	if err != nil {
		t.Fatal(err)
	}
	// No log named: log_root_hash and log_public_key are left out, not empty.
	if want := `{"election_id":"e","updated_at":null,"log_size":0,"precincts_total":0,"precincts_reporting":0,"practice":false,"candidates":[]}`; string(b) != want {
		t.Errorf("got %s\nwant %s", b, want)
	}
}
