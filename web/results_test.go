package web_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"caucus/internal/auth"
	"caucus/internal/election"
	"caucus/internal/night"
	"caucus/internal/report"
	"caucus/internal/rules"
	"caucus/internal/server"
	"caucus/internal/server/servertest"
	"caucus/internal/store/sqlite"
	"caucus/web"
)

// The public results site in Chromium, on the real Iowa 2020 election (its 99
// counties on the map and its 5 satellite pseudo-counties beside it) and its practice twin.

// seeded are the precincts the results tests report, across three counties and a satellite.
var seeded = []string{"adair-1nw-adair", "adair-2ne-stuart", "adair-3sw-fontanelle", "polk-altoona-01",
	"polk-altoona-02", "black-hawk-big-creek-la-porte", "cd1-satellite-cedar-rapids-ia-hoover-elementary-school"}

// resultsEnv is a real server for the Iowa 2020 election and its practice twin.
type resultsEnv struct {
	t      testing.TB
	URL    string
	Server *server.Server
	def    *election.Definition
	pdef   *election.Definition
	pins   map[string]string
	tokens map[string]string
	n      int
}

func startResults(t testing.TB) *resultsEnv {
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
	e := &resultsEnv{t: t, def: def, pdef: pdef, pins: map[string]string{}, tokens: map[string]string{}}
	dir := t.TempDir()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	open := func(name string, d *election.Definition) (*sqlite.DB, *night.Night) {
		db, err := sqlite.Open(ctx, filepath.Join(dir, name), sqlite.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		site, err := night.Open(ctx, night.Config{Def: d, Store: db, Log: log})
		if err != nil {
			t.Fatal(err)
		}
		return db, site
	}
	db, mainSite := open("caucus.db", def)
	_, practiceSite := open("practice.db", pdef)
	ids := append([]string(nil), seeded...)
	ids = append(ids, "adair-4se-orient", "polk-altoona-03")
	for _, id := range ids {
		if _, ok := def.Precinct(id); !ok {
			t.Fatalf("precinct %s is not in the Iowa 2020 election", id)
		}
	}
	secrets, err := auth.GeneratePrecinctSecrets(ids)
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
	e.Server = server.New(server.Config{Main: mainSite, Practice: practiceSite, Auth: authn, Log: log})
	hs := httptest.NewServer(e.Server.Handler())
	e.URL = hs.URL
	runCtx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		var wg sync.WaitGroup
		wg.Go(func() { mainSite.Run(runCtx) })
		wg.Go(func() { practiceSite.Run(runCtx) })
		wg.Wait()
		close(done)
	}()
	t.Cleanup(func() { hs.Close(); cancel(); <-done })
	return e
}

