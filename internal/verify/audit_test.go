package verify_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"caucus/internal/client"
	caucusnight "caucus/internal/night"
	"caucus/internal/report"
	"caucus/internal/rules"
	"caucus/internal/server/servertest"
	"caucus/internal/store"
	"caucus/internal/tlog"
	"caucus/internal/verify"
)

// TestVerifyAudit: verify recomputes the risk-limiting audit from the log's audit entries (the
// results at the checkpoint audited, the seed, the risk limit and the hand counts give every
// sample and measured risk) and passes; a log rewritten by someone holding its key, with a hand
// count changed, with the seed changed, with a sample's ticket changed or with a round's risk
// logged before its hand counts, fails on the audit.
func TestVerifyAudit(t *testing.T) {
	env := servertest.Start(t, servertest.Options{Precincts: 60})
	ctx := context.Background()
	reported := map[string]report.Report{}
	for i, p := range env.Def.Precincts() {
		r := env.Report(p.ID, fmt.Sprintf("r-%d", i), i)
		body := r.Canonical()
		if status, b := env.Do("POST", "/api/v1/reports", env.Login(p.ID), body); status != http.StatusCreated {
			t.Fatalf("report %s: %d %s", p.ID, status, b)
		}
		reported[p.ID] = r
	}
	if err := env.Server.SignCheckpoint(ctx); err != nil {
		t.Fatal(err)
	}
	const seed = "27182818284590452353602874"
	a, err := env.Night.StartAudit(ctx, "ann", seed, "10")
	if err != nil {
		t.Fatal(err)
	}
	// Every sampled precinct's cards counted as reported, except the final alignment's first
	// draw, where the hand count finds three more people for baker (a discrepancy).
	off := a.Contests[1].Sample[0].PrecinctID
	for rounds := 0; a.Status == "in_progress"; rounds++ {
		if rounds > 10 {
			t.Fatalf("the audit does not end: %+v", a)
		}
		for _, id := range a.PrecinctsToCount {
			r := reported[id]
			final := rules.Counts{}
			for k, v := range r.Final {
				final[k] = v
			}
			if id == off {
				final["baker"] += 3
			}
			for _, op := range []string{"otto", "oona"} {
				if _, err := env.Night.KeyHandCount(ctx, op, id, r.First, final); err != nil {
					t.Fatalf("%s keys %s: %v", op, id, err)
				}
			}
		}
		if a, err = env.Night.AuditStatus(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if len(a.HandCounts) == 0 || len(a.Contests[1].Discrepancies) == 0 {
		t.Fatalf("the audit: %+v", a.Contests[1])
	}
	if err := env.Server.SignCheckpoint(ctx); err != nil {
		t.Fatal(err)
	}
	c, _ := client.New(env.URL, nil)
	res, err := c.Results(ctx)
	if err != nil {
		t.Fatal(err)
	}
	key := res.LogPublicKey
	r, findings := verifyAt(t, env.URL, verify.Config{Key: key})
	if !r.OK() {
		t.Fatalf("verify of an honest audit: %s", findings)
	}
	skey, err := env.DB.Value(ctx, tlog.KeyValue)
	if err != nil {
		t.Fatal(err)
	}
	bodies := readBodies(t, c, res.LogSize)

	// rewritten forges the log with the first audit entry of event ev (for a hand count, the
	// precinct with the discrepancy's) edited, re-signed.
	rewritten := func(ev string, edit func(a *report.Audit)) string {
		t.Helper()
		out := make([][]byte, len(bodies))
		copy(out, bodies)
		for i, b := range bodies {
			le, err := report.ParseEntry(b)
			if err != nil || le.Kind != report.KindAudit || le.Audit.Event != ev ||
				(ev == report.AuditHandCount && le.Audit.PrecinctID != off) {
				continue
			}
			edit(le.Audit)
			out[i] = le.Marshal()
			if _, err := report.ParseEntry(out[i]); err != nil {
				t.Fatalf("the rewritten entry does not parse: %v", err)
			}
			fl := forge(t, string(skey), out)
			return tamperProxy(t, env.URL, fl.rewrite)
		}
		t.Fatalf("no audit entry %s", ev)
		return ""
	}
	// A risk logged before the hand count it measures: the last hand count and the entry after
	// it (the round's risks) swapped.
	last := -1
	for i, b := range bodies {
		if le, err := report.ParseEntry(b); err == nil && le.Kind == report.KindAudit && le.Audit.Event == report.AuditHandCount {
			last = i
		}
	}
	if le, err := report.ParseEntry(bodies[last+1]); last < 0 || err != nil || le.Audit == nil || le.Audit.Event != report.AuditRisk {
		t.Fatalf("no risk entry follows the last hand count (entry %d)", last)
	}
	swapped := make([][]byte, len(bodies))
	copy(swapped, bodies)
	swapped[last], swapped[last+1] = swapped[last+1], swapped[last]
	res2, findings2 := verifyAt(t, tamperProxy(t, env.URL, forge(t, string(skey), swapped).rewrite), verify.Config{Key: key})
	expect(t, res2, findings2, fmt.Sprintf("audit: entry %d (risk", last), "before the hand count of")
	t.Logf("a risk before its hand count:\n%s", firstLines(findings2, 6))

	for _, tc := range []struct {
		name string
		ev   string
		edit func(a *report.Audit)
		want string
	}{
		{"a hand count changed", report.AuditHandCount, func(a *report.Audit) { a.Final["baker"] -= 3 }, "audit: entry"},
		{"the seed changed", report.AuditStart, func(a *report.Audit) { a.Seed = strings.Replace(a.Seed, "2", "3", 1) }, "audit: entry"},
		{"a sample's ticket changed", report.AuditSample, func(a *report.Audit) {
			a.Tickets[0].PrecinctID = map[bool]string{true: "p0000", false: "p0001"}[a.Tickets[0].PrecinctID != "p0000"]
		}, "(sample first round 1)"},
	} {
		res, findings := verifyAt(t, rewritten(tc.ev, tc.edit), verify.Config{Key: key})
		expect(t, res, findings, tc.want)
		t.Logf("%s:\n%s", tc.name, firstLines(findings, 6))
	}
}

// TestVerifyAuditCertified: once the state is certified, the audit audits the certified
// results: its start names the state certification's checkpoint (not the latest one, which
// holds the certifications after it), says so, and verify agrees.
func TestVerifyAuditCertified(t *testing.T) {
	env := servertest.Start(t, servertest.Options{Precincts: 12})
	ctx := context.Background()
	for i, p := range env.Def.Precincts() {
		r := env.Report(p.ID, fmt.Sprintf("r-%d", i), i)
		if status, b := env.Do("POST", "/api/v1/reports", env.Login(p.ID), r.Canonical()); status != http.StatusCreated {
			t.Fatalf("report %s: %d %s", p.ID, status, b)
		}
	}
	// A report a warning put under review is accepted as it stands, so that every county settles.
	for _, id := range env.Night.Snapshot().UnderReview() {
		it, _, err := env.Night.ReviewItem(ctx, id)
		if err != nil || it.CountedEntry == nil {
			t.Fatalf("review item %s: %+v %v", id, it, err)
		}
		if _, err := env.Night.Decide(ctx, caucusnight.Decision{PrecinctID: id, Author: "rita", Reason: "the worksheet says so",
			Status: store.StatusAccepted, Counts: it.CountedEntry}); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range env.Def.Counties() {
		if _, err := env.Night.Certify(ctx, caucusnight.Certification{Scope: report.CountyScope(c.ID), Author: "cora"}); err != nil {
			t.Fatalf("certify %s: %v", c.ID, err)
		}
	}
	st, err := env.Night.Certify(ctx, caucusnight.Certification{Scope: report.StateScope, Author: "cora"})
	if err != nil {
		t.Fatal(err)
	}
	le, err := report.ParseEntry(st.Body)
	if err != nil {
		t.Fatal(err)
	}
	if err := env.Server.SignCheckpoint(ctx); err != nil {
		t.Fatal(err)
	}
	a, err := env.Night.StartAudit(ctx, "ann", "27182818284590452353602874", "10")
	if err != nil {
		t.Fatal(err)
	}
	if !a.Certified || a.LogSize != *le.LogSize {
		t.Fatalf("audit of log size %d (certified %v), want the state certification's %d", a.LogSize, a.Certified, *le.LogSize)
	}
	if err := env.Server.SignCheckpoint(ctx); err != nil {
		t.Fatal(err)
	}
	c, _ := client.New(env.URL, nil)
	res, err := c.Results(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if r, findings := verifyAt(t, env.URL, verify.Config{Key: res.LogPublicKey}); !r.OK() {
		t.Fatalf("verify of an audit of the certified results: %s", findings)
	}
}
