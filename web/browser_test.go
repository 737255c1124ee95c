package web_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"caucus/internal/rules"
)

// The precincts of servertest.Definition: p0000 elects 4 delegates, p0001 elects 5.
const (
	precinct4 = "p0000"
	precinct5 = "p0001"
)

// worksheet is a clean precinct: 100 signed in, clark and davis not viable (threshold 15) and
// realigning to baker and adams; the math gives adams 2, baker 2.
var (
	cleanFirst = map[string]int{"adams": 50, "baker": 30, "clark": 12, "davis": 8}
	cleanFinal = map[string]int{"adams": 58, "baker": 42}
)

// fillToDelegates logs in and types the worksheet up to the delegates step.
func (p *page) fillToDelegates(precinct string, attendees int, first, final map[string]int, shots string) {
	p.t.Helper()
	p.login(precinct, p.env.PINs[precinct])
	p.step("signin")
	p.mathReady()
	if shots != "" {
		p.shot(shots + "-01-signin-empty")
	}
	p.typeCount("attendees", attendees)
	p.wait(`document.getElementById("signin-math").textContent.includes("15") || document.getElementById("signin-math").textContent.includes("17")`)
	if shots != "" {
		p.shot(shots + "-02-signin")
	}
	p.next("signin")
	p.step("first")
	p.counts("first", first)
	if shots != "" {
		p.shot(shots + "-03-first")
	}
	p.next("first")
	p.step("final")
	p.counts("final", final)
	if shots != "" {
		p.shot(shots + "-04-final")
	}
	p.next("final")
	p.step("delegates")
}

// TestWholeFlow: a chair logs in, types the worksheet, compares, adds a photo, reviews, sends,
// and keeps an accepted receipt; the server stored the report once, with its photo.
func TestWholeFlow(t *testing.T) {
	e := startEnv(t)
	p := newPage(t, e)
	p.open("/")
	p.shot("flow-00-login")
	p.fillToDelegates(precinct4, 100, cleanFirst, cleanFinal, "flow")
	p.wait(`document.getElementById("delegates-rows").innerText.includes("adams")`)
	p.shot("flow-05-delegates")
	if got := p.text("#delegates-rows"); !strings.Contains(got, "adams\t58\t2") || !strings.Contains(got, "baker\t42\t2") {
		t.Errorf("delegates table = %q, want adams 58 → 2 and baker 42 → 2", got)
	}
	p.next("delegates")
	p.step("worksheet")
	p.counts("worksheet", map[string]int{"adams": 3, "baker": 1})
	p.wait(`document.getElementById("worksheet-checks").innerText.includes("C12")`)
	p.shot("flow-06-worksheet-differs")
	p.counts("worksheet", map[string]int{"adams": 2, "baker": 2})
	p.wait(`!document.getElementById("worksheet-checks").innerText.includes("C12")`)
	p.shot("flow-07-worksheet")
	p.next("worksheet")
	p.step("photo")
	// The camera's file: a generated image goes through the page's resize path.
	eval[bool](p, `(async () => {
		const c = new OffscreenCanvas(2400, 1800); const g = c.getContext("2d");
		g.fillStyle = "#fff"; g.fillRect(0, 0, 2400, 1800); g.fillStyle = "#000"; g.font = "200px sans-serif"; g.fillText("adams 2 baker 2", 100, 900);
		const blob = await c.convertToBlob({type: "image/png"});
		const dt = new DataTransfer(); dt.items.add(new File([blob], "worksheet.png", {type: "image/png"}));
		const inp = document.getElementById("photo"); inp.files = dt.files; inp.dispatchEvent(new Event("change"));
		return true })()`)
	p.wait(`document.getElementById("photo-info").textContent.includes("KB")`)
	p.shot("flow-08-photo")
	if w := eval[int](p, `document.getElementById("photo-preview").width`); w != 1600 {
		t.Errorf("photo resized to width %d, want 1600", w)
	}
	p.next("photo")
	p.step("review")
	p.shot("flow-09-review")
	p.submit()
	p.step("receipt")
	p.wait(`document.getElementById("receipt-state").textContent.includes("Accepted")`)
	p.shot("flow-10-receipt")
	es := e.entries(false, precinct4)
	if len(es) != 1 {
		t.Fatalf("%d entries stored, want 1", len(es))
	}
	var entry struct {
		Report struct {
			PhotoSHA256 string         `json:"photo_sha256"`
			Delegates   map[string]int `json:"delegates"`
		} `json:"report"`
	}
	json.Unmarshal(es[0].Body, &entry)
	stored := entry.Report
	if stored.PhotoSHA256 == "" || stored.Delegates["adams"] != 2 {
		t.Errorf("stored report %s: want the photo's hash and the worksheet's delegates", es[0].Body)
	}
	if _, err := e.main.Photo(t.Context(), stored.PhotoSHA256); err != nil {
		t.Errorf("photo %s not stored: %v", stored.PhotoSHA256, err)
	}
	receipt := p.text("#receipt")
	if !strings.Contains(receipt, "Log index") || !strings.Contains(receipt, es[0].ReportID) {
		t.Errorf("receipt on the phone = %q", receipt)
	}
	// The receipt stays on the phone: a reload shows it again.
	p.reload()
	p.step("receipt")
	p.wait(`document.getElementById("receipt-state").textContent.includes("Accepted")`)
	// Call me back goes into headquarters' queue.
	p.do(clickCSS("#callback-box summary"))
	p.typeText("cb-phone", "515 555 0101")
	p.typeText("cb-note", "please check our tie")
	p.do(clickCSS("#callback-form button"))
	p.wait(`document.getElementById("cb-result").textContent.includes("call you")`)
	p.shot("flow-11-callback")
	cbs, err := e.main.Callbacks(t.Context(), 0, 10)
	if err != nil || len(cbs) != 1 || cbs[0].PrecinctID != precinct4 || cbs[0].Phone != "+15155550101" {
		t.Errorf("callbacks = %+v, %v", cbs, err)
	}
}

