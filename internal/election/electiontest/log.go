package electiontest

import (
	"fmt"
	"time"

	"pgregory.net/rapid"

	"caucus/internal/election"
	"caucus/internal/report"
	"caucus/internal/rules"
	"caucus/internal/store"
)

// Definition draws a small election over the candidates of Candidates(o.MaxGroups): one to three
// counties, each with one to four precincts, some of them satellites whose delegates follow
// attendance, and now and then a county without a known SDE ratio.
func Definition(t *rapid.T, o Options) *election.Definition {
	prof := o.Profile
	if prof == "" {
		prof = rules.DefaultProfile
	}
	e := election.Election{ID: "test", Name: "Test", Date: "2020-02-03", Rules: prof,
		Practice: rapid.Bool().Draw(t, "practice")}
	for _, id := range Candidates(o.MaxGroups) {
		e.Candidates = append(e.Candidates, election.Candidate{ID: id, Name: "Candidate " + id})
	}
	var counties []election.County
	var precincts []election.Precinct
	for ci := range rapid.IntRange(1, 3).Draw(t, "counties") {
		c := election.County{ID: fmt.Sprintf("k%d", ci), Name: fmt.Sprintf("County %d", ci)}
		if rapid.IntRange(0, 5).Draw(t, "ratio known") > 0 {
			c.CountyDelegates = rapid.IntRange(1, 60).Draw(t, "county_delegates")
			c.StateDelegates = election.SDE(rapid.Int64Range(1, 100_000).Draw(t, "state_delegates"))
		}
		counties = append(counties, c)
		for pi := range rapid.IntRange(1, 4).Draw(t, "precincts") {
			p := election.Precinct{ID: fmt.Sprintf("k%d-p%d", ci, pi), CountyID: c.ID,
				Name: fmt.Sprintf("Precinct %d-%d", ci, pi)}
			if rapid.IntRange(0, 4).Draw(t, "satellite") == 0 {
				p.Satellite = true
			} else {
				p.DelegatesToElect = int(rapid.Int64Range(1, max(o.MaxD, 1)).Draw(t, "delegates_to_elect"))
			}
			precincts = append(precincts, p)
		}
	}
	def, err := election.New(e, counties, precincts)
	if err != nil {
		t.Fatalf("electiontest: drawn definition: %v", err)
	}
	return def
}

// Log is an in-memory log of entries built the way the store builds them: canonical leaves
// (report.Entry.Marshal) and each entry's stored status from the store's own state machine
// (store.Next). It is for tests of what follows the log; it keeps no durability promise.
type Log struct {
	ElectionID string
	Entries    []store.Entry
	Clock      time.Time // the next entry's received_at; each entry moves it on by a second
	states     map[string]store.PrecinctState
	reports    map[string][]int64 // a precinct's reports and corrections
	serial     int
}

// NewLog returns an empty log for an election.
func NewLog(electionID string) *Log {
	return &Log{ElectionID: electionID, Clock: time.Date(2020, 2, 3, 19, 0, 0, 0, time.UTC),
		states: map[string]store.PrecinctState{}, reports: map[string][]int64{}}
}

// State is a precinct's state after the entries so far.
func (l *Log) State(precinctID string) store.PrecinctState {
	if st, ok := l.states[precinctID]; ok {
		return st
	}
	return store.EmptyState(precinctID)
}

// Reports returns the log indices of a precinct's reports and corrections.
func (l *Log) Reports(precinctID string) []int64 { return l.reports[precinctID] }

// Report appends a chair's report with the status intake would give it (accepted, or
// under_review when flagged). A report for a precinct already counting one is a conflict.
func (l *Log) Report(r report.Report, status store.Status) (store.Entry, error) {
	return l.append(store.KindReport, r.PrecinctID, &r, "", status, nil)
}

// Correction appends a staff correction: a whole new report for the precinct, with a reason.
func (l *Log) Correction(r report.Report, reason string) (store.Entry, error) {
	return l.append(store.KindCorrection, r.PrecinctID, &r, reason, store.StatusCorrected, nil)
}

// Review appends a reviewer's decision (accepted, under_review, certified), making the entry at
// counts counted when it is not nil.
func (l *Log) Review(precinctID string, decision store.Status, counts *int64, reason string) (store.Entry, error) {
	return l.append(store.KindReview, precinctID, nil, reason, decision, counts)
}

func (l *Log) append(kind store.Kind, precinctID string, r *report.Report, reason string, status store.Status, counts *int64) (store.Entry, error) {
	at := l.Clock.UTC().Truncate(time.Millisecond)
	idx := int64(len(l.Entries))
	leaf := report.Entry{Kind: string(kind), ElectionID: l.ElectionID, PrecinctID: precinctID,
		ReceivedAt: report.FormatTime(at), Submitter: "staff", Channel: string(store.ChannelStaff),
		Report: r, Reason: reason, Counts: counts}
	ne := store.NewEntry{Kind: kind, PrecinctID: precinctID, Submitter: "staff",
		Channel: store.ChannelStaff, ReceivedAt: at, Status: status, Counts: counts}
	switch kind {
	case store.KindReport:
		leaf.ReportID, leaf.Submitter, leaf.Channel = r.ReportID, precinctID, r.Channel
		ne.ReportID, ne.Submitter, ne.Channel = r.ReportID, precinctID, store.Channel(r.Channel)
	case store.KindReview:
		leaf.Decision = string(status)
		if counts != nil && !contains(l.reports[precinctID], *counts) {
			return store.Entry{}, fmt.Errorf("%w: review counts entry %d, not a report of %s", store.ErrInvalid, *counts, precinctID)
		}
	}
	ne.Body = leaf.Marshal()
	if err := ne.Validate(); err != nil {
		return store.Entry{}, err
	}
	st, stored, _, err := store.Next(l.State(precinctID), &ne, idx, at)
	if err != nil {
		return store.Entry{}, err
	}
	e := store.Entry{Index: idx, Kind: kind, PrecinctID: precinctID, ReportID: ne.ReportID,
		Submitter: ne.Submitter, Channel: ne.Channel, ReceivedAt: at, Body: ne.Body,
		LeafHash: store.LeafHash(ne.Body), Status: stored, Counts: store.NoIndex}
	if counts != nil {
		e.Counts = *counts
	}
	l.states[precinctID] = st
	if r != nil {
		l.reports[precinctID] = append(l.reports[precinctID], idx)
	}
	l.Entries = append(l.Entries, e)
	l.Clock = l.Clock.Add(time.Second)
	return e, nil
}

