package storetest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"caucus/internal/store"
)

func testReopen(t *testing.T, h *harness) {
	rs := h.append(report("p1", "r1", "1"), report("p1", "r2", "2"), report("p2", "r3", "3"))
	if _, err := h.s.InitSettings(h.ctx, "iowa-2020"); err != nil {
		t.Fatal(err)
	}
	if err := h.s.CreateValue(h.ctx, "log-key", []byte("key")); err != nil {
		t.Fatal(err)
	}
	statesBefore, _, err := h.s.PrecinctStates(h.ctx)
	if err != nil {
		t.Fatal(err)
	}
	auditBefore := h.audit()
	if err := h.s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	h.s = h.reopen()
	if n := h.size(); n != 3 {
		t.Fatalf("Size after reopen = %d, want 3", n)
	}
	for i, e := range h.entries(0, 3) {
		checkEntry(t, "after reopen", e, rs[i].Entry)
	}
	statesAfter, _, err := h.s.PrecinctStates(h.ctx)
	if err != nil || fmt.Sprint(statesAfter) != fmt.Sprint(statesBefore) {
		t.Errorf("precinct states after reopen\n%+v\nwant\n%+v (%v)", statesAfter, statesBefore, err)
	}
	if a := h.audit(); len(a) != len(auditBefore) {
		t.Errorf("%d audit rows after reopen, want %d", len(a), len(auditBefore))
	}
	if s, err := h.s.Settings(h.ctx); err != nil || s.ElectionID != "iowa-2020" {
		t.Errorf("Settings = %+v, %v", s, err)
	}
	if v, err := h.s.Value(h.ctx, "log-key"); err != nil || string(v) != "key" {
		t.Errorf("Value = %q, %v", v, err)
	}
	// The log goes on where it stopped.
	if r := h.append(report("p3", "r4", "4"))[0]; r.Entry.Index != 3 {
		t.Errorf("first index after reopen = %d, want 3", r.Entry.Index)
	}
	if r := h.append(report("p1", "r1", "1"))[0]; r.Outcome != store.Duplicate || r.Entry.Index != 0 {
		t.Errorf("retry after reopen: %v at %d, want duplicate of 0", r.Outcome, r.Entry.Index)
	}
}

func testClosed(t *testing.T, h *harness) {
	if err := h.s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := h.s.Close(); err != nil {
		t.Errorf("second Close = %v, want nil", err)
	}
	checks := map[string]error{}
	_, checks["Append"] = h.s.Append(h.ctx, []store.NewEntry{report("p1", "r1", "1")})
	_, checks["Size"] = h.s.Size(h.ctx)
	_, checks["Entries"] = h.s.Entries(h.ctx, 0, 1)
	_, checks["PrecinctState"] = h.s.PrecinctState(h.ctx, "p1")
	_, checks["Settings"] = h.s.Settings(h.ctx)
	checks["CreateValue"] = h.s.CreateValue(h.ctx, "k", nil)
	for name, err := range checks {
		if !errors.Is(err, store.ErrClosed) {
			t.Errorf("%s after Close = %v, want ErrClosed", name, err)
		}
	}
}

func testAuditWithAppend(t *testing.T, h *harness) {
	flagged := report("p3", "r4", "4")
	flagged.Status = store.StatusUnderReview
	h.append(report("p1", "r1", "1"))
	h.append(report("p1", "r1", "1"), report("p1", "r1", "x"), report("p1", "r2", "2"), flagged,
		store.NewEntry{Kind: store.KindCorrection, PrecinctID: "p1", Submitter: "alice",
			Channel: store.ChannelStaff, Body: []byte(`{"c":1}`)},
		report("", "r5", "5"))
	want := []store.AuditKind{store.AuditReportAccepted, store.AuditReportDup, store.AuditReportIDReused,
		store.AuditReportConflict, store.AuditReportFlagged, store.AuditCorrection, store.AuditEntryInvalid}
	got := h.audit()
	if len(got) != len(want) {
		t.Fatalf("%d audit rows, want %d: %+v", len(got), len(want), got)
	}
	for i, a := range got {
		if a.Kind != want[i] || a.ID != int64(i+1) || !a.At.Equal(h.clock.Now()) {
			t.Errorf("audit %d: %+v, want kind %s, id %d", i, a, want[i], i+1)
		}
		var obj map[string]any
		if err := json.Unmarshal(a.Detail, &obj); err != nil {
			t.Errorf("audit %d detail %s: %v", i, a.Detail, err)
		}
	}
	if got[0].Actor != "p1" || got[0].PrecinctID != "p1" || got[5].Actor != "alice" || got[6].PrecinctID != "" {
		t.Errorf("actors/precincts: %+v", got)
	}
	if !bytes.Contains(got[3].Detail, []byte(`"log_index":1`)) {
		t.Errorf("conflict audit %s does not name the entry's index", got[3].Detail)
	}
}

