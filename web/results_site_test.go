package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	"caucus/internal/election"
	"caucus/internal/report"
	"caucus/internal/rules"
	"caucus/web"
)

// TestResultsThousands: English thousands separators for counts and SDE strings.
func TestResultsThousands(t *testing.T) {
	for in, want := range map[any]string{0: "0", 999: "999", 1000: "1,000", int64(38895): "38,895", int64(1765): "1,765",
		int64(-1234567): "-1,234,567", "562.9541": "562.9541", "1234.5678": "1,234.5678", "–": "–", "by attendance": "by attendance", "": ""} {
		if got := web.Thousands(in); got != want {
			t.Errorf("Thousands(%#v) = %q, want %q", in, got, want)
		}
	}
}

// tieReport is a report for precinct whose delegates a coin toss decides: two groups claim the
// same share at the rounding line, and the toss recorded for them settles it, with no check
// left. It returns the report and the two tied candidates, the winner first.
func tieReport(t testing.TB, def *election.Definition, precinct string) (report.Report, [2]string) {
	t.Helper()
	facts := report.Facts(def)[precinct]
	cs := def.Election().Candidates
	x, y, z := cs[3].ID, cs[10].ID, cs[8].ID // Buttigieg and Warren tied, Sanders the rest
	for a := int64(5); a < 60; a++ {
		for c := int64(5); c < 120; c++ {
			counts := map[string]int64{x: a, y: a, z: c}
			r := report.Report{PrecinctID: precinct, Attendees: 2*a + c, First: counts, Final: counts, Channel: "app"}
			res := rules.Calc(report.CalcInput(r, facts))
			if len(res.TiebreaksNeeded) != 1 || len(res.TiebreaksNeeded[0].Between) != 2 || res.TiebreaksNeeded[0].Delegates != 1 {
				continue
			}
			r.Tiebreaks = []rules.Tiebreak{{Kind: "coin", Between: []string{x, y}, Winner: y}}
			res = rules.Calc(report.CalcInput(r, facts))
			if len(res.Checks) > 0 || len(res.TiebreaksSettled) != 1 {
				continue
			}
			r.Delegates = map[string]int64{}
			for _, g := range res.Groups {
				if g.Delegates != nil && *g.Delegates > 0 {
					r.Delegates[g.CandidateID] = *g.Delegates
				}
			}
			return r, [2]string{y, x}
		}
	}
	t.Fatalf("no tie found for %s", precinct)
	return report.Report{}, [2]string{}
}

// send submits a report as its precinct's chair and waits until the results count it.
func (e *resultsEnv) send(r report.Report) {
	e.t.Helper()
	status, b := e.post("/api/v1/login", "", map[string]string{"precinct_id": r.PrecinctID, "pin": e.pins[r.PrecinctID]})
	if status != http.StatusOK {
		e.t.Fatalf("login %s: %d %s", r.PrecinctID, status, b)
	}
	var out struct{ Token string }
	json.Unmarshal(b, &out)
	e.n++
	r.ReportID = fmt.Sprintf("r-%s-%d-sent", r.PrecinctID, e.n)
	if status, b = e.post("/api/v1/reports", out.Token, r); status != http.StatusCreated {
		e.t.Fatalf("report %s: %d %s", r.PrecinctID, status, b)
	}
	var rec struct {
		LogIndex int64 `json:"log_index"`
	}
	json.Unmarshal(b, &rec)
	e.waitFor("", rec.LogIndex)
}

// deuteranopia is Machado, Oliveira and Fernandes' (2009) simulation of deuteranopia (severity
// 1), a matrix on linear RGB: the one the map's simulated screenshot applies with feColorMatrix.
var deuteranopia = [3][3]float64{
	{0.367322, 0.860646, -0.227968},
	{0.280085, 0.672501, 0.047413},
	{-0.011820, 0.042940, 0.935216},
}