// TestWrongPIN: a wrong PIN says so, and nothing about the server.
func TestWrongPIN(t *testing.T) {
	e := startEnv(t)
	p := newPage(t, e)
	p.open("/")
	other := e.PINs[precinct5] // a well-formed PIN (valid check digit) that is not this precinct's
	p.login(precinct4, other)
	p.wait(`!document.getElementById("login-error").hidden`)
	p.shot("login-wrong-pin")
	if got := p.text("#login-error"); !strings.Contains(got, "Wrong precinct ID or PIN") {
		t.Errorf("wrong PIN message = %q", got)
	}
}

// TestServerDownAtLogin: a dead or overloaded server is never shown as a wrong PIN.
func TestServerDownAtLogin(t *testing.T) {
	e := startEnv(t)
	p := newPage(t, e)
	p.open("/")
	e.down.Store(true)
	p.login(precinct4, e.PINs[precinct4])
	p.wait(`!document.getElementById("login-error").hidden`)
	p.shot("login-server-down")
	got := p.text("#login-error")
	if !strings.Contains(got, "not a problem with your PIN") || strings.Contains(got, "Wrong") {
		t.Errorf("server down shown as %q", got)
	}
	e.down.Store(false)
	e.busy.Store(true)
	p.do(clickCSS("#login-button"))
	p.wait(`document.getElementById("login-error").textContent.includes("busy")`)
	if got := p.text("#login-error"); !strings.Contains(got, "not a problem with your PIN") {
		t.Errorf("server busy shown as %q", got)
	}
	e.busy.Store(false)
	p.do(clickCSS("#login-button"))
	p.step("signin")
}

