package night_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"slices"
	"testing"

	"caucus/internal/intake"
	"caucus/internal/night"
	"caucus/internal/report"
	"caucus/internal/review"
	"caucus/internal/store"
)

// TestRecanvass: the same numbers confirm the counted report (a review entry naming the
// recanvass); different numbers correct it and the results follow; a recanvassed worksheet
// whose delegates do not match the math is counted and flagged for another reviewer; the
// results are a recount of the log after each.
func TestRecanvass(t *testing.T) {
	tn := startNight(t)
	ctx := context.Background()
	r := tn.validReport("p0001", "a", 0)
	counted := tn.submit(r, intake.Stored).Receipt.LogIndex

	same := r
	same.ReportID, same.Channel = "recanvass-1", report.ChannelPaper
	res, err := tn.night.Recanvass(ctx, night.Recanvass{PrecinctID: "p0001", Author: "rita", Reason: "the Smith campaign asked",
		Source: report.RecanvassWorksheet, Report: same})
	if err != nil {
		t.Fatal(err)
	}
	if res.Outcome != night.Confirmed || len(res.Differences) != 0 || res.Entry.Kind != store.KindReview || res.Entry.Counts != counted {
		t.Fatalf("recanvass of the same numbers: %+v", res)
	}
	le, err := report.ParseEntry(res.Entry.Body)
	if err != nil || le.Recanvass != report.RecanvassWorksheet || le.Decision != "accepted" {
		t.Fatalf("confirming entry %s: %v", res.Entry.Body, err)
	}
	tn.checkRecount()

	diff := tn.validReport("p0001", "recanvass-2", 3)
	res, err = tn.night.Recanvass(ctx, night.Recanvass{PrecinctID: "p0001", Author: "rita", Reason: "the Smith campaign asked",
		Source: report.RecanvassCards, Report: diff})
	if err != nil {
		t.Fatal(err)
	}
	want := night.Differences(r, diff, false)
	if res.Outcome != night.Corrected || len(res.Differences) == 0 || len(res.Differences) != len(want) ||
		res.Entry.Kind != store.KindCorrection || res.Flag != nil {
		t.Fatalf("recanvass with differences: %+v", res)
	}
	for _, d := range res.Differences {
		if d.Field == "delegates" {
			t.Errorf("a recanvass of the cards compares the worksheet's delegates: %+v", d)
		}
	}
	if p := tn.published("p0001"); p.Status != "corrected" || *p.CountedEntry != res.Entry.Index || *p.Attendees != diff.Attendees {
		t.Fatalf("published after the correcting recanvass: %+v", p)
	}
	tn.checkRecount()

	// A worksheet whose delegates the math does not give: counted, and flagged for review.
	bad := tn.validReport("p0002", "b", 0)
	tn.submit(bad, intake.Stored)
	off := tn.validReport("p0002", "recanvass-3", 5)
	off.Delegates = map[string]int64{}
	for id := range off.Final {
		off.Delegates[id] = 1
	}
	res, err = tn.night.Recanvass(ctx, night.Recanvass{PrecinctID: "p0002", Author: "rita", Reason: "audit",
		Source: report.RecanvassWorksheet, Report: off})
	if err != nil {
		t.Fatal(err)
	}
	if res.Outcome != night.Corrected || res.Flag == nil {
		t.Fatalf("recanvass with a worksheet that does not add up: %+v", res)
	}
	if q := tn.queue(); !slices.Equal(q["p0002"], []review.Reason{review.RecanvassDifference}) {
		t.Fatalf("queue: %v, want p0002 for recanvass_difference", q)
	}
	tn.checkRecount()

	// Nothing counted: nothing to recanvass.
	if _, err := tn.night.Recanvass(ctx, night.Recanvass{PrecinctID: "p0003", Author: "rita", Reason: "x",
		Source: report.RecanvassWorksheet, Report: tn.validReport("p0003", "c", 0)}); !errors.Is(err, night.ErrRefused) {
		t.Fatalf("recanvass of an unreported precinct: %v", err)
	}
}

