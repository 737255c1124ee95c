package tally_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"testing"

	"caucus/internal/election"
	"caucus/internal/election/electiontest"
	"caucus/internal/report"
	"caucus/internal/results"
	"caucus/internal/rules"
	"caucus/internal/store"
	"caucus/internal/tally"
)

// The documents, decoded for assertions with their one declaration, the one every reader
// uses.
type (
	candidate  = results.Candidate
	resultsDoc = results.Results
	county     = results.County
	counties   = results.Counties
	group      = results.Group
	precinct   = results.Precinct
)

func decode[T any](t tb, b []byte) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
	return v
}

func resultsOf(t tb, s *tally.Snapshot) resultsDoc {
	b, _ := s.Results()
	return decode[resultsDoc](t, b)
}

func countyOf(t tb, s *tally.Snapshot, id string) county {
	t.Helper()
	b, _, ok := s.County(id)
	if !ok {
		t.Fatalf("no county %q", id)
	}
	return decode[county](t, b)
}

func precinctOf(t tb, s *tally.Snapshot, id string) precinct {
	t.Helper()
	b, _, ok := s.Precinct(id)
	if !ok {
		t.Fatalf("no precinct %q", id)
	}
	return decode[precinct](t, b)
}

// small is a fixed election: Adair's real ratio (4/51) over two precincts, and a satellite
// pseudo-county whose one precinct elects by attendance.
func small(t tb) *election.Definition {
	t.Helper()
	def, err := election.New(election.Election{ID: "small", Name: "Small", Date: "2020-02-03",
		Rules: election.RulesIowa, Candidates: []election.Candidate{{ID: "a", Name: "Avery"},
			{ID: "b", Name: "Blake"}, {ID: "c", Name: "Casey"}}},
		[]election.County{{ID: "adair", Name: "Adair", CountyDelegates: 51, StateDelegates: 40000},
			{ID: "sat", Name: "Satellites", CountyDelegates: 10, StateDelegates: 10000}},
		[]election.Precinct{{ID: "adair-1", CountyID: "adair", Name: "1NW Adair", DelegatesToElect: 8},
			{ID: "adair-2", CountyID: "adair", Name: "2NE Stuart", DelegatesToElect: 6},
			{ID: "sat-1", CountyID: "sat", Name: "Satellite 1", Satellite: true}})
	if err != nil {
		t.Fatal(err)
	}
	return def
}

func rep(l *electiontest.Log, precinctID string, attendees int64, first, final rules.Counts) report.Report {
	return report.Report{ReportID: l.NewReportID(), PrecinctID: precinctID, Attendees: attendees,
		First: first, Final: final, Channel: report.ChannelApp}
}

