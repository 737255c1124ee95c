package server_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"pgregory.net/rapid"

	"caucus/internal/report"
	"caucus/internal/server/servertest"
)

// routes lists every route of the contract with a request that reaches it.
var routes = []struct{ method, path string }{
	{"POST", "/api/v1/login"},
	{"POST", "/api/v1/logout"},
	{"POST", "/api/v1/reports"},
	{"POST", "/api/v1/callbacks/anonymous"},
	{"POST", "/api/v1/calc"},
	{"GET", "/api/v1/results"},
	{"GET", "/api/v1/results/counties"},
	{"GET", "/api/v1/results/counties/alpha"},
	{"GET", "/api/v1/results/precincts/p0001"},
	{"GET", "/api/v1/results.csv"},
	{"GET", "/healthz"},
	{"GET", "/metrics"},
	{"GET", "/no/such/page"},
}

// TestSecurityHeaders is reliability.md A6: every response, errors and 404 included.
func TestSecurityHeaders(t *testing.T) {
	env := servertest.Start(t, servertest.Options{Precincts: 3})
	for _, rt := range routes {
		req, _ := http.NewRequest(rt.method, env.URL+rt.path, strings.NewReader("{}"))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		h := resp.Header
		for name, want := range map[string]string{
			"Content-Security-Policy":   "default-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
			"Strict-Transport-Security": "max-age=31536000; includeSubDomains",
			"X-Content-Type-Options":    "nosniff",
			"Referrer-Policy":           "no-referrer",
		} {
			if got := h.Get(name); got != want {
				t.Errorf("%s %s: %s = %q, want %q", rt.method, rt.path, name, got, want)
			}
		}
	}
}

// TestCrossOrigin is reliability.md A5: a state-changing request from a foreign origin is
// refused (403); the same request from the same origin is not.
func TestCrossOrigin(t *testing.T) {
	env := servertest.Start(t, servertest.Options{Precincts: 3})
	tok := env.Login("p0001")
	body := env.Report("p0001", "x", 1).Canonical()
	for _, rt := range routes {
		if rt.method != "POST" {
			continue
		}
		req, _ := http.NewRequest("POST", env.URL+rt.path, bytes.NewReader(body))
		req.Header.Set("Origin", "https://evil.example")
		req.Header.Set("Sec-Fetch-Site", "cross-site")
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("cross-site POST %s: %d, want 403", rt.path, resp.StatusCode)
		}
	}
	req, _ := http.NewRequest("POST", env.URL+"/api/v1/reports", bytes.NewReader(body))
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Errorf("same-origin POST: %d, want 201", resp.StatusCode)
	}
	size, _ := env.DB.Size(t.Context())
	if size != 1 {
		t.Errorf("log size %d, want 1: a refused cross-site report was stored", size)
	}
}

// TestBodyLimits is reliability.md I2: every route taking a body refuses one over its limit
// with 413 and a JSON reason, and stores nothing.
func TestBodyLimits(t *testing.T) {
	env := servertest.Start(t, servertest.Options{Precincts: 3})
	tok := env.Login("p0001")
	huge := []byte(`{"precinct_id":"` + strings.Repeat("x", 1<<20) + `"}`)
	for _, rt := range routes {
		if rt.method != "POST" || rt.path == "/api/v1/logout" {
			continue
		}
		status, b := env.Do("POST", rt.path, tok, huge)
		if status != http.StatusRequestEntityTooLarge && status != http.StatusBadRequest {
			t.Errorf("%s with 1 MiB: %d %s", rt.path, status, b)
		}
		var e struct{ Error string }
		if json.Unmarshal(b, &e) != nil || e.Error == "" {
			t.Errorf("%s: no JSON reason: %s", rt.path, b)
		}
	}
	if size, _ := env.DB.Size(t.Context()); size != 0 {
		t.Errorf("log size %d after refused bodies", size)
	}
}

// TestBadInput: each bad submission gets its status and a clear message, and the store is
// unchanged.
func TestBadInput(t *testing.T) {
	env := servertest.Start(t, servertest.Options{Precincts: 3})
	tok := env.Login("p0001")
	good := env.Report("p0001", "good", 1)
	with := func(f func(r *report.Report)) []byte {
		r := good
		r.First, r.Final = clone(good.First), clone(good.Final)
		f(&r)
		return r.Canonical()
	}
	tests := []struct {
		name   string
		body   []byte
		status int
		says   string
	}{
		{"malformed JSON", []byte(`{"report_id": "x",`), 400, "not valid JSON"},
		{"unknown field", bytes.Replace(good.Canonical(), []byte(`"channel"`), []byte(`"is_admin":true,"channel"`), 1), 400, "unknown field"},
		{"unknown precinct", with(func(r *report.Report) { r.PrecinctID = "nowhere" }), 403, "nowhere"},
		{"unknown candidate", with(func(r *report.Report) { r.First["bidne"] = 1; r.Attendees++ }), 422, "C02"},
		{"negative count", bytes.Replace(good.Canonical(), []byte(`"adams":`), []byte(`"adams":-`), 1), 422, "0 or more"},
		{"huge count", with(func(r *report.Report) { r.First["adams"] = 99_000_000 }), 422, "at most"},
		{"more in final than first", with(func(r *report.Report) { r.Final["adams"] += 50 }), 422, "C04"},
		{"token of another precinct", with(func(r *report.Report) { r.PrecinctID = "p0002" }), 403, "p0002"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, b := env.Do("POST", "/api/v1/reports", tok, tt.body)
			if status != tt.status || !strings.Contains(string(b), tt.says) {
				t.Errorf("%d %s; want %d saying %q", status, b, tt.status, tt.says)
			}
		})
	}
	if size, _ := env.DB.Size(t.Context()); size != 0 {
		t.Errorf("log size %d after bad input, want 0", size)
	}
	env.Check(&servertest.Acked{})
}

