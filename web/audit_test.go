package web_test

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"caucus/internal/auth"
	"caucus/internal/report"
	"caucus/internal/server/servertest"
)

// keyCounts types a report's first and final alignment into the hand-count form of /hq/audit
// (0 for a candidate without cards), changing final[bump] by delta.
func keyCounts(p *page, r report.Report, bump string, delta int64) {
	p.t.Helper()
	for _, id := range servertest.Candidates {
		for kind, counts := range map[string]map[string]int64{"first": r.First, "final": r.Final} {
			n := counts[id]
			if kind == "final" && id == bump {
				n += delta
			}
			p.do(chromedp.SendKeys(chromedp.CSS("#"+kind+"-"+id), fmt.Sprint(n)))
		}
	}
	p.do(clickCSS("#submit"))
}

// TestAuditPages: the admin starts the audit from /hq/audit with the dice seed (a seed too short
// is refused in words); two operators key a sampled precinct's cards on /hq/audit; the second keys one
// count wrong and sees the mismatch with only their own value, a third operator's count matches
// the first and is entered in the log; once every sampled precinct is counted the public /audit
// page says each contest is confirmed. A browser without a session goes to the login page.
// Screenshots of each step, and no serious or critical axe-core violation.
func TestAuditPages(t *testing.T) {
	env := servertest.Start(t, servertest.Options{Precincts: 40})
	reported := map[string]report.Report{}
	for i, p := range env.Def.Precincts() {
		r := env.Report(p.ID, fmt.Sprintf("r-%d", i), i)
		if status, b := env.Do("POST", "/api/v1/reports", env.Login(p.ID), r.Canonical()); status != 201 {
			t.Fatalf("report %s: %d %s", p.ID, status, b)
		}
		reported[p.ID] = r
	}
	ctx := context.Background()
	if err := env.Server.SignCheckpoint(ctx); err != nil {
		t.Fatal(err)
	}

	// Before the start, the public page says how the audit will begin.
	pub := staffPage(t, env.URL, "", false)
	pub.do(chromedp.Navigate(env.URL + "/audit"))
	pub.wait(`document.readyState === "complete"`)
	if got := pub.text("main"); !strings.Contains(got, "The audit has not started") {
		t.Errorf("/audit before the start: %q", got)
	}

	// The admin starts the audit from the page with the dice seed (an admin logs in with a
	// second factor: the session is stored as the login would store it).
	env.StaffAccount("ann", auth.RoleAdmin)
	var raw [32]byte
	rand.Read(raw[:])
	tok := base64.RawURLEncoding.EncodeToString(raw[:])
	now := time.Now()
	if err := env.DB.CreateSession(ctx, auth.Session{ID: sha256.Sum256([]byte(tok)), Role: auth.RoleAdmin, Username: "ann",
		Created: now, Expires: now.Add(auth.StaffSessionTTL)}); err != nil {
		t.Fatal(err)
	}
	ann := staffPage(t, env.URL, tok, false)
	ann.do(chromedp.Navigate(env.URL + "/hq/audit"))
	ann.wait(`document.documentElement.dataset.ready === "1" && !document.getElementById("start").hidden`)
	ann.shot("hq-audit-start-desktop")
	ann.axe("audit start")
	ann.do(chromedp.SendKeys(chromedp.CSS("#seed"), "1234"))
	ann.do(clickCSS(`#start button[type="submit"]`))
	ann.wait(`!document.getElementById("error").hidden && document.getElementById("error").textContent.includes("20 or more decimal digits")`)
	eval[bool](ann, `(() => { document.getElementById("seed").value = ""; document.getElementById("risk-limit").value = ""; return true })()`)
	ann.do(chromedp.SendKeys(chromedp.CSS("#seed"), "57721566490153286060651"))
	ann.do(chromedp.SendKeys(chromedp.CSS("#risk-limit"), "10"))
	ann.do(clickCSS(`#start button[type="submit"]`))
	ann.wait(`document.getElementById("status").textContent.includes("Audit from seed 57721566490153286060651 at a risk limit of 10 %") && document.getElementById("start").hidden`)
	a, err := env.Night.AuditStatus(ctx)
	if err != nil || a.StartedBy != "ann" || a.Status != "in_progress" {
		t.Fatalf("after the admin's start: %+v, %v", a, err)
	}
	id := a.PrecinctsToCount[0]
	r := reported[id]

	otto := staffPage(t, env.URL, env.StaffLogin("otto", auth.RoleOperator), false)
	otto.do(chromedp.Navigate(env.URL + "/hq/audit"))
	otto.wait(`document.documentElement.dataset.ready === "1"`)
	if got, want := otto.text("#count"), fmt.Sprint(len(a.PrecinctsToCount)); got != want {
		t.Errorf("precincts to count %q, want %s", got, want)
	}
	otto.do(clickCSS(`#queue button[data-precinct="` + id + `"]`))
	otto.wait(`document.getElementById("first-adams") !== null`)
	otto.shot("hq-audit-keying-desktop")
	otto.axe("hand-count entry")
	keyCounts(otto, r, "", 0)
	otto.wait(`document.getElementById("outcome").textContent.includes("Another operator now counts")`)
	otto.shot("hq-audit-first-copy-desktop")

	// The second operator, on a tablet, keys one count wrong.
	oona := staffPage(t, env.URL, env.StaffLogin("oona", auth.RoleOperator), true)
	oona.do(chromedp.Navigate(env.URL + "/hq/audit"))
	oona.wait(`document.documentElement.dataset.ready === "1"`)
	oona.do(clickCSS(`#queue button[data-precinct="` + id + `"]`))
	oona.wait(`document.getElementById("first-adams") !== null`)
	keyCounts(oona, r, "baker", 2)
	oona.wait(`document.getElementById("outcome").textContent.includes("differs from another operator")`)
	got := oona.text("#outcome")
	if want := fmt.Sprintf("baker, final alignment: you keyed %d", r.Final["baker"]+2); !strings.Contains(got, want) ||
		strings.Contains(got, fmt.Sprintf("keyed %d", r.Final["baker"])+"\n") {
		t.Errorf("mismatch: %q, want %q and no other operator's value", got, want)
	}
	oona.shot("hq-audit-mismatch-tablet")
	oona.axe("mismatch")

	// A third operator's count matches the first: entered in the log.
	omar := staffPage(t, env.URL, env.StaffLogin("omar", auth.RoleOperator), false)
	omar.do(chromedp.Navigate(env.URL + "/hq/audit"))
	omar.wait(`document.documentElement.dataset.ready === "1"`)
	omar.do(clickCSS(`#queue button[data-precinct="` + id + `"]`))
	omar.wait(`document.getElementById("first-adams") !== null`)
	keyCounts(omar, r, "", 0)
	omar.wait(`document.getElementById("outcome").textContent.includes("entered in the log as entry")`)
	omar.wait(`document.getElementById("done").textContent.includes("keyed by otto and omar")`)
	omar.shot("hq-audit-matched-desktop")
	if st, _ := env.Night.AuditStatus(ctx); len(st.HandCounts) != 1 || st.HandCounts[0].PrecinctID != id {
		t.Fatalf("hand counts after the page: %+v", st.HandCounts)
	}

	// The other sampled precincts counted as reported, through the same double entry.
	if a, err = env.Night.AuditStatus(ctx); err != nil {
		t.Fatal(err)
	}
	for a.Status == "in_progress" {
		for _, p := range a.PrecinctsToCount {
			for _, op := range []string{"otto", "oona"} {
				if _, err := env.Night.KeyHandCount(ctx, op, p, reported[p].First, reported[p].Final); err != nil {
					t.Fatal(err)
				}
			}
		}
		if a, err = env.Night.AuditStatus(ctx); err != nil {
			t.Fatal(err)
		}
	}
	pub.do(chromedp.Navigate(env.URL + "/audit"))
	pub.wait(`document.readyState === "complete"`)
	page := pub.text("main")
	if strings.Count(page, "Confirmed: the measured risk") != 3 || !strings.Contains(page, "every outcome confirmed") {
		t.Errorf("/audit after the hand counts: %q", page)
	}
	pub.shot("audit-public-desktop")
	pub.axe("public audit page")
	eval[bool](pub, `(() => { for (const d of document.querySelectorAll("details")) d.open = true; return true })()`)
	pub.shot("audit-public-sample-desktop")
	pub.axe("public audit page, sample open")

	// No session: to the login page.
	n := staffPage(t, env.URL, "", false)
	n.do(chromedp.Navigate(env.URL + "/hq/audit"))
	n.wait(`location.pathname === "/hq/login" && location.search === "?next=%2Fhq%2Faudit"`)
}
