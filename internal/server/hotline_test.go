package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"caucus/internal/auth"
	"caucus/internal/hotline"
	"caucus/internal/report"
	"caucus/internal/rules"
	"caucus/internal/server"
	"caucus/internal/server/servertest"
	"caucus/internal/store"
)

type keyed struct {
	status int
	res    hotline.Result
	err    struct {
		Error, Code string
	}
	raw []byte
}

// key sends one operator's copy of r, verified by the precinct's PIN.
func key(t testing.TB, env *servertest.Env, tok string, r report.Report, pin string) keyed {
	t.Helper()
	var rep map[string]any
	json.Unmarshal(r.Canonical(), &rep)
	delete(rep, "report_id") // the console sends none
	rep["channel"] = report.ChannelHotline
	body, _ := json.Marshal(map[string]any{"precinct_id": r.PrecinctID, "verified_by": "pin", "pin": pin, "report": rep})
	status, b := env.Do("POST", "/api/v1/hotline/entries", tok, body)
	k := keyed{status: status, raw: b}
	json.Unmarshal(b, &k.res)
	json.Unmarshal(b, &k.err)
	return k
}

// slip is r with one keying slip a tired operator makes (a count off by a little, in attendees
// or one candidate's first or final alignment), chosen by rng among the slips that leave the
// worksheet free of errors, and the field it changed.
func slip(t testing.TB, env *servertest.Env, r report.Report, rng *rand.Rand) (report.Report, string) {
	t.Helper()
	facts := report.Facts(env.Def)[r.PrecinctID]
	for range 200 {
		s := r
		s.First, s.Final = maps.Clone(r.First), maps.Clone(r.Final)
		d := int64(1 + rng.IntN(3))
		if rng.IntN(2) == 0 {
			d = -d
		}
		var field string
		switch rng.IntN(3) {
		case 0:
			s.Attendees += d
			field = "attendees"
		case 1:
			c := servertest.Candidates[rng.IntN(3)]
			s.First[c] += d
			field = "first." + c
		default:
			c := servertest.Candidates[rng.IntN(3)]
			s.Final[c] += d
			field = "final." + c
		}
		if res := rules.Calc(report.CalcInput(s, facts)); !res.HasErrors() {
			return s, field
		}
	}
	t.Fatalf("no slip of %s keeps the worksheet free of errors", r.PrecinctID)
	return r, ""
}

// published is a precinct's status and counts on the public results.
func published(t testing.TB, env *servertest.Env, p string) (status string, first map[string]int64) {
	t.Helper()
	code, b := env.Do("GET", "/api/v1/results/precincts/"+p, "", nil)
	if code != http.StatusOK {
		t.Fatalf("results of %s: %d %s", p, code, b)
	}
	var doc struct {
		Status string `json:"status"`
		Groups []struct {
			CandidateID string `json:"candidate_id"`
			First       int64  `json:"first"`
		} `json:"groups"`
	}
	json.Unmarshal(b, &doc)
	first = map[string]int64{}
	for _, c := range doc.Groups {
		first[c.CandidateID] = c.First
	}
	return doc.Status, first
}

func diffFields(ds []hotline.Difference) []string {
	var out []string
	for _, d := range ds {
		f := d.Field
		if d.CandidateID != "" {
			f += "." + d.CandidateID
		}
		out = append(out, f)
	}
	return out
}

