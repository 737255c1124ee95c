package night_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"caucus/internal/intake"
	"caucus/internal/night"
	"caucus/internal/review"
	"caucus/internal/store"
)

// queueIDs is the precincts of the review queue, and the reasons of each.
func (tn *testNight) queue() map[string][]review.Reason {
	tn.t.Helper()
	items, err := tn.night.ReviewQueue(context.Background())
	if err != nil {
		tn.t.Fatal(err)
	}
	out := map[string][]review.Reason{}
	for _, it := range items {
		out[it.PrecinctID] = it.Reasons
	}
	return out
}

// TestReviewQueue: a conflict enters the queue with both reports; the decision accepting the
// second takes it out; a later report puts it back; a flag by a reviewer keeps it in.
func TestReviewQueue(t *testing.T) {
	tn := startNight(t)
	ctx := context.Background()
	if q := tn.queue(); len(q) != 0 {
		t.Fatalf("queue before any report: %v", q)
	}
	a := tn.submit(tn.validReport("p0001", "a", 0), intake.Stored).Receipt.LogIndex
	b := tn.submit(tn.validReport("p0001", "b", 5), intake.Conflict).Receipt.LogIndex
	if q := tn.queue(); !slices.Equal(q["p0001"], []review.Reason{review.Conflict}) || len(q) != 1 {
		t.Fatalf("queue after a conflict: %v", q)
	}
	it, ok, err := tn.night.ReviewItem(ctx, "p0001")
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	if len(it.Entries) != 2 || it.Entries[0].LogIndex != a || !it.Entries[0].Counted || it.Entries[1].LogIndex != b ||
		it.Entries[1].Counted || it.Entries[1].Math.Attendees == nil || len(it.History) != 2 || it.LastIndex != b {
		t.Fatalf("item: %+v", it)
	}
	e, err := tn.night.Decide(ctx, night.Decision{PrecinctID: "p0001", Author: "rita", Reason: "the chair confirmed the second count",
		Status: store.StatusAccepted, Counts: &b, LastIndex: &b})
	if err != nil {
		t.Fatal(err)
	}
	if q := tn.queue(); len(q) != 0 {
		t.Fatalf("queue after the decision: %v", q)
	}
	it, _, _ = tn.night.ReviewItem(ctx, "p0001")
	if !it.Entries[1].Counted || it.Entries[0].Counted || len(it.History) != 3 || it.History[2].Kind != store.KindReview ||
		*it.History[2].Counts != b || it.History[2].Submitter != "rita" {
		t.Fatalf("item after the decision: %+v", it)
	}
	// A third report: a new conflict, in the queue again.
	tn.submit(tn.validReport("p0001", "c", 11), intake.Conflict)
	if q := tn.queue(); !slices.Equal(q["p0001"], []review.Reason{review.Conflict}) {
		t.Fatalf("queue after a later report: %v", q)
	}
	// A stale decision (it names the decision as the latest entry) is refused.
	last := e.Index
	if _, err := tn.night.Decide(ctx, night.Decision{PrecinctID: "p0001", Author: "rita", Reason: "r", Status: store.StatusAccepted,
		Counts: &b, LastIndex: &last}); !errors.Is(err, night.ErrStale) {
		t.Fatalf("stale decision: %v", err)
	}
	// Accepting a review entry is refused, naming it.
	var re *night.RefusedError
	if _, err := tn.night.Decide(ctx, night.Decision{PrecinctID: "p0001", Author: "rita", Reason: "r", Status: store.StatusAccepted,
		Counts: &last}); !errors.As(err, &re) || re.Message == "" {
		t.Fatalf("accepting a review: %v", err)
	}
	// A reviewer's flag keeps the precinct in the queue.
	if _, err := tn.night.Decide(ctx, night.Decision{PrecinctID: "p0001", Author: "rita", Reason: "calling the chair back",
		Status: store.StatusUnderReview}); err != nil {
		t.Fatal(err)
	}
	if q := tn.queue(); !slices.Equal(q["p0001"], []review.Reason{review.Conflict, review.Flagged}) {
		t.Fatalf("queue after a flag: %v", q)
	}
	tn.checkRecount()
}

// TestDecideSeparationOfDuties: nobody decides on a report they keyed, nor accepts their own
// correction; another reviewer may.
func TestDecideSeparationOfDuties(t *testing.T) {
	tn := startNight(t)
	ctx := context.Background()
	tn.submit(tn.validReport("p0002", "a", 0), intake.Stored)
	keyed := tn.validReport("p0002", "keyed", 4)
	keyed.Channel = "hotline"
	out, err := tn.night.Submit(ctx, keyed, intake.Submitter{ID: "olga"})
	if err != nil || out.Kind != intake.Conflict {
		t.Fatalf("operator's report: %+v, %v", out, err)
	}
	k := out.Receipt.LogIndex
	fixed := tn.validReport("p0002", "fix-olga", 8)
	for _, d := range []night.Decision{
		{PrecinctID: "p0002", Author: "olga", Reason: "mine is right", Status: store.StatusAccepted, Counts: &k},
		{PrecinctID: "p0002", Author: "olga", Reason: "mine is right", Correction: &fixed},
	} {
		if _, err := tn.night.Decide(ctx, d); !errors.Is(err, night.ErrOwnEntry) {
			t.Fatalf("olga decides on her own entry: %v", err)
		}
	}
	fix, err := tn.night.Decide(ctx, night.Decision{PrecinctID: "p0002", Author: "rita", Reason: "the worksheet photo", Correction: &fixed})
	if err != nil {
		t.Fatal(err)
	}
	tn.submit(tn.validReport("p0002", "late", 13), intake.Conflict)
	idx := fix.Index
	if _, err := tn.night.Decide(ctx, night.Decision{PrecinctID: "p0002", Author: "rita", Reason: "my correction stands",
		Status: store.StatusAccepted, Counts: &idx}); !errors.Is(err, night.ErrOwnEntry) {
		t.Fatalf("rita accepts her own correction: %v", err)
	}
	if _, err := tn.night.Decide(ctx, night.Decision{PrecinctID: "p0002", Author: "sam", Reason: "the correction stands",
		Status: store.StatusAccepted, Counts: &idx}); err != nil {
		t.Fatalf("another reviewer accepts the correction: %v", err)
	}
	if st := tn.state("p0002"); st.Counted != idx || st.Status != store.StatusAccepted {
		t.Fatalf("state: %+v", st)
	}
	tn.checkRecount()
}
