package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"strings"
	"testing"

	"caucus/internal/auth"
	"caucus/internal/report"
	"caucus/internal/results"
	"caucus/internal/review"
	"caucus/internal/server"
	"caucus/internal/server/servertest"
	"caucus/internal/store"
)

// submitReport sends a chair's report and returns its receipt (201 or 409 for a conflict).
func submitReport(t *testing.T, env *servertest.Env, tok string, r report.Report, acked *servertest.Acked) report.Receipt {
	t.Helper()
	status, b := env.Do("POST", "/api/v1/reports", tok, r.Canonical())
	var rc report.Receipt
	if status == http.StatusConflict {
		var c struct{ Receipt report.Receipt }
		json.Unmarshal(b, &c)
		rc = c.Receipt
	} else if status == http.StatusCreated {
		json.Unmarshal(b, &rc)
	} else {
		t.Fatalf("report %s: %d %s", r.ReportID, status, b)
	}
	acked.Add(t, rc)
	return rc
}

func reviewQueue(t *testing.T, env *servertest.Env, tok string) []review.Item {
	t.Helper()
	status, b := env.Do("GET", "/api/v1/hq/review", tok, nil)
	if status != http.StatusOK {
		t.Fatalf("GET /api/v1/hq/review: %d %s", status, b)
	}
	var q struct{ Items []review.Item }
	if err := json.Unmarshal(b, &q); err != nil {
		t.Fatal(err)
	}
	return q.Items
}

func decide(t *testing.T, env *servertest.Env, tok, precinct string, body any) (int, map[string]any) {
	t.Helper()
	b, _ := json.Marshal(body)
	status, out := env.Do("POST", "/api/v1/hq/review/"+precinct, tok, b)
	var m map[string]any
	json.Unmarshal(out, &m)
	return status, m
}

func precinctDoc(t *testing.T, env *servertest.Env, id string) results.Precinct {
	t.Helper()
	status, b := env.Do("GET", "/api/v1/results/precincts/"+id, "", nil)
	if status != http.StatusOK {
		t.Fatalf("precinct %s: %d", id, status)
	}
	var d results.Precinct
	json.Unmarshal(b, &d)
	return d
}

// staffActions counts the staff_action audit rows.
func staffActions(t *testing.T, env *servertest.Env) int {
	t.Helper()
	rows, err := env.DB.Audit(context.Background(), 0, 100000)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, a := range rows {
		if a.Kind == store.AuditStaffAction {
			n++
		}
	}
	return n
}

// TestReviewAcceptSecond: a conflict, in the queue with both reports side by side, resolved by
// accepting the second: the totals follow it, one entry counts, the queue is empty, and each
// decision request leaves one audit row.
func TestReviewAcceptSecond(t *testing.T) {
	env := servertest.Start(t, servertest.Options{Precincts: 4})
	var acked servertest.Acked
	chair := env.Login("p0001")
	first := env.Report("p0001", "first", 1)
	second := env.Report("p0001", "second", 2)
	a := submitReport(t, env, chair, first, &acked)
	b := submitReport(t, env, chair, second, &acked)
	rita := env.StaffLogin("rita", auth.RoleReviewer)
	olive := env.StaffLogin("olive", auth.RoleObserver)

	for _, who := range []struct {
		tok    string
		status int
	}{{"", 401}, {chair, 403}, {env.StaffLogin("otto", auth.RoleOperator), 403}, {olive, 200}, {rita, 200}} {
		if status, body := env.Do("GET", "/api/v1/hq/review", who.tok, nil); status != who.status {
			t.Errorf("GET /api/v1/hq/review: %d %s, want %d", status, body, who.status)
		}
	}
	items := reviewQueue(t, env, olive)
	if len(items) != 1 {
		t.Fatalf("queue: %+v", items)
	}
	it := items[0]
	if it.PrecinctID != "p0001" || len(it.Reasons) != 1 || it.Reasons[0] != review.Conflict || len(it.Entries) != 2 ||
		it.Entries[0].LogIndex != a.LogIndex || it.Entries[1].LogIndex != b.LogIndex || it.Entries[1].Submitter != "p0001" ||
		it.Entries[1].Report.Attendees != second.Attendees || it.Entries[1].Math.Threshold == nil || len(it.History) != 2 {
		t.Fatalf("item: %+v", it)
	}

	// An observer may read but not decide.
	if status, m := decide(t, env, olive, "p0001", map[string]any{"action": "accept", "log_index": b.LogIndex, "reason": "r"}); status != 403 {
		t.Fatalf("observer decides: %d %v", status, m)
	}
	audits := staffActions(t, env)
	status, m := decide(t, env, rita, "p0001", map[string]any{"action": "accept", "log_index": b.LogIndex,
		"reason": "called the chair: the second count is the right one", "last_index": it.LastIndex})
	if status != http.StatusCreated {
		t.Fatalf("accept: %d %v", status, m)
	}
	if got := staffActions(t, env); got != audits+1 {
		t.Errorf("%d staff_action rows for one decision", got-audits)
	}
	d := precinctDoc(t, env, "p0001")
	if d.Status != results.Accepted || *d.CountedEntry != b.LogIndex || *d.Attendees != second.Attendees ||
		len(d.Entries) != 3 || int64(m["log_index"].(float64)) != d.Entries[2] {
		t.Fatalf("precinct after accepting the second: %+v (answer %v)", d, m)
	}
	counted := 0
	for _, h := range d.History {
		if h.Counted {
			counted++
		}
	}
	if counted != 1 || len(d.History) != 3 || d.History[2].Kind != "review" || d.History[2].Submitter != "rita" {
		t.Errorf("history: %+v", d.History)
	}
	for _, g := range d.Groups {
		if g.First != second.First[g.CandidateID] {
			t.Errorf("group %s: first %d, the accepted report says %d", g.CandidateID, g.First, second.First[g.CandidateID])
		}
	}
	if items := reviewQueue(t, env, rita); len(items) != 0 {
		t.Errorf("queue after the decision: %+v", items)
	}
	env.Check(&acked)
}

