package web_test

import (
	"context"
	crand "crypto/rand"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"caucus/internal/auth"
	"caucus/internal/report"
	"caucus/internal/server"
	"caucus/internal/server/servertest"
	"caucus/internal/store"
)

// operatorPage is a console tab of its own browser context (its own cookies, as another
// operator's machine would be), logged in as username through the staff cookie the staff login
// sets, at a desk's screen size.
func operatorPage(t *testing.T, e *env, username string) *page {
	t.Helper()
	var b [32]byte
	crand.Read(b[:])
	tok := base64.RawURLEncoding.EncodeToString(b[:])
	parsed, err := auth.ParseSessionToken(tok)
	if err != nil {
		t.Fatal(err)
	}
	// The account, as caucus staff add stores it (a staff session needs its account enabled),
	// then a session of it, as a login stores one.
	hash, err := auth.HashSecret(servertest.CheapParams, "correct horse battery "+username)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.main.CreateStaff(t.Context(), auth.Actor{Name: "test", From: "test"},
		auth.StaffAccount{Username: username, Role: auth.RoleOperator, PasswordHash: hash}); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	if err := e.main.CreateSession(t.Context(), auth.Session{ID: parsed.ID(), Role: auth.RoleOperator, Username: username,
		Created: now, Expires: now.Add(auth.StaffSessionTTL)}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := chromedp.NewContext(browser(t), chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	p := &page{t: t, ctx: ctx, env: e}
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1100, 900, chromedp.EmulateScale(1))); err != nil {
		t.Fatalf("open a tab: %v", err)
	}
	yes := true
	p.do(chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, network.SetCookie, network.SetCookieParams{Name: server.StaffCookie, Value: tok, URL: e.URL,
			Path: "/", Secure: &yes, HTTPOnly: &yes, SameSite: network.CookieSameSiteStrict})
		return err
	}))
	p.do(chromedp.Navigate(e.URL + "/hq/hotline"))
	p.wait(`document.getElementById("stats").textContent.includes("waiting")`)
	return p
}

// keySheet looks a precinct up in the console and keys a worksheet verified by its PIN, then
// stores the copy and waits for the answer's state.
func (p *page) keySheet(precinct, pin string, attendees int, first, final map[string]int, state string) {
	p.t.Helper()
	p.lookup(precinct)
	p.typeText("pin", pin)
	p.typeCount("attendees", attendees)
	for c, n := range first {
		p.typeCount("first-"+c, n)
	}
	for c, n := range final {
		p.typeCount("final-"+c, n)
	}
	p.wait(`document.getElementById("math").textContent.includes("Viability threshold")`)
	p.do(clickCSS("#submit"))
	p.wait(`document.querySelector("#result [data-state]") !== null`)
	if got := eval[string](p, `document.querySelector("#result [data-state]").dataset.state`); got != state {
		p.t.Fatalf("keying %s: %s (%s); want %s", precinct, got, p.text("#result"), state)
	}
}

// lookup looks a precinct up and waits for its view (hidden until the answers are in).
func (p *page) lookup(precinct string) {
	p.t.Helper()
	eval[bool](p, `(() => { document.getElementById("precinct").value = ""; document.getElementById("precinct-view").hidden = true; return true })()`)
	p.typeText("precinct", precinct)
	p.do(clickCSS("#lookup"))
	p.wait(`!document.getElementById("precinct-view").hidden`)
}

