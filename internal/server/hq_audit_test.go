package server_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"maps"
	"math/big"
	"net/http"
	"slices"
	"strings"
	"testing"

	"caucus/internal/auth"
	"caucus/internal/report"
	"caucus/internal/results"
	"caucus/internal/server/servertest"
	"caucus/internal/store"
)

// auditEnv is a server whose precincts have all reported, an admin's session and three
// operators', and each precinct's report by id.
type auditEnv struct {
	k        *staffKit
	admin    string
	ops      []string
	reported map[string]report.Report
}

func newAuditEnv(t *testing.T, precincts int) *auditEnv {
	k := newStaffKit(t, precincts)
	ae := &auditEnv{k: k, reported: map[string]report.Report{}}
	var acked servertest.Acked
	for i, p := range k.env.Def.Precincts() {
		r := k.env.Report(p.ID, "r-"+p.ID, i)
		submitReport(t, k.env, k.env.Login(p.ID), r, &acked)
		ae.reported[p.ID] = r
	}
	if err := k.env.Night.SignCheckpoint(context.Background()); err != nil {
		t.Fatal(err)
	}
	k.create("ann", auth.RoleAdmin)
	ae.admin = k.mint(auth.RoleAdmin, "ann", k.clock.Now())
	for _, u := range []string{"otto", "oona", "omar"} {
		ae.ops = append(ae.ops, k.env.StaffLogin(u, auth.RoleOperator))
	}
	return ae
}

func (ae *auditEnv) audit(t *testing.T) results.Audit {
	t.Helper()
	status, b := ae.k.env.Do("GET", "/api/v1/audit", "", nil)
	if status != http.StatusOK {
		t.Fatalf("GET /api/v1/audit: %d %s", status, b)
	}
	var a results.Audit
	if err := json.Unmarshal(b, &a); err != nil {
		t.Fatal(err)
	}
	return a
}

// key sends one operator's hand count of a precinct.
func (ae *auditEnv) key(t *testing.T, op, precinct string, first, final map[string]int64) (int, map[string]any) {
	t.Helper()
	b, _ := json.Marshal(map[string]any{"first": first, "final": final})
	status, out := ae.k.env.Do("POST", "/api/v1/hq/audit/hand-counts/"+precinct, op, b)
	var m map[string]any
	if err := json.Unmarshal(out, &m); err != nil {
		t.Fatalf("hand count %s: %d %s", precinct, status, out)
	}
	return status, m
}

const testSeed = "31415926535897932384626"

