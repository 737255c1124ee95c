package server

import (
	"encoding/json"
	"net/http"
	"strings"

	"caucus/internal/report"
	"caucus/internal/rules"
)

// chairCalcFields are the calc input's fields a chair types (spec/interfaces.md `caucus calc`);
// every other field comes from the election, never from the request.
var chairCalcFields = []string{"attendees", "first", "final", "delegates", "tiebreaks"}

// handleCalc is the chair app's math while its rules.wasm is still loading on a slow line:
// POST /api/v1/calc (and /practice/api/v1/calc), for a logged-in session, with the body the
// page hands its caucusCalc (the calc input). The precinct is the chair's own (a staff login
// names it in "precinct_id" and must be allowed to report for it). The answer, 200, is exactly
// what rules.wasm's caucusCalc returns for the same input — the `caucus calc --json` object with
// viable_first, or its C01 check for an input the math refuses — because it is the same call,
// rules.CalcJSON, on the same JSON: the chair's fields from the request, the election's fields
// (rules, delegates_to_elect, satellite, sde_ratio, candidates) as precinct-info gives them to
// the page. Nothing is stored. The hotline console, logged in by the staff cookie, does its
// worksheet's math here too.
func (s *Server) handleCalc(site *Site, _ http.Header, r *http.Request) (any, int, error) {
	sess, err := s.pageSession(r)
	if err != nil {
		return nil, 0, err
	}
	body, err := readBody(r, "calc input", report.MaxBytes)
	if err != nil {
		return nil, 0, err
	}
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/json") {
		return nil, 0, errorf(http.StatusUnsupportedMediaType, "content_type", "send the calc input as application/json")
	}
	var got map[string]json.RawMessage
	if err := json.Unmarshal(body, &got); err != nil || got == nil {
		return nil, 0, errorf(http.StatusBadRequest, "bad_calc", "send the calc input as one JSON object")
	}
	id := sess.PrecinctID
	if raw, ok := got["precinct_id"]; ok {
		if err := json.Unmarshal(raw, &id); err != nil {
			return nil, 0, errorf(http.StatusBadRequest, "bad_calc", "precinct_id must be a string")
		}
	}
	if !sess.MaySubmit(id) {
		return nil, 0, errorf(http.StatusForbidden, "forbidden", "this login may not calculate for precinct %s", id)
	}
	in, err := site.calcInput(id, got)
	if err != nil {
		return nil, 0, err
	}
	return rules.CalcJSON(in, ""), http.StatusOK, nil
}

// calcInput is the JSON the page's wasm would be given for precinct id: the chair's fields of
// got and the election's fields of the precinct, written as handlePrecinctInfo writes them.
func (site *Site) calcInput(id string, got map[string]json.RawMessage) ([]byte, error) {
	p, ok := site.def.Precinct(id)
	if !ok {
		return nil, errorf(http.StatusNotFound, "not_found", "no precinct %q in this election", id)
	}
	e := site.def.Election()
	in := make(map[string]any, len(chairCalcFields)+5)
	for _, k := range chairCalcFields {
		if v, ok := got[k]; ok {
			in[k] = v
		}
	}
	cands := make([]string, len(e.Candidates))
	for i, c := range e.Candidates {
		cands[i] = c.ID
	}
	in["rules"], in["candidates"] = e.Rules, cands
	if p.DelegatesToElect > 0 || !p.Satellite {
		in["delegates_to_elect"] = p.DelegatesToElect
	}
	if p.Satellite {
		in["satellite"] = true
	}
	if c, ok := site.def.County(p.CountyID); ok {
		if ratio, ok := c.SDERatio(); ok {
			in["sde_ratio"] = ratio.String()
		}
	}
	return json.Marshal(in)
}
