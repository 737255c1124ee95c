package web_test

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"maps"
)

// The chair's screens at the size of a common phone (390×844), in English and Spanish: the
// checks, the tie box, the receipt, the login screen and the call-back before login.

// phone sets the tab to 390×844.
func (p *page) phone() {
	p.t.Helper()
	p.do(chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(1)))
}

// spanish switches the page to Spanish.
func (p *page) spanish() {
	p.t.Helper()
	p.do(clickCSS("#lang"))
	p.wait(`document.documentElement.lang === "es"`)
}

// langs are the page's languages, with a word each test looks for in it.
var langs = []struct {
	code string
	es   bool
}{{"en", false}, {"es", true}}

// TestLocaleKeys: the two word lists have the same keys, and every word the app asks for by
// name is in them.
func TestLocaleKeys(t *testing.T) {
	read := func(f string) map[string]string {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]string
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		return m
	}
	en, es := read("locales/en.json"), read("locales/es.json")
	if k1, k2 := slices.Sorted(maps.Keys(en)), slices.Sorted(maps.Keys(es)); !slices.Equal(k1, k2) {
		for _, k := range k1 {
			if _, ok := es[k]; !ok {
				t.Errorf("es.json has no %q", k)
			}
		}
		for _, k := range k2 {
			if _, ok := en[k]; !ok {
				t.Errorf("en.json has no %q", k)
			}
		}
	}
	for k, v := range es {
		if v == "" || (v == en[k] && !slices.Contains([]string{"total", "and_nothing"}, k) && strings.ContainsAny(v, "abcdefghijklmnopqrstuvwxyz") && len(v) > 8) {
			t.Errorf("es.json %q = %q: empty or English", k, v)
		}
	}
	app, err := os.ReadFile("static/app.js")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range regexp.MustCompile(`\bt\("([a-z_]+)"[,)]`).FindAllStringSubmatch(string(app), -1) {
		if _, ok := en[m[1]]; !ok {
			t.Errorf("app.js asks for %q, which en.json does not have", m[1])
		}
	}
}

// TestChairChecks: nothing is said before the chair types; once the first alignment is typed
// and left, C05 is a sentence in the page's language with its ID apart; a final alignment
// with people left in a group that is not viable marks that group's row (C08).
func TestChairChecks(t *testing.T) {
	for _, l := range langs {
		t.Run(l.code, func(t *testing.T) {
			e := startEnv(t) // an origin of its own: no session or draft from the other language
			p := newPage(t, e)
			p.phone()
			p.open("/")
			if l.es {
				p.spanish()
			}
			p.login(precinct4, e.PINs[precinct4])
			p.step("signin")
			p.mathReady()
			p.typeCount("attendees", 100)
			p.next("signin")
			p.step("first")
			p.shot("chair-checks-" + l.code + "-1-first-empty")
			if got := p.text("#first-checks"); got != "" {
				t.Errorf("checks before anything is typed: %q", got)
			}
			p.counts("first", map[string]int{"adams": 50, "baker": 30, "clark": 5})
			p.wait(`document.getElementById("first-checks").innerText.includes("C05")`)
			p.shot("chair-checks-" + l.code + "-2-first-c05")
			got := p.text("#first-checks")
			want := "100 signed in but only 85 are in a first-alignment group (15 not counted): count the groups again, or correct the sign-in count. C05"
			if l.es {
				want = "Se registraron 100 pero solo 85 están en un grupo de la primera alineación (15 sin contar): cuente los grupos de nuevo o corrija el registro. C05"
			}
			if got != want {
				t.Errorf("first checks = %q, want %q", got, want)
			}
			if small := eval[bool](p, `(() => { const f = (el) => parseFloat(getComputedStyle(el).fontSize); const id = document.querySelector("#first-checks .check-id"); return f(id) < f(id.parentNode) })()`); !small {
				t.Error("the check ID is not smaller than its sentence")
			}
			p.axe("first alignment with a check, " + l.code)
			p.next("first")
			p.step("final")
			// clark (5) is not viable (threshold 15) and stays: C08 names it and marks its row.
			p.counts("final", map[string]int{"adams": 50, "baker": 30, "clark": 5})
			p.wait(`document.getElementById("final-checks").innerText.includes("C08")`)
			p.shot("chair-checks-" + l.code + "-3-final-c08")
			if flag := eval[string](p, `document.getElementById("final-clark").closest(".row").dataset.flag`); flag != "warning" {
				t.Errorf("clark's row is marked %q, want warning", flag)
			}
			if flag := eval[string](p, `document.getElementById("final-adams").closest(".row").dataset.flag`); flag != "" {
				t.Errorf("adams's row is marked %q, want nothing", flag)
			}
			c08 := p.text("#final-checks")
			if !strings.Contains(c08, "Clark") || (l.es && strings.Contains(c08, " has ")) || (!l.es && !strings.Contains(c08, "record them as not realigned")) {
				t.Errorf("final checks = %q", c08)
			}
			p.axe("final alignment with a marked row, " + l.code)
		})
	}
}

