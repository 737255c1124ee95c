package storetest

import (
	"bytes"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"caucus/internal/store"
)

func testAppendReadBack(t *testing.T, h *harness) {
	e := report("polk-1", "r1", "a")
	e.Body = append(e.Body, 0x00, 0xff, '\n') // bytes are kept exactly, even non-JSON ones
	e.Channel = store.ChannelHotline
	e.Submitter = "operator-7"
	rs := h.append(e)
	r := rs[0]
	if r.Outcome != store.Appended || r.Err != nil {
		t.Fatalf("outcome %v, err %v; want appended", r.Outcome, r.Err)
	}
	want := store.Entry{
		Index: 0, Kind: store.KindReport, PrecinctID: "polk-1", ReportID: "r1",
		Submitter: "operator-7", Channel: store.ChannelHotline, ReceivedAt: h.clock.Now(),
		Body: e.Body, LeafHash: store.LeafHash(e.Body), Status: store.StatusAccepted,
		Counts: store.NoIndex,
	}
	checkEntry(t, "result", r.Entry, want)
	es := h.entries(0, 1)
	if len(es) != 1 {
		t.Fatalf("Entries(0, 1) returned %d entries", len(es))
	}
	checkEntry(t, "Entries", es[0], want)
	got, err := h.s.EntryByReportID(h.ctx, "r1")
	if err != nil {
		t.Fatalf("EntryByReportID: %v", err)
	}
	checkEntry(t, "EntryByReportID", got, want)
	if _, err := h.s.EntryByReportID(h.ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("EntryByReportID(unknown) = %v, want ErrNotFound", err)
	}
	if n := h.size(); n != 1 {
		t.Errorf("Size = %d, want 1", n)
	}
	st := h.state("polk-1")
	if st.Status != store.StatusAccepted || st.Counted != 0 || st.Reports != 1 || st.Conflict ||
		st.LastIndex != 0 {
		t.Errorf("state = %+v, want accepted, counted 0, 1 report", st)
	}
	if _, err := h.s.PrecinctState(h.ctx, "polk-2"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("PrecinctState(no entries) = %v, want ErrNotFound", err)
	}
	pe, err := h.s.PrecinctEntries(h.ctx, "polk-1")
	if err != nil || len(pe) != 1 {
		t.Fatalf("PrecinctEntries = %d entries, %v; want 1", len(pe), err)
	}
	// The caller's buffer may be reused after Append returns.
	e.Body[0] = 'X'
	if es := h.entries(0, 1); es[0].Body[0] == 'X' {
		t.Errorf("stored body aliases the caller's slice")
	}
	// A given ReceivedAt is stored instead of the clock's.
	e2 := report("polk-3", "r2", "b")
	e2.ReceivedAt = h.clock.Now().Add(-1500 * 1e6) // 1.5 s earlier
	if got := h.append(e2)[0].Entry.ReceivedAt; !got.Equal(e2.ReceivedAt) {
		t.Errorf("ReceivedAt = %v, want the given %v", got, e2.ReceivedAt)
	}
}

func checkEntry(t *testing.T, where string, got, want store.Entry) {
	t.Helper()
	if !bytes.Equal(got.Body, want.Body) {
		t.Errorf("%s: body %q, want %q", where, got.Body, want.Body)
	}
	if got.LeafHash != want.LeafHash {
		t.Errorf("%s: leaf hash %x, want %x", where, got.LeafHash, want.LeafHash)
	}
	if !got.ReceivedAt.Equal(want.ReceivedAt) {
		t.Errorf("%s: received at %v, want %v", where, got.ReceivedAt, want.ReceivedAt)
	}
	got.Body, want.Body = nil, nil
	got.ReceivedAt, want.ReceivedAt = time.Time{}, time.Time{}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("%s: entry\n%+v\nwant\n%+v", where, got, want)
	}
}