// must fails the test when appending to a log fails: must(t)(l.Report(…)).
func must(t tb) func(store.Entry, error) store.Entry {
	return func(e store.Entry, err error) store.Entry {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
}

func ptr[T any](v T) *T { return &v }

// TestStateMachine checks the effects of store.Next on the published results: which entry counts,
// the precinct's status, and the totals.
func TestStateMachine(t *testing.T) {
	first := rules.Counts{"a": 20, "b": 10, "c": 5}
	other := rules.Counts{"a": 15, "b": 15, "c": 5}
	fixed := rules.Counts{"a": 21, "b": 9, "c": 5}
	tests := []struct {
		name    string
		log     func(t *testing.T, l *electiontest.Log)
		status  store.Status
		counted int64
		reports int64
		want    rules.Counts // the state's first alignment
	}{
		{"first report counts", func(t *testing.T, l *electiontest.Log) {
			must(t)(l.Report(rep(l, "adair-1", 35, first, first), store.StatusAccepted))
		}, store.StatusAccepted, 0, 1, first},
		{"flagged report counts under review", func(t *testing.T, l *electiontest.Log) {
			must(t)(l.Report(rep(l, "adair-1", 35, first, first), store.StatusUnderReview))
		}, store.StatusUnderReview, 0, 1, first},
		{"conflicting second report is kept, the first still counts", func(t *testing.T, l *electiontest.Log) {
			must(t)(l.Report(rep(l, "adair-1", 35, first, first), store.StatusAccepted))
			must(t)(l.Report(rep(l, "adair-1", 35, other, other), store.StatusAccepted))
		}, store.StatusUnderReview, 0, 2, first},
		{"correction replaces", func(t *testing.T, l *electiontest.Log) {
			must(t)(l.Report(rep(l, "adair-1", 35, first, first), store.StatusAccepted))
			must(t)(l.Correction(rep(l, "adair-1", 35, fixed, fixed), "typo"))
		}, store.StatusCorrected, 1, 1, fixed},
		{"correction settles a conflict", func(t *testing.T, l *electiontest.Log) {
			must(t)(l.Report(rep(l, "adair-1", 35, first, first), store.StatusAccepted))
			must(t)(l.Report(rep(l, "adair-1", 35, other, other), store.StatusAccepted))
			must(t)(l.Correction(rep(l, "adair-1", 35, fixed, fixed), "recanvass"))
		}, store.StatusCorrected, 2, 2, fixed},
		{"review switches to the second report", func(t *testing.T, l *electiontest.Log) {
			must(t)(l.Report(rep(l, "adair-1", 35, first, first), store.StatusAccepted))
			must(t)(l.Report(rep(l, "adair-1", 35, other, other), store.StatusAccepted))
			must(t)(l.Review("adair-1", store.StatusAccepted, ptr[int64](1), "the second is right"))
		}, store.StatusAccepted, 1, 2, other},
		{"review keeps the first and certifies", func(t *testing.T, l *electiontest.Log) {
			must(t)(l.Report(rep(l, "adair-1", 35, first, first), store.StatusAccepted))
			must(t)(l.Report(rep(l, "adair-1", 35, other, other), store.StatusAccepted))
			must(t)(l.Review("adair-1", store.StatusCertified, nil, "the first is right"))
		}, store.StatusCertified, 0, 2, first},
		{"review switches back after a correction", func(t *testing.T, l *electiontest.Log) {
			must(t)(l.Report(rep(l, "adair-1", 35, first, first), store.StatusAccepted))
			must(t)(l.Correction(rep(l, "adair-1", 35, fixed, fixed), "typo"))
			must(t)(l.Review("adair-1", store.StatusUnderReview, ptr[int64](0), "the chair was right"))
		}, store.StatusUnderReview, 0, 1, first},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			def := small(t)
			l := electiontest.NewLog("small")
			tt.log(t, l)
			ta := tally.New(def)
			if err := ta.Apply(l.Entries...); err != nil {
				t.Fatal(err)
			}
			s := ta.Snapshot()
			p := precinctOf(t, s, "adair-1")
			if p.Status != results.Status(tt.status) || p.CountedEntry == nil || *p.CountedEntry != tt.counted || p.Reports != tt.reports {
				t.Errorf("precinct: status %s, counted %v, reports %d; want %s, %d, %d",
					p.Status, p.CountedEntry, p.Reports, tt.status, tt.counted, tt.reports)
			}
			if want := l.State("adair-1"); p.Status != results.Status(want.Status) || *p.CountedEntry != want.Counted {
				t.Errorf("precinct: status %s, counted %d; store.Next says %s, %d", p.Status, *p.CountedEntry, want.Status, want.Counted)
			}
			if len(p.Entries) != len(l.Entries) {
				t.Errorf("entries %v, want all %d", p.Entries, len(l.Entries))
			}
			r := resultsOf(t, s)
			if r.PrecinctsReporting != 1 || r.LogSize != int64(len(l.Entries)) {
				t.Errorf("results: reporting %d, log_size %d; want 1, %d", r.PrecinctsReporting, r.LogSize, len(l.Entries))
			}
			for _, c := range r.Candidates {
				if c.First != tt.want[c.CandidateID] || c.Final != tt.want[c.CandidateID] {
					t.Errorf("results: %s first %d final %d, want %d", c.CandidateID, c.First, c.Final, tt.want[c.CandidateID])
				}
			}
			row := countyOf(t, s, "adair").Precincts[0]
			if row.Status != results.Status(tt.status) || row.Reports != tt.reports {
				t.Errorf("county row: %+v", row)
			}
			mustRecount(t, def, l.Entries, s)
		})
	}
}

