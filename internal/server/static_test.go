package server_test

import (
	"bytes"
	"io"
	"strings"
	"testing"

	"github.com/andybalholm/brotli"

	"caucus/internal/server/servertest"
	"caucus/web"
)

// TestStaticEncodings: every static file is sent in brotli to a browser that takes it, else
// gzipped, else as is, the same bytes once decoded, with Vary: Accept-Encoding; rules.wasm,
// the largest, has its brotli form.
func TestStaticEncodings(t *testing.T) {
	env := servertest.Start(t, servertest.Options{Precincts: 3})
	assets, err := web.Load()
	if err != nil {
		t.Fatal(err)
	}
	var wasm *web.Asset
	for _, a := range assets.All() {
		if a.Name == "rules.wasm" {
			wasm = a
		}
	}
	if wasm == nil || wasm.Brotli == nil || len(wasm.Brotli) >= len(wasm.Gzip) {
		t.Fatalf("rules.wasm has no brotli form smaller than its gzip")
	}
	for _, a := range assets.All() {
		for _, tt := range []struct{ accept, want string }{
			{"gzip, deflate, br, zstd", "br"},
			{"br;q=0, gzip", "gzip"},
			{"gzip", "gzip"},
			{"", ""},
		} {
			want := tt.want
			if want == "br" && a.Brotli == nil || want == "gzip" && a.Gzip == nil {
				want = map[bool]string{true: "gzip", false: ""}[a.Gzip != nil && strings.Contains(tt.accept, "gzip")]
			}
			r, b := get(t, env, a.URL, "Accept-Encoding", tt.accept)
			if got := r.Header.Get("Content-Encoding"); got != want || r.Header.Get("Vary") != "Accept-Encoding" {
				t.Errorf("%s with %q: Content-Encoding %q, want %q (Vary %q)", a.Name, tt.accept, got, want, r.Header.Get("Vary"))
				continue
			}
			switch want {
			case "br":
				b, err = io.ReadAll(brotli.NewReader(bytes.NewReader(b)))
				if err != nil {
					t.Fatal(err)
				}
			case "gzip":
				b = gunzip(t, b)
			}
			if !bytes.Equal(b, a.Data) {
				t.Errorf("%s with %q: not the file once decoded", a.Name, tt.accept)
			}
		}
	}
}