// TestChairTieBox: a three-way tie for 2 delegates: one box names the groups, says what is at
// stake and how many winners to pick, and after one tap "pick one more"; C13 says the same.
func TestChairTieBox(t *testing.T) {
	for _, l := range langs {
		t.Run(l.code, func(t *testing.T) {
			e := startEnv(t) // an origin of its own: no session or draft from the other language
			p := newPage(t, e)
			p.phone()
			p.open("/")
			if l.es {
				p.spanish()
			}
			three := map[string]int{"adams": 10, "baker": 10, "clark": 10}
			p.login(precinct5, e.PINs[precinct5])
			p.step("signin")
			p.mathReady()
			p.typeCount("attendees", 30)
			p.wait(`!document.querySelector("#step-signin .next").disabled`)
			p.next("signin")
			p.step("first")
			p.counts("first", three)
			p.next("first")
			p.step("final")
			p.counts("final", three)
			p.next("final")
			p.step("delegates")
			p.wait(`document.querySelectorAll(".tie-winner").length === 3`)
			p.shot("chair-tie-" + l.code + "-1-open")
			box, c13 := p.text("#ties"), p.text("#delegates-checks")
			wantBox := []string{"Coin toss between adams, baker and clark.", "At stake: 2 delegates.", "Toss, then tap the 2 winners"}
			wantC13 := "toss a coin as many times as needed to pick 2 winners"
			if l.es {
				wantBox = []string{"Lanzamiento de moneda entre adams, baker y clark.", "En juego: 2 delegados.", "toque a los 2 ganadores"}
				wantC13 = "lancen una moneda tantas veces como haga falta para elegir 2 ganadores"
			}
			for _, w := range wantBox {
				if !strings.Contains(box, w) {
					t.Errorf("tie box = %q, want %q in it", box, w)
				}
			}
			if !strings.Contains(c13, wantC13) || !strings.Contains(c13, "2") {
				t.Errorf("C13 = %q, want %q in it", c13, wantC13)
			}
			p.axe("tie box, " + l.code)
			p.do(clickCSS(`.tie-winner[data-id="baker"]`))
			more := "Pick one more winner."
			if l.es {
				more = "Elija un ganador más."
			}
			p.wait(`document.querySelector(".tie-left").textContent === ` + quote(more))
			p.shot("chair-tie-" + l.code + "-2-one-more")
			p.do(clickCSS(`.tie-winner[data-id="clark"]`))
			p.wait(`!document.querySelector("#step-delegates .next").disabled`)
			p.shot("chair-tie-" + l.code + "-3-done")
			if got := p.text("#delegates-rows"); !strings.Contains(got, "baker\t10\t2") || !strings.Contains(got, "adams\t10\t1") {
				t.Errorf("delegates after the toss = %q", got)
			}
		})
	}
}

// TestChairReceipt: the receipt says when, the numbers as sent and the delegates, the hash in
// base64 as the precinct's page writes it, and links to the precinct's public page (a page, not JSON).
func TestChairReceipt(t *testing.T) {
	for _, l := range langs {
		t.Run(l.code, func(t *testing.T) {
			e := startEnv(t) // an origin of its own: no session or draft from the other language
			precinct := precinct4
			p := newPage(t, e)
			p.phone()
			p.open("/")
			if l.es {
				p.spanish()
			}
			p.toReview(precinct)
			p.submit()
			p.step("receipt")
			p.wait(`document.getElementById("receipt-state").textContent.includes("✓")`)
			p.shot("chair-receipt-" + l.code)
			receipt, rows := p.text("#receipt"), p.text("#receipt-rows")
			time, signed := "Time", "Signed in\n100"
			if l.es {
				time, signed = "Hora", "Registrados\n100"
			}
			if !strings.Contains(receipt, time) || !strings.Contains(receipt, signed) || !regexp.MustCompile(`[0-9A-Za-z+/]{43}=`).MatchString(receipt) {
				t.Errorf("receipt = %q: want the time, the sign-in count and the hash in base64", receipt)
			}
			if !strings.Contains(receipt, "2026") && !regexp.MustCompile(`20\d\d`).MatchString(receipt) {
				t.Errorf("receipt = %q: no date", receipt)
			}
			for _, w := range []string{"adams\t50\t58\t2", "baker\t30\t42\t2", "clark\t12\t0\t0"} {
				if !strings.Contains(rows, w) {
					t.Errorf("receipt numbers = %q, want %q", rows, w)
				}
			}
			href := eval[string](p, `document.getElementById("receipt-link").href`)
			if !strings.HasSuffix(href, "/results/precincts/"+precinct) || strings.Contains(href, "/api/") {
				t.Errorf("receipt link = %q, want the precinct's page", href)
			}
			p.axe("receipt, " + l.code)
			if ct := eval[string](p, `fetch(document.getElementById("receipt-link").href).then((r) => r.headers.get("Content-Type"))`); !strings.HasPrefix(ct, "text/html") {
				t.Errorf("the receipt's link opens %s", ct)
			}
			// The hash on the receipt is the entry's leaf hash, written as the precinct's page and the
			// log's checkpoints write hashes: base64.
			es := e.entries(false, precinct)
			if len(es) != 1 {
				t.Fatalf("%d entries", len(es))
			}
			if leaf := es[0].LeafHash; !strings.Contains(receipt, base64.StdEncoding.EncodeToString(leaf[:])) {
				t.Errorf("receipt = %q, want the leaf hash %x in base64", receipt, leaf)
			}
		})
	}
}

