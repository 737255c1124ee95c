package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"caucus/internal/auth"
	"caucus/internal/auth/authtest"
	"caucus/internal/report"
	"caucus/internal/rules"
	"caucus/internal/server/servertest"
)

// TestCertifyPage: the certifier sees the county unsettled, naming the precinct it waits for;
// once it reports, certifies the county and then the state with one-time codes typed in the
// page; the record lists both with their checkpoints, and the printable results state the
// checkpoint; an observer sees it all read-only; no session goes to the login page.
// Screenshots of each, and no serious or critical axe-core violation.
func TestCertifyPage(t *testing.T) {
	clock := authtest.NewClock(time.Now())
	env := servertest.Start(t, servertest.Options{Precincts: 6, Now: clock.Now})
	facts := report.Facts(env.Def)
	clean := func(p string, seed int) report.Report {
		for s := seed; s < seed+200; s++ {
			r := env.Report(p, fmt.Sprintf("%s-%d", p, s), s)
			if len(rules.Calc(report.CalcInput(r, facts[p])).Checks) == 0 {
				return r
			}
		}
		t.Fatalf("no report without checks for %s", p)
		return report.Report{}
	}
	send := func(p string) {
		if status, b := env.Do("POST", "/api/v1/reports", env.Login(p), clean(p, 0).Canonical()); status != http.StatusCreated {
			t.Fatalf("report %s: %d %s", p, status, b)
		}
	}
	for _, p := range env.Def.Precincts()[:5] {
		send(p.ID)
	}
	n, err := env.Auth.CreateStaff(context.Background(), auth.Actor{Name: "cli:test", From: "test"}, "cox", auth.RoleCertifier)
	if err != nil {
		t.Fatal(err)
	}
	code := func() string {
		clock.Advance(30 * time.Second)
		c, err := totp.GenerateCodeCustom(n.TOTP.Reveal(), clock.Now(), totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	_, tok, err := env.Auth.LoginStaff(context.Background(), "cox", auth.NewPassword(n.Password.Reveal()), code(), netip.MustParseAddr("127.0.0.1"))
	if err != nil {
		t.Fatal(err)
	}
	p := staffPage(t, env.URL, tok.Reveal(), false)
	p.do(chromedp.Navigate(env.URL + "/hq/certify"))
	p.wait(`document.documentElement.dataset.ready === "1"`)
	if got := p.text("#counties"); !strings.Contains(got, "1 unsettled") || !strings.Contains(got, "p0005: not reported") {
		t.Errorf("the county before p0005 reports: %q", got)
	}
	if n := eval[int](p, `document.querySelectorAll("#counties button").length`); n != 0 {
		t.Errorf("%d certify buttons for an unsettled county", n)
	}
	p.shot("hq-certify-unsettled-desktop")
	p.axe("certify page, unsettled")

	send("p0005")
	p.do(chromedp.Reload())
	p.wait(`document.documentElement.dataset.ready === "1" && document.querySelector('#counties button[data-scope="county:alpha"]') !== null`)
	// Without a code the page asks for one and sends nothing.
	p.do(clickCSS(`#counties button[data-scope="county:alpha"]`))
	p.wait(`!document.getElementById("error").hidden && document.getElementById("error").textContent.includes("one-time code")`)
	p.do(chromedp.SendKeys(chromedp.CSS("#otp"), code()))
	p.do(chromedp.SendKeys(chromedp.CSS("#reason"), "the county canvass board met"))
	p.do(clickCSS(`#counties button[data-scope="county:alpha"]`))
	p.wait(`document.getElementById("status").textContent.startsWith("Certified county:alpha at the checkpoint of")`)
	p.wait(`document.querySelector('#state button[data-scope="state"]') !== null`)
	p.do(chromedp.SendKeys(chromedp.CSS("#otp"), code()))
	p.do(clickCSS(`#state button[data-scope="state"]`))
	p.wait(`document.getElementById("status").textContent.startsWith("Certified state") && document.querySelectorAll("#certs li").length === 2`)
	c := env.Night.Certifications()
	if len(c.Certifications) != 2 || len(c.Certified) != 2 {
		t.Fatalf("certifications after the page: %+v", c)
	}
	if got := p.text("#certs"); !strings.Contains(got, *c.Certifications[0].RootHash) || !strings.Contains(got, "the county canvass board met") {
		t.Errorf("the record on the page: %q", got)
	}
	p.shot("hq-certify-certified-desktop")
	p.axe("certify page, certified")

	// The printable results of the county's certification.
	p.do(chromedp.Navigate(fmt.Sprintf("%s/certifications/%d", env.URL, c.Certifications[0].LogIndex)))
	p.wait(`document.readyState === "complete"`)
	if got := p.text(".checkpoint"); !strings.Contains(got, *c.Certifications[0].RootHash) || !strings.Contains(got, fmt.Sprint(*c.Certifications[0].LogSize)) {
		t.Errorf("the printable page's checkpoint: %q", got)
	}
	p.shot("certified-results-county-desktop")
	p.axe("printable certified results")

	// An observer, on a tablet: the same board, nothing to press.
	olive := env.StaffLogin("olive", auth.RoleObserver)
	o := staffPage(t, env.URL, olive, true)
	o.do(chromedp.Navigate(env.URL + "/hq/certify"))
	o.wait(`document.documentElement.dataset.ready === "1"`)
	if n := eval[int](o, `document.querySelectorAll("button, #otp").length`); n != 0 {
		t.Errorf("the observer's page has %d controls", n)
	}
	o.shot("hq-certify-observer-tablet")
	o.axe("certify page, observer")

	// No session: to the login page.
	ns := staffPage(t, env.URL, "", false)
	ns.do(chromedp.Navigate(env.URL + "/hq/certify"))
	ns.wait(`location.pathname === "/hq/login" && location.search === "?next=%2Fhq%2Fcertify"`)
}
