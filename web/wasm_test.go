package web_test

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/base64"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"

	"github.com/andybalholm/brotli"
)

// TestWasmFresh fails when the committed rules.wasm or wasm_exec.js is not what this tree and
// this Go build: the phone must run the server's math. Fix it with "go generate ./web".
func TestWasmFresh(t *testing.T) {
	out := filepath.Join(t.TempDir(), "rules.wasm")
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", out, "../cmd/caucus-wasm")
	cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm", "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build rules.wasm: %v\n%s", err, b)
	}
	for _, f := range []struct{ fresh, committed string }{
		{out, "static/rules.wasm"},
		{filepath.Join(runtime.GOROOT(), "lib", "wasm", "wasm_exec.js"), "static/wasm_exec.js"},
	} {
		fresh, err := os.ReadFile(f.fresh)
		if err != nil {
			t.Fatal(err)
		}
		committed, err := os.ReadFile(f.committed)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(fresh, committed) {
			t.Errorf("web/%s is stale (%d bytes, a fresh build has %d): run \"go generate ./web\" and commit it", f.committed, len(committed), len(fresh))
		}
	}
	// rules.wasm.br, what a browser that takes brotli is sent, is the fresh build in brotli.
	fresh, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	br, err := os.ReadFile("static/rules.wasm.br")
	if err != nil {
		t.Fatal(err)
	}
	if got, err := io.ReadAll(brotli.NewReader(bytes.NewReader(br))); err != nil || !bytes.Equal(got, fresh) {
		t.Errorf("web/static/rules.wasm.br is not the fresh rules.wasm in brotli (%v): run \"go generate ./web\" and commit it", err)
	}
}

// TestInlineBlocksHashed: the app page's only inline code is its login screen's script and
// style, each allowed by its own hash in the CSP the server sends with it (never
// 'unsafe-inline'), and the page stays small enough for one round trip on a slow network.
func TestInlineBlocksHashed(t *testing.T) {
	b, err := os.ReadFile("templates/app.html")
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"style=", "onclick=", "onload=", "onsubmit=", "onerror="} {
		if strings.Contains(string(b), bad) {
			t.Errorf("app.html has %q: the CSP allows no inline handler or style attribute", bad)
		}
	}
	e := startEnv(t)
	for _, path := range []string{"/", "/practice/"} {
		req, _ := http.NewRequest("GET", e.URL+path, nil)
		req.Header.Set("Accept-Encoding", "gzip")
		resp, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		zipped, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.Header.Get("Content-Encoding") != "gzip" {
			t.Fatalf("%s is not sent gzipped", path)
		}
		zr, err := gzip.NewReader(bytes.NewReader(zipped))
		if err != nil {
			t.Fatal(err)
		}
		page, _ := io.ReadAll(zr)
		if len(zipped) > 8<<10 {
			t.Errorf("%s is %d bytes gzipped: keep the page under 8 KB", path, len(zipped))
		}
		csp := map[string]string{}
		for _, d := range strings.Split(resp.Header.Get("Content-Security-Policy"), ";") {
			f := strings.Fields(d)
			if len(f) > 0 {
				csp[f[0]] = strings.Join(f[1:], " ")
			}
		}
		if strings.Contains(resp.Header.Get("Content-Security-Policy"), "unsafe-inline") {
			t.Errorf("%s: CSP has 'unsafe-inline'", path)
		}
		blocks := map[string]int{}
		for _, m := range regexp.MustCompile(`(?s)<(script|style)([^>]*)>(.*?)</(?:script|style)>`).FindAllStringSubmatch(string(page), -1) {
			tag, attrs, body := m[1], m[2], m[3]
			if strings.Contains(attrs, "src=") || strings.Contains(attrs, `type="application/json"`) {
				continue // not inline code: a file, or data
			}
			sum := sha256.Sum256([]byte(body))
			h := "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
			if !strings.Contains(csp[tag+"-src"], h) {
				t.Errorf("%s: inline <%s> (%d bytes) is not allowed by %s-src %q", path, tag, len(body), tag, csp[tag+"-src"])
			}
			blocks[tag]++
		}
		if blocks["script"] != 1 || blocks["style"] != 1 {
			t.Errorf("%s: inline blocks %v, want one script and one style", path, blocks)
		}
	}
}
