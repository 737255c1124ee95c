package web_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
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
}

// TestNoInlineScript: the pages work under the site's CSP, which forbids inline script and style.
func TestNoInlineScript(t *testing.T) {
	b, err := os.ReadFile("templates/app.html")
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for _, bad := range []string{"<script>", "style=", "onclick=", "onload=", "<style"} {
		if strings.Contains(s, bad) {
			t.Errorf("app.html has %q: the CSP forbids inline script and style", bad)
		}
	}
}