// post sends JSON and returns the status and body.
func (e *resultsEnv) post(path, token string, v any) (int, []byte) {
	e.t.Helper()
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

// report submits a valid report for a precinct of the election (or its practice twin), chosen
// by seed, and waits until the published results count it.
func (e *resultsEnv) report(practice bool, precinct string, seed int) {
	e.t.Helper()
	def, prefix := e.def, ""
	if practice {
		def, prefix = e.pdef, "/practice"
	}
	tok, ok := e.tokens[precinct]
	if !ok {
		status, b := e.post("/api/v1/login", "", map[string]string{"precinct_id": precinct, "pin": e.pins[precinct]})
		if status != http.StatusOK {
			e.t.Fatalf("login %s: %d %s", precinct, status, b)
		}
		var out struct{ Token string }
		json.Unmarshal(b, &out)
		tok = out.Token
		e.tokens[precinct] = tok
	}
	r := validReport(e.t, def, precinct, seed)
	e.n++
	r.ReportID = fmt.Sprintf("r-%s-%d-%v", precinct, e.n, practice)
	status, b := e.post(prefix+"/api/v1/reports", tok, r)
	if status != http.StatusCreated {
		e.t.Fatalf("report %s: %d %s", precinct, status, b)
	}
	var rec struct {
		LogIndex int64 `json:"log_index"`
	}
	json.Unmarshal(b, &rec)
	e.waitFor(prefix, rec.LogIndex)
}

// waitFor waits until the published results of a site (prefix "" or "/practice") count the
// log entry of the given index.
func (e *resultsEnv) waitFor(prefix string, index int64) {
	e.t.Helper()
	for deadline := time.Now().Add(stepTimeout); ; {
		var res struct {
			LogSize int64 `json:"log_size"`
		}
		resp, err := http.Get(e.URL + prefix + "/api/v1/results")
		if err == nil {
			json.NewDecoder(resp.Body).Decode(&res)
			resp.Body.Close()
		}
		if res.LogSize > index {
			return
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("entry %d not in the results after %s", index, stepTimeout)
		}
		time.Sleep(20 * time.Millisecond) // polling the server, not timing an assertion
	}
}

// validReport is a report for precinct whose math needs no game of chance and raises no error:
// four candidates stand at first, the smallest group realigns, and no check fires.
func validReport(t testing.TB, def *election.Definition, precinct string, seed int) report.Report {
	t.Helper()
	facts := report.Facts(def)[precinct]
	cs := def.Election().Candidates
	for k := 0; k < 1000; k++ {
		s := seed + k*7919
		picks := []string{cs[(s/3)%len(cs)].ID, cs[(s/5+3)%len(cs)].ID, cs[(s/7+6)%len(cs)].ID, cs[(s/11+9)%len(cs)].ID}
		if picks[0] == picks[1] || picks[0] == picks[2] || picks[0] == picks[3] || picks[1] == picks[2] || picks[1] == picks[3] || picks[2] == picks[3] {
			continue
		}
		counts := []int64{int64(40 + s%23), int64(27 + s%11), int64(13 + s%7), 3}
		first, final := map[string]int64{}, map[string]int64{}
		var total int64
		for i, c := range counts {
			first[picks[i]] = c
			total += c
		}
		final[picks[0]], final[picks[1]], final[picks[2]] = counts[0], counts[1]+counts[3], counts[2]
		r := report.Report{PrecinctID: precinct, Attendees: total, First: first, Final: final, Channel: "app"}
		res := rules.Calc(report.CalcInput(r, facts))
		if len(res.Checks) > 0 || len(res.TiebreaksNeeded) > 0 {
			continue
		}
		r.Delegates = map[string]int64{}
		for _, g := range res.Groups {
			if g.Delegates != nil && *g.Delegates > 0 {
				r.Delegates[g.CandidateID] = *g.Delegates
			}
		}
		return r
	}
	t.Fatalf("no valid report found for %s", precinct)
	return report.Report{}
}

// getJSON decodes a feed.
func (e *resultsEnv) getJSON(path string, v any) {
	e.t.Helper()
	resp, err := http.Get(e.URL + path)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		e.t.Fatalf("GET %s: %v", path, err)
	}
}

// resultsPage is a tab on the results site.
func resultsPage(t testing.TB, e *resultsEnv, width, height int64) *page {
	t.Helper()
	ctx, cancel := chromedp.NewContext(browser(t))
	t.Cleanup(cancel)
	p := &page{t: t, ctx: ctx}
	// The first Run on a tab opens it for the context's lifetime: never under a timeout.
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(width, height, chromedp.EmulateScale(1))); err != nil {
		t.Fatalf("open a tab: %v", err)
	}
	return p
}

// visit loads a results page and waits until results.js has run: on a live page, until its
// live line says it follows the results.
func (p *page) visit(url string) {
	p.t.Helper()
	p.do(chromedp.Navigate(url))
	p.wait(`document.readyState === "complete" && (!document.documentElement.dataset.live || (document.querySelector(".live") !== null && document.querySelector(".live").textContent !== ""))`)
}

type totals struct {
	LogSize            int64 `json:"log_size"`
	PrecinctsReporting int   `json:"precincts_reporting"`
	Candidates         []struct {
		CandidateID     string `json:"candidate_id"`
		Name            string `json:"name"`
		First           int64  `json:"first"`
		Final           int64  `json:"final"`
		CountyDelegates int64  `json:"county_delegates"`
		SDE             string `json:"sde"`
	} `json:"candidates"`
}

// rowOf is the text of a candidate's row in the page's totals table.
func rowOf(p *page, name string) string { return rowIn(p, "table.totals", name) }