// TestReviewCorrection: a correction changes the totals, the history keeps the original, the
// public page shows both; its author may not accept it later, another reviewer may; refusals
// name the field.
func TestReviewCorrection(t *testing.T) {
	env := servertest.Start(t, servertest.Options{Precincts: 4})
	var acked servertest.Acked
	chair := env.Login("p0002")
	orig := env.Report("p0002", "orig", 3)
	o := submitReport(t, env, chair, orig, &acked)
	rita, sam := env.StaffLogin("rita", auth.RoleReviewer), env.StaffLogin("sam", auth.RoleReviewer)
	fixed := env.Report("p0002", "fix-1", 8)
	fixed.Channel = "paper"
	bad := env.Report("p0002", "fix-bad", 8)
	bad.Attendees -= 10 // fewer signed in than in the first alignment: a hard error

	for _, c := range []struct {
		name   string
		body   map[string]any
		status int
		says   string
	}{
		{"no reason", map[string]any{"action": "correct", "report": fixed}, 422, "reason"},
		{"unknown action", map[string]any{"action": "approve", "reason": "r"}, 422, "action"},
		{"accept without entry", map[string]any{"action": "accept", "reason": "r"}, 422, "log_index"},
		{"correct without report", map[string]any{"action": "correct", "reason": "r"}, 422, "report"},
		{"unknown field", map[string]any{"action": "correct", "reason": "r", "report": fixed, "extra": 1}, 400, "extra"},
		{"hard errors", map[string]any{"action": "correct", "reason": "r", "report": bad}, 422, "errors"},
		{"accept a report of another precinct", map[string]any{"action": "accept", "reason": "r", "log_index": 99}, 422, "log_index 99"},
	} {
		status, m := decide(t, env, rita, "p0002", c.body)
		if msg, _ := m["error"].(string); status != c.status || !strings.Contains(msg, c.says) {
			t.Errorf("%s: %d %v, want %d saying %q", c.name, status, m, c.status, c.says)
		}
		if c.name == "hard errors" {
			if checks, _ := m["checks"].([]any); len(checks) == 0 {
				t.Errorf("hard errors: no checks in %v", m)
			}
		}
	}
	status, m := decide(t, env, rita, "p0002", map[string]any{"action": "correct", "report": fixed, "reason": "the worksheet photo shows 8 more"})
	if status != http.StatusCreated {
		t.Fatalf("correct: %d %v", status, m)
	}
	fix := int64(m["log_index"].(float64))
	d := precinctDoc(t, env, "p0002")
	if d.Status != results.Corrected || *d.CountedEntry != fix || *d.Attendees != fixed.Attendees || len(d.History) != 2 ||
		d.History[0].LogIndex != o.LogIndex || d.History[0].Report == nil || d.History[0].Report.Attendees != orig.Attendees ||
		d.History[1].Reason != "the worksheet photo shows 8 more" || !d.History[1].Counted {
		t.Fatalf("precinct after the correction: %+v", d)
	}
	status, page := env.Do("GET", "/results/precincts/p0002", "", nil)
	for _, want := range []string{"the worksheet photo shows 8 more", "rita", "correction", "Original report"} {
		if status != 200 || !bytes.Contains(page, []byte(want)) {
			t.Errorf("the precinct page does not show %q (%d)", want, status)
		}
	}
	// A late report puts the precinct back in the queue; rita may not accept her own correction.
	submitReport(t, env, chair, env.Report("p0002", "late", 5), &acked)
	if status, m := decide(t, env, rita, "p0002", map[string]any{"action": "accept", "log_index": fix, "reason": "mine stands"}); status != 403 ||
		!strings.Contains(m["error"].(string), "another reviewer") {
		t.Fatalf("rita accepts her own correction: %d %v", status, m)
	}
	if status, m := decide(t, env, sam, "p0002", map[string]any{"action": "accept", "log_index": fix, "reason": "the correction stands"}); status != 201 {
		t.Fatalf("sam accepts rita's correction: %d %v", status, m)
	}
	if d := precinctDoc(t, env, "p0002"); *d.CountedEntry != fix || *d.Attendees != fixed.Attendees || len(d.History) != 4 {
		t.Fatalf("after sam's decision: %+v", d)
	}
	env.Check(&acked)
}