func mustRecount(t tb, def *election.Definition, entries []store.Entry, s *tally.Snapshot) {
	t.Helper()
	r, err := tally.Recount(def, entries)
	if err != nil {
		t.Fatal(err)
	}
	if d := s.Diff(r); d != "" {
		a, _ := s.Results()
		b, _ := r.Results()
		t.Fatalf("incremental and recount differ in %s\nincremental: %s\nrecount:     %s", d, a, b)
	}
}

// TestSDEExact: totals are sums of exact SDEs, rounded once. Two precincts of Adair (4/51) each
// win 1 delegate for a: 0.0784 each, but 2 × 4/51 = 0.15686… → 0.1569.
func TestSDEExact(t *testing.T) {
	def := small(t)
	l := electiontest.NewLog("small")
	// a: 6 of 35 is viable (threshold 6) and wins 1 of 8 and 1 of 6 delegates.
	must(t)(l.Report(rep(l, "adair-1", 35, rules.Counts{"a": 6, "b": 29}, rules.Counts{"a": 6, "b": 29}), store.StatusAccepted))
	must(t)(l.Report(rep(l, "adair-2", 35, rules.Counts{"a": 6, "b": 29}, rules.Counts{"a": 6, "b": 29}), store.StatusAccepted))
	ta := tally.New(def)
	if err := ta.Apply(l.Entries...); err != nil {
		t.Fatal(err)
	}
	s := ta.Snapshot()
	var sum int64
	var sdes []string
	for _, id := range []string{"adair-1", "adair-2"} {
		p := precinctOf(t, s, id)
		sum += *p.Groups[0].Delegates
		sdes = append(sdes, *p.Groups[0].SDE)
	}
	r := resultsOf(t, s)
	a := r.Candidates[0]
	t.Logf("a: precinct SDEs %v, delegates %d, state %s", sdes, sum, *a.SDE)
	if *a.CountyDelegates != sum {
		t.Errorf("county_delegates %d, want %d", *a.CountyDelegates, sum)
	}
	if sum != 2 || sdes[0] != "0.0784" || sdes[1] != "0.0784" {
		t.Fatalf("the case is not what it should be: a wins %d delegates, SDEs %v", sum, sdes)
	}
	if want := rules.SDE(sum, mustRatio(t, "4/51")); *a.SDE != want || want != "0.1569" {
		t.Errorf("state SDE %s, want %s (the exact sum, rounded once)", *a.SDE, want)
	}
	if c := countyOf(t, s, "adair").Candidates[0]; *c.SDE != *a.SDE {
		t.Errorf("county SDE %s, state %s", *c.SDE, *a.SDE)
	}
	mustRecount(t, def, l.Entries, s)
}

