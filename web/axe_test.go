package web_test

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
)

// axe runs axe-core (vendored by scripts/vendor-axe) on the page as it is and fails on any
// serious or critical violation.
func (p *page) axe(where string) {
	p.t.Helper()
	src, err := os.ReadFile("testdata/axe/axe.min.js")
	if err != nil {
		p.t.Fatalf("axe-core is not vendored (run scripts/vendor-axe): %v", err)
	}
	eval[bool](p, string(src)+";true")
	out := eval[string](p, `axe.run(document, {resultTypes: ["violations"]}).then((r) => JSON.stringify(r.violations))`)
	var vs []struct {
		ID, Impact, Help string
		Nodes            []struct{ Target []any }
	}
	if err := json.Unmarshal([]byte(out), &vs); err != nil {
		p.t.Fatal(err)
	}
	for _, v := range vs {
		if v.Impact == "serious" || v.Impact == "critical" {
			var targets []string
			for _, n := range v.Nodes {
				targets = append(targets, fmt.Sprint(n.Target...))
			}
			p.t.Errorf("%s: axe %s (%s): %s at %s", where, v.ID, v.Impact, v.Help, strings.Join(targets, ", "))
		}
	}
}

// TestAccessibility: no serious or critical axe-core violation on the login page, a worksheet
// step with live math, a tie, and the receipt, in English and Spanish.
func TestAccessibility(t *testing.T) {
	e := startEnv(t)
	p := newPage(t, e)
	p.open("/")
	p.axe("login")
	p.fillToDelegates(precinct5, 100, map[string]int{"adams": 50, "baker": 50}, map[string]int{"adams": 50, "baker": 50}, "")
	p.wait(`document.querySelectorAll(".tie-winner").length === 2`)
	p.axe("delegates with a tie")
	p.do(clickCSS(`.tie-winner[data-id="adams"]`))
	p.do(clickCSS("#step-delegates .back"))
	p.step("final")
	p.axe("final alignment")
	p.do(clickCSS("#lang"))
	p.wait(`document.documentElement.lang === "es"`)
	p.axe("final alignment, Spanish")
}