// TestChairLogin: the precinct typed loosely shows its name before the PIN and logs in; a
// broken QR link says so; 0 and 99,999 signed in ask to be confirmed; the worksheet says
// nothing of the math before the chair types; log out returns to the login screen (and from
// practice to the real caucus); a precinct that already reported says so at the next login;
// "Español" stays on one line beside a long precinct name.
func TestChairLogin(t *testing.T) {
	for _, l := range langs {
		t.Run(l.code, func(t *testing.T) {
			e := startEnv(t) // an origin of its own: no session or draft from the other language
			precinct, typed := precinct4, "  P0000"
			if l.es {
				precinct, typed = "p0003", "Precinct 3"
			}
			p := newPage(t, e)
			p.phone()
			p.open("/#p=p0000&t=" + strings.Repeat("A", 32))
			if l.es {
				p.spanish()
			}
			p.wait(`!document.getElementById("login-error").hidden`)
			bad := map[bool]string{false: "The QR code link is damaged", true: "El enlace del código QR está dañado"}[l.es]
			if got := p.text("#login-error"); !strings.Contains(got, bad) {
				t.Errorf("broken QR link: %q", got)
			}
			p.shot("chair-login-" + l.code + "-1-bad-link")
			// A link cut short before its token says the same (a new page: only the fragment
			// changes, so the page is loaded again).
			eval[bool](p, `(() => { document.getElementById("login-error").hidden = true; return true })()`)
			p.open("/#p=p0000")
			p.reload()
			p.wait(`!document.getElementById("login-error").hidden && location.hash === ""`)
			if got := p.text("#login-error"); !strings.Contains(got, bad) {
				t.Errorf("QR link without its token: %q", got)
			}
			eval[bool](p, `(() => { document.getElementById("precinct").value = ""; return true })()`)
			p.typeText("precinct", typed)
			p.do(clickCSS("#pin"))
			name := map[bool]string{false: "Precinct: Precinct 0", true: "Precinto: Precinct 3"}[l.es]
			p.wait(`document.getElementById("precinct-name").textContent === ` + quote(name))
			p.shot("chair-login-" + l.code + "-2-name")
			p.axe("login with the precinct's name, " + l.code)
			p.typeText("pin", e.PINs[precinct])
			p.do(clickCSS("#login-button"))
			p.step("signin")
			p.mathReady()
			// A long precinct name: the language button stays whole, on one line, on screen.
			eval[bool](p, `(() => { document.getElementById("where").textContent = "Des Moines Precinct 41 West Side Community Center · polk-des-moines-41-west"; return true })()`)
			if fits := eval[bool](p, `(() => { const b = document.getElementById("lang").getBoundingClientRect(); return b.right <= innerWidth && b.height < 50 && document.getElementById("lang").scrollWidth <= document.getElementById("lang").clientWidth })()`); !fits {
				t.Error("the language button overflows beside a long precinct name")
			}
			p.shot("chair-login-" + l.code + "-3-long-name")
			for _, n := range []int{0, 99999} {
				p.typeCount("attendees", n)
				p.wait(`!document.getElementById("signin-warn").hidden`)
				if !eval[bool](p, `document.querySelector("#step-signin .next").disabled`) {
					t.Errorf("%d signed in: Next is enabled before the chair confirms", n)
				}
				p.shot("chair-login-" + l.code + "-4-signin-" + map[int]string{0: "zero", 99999: "huge"}[n])
				p.axe("sign-in warning, " + l.code)
				p.do(clickCSS("#signin-confirm"))
				p.wait(`!document.querySelector("#step-signin .next").disabled`)
			}
			p.typeCount("attendees", 100)
			p.wait(`document.getElementById("signin-warn").hidden && !document.querySelector("#step-signin .next").disabled`)
			p.next("signin")
			p.step("first")
			p.counts("first", cleanFirst)
			p.next("first")
			p.step("final")
			p.counts("final", cleanFinal)
			p.next("final")
			p.step("delegates")
			p.next("delegates")
			p.step("worksheet")
			p.shot("chair-login-" + l.code + "-5-worksheet-empty")
			if got := p.text("#worksheet-rows"); strings.Contains(got, "math") || strings.Contains(got, "cálculo") {
				t.Errorf("the worksheet shows the math before the chair types: %q", got)
			}
			p.counts("worksheet", map[string]int{"adams": 3, "baker": 2})
			p.wait(`document.getElementById("worksheet-note-adams").textContent !== ""`)
			p.shot("chair-login-" + l.code + "-6-worksheet-typed")
			p.counts("worksheet", map[string]int{}) // the chair sends no worksheet numbers
			p.next("worksheet")
			p.step("photo")
			p.next("photo")
			p.step("review")
			p.submit()
			p.wait(`document.getElementById("receipt-state").textContent.includes("✓")`)
			// Log out: the server ends the session (nothing waits on the phone). Then forget this
			// phone's copy (as another phone would be) and log in again.
			tok := eval[string](p, `JSON.parse(localStorage.getItem("caucus.session")).token`)
			p.do(clickCSS("#logout"))
			p.step("login")
			if !eval[bool](p, `(async () => { for (;;) { const r = await fetch("/api/v1/callbacks", { method: "POST", headers: { Authorization: "Bearer `+tok+`", "Content-Type": "application/json" }, body: "{}" });
				if (r.status === 401) return true; await new Promise((ok) => setTimeout(ok, 50)) } })()`) {
				t.Error("the session lives on after log out")
			}
			eval[bool](p, `(() => { localStorage.clear(); document.getElementById("precinct").value = ""; return true })()`)
			p.typeText("precinct", precinct)
			p.typeText("pin", e.PINs[precinct])
			p.do(clickCSS("#login-button"))
			p.step("signin")
			p.wait(`!document.getElementById("already").hidden`)
			p.shot("chair-login-" + l.code + "-7-already")
			already := map[bool]string{false: "already reported (accepted)", true: "ya informó (aceptado)"}[l.es]
			if got := p.text("#already"); !strings.Contains(got, already) {
				t.Errorf("already reported: %q", got)
			}
			if href := eval[string](p, `document.getElementById("already-link").href`); !strings.HasSuffix(href, "/results/precincts/"+precinct) {
				t.Errorf("already reported links to %q", href)
			}
			p.axe("already reported, " + l.code)
		})
	}
	// From practice back to the real caucus: log out, then the login screen's link.
	e := startEnv(t)
	p := newPage(t, e)
	p.phone()
	p.open("/practice/")
	p.login(precinct5, e.PINs[precinct5])
	p.step("signin")
	p.do(clickCSS("#logout"))
	p.step("login")
	if href := eval[string](p, `document.getElementById("mode-link").getAttribute("href")`); href != "/" {
		t.Errorf("from practice, the login screen links to %q", href)
	}
	p.shot("chair-login-practice-logged-out")
}

