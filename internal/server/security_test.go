package server_test

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"caucus/internal/server"
	"caucus/internal/server/servertest"
)

// securityHeaderValues are reliability.md A6's headers, as every response must carry them.
var securityHeaderValues = map[string]string{
	"Content-Security-Policy":   "default-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
	"Strict-Transport-Security": "max-age=31536000; includeSubDomains",
	"X-Content-Type-Options":    "nosniff",
	"Referrer-Policy":           "no-referrer",
}

// rawRequest sends req as bytes on a new connection and reads the answer.
func rawRequest(t *testing.T, url, req string) *http.Response {
	t.Helper()
	c, err := net.Dial("tcp", strings.TrimPrefix(url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	go io.WriteString(c, req) // the server may answer before it has read it all
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

// TestErrorStatusHeaders: the security headers and no-store on every error status, those
// net/http writes itself (431, 400) included.
func TestErrorStatusHeaders(t *testing.T) {
	env := servertest.Start(t, servertest.Options{Precincts: 3, MaxStreams: 1})
	tok := env.Login("p0001")
	do := func(method, path, ctype, token string, body []byte, hdr map[string]string) *http.Response {
		req, _ := http.NewRequest(method, env.URL+path, bytes.NewReader(body))
		if ctype != "" {
			req.Header.Set("Content-Type", ctype)
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}
	// One open event stream takes the server's only slot: the next gets 503.
	ctx, cancel := context.WithCancel(t.Context())
	req, _ := http.NewRequestWithContext(ctx, "GET", env.URL+"/api/v1/events", nil)
	stream, err := http.DefaultClient.Do(req)
	if err != nil || stream.StatusCode != 200 {
		t.Fatalf("first stream: %v %v", stream, err)
	}
	defer func() { cancel(); stream.Body.Close() }()
	report := env.Report("p0001", "r1", 1).Canonical()
	tests := []struct {
		name   string
		status int
		resp   func() *http.Response
	}{
		{"401 report without a login", 401, func() *http.Response { return do("POST", "/api/v1/reports", "application/json", "", report, nil) }},
		{"404 no such page", 404, func() *http.Response { return do("GET", "/no/such/page", "", "", nil, nil) }},
		{"404 metrics on the public listener", 404, func() *http.Response { return do("GET", "/metrics", "", "", nil, nil) }},
		{"413 report too large", 413, func() *http.Response {
			return do("POST", "/api/v1/reports", "application/json", tok, bytes.Repeat([]byte(" "), 1<<20), nil)
		}},
		{"415 application/jsonfoo", 415, func() *http.Response { return do("POST", "/api/v1/reports", "application/jsonfoo", tok, report, nil) }},
		{"431 headers too large", 431, func() *http.Response {
			return do("GET", "/api/v1/results", "", "", nil, map[string]string{"X-Junk": strings.Repeat("j", 2*server.MaxHeaderBytes)})
		}},
		{"400 unparsable request", 400, func() *http.Response {
			return rawRequest(t, env.URL, "GET / HTTP/1.1\r\nHost: x\r\nno colon here\r\n\r\n")
		}},
		{"431 on a raw connection", 431, func() *http.Response {
			return rawRequest(t, env.URL, "GET / HTTP/1.1\r\nHost: x\r\nX-Junk: "+strings.Repeat("j", 2*server.MaxHeaderBytes)+"\r\n\r\n")
		}},
		{"503 too many event streams", 503, func() *http.Response { return do("GET", "/api/v1/events", "", "", nil, nil) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := tt.resp()
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tt.status)
			}
			for name, want := range securityHeaderValues {
				if got := resp.Header.Get(name); got != want {
					t.Errorf("%s = %q, want %q", name, got, want)
				}
			}
			if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
				t.Errorf("Cache-Control %q, want no-store", cc)
			}
		})
	}
}

// TestNoStore: logins (ok and failed), receipts and every answer to a session are no-store, so
// that no shared cache, proxy or browser history keeps a session token or a precinct's report.
func TestNoStore(t *testing.T) {
	env := servertest.Start(t, servertest.Options{Precincts: 3})
	tok := env.Login("p0001")
	post := func(path, ctype, token string, body []byte) *http.Response {
		req, _ := http.NewRequest("POST", env.URL+path, bytes.NewReader(body))
		req.Header.Set("Content-Type", ctype)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}
	report := env.Report("p0001", "r1", 1).Canonical()
	tests := []struct {
		name   string
		status int
		resp   func() *http.Response
	}{
		{"login", 200, func() *http.Response {
			return post("/api/v1/login", "application/json", "", []byte(`{"precinct_id":"p0002","pin":"`+env.PINs["p0002"]+`"}`))
		}},
		{"failed login", 401, func() *http.Response {
			return post("/api/v1/login", "application/json", "", []byte(`{"precinct_id":"nowhere","pin":"`+env.PINs["p0002"]+`"}`))
		}},
		{"receipt", 201, func() *http.Response { return post("/api/v1/reports", "application/json", tok, report) }},
		{"the same receipt again", 200, func() *http.Response { return post("/api/v1/reports", "application/json", tok, report) }},
		{"photo", 201, func() *http.Response { return post("/api/v1/photos", "image/png", tok, encodePNG(t, worksheet(1))) }},
		{"call-back", 201, func() *http.Response {
			return post("/api/v1/callbacks", "application/json", tok, []byte(`{"precinct_id":"p0001","phone":"515-555-0101"}`))
		}},
		{"logout", 200, func() *http.Response { return post("/api/v1/logout", "application/json", tok, nil) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := tt.resp()
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tt.status)
			}
			if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
				t.Errorf("Cache-Control %q, want no-store", cc)
			}
		})
	}
}