// TestHotlineDoubleEntry is reliability.md C5 over 100 generated cases: two operators' copies
// that agree become one report (channel hotline, both operators named); copies that differ are
// never counted, name the field that differs, and wait for a third keying (which settles the
// round when it matches one of them) or for review.
func TestHotlineDoubleEntry(t *testing.T) {
	const cases = 100
	env := servertest.Start(t, servertest.Options{Precincts: cases})
	ops := map[string]string{}
	for _, u := range []string{"olga", "oscar", "otto"} {
		ops[u] = env.StaffLogin(u, auth.RoleOperator)
	}
	rng := rand.New(rand.NewPCG(14, 5))
	acked := &servertest.Acked{}
	var matched, mismatched, settledByThird, toReview int
	for i := range cases {
		p := fmt.Sprintf("p%04d", i)
		truth := env.Report(p, "truth", rng.IntN(1000))
		pin := env.PINs[p]
		first := key(t, env, ops["olga"], truth, pin)
		if first.status != http.StatusOK || first.res.State != hotline.StateWaitingSecond {
			t.Fatalf("%s first copy: %d %s", p, first.status, first.raw)
		}
		if st, _ := published(t, env, p); st != "not_reported" {
			t.Fatalf("%s counted after one copy: %s", p, st)
		}
		kind := rng.IntN(4) // 0: the copies match; 1, 2: a slip, the third copy matches; 3: a slip, the third slips too
		if kind == 0 {
			second := key(t, env, ops["oscar"], truth, pin)
			if second.status != http.StatusCreated || second.res.State != hotline.StateMatched || second.res.Receipt == nil {
				t.Fatalf("%s matching copies: %d %s", p, second.status, second.raw)
			}
			acked.Add(t, *second.res.Receipt)
			matched++
			checkCounted(t, env, p, truth, "olga+oscar")
			continue
		}
		slipped, field := slip(t, env, truth, rng)
		second := key(t, env, ops["oscar"], slipped, pin)
		if second.status != http.StatusOK || second.res.State != hotline.StateMismatch {
			t.Fatalf("%s mismatching copies: %d %s", p, second.status, second.raw)
		}
		mismatched++
		if got := diffFields(second.res.Differences); !slices.Contains(got, field) {
			t.Fatalf("%s: slip in %s, differences %v", p, field, got)
		}
		if st, _ := published(t, env, p); st != "not_reported" {
			t.Fatalf("%s counted after a mismatch: %s", p, st)
		}
		third := truth
		if kind == 3 {
			third, _ = slip(t, env, slipped, rng)
			if string(hotline.Content(third)) == string(hotline.Content(truth)) {
				third, _ = slip(t, env, third, rng)
			}
		}
		got := key(t, env, ops["otto"], third, pin)
		agreeing := string(hotline.Content(third)) == string(hotline.Content(truth)) ||
			string(hotline.Content(third)) == string(hotline.Content(slipped))
		switch {
		case agreeing:
			if got.status != http.StatusCreated || got.res.State != hotline.StateMatched {
				t.Fatalf("%s third copy matching one: %d %s", p, got.status, got.raw)
			}
			acked.Add(t, *got.res.Receipt)
			settledByThird++
			want, who := truth, "olga+otto"
			if string(hotline.Content(third)) == string(hotline.Content(slipped)) {
				want, who = slipped, "oscar+otto"
			}
			checkCounted(t, env, p, want, who)
		default:
			if got.status != http.StatusOK || got.res.State != hotline.StateMismatch || got.res.Copies != 3 {
				t.Fatalf("%s third copy matching neither: %d %s", p, got.status, got.raw)
			}
			if st, _ := published(t, env, p); st != "not_reported" {
				t.Fatalf("%s counted after three disagreeing copies: %s", p, st)
			}
			toReview++
		}
	}
	// Every unsettled mismatch is in the review queue's feed; nothing else is.
	contested, err := env.Desk.Contested(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(contested) != toReview {
		t.Errorf("contested: %d precincts, want the %d whose three copies disagree", len(contested), toReview)
	}
	for _, c := range contested {
		if st, _ := published(t, env, c.PrecinctID); st != "not_reported" || len(c.Differences) == 0 {
			t.Errorf("contested %s: published %s, differences %v", c.PrecinctID, st, c.Differences)
		}
	}
	t.Logf("%d cases: %d matched at once, %d mismatched (%d settled by a third copy, %d to review)",
		cases, matched, mismatched, settledByThird, toReview)
	if matched == 0 || settledByThird == 0 || toReview == 0 {
		t.Errorf("the cases did not cover every path")
	}
	env.Check(acked)
}

// checkCounted checks that p counts want, entered by the hotline with both operators named.
func checkCounted(t testing.TB, env *servertest.Env, p string, want report.Report, submitter string) {
	t.Helper()
	st, first := published(t, env, p)
	if st != "accepted" && st != "under_review" {
		t.Fatalf("%s not counted: %s", p, st)
	}
	for c, n := range want.First {
		if first[c] != n {
			t.Fatalf("%s publishes first %v, want %v", p, first, want.First)
		}
	}
	es, err := env.DB.PrecinctEntries(context.Background(), p)
	if err != nil || len(es) != 1 {
		t.Fatalf("%s entries: %d, %v; want exactly one", p, len(es), err)
	}
	e, err := report.ParseEntry(es[0].Body)
	if err != nil || e.Channel != report.ChannelHotline || e.Submitter != submitter {
		t.Fatalf("%s entry: %+v, %v; want channel hotline by %s", p, e, err, submitter)
	}
}

// TestHotlineSameOperator: one operator cannot key both copies.
func TestHotlineSameOperator(t *testing.T) {
	env := servertest.Start(t, servertest.Options{Precincts: 2})
	olga := env.StaffLogin("olga", auth.RoleOperator)
	r := env.Report("p0001", "x", 3)
	if k := key(t, env, olga, r, env.PINs["p0001"]); k.res.State != hotline.StateWaitingSecond {
		t.Fatalf("first copy: %d %s", k.status, k.raw)
	}
	// The same copy again is a retry (an answer lost on the way): it gets the round's answer.
	if k := key(t, env, olga, r, env.PINs["p0001"]); k.status != http.StatusOK || k.res.State != hotline.StateWaitingSecond || k.res.Copies != 1 {
		t.Fatalf("the same copy again: %d %s", k.status, k.raw)
	}
	// Another copy by the same operator is refused: it would be no check at all.
	other := env.Report("p0001", "x", 30)
	k := key(t, env, olga, other, env.PINs["p0001"])
	if k.status != http.StatusForbidden || k.err.Code != "same_operator" || !strings.Contains(k.err.Error, "another operator") {
		t.Fatalf("second copy by the same operator: %d %s", k.status, k.raw)
	}
	if st, _ := published(t, env, "p0001"); st != "not_reported" {
		t.Errorf("counted: %s", st)
	}
	// A chair and a reviewer may not key at all.
	chair := env.Login("p0001")
	rita := env.StaffLogin("rita", auth.RoleReviewer)
	for _, tok := range []string{chair, rita, ""} {
		if k := key(t, env, tok, r, env.PINs["p0001"]); k.status != http.StatusForbidden && k.status != http.StatusUnauthorized {
			t.Errorf("keying by a non-operator: %d %s", k.status, k.raw)
		}
	}
}

// TestHotlineWithApp is reliability.md C4 and C3 across channels: the app's report and the
// hotline's with the same numbers count once; with other numbers the hotline's is a conflict
// for review. The operator sees the app's report before keying.
func TestHotlineWithApp(t *testing.T) {
	env := servertest.Start(t, servertest.Options{Precincts: 3})
	olga, oscar := env.StaffLogin("olga", auth.RoleOperator), env.StaffLogin("oscar", auth.RoleOperator)
	acked := &servertest.Acked{}
	for _, tc := range []struct {
		p    string
		same bool
	}{{"p0001", true}, {"p0002", false}} {
		app := env.Report(tc.p, "app-"+tc.p, 5)
		status, b := env.Do("POST", "/api/v1/reports", env.Login(tc.p), app.Canonical())
		if status != http.StatusCreated {
			t.Fatalf("app report: %d %s", status, b)
		}
		var rc report.Receipt
		json.Unmarshal(b, &rc)
		acked.Add(t, rc)
		status, b = env.Do("GET", "/api/v1/hotline/precincts/"+tc.p, olga, nil)
		var view hotline.Precinct
		json.Unmarshal(b, &view)
		if status != http.StatusOK || view.Counted == nil || view.Counted.Channel != "app" || view.Counted.Report.Attendees != app.Attendees {
			t.Fatalf("view before keying: %d %s", status, b)
		}
		phoned := app
		if !tc.same {
			phoned = env.Report(tc.p, "x", 77)
		}
		key(t, env, olga, phoned, env.PINs[tc.p])
		k := key(t, env, oscar, phoned, env.PINs[tc.p])
		st, err := env.DB.PrecinctState(context.Background(), tc.p)
		if err != nil {
			t.Fatal(err)
		}
		if tc.same {
			if k.res.State != hotline.StateMatched || k.res.Counted != hotline.CountedSame || k.res.Receipt.LogIndex != rc.LogIndex {
				t.Fatalf("same numbers: %d %s", k.status, k.raw)
			}
			if st.Reports != 1 || st.Conflict {
				t.Errorf("same numbers by app and hotline: state %+v; want one report, no conflict", st)
			}
			continue
		}
		if k.res.State != hotline.StateMatched || k.res.Counted != hotline.CountedConflict {
			t.Fatalf("different numbers: %d %s", k.status, k.raw)
		}
		acked.Add(t, *k.res.Receipt)
		if st.Reports != 2 || !st.Conflict || st.Status != store.StatusUnderReview || st.Counted != rc.LogIndex {
			t.Errorf("different numbers by app and hotline: state %+v; want a conflict, the app's still counted", st)
		}
	}
	env.Check(acked)
}

// TestHotlineSecondKeyerSeesNoCopy: before keying, the second operator's view of the precinct
// names the first operator but holds none of the first copy's numbers; the first operator
// sees the differences of a mismatch only once they exist.
func TestHotlineSecondKeyerSeesNoCopy(t *testing.T) {
	env := servertest.Start(t, servertest.Options{Precincts: 2})
	olga, oscar := env.StaffLogin("olga", auth.RoleOperator), env.StaffLogin("oscar", auth.RoleOperator)
	r := env.Report("p0001", "x", 9)
	r.First["davis"] = 3
	key(t, env, olga, r, env.PINs["p0001"])
	status, b := env.Do("GET", "/api/v1/hotline/precincts/p0001", oscar, nil)
	var view hotline.Precinct
	json.Unmarshal(b, &view)
	if status != http.StatusOK || view.RoundState != hotline.StateWaitingSecond || view.KeyedByYou || len(view.Differences) != 0 {
		t.Fatalf("second keyer's view: %d %s", status, b)
	}
	for _, n := range []int64{r.Attendees, r.First["adams"], r.First["baker"]} {
		if strings.Contains(string(b), fmt.Sprint(n)) {
			t.Errorf("the view before keying holds %d, a number of the first copy: %s", n, b)
		}
	}
}

// TestCallbackQueue: requests are listed oldest first with the number on file for operators
// only; a claim is exclusive (under concurrency too); keying verified by call-back needs the
// claim; the chair sees that headquarters is calling; the board's figures follow.
func TestCallbackQueue(t *testing.T) {
	env := servertest.Start(t, servertest.Options{Precincts: 3})
	chair := env.Login("p0001")
	for _, p := range []string{"p0001", "p0002"} {
		tok := ""
		if p == "p0001" {
			tok = chair
		}
		body, _ := json.Marshal(map[string]string{"precinct_id": p, "phone": "515-555-010" + p[4:], "note": "help"})
		if status, b := env.Do("POST", "/api/v1/callbacks", tok, body); status != http.StatusCreated {
			t.Fatalf("call-back request: %d %s", status, b)
		}
	}
	ops := make([]string, 8)
	for i := range ops {
		ops[i] = env.StaffLogin(fmt.Sprintf("op%d", i), auth.RoleOperator)
	}
	if status, _ := env.Do("GET", "/api/v1/hotline/callbacks", chair, nil); status != http.StatusUnauthorized && status != http.StatusForbidden {
		t.Errorf("a chair reads the queue: %d", status)
	}
	status, b := env.Do("GET", "/api/v1/hotline/callbacks", ops[0], nil)
	var q struct {
		Callbacks []struct {
			ID         int64  `json:"callback_id"`
			PrecinctID string `json:"precinct_id"`
			Phone      string `json:"phone"`
			State      string `json:"state"`
		} `json:"callbacks"`
	}
	json.Unmarshal(b, &q)
	if status != http.StatusOK || len(q.Callbacks) != 2 || q.Callbacks[0].PrecinctID != "p0001" || q.Callbacks[0].Phone != "+15155550101" {
		t.Fatalf("queue: %d %s", status, b)
	}
	id := q.Callbacks[0].ID
	// Keying verified by a call-back nobody claimed is refused.
	r := env.Report("p0001", "x", 4)
	body, _ := json.Marshal(map[string]any{"precinct_id": "p0001", "verified_by": "callback", "report": r})
	if status, b := env.Do("POST", "/api/v1/hotline/entries", ops[0], body); status != http.StatusForbidden || !strings.Contains(string(b), "not_verified") {
		t.Errorf("keying by call-back without a claim: %d %s", status, b)
	}
	// Eight operators claim at once: one gets it.
	var wg sync.WaitGroup
	codes := make([]int, len(ops))
	for i, tok := range ops {
		wg.Go(func() { codes[i], _ = env.Do("POST", fmt.Sprintf("/api/v1/hotline/callbacks/%d/claim", id), tok, nil) })
	}
	wg.Wait()
	winner := -1
	for i, c := range codes {
		switch c {
		case http.StatusOK:
			if winner >= 0 {
				t.Fatalf("claimed twice: %v", codes)
			}
			winner = i
		case http.StatusConflict:
		default:
			t.Fatalf("claim answers: %v", codes)
		}
	}
	if winner < 0 {
		t.Fatalf("nobody claimed: %v", codes)
	}
	// The chair's phone shows that headquarters is calling.
	status, b = env.Do("GET", "/api/v1/callbacks/mine", chair, nil)
	if status != http.StatusOK || !strings.Contains(string(b), `"state":"claimed"`) || strings.Contains(string(b), "op") {
		t.Errorf("chair's view: %d %s", status, b)
	}
	status, b = env.Do("GET", "/api/v1/hotline/stats", ops[0], nil)
	var st hotline.Stats
	json.Unmarshal(b, &st)
	if status != http.StatusOK || st.Waiting != 1 || st.Calling != 1 || st.OperatorsBusy != 1 {
		t.Errorf("stats: %d %s", status, b)
	}
	// The operator who holds the call keys by call-back; another operator's outcome is refused.
	if status, b := env.Do("POST", "/api/v1/hotline/entries", ops[winner], body); status != http.StatusOK || !strings.Contains(string(b), "waiting_second") {
		t.Errorf("keying by the claimed call-back: %d %s", status, b)
	}
	other := ops[(winner+1)%len(ops)]
	out, _ := json.Marshal(map[string]string{"outcome": "reported", "note": "read the sheet"})
	if status, _ := env.Do("POST", fmt.Sprintf("/api/v1/hotline/callbacks/%d/outcome", id), other, out); status != http.StatusConflict {
		t.Errorf("outcome by another operator: %d", status)
	}
	if status, b := env.Do("POST", fmt.Sprintf("/api/v1/hotline/callbacks/%d/outcome", id), ops[winner], out); status != http.StatusOK || !strings.Contains(string(b), `"state":"done"`) {
		t.Errorf("outcome: %d %s", status, b)
	}
	status, b = env.Do("GET", "/api/v1/callbacks/mine", chair, nil)
	if status != http.StatusOK || !strings.Contains(string(b), `"outcome":"reported"`) {
		t.Errorf("chair's view after: %d %s", status, b)
	}
	// Every claim and outcome is in the audit trail, as a staff action too.
	rows, _ := env.DB.Audit(context.Background(), 0, 10000)
	kinds := map[store.AuditKind]int{}
	for _, a := range rows {
		kinds[a.Kind]++
	}
	if kinds[store.AuditCallbackClaimed] != 1 || kinds[store.AuditCallbackOutcome] != 1 || kinds[store.AuditHotlineCopy] != 1 {
		t.Errorf("audit kinds: %v", kinds)
	}
}

// TestHotlinePINThrottled: a caller guessing PINs through an operator spends the precinct's
// budget as at the login page, and is throttled after the free attempts.
func TestHotlinePINThrottled(t *testing.T) {
	env := servertest.Start(t, servertest.Options{Precincts: 2})
	olga := env.StaffLogin("olga", auth.RoleOperator)
	r := env.Report("p0001", "x", 2)
	wrong := "000000000000"
	for _, c := range []string{"1", "2", "3", "4", "5", "6", "7", "8", "9"} {
		if w := strings.Repeat(c, 11); servertest.ValidPIN(w+"0") && w+"0" != env.PINs["p0001"] {
			wrong = w + "0"
		}
	}
	for d := '0'; d <= '9' && !servertest.ValidPIN(wrong); d++ {
		wrong = wrong[:11] + string(d)
	}
	if !servertest.ValidPIN(wrong) || wrong == env.PINs["p0001"] {
		t.Fatalf("no wrong PIN with a valid check digit")
	}
	var codes []int
	for range auth.PrecinctFreeAttempts + 1 {
		k := key(t, env, olga, r, wrong)
		codes = append(codes, k.status)
	}
	for i, c := range codes[:auth.PrecinctFreeAttempts] {
		if c != http.StatusForbidden {
			t.Fatalf("wrong PIN %d: %d (%v); want 403 wrong_pin", i, c, codes)
		}
	}
	if last := codes[auth.PrecinctFreeAttempts]; last != http.StatusTooManyRequests {
		t.Fatalf("after %d wrong PINs: %d (%v); want 429", auth.PrecinctFreeAttempts, last, codes)
	}
	// The right PIN is refused too while the back-off lasts: nothing was keyed.
	if k := key(t, env, olga, r, env.PINs["p0001"]); k.status != http.StatusTooManyRequests {
		t.Errorf("right PIN during the back-off: %d %s", k.status, k.raw)
	}
	c, err := env.DB.Throttle(context.Background(), auth.PrecinctKeyPrefix+"p0001")
	if err != nil || c.Count < auth.PrecinctFreeAttempts {
		t.Errorf("the precinct's budget counter: %+v, %v", c, err)
	}
}

// TestHotlineRoutesGuarded: every hotline route is for operators (the figures for all staff, a
// chair's own call-backs for the chair): no session is 401, another role 403 and audited;
// cross-site writes are refused; bodies are capped; the console sends a browser without a staff
// session to the staff login.
func TestHotlineRoutesGuarded(t *testing.T) {
	env := servertest.Start(t, servertest.Options{Precincts: 3})
	chair := env.Login("p0001")
	rita := env.StaffLogin("rita", auth.RoleReviewer)
	olga := env.StaffLogin("olga", auth.RoleOperator)
	for _, rt := range []struct{ method, path string }{
		{"POST", "/api/v1/hotline/entries"},
		{"GET", "/api/v1/hotline/precincts/p0001"},
		{"GET", "/api/v1/hotline/callbacks"},
		{"POST", "/api/v1/hotline/callbacks/1/claim"},
		{"POST", "/api/v1/hotline/callbacks/1/outcome"},
	} {
		var body []byte
		if rt.method == "POST" {
			body = []byte(`{}`)
		}
		if status, b := env.Do(rt.method, rt.path, "", body); status != http.StatusUnauthorized {
			t.Errorf("%s %s without a session: %d %s", rt.method, rt.path, status, b)
		}
		for _, tok := range []string{chair, rita} {
			if status, b := env.Do(rt.method, rt.path, tok, body); status != http.StatusForbidden && status != http.StatusUnauthorized {
				t.Errorf("%s %s by a chair or reviewer: %d %s", rt.method, rt.path, status, b)
			}
		}
		if rt.method == "POST" {
			req, _ := http.NewRequest("POST", env.URL+rt.path, strings.NewReader(`{}`))
			req.Header.Set("Sec-Fetch-Site", "cross-site")
			req.Header.Set("Authorization", "Bearer "+olga)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusForbidden || resp.Header.Get("Content-Security-Policy") == "" {
				t.Errorf("cross-site POST %s: %d", rt.path, resp.StatusCode)
			}
		}
	}
	huge := []byte(`{"precinct_id":"` + strings.Repeat("x", 1<<20) + `"}`)
	for _, path := range []string{"/api/v1/hotline/entries", "/api/v1/hotline/callbacks/1/outcome"} {
		if status, b := env.Do("POST", path, olga, huge); status != http.StatusRequestEntityTooLarge && status != http.StatusBadRequest {
			t.Errorf("%s with 1 MiB: %d %s", path, status, b)
		}
	}
	if status, _ := env.Do("GET", "/api/v1/hotline/stats", rita, nil); status != http.StatusOK {
		t.Errorf("the board's figures for a reviewer: %d", status)
	}
	if status, _ := env.Do("GET", "/api/v1/callbacks/mine", olga, nil); status != http.StatusForbidden {
		t.Errorf("a chair's call-backs for an operator: %d", status)
	}
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noRedirect.Get(env.URL + "/hq/hotline")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/hq/login") {
		t.Errorf("the console without a session: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	for tok, want := range map[string]int{rita: http.StatusForbidden, olga: http.StatusOK} {
		req, _ := http.NewRequest("GET", env.URL+"/hq/hotline", nil)
		req.AddCookie(&http.Cookie{Name: server.StaffCookie, Value: tok})
		resp, err := noRedirect.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("the console for a session: %d, want %d", resp.StatusCode, want)
		}
	}
	// Every refused write is a staff action in the audit trail.
	rows, _ := env.DB.Audit(context.Background(), 0, 10000)
	var actions int
	for _, a := range rows {
		if a.Kind == store.AuditStaffAction && strings.Contains(string(a.Detail), "/api/v1/hotline/") {
			actions++
		}
	}
	if actions == 0 {
		t.Errorf("no staff_action rows for the hotline's writes")
	}
}

