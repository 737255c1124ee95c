package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"maps"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"caucus/internal/auth"
	"caucus/internal/report"
	"caucus/internal/results"
	"caucus/internal/server"
	"caucus/internal/server/servertest"
)

// staffPage is a tab at a headquarters desk's size (1280×800), or a tablet's (768×1024), whose
// browser holds the staff session cookie of token (none when empty), as the login page would
// have set it.
func staffPage(t *testing.T, url, token string, tablet bool) *page {
	t.Helper()
	ctx, cancel := chromedp.NewContext(browser(t))
	t.Cleanup(cancel)
	p := &page{t: t, ctx: ctx}
	w, h := int64(1280), int64(800)
	if tablet {
		w, h = 768, 1024
	}
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(w, h, chromedp.EmulateScale(1))); err != nil {
		t.Fatalf("open a tab: %v", err)
	}
	p.do(chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		if _, err := cdp.Call(ctx, tg, network.ClearBrowserCookies, cdp.Empty{}); err != nil {
			return err
		}
		if token == "" {
			return nil
		}
		yes := true
		_, err := cdp.Call(ctx, tg, network.SetCookie, network.SetCookieParams{Name: server.StaffCookie, Value: token, URL: url + "/",
			Path: "/", Secure: &yes, HTTPOnly: &yes, SameSite: network.CookieSameSiteStrict})
		return err
	}))
	return p
}

// reviewEnv is a server with two conflicts waiting for a decision, the first report of p0001
// sent with its worksheet photo.
func reviewEnv(t *testing.T) (*servertest.Env, map[string][]int64) {
	t.Helper()
	env := servertest.Start(t, servertest.Options{Precincts: 6})
	img := image.NewRGBA(image.Rect(0, 0, 320, 200))
	for x := range 320 {
		for y := range 200 {
			img.Set(x, y, color.RGBA{250, 250, 245, 255})
			if y%20 == 0 || x%80 == 0 {
				img.Set(x, y, color.RGBA{60, 60, 60, 255})
			}
		}
	}
	var buf bytes.Buffer
	png.Encode(&buf, img)
	chair := env.Login("p0001")
	req, _ := http.NewRequest("POST", env.URL+"/api/v1/photos", &buf)
	req.Header.Set("Content-Type", "image/png")
	req.Header.Set("Authorization", "Bearer "+chair)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var up struct{ SHA256 string }
	json.NewDecoder(resp.Body).Decode(&up)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("photo upload: %d", resp.StatusCode)
	}
	idx := map[string][]int64{}
	for _, p := range []string{"p0001", "p0002"} {
		tok := env.Login(p)
		for k, seed := range []int{3, 9} {
			r := env.Report(p, fmt.Sprintf("%s-%d", p, k), seed)
			if p == "p0001" && k == 0 {
				r.PhotoSHA256 = up.SHA256
			}
			status, b := env.Do("POST", "/api/v1/reports", tok, r.Canonical())
			var out struct {
				LogIndex int64 `json:"log_index"`
				Receipt  struct {
					LogIndex int64 `json:"log_index"`
				}
			}
			json.Unmarshal(b, &out)
			switch status {
			case http.StatusCreated:
				idx[p] = append(idx[p], out.LogIndex)
			case http.StatusConflict:
				idx[p] = append(idx[p], out.Receipt.LogIndex)
			default:
				t.Fatalf("report %s: %d %s", r.ReportID, status, b)
			}
		}
	}
	return env, idx
}

func precinctNow(t *testing.T, env *servertest.Env, id string) results.Precinct {
	t.Helper()
	_, b := env.Do("GET", "/api/v1/results/precincts/"+id, "", nil)
	var d results.Precinct
	json.Unmarshal(b, &d)
	return d
}