// TestAuditOverHTTP: an admin starts the audit with a dice seed; the sample is drawn and logged;
// two operators key each sampled precinct's cards, which match the reports, so every contest's
// measured risk falls to the risk limit or below and the audit is confirmed. One precinct's
// second keying differs: the mismatch is shown field by field with the keyer's own values only,
// the first keyer may not key it again, and a third operator's keying that matches the first
// makes the entry.
func TestAuditOverHTTP(t *testing.T) {
	ae := newAuditEnv(t, 60)
	env := ae.k.env
	if a := ae.audit(t); a.Status != "not_started" || a.LogIndex != nil {
		t.Fatalf("before the start: %+v", a)
	}
	if status, b := env.Do("POST", "/api/v1/hq/audit/hand-counts/p0001", ae.ops[0], []byte(`{"first":{},"final":{}}`)); status != http.StatusConflict {
		t.Fatalf("hand count before the start: %d %s", status, b)
	}
	for _, bad := range []string{`{"seed":"1234567890123456789","risk_limit":10}`, `{"seed":"` + testSeed + `","risk_limit":100}`, `{"seed":"` + testSeed + `x","risk_limit":10}`} {
		if status, b := env.Do("POST", "/api/v1/hq/audit", ae.admin, []byte(bad)); status != http.StatusUnprocessableEntity {
			t.Errorf("start %s: %d %s, want 422", bad, status, b)
		}
	}
	_, cp := env.Night.Checkpoint()
	status, b := env.Do("POST", "/api/v1/hq/audit", ae.admin, []byte(`{"seed":"`+testSeed+`","risk_limit":10}`))
	if status != http.StatusCreated {
		t.Fatalf("start: %d %s", status, b)
	}
	if status, b := env.Do("POST", "/api/v1/hq/audit", ae.admin, []byte(`{"seed":"`+testSeed+`","risk_limit":5}`)); status != http.StatusConflict {
		t.Fatalf("second start: %d %s, want 409", status, b)
	}
	a := ae.audit(t)
	if a.Status != "in_progress" || a.Seed != testSeed || a.RiskLimit != "10" || a.LogSize != cp.N ||
		a.RootHash != fmt.Sprintf("%x", cp.Hash[:]) || a.StartedBy != "ann" || a.LogIndex == nil || *a.LogIndex != cp.N ||
		len(a.Contests) != 3 || len(a.PrecinctsToCount) == 0 || len(a.HandCounts) != 0 {
		t.Fatalf("after the start: %+v", a)
	}
	for _, c := range a.Contests {
		if c.Status != "in_progress" || len(c.Sample) == 0 || c.Risk != "1.000000" || len(c.Rounds) != 0 {
			t.Fatalf("contest after the start: %+v", c)
		}
	}
	// The start and each contest's first sample are entries of the log, with their author.
	es := auditEntries(t, ae)
	if len(es) != 4 || es[0].Audit.Event != report.AuditStart || es[0].Submitter != "ann" || es[0].Audit.Seed != testSeed {
		t.Fatalf("audit entries after the start: %+v", es)
	}
	for i, c := range a.Contests {
		e := es[i+1].Audit
		if e.Event != report.AuditSample || e.Contest != c.Contest || e.Round != 1 || len(e.Tickets) != len(c.Sample) ||
			e.Tickets[0].PrecinctID != c.Sample[0].PrecinctID || e.Tickets[0].Hash != c.Sample[0].Hash {
			t.Fatalf("sample entry %d: %+v, contest %+v", i, e, c)
		}
	}

	// A precinct not in the sample is refused.
	var notSampled string
	for _, p := range env.Def.Precincts() {
		if !slices.Contains(a.PrecinctsToCount, p.ID) {
			notSampled = p.ID
			break
		}
	}
	if notSampled != "" {
		r := ae.reported[notSampled]
		if status, m := ae.key(t, ae.ops[0], notSampled, r.First, r.Final); status != http.StatusConflict || m["code"] != "not_sampled" {
			t.Errorf("a precinct outside the sample: %d %v", status, m)
		}
	}

	// The mismatch: otto keys the cards as reported, oona keys one count wrong.
	first := a.PrecinctsToCount[0]
	r := ae.reported[first]
	if status, m := ae.key(t, ae.ops[0], first, r.First, r.Final); status != http.StatusOK || m["state"] != "waiting_second" {
		t.Fatalf("first keying: %d %v", status, m)
	}
	if status, m := ae.key(t, ae.ops[0], first, r.First, r.Final); status != http.StatusForbidden || m["code"] != "same_operator" {
		t.Fatalf("the same operator keying twice: %d %v", status, m)
	}
	wrong := maps.Clone(r.Final)
	wrong["adams"] += 3
	status, m := ae.key(t, ae.ops[1], first, r.First, wrong)
	if status != http.StatusConflict || m["state"] != "mismatch" {
		t.Fatalf("a mismatch: %d %v", status, m)
	}
	diffs, _ := json.Marshal(m["differences"])
	if want := fmt.Sprintf(`[{"candidate_id":"adams","field":"final","yours":%d}]`, wrong["adams"]); string(diffs) != want {
		t.Fatalf("differences %s, want %s (the keyer's own value only)", diffs, want)
	}
	if a := ae.audit(t); len(a.HandCounts) != 0 {
		t.Fatalf("a mismatch made a hand count: %+v", a.HandCounts)
	}
	status, m = ae.key(t, ae.ops[2], first, r.First, r.Final)
	if status != http.StatusCreated || m["state"] != "matched" || m["log_index"] == nil {
		t.Fatalf("the third keying: %d %v", status, m)
	}
	if status, m := ae.key(t, ae.ops[2], first, r.First, r.Final); status != http.StatusConflict || m["code"] != "hand_counted" {
		t.Fatalf("keying a counted precinct: %d %v", status, m)
	}
	a = ae.audit(t)
	if len(a.HandCounts) != 1 || a.HandCounts[0].PrecinctID != first || !slices.Equal(a.HandCounts[0].KeyedBy, []string{"otto", "omar"}) {
		t.Fatalf("hand counts: %+v", a.HandCounts)
	}

	// Every other sampled precinct: two operators' matching keyings, until the audit ends.
	for rounds := 0; a.Status == "in_progress"; rounds++ {
		if rounds > 10 {
			t.Fatalf("the audit does not end: %+v", a)
		}
		for _, id := range a.PrecinctsToCount {
			r := ae.reported[id]
			if status, m := ae.key(t, ae.ops[0], id, r.First, r.Final); status != http.StatusOK {
				t.Fatalf("%s first keying: %d %v", id, status, m)
			}
			if status, m := ae.key(t, ae.ops[1], id, r.First, r.Final); status != http.StatusCreated {
				t.Fatalf("%s second keying: %d %v", id, status, m)
			}
		}
		a = ae.audit(t)
	}
	if a.Status != "confirmed" || len(a.PrecinctsToCount) != 0 {
		t.Fatalf("the audit's end: %+v", a)
	}
	limit := big.NewRat(1, 10)
	for _, c := range a.Contests {
		risk, ok := new(big.Rat).SetString(c.Risk)
		if c.Status != "confirmed" || len(c.Rounds) == 0 || !ok || risk.Cmp(limit) > 0 || len(c.Discrepancies) != 0 ||
			!strings.HasPrefix(c.Conclusion, "Confirmed") {
			t.Errorf("contest %s: %+v", c.Contest, c)
		}
	}
	// Each round's risk is an entry of the log: the last of each contest says confirmed.
	risks := map[string]report.Audit{}
	for _, e := range auditEntries(t, ae) {
		if e.Audit.Event == report.AuditRisk {
			risks[e.Audit.Contest] = *e.Audit
		}
	}
	for _, c := range a.Contests {
		last := c.Rounds[len(c.Rounds)-1]
		if got := risks[c.Contest]; got.Status != "confirmed" || got.Risk != last.Risk || got.Draws != last.Draws {
			t.Errorf("risk entry of %s: %+v, rounds %+v", c.Contest, got, c.Rounds)
		}
	}

	// The report as CSV: a summary row per contest, a row per ticket, every one hand counted.
	status, body := env.Do("GET", "/api/v1/audit.csv", "", nil)
	rows, err := csv.NewReader(bytes.NewReader(body)).ReadAll()
	if status != http.StatusOK || err != nil {
		t.Fatalf("audit.csv: %d %v", status, err)
	}
	tickets := 0
	for _, c := range a.Contests {
		tickets += len(c.Sample)
	}
	if len(rows) != 1+len(a.Contests)+tickets || rows[1][6] != "confirmed" || rows[2][14] != "true" || rows[2][15] != "0" {
		t.Fatalf("audit.csv: %d rows, want %d: %q", len(rows), 1+len(a.Contests)+tickets, rows[:3])
	}

	// The audit survives a restart: read again from the log.
	env.Restart()
	if b := ae.audit(t); b.Status != "confirmed" || len(b.HandCounts) != len(a.HandCounts) {
		t.Fatalf("after a restart: %+v", b)
	}
	var acked servertest.Acked
	env.Check(&acked)
}

// auditEntries is the log's audit entries, parsed.
func auditEntries(t *testing.T, ae *auditEnv) []report.Entry {
	t.Helper()
	es, err := ae.k.env.DB.PrecinctEntries(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	var out []report.Entry
	for _, e := range es {
		if e.Kind != store.KindAudit || e.Status != "" {
			t.Fatalf("entry %d under no precinct: %s %q", e.Index, e.Kind, e.Status)
		}
		le, err := report.ParseEntry(e.Body)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, le)
	}
	return out
}