// rowIn is the text of the row of a table whose header cell is name.
func rowIn(p *page, table, name string) string {
	return eval[string](p, `(() => { for (const r of document.querySelectorAll(`+jsString(table+" tbody tr")+`)) { if (r.querySelector("th").textContent.trim() === `+jsString(name)+`) return r.innerText; } return ""; })()`)
}

func jsString(s string) string { b, _ := json.Marshal(s); return string(b) }

// checkTotals asserts that every candidate's four numbers of the feed are in its row.
func checkTotals(t testing.TB, p *page, res totals) {
	t.Helper()
	for _, c := range res.Candidates {
		row := rowOf(p, c.Name)
		cells := strings.Fields(row)
		want := []string{web.Thousands(c.First), web.Thousands(c.Final), web.Thousands(c.CountyDelegates), web.Thousands(c.SDE)}
		for _, w := range want {
			found := false
			for _, cell := range cells {
				if cell == w {
					found = true
				}
			}
			if !found {
				t.Errorf("%s's row %q lacks %s (feed: first %d, final %d, county delegates %d, SDE %s)", c.Name, row, w, c.First, c.Final, c.CountyDelegates, c.SDE)
			}
		}
	}
}

// TestResultsPages: the statewide page, the map, a county and a precinct page show the numbers
// of a seeded election, at phone and desktop sizes, with screenshots; the practice pages say
// PRACTICE; axe-core finds no serious or critical violation.
func TestResultsPages(t *testing.T) {
	e := startResults(t)
	for i, id := range seeded {
		e.report(false, id, 11*i+1)
	}
	e.report(true, "adair-1nw-adair", 5)
	if err := e.Server.SignCheckpoint(context.Background()); err != nil {
		t.Fatal(err)
	}
	var res totals
	e.getJSON("/api/v1/results", &res)
	if res.PrecinctsReporting != len(seeded) {
		t.Fatalf("%d precincts reporting, want %d", res.PrecinctsReporting, len(seeded))
	}

	for _, size := range []struct {
		name          string
		width, height int64
	}{{"phone", 360, 740}, {"desktop", 1280, 800}} {
		t.Run(size.name, func(t *testing.T) {
			p := resultsPage(t, e, size.width, size.height)

			p.visit(e.URL + "/results")
			checkTotals(t, p, res)
			if got := p.text(".reporting"); !strings.Contains(got, fmt.Sprintf("%d of 1,765 precincts reporting", len(seeded))) {
				t.Errorf("statewide reporting line: %q", got)
			}
			if got := p.text("#verify"); !strings.Contains(got, fmt.Sprintf("first %s entries", web.Thousands(res.LogSize))) || !strings.Contains(got, "signed checkpoint") {
				t.Errorf("statewide provenance (the verify section): %q", got)
			}
			p.shot("results-statewide-" + size.name)

			// The map: 99 real county shapes, drawn (the external <use> loaded), Adair coloured
			// by its SDE leader, then by its final-alignment leader after the switch.
			if n := eval[int](p, `document.querySelectorAll("#map svg use:not(.hatch)").length`); n != 99 {
				t.Errorf("the map draws %d counties, want 99", n)
			}
			p.wait(`document.querySelector('#map a[href$="/counties/adair"]').getBBox().width > 10`)
			var county struct {
				Counties []struct {
					CountyID   string `json:"county_id"`
					Candidates []struct {
						Name  string `json:"name"`
						Final int64  `json:"final"`
						SDE   string `json:"sde"`
					} `json:"candidates"`
				} `json:"counties"`
			}
			e.getJSON("/api/v1/results/counties", &county)
			var sdeLeader, finalLeader string
			var bestSDE float64
			var bestFinal int64
			for _, c := range county.Counties {
				if c.CountyID != "adair" {
					continue
				}
				for _, g := range c.Candidates {
					var v float64
					fmt.Sscan(g.SDE, &v)
					if v > bestSDE {
						bestSDE, sdeLeader = v, g.Name
					}
					if g.Final > bestFinal {
						bestFinal, finalLeader = g.Final, g.Name
					}
				}
			}
			fill := func() string {
				return eval[string](p, `getComputedStyle(document.querySelector('#map a[href$="/counties/adair"] use')).fill`)
			}
			swatch := func(name string) string {
				return eval[string](p, `(() => { for (const li of document.querySelectorAll(".legend li")) if (li.textContent.trim() === `+jsString(name)+`) return getComputedStyle(li.querySelector(".sw")).backgroundColor; return "none"; })()`)
			}
			if got, want := fill(), swatch(sdeLeader); got != want {
				t.Errorf("Adair is filled %s, want %s (%s leads in SDEs)", got, want, sdeLeader)
			}
			row := eval[string](p, `[...document.querySelectorAll("table.counties tr")].find((r) => r.querySelector("th").textContent === "Adair").textContent`)
			if !strings.Contains(row, "3/") || !strings.Contains(row, sdeLeader) || !strings.Contains(row, finalLeader) {
				t.Errorf("Adair's row in the county table: %q, want 3 reporting, %s and %s", row, sdeLeader, finalLeader)
			}
			if sats := p.text(".offmap"); !strings.Contains(sats, "CD1 Satellite") || !strings.Contains(sats, "Out of State Satellite") {
				t.Errorf("satellites beside the map: %q", sats)
			}
			p.do(chromedp.Click(chromedp.CSS(`.switch a[data-mode="final"]`)))
			p.wait(`document.getElementById("map").classList.contains("by-final") && location.search === "?by=final"`)
			if got, want := fill(), swatch(finalLeader); got != want {
				t.Errorf("by final alignment, Adair is filled %s, want %s (%s leads)", got, want, finalLeader)
			}
			p.visit(e.URL + "/results/map")
			p.shot("results-map-" + size.name)
			p.axe("map page")

			// A county: its totals and each precinct's status.
			p.visit(e.URL + "/results/counties/adair")
			var adair totals
			e.getJSON("/api/v1/results/counties/adair", &adair)
			checkTotals(t, p, adair)
			for _, want := range []string{"1NW ADAIR\t8\tAccepted", "4SE ORIENT\t", "Not reported"} {
				if got := p.text("table.precincts"); !strings.Contains(got, want) {
					t.Errorf("Adair's precincts lack %q:\n%s", want, got)
				}
			}
			p.shot("results-county-" + size.name)
			p.axe("county page")

			// A precinct: the worksheet, its history and its inclusion in the log.
			p.visit(e.URL + "/results/precincts/adair-1nw-adair")
			var pr struct {
				Attendees int64 `json:"attendees"`
				Threshold int64 `json:"threshold"`
				Groups    []struct {
					Name      string `json:"name"`
					First     int64  `json:"first"`
					Final     int64  `json:"final"`
					Delegates int64  `json:"delegates"`
					SDE       string `json:"sde"`
				} `json:"groups"`
			}
			e.getJSON("/api/v1/results/precincts/adair-1nw-adair", &pr)
			sheet := p.text("dl.sheet")
			if !strings.Contains(sheet, fmt.Sprint(pr.Attendees)) || !strings.Contains(sheet, fmt.Sprint(pr.Threshold)) || !strings.Contains(sheet, "15% of those signed in") {
				t.Errorf("worksheet head %q, want %d signed in, threshold %d", sheet, pr.Attendees, pr.Threshold)
			}
			for _, g := range pr.Groups {
				if g.First == 0 && g.Final == 0 {
					continue
				}
				row := strings.Fields(rowIn(p, "table.worksheet", g.Name))
				for _, want := range []string{web.Thousands(g.First), web.Thousands(g.Final), web.Thousands(g.Delegates), web.Thousands(g.SDE)} {
					if !slices.Contains(row, want) {
						t.Errorf("worksheet row of %s %q lacks %s (first %d, final %d, %d delegates, %s SDE)", g.Name, row, want, g.First, g.Final, g.Delegates, g.SDE)
					}
				}
			}
			if got := p.text(".pstatus"); !strings.Contains(got, "Accepted") {
				t.Errorf("precinct status %q", got)
			}
			if got := p.text(".inclusion"); !strings.Contains(got, "inclusion proof checks out") {
				t.Errorf("log inclusion: %q", got)
			}
			p.shot("results-precinct-" + size.name)
			p.axe("precinct page")

			// Practice: marked on every page.
			for _, path := range []string{"/practice/results", "/practice/results/counties/adair", "/practice/results/precincts/adair-1nw-adair"} {
				p.visit(e.URL + path)
				if !strings.HasPrefix(eval[string](p, `document.title`), "PRACTICE") || !strings.Contains(p.text(".practice-banner"), "PRACTICE") ||
					!strings.Contains(p.text("h1"), "PRACTICE") {
					t.Errorf("%s is not marked PRACTICE: title %q", path, eval[string](p, `document.title`))
				}
			}
			p.visit(e.URL + "/practice/results")
			p.shot("results-practice-" + size.name)
			p.axe("practice statewide page")
			p.visit(e.URL + "/api")
			p.axe("feeds page")
			p.visit(e.URL + "/results")
			p.axe("statewide page")
		})
	}
}

