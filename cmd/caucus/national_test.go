package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"caucus/internal/auth"
	"caucus/internal/election"
	"caucus/internal/server/servertest"
)

// TestSimulateLargeElection is the national night at CI size (largeNight): "caucus simulate
// --generate" writes 5,000 precincts, the folder loads, the server issues them 13-digit PINs
// (more than a state's 2,000 precincts) and takes them, and "caucus simulate" drives the
// whole night through two URLs, round-robin, half the chairs logging in with the packet's QR
// code (logins.csv): every published number equals the truth, and half the chairs reported
// through each URL.
func TestSimulateLargeElection(t *testing.T) {
	out := largeNight(t, 5000, 50, 16)
	if !strings.Contains(out, "every published number equals the truth") {
		t.Errorf("the night did not end with the published numbers equal to the truth")
	}
	// Half the chairs scanned the packet's QR code (--qr-share 0.5), half typed the PIN.
	for _, event := range []string{"login with the QR code → 200", "login → 200"} {
		if want := fmt.Sprintf("%7d  %s\n", 2500, event); !strings.Contains(out, want) {
			t.Errorf("the summary does not say %q", want)
		}
	}
}

// BenchmarkNationalNight is TestSimulateLargeElection at a nation's 175,000 precincts in
// 3,000 counties (14-digit PINs), run once: go test -run X -bench NationalNight -benchtime 1x
// ./cmd/caucus. Its log has the night's figures (logins and reports a second, latency p99).
// The PINs are hashed with servertest's cheap parameters: issuing them at DefaultParams is
// BenchmarkHashPrecinctSecrets' to measure.
func BenchmarkNationalNight(b *testing.B) {
	for b.Loop() {
		largeNight(b, 175_000, 3000, 64)
	}
}

// largeNight generates an election of precincts precincts in counties counties with "caucus
// simulate --generate", loads it, serves it, and drives its whole night with "caucus
// simulate" at concurrency conc through two URLs (the second a proxy in front of the same
// server, standing for a second node), failing unless every published number equals the truth
// and half the chairs reported through each URL. It returns the summary.
func largeNight(tb testing.TB, precincts, counties, conc int) string {
	dir := filepath.Join(tb.TempDir(), "election")
	var out, errb bytes.Buffer
	if code := (&Main{}).Run(context.Background(), []string{"simulate", "--generate", dir, "--precincts", fmt.Sprint(precincts),
		"--counties", fmt.Sprint(counties)}, nil, &out, &errb); code != 0 {
		tb.Fatalf("generate: exit %d\n%s%s", code, out.String(), errb.String())
	}
	def, err := election.LoadDir(dir)
	if err != nil {
		tb.Fatal(err)
	}
	if len(def.Precincts()) != precincts || len(def.Counties()) != counties {
		tb.Fatalf("loaded %d precincts in %d counties", len(def.Precincts()), len(def.Counties()))
	}
	digits, err := auth.PINDigitsFor(precincts)
	if err != nil {
		tb.Fatal(err)
	}
	env := servertest.Start(tb, servertest.Options{Def: def})
	var b strings.Builder
	b.WriteString(strings.Join(loginsCSVHeader, ",") + "\n")
	for _, p := range def.Precincts() {
		pin := env.PINs[p.ID]
		if n := len(strings.ReplaceAll(pin, "-", "")); n != digits {
			tb.Fatalf("precinct %s has a %d-digit PIN, want %d", p.ID, n, digits)
		}
		fmt.Fprintf(&b, "%s,%s,%s,%s,%s/#p=%s&t=%s\n", p.ID, p.CountyID, "", pin, env.URL, url.QueryEscape(p.ID), env.Tokens[p.ID])
	}
	pins := filepath.Join(tb.TempDir(), "logins.csv")
	if err := os.WriteFile(pins, []byte(b.String()), 0o600); err != nil {
		tb.Fatal(err)
	}
	target, err := url.Parse(env.URL)
	if err != nil {
		tb.Fatal(err)
	}
	var viaSecond atomic.Int64
	proxy := httputil.NewSingleHostReverseProxy(target)
	second := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && r.URL.Path == "/api/v1/reports" {
			viaSecond.Add(1)
		}
		proxy.ServeHTTP(w, r)
	}))
	defer second.Close()

	out.Reset()
	errb.Reset()
	code := (&Main{}).Run(context.Background(), []string{"simulate", "--url", env.URL + "," + second.URL + "/", "--pins", pins,
		"--concurrency", fmt.Sprint(conc), "--seed", "5", "--qr-share", "0.5"}, nil, &out, &errb)
	tb.Logf("stdout:\n%s\nstderr:\n%s", out.String(), errb.String())
	if code != 0 {
		tb.Fatalf("simulate: exit %d", code)
	}
	// Chair i goes to URL i mod 2: every odd chair reported through the second, at least once.
	if n := viaSecond.Load(); n < int64(precincts/2) {
		tb.Errorf("%d reports through the second URL, want at least %d", n, precincts/2)
	}
	return out.String()
}