// TestHotlineConsole: two operators in two browser contexts key a precinct's worksheet; the
// second, who sees none of the first copy, slips, and the console shows the mismatch field by
// field; a third operator's copy matches the first and the report is counted once, by both
// named. The live math and the chair app's check messages are on the worksheet. Screenshots of
// each step; axe-core clean.
func TestHotlineConsole(t *testing.T) {
	e := startEnv(t)
	// Without a staff session the console sends the browser to the staff login.
	anon := newPage(t, e)
	anon.do(chromedp.Navigate(e.URL + "/hq/hotline"))
	anon.wait(`location.pathname === "/hq/login"`)

	const p = "p0001"
	first := map[string]int{"adams": 60, "baker": 25, "clark": 15}
	olga := operatorPage(t, e, "olga")
	olga.do(chromedp.Navigate(e.URL + "/hq/hotline"))
	olga.wait(`document.getElementById("stats").textContent.includes("waiting")`)
	// The worksheet's live math and check messages: delegates that differ from the math's.
	olga.lookup(p)
	olga.typeCount("attendees", 100)
	for c, n := range first {
		olga.typeCount("first-"+c, n)
		olga.typeCount("final-"+c, n)
	}
	olga.typeCount("delegates-adams", 5)
	olga.wait(`document.querySelector("#checks p[data-check]") !== null`)
	olga.shot("hotline-worksheet-checks")
	olga.axe("hotline worksheet with a check")
	eval[bool](olga, `(() => { const i = document.getElementById("delegates-adams"); i.value = ""; i.dispatchEvent(new Event("input")); return true })()`)
	// A tie the caller settled by a coin toss is recorded as the chair app records it.
	olga.typeCount("attendees", 100)
	for c, n := range map[string]int{"adams": 50, "baker": 30, "clark": 20} {
		olga.typeCount("first-"+c, n)
		olga.typeCount("final-"+c, n)
	}
	olga.wait(`document.querySelector('#ties .tie-winner[data-id="adams"]') !== null`)
	olga.do(clickCSS(`#ties .tie-winner[data-id="adams"]`))
	olga.wait(`document.getElementById("ties").textContent.includes("won by: adams") && document.querySelector("#checks p.error") === null`)
	olga.shot("hotline-tie-recorded")
	olga.keySheet(p, e.PINs[p], 100, first, first, "waiting_second")
	olga.shot("hotline-first-copy")

	oscar := operatorPage(t, e, "oscar")
	oscar.lookup(p)
	oscar.wait(`document.getElementById("round").textContent.includes("olga")`)
	if got := eval[string](oscar, `[...document.querySelectorAll("#sheet input")].map((i) => i.value).join("")`); got != "" {
		t.Fatalf("the second operator's worksheet holds %q before keying", got)
	}
	if txt := oscar.text("#precinct-view"); strings.Contains(txt, "60") || strings.Contains(txt, "25") {
		t.Fatalf("the second operator sees numbers of the first copy: %s", txt)
	}
	// A slip the math lets through with warnings only (a swap of two lines it refuses outright):
	// 101 attendees heard for 100.
	oscar.keySheet(p, e.PINs[p], 101, first, first, "mismatch")
	oscar.wait(`document.querySelector('#differences tr[data-field="attendees"]') !== null`)
	if got := eval[string](oscar, `[...document.querySelectorAll("#differences tbody tr")].map((r) => r.dataset.field + ":" + [...r.cells].slice(2).map((c) => c.textContent).join("/")).join(",")`); got != "attendees:100/101" {
		t.Errorf("differences: %s; want attendees:100/101", got)
	}
	oscar.shot("hotline-mismatch")
	oscar.axe("hotline mismatch")
	if es := e.entries(false, p); len(es) != 0 {
		t.Fatalf("a mismatch was counted: %d entries", len(es))
	}

	otto := operatorPage(t, e, "otto")
	otto.keySheet(p, e.PINs[p], 100, first, first, "matched")
	otto.shot("hotline-matched")
	es := e.entries(false, p)
	if len(es) != 1 {
		t.Fatalf("entries after the third copy: %d; want 1", len(es))
	}
	le, err := report.ParseEntry(es[0].Body)
	if err != nil || le.Channel != "hotline" || le.Submitter != "olga+otto" || le.Report.Final["baker"] != 25 {
		t.Fatalf("the counted entry: %+v, %v", le, err)
	}
	// The console now shows the report counted before anyone keys it again.
	otto.lookup(p)
	otto.wait(`document.querySelector("#existing [data-existing=hotline]") !== null`)
}

// TestHotlineCallbackQueue: a chair's request appears in the queue with the number on file; an
// operator claims it (the chair's phone then says headquarters is calling), keys the worksheet
// verified by the call-back, and records the outcome; the request leaves the queue.
func TestHotlineCallbackQueue(t *testing.T) {
	e := startEnv(t)
	const p = "p0002"
	chair := newPage(t, e)
	chair.open("/")
	chair.login(p, e.PINs[p])
	chair.wait(`document.getElementById("where").textContent !== ""`)
	cb, err := e.main.AddCallback(t.Context(), store.NewCallback{PrecinctID: p, Phone: "+15155550102", Note: "the math does not add up", Actor: p})
	if err != nil {
		t.Fatal(err)
	}
	olga := operatorPage(t, e, "olga")
	row := fmt.Sprintf(`#queue tr[data-callback="%d"]`, cb.ID)
	olga.wait(`document.querySelector('` + row + `') !== null`)
	if txt := olga.text(row); !strings.Contains(txt, "+15155550102") || !strings.Contains(txt, "waiting") {
		t.Fatalf("queue row: %q", txt)
	}
	olga.shot("hotline-queue-waiting")
	olga.axe("hotline call-back queue")
	olga.clickLive(fmt.Sprintf(`[data-claim="%d"]`, cb.ID))
	olga.wait(`document.querySelector('` + row + `').textContent.includes("you are calling")`)
	olga.shot("hotline-queue-claimed")
	// The chair's phone shows the call coming (the app asks when it starts, then every 20 s).
	chair.reload()
	chair.wait(`!document.getElementById("cb-coming").hidden && document.getElementById("cb-coming").textContent.includes("calling you now")`)
	chair.shot("chair-callback-calling")
	chair.axe("chair app with a call-back coming")
	// Keyed by the call-back just claimed.
	eval[bool](olga, `(() => { document.querySelector('input[name=verified_by][value=callback]').click(); return true })()`)
	olga.wait(`document.getElementById("pin-row").hidden`)
	olga.lookup(p)
	olga.typeCount("attendees", 60)
	for c, n := range map[string]int{"adams": 30, "baker": 30} {
		olga.typeCount("first-"+c, n)
		olga.typeCount("final-"+c, n)
	}
	olga.wait(`document.getElementById("math").textContent.includes("Viability threshold")`)
	olga.do(clickCSS("#submit"))
	olga.wait(`document.querySelector("#result [data-state=waiting_second]") !== null`)
	// The note typed into the row survives the queue's redraws (it polls) until Record: typed,
	// then the queue redrawn at once, then the note is still there.
	note := fmt.Sprintf(`document.getElementById("note-%d")`, cb.ID)
	eval[bool](olga, `(() => { `+note+`.value = "worksheet read"; return true })()`)
	eval[bool](olga, `refresh().then(() => true)`)
	if got := eval[string](olga, note+`.value`); got != "worksheet read" {
		t.Fatalf("the note after the queue's redraw: %q", got)
	}
	olga.clickLive(fmt.Sprintf(`[data-outcome="%d"]`, cb.ID))
	olga.wait(`document.querySelector('` + row + `') === null && !document.getElementById("queue-empty").hidden`)
	olga.shot("hotline-queue-done")
	sts, err := e.main.CallbackStates(t.Context(), store.CallbackFilter{PrecinctID: p, Limit: 10})
	if err != nil || len(sts) != 1 || sts[0].State != store.CallbackDone || sts[0].Outcome != store.CallbackReported || sts[0].OutcomeNote != "worksheet read" {
		t.Fatalf("the request after: %+v, %v", sts, err)
	}
}