// TestResultsLive: a report sent while the statewide and a precinct page are open shows up on
// both without a reload.
func TestResultsLive(t *testing.T) {
	e := startResults(t)
	e.report(false, "adair-1nw-adair", 1)
	state := resultsPage(t, e, 360, 740)
	state.visit(e.URL + "/results")
	county := resultsPage(t, e, 360, 740)
	county.visit(e.URL + "/results/counties/polk")
	for _, p := range []*page{state, county} {
		eval[bool](p, `window.notReloaded = true`)
	}
	if got := state.text(".reporting"); !strings.HasPrefix(got, "1 of") {
		t.Fatalf("before: %q", got)
	}
	e.report(false, "polk-altoona-03", 7)
	state.wait(`document.querySelector(".reporting").innerText.startsWith("2 of")`)
	county.wait(`document.querySelector("table.precincts").innerText.includes("Accepted")`)
	var res totals
	e.getJSON("/api/v1/results", &res)
	checkTotals(t, state, res)
	for _, p := range []*page{state, county} {
		if !eval[bool](p, `window.notReloaded === true`) {
			t.Error("the page reloaded")
		}
	}
	if got := state.text(".live"); !strings.Contains(got, "updated") {
		t.Errorf("live status: %q", got)
	}
}

// TestResultsInlineStyle: every results page carries its stylesheet inline, allowed by that
// block's hash alone in the CSP it is sent with (never 'unsafe-inline', no inline script, no
// other page's hashes); results.js stays a deferred file; the 304, ETag, gzip and Vary still
// hold; and the page with its style fits the first round trip of a slow network.
func TestResultsInlineStyle(t *testing.T) {
	e := startResults(t)
	for i, id := range seeded {
		e.report(false, id, 11*i+1)
	}
	e.report(true, "adair-1nw-adair", 5)
	if err := e.Server.SignCheckpoint(context.Background()); err != nil {
		t.Fatal(err)
	}
	assets, err := web.Load()
	if err != nil {
		t.Fatal(err)
	}
	styleHash := assets.CSP("results.css")
	blockRE := regexp.MustCompile(`(?s)<(script|style)([^>]*)>(.*?)</(?:script|style)>`)
	get := func(path string, header ...string) (*http.Response, []byte) {
		t.Helper()
		req, _ := http.NewRequest("GET", e.URL+path, nil)
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		resp, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, b
	}
	for _, path := range []string{"/results", "/results/map", "/results/counties/polk", "/results/precincts/adair-1nw-adair",
		"/practice/results", "/practice/results/precincts/adair-1nw-adair", "/api", "/results/counties/nowhere"} {
		resp, zipped := get(path, "Accept-Encoding", "gzip")
		if resp.Header.Get("Content-Encoding") != "gzip" || !strings.Contains(resp.Header.Get("Vary"), "Accept-Encoding") {
			t.Errorf("%s: Content-Encoding %q, Vary %q", path, resp.Header.Get("Content-Encoding"), resp.Header.Get("Vary"))
			continue
		}
		zr, err := gzip.NewReader(bytes.NewReader(zipped))
		if err != nil {
			t.Fatal(err)
		}
		page, _ := io.ReadAll(zr)
		// 10 KB gzipped: well inside the first flight of a new connection (10 segments).
		t.Logf("%s: %d bytes gzipped", path, len(zipped))
		if len(zipped) > 10<<10 {
			t.Errorf("%s is %d bytes gzipped with its style: keep it under 10 KB", path, len(zipped))
		}
		policy := resp.Header.Get("Content-Security-Policy")
		csp := map[string]string{}
		for _, d := range strings.Split(policy, ";") {
			if f := strings.Fields(d); len(f) > 0 {
				csp[f[0]] = strings.Join(f[1:], " ")
			}
		}
		if want := "'self' " + styleHash; csp["style-src"] != want {
			t.Errorf("%s: style-src %q, want %q", path, csp["style-src"], want)
		}
		if strings.Contains(policy, "unsafe-inline") || csp["script-src"] != "" || csp["default-src"] != "'self'" || csp["object-src"] != "'none'" {
			t.Errorf("%s: CSP %q", path, policy)
		}
		styles := 0
		for _, m := range blockRE.FindAllStringSubmatch(string(page), -1) {
			tag, attrs, body := m[1], m[2], m[3]
			if tag == "script" {
				if !strings.Contains(attrs, `src="`+assets.URL("results.js")+`"`) || !strings.Contains(attrs, "defer") || body != "" {
					t.Errorf("%s: <script%s> (%d bytes inline): only the deferred results.js file", path, attrs, len(body))
				}
				continue
			}
			styles++
			sum := sha256.Sum256([]byte(body))
			if h := "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"; h != styleHash {
				t.Errorf("%s: inline <style> (%d bytes) hashes to %s, the CSP allows %s", path, len(body), h, styleHash)
			}
		}
		if styles != 1 {
			t.Errorf("%s: %d inline <style> blocks, want 1", path, styles)
		}
		for _, bad := range []string{`rel="stylesheet"`, " style=", " onclick=", " onload="} {
			if strings.Contains(string(page), bad) {
				t.Errorf("%s has %q", path, bad)
			}
		}
		if resp.StatusCode != http.StatusOK {
			continue
		}
		etag := resp.Header.Get("ETag")
		r, _ := get(path, "If-None-Match", etag, "Accept-Encoding", "gzip")
		if r.StatusCode != http.StatusNotModified || r.Header.Get("ETag") != etag {
			t.Errorf("%s: If-None-Match %s: %d, ETag %q", path, etag, r.StatusCode, r.Header.Get("ETag"))
		}
		if plain, body := get(path); plain.Header.Get("Content-Encoding") != "" || !bytes.Equal(body, page) || plain.Header.Get("ETag") != etag {
			t.Errorf("%s: without gzip: Content-Encoding %q, ETag %q, same bytes %v", path, plain.Header.Get("Content-Encoding"), plain.Header.Get("ETag"), bytes.Equal(body, page))
		}
	}
	// The chair app's pages do not allow the results pages' style, nor these the app's blocks.
	resp, _ := get("/")
	if app := resp.Header.Get("Content-Security-Policy"); strings.Contains(app, styleHash) {
		t.Errorf("the chair app's CSP allows the results pages' style: %q", app)
	}
	if _, ok := assets.ByURL("/static/results.css"); ok {
		t.Error("results.css is served as a file too")
	}
}