// TestImpossibleFinalAlignment: more people in the final alignment than in the first cannot
// go further, and the page says why.
func TestImpossibleFinalAlignment(t *testing.T) {
	e := startEnv(t)
	p := newPage(t, e)
	p.open("/")
	p.login(precinct4, e.PINs[precinct4])
	p.step("signin")
	p.mathReady()
	p.typeCount("attendees", 100)
	p.next("signin")
	p.step("first")
	p.counts("first", map[string]int{"adams": 50, "baker": 30, "clark": 20})
	p.next("first")
	p.step("final")
	p.counts("final", map[string]int{"adams": 60, "baker": 30, "clark": 20})
	p.wait(`document.getElementById("final-checks").innerText.includes("C04")`)
	p.shot("final-impossible")
	if !eval[bool](p, `document.querySelector("#step-final .next").disabled`) {
		t.Error("Next is enabled with an impossible final alignment")
	}
	if got := p.text("#final-checks"); !strings.Contains(got, "the final alignment has 110 people but the first alignment had 100") {
		t.Errorf("final checks = %q", got)
	}
}

// TestCoinToss: a tie asks for the coin toss; the winner is recorded and sent.
func TestCoinToss(t *testing.T) {
	e := startEnv(t)
	p := newPage(t, e)
	p.open("/")
	p.fillToDelegates(precinct5, 100, map[string]int{"adams": 50, "baker": 50}, map[string]int{"adams": 50, "baker": 50}, "")
	p.wait(`document.querySelectorAll(".tie-winner").length === 2`)
	p.shot("tie-01-needed")
	// The delegate the tie holds is shown, not silently missing from 2 + 2 of 5.
	if got := p.text("#delegates-rows"); !strings.Contains(got, "1 delegate to be decided by the coin toss\t1") || !strings.Contains(got, "Total\t100\t5") {
		t.Errorf("delegates table with the tie open = %q", got)
	}
	if !eval[bool](p, `document.querySelector("#step-delegates .next").disabled`) {
		t.Error("Next is enabled with the tie open")
	}
	p.do(clickCSS(`.tie-winner[data-id="baker"]`))
	p.wait(`document.getElementById("delegates-rows").innerText.includes("baker\t50\t3")`)
	p.shot("tie-02-recorded")
	if got := p.text("#delegates-rows"); strings.Contains(got, "to be decided") {
		t.Errorf("delegates table after the toss = %q", got)
	}
	p.next("delegates")
	p.step("worksheet")
	p.next("worksheet")
	p.step("photo")
	p.next("photo")
	p.step("review")
	p.submit()
	p.wait(`document.getElementById("receipt-state").textContent.includes("Accepted")`)
	es := e.entries(false, precinct5)
	if len(es) != 1 || !strings.Contains(string(es[0].Body), `"winner":"baker"`) || !strings.Contains(string(es[0].Body), `"kind":"coin"`) {
		t.Fatalf("stored: %d entries, %s", len(es), es[0].Body)
	}
}

// toReview types the clean worksheet and stops at the review step.
func (p *page) toReview(precinct string) {
	p.t.Helper()
	p.fillToDelegates(precinct, 100, cleanFirst, cleanFinal, "")
	p.next("delegates")
	p.step("worksheet")
	p.next("worksheet")
	p.step("photo")
	p.next("photo")
	p.step("review")
}

// block makes the page's requests to URLs matching pattern fail (none when pattern is "").
func (p *page) block(pattern string) {
	p.t.Helper()
	p.do(chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		if _, err := cdp.Call(ctx, t, network.Enable, network.EnableParams{}); err != nil {
			return err
		}
		var ps []*network.BlockPattern
		if pattern != "" {
			ps = []*network.BlockPattern{{URLPattern: pattern, Block: true}}
		}
		_, err := cdp.Call(ctx, t, network.SetBlockedURLs, network.SetBlockedURLsParams{URLPatterns: ps})
		return err
	}))
}

