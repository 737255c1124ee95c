// Package storetest holds the conformance suites of the store's consumers' interfaces, written
// only against those interfaces so that every implementation passes the same tests (x/mod
// sumdb/storage/test.go): Run for the night's log (audit entries too), state, audit, values and
// hand-count copies (store.Store), RunAuth
// for package auth's Store. An implementation's own test calls each with a function that opens a
// real database.
package storetest

import (
	"context"
	"sync"
	"testing"
	"time"

	"caucus/internal/store"
)

// Opener opens the database called name with now as its clock. Opening a name for the first time
// gives an empty database; opening it again (after Close) gives the same data back. The suite
// closes what it opens; an Opener may register its own cleanup too (Close is idempotent).
type Opener func(t *testing.T, name string, now func() time.Time) store.Store

// Clock is a fake clock that moves only when told.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// Night is the clock's start: 7 pm on Iowa's 2020 caucus night.
var Night = time.Date(2020, 2, 3, 19, 0, 0, 0, time.FixedZone("CST", -6*3600))

// NewClock returns a Clock at Night.
func NewClock() *Clock { return &Clock{now: Night} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// Run runs every conformance test as a subtest of t.
func Run(t *testing.T, open Opener) {
	tests := []struct {
		name string
		f    func(t *testing.T, h *harness)
	}{
		{"AppendReadBack", testAppendReadBack},
		{"DenseIndices", testDenseIndices},
		{"DuplicateSameBatch", testDuplicateSameBatch},
		{"DuplicateAcrossBatches", testDuplicateAcrossBatches},
		{"ReportIDReused", testReportIDReused},
		{"Conflict", testConflict},
		{"SameContent", testSameContent},
		{"SameContentSameBatch", testSameContentSameBatch},
		{"FlaggedReport", testFlaggedReport},
		{"CorrectionAndReview", testCorrectionAndReview},
		{"Certification", testCertification},
		{"InvalidEntries", testInvalidEntries},
		{"ConcurrentAppend", testConcurrentAppend},
		{"Reopen", testReopen},
		{"Closed", testClosed},
		{"AuditWithAppend", testAuditWithAppend},
		{"AddAudit", testAddAudit},
		{"Settings", testSettings},
		{"Values", testValues},
		{"Callbacks", testCallbacks},
		{"Photos", testPhotos},
		{"CallbackQuota", testCallbackQuota},
		{"PhotoQuota", testPhotoQuota},
		{"AuditEntries", testAuditEntries},
		{"HandCopies", testHandCopies},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := &harness{t: t, open: open, name: tt.name, clock: NewClock(), ctx: t.Context()}
			h.s = h.reopen()
			tt.f(t, h)
		})
	}
}

// harness is one subtest's store, clock and helpers.
type harness struct {
	t     *testing.T
	open  Opener
	name  string
	clock *Clock
	ctx   context.Context
	s     store.Store
}

// reopen opens the subtest's database (again) and schedules its Close.
func (h *harness) reopen() store.Store {
	h.t.Helper()
	s := h.open(h.t, h.name, h.clock.Now)
	h.t.Cleanup(func() {
		if err := s.Close(); err != nil {
			h.t.Errorf("Close: %v", err)
		}
	})
	return s
}

// append appends a batch and fails the test on a batch error or a result count mismatch.
func (h *harness) append(batch ...store.NewEntry) []store.AppendResult {
	h.t.Helper()
	rs, err := h.s.Append(h.ctx, batch)
	if err != nil {
		h.t.Fatalf("Append: %v", err)
	}
	if len(rs) != len(batch) {
		h.t.Fatalf("Append returned %d results for %d entries", len(rs), len(batch))
	}
	return rs
}

func (h *harness) size() int64 {
	h.t.Helper()
	n, err := h.s.Size(h.ctx)
	if err != nil {
		h.t.Fatalf("Size: %v", err)
	}
	return n
}

func (h *harness) entries(from, to int64) []store.Entry {
	h.t.Helper()
	es, err := h.s.Entries(h.ctx, from, to)
	if err != nil {
		h.t.Fatalf("Entries(%d, %d): %v", from, to, err)
	}
	return es
}

func (h *harness) state(precinct string) store.PrecinctState {
	h.t.Helper()
	st, err := h.s.PrecinctState(h.ctx, precinct)
	if err != nil {
		h.t.Fatalf("PrecinctState(%q): %v", precinct, err)
	}
	return st
}

// audit returns every audit row.
func (h *harness) audit() []store.AuditRecord {
	h.t.Helper()
	rs, err := h.s.Audit(h.ctx, 0, 1_000_000)
	if err != nil {
		h.t.Fatalf("Audit: %v", err)
	}
	return rs
}

// report is a report entry whose body is a small canonical-looking JSON with the given numbers.
func report(precinct, reportID, numbers string) store.NewEntry {
	return store.NewEntry{
		Kind:       store.KindReport,
		PrecinctID: precinct,
		ReportID:   reportID,
		Submitter:  precinct,
		Channel:    store.ChannelApp,
		Body: []byte(`{"report_id":"` + reportID + `","precinct_id":"` + precinct +
			`","numbers":"` + numbers + `"}`),
		Status: store.StatusAccepted,
	}
}
