package server_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"caucus/internal/report"
	"caucus/internal/server/servertest"
)

func submit(env *servertest.Env, token string, r report.Report) (int, report.Receipt, []byte) {
	status, b := env.Do("POST", "/api/v1/reports", token, r.Canonical())
	var rc report.Receipt
	json.Unmarshal(b, &rc)
	return status, rc, b
}

func TestSubmitAndResults(t *testing.T) {
	env := servertest.Start(t, servertest.Options{Precincts: 5})
	var acked servertest.Acked
	tok := env.Login("p0001")
	r := env.Report("p0001", "first-report", 1)
	status, rc, b := submit(env, tok, r)
	if status != http.StatusCreated || rc.LogIndex != 0 || rc.Status != "accepted" || len(rc.LeafHash) != 64 {
		t.Fatalf("first submission: %d %s", status, b)
	}
	acked.Add(t, rc)
	status, again, _ := submit(env, tok, r)
	if status != http.StatusOK || again.LogIndex != rc.LogIndex || again.LeafHash != rc.LeafHash {
		t.Fatalf("the same report again: %d %+v, want 200 and %+v", status, again, rc)
	}
	status, b = env.Do("GET", "/api/v1/results", "", nil)
	var res struct {
		PrecinctsReporting int `json:"precincts_reporting"`
		LogSize            int `json:"log_size"`
	}
	json.Unmarshal(b, &res)
	if status != 200 || res.PrecinctsReporting != 1 || res.LogSize != 1 {
		t.Errorf("results: %d %s", status, b)
	}
	env.Check(&acked)
}

// TestStatusCodes walks every status of the contract's POST /api/v1/reports and login.
func TestStatusCodes(t *testing.T) {
	env := servertest.Start(t, servertest.Options{Precincts: 5})
	var acked servertest.Acked
	tok := env.Login("p0001")
	other := env.Login("p0002")
	r := env.Report("p0001", "a", 1)

	status, rc, _ := submit(env, tok, r)
	check(t, "201 new", status, http.StatusCreated)
	acked.Add(t, rc)
	status, _, _ = submit(env, tok, r)
	check(t, "200 same report again", status, http.StatusOK)

	r2 := env.Report("p0001", "b", 2)
	status, _, b := submit(env, tok, r2)
	check(t, "409 second report for the precinct", status, http.StatusConflict)
	var conflict struct {
		Receipt report.Receipt `json:"receipt"`
	}
	json.Unmarshal(b, &conflict)
	acked.Add(t, conflict.Receipt)

	r3 := env.Report("p0001", "a", 3) // same report_id, different numbers
	status, _, b = submit(env, tok, r3)
	check(t, "409 report_id reused", status, http.StatusConflict)
	if !strings.Contains(string(b), "already used") {
		t.Errorf("reused report_id: %s", b)
	}

	bad := env.Report("p0003", "c", 1)
	bad.Final = map[string]int64{"adams": 500}
	status, _, b = submit(env, env.Login("p0003"), bad)
	check(t, "422 hard error", status, http.StatusUnprocessableEntity)
	if !strings.Contains(string(b), "C04") {
		t.Errorf("422 does not name the check: %s", b)
	}

	status, _, _ = submit(env, "", r)
	check(t, "401 no token", status, http.StatusUnauthorized)
	status, _, _ = submit(env, "not-a-token", r)
	check(t, "401 bad token", status, http.StatusUnauthorized)

	status, _, _ = submit(env, other, env.Report("p0001", "d", 1))
	check(t, "403 token of another precinct", status, http.StatusForbidden)

	status, _ = env.Do("POST", "/api/v1/reports", tok, []byte(`{"report_id":"x","precinct_id":"p0001","attendees":`+strings.Repeat("1", report.MaxBytes)+`}`))
	check(t, "413 too large", status, http.StatusRequestEntityTooLarge)

	status, _ = env.Do("POST", "/api/v1/reports", tok, []byte(`{not json`))
	check(t, "400 not JSON", status, http.StatusBadRequest)

	// 429: wrong PINs (with a valid check digit) are throttled after the free attempts.
	got429 := false
	for i := 0; i < 10 && !got429; i++ {
		body, _ := json.Marshal(map[string]string{"precinct_id": "p0004", "pin": wrongPIN(env.PINs["p0004"], i)})
		status, _ = env.Do("POST", "/api/v1/login", "", body)
		got429 = status == http.StatusTooManyRequests
		if status != http.StatusUnauthorized && status != http.StatusTooManyRequests {
			t.Fatalf("wrong PIN: status %d", status)
		}
	}
	if !got429 {
		t.Error("10 wrong PINs were never throttled (429)")
	}
	env.Check(&acked)
}

func check(t *testing.T, what string, got, want int) {
	t.Helper()
	if got != want {
		t.Errorf("%s: status %d, want %d", what, got, want)
	}
}

// wrongPIN makes a different PIN that passes the check digit: change the first digit and
// recompute the last with the Damm table, via the public parser's verdict.
func wrongPIN(pin string, i int) string {
	digits := []byte(strings.ReplaceAll(pin, "-", ""))
	digits[0] = byte('0' + (int(digits[0]-'0')+1+i)%10)
	for c := byte('0'); c <= '9'; c++ {
		digits[len(digits)-1] = c
		if servertest.ValidPIN(string(digits)) {
			return string(digits)
		}
	}
	return string(digits)
}

