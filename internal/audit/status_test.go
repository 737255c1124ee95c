package audit_test

import (
	"maps"
	"math/big"
	"slices"
	"testing"

	"caucus/internal/audit"
	"caucus/internal/resultscsv"
	"caucus/internal/rules"
)

// TestStatus replays the audit of the 2020 results from a seed as hand counts come in.
func TestStatus(t *testing.T) {
	ps, ratio := load2020(t)
	e, err := audit.FromPublished(ps, ratio, rules.DefaultProfile)
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]resultscsv.Precinct{}
	for _, p := range ps {
		byID[p.ID] = p
	}
	const seed = "27182818284590452353602"
	alpha := big.NewRat(5, 100)
	counts := map[string]audit.HandCounted{}

	// Nothing counted: the first round of each sampled contest waits for its precincts.
	rs, err := e.Status(seed, alpha, counts)
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []int{90, 220, 0} {
		r := rs[i]
		if len(r.Tickets) != want || len(r.Progress.Draws) != 0 {
			t.Errorf("%s: %d tickets, %d draws counted; want %d and 0", e.Contests[i].Kind, len(r.Tickets), len(r.Progress.Draws), want)
		}
	}
	if rs[2].Progress.Status != audit.FullHandCount || len(rs[2].Waiting) != 0 {
		t.Errorf("sde: %s, waiting %d", rs[2].Progress.Status, len(rs[2].Waiting))
	}

	// Every waiting precinct counted as reported: both people contests are confirmed at the
	// planned size.
	for _, r := range rs[:2] {
		for _, id := range r.Waiting {
			counts[id] = audit.HandCounted{First: byID[id].First, Final: byID[id].Final}
		}
	}
	rs, err = e.Status(seed, alpha, counts)
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []int{90, 220} {
		p := rs[i].Progress
		if p.Status != audit.Confirmed || len(p.Draws) != want || !p.Risk.AtMost(alpha) || len(rs[i].Waiting) != 0 {
			t.Errorf("%s: %s after %d draws, risk %s, waiting %v", e.Contests[i].Kind, p.Status, len(p.Draws), p.Risk, rs[i].Waiting)
		}
	}
	again, _ := e.Status(seed, alpha, counts)
	for i := range rs {
		if !slices.Equal(again[i].Tickets, rs[i].Tickets) || again[i].Progress.Risk.String() != rs[i].Progress.Risk.String() {
			t.Errorf("%s: the replay differs", e.Contests[i].Kind)
		}
	}

	// One drawn precinct's cards show 10 of the winner's people for the runner-up: the first
	// round's risk is now above the limit, and a second round (draws 91 onwards) waits.
	first := e.Contest(audit.First)
	id := rs[0].Tickets[0].PrecinctID
	hc := audit.HandCounted{First: maps.Clone(byID[id].First), Final: byID[id].Final}
	moved := min(hc.First[first.Winner], 10)
	hc.First[first.Winner] -= moved
	hc.First[first.RunnerUp] += moved
	counts[id] = hc
	rs, err = e.Status(seed, alpha, counts)
	if err != nil {
		t.Fatal(err)
	}
	r := rs[0]
	if r.Overstatements[id].Sign() <= 0 || r.Progress.Status != audit.InProgress || len(r.Progress.Rounds) != 1 ||
		r.Progress.Rounds[0].Risk.AtMost(alpha) || len(r.Waiting) == 0 || r.Tickets[90].Draw != 91 {
		t.Errorf("after the change: e %v, %s, rounds %d, waiting %d", r.Overstatements[id], r.Progress.Status, len(r.Progress.Rounds), len(r.Waiting))
	} else {
		t.Logf("one precinct with %d people moved: round 1 risk %s, round 2 draws %d more", moved, r.Progress.Rounds[0].Risk, len(r.Tickets)-90)
	}
	if _, err := e.Status(seed, alpha, map[string]audit.HandCounted{"nowhere": {}}); err == nil {
		t.Error("a hand count of an unknown precinct was accepted")
	}
}