// A hotline mismatch nobody keys a third time goes to the review queue with both copies and
// their differences (nothing counted); a reviewer's correction counts the right numbers and
// settles the round, which leaves the queue.
func TestHotlineMismatchReviewed(t *testing.T) {
	env := servertest.Start(t, servertest.Options{Precincts: 4})
	const p = "p0003"
	olga, otto := env.StaffLogin("olga", auth.RoleOperator), env.StaffLogin("otto", auth.RoleOperator)
	rita := env.StaffLogin("rita", auth.RoleReviewer)
	right := env.Report(p, "right", 5)
	wrong := right
	wrong.First = maps.Clone(right.First)
	wrong.First[servertest.Candidates[0]]++
	wrong.Attendees++
	if k := key(t, env, olga, right, env.PINs[p]); k.res.State != hotline.StateWaitingSecond {
		t.Fatalf("first copy: %d %s", k.status, k.raw)
	}
	if k := key(t, env, otto, wrong, env.PINs[p]); k.res.State != hotline.StateMismatch {
		t.Fatalf("second copy: %d %s", k.status, k.raw)
	}
	queue := func() map[string]map[string]any {
		status, b := env.Do("GET", "/api/v1/hq/review", rita, nil)
		if status != http.StatusOK {
			t.Fatalf("queue: %d %s", status, b)
		}
		var q struct{ Items []map[string]any }
		json.Unmarshal(b, &q)
		out := map[string]map[string]any{}
		for _, it := range q.Items {
			out[it["precinct_id"].(string)] = it
		}
		return out
	}
	it, ok := queue()[p]
	if !ok {
		t.Fatalf("%s is not in the review queue after a hotline mismatch", p)
	}
	if reasons := fmt.Sprint(it["reasons"]); !strings.Contains(reasons, "hotline_mismatch") {
		t.Errorf("reasons %s, want hotline_mismatch", reasons)
	}
	h, _ := it["hotline"].(map[string]any)
	if copies, _ := h["copies"].([]any); len(copies) != 2 {
		t.Errorf("hotline copies in the item: %v", h)
	}
	if diffs, _ := h["differences"].([]any); len(diffs) < 2 {
		t.Errorf("differences: %v, want attendees and first alignment", h["differences"])
	}
	if status, _ := published(t, env, p); status != "not_reported" {
		t.Errorf("%s published as %s while its copies disagree", p, status)
	}
	fix := right
	fix.ReportID, fix.Channel = "hq-fix-p0003", report.ChannelHotline
	status, m := decide(t, env, rita, p, map[string]any{"action": "correct", "report": fix, "reason": "called the chair back: olga's copy is right"})
	if status != http.StatusCreated {
		t.Fatalf("correct: %d %v", status, m)
	}
	if _, ok := queue()[p]; ok {
		t.Errorf("%s still in the queue after the correction", p)
	}
	if status, first := published(t, env, p); status != "corrected" || first[servertest.Candidates[0]] != right.First[servertest.Candidates[0]] {
		t.Errorf("%s published %s %v, want corrected with %v", p, status, first, right.First)
	}
}