// TestConcurrentChairs: 200 chairs each submit their report twice at once; every one is
// stored exactly once and both answers carry the same receipt. 400 submissions at once may be
// more than the intake admits: a 503 is retried with the same report_id, as the chair app does.
func TestConcurrentChairs(t *testing.T) {
	const n = 200
	env := servertest.Start(t, servertest.Options{Precincts: n})
	var acked servertest.Acked
	tokens := make([]string, n)
	for i := range n {
		tokens[i] = env.Login(fmt.Sprintf("p%04d", i))
	}
	var wg sync.WaitGroup
	for i := range n {
		for range 2 {
			wg.Go(func() {
				r := env.Report(fmt.Sprintf("p%04d", i), fmt.Sprintf("chair-%d", i), i)
				status, rc, b := submit(env, tokens[i], r)
				for try := 0; status == http.StatusServiceUnavailable && try < 100; try++ {
					time.Sleep(20 * time.Millisecond)
					status, rc, b = submit(env, tokens[i], r)
				}
				if status != http.StatusCreated && status != http.StatusOK {
					t.Errorf("chair %d: %d %s", i, status, b)
					return
				}
				acked.Add(t, rc)
			})
		}
	}
	wg.Wait()
	if len(acked.Receipts) != n {
		t.Errorf("%d reports acknowledged, want %d", len(acked.Receipts), n)
	}
	env.Check(&acked)
}

// TestSimultaneousConflict: two different reports for one precinct at the same instant:
// exactly one is counted (201), the other kept and flagged (409); the precinct is under review.
func TestSimultaneousConflict(t *testing.T) {
	env := servertest.Start(t, servertest.Options{Precincts: 3})
	var acked servertest.Acked
	tok := env.Login("p0000")
	statuses := make([]int, 2)
	var wg sync.WaitGroup
	for i := range 2 {
		wg.Go(func() {
			status, rc, b := submit(env, tok, env.Report("p0000", fmt.Sprintf("r%d", i), i))
			statuses[i] = status
			if status == http.StatusConflict {
				var c struct {
					Receipt report.Receipt `json:"receipt"`
				}
				json.Unmarshal(b, &c)
				rc = c.Receipt
			}
			acked.Add(t, rc)
		})
	}
	wg.Wait()
	if !(statuses[0] == 201 && statuses[1] == 409 || statuses[0] == 409 && statuses[1] == 201) {
		t.Fatalf("statuses %v, want one 201 and one 409", statuses)
	}
	_, b := env.Do("GET", "/api/v1/results/precincts/p0000", "", nil)
	var p struct {
		Status  string  `json:"status"`
		Entries []int64 `json:"entries"`
	}
	json.Unmarshal(b, &p)
	if p.Status != "under_review" || len(p.Entries) != 2 {
		t.Errorf("precinct after a conflict: %s", b)
	}
	env.Check(&acked)
}

// TestRestartByteIdentical: after a restart the results are rebuilt from the log to the same
// bytes.
func TestRestartByteIdentical(t *testing.T) {
	env := servertest.Start(t, servertest.Options{Precincts: 12})
	var acked servertest.Acked
	for i := range 10 {
		p := fmt.Sprintf("p%04d", i)
		_, rc, _ := submit(env, env.Login(p), env.Report(p, "r-"+p, i))
		acked.Add(t, rc)
	}
	paths := []string{"/api/v1/results", "/api/v1/results/counties", "/api/v1/results/counties/alpha",
		"/api/v1/results/precincts/p0003", "/api/v1/results.csv"}
	before := map[string]string{}
	for _, p := range paths {
		_, b := env.Do("GET", p, "", nil)
		before[p] = string(b)
	}
	env.Restart()
	for _, p := range paths {
		if _, b := env.Do("GET", p, "", nil); string(b) != before[p] {
			t.Errorf("%s changed across a restart:\n%s\n%s", p, before[p], b)
		}
	}
	env.Check(&acked)
}

// TestResultsCaching: results carry an ETag, CDN-friendly Cache-Control and the log size they
// were computed from; a matching If-None-Match gets 304, and a new report changes the ETag.
func TestResultsCaching(t *testing.T) {
	env := servertest.Start(t, servertest.Options{Precincts: 3})
	get := func(path, etag string) *http.Response {
		req, _ := http.NewRequest("GET", env.URL+path, nil)
		if etag != "" {
			req.Header.Set("If-None-Match", etag)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	for _, path := range []string{"/api/v1/results", "/api/v1/results/counties", "/api/v1/results/counties/alpha",
		"/api/v1/results/precincts/p0001", "/api/v1/results.csv"} {
		resp := get(path, "")
		etag := resp.Header.Get("ETag")
		if resp.StatusCode != 200 || etag == "" || !strings.Contains(resp.Header.Get("Cache-Control"), "max-age") ||
			resp.Header.Get("Caucus-Log-Size") != "0" {
			t.Errorf("%s: %d, headers %v", path, resp.StatusCode, resp.Header)
		}
		if again := get(path, etag); again.StatusCode != http.StatusNotModified {
			t.Errorf("%s with If-None-Match: %d, want 304", path, again.StatusCode)
		}
	}
	before := get("/api/v1/results", "").Header.Get("ETag")
	submit(env, env.Login("p0001"), env.Report("p0001", "r", 1))
	after := get("/api/v1/results", before)
	if after.StatusCode != 200 || after.Header.Get("ETag") == before || after.Header.Get("Caucus-Log-Size") != "1" {
		t.Errorf("after a report: %d, ETag %q (was %q), size %s", after.StatusCode, after.Header.Get("ETag"), before, after.Header.Get("Caucus-Log-Size"))
	}
}