// TestMediaTypes: a JSON route takes exactly application/json (parameters allowed, or no
// Content-Type); any other type, one that only starts like it included, is 415 and stores
// nothing.
func TestMediaTypes(t *testing.T) {
	env := servertest.Start(t, servertest.Options{Precincts: 3})
	tok := env.Login("p0001")
	for i, tt := range []struct {
		ctype  string
		status int
	}{
		{"application/json", 201},
		{"application/json; charset=utf-8", 201},
		{"Application/JSON", 201},
		{"", 201},
		{"application/jsonfoo", 415},
		{"application/json-seq", 415},
		{"application/json5", 415},
		{"text/json", 415},
		{"text/plain", 415},
		{"application/x-www-form-urlencoded", 415},
		{"multipart/form-data; boundary=x", 415},
		{"application/json;;", 415},
	} {
		t.Run(tt.ctype, func(t *testing.T) {
			body := env.Report("p0001", "r"+string(rune('a'+i)), 1).Canonical()
			req, _ := http.NewRequest("POST", env.URL+"/api/v1/reports", bytes.NewReader(body))
			if tt.ctype != "" {
				req.Header.Set("Content-Type", tt.ctype)
			}
			req.Header.Set("Authorization", "Bearer "+tok)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.status && !(tt.status == 201 && resp.StatusCode == 200) {
				t.Fatalf("%d %s, want %d", resp.StatusCode, b, tt.status)
			}
		})
	}
	for _, path := range []string{"/api/v1/login", "/api/v1/callbacks"} {
		req, _ := http.NewRequest("POST", env.URL+path, strings.NewReader(`{}`))
		req.Header.Set("Content-Type", "application/jsonfoo")
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnsupportedMediaType {
			t.Errorf("%s with application/jsonfoo: %d, want 415", path, resp.StatusCode)
		}
	}
}

// TestMetricsHandler: the metrics are served by their own handler (their own listener in
// caucus serve), with the security headers, and not by the public one (TestErrorStatusHeaders).
func TestMetricsHandler(t *testing.T) {
	env := servertest.Start(t, servertest.Options{Precincts: 3})
	ms := httptest.NewServer(env.Server.MetricsHandler())
	defer ms.Close()
	resp, err := http.Get(ms.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !bytes.Contains(b, []byte("caucus_http_requests_total")) && !bytes.Contains(b, []byte("go_goroutines")) {
		t.Fatalf("metrics: %d %.200s", resp.StatusCode, b)
	}
	if resp.Header.Get("X-Content-Type-Options") != "nosniff" || resp.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("metrics headers: %v", resp.Header)
	}
	resp, err = http.Get(ms.URL + "/api/v1/results")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Errorf("the metrics listener serves results: %d", resp.StatusCode)
	}
}