func testDenseIndices(t *testing.T, h *harness) {
	var want int64
	for b, n := range []int{1, 3, 0, 7, 2} {
		var batch []store.NewEntry
		for i := range n {
			batch = append(batch, report(fmt.Sprintf("p-%d-%d", b, i), fmt.Sprintf("r-%d-%d", b, i), "x"))
		}
		if n == 0 {
			rs, err := h.s.Append(h.ctx, nil)
			if err != nil || len(rs) != 0 {
				t.Fatalf("Append(empty) = %v, %v", rs, err)
			}
			continue
		}
		for _, r := range h.append(batch...) {
			if r.Entry.Index != want {
				t.Fatalf("batch %d: index %d, want %d", b, r.Entry.Index, want)
			}
			want++
		}
	}
	if n := h.size(); n != want {
		t.Errorf("Size = %d, want %d", n, want)
	}
	es := h.entries(0, want+10)
	if int64(len(es)) != want {
		t.Fatalf("Entries(0, size+10) returned %d, want %d (cut at size)", len(es), want)
	}
	for i, e := range es {
		if e.Index != int64(i) {
			t.Errorf("entry %d has index %d", i, e.Index)
		}
	}
	if es := h.entries(3, 5); len(es) != 2 || es[0].Index != 3 || es[1].Index != 4 {
		t.Errorf("Entries(3, 5) = %d entries", len(es))
	}
	if es := h.entries(want, want); len(es) != 0 {
		t.Errorf("Entries(size, size) = %d entries, want none", len(es))
	}
	for _, r := range [][2]int64{{-1, 2}, {5, 4}} {
		if _, err := h.s.Entries(h.ctx, r[0], r[1]); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("Entries(%d, %d) = %v, want ErrInvalid", r[0], r[1], err)
		}
	}
}

func testDuplicateSameBatch(t *testing.T, h *harness) {
	a, b := report("p1", "ra", "1"), report("p2", "rb", "2")
	rs := h.append(a, a, b, a)
	wantOutcomes := []store.Outcome{store.Appended, store.Duplicate, store.Appended, store.Duplicate}
	for i, r := range rs {
		if r.Outcome != wantOutcomes[i] || r.Err != nil {
			t.Errorf("result %d: %v (%v), want %v", i, r.Outcome, r.Err, wantOutcomes[i])
		}
	}
	if rs[1].Entry.Index != 0 || rs[3].Entry.Index != 0 || rs[2].Entry.Index != 1 {
		t.Errorf("indices %d %d %d %d, want 0 0 1 0", rs[0].Entry.Index, rs[1].Entry.Index,
			rs[2].Entry.Index, rs[3].Entry.Index)
	}
	if rs[1].Entry.LeafHash != rs[0].Entry.LeafHash || rs[1].Entry.Status != rs[0].Entry.Status {
		t.Errorf("duplicate's receipt differs from the original's")
	}
	if n := h.size(); n != 2 {
		t.Errorf("Size = %d, want 2", n)
	}
	if st := h.state("p1"); st.Reports != 1 || st.Conflict {
		t.Errorf("state = %+v, want one report, no conflict", st)
	}
}

func testDuplicateAcrossBatches(t *testing.T, h *harness) {
	a := report("p1", "ra", "1")
	first := h.append(a)[0]
	h.clock.Advance(5e9)
	for i := range 3 {
		r := h.append(a)[0]
		if r.Outcome != store.Duplicate || r.Err != nil {
			t.Fatalf("retry %d: %v (%v), want duplicate", i, r.Outcome, r.Err)
		}
		checkEntry(t, "duplicate", r.Entry, first.Entry)
	}
	if n := h.size(); n != 1 {
		t.Errorf("Size = %d, want 1", n)
	}
	if st := h.state("p1"); st.Reports != 1 || st.Status != store.StatusAccepted {
		t.Errorf("state = %+v, want one accepted report", st)
	}
}