func mustRatio(t tb, s string) *big.Rat {
	r, err := rules.ParseRatio(s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestSatellite: a satellite's delegates follow its attendance (R14): 35 attendees elect 5.
func TestSatellite(t *testing.T) {
	def := small(t)
	l := electiontest.NewLog("small")
	must(t)(l.Report(rep(l, "sat-1", 35, rules.Counts{"a": 20, "c": 15}, rules.Counts{"a": 20, "c": 15}), store.StatusAccepted))
	ta := tally.New(def)
	if err := ta.Apply(l.Entries...); err != nil {
		t.Fatal(err)
	}
	s := ta.Snapshot()
	p := precinctOf(t, s, "sat-1")
	if p.DelegatesToElect == nil || *p.DelegatesToElect != 5 {
		t.Errorf("delegates_to_elect %v, want 5", p.DelegatesToElect)
	}
	if row := countyOf(t, s, "sat").Precincts[0]; row.DelegatesToElect != nil || !row.Satellite {
		t.Errorf("county row %+v: want delegates_to_elect null, satellite", row)
	}
	var d int64
	for _, g := range p.Groups {
		d += *g.Delegates
	}
	if d != 5 {
		t.Errorf("delegates %d, want 5", d)
	}
}

// TestErrorCountsNoSDE: a worksheet with impossible numbers that staff recorded flagged adds its
// counts and delegates, but no SDE, and is flagged.
func TestErrorCountsNoSDE(t *testing.T) {
	def := small(t)
	l := electiontest.NewLog("small")
	must(t)(l.Report(rep(l, "adair-1", 35, rules.Counts{"a": 20, "b": 15}, rules.Counts{"a": 20, "b": 15}), store.StatusAccepted))
	// C03: 50 people in the first alignment, 40 signed in.
	must(t)(l.Correction(rep(l, "adair-1", 40, rules.Counts{"a": 30, "b": 20}, rules.Counts{"a": 30, "b": 20}), "as on the worksheet"))
	ta := tally.New(def)
	if err := ta.Apply(l.Entries...); err != nil {
		t.Fatal(err)
	}
	s := ta.Snapshot()
	p := precinctOf(t, s, "adair-1")
	if !slices.Contains(p.Flags, "C03") {
		t.Errorf("flags %v, want C03", p.Flags)
	}
	var d int64
	for _, g := range p.Groups {
		d += *g.Delegates
		if g.SDE != nil {
			t.Errorf("group %s has sde %s, want null", g.CandidateID, *g.SDE)
		}
	}
	r := resultsOf(t, s)
	var got int64
	for _, c := range r.Candidates {
		got += *c.CountyDelegates
		if *c.SDE != "0.0000" {
			t.Errorf("%s: sde %s, want 0.0000", c.CandidateID, *c.SDE)
		}
	}
	if d == 0 || got != d || r.Candidates[0].First != 30 {
		t.Errorf("state delegates %d, first %d; want %d delegates, 30 first", got, r.Candidates[0].First, d)
	}
	mustRecount(t, def, l.Entries, s)
}

// TestApplyOrder: entries are applied in log order, each once; a refused entry changes nothing.
func TestApplyOrder(t *testing.T) {
	def := small(t)
	l := electiontest.NewLog("small")
	for _, id := range []string{"adair-1", "adair-2", "sat-1"} {
		must(t)(l.Report(rep(l, id, 10, rules.Counts{"a": 10}, rules.Counts{"a": 10}), store.StatusAccepted))
	}
	e := l.Entries
	bad := e[2]
	bad.Body = []byte(`{"kind":"report"}`)
	other := e[2]
	other.Body = append([]byte{}, e[2].Body...)
	other.PrecinctID = "adair-1"
	tests := []struct {
		name  string
		apply [][]store.Entry
		size  int64
	}{
		{"in order", [][]store.Entry{e[:1], e[1:]}, 3},
		{"gap", [][]store.Entry{e[1:2]}, 0},
		{"repeat", [][]store.Entry{e[:2], e[1:2]}, 2},
		{"gap inside a batch", [][]store.Entry{{e[0], e[2]}}, 1},
		{"a leaf that is not an entry", [][]store.Entry{{e[0], e[1], bad}}, 2},
		{"a leaf for another precinct than the store says", [][]store.Entry{{e[0], e[1], other}}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ta := tally.New(def)
			var err error
			for _, batch := range tt.apply {
				if err = ta.Apply(batch...); err != nil {
					break
				}
			}
			s := ta.Snapshot()
			if s.LogSize() != tt.size {
				t.Errorf("log size %d, want %d", s.LogSize(), tt.size)
			}
			var ae *tally.ApplyError
			if (tt.size != 3) != errors.As(err, &ae) {
				t.Errorf("error %v", err)
			}
			mustRecount(t, def, e[:tt.size], s)
			if tt.size < 3 { // the tally goes on from where it stopped
				if err := ta.Apply(e[tt.size:]...); err != nil {
					t.Fatal(err)
				}
				mustRecount(t, def, e, ta.Snapshot())
			}
		})
	}
}

// TestSnapshotShared: a snapshot never changes, and what an entry does not touch is shared.
func TestSnapshotShared(t *testing.T) {
	def := small(t)
	l := electiontest.NewLog("small")
	ta := tally.New(def)
	s0 := ta.Snapshot()
	r0, e0 := s0.Results()
	r0 = slices.Clone(r0)
	_, sat0, _ := s0.County("sat")
	must(t)(l.Report(rep(l, "adair-1", 10, rules.Counts{"a": 10}, rules.Counts{"a": 10}), store.StatusAccepted))
	if err := ta.Apply(l.Entries...); err != nil {
		t.Fatal(err)
	}
	s1 := ta.Snapshot()
	if r, e := s0.Results(); string(r) != string(r0) || e != e0 {
		t.Error("an old snapshot changed")
	}
	if _, e1 := s1.Results(); e1 == e0 {
		t.Error("results kept their ETag")
	}
	if _, sat1, _ := s1.County("sat"); sat1 != sat0 {
		t.Error("an untouched county's ETag changed")
	}
	if _, _, ok := s1.County("nowhere"); ok {
		t.Error("unknown county found")
	}
	if _, _, ok := s1.Precinct("nowhere"); ok {
		t.Error("unknown precinct found")
	}
	if s1.UpdatedAt() != "2020-02-03T19:00:00.000Z" || s0.UpdatedAt() != "" {
		t.Errorf("updated_at %q, %q", s0.UpdatedAt(), s1.UpdatedAt())
	}
}

// tb is what the helpers need of a *testing.T, a *testing.B or a *rapid.T.
type tb interface {
	Helper()
	Fatal(args ...any)
	Fatalf(format string, args ...any)
	Errorf(format string, args ...any)
}

// TestConcurrentReads: readers take snapshots while entries are applied; every snapshot they
// see is whole (its documents agree on the log size) and the log size never goes back. Run it
// with -race.
func TestConcurrentReads(t *testing.T) {
	n := mustIowa(t)
	ta := tally.New(n.def)
	done := make(chan struct{})
	errs := make(chan error, 2)
	for range 2 {
		go func() {
			var last int64
			for {
				s := ta.Snapshot()
				r, _ := s.Results()
				var head struct {
					LogSize int64 `json:"log_size"`
				}
				if err := json.Unmarshal(r, &head); err != nil {
					errs <- err
					return
				}
				c, _ := s.Counties()
				var ch struct {
					LogSize int64 `json:"log_size"`
				}
				if err := json.Unmarshal(c, &ch); err != nil {
					errs <- err
					return
				}
				if head.LogSize != s.LogSize() || ch.LogSize != s.LogSize() || s.LogSize() < last {
					errs <- fmt.Errorf("snapshot of log size %d: results say %d, counties %d, after %d", s.LogSize(), head.LogSize, ch.LogSize, last)
					return
				}
				last = s.LogSize()
				s.CSV()
				select {
				case <-done:
					errs <- nil
					return
				default:
				}
			}
		}()
	}
	for at := 0; at < len(n.entries); at += 50 {
		if err := ta.Apply(n.entries[at:min(at+50, len(n.entries))]...); err != nil {
			t.Fatal(err)
		}
	}
	close(done)
	for range 2 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}