// attachScan gives the console's scan input a worksheet scan: a generated image.
func (p *page) attachScan() {
	p.t.Helper()
	eval[bool](p, `(async () => {
		const c = new OffscreenCanvas(800, 600); const g = c.getContext("2d");
		g.fillStyle = "#fff"; g.fillRect(0, 0, 800, 600); g.fillStyle = "#000"; g.font = "60px sans-serif"; g.fillText("adams 30 baker 30", 40, 300);
		const blob = await c.convertToBlob({type: "image/png"});
		const dt = new DataTransfer(); dt.items.add(new File([blob], "scan.png", {type: "image/png"}));
		document.getElementById("scan").files = dt.files;
		return true })()`)
}

// TestHotlinePaper: a paper worksheet brought to headquarters is keyed the same way, by two
// operators, each with the worksheet's scan attached; the matched report is channel paper and
// names the scan.
func TestHotlinePaper(t *testing.T) {
	e := startEnv(t)
	const p = "p0003"
	sheet := map[string]int{"adams": 40, "baker": 20}
	for i, op := range []string{"olga", "oscar"} {
		pg := operatorPage(t, e, op)
		pg.lookup(p)
		eval[bool](pg, `(() => { document.querySelector('input[name=verified_by][value=paper]').click(); return true })()`)
		pg.wait(`!document.getElementById("scan-row").hidden && document.getElementById("channel").value === "paper"`)
		pg.attachScan()
		pg.typeCount("attendees", 60)
		for c, n := range sheet {
			pg.typeCount("first-"+c, n)
			pg.typeCount("final-"+c, n)
		}
		pg.wait(`document.getElementById("math").textContent.includes("Viability threshold")`)
		pg.do(clickCSS("#submit"))
		want := []string{"waiting_second", "matched"}[i]
		pg.wait(`document.querySelector("#result [data-state]") !== null`)
		if got := eval[string](pg, `document.querySelector("#result [data-state]").dataset.state`); got != want {
			t.Fatalf("%s's copy: %s (%s); want %s", op, got, pg.text("#result"), want)
		}
		if i == 1 {
			pg.shot("hotline-paper-matched")
		}
	}
	es := e.entries(false, p)
	if len(es) != 1 {
		t.Fatalf("entries: %d", len(es))
	}
	le, err := report.ParseEntry(es[0].Body)
	if err != nil || le.Channel != "paper" || le.Report.PhotoSHA256 == "" {
		t.Fatalf("the paper report: %+v, %v", le, err)
	}
	if _, err := e.main.Photo(t.Context(), le.Report.PhotoSHA256); err != nil {
		t.Errorf("the scan it names: %v", err)
	}
}

// clickLive clicks the element sel names in the page's own script, in one step: the console
// redraws its call-back queue as it polls, so a node looked up first and clicked after (as
// chromedp.Click does) may be gone in between ("Could not find node with given id").
func (p *page) clickLive(sel string) {
	p.t.Helper()
	p.wait(`document.querySelector(` + strconv.Quote(sel) + `) !== null`)
	if !eval[bool](p, `(() => { const b = document.querySelector(`+strconv.Quote(sel)+`); if (!b) return false; b.click(); return true })()`) {
		p.t.Fatalf("%s is gone before the click", sel)
	}
}