func testReportIDReused(t *testing.T, h *harness) {
	a := report("p1", "ra", "1")
	tampered := report("p1", "ra", "2")
	rs := h.append(a, tampered)
	r := rs[1]
	if r.Outcome != store.ReportIDReused || !errors.Is(r.Err, store.ErrReportIDReused) {
		t.Fatalf("same batch: %v (%v), want report_id_reused", r.Outcome, r.Err)
	}
	var re *store.ReportIDReusedError
	if !errors.As(r.Err, &re) || re.ReportID != "ra" || re.Original != 0 {
		t.Errorf("error %#v, want ReportIDReusedError{ra, 0}", r.Err)
	}
	checkEntry(t, "original", r.Entry, rs[0].Entry)
	r = h.append(tampered)[0]
	if r.Outcome != store.ReportIDReused || r.Entry.Index != 0 {
		t.Fatalf("next batch: %v at %d, want report_id_reused of 0", r.Outcome, r.Entry.Index)
	}
	if n := h.size(); n != 1 {
		t.Errorf("Size = %d, want 1: the reused id's body is not appended", n)
	}
	if es := h.entries(0, 1); !bytes.Equal(es[0].Body, a.Body) {
		t.Errorf("stored body %q, want the first %q", es[0].Body, a.Body)
	}
	var evidence int
	for _, ar := range h.audit() {
		if ar.Kind == store.AuditReportIDReused {
			evidence++
			if ar.PrecinctID != "p1" || !bytes.Contains(ar.Detail, []byte(`"report_id":"ra"`)) {
				t.Errorf("audit row %+v lacks the precinct or report id", ar)
			}
		}
	}
	if evidence != 2 {
		t.Errorf("%d report_id_reused audit rows, want 2", evidence)
	}
}

func testConflict(t *testing.T, h *harness) {
	first := h.append(report("p1", "r1", "1"))[0]
	r := h.append(report("p1", "r2", "2"))[0]
	if r.Outcome != store.Conflict || !errors.Is(r.Err, store.ErrConflict) {
		t.Fatalf("second report: %v (%v), want conflict", r.Outcome, r.Err)
	}
	var ce *store.ConflictError
	if !errors.As(r.Err, &ce) || ce.Index != 1 || ce.Counted != 0 || ce.PrecinctID != "p1" {
		t.Errorf("error %#v, want ConflictError{p1, 1, 0}", r.Err)
	}
	if r.Entry.Index != 1 || r.Entry.Status != store.StatusUnderReview {
		t.Errorf("conflicting entry at %d status %s, want 1 under_review", r.Entry.Index, r.Entry.Status)
	}
	st := h.state("p1")
	if st.Status != store.StatusUnderReview || st.Counted != 0 || !st.Conflict || st.Reports != 2 ||
		st.LastIndex != 1 {
		t.Errorf("state = %+v, want under_review, counted 0, conflict, 2 reports", st)
	}
	es := h.entries(0, 2)
	if len(es) != 2 || es[0].Status != store.StatusAccepted {
		t.Fatalf("entries %+v: both kept, the first still accepted", es)
	}
	checkEntry(t, "first", es[0], first.Entry)
	// A third report in the same batch as a fresh precinct's first: one appended, one conflict.
	rs := h.append(report("p2", "r3", "3"), report("p2", "r4", "4"), report("p1", "r5", "5"))
	if rs[0].Outcome != store.Appended || rs[1].Outcome != store.Conflict || rs[2].Outcome != store.Conflict {
		t.Errorf("outcomes %v %v %v, want appended conflict conflict", rs[0].Outcome, rs[1].Outcome, rs[2].Outcome)
	}
	states, size, err := h.s.PrecinctStates(h.ctx)
	if err != nil || size != 5 || len(states) != 2 {
		t.Fatalf("PrecinctStates = %d states, size %d, %v; want 2, 5", len(states), size, err)
	}
	if states[0].PrecinctID != "p1" || states[0].Reports != 3 || states[1].Counted != 2 || !states[1].Conflict {
		t.Errorf("states %+v", states)
	}
}

// withContent is a report entry whose Content digests its numbers, as a caller computes it.
func withContent(precinct, reportID, numbers string) store.NewEntry {
	e := report(precinct, reportID, numbers)
	e.Content = []byte("numbers:" + numbers)
	return e
}

