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

	"caucus/internal/election"
	"caucus/internal/server/servertest"
)

// TestSimulateLargeElection is the national night at CI size: "caucus simulate --generate"
// writes 5,000 precincts, the folder loads, the server issues them 13-digit PINs (more than
// a state's 2,000 precincts) and takes them, and "caucus simulate" drives the whole night
// through two URLs, round-robin (the second a proxy in front of the same server, standing for
// a second node): every published number equals the truth, and half the chairs reported
// through each URL.
func TestSimulateLargeElection(t *testing.T) {
	const precincts = 5000
	dir := filepath.Join(t.TempDir(), "election")
	var out, errb bytes.Buffer
	if code := (&Main{}).Run(context.Background(), []string{"simulate", "--generate", dir, "--precincts", fmt.Sprint(precincts),
		"--counties", "50"}, nil, &out, &errb); code != 0 {
		t.Fatalf("generate: exit %d\n%s%s", code, out.String(), errb.String())
	}
	def, err := election.LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(def.Precincts()) != precincts || len(def.Counties()) != 50 {
		t.Fatalf("loaded %d precincts in %d counties", len(def.Precincts()), len(def.Counties()))
	}
	env := servertest.Start(t, servertest.Options{Def: def})
	var b strings.Builder
	b.WriteString("precinct_id,pin\n")
	for _, p := range def.Precincts() {
		pin := env.PINs[p.ID]
		if n := len(strings.ReplaceAll(pin, "-", "")); n != 13 {
			t.Fatalf("precinct %s has a %d-digit PIN, want 13", p.ID, n)
		}
		fmt.Fprintf(&b, "%s,%s\n", p.ID, pin)
	}
	pins := filepath.Join(t.TempDir(), "pins.csv")
	if err := os.WriteFile(pins, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	target, err := url.Parse(env.URL)
	if err != nil {
		t.Fatal(err)
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
		"--concurrency", "16", "--seed", "5"}, nil, &out, &errb)
	t.Logf("stdout:\n%s\nstderr:\n%s", out.String(), errb.String())
	if code != 0 {
		t.Fatalf("simulate: exit %d", code)
	}
	if !strings.Contains(out.String(), "every published number equals the truth") {
		t.Errorf("the night did not end with the published numbers equal to the truth")
	}
	// Chair i goes to URL i mod 2: every odd chair reported through the second, at least once.
	if n := viaSecond.Load(); n < precincts/2 {
		t.Errorf("%d reports through the second URL, want at least %d", n, precincts/2)
	}
}