// TestReviewQueuePage: a reviewer resolves a conflict by accepting the second report and
// another by a correction typed in the page with its live math; an observer sees the queue
// read-only; a browser without a session goes to the login page. Screenshots of each, and no
// serious or critical axe-core violation.
func TestReviewQueuePage(t *testing.T) {
	env, idx := reviewEnv(t)
	rita := env.StaffLogin("rita", auth.RoleReviewer)
	p := staffPage(t, env.URL, rita, false)
	p.do(chromedp.Navigate(env.URL + "/hq/review"))
	p.wait(`document.documentElement.dataset.ready === "1" && document.querySelectorAll("#entries .entry").length === 2`)
	if got := p.text("#count"); got != "2" {
		t.Errorf("queue length %q, want 2", got)
	}
	if got := p.text("#entries"); !strings.Contains(got, "C") && !strings.Contains(got, "No check fired") {
		t.Errorf("entries without checks: %q", got)
	}
	p.wait(`document.querySelector("#entries img") !== null && document.querySelector("#entries img").complete && document.querySelector("#entries img").naturalWidth === 320`)
	p.shot("hq-review-conflict-desktop")
	p.axe("review queue")

	// Accept the second report of p0001, without a reason first (refused in the page).
	second := idx["p0001"][1]
	accept := fmt.Sprintf(`#entries button.accept[data-log-index="%d"]`, second)
	p.do(clickCSS(accept))
	p.wait(`!document.getElementById("error").hidden && document.getElementById("error").textContent.includes("reason")`)
	p.do(chromedp.SendKeys(chromedp.CSS("#reason"), "called the chair back: the second count is the worksheet"))
	p.do(clickCSS(accept))
	p.wait(`document.getElementById("status").textContent.includes("Decision recorded for precinct p0001")`)
	if d := precinctNow(t, env, "p0001"); d.Status != results.Accepted || d.CountedEntry == nil || *d.CountedEntry != second {
		t.Fatalf("p0001 after accepting the second report: %+v", d)
	}
	p.wait(`document.getElementById("count").textContent === "1"`)
	p.shot("hq-review-accepted-desktop")

	// Correct p0002 from the page: more people for adams, with the live math.
	p.do(clickCSS(`#queue button[data-precinct="p0002"]`))
	p.wait(`document.getElementById("item-h").textContent === "Precinct p0002" && document.getElementById("c-first-adams") !== null`)
	base := precinctNow(t, env, "p0002")
	want := *base.Attendees + 5
	var adamsFirst, adamsFinal int64
	for _, g := range base.Groups {
		if g.CandidateID == "adams" {
			adamsFirst, adamsFinal = g.First, g.Final
		}
	}
	for id, n := range map[string]int64{"c-attendees": want, "c-first-adams": adamsFirst + 5, "c-final-adams": adamsFinal + 5} {
		eval[bool](p, `(() => { const i = document.getElementById("`+id+`"); i.value = ""; return true })()`)
		p.do(chromedp.SendKeys(chromedp.CSS("#"+id), fmt.Sprint(n)))
	}
	p.wait(`document.getElementById("c-math").textContent.includes("Viability threshold") && !document.getElementById("c-submit").disabled`)
	p.do(chromedp.SendKeys(chromedp.CSS("#reason"), "the worksheet photo shows five more for Adams"))
	p.shot("hq-review-correction-desktop")
	p.axe("correction form")
	p.do(clickCSS("#c-submit"))
	p.wait(`document.getElementById("status").textContent.includes("Decision recorded for precinct p0002")`)
	d := precinctNow(t, env, "p0002")
	if d.Status != results.Corrected || *d.Attendees != want || len(d.History) != 3 || d.History[2].Kind != report.KindCorrection ||
		d.History[2].Submitter != "rita" || !d.History[2].Counted {
		t.Fatalf("p0002 after the correction: %+v", d)
	}
	p.wait(`document.getElementById("count").textContent === "0" && document.getElementById("history").children.length === 3`)
	// Rita may not accept her own correction: the page says so (and the server would refuse).
	if !eval[bool](p, fmt.Sprintf(`document.querySelector('#entries button.accept[data-log-index="%d"]').disabled`, d.History[2].LogIndex)) {
		t.Errorf("rita's own correction can be accepted from her page")
	}
	p.shot("hq-review-corrected-desktop")

	// The public page of the precinct shows the original beside the correction, who and why.
	p.do(chromedp.Navigate(env.URL + "/results/precincts/p0002"))
	p.wait(`document.readyState === "complete"`)
	if got := p.text("table.history"); !strings.Contains(got, "Original report") || !strings.Contains(got, "Correction by headquarters") ||
		!strings.Contains(got, "by rita") || !strings.Contains(got, "the worksheet photo shows five more for Adams") {
		t.Errorf("the precinct page's history: %q", got)
	}
	p.shot("hq-review-public-precinct-desktop")
	p.axe("public precinct page after a correction")

	// An observer, on a tablet: the same page, no decision to make.
	olive := env.StaffLogin("olive", auth.RoleObserver)
	o := staffPage(t, env.URL, olive, true)
	o.do(chromedp.Navigate(env.URL + "/hq/review"))
	o.wait(`document.documentElement.dataset.ready === "1"`)
	o.do(clickCSS("#lookup-id"))
	o.do(chromedp.SendKeys(chromedp.CSS("#lookup-id"), "p0001\n"))
	o.wait(`document.querySelectorAll("#entries .entry").length === 2`)
	if n := eval[int](o, `document.querySelectorAll("button.accept, #decide, #c-submit").length`); n != 0 {
		t.Errorf("the observer's page has %d decision controls", n)
	}
	if got := o.text("header"); !strings.Contains(got, "read-only") {
		t.Errorf("the observer's header does not say read-only: %q", got)
	}
	o.shot("hq-review-observer-tablet")
	o.axe("observer")

	// No session: to the login page.
	n := staffPage(t, env.URL, "", false)
	n.do(chromedp.Navigate(env.URL + "/hq/review"))
	n.wait(`location.pathname === "/hq/login" && location.search === "?next=%2Fhq%2Freview"`)
}

