package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"caucus/internal/auth"
	"caucus/internal/election"
	"caucus/internal/hq"
	"caucus/internal/night"
	"caucus/internal/server"
	"caucus/internal/server/servertest"
	"caucus/internal/store/sqlite"
)

// hqEnv is the Iowa 2020 election and its practice twin with headquarters' board, made-up
// contacts for every precinct, PINs for a few chairs and an observer's staff session.
type hqEnv struct {
	t      testing.TB
	URL    string
	pins   map[string]string
	tokens map[string]string // staff sessions by user (olive the observer, ada the admin), as the __Host- cookie holds them
}

var hqChairs = []string{"adair-1nw-adair", "adair-4se-orient", "polk-altoona-03"}

func startHQ(t testing.TB) *hqEnv {
	t.Helper()
	ctx := context.Background()
	def, err := election.Iowa2020()
	if err != nil {
		t.Fatal(err)
	}
	pdef, err := election.Iowa2020Practice()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	open := func(name string, d *election.Definition) (*sqlite.DB, *night.Night) {
		db, err := sqlite.Open(ctx, filepath.Join(dir, name), sqlite.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		n, err := night.Open(ctx, night.Config{Def: d, Store: db, Log: log})
		if err != nil {
			t.Fatal(err)
		}
		return db, n
	}
	db, mainNight := open("caucus.db", def)
	_, practiceNight := open("practice.db", pdef)
	e := &hqEnv{t: t, pins: map[string]string{}, tokens: map[string]string{}}
	secrets, err := auth.GeneratePrecinctSecrets(hqChairs)
	if err != nil {
		t.Fatal(err)
	}
	creds, err := auth.HashPrecinctSecrets(ctx, secrets, servertest.CheapParams)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.PutPrecinctCredentials(ctx, "system", creds); err != nil {
		t.Fatal(err)
	}
	for _, s := range secrets {
		e.pins[s.PrecinctID] = s.PIN.Reveal()
	}
	authn, err := auth.New(auth.Config{Store: db, Now: time.Now, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	// Staff: each account made as caucus staff add makes it, then a real login (the admin
	// with the current code of its TOTP secret).
	for user, role := range map[string]auth.Role{"olive": auth.RoleObserver, "ada": auth.RoleAdmin} {
		n, err := authn.CreateStaff(ctx, auth.Actor{Name: "cli:test", From: "command line"}, user, role)
		if err != nil {
			t.Fatal(err)
		}
		code := ""
		if role.NeedsOTP() {
			if code, err = totp.GenerateCodeCustom(n.TOTP.Reveal(), time.Now(), totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}); err != nil {
				t.Fatal(err)
			}
		}
		_, tok, err := authn.LoginStaff(ctx, user, n.Password, code, netip.MustParseAddr("127.0.0.1"))
		if err != nil {
			t.Fatal(err)
		}
		e.tokens[user] = tok.Reveal()
	}
	contacts := hq.Contacts{}
	for i, p := range def.Precincts() {
		contacts[p.ID] = hq.Contact{PrecinctID: p.ID, Name: fmt.Sprintf("Chair %d", i), Phone: fmt.Sprintf("+1515555%04d", 1000+i)}
	}
	board, err := hq.New(hq.Config{Main: mainNight, Practice: practiceNight, Store: db, Contacts: contacts, Now: time.Now, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	srv := server.New(server.Config{Main: mainNight, Practice: practiceNight, Auth: authn, Log: log, HQ: board})
	hs := httptest.NewServer(srv.Handler())
	e.URL = hs.URL
	runCtx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		var wg sync.WaitGroup
		wg.Go(func() { mainNight.Run(runCtx) })
		wg.Go(func() { practiceNight.Run(runCtx) })
		wg.Wait()
		close(done)
	}()
	t.Cleanup(func() { hs.Close(); cancel(); <-done })
	return e
}

// report sends a chair's report (seed varies the numbers) and returns the HTTP status.
func (e *hqEnv) report(precinct string, seed int) int {
	e.t.Helper()
	post := func(path, token string, v any) (int, []byte) {
		body, _ := json.Marshal(v)
		req, _ := http.NewRequest("POST", e.URL+path, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			e.t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
	status, b := post("/api/v1/login", "", map[string]string{"precinct_id": precinct, "pin": e.pins[precinct]})
	if status != http.StatusOK {
		e.t.Fatalf("login %s: %d %s", precinct, status, b)
	}
	var login struct{ Token string }
	json.Unmarshal(b, &login)
	counts := map[string]int{"biden": 6, "buttigieg": 9 + seed, "klobuchar": 7, "sanders": 8}
	status, b = post("/api/v1/reports", login.Token, map[string]any{"report_id": fmt.Sprintf("hq-%s-%d", precinct, seed),
		"precinct_id": precinct, "attendees": 30 + seed, "first": counts, "final": counts})
	if status != http.StatusCreated && status != http.StatusConflict {
		e.t.Fatalf("report %s: %d %s", precinct, status, b)
	}
	return status
}

// hqPage is a tab at width×height with user's staff cookie set ("": none).
func hqPage(t testing.TB, e *hqEnv, width, height int64, user string) *page {
	t.Helper()
	ctx, cancel := chromedp.NewContext(browser(t))
	t.Cleanup(cancel)
	p := &page{t: t, ctx: ctx}
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(width, height, chromedp.EmulateScale(1))); err != nil {
		t.Fatalf("open a tab: %v", err)
	}
	if user != "" {
		yes := true
		p.do(chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := cdp.Call(ctx, tg, network.SetCookie, network.SetCookieParams{Name: server.StaffCookie, Value: e.tokens[user],
				URL: e.URL + "/", Path: "/", Secure: &yes, HTTPOnly: &yes, SameSite: network.CookieSameSiteStrict})
			return err
		}))
	}
	return p
}

// TestHQBoardPage: /hq sends a browser without a session to the staff login page; with an
// observer's session it shows the board at 1280×800 and on a tablet (768×1024), updates live
// when a chair reports and when a conflicting report arrives, lists the missing precincts with
// whom to call, and axe-core finds nothing serious. Screenshots: hq-board-*.png.
func TestHQBoardPage(t *testing.T) {
	e := startHQ(t)
	anon := hqPage(t, e, 1280, 800, "")
	anon.do(chromedp.Navigate(e.URL + "/hq"))
	anon.wait(`location.pathname === "/hq/login"`)

	// Before the night an admin sets the publication policy on the board.
	admin := hqPage(t, e, 1280, 800, "ada")
	admin.do(chromedp.Navigate(e.URL + "/hq"))
	admin.wait(`document.getElementById("t-reporting").textContent === "0 / 1,765"`)
	admin.do(chromedp.Click(chromedp.CSS(`input[value=withheld]`)), chromedp.Click(chromedp.CSS("#policy-save")))
	admin.wait(`document.getElementById("policy-result").textContent === "Saved: precincts under review are withheld."`)
	admin.wait(`document.getElementById("policy").textContent.includes("without numbers")`)
	admin.axe("hq board, admin's policy form")

	p := hqPage(t, e, 1280, 800, "olive")
	if eval[bool](p, `document.getElementById("policy-form") !== null`) {
		t.Error("the observer's board has the policy form")
	}
	p.do(chromedp.Navigate(e.URL + "/hq"))
	p.wait(`document.getElementById("t-reporting").textContent === "0 / 1,765"`)
	p.wait(`document.querySelectorAll("#missing tr").length === 100`) // the first to call; a button shows all
	if got := p.text("#missing-more"); got != "Show all 1,765 missing precincts" {
		t.Errorf("the missing list's button says %q", got)
	}
	if got := p.text("#missing tr"); !strings.Contains(got, "Chair 0") || !strings.Contains(got, "+15155551000") {
		t.Errorf("the first missing precinct's line: %q", got)
	}
	p.axe("hq board, none reporting")
	p.shot("hq-board-1280-before")

	// A chair reports: the board follows without a reload.
	e.report("adair-1nw-adair", 0)
	p.wait(`document.getElementById("t-reporting").textContent === "1 / 1,765"`)
	p.wait(`document.getElementById("m-adair").getAttribute("class") === "r1"`)
	p.wait(`document.querySelector("#c-adair").innerText.includes("1 / ")`)
	if eval[bool](p, `[...document.querySelectorAll("#missing th")].some((th) => th.textContent === "adair-1nw-adair")`) {
		t.Error("adair-1nw-adair reported but is still listed missing")
	}
	// A different second report: a conflict, waiting for review, the county outlined.
	if status := e.report("adair-1nw-adair", 1); status != http.StatusConflict {
		t.Fatalf("second report: %d, want 409", status)
	}
	p.wait(`document.getElementById("t-review").textContent === "1"`)
	p.wait(`document.getElementById("m-adair").getAttribute("class") === "r1 flag"`)
	p.wait(`document.getElementById("policy").textContent.includes("1 withheld now")`)
	// The admin's form is closed once the night has begun.
	admin.wait(`document.getElementById("policy-save").disabled`)
	e.report("polk-altoona-03", 0)
	p.wait(`document.getElementById("t-reporting").textContent === "2 / 1,765"`)
	if by := p.text("#by-channel"); !strings.Contains(by, "App\t2") && !strings.Contains(by, "App 2") {
		t.Errorf("by channel: %q", by)
	}
	p.axe("hq board, live")
	p.shot("hq-board-1280-live")

	tab := hqPage(t, e, 768, 1024, "olive")
	tab.do(chromedp.Navigate(e.URL + "/hq"))
	tab.wait(`document.getElementById("t-reporting").textContent === "2 / 1,765"`)
	if w := eval[int](tab, `document.documentElement.scrollWidth`); w > 768 {
		t.Errorf("the board is %d px wide on a 768 px tablet", w)
	}
	tab.axe("hq board, tablet")
	tab.shot("hq-board-768-tablet")
}