// testSameContent: a report under a new report_id with the Content of the entry its precinct
// counts is SameContent: nothing stored, the counted entry returned, the state unchanged, one
// audit row; a different Content is a Conflict as before, and so is a report without Content.
func testSameContent(t *testing.T, h *harness) {
	first := h.append(withContent("p1", "r1", "1"))[0]
	if first.Outcome != store.Appended {
		t.Fatalf("first report: %v", first.Outcome)
	}
	before := h.state("p1")
	r := h.append(withContent("p1", "r2", "1"))[0]
	if r.Outcome != store.SameContent || r.Err != nil {
		t.Fatalf("the same numbers under r2: %v (%v), want same_content", r.Outcome, r.Err)
	}
	checkEntry(t, "same content", r.Entry, first.Entry)
	if n := h.size(); n != 1 {
		t.Errorf("log size %d, want 1: nothing stored for the same content", n)
	}
	if st := h.state("p1"); st != before {
		t.Errorf("state %+v after the same content, want it unchanged %+v", st, before)
	}
	if _, err := h.s.EntryByReportID(h.ctx, "r2"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("r2 is stored: %v", err)
	}
	// Asked again, r2 is the same content again: idempotent without being stored.
	if r := h.append(withContent("p1", "r2", "1"))[0]; r.Outcome != store.SameContent || r.Entry.Index != 0 {
		t.Errorf("r2 again: %v at %d, want same_content at 0", r.Outcome, r.Entry.Index)
	}
	a := h.audit()
	if len(a) != 3 || a[1].Kind != store.AuditReportDup || a[2].Kind != store.AuditReportDup {
		t.Errorf("audit %+v, want accepted then two report_duplicate rows", a)
	}
	// Other numbers, or no Content at all: a Conflict, kept for review.
	if r := h.append(withContent("p1", "r3", "2"))[0]; r.Outcome != store.Conflict {
		t.Errorf("other numbers: %v, want conflict", r.Outcome)
	}
	if r := h.append(report("p1", "r4", "1"))[0]; r.Outcome != store.Conflict {
		t.Errorf("no content: %v, want conflict", r.Outcome)
	}
	// The conflicting r3 is not counted: its numbers again are a conflict too, the counted
	// entry's numbers still the same content.
	rs := h.append(withContent("p1", "r5", "2"), withContent("p1", "r6", "1"))
	if rs[0].Outcome != store.Conflict || rs[1].Outcome != store.SameContent || rs[1].Entry.Index != 0 {
		t.Errorf("outcomes %v %v (at %d), want conflict, same_content at 0", rs[0].Outcome, rs[1].Outcome, rs[1].Entry.Index)
	}
	// A correction counts what it says; a report with the old counted numbers is then a conflict.
	h.append(store.NewEntry{Kind: store.KindCorrection, PrecinctID: "p1", Submitter: "staff",
		Channel: store.ChannelStaff, Body: []byte(`{"kind":"correction"}`)})
	if r := h.append(withContent("p1", "r7", "1"))[0]; r.Outcome != store.Conflict {
		t.Errorf("the first numbers after a correction: %v, want conflict", r.Outcome)
	}
	// Content is a report's, and bounded.
	bad := withContent("p2", "r8", "1")
	bad.Content = make([]byte, store.MaxContentBytes+1)
	if r := h.append(bad)[0]; r.Outcome != store.Invalid || !errors.Is(r.Err, store.ErrInvalid) {
		t.Errorf("content of %d bytes: %v, want invalid", len(bad.Content), r.Outcome)
	}
	// Reopened, the stored Content still decides.
	h.s.Close()
	h.s = h.reopen()
	if r := h.append(withContent("p1", "r9", "2"), withContent("p3", "r10", "1"))[1]; r.Outcome != store.Appended {
		t.Errorf("another precinct's numbers: %v, want appended", r.Outcome)
	}
}

// testSameContentSameBatch: the same numbers under two report_ids in one batch, and in batches
// racing from many goroutines, are one Appended and the rest SameContent: never a Conflict.
func testSameContentSameBatch(t *testing.T, h *harness) {
	rs := h.append(withContent("p1", "a", "7"), withContent("p1", "b", "7"), withContent("p1", "c", "8"))
	if rs[0].Outcome != store.Appended || rs[1].Outcome != store.SameContent || rs[1].Entry.Index != rs[0].Entry.Index ||
		rs[2].Outcome != store.Conflict {
		t.Errorf("outcomes %v %v %v, want appended, same_content (the first), conflict", rs[0].Outcome, rs[1].Outcome, rs[2].Outcome)
	}
	const precincts, copies = 20, 4
	var wg sync.WaitGroup
	outcomes := make([][]store.Outcome, precincts)
	for p := range precincts {
		outcomes[p] = make([]store.Outcome, copies)
		for c := range copies {
			wg.Go(func() {
				pid := fmt.Sprintf("q%d", p)
				r, err := h.s.Append(h.ctx, []store.NewEntry{withContent(pid, fmt.Sprintf("%s-%d", pid, c), "5")})
				if err != nil {
					t.Errorf("Append: %v", err)
					return
				}
				outcomes[p][c] = r[0].Outcome
			})
		}
	}
	wg.Wait()
	for p, os := range outcomes {
		appended, same := 0, 0
		for _, o := range os {
			switch o {
			case store.Appended:
				appended++
			case store.SameContent:
				same++
			}
		}
		if appended != 1 || same != copies-1 {
			t.Errorf("precinct q%d: outcomes %v, want one appended and %d same_content", p, os, copies-1)
		}
		if st := h.state(fmt.Sprintf("q%d", p)); st.Conflict || st.Status != store.StatusAccepted || st.Reports != 1 {
			t.Errorf("precinct q%d: state %+v, want accepted, one report, no conflict", p, st)
		}
	}
}

