package tally_test

import (
	"testing"

	"caucus/internal/election/electiontest"
	"caucus/internal/results"
	"caucus/internal/rules"
	"caucus/internal/store"
	"caucus/internal/tally"
)

// TestCertification: a county's certification shows as the status of its settled precincts
// (not of one under review), lists with the checkpoint it names, and goes when withdrawn; the
// incremental tally and the recount agree at every step.
func TestCertification(t *testing.T) {
	def := small(t)
	l := electiontest.NewLog("small")
	must(t)(l.Report(rep(l, "adair-1", 20, rules.Counts{"a": 10, "b": 10}, rules.Counts{"a": 10, "b": 10}), store.StatusAccepted))
	must(t)(l.Report(rep(l, "adair-2", 20, rules.Counts{"a": 12, "b": 8}, rules.Counts{"a": 12, "b": 8}), store.StatusAccepted))
	size := int64(2)
	must(t)(l.Certification("county:adair", &size, "cm9vdA==", "canvass done"))
	ta := tally.New(def)
	if err := ta.Apply(l.Entries...); err != nil {
		t.Fatal(err)
	}
	s := ta.Snapshot()
	if p := precinctOf(t, s, "adair-1"); p.Status != results.Certified {
		t.Errorf("adair-1 status %s, want certified", p.Status)
	}
	if row := countyOf(t, s, "adair").Precincts[1]; row.Status != results.Certified {
		t.Errorf("adair-2 row status %s, want certified", row.Status)
	}
	if p := precinctOf(t, s, "sat-1"); p.Status != results.NotReported {
		t.Errorf("sat-1 status %s, want not_reported (its county is not certified)", p.Status)
	}
	c := s.Certifications()
	if len(c.Certifications) != 1 || !c.Certifications[0].InForce || *c.Certifications[0].LogSize != 2 ||
		*c.Certifications[0].RootHash != "cm9vdA==" || len(c.Certified) != 1 || c.Certified[0] != "county:adair" ||
		!s.Certified("county:adair") || s.Certified("state") {
		t.Errorf("certifications %+v", c)
	}
	if r := resultsOf(t, s); r.LogSize != 3 {
		t.Errorf("log_size %d, want 3", r.LogSize)
	}
	mustRecount(t, def, l.Entries, s)

	// A late report puts its precinct under review: that shows, whatever the county.
	must(t)(l.Report(rep(l, "adair-1", 20, rules.Counts{"a": 11, "b": 9}, rules.Counts{"a": 11, "b": 9}), store.StatusAccepted))
	must(t)(l.Certification("county:adair", nil, "", "a late report"))
	if err := ta.Apply(l.Entries[3:]...); err != nil {
		t.Fatal(err)
	}
	s = ta.Snapshot()
	if p := precinctOf(t, s, "adair-1"); p.Status != results.UnderReview {
		t.Errorf("adair-1 status %s, want under_review", p.Status)
	}
	if p := precinctOf(t, s, "adair-2"); p.Status != results.Accepted {
		t.Errorf("adair-2 status %s after the withdrawal, want accepted", p.Status)
	}
	c = s.Certifications()
	if len(c.Certifications) != 2 || c.Certifications[0].InForce || c.Certifications[1].Decision != "withdrawn" ||
		len(c.Certified) != 0 || s.Certified("county:adair") {
		t.Errorf("certifications after the withdrawal %+v", c)
	}
	if u := s.Unsettled("adair"); len(u) != 1 || u[0].PrecinctID != "adair-1" || u[0].Status != results.UnderReview {
		t.Errorf("unsettled %+v", u)
	}
	mustRecount(t, def, l.Entries, s)

	// A certification of a county the election does not have is refused whole.
	bad := electiontest.NewLog("small")
	must(t)(bad.Certification("county:nowhere", &size, "cm9vdA==", ""))
	if err := tally.New(def).Apply(bad.Entries...); err == nil {
		t.Error("a certification of an unknown county applied")
	}
}