// TestReviewHotlineMismatch: two operators key a worksheet differently and nobody keys it a
// third time: the review page shows the precinct with both copies field by field (nothing
// counted), and a correction typed there settles it. Screenshot, and no serious or critical
// axe-core violation.
func TestReviewHotlineMismatch(t *testing.T) {
	env := servertest.Start(t, servertest.Options{Precincts: 3})
	const precinct = "p0002"
	right := env.Report(precinct, "right", 4)
	wrong := right
	wrong.First = maps.Clone(right.First)
	wrong.First["adams"] += 2
	wrong.Attendees += 2
	for op, r := range map[string]report.Report{"olga": right, "otto": wrong} {
		tok := env.StaffLogin(op, auth.RoleOperator)
		rep, _ := json.Marshal(r)
		var m map[string]any
		json.Unmarshal(rep, &m)
		delete(m, "report_id")
		m["channel"] = "hotline"
		body, _ := json.Marshal(map[string]any{"precinct_id": precinct, "verified_by": "pin", "pin": env.PINs[precinct], "report": m})
		if status, b := env.Do("POST", "/api/v1/hotline/entries", tok, body); status != http.StatusOK && status != http.StatusCreated {
			t.Fatalf("%s's copy: %d %s", op, status, b)
		}
	}
	rita := env.StaffLogin("rita", auth.RoleReviewer)
	p := staffPage(t, env.URL, rita, false)
	p.do(chromedp.Navigate(env.URL + "/hq/review"))
	p.wait(`document.documentElement.dataset.ready === "1" && document.getElementById("item-h").textContent === "Precinct ` + precinct + `"`)
	p.wait(`document.getElementById("entries").textContent.includes("Hotline copies that differ")`)
	got := p.text("#entries")
	for _, want := range []string{"olga", "otto", "attendees"} {
		if !strings.Contains(got, want) {
			t.Errorf("the hotline card does not show %q: %q", want, got)
		}
	}
	// The correction starts from the first copy's numbers, for the reviewer to check.
	if got := eval[string](p, `document.getElementById("c-attendees").value`); got == "" {
		t.Errorf("the correction form is empty for a precinct with hotline copies")
	}
	p.shot("hq-review-hotline-mismatch")
	p.axe("review queue, hotline mismatch")
}