// TestLoginBeforeScript: the login screen works from the page alone (its inline style and
// script, allowed by their hashes), before app.js arrives, as on a slow network: it is styled,
// switches to Spanish, and a tap on Log in is sent at once and finished when app.js comes.
func TestLoginBeforeScript(t *testing.T) {
	e := startEnv(t)
	p := newPage(t, e)
	p.block(e.URL + "/static/app.*")
	p.open("/")
	if eval[bool](p, `window.caucusApp === true`) {
		t.Fatal("app.js ran although it was blocked")
	}
	if got := eval[string](p, `getComputedStyle(document.querySelector("header")).position`); got != "sticky" {
		t.Errorf("header position %q: the page's inline style did not apply", got)
	}
	p.do(clickCSS("#lang"))
	p.wait(`document.documentElement.lang === "es" && document.getElementById("login-button").textContent === "Entrar"`)
	p.shot("login-00-before-script-es")
	p.do(clickCSS("#lang"))
	p.wait(`document.documentElement.lang === "en" && document.getElementById("login-button").textContent === "Log in"`)
	p.shot("login-00-before-script")
	p.login(precinct4, e.PINs[precinct4])
	p.wait(`document.getElementById("login-button").disabled`)
	if !eval[bool](p, `window.caucusApp !== true && window.caucusBoot.login instanceof Promise`) {
		t.Fatal("the tap on Log in was not taken by the page's own script")
	}
	p.block("")
	eval[bool](p, `(() => { const s = document.createElement("script");
		s.src = [...document.scripts].find((s) => s.src.includes("/static/app.")).src; document.head.append(s); return true })()`)
	p.step("signin")
	p.mathReady()
	if got := eval[string](p, `JSON.parse(localStorage.getItem("caucus.session")).precinct_id`); got != precinct4 {
		t.Errorf("session for %q, want %s", got, precinct4)
	}
}

// TestCallbackOffline: "call me back" asked with no connection is kept on the phone and says
// so, survives a reload while the server is unreachable, and reaches headquarters once when it
// is back.
func TestCallbackOffline(t *testing.T) {
	e := startEnv(t)
	p := newPage(t, e)
	p.open("/")
	p.login(precinct4, e.PINs[precinct4])
	p.step("signin")
	p.wait(`navigator.serviceWorker.controller !== null`)
	p.offline(true)
	p.do(clickCSS("#callback-box summary"))
	p.typeText("cb-phone", "515 555 0102")
	p.do(clickCSS("#callback-form button"))
	p.wait(`document.getElementById("cb-result").textContent.includes("No connection: your request is saved on this phone")`)
	p.shot("callback-01-offline")
	// Back online but the server unreachable, and the page reloaded (Chromium's offline
	// emulation does not hold across a reload; a dead server does).
	e.down.Store(true)
	p.offline(false)
	p.wait(`document.getElementById("cb-result").textContent.includes("cannot be reached")`)
	eval[bool](p, `window.beforeReload = true`)
	p.do(chromedp.Reload())
	p.wait(`window.beforeReload === undefined && document.documentElement.dataset.ready === "1"`)
	p.step("signin")
	p.wait(`document.getElementById("cb-result").textContent.includes("cannot be reached")`)
	if cbs, err := e.main.Callbacks(t.Context(), 0, 10); err != nil || len(cbs) != 0 {
		t.Fatalf("callbacks stored while unreachable: %+v, %v", cbs, err)
	}
	e.down.Store(false)
	p.wait(`document.getElementById("cb-result").textContent.includes("call you")`)
	cbs, err := e.main.Callbacks(t.Context(), 0, 10)
	if err != nil || len(cbs) != 1 || cbs[0].Phone != "+15155550102" {
		t.Fatalf("callbacks = %+v, %v; want the one asked offline", cbs, err)
	}
	if n := eval[int](p, `(JSON.parse(localStorage.getItem("caucus.callbacks")) || []).length`); n != 0 {
		t.Errorf("%d call-backs still queued on the phone", n)
	}
}

// TestOfflineThenOnline: the network is cut before Send; the report waits on the phone, says
// so, and arrives exactly once when the network is back.
func TestOfflineThenOnline(t *testing.T) {
	e := startEnv(t)
	p := newPage(t, e)
	p.open("/")
	p.toReview(precinct4)
	p.offline(true)
	p.submit()
	p.step("receipt")
	p.wait(`document.getElementById("status").textContent.includes("saved on this phone")`)
	p.shot("offline-01-saved")
	if n := len(e.entries(false, precinct4)); n != 0 {
		t.Fatalf("%d entries stored while offline", n)
	}
	p.offline(false)
	p.wait(`document.getElementById("receipt-state").textContent.includes("Accepted")`)
	p.shot("offline-02-accepted")
	if n := len(e.entries(false, precinct4)); n != 1 {
		t.Fatalf("%d entries stored, want exactly 1", n)
	}
}

