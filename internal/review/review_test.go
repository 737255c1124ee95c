package review_test

import (
	"slices"
	"testing"
	"time"

	"caucus/internal/report"
	"caucus/internal/review"
	"caucus/internal/rules"
	"caucus/internal/server/servertest"
	"caucus/internal/store"
)

// log is a precinct's entries as the store keeps them, built one by one through store.Next.
type log struct {
	t       *testing.T
	entries []store.Entry
	st      store.PrecinctState
}

func (l *log) add(kind store.Kind, submitter string, status store.Status, counts *int64, r *report.Report, reason string) int64 {
	l.t.Helper()
	idx := int64(len(l.entries)) * 3 // other precincts' entries in between
	at := time.Date(2020, 2, 3, 19, 0, int(idx), 0, time.UTC)
	le := report.Entry{Kind: string(kind), ElectionID: "e", PrecinctID: "p0001", ReceivedAt: report.FormatTime(at), Submitter: submitter,
		Channel: "app", Report: r, Reason: reason, Counts: counts}
	if kind != store.KindReport {
		le.Channel = "staff"
	}
	if kind == store.KindReview {
		le.Decision = string(status)
	}
	ne := store.NewEntry{Kind: kind, PrecinctID: "p0001", Status: status, Counts: counts}
	next, stored, _, err := store.Next(l.st, &ne, idx, at)
	if err != nil {
		l.t.Fatal(err)
	}
	l.st = next
	body := le.Marshal()
	e := store.Entry{Index: idx, Kind: kind, PrecinctID: "p0001", Submitter: submitter, Channel: store.Channel(le.Channel), ReceivedAt: at,
		Body: body, LeafHash: store.LeafHash(body), Status: stored, Counts: store.NoIndex}
	if counts != nil {
		e.Counts = *counts
	}
	if r != nil {
		e.ReportID = r.ReportID
	}
	l.entries = append(l.entries, e)
	return idx
}

func TestBuildReasons(t *testing.T) {
	def := servertest.Definition(t, 2)
	facts := report.Facts(def)["p0001"]
	c := servertest.Candidates
	r := report.Report{ReportID: "a", PrecinctID: "p0001", Attendees: 83, Channel: "app",
		First: rules.Counts{c[0]: 40, c[1]: 27, c[2]: 13, c[3]: 3}, Final: rules.Counts{c[0]: 40, c[1]: 30, c[2]: 13}}
	res := rules.Calc(report.CalcInput(r, facts))
	if len(res.Checks) != 0 {
		t.Fatalf("the base report fires %v", res.Checks)
	}
	// The chair's worksheet gives one delegate to the wrong group: C12 (and more), a warning.
	r.Delegates = res.DelegatesByGroup()
	for _, g := range []string{c[0], c[1]} {
		if r.Delegates[g] > 0 {
			r.Delegates[g]--
			r.Delegates[c[2]]++
			break
		}
	}
	if res := rules.Calc(report.CalcInput(r, facts)); !res.Has(rules.C12) || res.HasErrors() {
		t.Fatalf("the worksheet's delegates: %v", res.Checks)
	}
	l := &log{t: t, st: store.EmptyState("p0001")}
	first := l.add(store.KindReport, "p0001", store.StatusUnderReview, nil, &r, "")
	build := func() review.Item {
		t.Helper()
		it, err := review.Build("p0001", facts, l.entries)
		if err != nil {
			t.Fatal(err)
		}
		return it
	}
	if it := build(); !it.Open() || !slices.Equal(it.Reasons, []review.Reason{review.DelegatesDiffer}) || !it.Entries[0].Counted {
		t.Fatalf("a report whose worksheet differs: %+v", it)
	}
	l.add(store.KindReview, "rita", store.StatusAccepted, &first, nil, "the computed delegates stand")
	if it := build(); it.Open() || len(it.Reasons) != 0 || !it.Entries[0].Decided || len(it.History) != 2 {
		t.Fatalf("after accepting it: %+v", it)
	}
	second := r
	second.ReportID, second.Delegates = "b", nil
	second.Attendees++
	second.First = rules.Counts{c[0]: 41, c[1]: 27, c[2]: 13, c[3]: 3}
	second.Final = rules.Counts{c[0]: 41, c[1]: 30, c[2]: 13}
	l.add(store.KindReport, "olga", store.StatusAccepted, nil, &second, "")
	it := build()
	// The counted report's checks were settled by the decision: only the conflict is open.
	if !it.Open() || !slices.Equal(it.Reasons, []review.Reason{review.Conflict}) || it.Entries[1].Decided {
		t.Fatalf("a conflict after a decision: %+v", it)
	}
	// Separation of duties: olga keyed the open report; rita's decision is settled.
	if e, own := review.OwnEntry(l.entries, "olga", nil); !own || e.Submitter != "olga" {
		t.Errorf("olga may decide on a conflict she keyed")
	}
	if _, own := review.OwnEntry(l.entries, "rita", nil); own {
		t.Errorf("rita submitted nothing still open, yet she may not decide")
	}
	fix := second
	fix.ReportID = "fix"
	corr := l.add(store.KindCorrection, "rita", store.StatusCorrected, nil, &fix, "the worksheet photo")
	if _, own := review.OwnEntry(l.entries, "rita", &corr); !own {
		t.Errorf("rita may accept her own correction")
	}
	if _, own := review.OwnEntry(l.entries, "sam", &corr); own {
		t.Errorf("sam may not accept rita's correction")
	}
	if it := build(); it.Open() || it.Status != store.StatusCorrected || it.Entries[2].Reason != "the worksheet photo" || !it.Entries[2].Counted {
		t.Fatalf("after the correction: %+v", it)
	}
}
