package web_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"caucus/internal/auth"
)

// TestHQLogin: a certifier logs in on /hq/login with user name, password and the code of their
// authenticator app, and lands on /hq with the session cookie set (HttpOnly: the page's script
// cannot read it) and working for the staff API; a wrong code is refused on the page. The page
// has no serious or critical axe-core violation, empty or with an error shown.
func TestHQLogin(t *testing.T) {
	e := startEnv(t)
	a, err := auth.New(auth.Config{Store: e.main, Now: time.Now, Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	n, err := a.CreateStaff(t.Context(), auth.Actor{Name: "cli:test", From: "command line"}, "cora", auth.RoleCertifier)
	if err != nil {
		t.Fatal(err)
	}
	p := newPage(t, e)
	p.do(chromedp.Navigate(e.URL + "/hq/login"))
	p.wait(`document.readyState === "complete" && document.getElementById("login") !== null`)
	p.axe("headquarters login")
	p.shot("hq-login")

	p.do(chromedp.SendKeys(chromedp.CSS("#user"), "cora"), chromedp.SendKeys(chromedp.CSS("#password"), n.Password.Reveal()),
		chromedp.SendKeys(chromedp.CSS("#otp"), "000000"), clickCSS("#login-button"))
	p.wait(`document.getElementById("msg").textContent !== ""`)
	if got := p.text("#msg"); got == "" || eval[string](p, `location.pathname`) != "/hq/login" {
		t.Fatalf("wrong code: message %q at %s", got, eval[string](p, `location.pathname`))
	}
	p.axe("headquarters login, refused")
	p.shot("hq-login-refused")

	code, err := totp.GenerateCodeCustom(n.TOTP.Reveal(), time.Now(), totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		t.Fatal(err)
	}
	// The password field keeps what was typed; the code field was emptied by the refusal.
	p.do(chromedp.SendKeys(chromedp.CSS("#otp"), code), clickCSS("#login-button"))
	// A poll does not survive the page's navigation: start it again on the new page.
	ctx, cancel := context.WithTimeout(p.ctx, stepTimeout)
	defer cancel()
	for {
		if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`location.pathname === "/hq"`, chromedp.WithPollingInterval(50*time.Millisecond))); err == nil {
			break
		} else if ctx.Err() != nil {
			t.Fatalf("the page did not go to /hq after logging in: %v; message %q", err, p.text("#msg"))
		}
	}
	var cookies []*network.Cookie
	p.do(chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		res, err := cdp.Call(ctx, tg, network.GetCookies, network.GetCookiesParams{URLs: []string{e.URL + "/"}})
		cookies = res.Cookies
		return err
	}))
	var found bool
	for _, c := range cookies {
		if c.Name == "__Host-caucus-staff" {
			found = c.HTTPOnly && c.Secure && c.SameSite == network.CookieSameSiteStrict && c.Path == "/" && c.Domain != ""
			if !found {
				t.Errorf("cookie %+v", c)
			}
		}
	}
	if !found {
		t.Fatalf("no staff cookie after logging in: %d cookies", len(cookies))
	}
	if eval[string](p, `document.cookie`) != "" {
		t.Error("the page's script can read the session cookie")
	}
	me := eval[string](p, `fetch("/api/v1/staff/me", {credentials: "same-origin"}).then((r) => r.text())`)
	var who struct{ User, Role string }
	if err := json.Unmarshal([]byte(me), &who); err != nil || who.User != "cora" || who.Role != "certifier" {
		t.Errorf("/api/v1/staff/me with the page's cookie: %s", me)
	}
}