// TestReloadWhileQueued: the page is reloaded while the report waits for a busy server; it is
// still there after the reload, the busy message is the O1 one, and it arrives once.
func TestReloadWhileQueued(t *testing.T) {
	e := startEnv(t)
	p := newPage(t, e)
	p.open("/")
	p.toReview(precinct4)
	e.busy.Store(true)
	p.submit()
	p.wait(`document.getElementById("status").textContent.includes("Server busy: your report is saved on this phone and will be retried")`)
	p.shot("busy-01-saved")
	p.reload()
	p.step("receipt")
	p.wait(`document.getElementById("status").textContent.includes("saved on this phone")`)
	if n := len(e.entries(false, precinct4)); n != 0 {
		t.Fatalf("%d entries stored while busy", n)
	}
	e.busy.Store(false)
	p.do(clickCSS("#send-now"))
	p.wait(`document.getElementById("receipt-state").textContent.includes("Accepted")`)
	if n := len(e.entries(false, precinct4)); n != 1 {
		t.Fatalf("%d entries stored, want exactly 1", n)
	}
	if n := eval[int](p, `new Promise((res) => { const r = indexedDB.open("caucus"); r.onsuccess = () => { const q = r.result.transaction("outbox").objectStore("outbox").count(); q.onsuccess = () => res(q.result); }; })`); n != 1 {
		t.Errorf("outbox holds %d reports, want 1", n)
	}
}

// TestDoubleTap: two taps on Send make one report.
func TestDoubleTap(t *testing.T) {
	e := startEnv(t)
	p := newPage(t, e)
	p.open("/")
	p.toReview(precinct4)
	eval[bool](p, `(() => { const b = document.getElementById("submit"); b.click(); b.click(); return true })()`)
	p.wait(`document.getElementById("receipt-state").textContent.includes("Accepted")`)
	if n := len(e.entries(false, precinct4)); n != 1 {
		t.Fatalf("%d entries stored, want exactly 1", n)
	}
	if n := e.reports.Load(); n != 1 {
		t.Errorf("%d report requests reached the server, want 1", n)
	}
}

// TestSpanish: the page switches language at any step, and the chair can log in and work in
// Spanish; practice mode is marked and goes to the practice election.
func TestSpanishPractice(t *testing.T) {
	e := startEnv(t)
	p := newPage(t, e)
	p.open("/practice/")
	p.do(clickCSS("#lang"))
	p.wait(`document.documentElement.lang === "es"`)
	p.shot("es-01-login-practice")
	if got := p.text("#step-login h1"); got != "Informe de su caucus" {
		t.Errorf("Spanish title = %q", got)
	}
	if got := p.text("#practice-banner"); !strings.Contains(got, "PRÁCTICA") {
		t.Errorf("practice banner = %q", got)
	}
	p.login(precinct4, e.PINs[precinct4])
	p.step("signin")
	p.mathReady()
	p.typeCount("attendees", 100)
	p.wait(`document.getElementById("signin-math").textContent.includes("Umbral de viabilidad: 15")`)
	p.shot("es-02-signin")
	p.next("signin")
	p.step("first")
	p.counts("first", cleanFirst)
	p.wait(`document.getElementById("first-rows").innerText.includes("no viable (necesita 15)")`)
	p.shot("es-03-first")
	p.do(clickCSS("#lang"))
	p.wait(`document.getElementById("first-rows").innerText.includes("not viable (needs 15)")`)
	p.do(clickCSS("#lang"))
	p.next("first")
	p.step("final")
	p.counts("final", cleanFinal)
	p.next("final")
	p.step("delegates")
	p.next("delegates")
	p.next("worksheet")
	p.next("photo")
	p.step("review")
	p.submit()
	p.wait(`document.getElementById("receipt-state").textContent.includes("Aceptado")`)
	p.shot("es-04-receipt")
	if n := len(e.entries(true, precinct4)); n != 1 {
		t.Errorf("%d practice entries, want 1", n)
	}
	if n := len(e.entries(false, precinct4)); n != 0 {
		t.Errorf("a practice report reached the real election (%d entries)", n)
	}
}

