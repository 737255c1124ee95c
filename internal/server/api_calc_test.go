package server_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"caucus/internal/rules"
	"caucus/internal/server/servertest"
)

// TestCalcIsTheWasmsMath: POST /api/v1/calc answers what the page's caucusCalc (rules.CalcJSON
// in rules.wasm) answers for the input the page builds from precinct-info and what the chair
// typed, byte for byte, valid input and refused input alike; the election's fields are the
// server's whatever the request says.
func TestCalcIsTheWasmsMath(t *testing.T) {
	env := servertest.Start(t, servertest.Options{Precincts: 3})
	tok := env.Login("p0001")
	_, b := env.Do("GET", "/api/v1/precinct-info/p0001", "", nil)
	var info struct {
		Rules            string  `json:"rules"`
		DelegatesToElect *int64  `json:"delegates_to_elect"`
		Satellite        bool    `json:"satellite"`
		SDERatio         *string `json:"sde_ratio"`
		Candidates       []struct {
			ID string `json:"id"`
		} `json:"candidates"`
	}
	if err := json.Unmarshal(b, &info); err != nil {
		t.Fatalf("precinct info: %v: %s", err, b)
	}
	rep := env.Report("p0001", "r", 1)
	typed := []map[string]any{
		{"attendees": rep.Attendees, "first": rep.First, "final": rep.Final},
		{"attendees": rep.Attendees, "first": rep.First, "final": rep.Final, "delegates": map[string]int{}},
		{"attendees": rep.Attendees},
		{"attendees": -1, "first": map[string]any{"x": 1.5}},
		{},
	}
	for _, chair := range typed {
		page := map[string]any{"rules": info.Rules, "satellite": info.Satellite}
		for k, v := range chair {
			page[k] = v
		}
		if info.DelegatesToElect != nil {
			page["delegates_to_elect"] = *info.DelegatesToElect
		}
		if info.SDERatio != nil {
			page["sde_ratio"] = *info.SDERatio
		}
		ids := []string{}
		for _, c := range info.Candidates {
			ids = append(ids, c.ID)
		}
		page["candidates"] = ids
		in, _ := json.Marshal(page)
		want, _ := json.Marshal(rules.CalcJSON(in, ""))

		// What the server is sent may lie about the election's fields: they are not read.
		sent := map[string]any{"rules": "straw-poll", "delegates_to_elect": 99, "satellite": true, "sde_ratio": "1/2", "candidates": []string{"x"}}
		for k, v := range chair {
			sent[k] = v
		}
		body, _ := json.Marshal(sent)
		status, got := env.Do("POST", "/api/v1/calc", tok, body)
		if status != http.StatusOK {
			t.Fatalf("calc %s: %d %s", body, status, got)
		}
		if !bytes.Equal(bytes.TrimSpace(got), want) {
			t.Errorf("calc %s:\n got %s\nwant %s", body, got, want)
		}
	}
	if strings.Contains(string(mustCalc(t, env, tok, `{"attendees":10}`)), `"delegates_to_elect":99`) {
		t.Error("the request's delegates_to_elect was used")
	}
}

// TestCalcRefusals: the route is for a logged-in chair, for their own precinct, with a JSON
// object of bounded size.
func TestCalcRefusals(t *testing.T) {
	env := servertest.Start(t, servertest.Options{Precincts: 3})
	tok := env.Login("p0001")
	for _, tt := range []struct {
		name, token, body string
		status            int
		code              string
	}{
		{"no login", "", `{"attendees":10}`, 401, "unauthenticated"},
		{"another precinct", tok, `{"precinct_id":"p0002","attendees":10}`, 403, "forbidden"},
		{"not an object", tok, `[1,2]`, 400, "bad_calc"},
		{"not JSON", tok, `{"attendees":`, 400, "bad_calc"},
		{"too large", tok, `{"attendees":10,"x":"` + strings.Repeat("x", 20<<10) + `"}`, 413, "too_large"},
	} {
		status, b := env.Do("POST", "/api/v1/calc", tt.token, []byte(tt.body))
		var e struct{ Code string }
		json.Unmarshal(b, &e)
		if status != tt.status || e.Code != tt.code {
			t.Errorf("%s: %d %s, want %d %s", tt.name, status, b, tt.status, tt.code)
		}
	}
}

func mustCalc(t *testing.T, env *servertest.Env, tok, body string) []byte {
	t.Helper()
	status, b := env.Do("POST", "/api/v1/calc", tok, []byte(body))
	if status != http.StatusOK {
		t.Fatalf("calc %s: %d %s", body, status, b)
	}
	return b
}