func contains(s []int64, v int64) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// NewReportID returns a fresh report_id for the log.
func (l *Log) NewReportID() string {
	l.serial++
	return fmt.Sprintf("r%d", l.serial)
}

// Entries draws a sequence of up to n entries over def's precincts the way a caucus night goes,
// accidents included: first reports, conflicting second reports, staff corrections, and review
// decisions that accept, keep under review, certify or switch the counted entry. Reports are
// drawn with Precinct (o.Impossible allows numbers intake would refuse: staff may record such a
// worksheet flagged), sometimes with the chair's delegates.
func Entries(t *rapid.T, def *election.Definition, o Options, n int) []store.Entry {
	l := NewLog(def.Election().ID)
	ps := def.Precincts()
	steps := rapid.IntRange(0, n).Draw(t, "entries")
	for range steps {
		p := rapid.SampledFrom(ps).Draw(t, "precinct")
		st := l.State(p.ID)
		kind := rapid.IntRange(0, 3).Draw(t, "kind")
		if st.Counted == store.NoIndex {
			kind = 0 // a precinct's first entry is a report
		}
		var err error
		switch kind {
		case 0:
			status := rapid.SampledFrom([]store.Status{store.StatusAccepted, store.StatusUnderReview}).Draw(t, "status")
			_, err = l.Report(drawReport(t, l, p.ID, o), status)
		case 1:
			_, err = l.Correction(drawReport(t, l, p.ID, o), "recanvass")
		default:
			decision := rapid.SampledFrom([]store.Status{store.StatusAccepted, store.StatusUnderReview,
				store.StatusCertified}).Draw(t, "decision")
			var counts *int64
			if rapid.Bool().Draw(t, "switch") {
				c := rapid.SampledFrom(l.Reports(p.ID)).Draw(t, "counts")
				counts = &c
			}
			_, err = l.Review(p.ID, decision, counts, "reviewed")
		}
		if err != nil {
			t.Fatalf("electiontest: drawn entry: %v", err)
		}
	}
	return l.Entries
}

// drawReport draws a report for a precinct with Precinct's numbers.
func drawReport(t *rapid.T, l *Log, precinctID string, o Options) report.Report {
	in := Precinct(t, o)
	r := report.Report{ReportID: l.NewReportID(), PrecinctID: precinctID, Attendees: in.Attendees,
		First: in.First, Final: in.Final, Channel: report.ChannelApp}
	if rapid.IntRange(0, 3).Draw(t, "worksheet") == 0 {
		r.Delegates = rules.Counts{}
		for _, id := range Candidates(o.MaxGroups) { // in order: rapid must draw the same way
			if _, ok := in.Final[id]; !ok {
				continue
			}
			if d := rapid.Int64Range(0, 3).Draw(t, "chair delegates"); d > 0 {
				r.Delegates[id] = d
			}
		}
	}
	return r
}

// Certification appends a certifier's certification of scope ("county:ID" or "state") naming
// the checkpoint of the log's first size entries with root hash root, or, with size nil, its
// withdrawal. It changes no precinct's state.
func (l *Log) Certification(scope string, size *int64, root, reason string) (store.Entry, error) {
	at := l.Clock.UTC().Truncate(time.Millisecond)
	idx := int64(len(l.Entries))
	decision, status := report.Certified, store.StatusCertified
	if size == nil {
		decision, status = report.Withdrawn, store.StatusWithdrawn
	}
	leaf := report.Entry{Kind: report.KindCertification, ElectionID: l.ElectionID, PrecinctID: scope,
		ReceivedAt: report.FormatTime(at), Submitter: "certifier", Channel: string(store.ChannelStaff),
		Reason: reason, Decision: decision, LogSize: size, RootHash: root}
	body := leaf.Marshal()
	if _, err := report.ParseEntry(body); err != nil {
		return store.Entry{}, fmt.Errorf("%w: %w", store.ErrInvalid, err)
	}
	ne := store.NewEntry{Kind: store.KindCertification, PrecinctID: scope, Submitter: "certifier",
		Channel: store.ChannelStaff, ReceivedAt: at, Status: status, Body: body}
	if err := ne.Validate(); err != nil {
		return store.Entry{}, err
	}
	e := store.Entry{Index: idx, Kind: store.KindCertification, PrecinctID: scope, Submitter: ne.Submitter,
		Channel: ne.Channel, ReceivedAt: at, Body: body, LeafHash: store.LeafHash(body), Status: status,
		Counts: store.NoIndex}
	l.Entries = append(l.Entries, e)
	l.Clock = l.Clock.Add(time.Second)
	return e, nil
}