// TestResultsWithoutJavaScript: with JavaScript off, the results pages are styled (their inline
// style applies under their CSP) and complete, practice marking included.
func TestResultsWithoutJavaScript(t *testing.T) {
	e := startResults(t)
	for i, id := range seeded {
		e.report(false, id, 11*i+1)
	}
	e.report(true, "adair-1nw-adair", 5)
	p := resultsPage(t, e, 360, 740)
	p.do(chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true})
		return err
	}))
	for _, path := range []string{"/results", "/results/precincts/adair-1nw-adair", "/practice/results"} {
		p.do(chromedp.Navigate(e.URL + path))
		p.wait(`document.readyState === "complete"`)
		if got := eval[string](p, `getComputedStyle(document.querySelector("header.site")).display`); got != "flex" {
			t.Errorf("%s: header display %q: the inline style did not apply", path, got)
		}
		if got := p.text(".live"); got != "" {
			t.Errorf("%s: results.js ran with JavaScript off (live line %q)", path, got)
		}
		if n := eval[int](p, `document.querySelectorAll("main table tbody tr").length`); n == 0 {
			t.Errorf("%s: no table rows:\n%s", path, p.text("main"))
		}
	}
	if got := eval[string](p, `getComputedStyle(document.querySelector(".practice-banner")).backgroundColor`); got != "rgb(176, 0, 32)" {
		t.Errorf("practice banner background %q", got)
	}
	p.shot("results-nojs-practice-phone")
}
