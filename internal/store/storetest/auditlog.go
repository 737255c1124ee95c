package storetest

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"caucus/internal/store"
)

// rlaEntry is an entry of a risk-limiting audit: no precinct, no status.
func rlaEntry(reportID, step string) store.NewEntry {
	return store.NewEntry{Kind: store.KindAudit, ReportID: reportID, Submitter: "ann",
		Channel: store.ChannelStaff, Body: []byte(`{"kind":"audit","step":"` + step + `"}`)}
}

// testAuditEntries: an audit entry takes the next index among reports in the same batch,
// belongs to no precinct and changes no precinct's state, has its AuditRLAEntry row in order
// with theirs, is idempotent by report ID like any entry, and cannot be counted by a review.
func testAuditEntries(t *testing.T, h *harness) {
	start := rlaEntry("a1", "start")
	withPrecinct, withStatus := rlaEntry("", "bad"), rlaEntry("", "bad")
	withPrecinct.PrecinctID, withStatus.Status = "p1", store.StatusAccepted
	rs := h.append(report("p1", "r1", "1"), start, report("p1", "r2", "2"), withPrecinct, withStatus,
		report("p2", "r3", "3"), start)
	wantOutcomes := []store.Outcome{store.Appended, store.Appended, store.Conflict, store.Invalid,
		store.Invalid, store.Appended, store.Duplicate}
	for i, r := range rs {
		if r.Outcome != wantOutcomes[i] {
			t.Errorf("entry %d: outcome %v (%v), want %v", i, r.Outcome, r.Err, wantOutcomes[i])
		}
	}
	for i, want := range []int64{0, 1, 2, -1, -1, 3, 1} {
		if want >= 0 && rs[i].Entry.Index != want {
			t.Errorf("entry %d: index %d, want %d", i, rs[i].Entry.Index, want)
		}
	}
	want := store.Entry{Index: 1, Kind: store.KindAudit, ReportID: "a1", Submitter: "ann",
		Channel: store.ChannelStaff, ReceivedAt: h.clock.Now(), Body: start.Body,
		LeafHash: store.LeafHash(start.Body), Counts: store.NoIndex}
	checkEntry(t, "result", rs[1].Entry, want)
	checkEntry(t, "duplicate's result", rs[6].Entry, want)

	h.clock.Advance(time.Second)
	sample := rlaEntry("", "sample")
	rs = h.append(start, sample, report("p1", "r4", "4"))
	if rs[0].Outcome != store.Duplicate || rs[0].Entry.Index != 1 {
		t.Errorf("audit entry again: %v at %d, want duplicate of 1", rs[0].Outcome, rs[0].Entry.Index)
	}
	if rs[1].Outcome != store.Appended || rs[1].Entry.Index != 4 || rs[2].Entry.Index != 5 {
		t.Errorf("audit entry then report: %+v", rs)
	}
	rev := store.NewEntry{Kind: store.KindReview, PrecinctID: "p1", Submitter: "rita", Channel: store.ChannelStaff,
		Body: []byte(`{"review":1}`), Status: store.StatusAccepted, Counts: ptr(1)}
	if r := h.append(rev)[0]; r.Outcome != store.Invalid || !errors.Is(r.Err, store.ErrInvalid) {
		t.Errorf("a review counting an audit entry: %v (%v), want invalid", r.Outcome, r.Err)
	}

	h.s = h.reopen()
	if n := h.size(); n != 6 {
		t.Errorf("Size = %d, want 6", n)
	}
	es := h.entries(0, 6)
	if len(es) != 6 {
		t.Fatalf("Entries(0, 6) returned %d entries", len(es))
	}
	checkEntry(t, "Entries", es[1], want)
	if es[4].Kind != store.KindAudit || es[4].PrecinctID != "" || es[4].Status != "" || es[4].ReportID != "" {
		t.Errorf("audit entry without report ID: %+v", es[4])
	}
	if got, err := h.s.EntryByReportID(h.ctx, "a1"); err != nil || got.Index != 1 {
		t.Errorf("EntryByReportID(a1) = %+v, %v", got, err)
	}
	if got, err := h.s.PrecinctEntries(h.ctx, ""); err != nil || len(got) != 2 || got[0].Index != 1 || got[1].Index != 4 {
		t.Errorf("PrecinctEntries(\"\") = %+v, %v; want the audit entries 1 and 4", got, err)
	}
	if got, err := h.s.PrecinctEntries(h.ctx, "p1"); err != nil || len(got) != 3 {
		t.Errorf("PrecinctEntries(p1) = %d entries, %v; want 3", len(got), err)
	}
	if st := h.state("p1"); st.Counted != 0 || st.Reports != 3 || !st.Conflict || st.LastIndex != 5 {
		t.Errorf("p1's state = %+v, want counted 0, 3 reports, conflict, last 5", st)
	}
	if st := h.state("p2"); st.Counted != 3 || st.Reports != 1 || st.LastIndex != 3 {
		t.Errorf("p2's state = %+v, want counted 3, 1 report, last 3", st)
	}
	if _, err := h.s.PrecinctState(h.ctx, ""); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("PrecinctState(\"\") = %v, want ErrNotFound", err)
	}
	states, size, err := h.s.PrecinctStates(h.ctx)
	if err != nil || size != 6 || len(states) != 2 {
		t.Errorf("PrecinctStates = %+v, %d, %v; want p1 and p2 at size 6", states, size, err)
	}

	kinds := []store.AuditKind{store.AuditReportAccepted, store.AuditRLAEntry, store.AuditReportConflict,
		store.AuditEntryInvalid, store.AuditEntryInvalid, store.AuditReportAccepted, store.AuditReportDup,
		store.AuditReportDup, store.AuditRLAEntry, store.AuditReportConflict, store.AuditEntryInvalid}
	audit := h.audit()
	if len(audit) != len(kinds) {
		t.Fatalf("%d audit rows, want %d: %+v", len(audit), len(kinds), audit)
	}
	for i, a := range audit {
		if a.Kind != kinds[i] || a.ID != int64(i+1) {
			t.Errorf("audit %d: %s (id %d), want %s (id %d)", i, a.Kind, a.ID, kinds[i], i+1)
		}
	}
	for _, i := range []int{1, 8} {
		a := audit[i]
		var detail map[string]any
		if err := json.Unmarshal(a.Detail, &detail); err != nil {
			t.Fatalf("audit %d detail %s: %v", i, a.Detail, err)
		}
		if a.Actor != "ann" || a.PrecinctID != "" || detail["kind"] != "audit" || detail["status"] != "" ||
			detail["log_index"] != float64([]int{1, 4}[i/8]) {
			t.Errorf("audit entry's row %d: %+v", i, a)
		}
	}
}