// simulate is an sRGB colour as a reader with deuteranopia sees it, in CIE L*a*b*.
func simulate(rgb [3]float64, deut bool) [3]float64 {
	var lin [3]float64
	for i, c := range rgb {
		c /= 255
		if c <= 0.04045 {
			lin[i] = c / 12.92
		} else {
			lin[i] = math.Pow((c+0.055)/1.055, 2.4)
		}
	}
	if deut {
		var o [3]float64
		for i := range 3 {
			for j := range 3 {
				o[i] += deuteranopia[i][j] * lin[j]
			}
			o[i] = min(1, max(0, o[i]))
		}
		lin = o
	}
	x := (0.4124*lin[0] + 0.3576*lin[1] + 0.1805*lin[2]) / 0.95047
	y := 0.2126*lin[0] + 0.7152*lin[1] + 0.0722*lin[2]
	z := (0.0193*lin[0] + 0.1192*lin[1] + 0.9505*lin[2]) / 1.08883
	f := func(t float64) float64 {
		if t > 0.008856 {
			return math.Cbrt(t)
		}
		return 7.787*t + 16.0/116
	}
	return [3]float64{116*f(y) - 16, 500 * (f(x) - f(y)), 200 * (f(y) - f(z))}
}

var rgbRE = regexp.MustCompile(`rgba?\((\d+), (\d+), (\d+)`)

