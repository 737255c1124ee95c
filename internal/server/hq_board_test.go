package server_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"caucus/internal/auth"
	"caucus/internal/hq"
	"caucus/internal/intake"
	"caucus/internal/report"
	"caucus/internal/rules"
	"caucus/internal/server/servertest"
)

// boardNight is a night with known reports: p0000 by the app, p0001 by the hotline and then a
// conflicting second report, p0002 on paper with the chair's delegates differing from the
// computed ones (flagged); p0003, p0004, p0005 missing. The chair of p0005 logged in, then the
// chair of p0004; p0003's never did, and two wrong PINs were tried for it.
type boardNight struct {
	env      *servertest.Env
	contacts hq.Contacts
}

func newBoardNight(t *testing.T) *boardNight {
	t.Helper()
	contacts := hq.Contacts{}
	for i := range 5 { // p0005 has no line in contacts.csv
		id := fmt.Sprintf("p%04d", i)
		contacts[id] = hq.Contact{PrecinctID: id, Name: fmt.Sprintf("Chairperson Zebulon%d", i), Phone: fmt.Sprintf("+1515555%04d", 7100+i)}
	}
	env := servertest.Start(t, servertest.Options{Precincts: 6, Contacts: contacts})
	ctx := context.Background()
	submit := func(r report.Report, who string) intake.Outcome {
		t.Helper()
		out, err := env.Night.Submit(ctx, r, intake.Submitter{ID: who})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	r := env.Report("p0000", "b-0", 1)
	submit(r, "p0000")
	r = env.Report("p0001", "b-1", 2)
	r.Channel = report.ChannelHotline
	submit(r, "operator1")
	r = env.Report("p0001", "b-1b", 3)
	r.Channel = report.ChannelHotline
	submit(r, "operator2")
	r = env.Report("p0002", "b-2", 4)
	r.Channel = report.ChannelPaper
	r.Delegates = rules.Counts{servertest.Candidates[0]: 1}
	submit(r, "operator1")
	env.Login("p0005")
	// The next login must be later on the store's millisecond clock: a pause, not a spin on
	// the CPU the server needs.
	time.Sleep(5 * time.Millisecond)
	env.Login("p0004")
	for range 2 {
		pin, err := auth.GeneratePIN()
		if err != nil {
			t.Fatal(err)
		}
		body, _ := json.Marshal(map[string]string{"precinct_id": "p0003", "pin": pin.Reveal()})
		if status, b := env.Do("POST", "/api/v1/login", "", body); status != http.StatusUnauthorized {
			t.Fatalf("wrong PIN: %d %s", status, b)
		}
	}
	return &boardNight{env: env, contacts: contacts}
}

func getBoard(t *testing.T, env *servertest.Env, token string) hq.Board {
	t.Helper()
	status, b := env.Do("GET", "/api/v1/hq/board", token, nil)
	if status != http.StatusOK {
		t.Fatalf("GET /api/v1/hq/board: %d %s", status, b)
	}
	var board hq.Board
	if err := json.Unmarshal(b, &board); err != nil {
		t.Fatal(err)
	}
	return board
}

// TestBoard checks the board's numbers against the night's known reports, the missing list's
// order and contacts, the login attacks, and who may read it.
func TestBoard(t *testing.T) {
	n := newBoardNight(t)
	env := n.env
	// A chair asks to be called back: the board's hotline figures count the call waiting.
	if status, b := env.Do("POST", "/api/v1/callbacks", "", []byte(`{"precinct_id":"p0005","phone":"+15155550123","note":"board"}`)); status != http.StatusCreated {
		t.Fatalf("call-back request: %d %s", status, b)
	}
	if status, _ := env.Do("GET", "/api/v1/hq/board", "", nil); status != http.StatusUnauthorized {
		t.Errorf("anonymous: %d, want 401", status)
	}
	if status, _ := env.Do("GET", "/api/v1/hq/board", env.Login("p0000"), nil); status != http.StatusForbidden {
		t.Errorf("a chair: %d, want 403", status)
	}
	for _, role := range []auth.Role{auth.RoleAdmin, auth.RoleReviewer, auth.RoleOperator} {
		if status, _ := env.Do("GET", "/api/v1/hq/board", env.StaffLogin("s-"+string(role), role), nil); status != http.StatusOK {
			t.Errorf("%s: %d, want 200", role, status)
		}
	}
	b := getBoard(t, env, env.StaffLogin("olive", auth.RoleObserver))
	if b.Hotline == nil || b.Hotline.Waiting != 1 || b.Hotline.Calling != 0 {
		t.Errorf("hotline figures %+v, want one call waiting", b.Hotline)
	}
	if b.PrecinctsTotal != 6 || b.PrecinctsReporting != 3 {
		t.Errorf("reporting %d of %d, want 3 of 6", b.PrecinctsReporting, b.PrecinctsTotal)
	}
	wantStatus := map[string]int{"not_reported": 3, "accepted": 1, "under_review": 2, "corrected": 0, "certified": 0}
	if fmt.Sprint(b.ByStatus) != fmt.Sprint(wantStatus) {
		t.Errorf("by_status %v, want %v", b.ByStatus, wantStatus)
	}
	if b.ByChannel != (hq.Channels{App: 1, Hotline: 1, Paper: 1}) {
		t.Errorf("by_channel %+v, want one each", b.ByChannel)
	}
	if b.ReviewWaiting != 2 || b.Conflicts != 1 || b.Flagged != 1 {
		t.Errorf("review_waiting %d, conflicts %d, flagged %d; want 2, 1, 1", b.ReviewWaiting, b.Conflicts, b.Flagged)
	}
	if len(b.Counties) != 1 || b.Counties[0] != (hq.County{CountyID: "alpha", Name: "Alpha", Reporting: 3, Total: 6, Flagged: 1, UnderReview: 2}) {
		t.Errorf("counties %+v", b.Counties)
	}
	var missing []string
	for _, m := range b.Missing {
		missing = append(missing, m.PrecinctID)
	}
	if want := []string{"p0003", "p0005", "p0004"}; !slices.Equal(missing, want) {
		t.Errorf("missing %v, want %v (never seen, then the oldest login)", missing, want)
	}
	if len(b.Missing) == 3 {
		if c := b.Missing[0].ChairContact; c == nil || c.Name != n.contacts["p0003"].Name || c.Phone != n.contacts["p0003"].Phone || b.Missing[0].LastSeen != nil {
			t.Errorf("p0003: contact %v, last seen %v", c, b.Missing[0].LastSeen)
		}
		if b.Missing[1].ChairContact != nil || b.Missing[1].LastSeen == nil {
			t.Errorf("p0005: contact %v (none in the file), last seen %v", b.Missing[1].ChairContact, b.Missing[1].LastSeen)
		}
	}
	if b.Readiness.LoggedIn != 3 || b.Readiness.Total != 6 { // p0000's chair logged in above too
		t.Errorf("readiness %+v, want 3 logged in of 6", b.Readiness)
	}
	if len(b.LoginAttacks) != 1 {
		t.Fatalf("login_attacks %+v, want p0003", b.LoginAttacks)
	}
	if a := b.LoginAttacks[0]; a.PrecinctID != "p0003" || a.Failures != 2 || a.BudgetSpent != 2 || a.Budget != auth.PrecinctBudget ||
		a.Closed || a.ChairContact == nil || a.ChairContact.Phone != n.contacts["p0003"].Phone {
		t.Errorf("login attack %+v", a)
	}
	env.Check(&servertest.Acked{})
}

// TestContactsStayPrivate: no public route's answer holds a chair's name or phone, while the
// board does.
func TestContactsStayPrivate(t *testing.T) {
	n := newBoardNight(t)
	env := n.env
	board := func() string {
		_, b := env.Do("GET", "/api/v1/hq/board", env.StaffLogin("olive", auth.RoleObserver), nil)
		return string(b)
	}()
	paths := []string{"/", "/practice/", "/results", "/results/map", "/results/counties/alpha", "/api",
		"/api/v1/results", "/api/v1/results/counties", "/api/v1/results/counties/alpha", "/api/v1/results.csv",
		"/log/checkpoint", "/healthz", "/sw.js", "/hq"}
	for _, p := range env.Def.Precincts() {
		paths = append(paths, "/results/precincts/"+p.ID, "/api/v1/results/precincts/"+p.ID, "/api/v1/precinct-info/"+p.ID)
	}
	var public strings.Builder
	for _, p := range paths {
		_, b := env.Do("GET", p, "", nil)
		public.Write(b)
	}
	// The public event stream's first event.
	resp, err := http.Get(env.URL + "/api/v1/events")
	if err != nil {
		t.Fatal(err)
	}
	rd := bufio.NewReader(resp.Body)
	line, err := rd.ReadString('\n')
	for err == nil && !strings.HasPrefix(line, "data:") {
		line, err = rd.ReadString('\n')
	}
	resp.Body.Close()
	public.WriteString(line)
	for _, id := range []string{"p0003", "p0004"} { // missing: whom to call
		if c := n.contacts[id]; !strings.Contains(board, c.Phone) || !strings.Contains(board, c.Name) {
			t.Errorf("the board lacks %s's contact", id)
		}
	}
	for _, c := range n.contacts {
		for _, secret := range []string{c.Name, c.Phone, strings.TrimPrefix(c.Phone, "+1"), "Zebulon"} {
			if strings.Contains(public.String(), secret) {
				t.Errorf("a public route shows %q (%s's contact)", secret, c.PrecinctID)
			}
		}
	}
}

// TestBoardEvents: the staff stream sends the board at once, then a board with the new report
// after a chair reports; without a staff session it is refused; once its session ends (a
// logout) it sends nothing more and closes.
func TestBoardEvents(t *testing.T) {
	n := newBoardNight(t)
	env := n.env
	if status, _ := env.Do("GET", "/api/v1/hq/events", "", nil); status != http.StatusUnauthorized {
		t.Errorf("anonymous: %d, want 401", status)
	}
	if status, _ := env.Do("GET", "/api/v1/hq/events", env.Login("p0000"), nil); status != http.StatusForbidden {
		t.Errorf("a chair: %d, want 403", status)
	}
	staff := env.StaffLogin("olive", auth.RoleObserver)
	req, _ := http.NewRequest("GET", env.URL+"/api/v1/hq/events", nil)
	req.Header.Set("Authorization", "Bearer "+staff)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("events: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	rd := bufio.NewReader(resp.Body)
	next := func() hq.Board {
		t.Helper()
		event := ""
		for {
			line, err := rd.ReadString('\n')
			if err != nil {
				t.Fatalf("the stream ended: %v", err)
			}
			if e, ok := strings.CutPrefix(line, "event: "); ok {
				event = strings.TrimSpace(e)
			}
			if d, ok := strings.CutPrefix(line, "data: "); ok {
				if event != "board" {
					t.Fatalf("event %q, want board", event)
				}
				var b hq.Board
				if err := json.Unmarshal([]byte(d), &b); err != nil {
					t.Fatal(err)
				}
				return b
			}
		}
	}
	if b := next(); b.PrecinctsReporting != 3 {
		t.Fatalf("first board: %d reporting, want 3", b.PrecinctsReporting)
	}
	tok := env.Login("p0003")
	body, _ := json.Marshal(env.Report("p0003", "b-3", 9))
	if status, b := env.Do("POST", "/api/v1/reports", tok, body); status != http.StatusCreated {
		t.Fatalf("report: %d %s", status, b)
	}
	// Boards follow until one has the report (a login alone may make one before it).
	for {
		b := next()
		if b.PrecinctsReporting == 4 {
			if slices.ContainsFunc(b.Missing, func(m hq.Missing) bool { return m.PrecinctID == "p0003" }) {
				t.Errorf("p0003 reported but is still missing")
			}
			break
		}
		if b.PrecinctsReporting != 3 {
			t.Fatalf("board with %d reporting", b.PrecinctsReporting)
		}
	}
	// The observer logs out: the next board is not sent, the stream closes.
	if status, b := env.Do("POST", "/api/v1/logout", staff, nil); status != http.StatusOK {
		t.Fatalf("logout: %d %s", status, b)
	}
	tok = env.Login("p0004")
	body, _ = json.Marshal(env.Report("p0004", "b-4", 10))
	if status, b := env.Do("POST", "/api/v1/reports", tok, body); status != http.StatusCreated {
		t.Fatalf("report: %d %s", status, b)
	}
	for {
		line, err := rd.ReadString('\n')
		if err != nil {
			break // closed
		}
		if strings.HasPrefix(line, "data: ") && strings.Contains(line, `"precincts_reporting":5`) {
			t.Fatal("a board was sent after the session ended")
		}
	}
}