// TestStaffPhoto: a worksheet photo a chair uploaded is served to staff, never to anyone else.
func TestStaffPhoto(t *testing.T) {
	env := servertest.Start(t, servertest.Options{Precincts: 2})
	chair := env.Login("p0001")
	img := image.NewRGBA(image.Rect(0, 0, 40, 30))
	for x := range 40 {
		img.Set(x, x%30, color.RGBA{200, 10, 10, 255})
	}
	var buf bytes.Buffer
	png.Encode(&buf, img)
	req, _ := http.NewRequest("POST", env.URL+"/api/v1/photos", bytes.NewReader(buf.Bytes()))
	req.Header.Set("Content-Type", "image/png")
	req.Header.Set("Authorization", "Bearer "+chair)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var up struct{ SHA256 string }
	json.NewDecoder(resp.Body).Decode(&up)
	resp.Body.Close()
	if resp.StatusCode != 201 || up.SHA256 == "" {
		t.Fatalf("upload: %d %+v", resp.StatusCode, up)
	}
	path := "/api/v1/hq/photos/" + up.SHA256
	for _, who := range []struct {
		name   string
		tok    string
		status int
	}{{"anonymous", "", 401}, {"chair", chair, 403}, {"operator", env.StaffLogin("otto", auth.RoleOperator), 200},
		{"observer", env.StaffLogin("olive", auth.RoleObserver), 200}, {"reviewer", env.StaffLogin("rita", auth.RoleReviewer), 200}} {
		req, _ := http.NewRequest("GET", env.URL+path, nil)
		if who.tok != "" {
			req.Header.Set("Authorization", "Bearer "+who.tok)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var body bytes.Buffer
		body.ReadFrom(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != who.status {
			t.Errorf("%s: %d, want %d", who.name, resp.StatusCode, who.status)
			continue
		}
		if who.status == 200 {
			p, err := env.DB.Photo(context.Background(), up.SHA256)
			if err != nil || !bytes.Equal(body.Bytes(), p.Data) || resp.Header.Get("Content-Type") != "image/jpeg" ||
				!strings.HasPrefix(resp.Header.Get("Cache-Control"), "private") {
				t.Errorf("%s: photo served as %v (%d bytes), %v", who.name, resp.Header, body.Len(), err)
			}
		}
	}
	rita := env.StaffLogin("rita2", auth.RoleReviewer)
	if status, _ := env.Do("GET", "/api/v1/hq/photos/"+strings.Repeat("ab", 32), rita, nil); status != 404 {
		t.Errorf("unknown photo: %d", status)
	}
	if status, _ := env.Do("GET", "/api/v1/hq/photos/NOTAHASH", rita, nil); status != 404 {
		t.Errorf("bad name: %d", status)
	}
}

// TestReviewPage: /hq/review sends a browser without a session to the login page, refuses a
// role that may not read the queue, and gives observers the page without a decision form.
func TestReviewPage(t *testing.T) {
	env := servertest.Start(t, servertest.Options{Precincts: 2})
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(token string) (*http.Response, string) {
		req, _ := http.NewRequest("GET", env.URL+"/hq/review", nil)
		if token != "" {
			req.AddCookie(&http.Cookie{Name: server.StaffCookie, Value: token})
		}
		resp, err := noRedirect.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		b.ReadFrom(resp.Body)
		resp.Body.Close()
		return resp, b.String()
	}
	if resp, _ := get(""); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/hq/login?next=%2Fhq%2Freview" {
		t.Errorf("without a session: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if resp, _ := get(env.StaffLogin("otto", auth.RoleOperator)); resp.StatusCode != http.StatusForbidden {
		t.Errorf("operator: %d", resp.StatusCode)
	}
	resp, page := get(env.StaffLogin("olive", auth.RoleObserver))
	if resp.StatusCode != 200 || !strings.Contains(page, `data-readonly="1"`) || strings.Contains(page, `id="decide"`) ||
		resp.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("observer: %d %v\n%s", resp.StatusCode, resp.Header, page)
	}
	resp, page = get(env.StaffLogin("rita", auth.RoleReviewer))
	if resp.StatusCode != 200 || strings.Contains(page, `data-readonly`) || !strings.Contains(page, `id="decide"`) {
		t.Errorf("reviewer: %d\n%s", resp.StatusCode, page)
	}
}