// TestResultsPublicSite: at 390×844 and on a desktop, the public pages write counts with
// thousands separators and times in the election's zone with its abbreviation, keep the log's
// root and checkpoint in the "Verify these results" section at the foot, name each precinct's
// winner and explain the check IDs in a county's list, say a recorded coin toss on its
// precinct's page, label the map's counties on focus and stripe those partly reported, and show
// the live line only on live pages; the candidates' colours stay apart for a reader with
// deuteranopia (computed, and a simulated screenshot to look at); axe-core finds nothing
// serious.
func TestResultsPublicSite(t *testing.T) {
	e := startResults(t)
	for i, id := range seeded {
		e.report(false, id, 11*i+1)
	}
	tie, names := tieReport(t, e.def, "adair-4se-orient")
	e.send(tie)
	flagged := validReport(t, e.def, "polk-altoona-03", 3)
	for id := range flagged.Delegates { // the worksheet gives one delegate too few: C12, a warning
		flagged.Delegates[id]--
		break
	}
	e.send(flagged)
	if err := e.Server.SignCheckpoint(context.Background()); err != nil {
		t.Fatal(err)
	}
	var pr struct {
		Tiebreaks []struct {
			Kind      string   `json:"kind"`
			Between   []string `json:"between"`
			Delegates int64    `json:"delegates"`
			Winner    string   `json:"winner"`
		} `json:"tiebreaks"`
		Groups []struct {
			Name string `json:"name"`
			SDE  string `json:"sde"`
		} `json:"groups"`
	}
	e.getJSON("/api/v1/results/precincts/adair-4se-orient", &pr)
	if len(pr.Tiebreaks) != 1 || pr.Tiebreaks[0].Kind != "coin" || pr.Tiebreaks[0].Winner != names[0] || pr.Tiebreaks[0].Delegates != 1 {
		t.Fatalf("the precinct feed's tiebreaks: %+v, want the coin toss %s won", pr.Tiebreaks, names[0])
	}
	name := func(id string) string {
		for _, c := range e.def.Election().Candidates {
			if c.ID == id {
				return c.Name
			}
		}
		return id
	}
	// The precinct's winner: most SDEs (the tie was for a delegate, not for the lead).
	var winner string
	best := new(big.Rat)
	for _, g := range pr.Groups {
		if v, ok := new(big.Rat).SetString(g.SDE); ok && v.Cmp(best) > 0 {
			best, winner = v, g.Name
		}
	}
	between := slices.Clone(pr.Tiebreaks[0].Between)
	wantToss := fmt.Sprintf("Coin toss between %s and %s for 1 delegate: %s", name(between[0]), name(between[1]), name(names[0]))

	for _, size := range []struct {
		name          string
		width, height int64
	}{{"phone", 390, 844}, {"desktop", 1280, 800}} {
		t.Run(size.name, func(t *testing.T) {
			p := resultsPage(t, e, size.width, size.height)

			p.visit(e.URL + "/results")
			if got := p.text(".reporting"); !strings.Contains(got, "of 1,765 precincts reporting") {
				t.Errorf("reporting line without a thousands separator: %q", got)
			}
			zoned := regexp.MustCompile(`^[A-Z][a-z]{2} \d{1,2}, \d{4}, \d{1,2}:\d{2}:\d{2} [AP]M C[SD]T$`)
			if got := p.text(".provenance time"); !zoned.MatchString(got) {
				t.Errorf("updated time %q is not in Iowa's zone with its abbreviation (CST/CDT)", got)
			}
			top, foot := p.text(".provenance"), p.text("#verify")
			if strings.Contains(top, "root hash") || strings.Contains(top, "checkpoint") {
				t.Errorf("the top of the page still carries the log's state: %q", top)
			}
			if !strings.HasPrefix(foot, "Verify these results") || !strings.Contains(foot, "root hash") || !strings.Contains(foot, "signed checkpoint") || !strings.Contains(foot, "Log key") {
				t.Errorf("the verify section: %q", foot)
			}
			if got := p.text(".live"); !strings.HasPrefix(got, "Live") {
				t.Errorf("the statewide page's live line: %q", got)
			}
			p.shot("site-statewide-" + size.name)

			// The feeds' documentation is not live.
			p.visit(e.URL + "/api")
			if n := eval[int](p, `document.querySelectorAll(".live").length`); n != 0 {
				t.Errorf("the feeds page has %d live lines: %q", n, p.text(".live"))
			}

			// The map: counties are links a keyboard reaches, each labelled; focus names it.
			p.visit(e.URL + "/results/map")
			if n := eval[int](p, `[...document.querySelectorAll("#map svg a")].filter((a) => a.tabIndex === 0 && a.getAttribute("aria-label")).length`); n != 99 {
				t.Errorf("%d focusable labelled counties on the map, want 99", n)
			}
			eval[bool](p, `document.querySelector('#map a[href$="/counties/adair"]').focus(), true`)
			if got := p.text(".maplabel"); !strings.HasPrefix(got, "Adair: 4 of ") || !strings.Contains(got, "Most SDEs") {
				t.Errorf("the map's label with Adair focused: %q", got)
			}
			if got := eval[string](p, `document.activeElement.getAttribute("aria-label")`); !strings.HasPrefix(got, "Adair:") {
				t.Errorf("focused: %q", got)
			}
			// Partial reporting is striped; a county fully reported or not at all is not.
			partial := eval[[]string](p, `[...document.querySelectorAll("#map a.partial")].map((a) => a.getAttribute("href").split("/").pop())`)
			var want []string
			var cs struct {
				Counties []struct {
					CountyID  string `json:"county_id"`
					Total     int    `json:"precincts_total"`
					Reporting int    `json:"precincts_reporting"`
				} `json:"counties"`
			}
			e.getJSON("/api/v1/results/counties", &cs)
			for _, c := range cs.Counties {
				if c.Reporting > 0 && c.Reporting < c.Total && !strings.Contains(c.CountyID, "satellite") {
					want = append(want, c.CountyID)
				}
			}
			slices.Sort(partial)
			slices.Sort(want)
			if !slices.Equal(partial, want) || len(want) == 0 {
				t.Errorf("striped counties %v, want the partly reported %v", partial, want)
			}
			if got := eval[string](p, `getComputedStyle(document.querySelector("#map a.partial use.hatch")).fill`); !strings.Contains(got, "#partial") {
				t.Errorf("the partial hatch's fill: %q", got)
			}
			if got := p.text(".legend"); !strings.Contains(got, "some precincts still to report") {
				t.Errorf("the legend does not explain the stripes: %q", got)
			}
			p.shot("site-map-" + size.name)
			p.axe("map page")

			// The colours: every pair of the 2020 leaders' colours, Tied and No results stays
			// apart (CIE76 ΔE ≥ 8) as a reader with deuteranopia sees them; Tied is lighter
			// than every leader's colour.
			ballot := map[string]int{}
			for i, c := range e.def.Election().Candidates {
				ballot[c.ID] = i
			}
			classes := map[string]string{"Tied": "tie", "No results": "none"}
			for _, id := range []string{"biden", "buttigieg", "klobuchar", "sanders", "warren"} {
				classes[name(id)] = fmt.Sprintf("c%d", ballot[id])
			}
			lab := map[string][2][3]float64{}
			for who, cl := range classes {
				css := eval[string](p, `(() => { const s = document.createElement("span"); s.className = "sw `+cl+`"; document.body.append(s); const c = getComputedStyle(s).backgroundColor; s.remove(); return c; })()`)
				m := rgbRE.FindStringSubmatch(css)
				if m == nil {
					t.Fatalf("%s's colour %q", who, css)
				}
				var rgb [3]float64
				for i := range 3 {
					fmt.Sscan(m[i+1], &rgb[i])
				}
				lab[who] = [2][3]float64{simulate(rgb, false), simulate(rgb, true)}
			}
			for a := range lab {
				for b := range lab {
					if a >= b {
						continue
					}
					if d := math.Sqrt(sq(lab[a][1][0]-lab[b][1][0]) + sq(lab[a][1][1]-lab[b][1][1]) + sq(lab[a][1][2]-lab[b][1][2])); d < 8 {
						t.Errorf("with deuteranopia %s and %s are ΔE %.1f apart, want at least 8", a, b, d)
					}
				}
				if a != "Tied" && a != "No results" && lab["Tied"][0][0] <= lab[a][0][0] {
					t.Errorf("Tied (L* %.1f) is not lighter than %s (L* %.1f)", lab["Tied"][0][0], a, lab[a][0][0])
				}
			}
			// The simulated screenshot: the map through the same matrix, to look at.
			eval[bool](p, `(() => {
				const ns = "http://www.w3.org/2000/svg";
				const svg = document.createElementNS(ns, "svg"); svg.setAttribute("width", "0"); svg.setAttribute("height", "0");
				const f = document.createElementNS(ns, "filter"); f.id = "deuteranopia";
				const m = document.createElementNS(ns, "feColorMatrix"); m.setAttribute("type", "matrix");
				m.setAttribute("values", "`+matrixValues()+`");
				f.append(m); svg.append(f); document.body.append(svg);
				document.getElementById("map").style.filter = "url(#deuteranopia)";
				return true; })()`)
			p.shot("site-map-deuteranopia-" + size.name)
			eval[bool](p, `document.getElementById("map").style.filter = "", true`)

			// A county: each precinct's winner, and what its check IDs mean.
			p.visit(e.URL + "/results/counties/adair")
			if got := rowIn(p, "table.precincts", "4SE ORIENT"); !strings.Contains(got, "\t"+winner+"\t") {
				t.Errorf("4SE Orient's row does not name its winner %s (most SDEs): %q", winner, got)
			}
			if got := rowIn(p, "table.precincts", "1NW ADAIR"); !regexp.MustCompile(`\t[A-Z][a-z]+( \(most delegates\))?\t`).MatchString(got) && !strings.Contains(got, "Tied: ") {
				t.Errorf("1NW Adair's row names no winner: %q", got)
			}
			p.shot("site-county-" + size.name)
			p.axe("county page")
			p.visit(e.URL + "/results/counties/polk")
			if got := rowIn(p, "table.precincts", "ALTOONA-03"); !strings.Contains(got, "C12") {
				t.Errorf("Altoona 3's row names no check: %q", got)
			}
			if got := p.text("dl.checkkey"); !strings.Contains(got, "C12") || !strings.Contains(got, sentenceOf(rules.C12.Title())) {
				t.Errorf("the check key: %q, want C12 and %q", got, rules.C12.Title())
			}
			p.shot("site-county-checks-" + size.name)
			p.axe("county page with a check")

			// The precinct of the coin toss.
			p.visit(e.URL + "/results/precincts/adair-4se-orient")
			if got := p.text(".tiebreaks"); !strings.Contains(got, wantToss) {
				t.Errorf("the precinct page's tiebreaks: %q, want %q", got, wantToss)
			}
			if got := p.text("table.history"); !regexp.MustCompile(`[AP]M C[SD]T`).MatchString(got) {
				t.Errorf("the history's times lack the zone: %q", got)
			}
			p.shot("site-precinct-toss-" + size.name)
			p.axe("precinct page with a coin toss")
		})
	}
}

func sq(x float64) float64 { return x * x }

// matrixValues is deuteranopia as feColorMatrix values (which work on linear RGB by default).
func matrixValues() string {
	var b strings.Builder
	for _, row := range deuteranopia {
		fmt.Fprintf(&b, "%g %g %g 0 0 ", row[0], row[1], row[2])
	}
	return b.String() + "0 0 0 1 0"
}

// sentenceOf is a check title as the key writes it: capitalised, with a full stop.
func sentenceOf(s string) string {
	return strings.ToUpper(s[:1]) + s[1:] + "."
}