// TestRecanvassRequests: a request is tracked precinct by precinct until every one is done.
func TestRecanvassRequests(t *testing.T) {
	tn := startNight(t)
	ctx := context.Background()
	r := tn.validReport("p0000", "a", 0)
	tn.submit(r, intake.Stored)
	tn.submit(tn.validReport("p0001", "b", 0), intake.Stored)
	req, err := tn.night.RequestRecanvass(ctx, night.RecanvassRequest{RequestedBy: "Smith campaign", RecordedBy: "ada",
		Reason: "close margin", Precincts: []string{"p0000", "p0001"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tn.night.RequestRecanvass(ctx, night.RecanvassRequest{RequestedBy: "x", RecordedBy: "ada", Reason: "y",
		Precincts: []string{"nowhere"}}); !errors.Is(err, night.ErrRefused) {
		t.Errorf("a request naming an unknown precinct: %v", err)
	}
	same := r
	same.ReportID = "rc"
	if _, err := tn.night.Recanvass(ctx, night.Recanvass{PrecinctID: "p0000", Author: "rita", Reason: "request",
		Source: report.RecanvassWorksheet, Report: same}); err != nil {
		t.Fatal(err)
	}
	all, err := tn.night.RecanvassRequests(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 1 || all[0].ID != req.ID || all[0].Done || all[0].RecordedBy != "ada" ||
		all[0].Progress[0].State != "done" || all[0].Progress[0].Outcome != night.Confirmed || all[0].Progress[1].State != "pending" {
		t.Fatalf("requests: %+v", all)
	}
}

// TestCertify: refused while a precinct is unreported or under review (naming them); then the
// county, then the state, each naming the checkpoint of the log before it; a decision on a
// certified precinct is refused until the certification is withdrawn; the certified results are
// the results at the checkpoint.
func TestCertify(t *testing.T) {
	tn := startNight(t)
	ctx := context.Background()
	tn.submit(tn.validReport("p0000", "a", 0), intake.Stored)
	tn.submit(tn.validReport("p0001", "b", 0), intake.Stored)
	tn.submit(tn.validReport("p0001", "b2", 4), intake.Conflict)
	_, err := tn.night.Certify(ctx, night.Certification{Scope: "county:alpha", Author: "cora"})
	var un *night.UnsettledError
	if !errors.As(err, &un) || !errors.Is(err, night.ErrUnsettled) {
		t.Fatalf("certify while unsettled: %v", err)
	}
	var ids []string
	for _, p := range un.Precincts {
		ids = append(ids, p.PrecinctID+":"+string(p.Status))
	}
	if !slices.Equal(ids, []string{"p0001:under_review", "p0002:not_reported", "p0003:not_reported"}) {
		t.Fatalf("unsettled %v", ids)
	}
	if _, err := tn.night.Certify(ctx, night.Certification{Scope: "state", Author: "cora"}); !errors.As(err, &un) ||
		!slices.Equal(un.Counties, []string{"alpha"}) {
		t.Fatalf("certify the state before its counties: %v", err)
	}
	first := int64(1)
	if _, err := tn.night.Decide(ctx, night.Decision{PrecinctID: "p0001", Author: "rita", Reason: "first stands",
		Status: store.StatusAccepted, Counts: &first}); err != nil {
		t.Fatal(err)
	}
	tn.submit(tn.validReport("p0002", "c", 0), intake.Stored)
	tn.submit(tn.validReport("p0003", "d", 0), intake.Stored)
	before := tn.night.Snapshot()
	e, err := tn.night.Certify(ctx, night.Certification{Scope: "county:alpha", Author: "cora", Reason: "canvass board met"})
	if err != nil {
		t.Fatal(err)
	}
	le, err := report.ParseEntry(e.Body)
	if err != nil {
		t.Fatal(err)
	}
	if *le.LogSize != e.Index || *le.LogSize != before.LogSize() {
		t.Errorf("certification at %d names log_size %d, want the log before it (%d)", e.Index, *le.LogSize, before.LogSize())
	}
	size, err := tn.db.Size(ctx)
	if err != nil {
		t.Fatal(err)
	}
	entries, err := tn.db.Entries(ctx, 0, size)
	if err != nil {
		t.Fatal(err)
	}
	if want := rootOf(t, entries[:*le.LogSize]); le.RootHash != want {
		t.Errorf("root_hash %s, want %s", le.RootHash, want)
	}
	if p := tn.published("p0000"); p.Status != "certified" {
		t.Errorf("p0000 status %s, want certified", p.Status)
	}
	tn.checkRecount()

	// The certified results are the results at the checkpoint.
	cert, at, ok, err := tn.night.CertifiedResults(ctx, e.Index)
	if err != nil || !ok || cert.Scope != "county:alpha" {
		t.Fatalf("certified results: %+v %v %v", cert, ok, err)
	}
	a, _ := at.CSV()
	b, _ := before.CSV()
	if string(a) != string(b) || at.LogSize() != before.LogSize() {
		t.Errorf("certified CSV differs from the published one at the checkpoint")
	}
	ra, _ := at.Results()
	rb, _ := before.Results()
	if string(ra) != string(rb) {
		t.Errorf("certified results differ from the published ones at the checkpoint:\n%s\n%s", ra, rb)
	}

	// A correction of a certified precinct is refused until the certification is withdrawn.
	corr := tn.validReport("p0000", "fix", 9)
	if _, err := tn.night.Decide(ctx, night.Decision{PrecinctID: "p0000", Author: "rita", Reason: "typo", Correction: &corr}); !errors.Is(err, night.ErrCertified) {
		t.Fatalf("correction after certification: %v", err)
	}
	if _, err := tn.night.Certify(ctx, night.Certification{Scope: "county:alpha", Author: "cora"}); !errors.Is(err, night.ErrRefused) {
		t.Errorf("certify twice: %v", err)
	}
	st, err := tn.night.Certify(ctx, night.Certification{Scope: "state", Author: "cora"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tn.night.Withdraw(ctx, night.Certification{Scope: "county:alpha", Author: "cora", Reason: "typo found"}); !errors.Is(err, night.ErrRefused) {
		t.Errorf("withdraw the county under a certified state: %v", err)
	}
	if _, err := tn.night.Withdraw(ctx, night.Certification{Scope: "state", Author: "cora"}); !errors.Is(err, night.ErrRefused) {
		t.Errorf("withdraw without a reason: %v", err)
	}
	for _, scope := range []string{"state", "county:alpha"} {
		if _, err := tn.night.Withdraw(ctx, night.Certification{Scope: scope, Author: "cora", Reason: "typo found in p0000"}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := tn.night.Decide(ctx, night.Decision{PrecinctID: "p0000", Author: "rita", Reason: "typo", Correction: &corr}); err != nil {
		t.Fatalf("correction after the withdrawal: %v", err)
	}
	c := tn.night.Certifications()
	if len(c.Certifications) != 4 || c.Certifications[1].LogIndex != st.Index || len(c.Certified) != 0 {
		t.Errorf("certifications %+v", c)
	}
	if _, _, ok, _ := tn.night.CertifiedResults(ctx, c.Certifications[2].LogIndex); ok {
		t.Error("a withdrawal has certified results")
	}
	tn.checkRecount()
}

// rootOf is the RFC 6962 root hash of entries, as a checkpoint writes it.
func rootOf(t *testing.T, entries []store.Entry) string {
	t.Helper()
	var hash func(es []store.Entry) [32]byte
	hash = func(es []store.Entry) [32]byte {
		if len(es) == 1 {
			return es[0].LeafHash
		}
		k := 1
		for k*2 < len(es) {
			k *= 2
		}
		l, r := hash(es[:k]), hash(es[k:])
		return nodeHash(l, r)
	}
	h := hash(entries)
	return base64.StdEncoding.EncodeToString(h[:])
}

func nodeHash(l, r [32]byte) [32]byte {
	return sha256.Sum256(append(append([]byte{1}, l[:]...), r[:]...))
}