func clone(c map[string]int64) map[string]int64 {
	out := make(map[string]int64, len(c))
	for k, v := range c {
		out[k] = v
	}
	return out
}

// TestIdempotentRetry is reliability.md C1: the same report sent 1–10 times concurrently, with
// restarts between rounds, is stored once and every answer carries the same receipt.
func TestIdempotentRetry(t *testing.T) {
	env := servertest.Start(t, servertest.Options{Precincts: 40})
	var acked servertest.Acked
	tokens := map[string]string{}
	round := 0
	rapid.Check(t, func(rt *rapid.T) {
		p := fmt.Sprintf("p%04d", rapid.IntRange(0, 39).Draw(rt, "precinct"))
		if tokens[p] == "" {
			tokens[p] = env.Login(p)
		}
		id := fmt.Sprintf("retry-%s-%d", p, rapid.IntRange(0, 2).Draw(rt, "variant"))
		r := env.Report(p, id, len(id))
		copies := rapid.IntRange(1, 10).Draw(rt, "copies")
		var wg sync.WaitGroup
		for range copies {
			wg.Go(func() {
				status, rc, b := submit(env, tokens[p], r)
				switch status {
				case http.StatusCreated, http.StatusOK:
					acked.Add(t, rc)
				case http.StatusConflict: // another variant of this precinct came first: kept, flagged
					var c struct {
						Receipt report.Receipt `json:"receipt"`
					}
					json.Unmarshal(b, &c)
					acked.Add(t, c.Receipt)
				default:
					rt.Fatalf("status %d %s", status, b)
				}
			})
		}
		wg.Wait()
		if round++; round%25 == 0 {
			env.Restart()
			tokens = map[string]string{} // sessions survive restarts, but log in again anyway
		}
	})
	env.Check(&acked)
}

// TestReusedReportID is reliability.md C2: the same report_id with another body is 409 with the
// original receipt; the second body is kept as evidence in the audit log and never applied.
func TestReusedReportID(t *testing.T) {
	env := servertest.Start(t, servertest.Options{Precincts: 3})
	var acked servertest.Acked
	tok := env.Login("p0001")
	_, first, _ := submit(env, tok, env.Report("p0001", "same-id", 1))
	acked.Add(t, first)
	status, b := env.Do("POST", "/api/v1/reports", tok, env.Report("p0001", "same-id", 2).Canonical())
	var out struct {
		Receipt report.Receipt `json:"receipt"`
	}
	json.Unmarshal(b, &out)
	if status != http.StatusConflict || out.Receipt.LeafHash != first.LeafHash {
		t.Fatalf("%d %s", status, b)
	}
	rows, _ := env.DB.Audit(t.Context(), 0, 100)
	found := false
	for _, a := range rows {
		found = found || a.Kind == "report_id_reused" && bytes.Contains(a.Detail, []byte(`"body"`))
	}
	if !found {
		t.Error("the second body is not kept in the audit log")
	}
	env.Check(&acked)
}

// TestConflictsFlagged is reliability.md C3: 100 second reports with different numbers are all
// kept and flagged; the first stands.
func TestConflictsFlagged(t *testing.T) {
	const n = 100
	env := servertest.Start(t, servertest.Options{Precincts: n})
	var acked servertest.Acked
	for i := range n {
		p := fmt.Sprintf("p%04d", i)
		tok := env.Login(p)
		_, rc, _ := submit(env, tok, env.Report(p, p+"-a", i))
		acked.Add(t, rc)
		status, b := env.Do("POST", "/api/v1/reports", tok, env.Report(p, p+"-b", i+1000).Canonical())
		var out struct {
			Receipt report.Receipt `json:"receipt"`
		}
		json.Unmarshal(b, &out)
		if status != http.StatusConflict || out.Receipt.Status != "under_review" {
			t.Fatalf("%s second report: %d %s", p, status, b)
		}
		acked.Add(t, out.Receipt)
		_, pb := env.Do("GET", "/api/v1/results/precincts/"+p, "", nil)
		var pr struct {
			Status       string `json:"status"`
			CountedEntry int64  `json:"counted_entry"`
		}
		json.Unmarshal(pb, &pr)
		if pr.Status != "under_review" || pr.CountedEntry != rc.LogIndex {
			t.Fatalf("%s: %s", p, pb)
		}
	}
	env.Check(&acked)
}

// TestSameContentTwice is reliability.md C4: the same numbers under another report_id (a double
// tap, or the app and the hotline) are counted once.
func TestSameContentTwice(t *testing.T) {
	const n = 100
	env := servertest.Start(t, servertest.Options{Precincts: n})
	var acked servertest.Acked
	for i := range n {
		p := fmt.Sprintf("p%04d", i)
		tok := env.Login(p)
		r := env.Report(p, p+"-tap1", i)
		_, rc, _ := submit(env, tok, r)
		acked.Add(t, rc)
		r.ReportID = p + "-tap2"
		status, again, b := submit(env, tok, r)
		if status != http.StatusOK || again.LogIndex != rc.LogIndex {
			t.Fatalf("%s same numbers again: %d %s", p, status, b)
		}
	}
	if size, _ := env.DB.Size(t.Context()); size != n {
		t.Errorf("log size %d, want %d", size, n)
	}
	_, b := env.Do("GET", "/api/v1/results/precincts/p0007", "", nil)
	if !strings.Contains(string(b), `"status":"accepted"`) {
		t.Errorf("a double tap flagged the precinct: %s", b)
	}
	env.Check(&acked)
}