func testFlaggedReport(t *testing.T, h *harness) {
	e := report("p1", "r1", "1")
	e.Status = store.StatusUnderReview
	r := h.append(e)[0]
	if r.Outcome != store.Appended || r.Entry.Status != store.StatusUnderReview {
		t.Fatalf("%v %s, want appended under_review", r.Outcome, r.Entry.Status)
	}
	if st := h.state("p1"); st.Status != store.StatusUnderReview || st.Counted != 0 || st.Conflict {
		t.Errorf("state = %+v, want under_review counting 0 without conflict", st)
	}
	if a := h.audit(); len(a) != 1 || a[0].Kind != store.AuditReportFlagged {
		t.Errorf("audit %+v, want one report_flagged", a)
	}
}

func ptr(i int64) *int64 { return &i }

func testCorrectionAndReview(t *testing.T, h *harness) {
	h.append(report("p1", "r1", "1"), report("p1", "r2", "2"), report("p2", "r3", "3"))
	correction := store.NewEntry{Kind: store.KindCorrection, PrecinctID: "p1", Submitter: "alice",
		Channel: store.ChannelStaff, Body: []byte(`{"correction":"p1","reason":"typo"}`)}
	review := func(status store.Status, counts *int64) store.NewEntry {
		return store.NewEntry{Kind: store.KindReview, PrecinctID: "p1", Submitter: "bob",
			Channel: store.ChannelStaff, Status: status, Counts: counts,
			Body: fmt.Appendf(nil, `{"review":"p1","status":%q,"n":%d}`, status, h.size())}
	}
	steps := []struct {
		name     string
		e        store.NewEntry
		outcome  store.Outcome
		status   store.Status
		counted  int64
		conflict bool
	}{
		{"review picks the second report", review(store.StatusAccepted, ptr(1)), store.Appended, store.StatusAccepted, 1, false},
		{"review flags again", review(store.StatusUnderReview, nil), store.Appended, store.StatusUnderReview, 1, false},
		{"correction counts itself", correction, store.Appended, store.StatusCorrected, 5, false},
		{"review of another precinct's entry", review(store.StatusAccepted, ptr(2)), store.Invalid, store.StatusCorrected, 5, false},
		{"review of a review", review(store.StatusAccepted, ptr(3)), store.Invalid, store.StatusCorrected, 5, false},
		{"review of a missing entry", review(store.StatusAccepted, ptr(99)), store.Invalid, store.StatusCorrected, 5, false},
		{"certify", review(store.StatusCertified, nil), store.Appended, store.StatusCertified, 5, false},
		{"late report after certification", report("p1", "r9", "9"), store.Conflict, store.StatusUnderReview, 5, true},
	}
	for _, s := range steps {
		r := h.append(s.e)[0]
		if r.Outcome != s.outcome {
			t.Fatalf("%s: outcome %v (%v), want %v", s.name, r.Outcome, r.Err, s.outcome)
		}
		if s.outcome == store.Invalid && !errors.Is(r.Err, store.ErrInvalid) {
			t.Errorf("%s: err %v, want ErrInvalid", s.name, r.Err)
		}
		st := h.state("p1")
		if st.Status != s.status || st.Counted != s.counted || st.Conflict != s.conflict {
			t.Errorf("%s: state %+v, want %s counting %d conflict %v", s.name, st, s.status, s.counted, s.conflict)
		}
	}
	// A review of a precinct with nothing counted is refused.
	r := h.append(store.NewEntry{Kind: store.KindReview, PrecinctID: "p9", Submitter: "bob",
		Channel: store.ChannelStaff, Status: store.StatusCertified, Body: []byte("{}")})[0]
	if r.Outcome != store.Invalid {
		t.Errorf("review of an empty precinct: %v, want invalid", r.Outcome)
	}
	if es := h.entries(0, 100); es[3].Kind != store.KindReview || es[3].Counts != 1 || es[4].Counts != store.NoIndex {
		t.Errorf("review entries do not keep what they counted: %+v", es[3:5])
	}
}

