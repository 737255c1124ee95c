package server_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"caucus/internal/server/servertest"
)

// TestAnonymousCallback: a chair who is not logged in asks for a call with the precinct as the
// packet prints it; headquarters' queue has it under the precinct's ID, the phone trimmed. A
// precinct that is not the election's, a short phone and an unknown field are refused; past 5
// requests a precinct, or an address, is throttled with a Retry-After.
func TestAnonymousCallback(t *testing.T) {
	env := servertest.Start(t, servertest.Options{Precincts: 8})
	route := "/api/v1/callbacks/anonymous" // the first request by the alias, the rest by the contract's route
	post := func(body string) (int, string, http.Header) {
		t.Helper()
		req, _ := http.NewRequest("POST", env.URL+route, strings.NewReader(body))
		route = "/api/v1/callbacks" // no Authorization header: anyone, throttled
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b), resp.Header
	}
	if status, b, _ := post(`{"precinct_id":"Precinct 1","phone":" 515-555-0101 ","note":"cannot log in"}`); status != http.StatusCreated || !strings.Contains(b, `"precinct_id":"p0001"`) {
		t.Fatalf("anonymous call-back: %d %s", status, b)
	}
	cbs, err := env.DB.Callbacks(context.Background(), 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(cbs) != 1 || cbs[0].PrecinctID != "p0001" || cbs[0].Phone != "+15155550101" || cbs[0].Note != "cannot log in" {
		t.Fatalf("queue: %+v", cbs)
	}
	for _, c := range []struct {
		body string
		code string
	}{
		{`{"precinct_id":"nowhere","phone":"515-555-0101"}`, `"code":"unknown_precinct"`},
		{`{"precinct_id":"p0002","phone":"55"}`, `"code":"bad_phone"`},
		{`{"precinct_id":"p0002","phone":"515-555-0101","pin":"1"}`, `"code":"bad_callback"`},
	} {
		if status, b, _ := post(c.body); status != http.StatusBadRequest || !strings.Contains(b, c.code) {
			t.Errorf("%s: %d %s", c.body, status, b)
		}
	}
	// p0001 has 1 request; 4 more are taken, the 6th is throttled. The address has 5 by then,
	// so another precinct from it is throttled too.
	for i := range 4 {
		if status, b, _ := post(`{"precinct_id":"p0001","phone":"5155550101"}`); status != http.StatusCreated {
			t.Fatalf("request %d: %d %s", i+2, status, b)
		}
	}
	for _, p := range []string{"p0001", "p0003"} {
		status, b, h := post(`{"precinct_id":"` + p + `","phone":"5155550101"}`)
		if status != http.StatusTooManyRequests || !strings.Contains(b, `"code":"throttled"`) || h.Get("Retry-After") == "" {
			t.Errorf("%s past the limit: %d %s, Retry-After %q", p, status, b, h.Get("Retry-After"))
		}
	}
}