// testHandCopies: hand-count copies are kept as keyed, each with its own ID in order and the
// store's time, read back per precinct in ID order; a copy without precinct or operator, or
// whose counts are not a JSON object, is refused.
func testHandCopies(t *testing.T, h *harness) {
	copies := []store.HandCopy{
		{PrecinctID: "p1", Operator: "otto", Counts: []byte(`{"first":{"b":2,"a":1}, "final":{}}`)},
		{PrecinctID: "p2", Operator: "otto", Counts: []byte(`{"first":{"a":1}}`)},
		// escapes valid in JSON that a stricter reading (PostgreSQL's jsonb) would refuse
		{PrecinctID: "p1", Operator: "olga", Counts: []byte(`{"note":"\u0000 \ud800"}`)},
	}
	for i, c := range copies {
		got, err := h.s.AddHandCopy(h.ctx, c)
		c.ID, c.At = int64(i+1), h.clock.Now()
		if err != nil || got.ID != c.ID || !got.At.Equal(c.At) || string(got.Counts) != string(c.Counts) ||
			got.PrecinctID != c.PrecinctID || got.Operator != c.Operator {
			t.Fatalf("AddHandCopy %d = %+v, %v; want %+v", i, got, err, c)
		}
		copies[i] = c
		h.clock.Advance(time.Second)
	}
	for name, c := range map[string]store.HandCopy{
		"no precinct":  {Operator: "otto", Counts: []byte(`{}`)},
		"no operator":  {PrecinctID: "p1", Counts: []byte(`{}`)},
		"array counts": {PrecinctID: "p1", Operator: "otto", Counts: []byte(`[1]`)},
		"null counts":  {PrecinctID: "p1", Operator: "otto", Counts: []byte(`null`)},
		"bad JSON":     {PrecinctID: "p1", Operator: "otto", Counts: []byte(`{"a":`)},
		"no counts":    {PrecinctID: "p1", Operator: "otto"},
	} {
		if _, err := h.s.AddHandCopy(h.ctx, c); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("AddHandCopy(%s) = %v, want ErrInvalid", name, err)
		}
	}
	h.s = h.reopen()
	check := func(precinct string, want ...store.HandCopy) {
		t.Helper()
		got, err := h.s.HandCopies(h.ctx, precinct)
		if err != nil || len(got) != len(want) {
			t.Fatalf("HandCopies(%s) = %+v, %v; want %d copies", precinct, got, err, len(want))
		}
		for i := range want {
			g, w := got[i], want[i]
			if g.ID != w.ID || g.PrecinctID != w.PrecinctID || g.Operator != w.Operator || !g.At.Equal(w.At) ||
				string(g.Counts) != string(w.Counts) {
				t.Errorf("HandCopies(%s)[%d] = %+v, want %+v", precinct, i, g, w)
			}
		}
	}
	check("p1", copies[0], copies[2])
	check("p2", copies[1])
	check("p3")
	if c, err := h.s.AddHandCopy(h.ctx, store.HandCopy{PrecinctID: "p2", Operator: "olga", Counts: []byte(`{}`)}); err != nil || c.ID != 4 {
		t.Errorf("AddHandCopy after reopen = %+v, %v; want ID 4", c, err)
	}
	if err := h.s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := h.s.AddHandCopy(h.ctx, copies[0]); !errors.Is(err, store.ErrClosed) {
		t.Errorf("AddHandCopy after Close = %v, want ErrClosed", err)
	}
	if _, err := h.s.HandCopies(h.ctx, "p1"); !errors.Is(err, store.ErrClosed) {
		t.Errorf("HandCopies after Close = %v, want ErrClosed", err)
	}
}
