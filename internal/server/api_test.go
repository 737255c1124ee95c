package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"caucus/internal/server/servertest"
	"caucus/internal/store"
)

// TestJSONRoutes pins what the chair app's and the log's JSON routes answer, status, headers and
// body, success and failure alike (the values that change from run to run, request ids, times,
// hashes, are compared by presence only).
func TestJSONRoutes(t *testing.T) {
	env := servertest.Start(t, servertest.Options{Precincts: 3})
	tok := env.Login("p0001")
	if status, b := env.Do("POST", "/api/v1/reports", tok, env.Report("p0001", "r1", 1).Canonical()); status != http.StatusCreated {
		t.Fatalf("report: %d %s", status, b)
	}
	if err := env.Server.SignCheckpoint(context.Background()); err != nil {
		t.Fatal(err)
	}
	png := encodePNG(t, worksheet(7))
	tests := []struct {
		name         string
		method, path string
		token, ctype string
		body         []byte
		status       int
		cacheControl string
		want         string // the JSON body, with the volatile fields (request_id, at, sha256, files) removed
	}{
		{"precinct info", "GET", "/api/v1/precinct-info/p0001", "", "", nil, 200, "public, max-age=300", ""},
		{"precinct info of no precinct", "GET", "/api/v1/precinct-info/nowhere", "", "", nil, 404, "no-store",
			`{"code":"not_found","error":"no precinct \"nowhere\" in this election"}`},
		{"photo without login", "POST", "/api/v1/photos", "", "image/png", png, 401, "no-store",
			`{"code":"unauthenticated","error":"log in first: send Authorization: Bearer \u003ctoken\u003e"}`},
		{"photo of another type", "POST", "/api/v1/photos", tok, "text/plain", png, 415, "no-store",
			`{"code":"content_type","error":"send the photo as image/jpeg or image/png"}`},
		{"photo", "POST", "/api/v1/photos", tok, "image/png", png, 201, "no-store", ""},
		{"the same photo", "POST", "/api/v1/photos", tok, "image/png", png, 200, "no-store", ""},
		{"photo not of its type", "POST", "/api/v1/photos", tok, "image/jpeg", png, 400, "no-store",
			`{"code":"bad_photo","error":"the photo is not a image/jpeg image"}`},
		{"empty photo", "POST", "/api/v1/photos", tok, "image/png", []byte{}, 400, "no-store",
			`{"code":"bad_body","error":"the photo is empty"}`},
		{"photo too large", "POST", "/api/v1/photos", tok, "image/png", append(png, make([]byte, store.MaxPhotoBytes)...), 413, "no-store",
			`{"code":"too_large","error":"the photo is larger than ` + itoa(store.MaxPhotoBytes) + ` bytes"}`},
		{"call-back", "POST", "/api/v1/callbacks", tok, "application/json", []byte(`{"precinct_id":"p0001","phone":"515-555-0101","note":"tie"}`), 201, "no-store",
			`{"callback_id":1,"phone":"+15155550101"}`},
		{"call-back for another precinct", "POST", "/api/v1/callbacks", tok, "application/json", []byte(`{"precinct_id":"p0002","phone":"515-555-0101"}`), 403, "no-store",
			`{"code":"forbidden","error":"this login may not ask for precinct p0002"}`},
		{"call-back without a phone", "POST", "/api/v1/callbacks", tok, "application/json", []byte(`{"precinct_id":"p0001","phone":"55"}`), 400, "no-store",
			`{"code":"bad_phone","error":"phone: give a 10-digit US number with its area code, like 515-555-0101, or an international number starting with +"}`},
		{"call-back not JSON", "POST", "/api/v1/callbacks", tok, "application/json", []byte(`{"phone":`), 400, "no-store",
			`{"code":"bad_callback","error":"send {\"precinct_id\", \"phone\", \"note\"} as JSON"}`},
		{"proof", "GET", "/log/proof?index=0", "", "", nil, 200, "no-cache", ""},
		{"proof of no entry", "GET", "/log/proof?index=9", "", "", nil, 404, "no-store",
			`{"code":"not_found","error":"index must be an entry of the latest checkpoint (size 1)"}`},
		{"election", "GET", "/api/v1/election", "", "", nil, 200, "public, max-age=1, stale-while-revalidate=5", `{"election_id":"test-2020"}`},
		{"health", "GET", "/healthz", "", "", nil, 200, "no-store", `{"status":"ok","test-2020":{"log_size":1}}`},
		{"login not JSON", "POST", "/api/v1/login", "", "application/json", []byte(`{`), 400, "no-store",
			`{"code":"bad_login","error":"send {\"precinct_id\", \"pin\"} as JSON"}`},
		{"logout", "POST", "/api/v1/logout", tok, "application/json", nil, 200, "no-store", `{"logged_out":true}`},
		{"photo after logout", "POST", "/api/v1/photos", tok, "image/png", png, 401, "no-store", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(tt.method, env.URL+tt.path, bytes.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			if tt.ctype != "" {
				req.Header.Set("Content-Type", tt.ctype)
			}
			if tt.token != "" {
				req.Header.Set("Authorization", "Bearer "+tt.token)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.status, b)
			}
			if ct := resp.Header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
				t.Errorf("Content-Type %q", ct)
			}
			if cc := resp.Header.Get("Cache-Control"); cc != tt.cacheControl {
				t.Errorf("Cache-Control %q, want %q", cc, tt.cacheControl)
			}
			if !bytes.HasSuffix(b, []byte("}\n")) {
				t.Errorf("body does not end with a newline: %q", b)
			}
			var m map[string]any
			if err := json.Unmarshal(b, &m); err != nil {
				t.Fatalf("body is not a JSON object: %s", b)
			}
			if tt.status >= 400 && m["request_id"] == "" {
				t.Errorf("an error without its request id: %s", b)
			}
			if tt.want == "" {
				return
			}
			for _, k := range []string{"request_id", "at", "sha256", "files"} {
				delete(m, k)
			}
			got, _ := json.Marshal(m)
			if string(got) != tt.want {
				t.Errorf("body\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
	if status, b := env.Do("GET", "/api/v1/precinct-info/p0001", "", nil); !strings.Contains(string(b), `"precinct_id":"p0001"`) {
		t.Errorf("precinct info: %d %s", status, b)
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }
