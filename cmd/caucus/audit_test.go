package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"caucus/internal/election"
	"caucus/internal/report"
	"caucus/internal/server/servertest"
)

const iowa2020 = shared + "data/iowa-2020/precincts.csv"

func TestAuditExitCodes(t *testing.T) {
	const seed = "31415926535897932384626"
	tests := []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"no command", []string{"audit"}, 2, "plan, draw or status"},
		{"help", []string{"audit", "--help"}, 0, ""},
		{"unknown command", []string{"audit", "frob"}, 2, `unknown audit command "frob"`},
		{"plan help", []string{"audit", "plan", "--help"}, 0, ""},
		{"draw help", []string{"audit", "draw", "--help"}, 0, ""},
		{"plan no source", []string{"audit", "plan", "--risk-limit", "5"}, 2, "exactly one of --url and --csv"},
		{"plan two sources", []string{"audit", "plan", "--csv", iowa2020, "--url", "http://127.0.0.1:1/", "--risk-limit", "5"}, 2, "exactly one"},
		{"plan no risk limit", []string{"audit", "plan", "--csv", iowa2020}, 2, "--risk-limit is required"},
		{"plan risk limit 0", []string{"audit", "plan", "--csv", iowa2020, "--risk-limit", "0"}, 2, "more than 0"},
		{"plan risk limit 100", []string{"audit", "plan", "--csv", iowa2020, "--risk-limit", "100"}, 2, "less than 100"},
		{"plan risk limit text", []string{"audit", "plan", "--csv", iowa2020, "--risk-limit", "five"}, 2, "not a number"},
		{"plan argument", []string{"audit", "plan", "--csv", iowa2020, "--risk-limit", "5", "x"}, 2, "unexpected argument"},
		{"plan unknown flag", []string{"audit", "plan", "--frob"}, 2, "flag provided but not defined"},
		{"plan unknown rules", []string{"audit", "plan", "--csv", iowa2020, "--risk-limit", "5", "--rules", "x"}, 2, "unknown rules"},
		{"plan missing file", []string{"audit", "plan", "--csv", "testdata/nope.csv", "--risk-limit", "5"}, 1, "no such file"},
		{"plan not results", []string{"audit", "plan", "--csv", "main.go", "--risk-limit", "5"}, 1, "line 1"},
		{"plan server down", []string{"audit", "plan", "--url", "http://127.0.0.1:1/", "--risk-limit", "5"}, 1, ""},
		{"plan ok", []string{"audit", "plan", "--csv", iowa2020, "--risk-limit", "5"}, 0, ""},
		{"draw no seed", []string{"audit", "draw", "--csv", iowa2020, "--risk-limit", "5"}, 2, "20 or more decimal digits"},
		{"draw short seed", []string{"audit", "draw", "--seed", "1234567890123456789", "--csv", iowa2020, "--risk-limit", "5"}, 2, "20 or more"},
		{"draw seed not digits", []string{"audit", "draw", "--seed", "12345678901234567890x", "--csv", iowa2020, "--risk-limit", "5"}, 2, "20 or more"},
		{"draw negative n", []string{"audit", "draw", "--seed", seed, "--csv", iowa2020, "--risk-limit", "5", "--n", "-1"}, 2, "--n"},
		{"draw ok", []string{"audit", "draw", "--seed", seed, "--csv", iowa2020, "--risk-limit", "5"}, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := run(t, "", tt.args...)
			if code != tt.code {
				t.Errorf("exit %d, want %d; stderr: %s", code, tt.code, stderr)
			}
			if !strings.Contains(stderr, tt.stderr) {
				t.Errorf("stderr %q does not say %q", stderr, tt.stderr)
			}
		})
	}
}

// TestAuditPlanIowa2020 pins the plan of the real 2020 results at a 5 % risk limit. The people
// contests' margins, U and expected samples were also computed independently (Python, exact
// fractions: U = Σ_p max_l (v_wp − v_lp + A_p)/V_wl, n = ⌈ln 0.05 / ln(1 − 1/U)⌉).
func TestAuditPlanIowa2020(t *testing.T) {
	code, out, stderr := run(t, "", "audit", "plan", "--csv", iowa2020, "--risk-limit", "5", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var plan struct {
		RiskLimit json.Number `json:"risk_limit"`
		Precincts int         `json:"precincts"`
		Contests  []struct {
			Contest        string `json:"contest"`
			Winner         string `json:"winner"`
			RunnerUp       string `json:"runner_up"`
			Margin         any    `json:"margin"`
			UTotal         string `json:"u_total"`
			ExpectedSample int64  `json:"expected_sample"`
			FullHandCount  bool   `json:"full_hand_count"`
			Reason         string `json:"reason"`
		} `json:"contests"`
	}
	if err := json.Unmarshal([]byte(out), &plan); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if plan.RiskLimit != "5" || plan.Precincts != 1765 || len(plan.Contests) != 3 {
		t.Fatalf("risk_limit %s, %d precincts, %d contests", plan.RiskLimit, plan.Precincts, len(plan.Contests))
	}
	want := []struct {
		contest, winner, runnerUp string
		margin                    any
		u                         string
		n                         int64
		full                      bool
	}{
		{"first", "sanders", "buttigieg", float64(6009), "30.542467", 90, false},
		{"final", "sanders", "buttigieg", float64(2443), "73.656316", 220, false},
		// b_p is the most SDEs a precinct can award: with the published SDE sum alone U would be
		// 2307.889030 (6913 draws); some precincts published fewer SDEs than their delegates hold.
		{"sde", "buttigieg", "sanders", "0.9324", "2309.130128", 6917, true},
	}
	for i, w := range want {
		c := plan.Contests[i]
		if c.Contest != w.contest || c.Winner != w.winner || c.RunnerUp != w.runnerUp || c.Margin != w.margin ||
			c.UTotal != w.u || c.ExpectedSample != w.n || c.FullHandCount != w.full {
			t.Errorf("contest %d: %+v, want %+v", i, c, w)
		}
		if c.FullHandCount != (c.Reason != "") {
			t.Errorf("%s: full hand count %v but reason %q", c.Contest, c.FullHandCount, c.Reason)
		}
	}
	// The risk limit is written as the shortest exact decimal, valid JSON whatever was typed.
	if _, again, _ := run(t, "", "audit", "plan", "--csv", iowa2020, "--risk-limit", "05.00", "--json"); again != out {
		t.Errorf("--risk-limit 05.00 gives another plan than 5:\n%s", again)
	}
	_, text, _ := run(t, "", "audit", "plan", "--csv", iowa2020, "--risk-limit", "5")
	for _, s := range []string{"margin                 6009", "expected sample        220 draws", "margin                 0.9324",
		"ONLY A FULL HAND COUNT CAN CONFIRM THIS OUTCOME: the expected sample (6917 draws) is not smaller than the number of precincts (1765)"} {
		if !strings.Contains(text, s) {
			t.Errorf("the plan does not say %q:\n%s", s, text)
		}
	}
}

type drawOut struct {
	Seed     string `json:"seed"`
	Contests []struct {
		Contest       string `json:"contest"`
		FullHandCount bool   `json:"full_hand_count"`
		Tickets       []struct {
			Draw       int64  `json:"draw"`
			Hash       string `json:"hash"`
			PrecinctID string `json:"precinct_id"`
		} `json:"tickets"`
	} `json:"contests"`
	PrecinctsToCount []string `json:"precincts_to_count"`
}

// TestAuditDrawIowa2020: the first draws, computed independently (Python: exact fractions,
// precincts in id order, x = int(sha256("SEED,i")) · U / 2²⁵⁶ against the cumulative bounds),
// and the same sample when drawn again.
func TestAuditDrawIowa2020(t *testing.T) {
	const seed = "31415926535897932384626"
	code, out, stderr := run(t, "", "audit", "draw", "--seed", seed, "--csv", iowa2020, "--risk-limit", "5", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var d drawOut
	if err := json.Unmarshal([]byte(out), &d); err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{
		"first": {"scott-d51-city-of-davenport", "cd3-satellite-des-moines-ia-karen-baptist-church", "linn-otter-creek", "sioux-oc-1-holland-west", "polk-des-moines-50"},
		"final": {"scott-d52-city-of-davenport", "cd3-satellite-des-moines-ia-grandview-university-student-center", "linn-mount-vernon-south", "sioux-sioux-center-south", "polk-des-moines-51"},
	}
	counts := map[string]int{"first": 90, "final": 220, "sde": 0}
	for _, c := range d.Contests {
		if len(c.Tickets) != counts[c.Contest] {
			t.Errorf("%s: %d tickets, want %d", c.Contest, len(c.Tickets), counts[c.Contest])
		}
		if c.FullHandCount != (c.Contest == "sde") {
			t.Errorf("%s: full hand count %v", c.Contest, c.FullHandCount)
		}
		for i, id := range want[c.Contest] {
			tk := c.Tickets[i]
			h := sha256.Sum256([]byte(seed + "," + itoa(i+1)))
			if tk.Draw != int64(i+1) || tk.PrecinctID != id || tk.Hash != hex.EncodeToString(h[:]) {
				t.Errorf("%s ticket %d: %+v, want draw %d precinct %s", c.Contest, i, tk, i+1, id)
			}
		}
	}
	if len(d.PrecinctsToCount) == 0 || len(d.PrecinctsToCount) > 310 {
		t.Errorf("%d precincts to count", len(d.PrecinctsToCount))
	}
	_, again, _ := run(t, "", "audit", "draw", "--seed", seed, "--csv", iowa2020, "--risk-limit", "5", "--json")
	if again != out {
		t.Error("the sample drawn again from the same seed differs")
	}
	// --n draws that many for every contest, the full-hand-count one too.
	_, out, _ = run(t, "", "audit", "draw", "--seed", seed, "--csv", iowa2020, "--risk-limit", "5", "--json", "--n", "7")
	d = drawOut{}
	json.Unmarshal([]byte(out), &d)
	for _, c := range d.Contests {
		if len(c.Tickets) != 7 {
			t.Errorf("--n 7: %s has %d tickets", c.Contest, len(c.Tickets))
		}
	}
}

// TestAuditPlanURL: the plan read from a running server equals the plan of the same results
// read from files (its results.csv beside its counties.csv).
func TestAuditPlanURL(t *testing.T) {
	env := servertest.Start(t, servertest.Options{Precincts: 30})
	for i, p := range env.Def.Precincts() {
		body, _ := json.Marshal(env.Report(p.ID, "audit-"+itoa(i), i))
		if status, b := env.Do("POST", "/api/v1/reports", env.Login(p.ID), body); status != http.StatusCreated {
			t.Fatalf("report %s: %d %s", p.ID, status, b)
		}
	}
	dir := t.TempDir()
	_, csv := env.Do("GET", "/api/v1/results.csv", "", nil)
	_, el := env.Do("GET", "/api/v1/election", "", nil)
	var files struct {
		Files map[string]string `json:"files"`
	}
	if err := json.Unmarshal(el, &files); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "results.csv"), csv, 0o644)
	os.WriteFile(filepath.Join(dir, election.CountiesFile), []byte(files.Files[election.CountiesFile]), 0o644)

	code, fromURL, stderr := run(t, "", "audit", "plan", "--url", env.URL, "--risk-limit", "10", "--json")
	if code != 0 {
		t.Fatalf("--url: exit %d: %s", code, stderr)
	}
	code, fromCSV, stderr := run(t, "", "audit", "plan", "--csv", filepath.Join(dir, "results.csv"), "--risk-limit", "10", "--json")
	if code != 0 {
		t.Fatalf("--csv: exit %d: %s", code, stderr)
	}
	var u, f map[string]any
	if err := json.Unmarshal([]byte(fromURL), &u); err != nil {
		t.Fatal(err)
	}
	json.Unmarshal([]byte(fromCSV), &f)
	if size, ok := u["log_size"].(float64); !ok || size < 30 {
		t.Errorf("--url names no log size of at least the 30 reports: %v", u["log_size"])
	}
	delete(u, "log_size")
	if a, b := fmt.Sprint(u), fmt.Sprint(f); a != b {
		t.Errorf("the plan from the server differs from the plan of its files:\n%s\n%s", fromURL, fromCSV)
	}
	if !strings.Contains(fromURL, `"precincts": 30`) {
		t.Errorf("plan: %s", fromURL)
	}
}

// TestAuditStatus: the status from a seed with no hand counts, then with the waiting precincts
// counted as reported (both people contests confirmed), then with one count changed.
func TestAuditStatus(t *testing.T) {
	const seed = "27182818284590452353602"
	args := []string{"audit", "status", "--seed", seed, "--csv", iowa2020, "--risk-limit", "5", "--json"}
	type status struct {
		HandCounted int `json:"hand_counted"`
		Contests    []struct {
			Contest       string   `json:"contest"`
			Status        string   `json:"status"`
			Draws         int      `json:"draws"`
			Risk          string   `json:"risk"`
			Waiting       []string `json:"waiting"`
			Discrepancies []struct {
				PrecinctID string `json:"precinct_id"`
			} `json:"discrepancies"`
		} `json:"contests"`
	}
	get := func(extra ...string) status {
		t.Helper()
		code, out, stderr := run(t, "", append(args, extra...)...)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		var s status
		if err := json.Unmarshal([]byte(out), &s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	s := get()
	waiting := map[string]bool{}
	for _, c := range s.Contests[:2] {
		if c.Status != "in_progress" || len(c.Waiting) == 0 || c.Draws != 0 {
			t.Errorf("%s: %+v", c.Contest, c)
		}
		for _, id := range c.Waiting {
			waiting[id] = true
		}
	}
	if s.Contests[2].Status != "full_hand_count" {
		t.Errorf("sde: %s", s.Contests[2].Status)
	}

	// The hand counts of the waiting precincts, as reported: the rows of the results file.
	data, err := os.ReadFile(iowa2020)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	hand := []string{lines[0]}
	for _, l := range lines[1:] {
		if waiting[strings.Split(l, ",")[2]] {
			hand = append(hand, l)
		}
	}
	path := filepath.Join(t.TempDir(), "hand.csv")
	os.WriteFile(path, []byte(strings.Join(hand, "\n")+"\n"), 0o644)
	s = get("--hand-counts", path)
	if s.HandCounted != len(waiting) {
		t.Errorf("%d hand counted, want %d", s.HandCounted, len(waiting))
	}
	for i, want := range []int{90, 220} {
		c := s.Contests[i]
		if c.Status != "confirmed" || c.Draws != want || len(c.Waiting) != 0 || len(c.Discrepancies) != 0 {
			t.Errorf("%s: %+v", c.Contest, c)
		}
	}
	code, text, _ := run(t, "", "audit", "status", "--seed", seed, "--csv", iowa2020, "--risk-limit", "5", "--hand-counts", path)
	if code != 0 || !strings.Contains(text, "CONFIRMED: the measured risk is at most the risk limit") {
		t.Errorf("exit %d:\n%s", code, text)
	}

	// A hand count naming a precinct the results do not have.
	bad := filepath.Join(t.TempDir(), "bad.csv")
	os.WriteFile(bad, []byte(lines[0]+"\nx,X,nowhere,N,2,false,sanders,Sanders,1,1,0\n"), 0o644)
	if code, _, stderr := run(t, "", append(args, "--hand-counts", bad)...); code != 1 || !strings.Contains(stderr, "no such precinct") {
		t.Errorf("unknown precinct: exit %d, %s", code, stderr)
	}
	if code, _, _ := run(t, "", "audit", "status", "--csv", iowa2020, "--risk-limit", "5"); code != 2 {
		t.Errorf("no seed: exit %d", code)
	}
}

// TestAuditStatusURL: caucus audit status --url alone prints the audit a server runs on the
// record (GET /api/v1/audit), and the same seed redrawn from the server's results by caucus
// audit status --seed gives the samples the server logged.
func TestAuditStatusURL(t *testing.T) {
	env := servertest.Start(t, servertest.Options{Precincts: 40})
	for i, p := range env.Def.Precincts() {
		body, _ := json.Marshal(env.Report(p.ID, "audit-"+itoa(i), i))
		if status, b := env.Do("POST", "/api/v1/reports", env.Login(p.ID), body); status != http.StatusCreated {
			t.Fatalf("report %s: %d %s", p.ID, status, b)
		}
	}
	code, out, _ := run(t, "", "audit", "status", "--url", env.URL)
	if code != 0 || !strings.Contains(out, "has not started") {
		t.Fatalf("before the start: exit %d: %s", code, out)
	}
	ctx := context.Background()
	if err := env.Server.SignCheckpoint(ctx); err != nil {
		t.Fatal(err)
	}
	const seed = "16180339887498948482045"
	a, err := env.Night.StartAudit(ctx, "ann", seed, "10")
	if err != nil {
		t.Fatal(err)
	}
	id := a.PrecinctsToCount[0]
	var r report.Report
	for i, p := range env.Def.Precincts() {
		if p.ID == id {
			r = env.Report(p.ID, "audit-"+itoa(i), i)
		}
	}
	for _, op := range []string{"otto", "oona"} {
		if _, err := env.Night.KeyHandCount(ctx, op, id, r.First, r.Final); err != nil {
			t.Fatal(err)
		}
	}
	code, js, stderr := run(t, "", "audit", "status", "--url", env.URL, "--json")
	_, api := env.Do("GET", "/api/v1/audit", "", nil)
	var got, want any
	json.Unmarshal([]byte(js), &got)
	json.Unmarshal(api, &want)
	if code != 0 || fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("--json: exit %d %s: %s\nwant %s", code, stderr, js, api)
	}
	code, out, _ = run(t, "", "audit", "status", "--url", env.URL)
	if code != 0 || !strings.Contains(out, "Audit from seed "+seed+" at a risk limit of 10 %; 1 precincts hand counted") ||
		!strings.Contains(out, "status: in_progress") || !strings.Contains(out, "started by ann") {
		t.Fatalf("text: exit %d: %s", code, out)
	}
	// Anyone redraws the server's samples from the seed and the published results.
	code, redrawn, stderr := run(t, "", "audit", "status", "--seed", seed, "--url", env.URL, "--risk-limit", "10", "--json")
	if code != 0 {
		t.Fatalf("redraw: exit %d: %s", code, stderr)
	}
	var rd statusJSON
	if err := json.Unmarshal([]byte(redrawn), &rd); err != nil {
		t.Fatal(err)
	}
	for i, c := range a.Contests {
		if len(rd.Contests[i].Tickets) != len(c.Sample) {
			t.Fatalf("%s: %d tickets redrawn, the server drew %d", c.Contest, len(rd.Contests[i].Tickets), len(c.Sample))
		}
		for j, tk := range c.Sample {
			if rt := rd.Contests[i].Tickets[j]; rt.Hash != tk.Hash || rt.PrecinctID != tk.PrecinctID {
				t.Fatalf("%s ticket %d: redrawn %+v, the server's %+v", c.Contest, j, rt, tk)
			}
		}
	}
}
