package storetest

import (
	"errors"
	"testing"

	"caucus/internal/store"
)

// testCertification: a certification (its PrecinctID the scope it certifies) and its withdrawal
// are stored at the next indices with their own status, an audit row each, and change no
// precinct's state; a certification with another status is invalid, and no other kind may take
// the withdrawn status.
func testCertification(t *testing.T, h *harness) {
	h.append(report("p1", "r1", "1"))
	cert := func(scope string, status store.Status) store.NewEntry {
		return store.NewEntry{Kind: store.KindCertification, PrecinctID: scope, Submitter: "cora",
			Channel: store.ChannelStaff, Status: status, Body: []byte(`{"certify":"` + scope + `","status":"` + string(status) + `"}`)}
	}
	rs := h.append(cert("county:c1", store.StatusCertified), cert("county:c1", store.StatusWithdrawn),
		cert("state", store.StatusAccepted),
		store.NewEntry{Kind: store.KindReview, PrecinctID: "p1", Submitter: "bob", Channel: store.ChannelStaff,
			Status: store.StatusWithdrawn, Body: []byte(`{"review":"withdrawn"}`)})
	want := []store.Outcome{store.Appended, store.Appended, store.Invalid, store.Invalid}
	for i, r := range rs {
		if r.Outcome != want[i] {
			t.Errorf("entry %d: %v (%v), want %v", i, r.Outcome, r.Err, want[i])
		}
	}
	if e := rs[0].Entry; e.Index != 1 || e.Kind != store.KindCertification || e.Status != store.StatusCertified || e.PrecinctID != "county:c1" {
		t.Errorf("certification stored as %+v", e)
	}
	if e := rs[1].Entry; e.Index != 2 || e.Status != store.StatusWithdrawn {
		t.Errorf("withdrawal stored as %+v", e)
	}
	if st := h.state("p1"); st.LastIndex != 0 || st.Status != store.StatusAccepted {
		t.Errorf("p1 after the certifications: %+v", st)
	}
	if _, err := h.s.PrecinctState(h.ctx, "county:c1"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a scope's state: %v, want ErrNotFound", err)
	}
	states, size, err := h.s.PrecinctStates(h.ctx)
	if err != nil || size != 3 || len(states) != 1 {
		t.Errorf("precinct states %+v at size %d, %v: want p1's alone", states, size, err)
	}
	es, err := h.s.PrecinctEntries(h.ctx, "county:c1")
	if err != nil || len(es) != 2 || es[0].Index != 1 || es[1].Index != 2 {
		t.Errorf("the scope's entries: %+v, %v", es, err)
	}
	rows, err := h.s.Audit(h.ctx, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, a := range rows {
		if a.Kind == store.AuditCertification {
			n++
		}
	}
	if n != 2 {
		t.Errorf("%d certification audit rows, want 2", n)
	}
}
