package server

import (
	"testing"

	"caucus/internal/results"
	"caucus/internal/rules"
)

// TestTiebreakSentences: each tie a game of chance decided is one sentence, its winners
// together, candidates by name.
func TestTiebreakSentences(t *testing.T) {
	groups := []results.Group{{CandidateID: "buttigieg", Name: "Buttigieg"}, {CandidateID: "sanders", Name: "Sanders"},
		{CandidateID: "warren", Name: "Warren"}}
	got := tiebreakSentences(groups, []results.Tiebreak{
		{Kind: "coin", Between: []string{"buttigieg", "warren"}, Delegates: 1, Winner: "warren"},
	})
	if want := "Coin toss between Buttigieg and Warren for 1 delegate: Warren"; len(got) != 1 || got[0] != want {
		t.Errorf("one toss: %q, want %q", got, want)
	}
	got = tiebreakSentences(groups, []results.Tiebreak{
		{Kind: "card", Between: []string{"buttigieg", "sanders", "warren"}, Delegates: 2, Winner: "sanders"},
		{Kind: "card", Between: []string{"buttigieg", "sanders", "warren"}, Delegates: 2, Winner: "buttigieg"},
	})
	if want := "Card draw between Buttigieg, Sanders and Warren for 2 delegates: Sanders and Buttigieg"; len(got) != 1 || got[0] != want {
		t.Errorf("a draw for two: %q, want %q", got, want)
	}
	if got := tiebreakSentences(groups, []results.Tiebreak{}); len(got) != 0 {
		t.Errorf("no toss: %q", got)
	}
}

// TestPrecinctWinner: most SDEs, else most delegates, else most people; a tie said as one.
func TestPrecinctWinner(t *testing.T) {
	s := func(v string) *string { return &v }
	n := func(v int64) *int64 { return &v }
	for _, tt := range []struct {
		name string
		doc  results.Precinct
		want string
	}{
		{"SDEs", results.Precinct{Groups: []results.Group{{Name: "Biden", SDE: s("0.1569"), Delegates: n(2)},
			{Name: "Warren", SDE: s("0.2353"), Delegates: n(3)}}}, "Warren"},
		{"tied SDEs", results.Precinct{Groups: []results.Group{{Name: "Biden", SDE: s("0.2353")},
			{Name: "Warren", SDE: s("0.2353")}, {Name: "Yang", SDE: s("0.0000")}}}, "Tied: Biden, Warren"},
		{"no ratio", results.Precinct{Groups: []results.Group{{Name: "Biden", Delegates: n(1)},
			{Name: "Warren", Delegates: n(4)}}}, "Warren (most delegates)"},
		{"straw poll", results.Precinct{Groups: []results.Group{{Name: "Biden", Final: 40}, {Name: "Warren", Final: 12}}}, "Biden (most people)"},
		{"open tie", results.Precinct{Flags: []rules.CheckID{rules.C13}, Groups: []results.Group{{Name: "Biden", Delegates: n(1)}}},
			"Tie: a game of chance is still to be played"},
		{"nobody", results.Precinct{Groups: []results.Group{{Name: "Biden", SDE: s("0.0000")}}}, "No winner: nobody won a delegate"},
	} {
		if got := precinctWinner(&tt.doc); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
}