func testInvalidEntries(t *testing.T, h *harness) {
	noID := report("p1", "", "1")
	badKind := report("p1", "rk", "1")
	badKind.Kind = "recount"
	noBody := report("p1", "rb", "1")
	noBody.Body = nil
	badChannel := report("p1", "rc", "1")
	badChannel.Channel = "fax"
	badStatus := report("p1", "rs", "1")
	badStatus.Status = store.StatusCertified
	countsOnReport := report("p1", "rx", "1")
	countsOnReport.Counts = ptr(0)
	good := report("p1", "rg", "1")
	rs := h.append(noID, good, badKind, noBody, badChannel, badStatus, countsOnReport, report("p2", "rh", "2"))
	for i, r := range rs {
		want := store.Invalid
		if i == 1 || i == 7 {
			want = store.Appended
		}
		if r.Outcome != want {
			t.Errorf("entry %d: %v (%v), want %v", i, r.Outcome, r.Err, want)
		}
		if want == store.Invalid && !errors.Is(r.Err, store.ErrInvalid) {
			t.Errorf("entry %d: err %v, want ErrInvalid", i, r.Err)
		}
	}
	if rs[1].Entry.Index != 0 || rs[7].Entry.Index != 1 || h.size() != 2 {
		t.Errorf("valid entries at %d and %d of %d, want 0 and 1 of 2", rs[1].Entry.Index, rs[7].Entry.Index, h.size())
	}
	if n := len(h.audit()); n != len(rs) {
		t.Errorf("%d audit rows, want one per entry (%d)", n, len(rs))
	}
}

// testConcurrentAppend runs many goroutines appending batches, each report submitted by two
// goroutines (a retry racing the original), and checks nothing is lost or doubled.
func testConcurrentAppend(t *testing.T, h *harness) {
	const workers, batches, per = 16, 12, 4
	type ack struct {
		id    string
		index int64
		hash  [32]byte
	}
	acks := make([][]ack, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for b := range batches {
				var batch []store.NewEntry
				for i := range per {
					// Worker w and worker w^1 submit the same reports (pairs share ids).
					id := fmt.Sprintf("r-%d-%d-%d", w/2, b, i)
					batch = append(batch, report("p-"+id, id, "n"))
				}
				rs, err := h.s.Append(h.ctx, batch)
				if err != nil {
					t.Errorf("worker %d: Append: %v", w, err)
					return
				}
				for i, r := range rs {
					if r.Outcome != store.Appended && r.Outcome != store.Duplicate {
						t.Errorf("worker %d: %s: %v (%v)", w, batch[i].ReportID, r.Outcome, r.Err)
					}
					acks[w] = append(acks[w], ack{batch[i].ReportID, r.Entry.Index, r.Entry.LeafHash})
				}
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	const unique = workers / 2 * batches * per
	if n := h.size(); n != unique {
		t.Fatalf("Size = %d, want %d (no lost, no doubled)", n, unique)
	}
	byID := map[string]store.Entry{}
	for i, e := range h.entries(0, unique) {
		if e.Index != int64(i) {
			t.Fatalf("entry %d has index %d", i, e.Index)
		}
		if _, dup := byID[e.ReportID]; dup {
			t.Fatalf("report %s stored twice", e.ReportID)
		}
		byID[e.ReportID] = e
	}
	for w, as := range acks {
		for _, a := range as {
			e, ok := byID[a.id]
			if !ok || e.Index != a.index || e.LeafHash != a.hash {
				t.Errorf("worker %d: ack of %s at %d does not match the log", w, a.id, a.index)
			}
		}
	}
}