// TestSpanishChecks: a Spanish page writes a check in Spanish, naming the numbers, and
// "uncommitted" is a Spanish word there.
func TestSpanishChecks(t *testing.T) {
	e := startEnv(t)
	p := newPage(t, e)
	p.open("/")
	p.do(clickCSS("#lang"))
	p.wait(`document.documentElement.lang === "es"`)
	p.login(precinct4, e.PINs[precinct4])
	p.step("signin")
	p.mathReady()
	p.typeCount("attendees", 100)
	p.next("signin")
	p.step("first")
	p.counts("first", map[string]int{"adams": 50, "baker": 30, "uncommitted": 5})
	p.wait(`document.getElementById("first-checks").innerText.includes("C05")`)
	p.shot("es-first-c05")
	got := p.text("#first-checks")
	if want := "C05: se registraron 100 pero solo 85 están en un grupo de la primera alineación (15 sin contar)"; !strings.Contains(got, want) {
		t.Errorf("first checks = %q, want %q", got, want)
	}
	if strings.Contains(got, "signed in") {
		t.Errorf("English in the Spanish check: %q", got)
	}
	if rows := p.text("#first-rows"); !strings.Contains(rows, "No comprometido") || strings.Contains(rows, "uncommitted") {
		t.Errorf("first rows = %q, want uncommitted in Spanish", rows)
	}
}

// TestWasmEqualsGo: the page's caucusCalc gives the Go result on every spec vector, and the page
// writes each of its checks, from the ID and args, as rules.Check.In does in English and Spanish.
func TestWasmEqualsGo(t *testing.T) {
	e := startEnv(t)
	p := newPage(t, e)
	p.open("/")
	p.mathReady()
	files, err := filepath.Glob("../internal/rules/testdata/vectors/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no vectors: %v", err)
	}
	var inputs []string
	var names []string
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var v struct{ Input json.RawMessage }
		if err := json.Unmarshal(b, &v); err != nil {
			t.Fatal(err)
		}
		inputs = append(inputs, string(v.Input)) // as bytes: "37.0" must reach the wasm as written
		names = append(names, filepath.Base(f))
	}
	all, _ := json.Marshal(inputs)
	got := eval[[]string](p, ``+string(all)+`.map((x) => caucusCalc(x))`)
	if len(got) != len(inputs) {
		t.Fatalf("%d results for %d vectors", len(got), len(inputs))
	}
	for i, in := range inputs {
		want, err := json.Marshal(rules.CalcJSON([]byte(in), ""))
		if err != nil {
			t.Fatal(err)
		}
		var g, w any
		json.Unmarshal([]byte(got[i]), &g)
		json.Unmarshal(want, &w)
		if !reflect.DeepEqual(g, w) {
			t.Errorf("%s: wasm %s\ngo %s", names[i], got[i], want)
		}
	}

	var checks []rules.Check
	for _, in := range inputs {
		checks = append(checks, rules.CalcJSON([]byte(in), "").Checks...)
	}
	list, _ := json.Marshal(checks)
	texts := eval[[][2]string](p, `Promise.all([loadWords("en"), loadWords("es")]).then(() => `+string(list)+
		`.map((c) => [checkText(c, "en"), checkText(c, "es")]))`)
	if len(texts) != len(checks) {
		t.Fatalf("%d texts for %d checks", len(texts), len(checks))
	}
	ids := map[rules.CheckID]bool{}
	for i, c := range checks {
		ids[c.ID] = true
		if en, es := c.In(rules.English), c.In(rules.Spanish); texts[i][0] != en || texts[i][1] != es {
			t.Errorf("%s: the page writes\n  %q\n  %q\nGo writes\n  %q\n  %q", c.ID, texts[i][0], texts[i][1], en, es)
		}
	}
	if len(ids) != len(rules.CheckIDs()) {
		t.Errorf("the vectors raise %d of the %d checks", len(ids), len(rules.CheckIDs()))
	}
}