func testAddAudit(t *testing.T, h *harness) {
	for i := range 5 {
		a, err := h.s.AddAudit(h.ctx, store.NewAudit{Actor: "addr:192.0.2.7", Kind: store.AuditLoginFailed,
			PrecinctID: "p1", Detail: json.RawMessage(fmt.Sprintf(`{"attempt":%d}`, i))})
		if err != nil || a.ID != int64(i+1) || !a.At.Equal(h.clock.Now()) {
			t.Fatalf("AddAudit %d = %+v, %v", i, a, err)
		}
	}
	if a, err := h.s.AddAudit(h.ctx, store.NewAudit{Actor: "system", Kind: store.AuditElectionInit}); err != nil ||
		string(a.Detail) != "{}" {
		t.Errorf("AddAudit(no detail) = %+v, %v", a, err)
	}
	page1, err := h.s.Audit(h.ctx, 0, 4)
	if err != nil || len(page1) != 4 {
		t.Fatalf("Audit(0, 4) = %d rows, %v", len(page1), err)
	}
	page2, err := h.s.Audit(h.ctx, page1[3].ID, 4)
	if err != nil || len(page2) != 2 || page2[0].ID != 5 {
		t.Fatalf("Audit(4, 4) = %+v, %v", page2, err)
	}
	if page1[2].PrecinctID != "p1" || string(page1[2].Detail) != `{"attempt":2}` {
		t.Errorf("row 3 = %+v", page1[2])
	}
	for name, a := range map[string]store.NewAudit{
		"unknown kind": {Actor: "x", Kind: "coffee_break"},
		"no actor":     {Kind: store.AuditLogout},
		"array detail": {Actor: "x", Kind: store.AuditLogout, Detail: json.RawMessage(`[1]`)},
		"bad json":     {Actor: "x", Kind: store.AuditLogout, Detail: json.RawMessage(`{`)},
	} {
		if _, err := h.s.AddAudit(h.ctx, a); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("AddAudit(%s) = %v, want ErrInvalid", name, err)
		}
	}
	if _, err := h.s.Audit(h.ctx, 0, 0); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("Audit(limit 0) = %v, want ErrInvalid", err)
	}
}

func testSettings(t *testing.T, h *harness) {
	if _, err := h.s.Settings(h.ctx); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Settings before init = %v, want ErrNotFound", err)
	}
	s, err := h.s.InitSettings(h.ctx, "iowa-2020")
	if err != nil || s.ElectionID != "iowa-2020" || !s.CreatedAt.Equal(h.clock.Now()) {
		t.Fatalf("InitSettings = %+v, %v", s, err)
	}
	h.clock.Advance(time.Hour)
	if again, err := h.s.InitSettings(h.ctx, "iowa-2020"); err != nil || !again.CreatedAt.Equal(s.CreatedAt) {
		t.Errorf("InitSettings again = %+v, %v; want the stored row", again, err)
	}
	other, err := h.s.InitSettings(h.ctx, "practice")
	if !errors.Is(err, store.ErrConflict) || other.ElectionID != "iowa-2020" {
		t.Errorf("InitSettings(other) = %+v, %v; want ErrConflict and the stored row", other, err)
	}
	if got, err := h.s.Settings(h.ctx); err != nil || got != s {
		t.Errorf("Settings = %+v, %v; want %+v", got, err, s)
	}
}

func testValues(t *testing.T, h *harness) {
	if _, err := h.s.Value(h.ctx, "checkpoint"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Value(missing) = %v, want ErrNotFound", err)
	}
	if err := h.s.SwapValue(h.ctx, "checkpoint", nil, []byte("a")); !errors.Is(err, store.ErrConflict) {
		t.Errorf("SwapValue(missing) = %v, want ErrConflict", err)
	}
	if err := h.s.CreateValue(h.ctx, "checkpoint", []byte("size 0")); err != nil {
		t.Fatal(err)
	}
	if err := h.s.CreateValue(h.ctx, "checkpoint", []byte("other")); !errors.Is(err, store.ErrExists) {
		t.Errorf("CreateValue(existing) = %v, want ErrExists", err)
	}
	if err := h.s.SwapValue(h.ctx, "checkpoint", []byte("size 0"), []byte("size 5")); err != nil {
		t.Fatalf("SwapValue: %v", err)
	}
	if err := h.s.SwapValue(h.ctx, "checkpoint", []byte("size 0"), []byte("size 3")); !errors.Is(err, store.ErrConflict) {
		t.Errorf("SwapValue(stale old) = %v, want ErrConflict", err)
	}
	if v, err := h.s.Value(h.ctx, "checkpoint"); err != nil || string(v) != "size 5" {
		t.Errorf("Value = %q, %v; want size 5", v, err)
	}
	if err := h.s.CreateValue(h.ctx, "empty", nil); err != nil {
		t.Fatal(err)
	}
	if v, err := h.s.Value(h.ctx, "empty"); err != nil || v == nil || len(v) != 0 {
		t.Errorf("Value(empty) = %#v, %v; want empty, non-nil", v, err)
	}
}