// TestChairCallbackBeforeLogin: on the login screen, "call me back" with the precinct as typed
// there (its name) puts it in headquarters' queue; without a precinct it asks for one.
func TestChairCallbackBeforeLogin(t *testing.T) {
	for _, l := range langs {
		t.Run(l.code, func(t *testing.T) {
			e := startEnv(t) // an origin of its own: no session or draft from the other language
			p := newPage(t, e)
			p.phone()
			p.open("/")
			if l.es {
				p.spanish()
			}
			p.do(clickCSS("#callback-box summary"))
			p.typeText("cb-phone", "515 555 0101")
			p.do(clickCSS("#callback-form button"))
			ask := map[bool]string{false: "Type your precinct ID or its name", true: "Escriba el ID o el nombre de su precinto"}[l.es]
			p.wait(`document.getElementById("cb-result").textContent.includes(` + quote(ask) + `)`)
			p.shot("chair-callback-" + l.code + "-1-no-precinct")
			p.typeText("precinct", "precinct 4")
			p.typeText("cb-note", "my PIN is refused")
			p.do(clickCSS("#callback-form button"))
			ok := map[bool]string{false: "Headquarters will call you back.", true: "La sede le llamará."}[l.es]
			p.wait(`document.getElementById("cb-result").textContent === ` + quote(ok))
			p.shot("chair-callback-" + l.code + "-2-sent")
			p.axe("call-back before login, " + l.code)
			cbs, err := e.main.Callbacks(t.Context(), 0, 10)
			if err != nil || len(cbs) != 1 || cbs[0].PrecinctID != "p0004" || cbs[0].Phone != "+15155550101" || cbs[0].Note != "my PIN is refused" {
				t.Errorf("callbacks = %+v, %v", cbs, err)
			}
		})
	}
}
