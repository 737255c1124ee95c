package server_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"strings"
	"testing"

	"caucus/internal/bulk"
	"caucus/internal/report"
	"caucus/internal/resultscsv"
	"caucus/internal/rules"
	"caucus/internal/server/servertest"
)

// get fetches a path with the given request headers, without Go's transparent gzip.
func get(t *testing.T, env *servertest.Env, path string, hdr ...string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest("GET", env.URL+path, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := (&http.Transport{DisableCompression: true}).RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

func gunzip(t *testing.T, b []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// seed reports n precincts of env with clean reports: no check fires (a clean election).
func seed(t *testing.T, env *servertest.Env, n int) {
	t.Helper()
	facts := report.Facts(env.Def)
	for i := range n {
		id := fmt.Sprintf("p%04d", i)
		tok := env.Login(id)
		var r report.Report
		for s := i*13 + 1; ; s++ {
			r = env.Report(id, fmt.Sprintf("rep-%d", i), s)
			if res := rules.Calc(report.CalcInput(r, facts[id])); len(res.Checks) == 0 && len(res.TiebreaksNeeded) == 0 {
				break
			}
		}
		body, _ := json.Marshal(r)
		status, b := env.Do("POST", "/api/v1/reports", tok, body)
		if status != http.StatusCreated {
			t.Fatalf("report %s: %d %s", id, status, b)
		}
	}
	env.Check(&servertest.Acked{})
}

// TestPagesWithoutJavaScript: the pages are complete HTML that carries the numbers, cacheable
// (ETag, 304, short max-age) and gzipped when asked; feeds are gzipped too.
func TestPagesWithoutJavaScript(t *testing.T) {
	env := servertest.Start(t, servertest.Options{Precincts: 6})
	seed(t, env, 4)
	_, results := get(t, env, "/api/v1/results")
	for _, path := range []string{"/results", "/results/map", "/results/counties/alpha", "/results/precincts/p0001", "/api"} {
		t.Run(path, func(t *testing.T) {
			resp, page := get(t, env, path)
			if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
				t.Fatalf("%d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
			}
			if cc := resp.Header.Get("Cache-Control"); !strings.Contains(cc, "max-age=1") {
				t.Errorf("Cache-Control %q", cc)
			}
			etag := resp.Header.Get("ETag")
			if etag == "" {
				t.Fatal("no ETag")
			}
			if r, _ := get(t, env, path, "If-None-Match", etag); r.StatusCode != http.StatusNotModified {
				t.Errorf("If-None-Match: %d, want 304", r.StatusCode)
			}
			r, z := get(t, env, path, "Accept-Encoding", "gzip, br")
			if r.Header.Get("Content-Encoding") != "gzip" || !bytes.Equal(gunzip(t, z), page) || !strings.Contains(r.Header.Get("Vary"), "Accept-Encoding") {
				t.Errorf("gzip: Content-Encoding %q, Vary %q", r.Header.Get("Content-Encoding"), r.Header.Get("Vary"))
			}
			if bytes.Contains(page, []byte("PRACTICE")) {
				t.Error("a page of the real election says PRACTICE")
			}
		})
	}
	_, page := get(t, env, "/results")
	if !bytes.Contains(page, []byte("<strong>4</strong> of 6 precincts reporting")) {
		t.Errorf("statewide page does not say 4 of 6 reporting:\n%s", page)
	}
	// Every candidate's SDEs of the feed are on the page.
	for _, sde := range sdesOf(results) {
		if !bytes.Contains(page, []byte(">"+sde+"<")) {
			t.Errorf("statewide page lacks SDE %s", sde)
		}
	}
	if resp, _ := get(t, env, "/results/counties/nowhere"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown county: %d", resp.StatusCode)
	}
	for _, path := range []string{"/api/v1/results", "/api/v1/results.csv", "/api/v1/results/counties"} {
		plain, _ := get(t, env, path)
		_, body := get(t, env, path)
		r, z := get(t, env, path, "Accept-Encoding", "gzip")
		if r.Header.Get("Content-Encoding") != "gzip" || !bytes.Equal(gunzip(t, z), body) || plain.Header.Get("Content-Encoding") != "" {
			t.Errorf("%s: gzip %q", path, r.Header.Get("Content-Encoding"))
		}
	}
}

func sdesOf(results []byte) []string {
	var out []string
	for _, part := range strings.Split(string(results), `"sde":"`)[1:] {
		out = append(out, part[:strings.IndexByte(part, '"')])
	}
	return out
}

// TestCSVRoundTripsThroughCheck: the CSV feed of a clean election, read as `caucus check` reads
// it, has no inconsistency and reproduces every precinct's SDEs.
func TestCSVRoundTripsThroughCheck(t *testing.T) {
	env := servertest.Start(t, servertest.Options{Precincts: 12})
	seed(t, env, 12)
	_, csv := get(t, env, "/api/v1/results.csv")
	ps, err := resultscsv.Read(bytes.NewReader(csv))
	if err != nil {
		t.Fatalf("caucus check cannot read the feed: %v", err)
	}
	ratio := func(county string) *big.Rat {
		c, ok := env.Def.County(county)
		if !ok {
			return nil
		}
		r, _ := c.SDERatio()
		return r
	}
	rep := bulk.Check(ps, ratio, rules.DefaultProfile)
	if rep.Summary.Precincts != 12 || rep.Summary.Flagged != 0 || rep.Summary.Reproduced != 12 {
		t.Errorf("caucus check: %+v", rep.Summary)
		for _, p := range rep.Precincts {
			for _, c := range p.Result.Checks {
				t.Errorf("%s: %s %s", p.ID, c.ID, c.Message)
			}
		}
	}
}
