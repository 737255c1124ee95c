package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"caucus/internal/auth"
	"caucus/internal/night"
	"caucus/internal/report"
	"caucus/internal/rules"
	"caucus/internal/tally"
	"caucus/web"
)

// rolesCertifyRead may read the certification board and the recanvass requests: the certifier,
// and those who review, run or watch the night.
var rolesCertifyRead = []auth.Role{auth.RoleCertifier, auth.RoleReviewer, auth.RoleAdmin, auth.RoleObserver}

// maxCertifyBytes bounds a certification or withdrawal request: a scope, a code and a reason.
const maxCertifyBytes = 8 << 10

// maxRecanvassRequestBytes bounds a campaign's recanvass request: a list of precincts.
const maxRecanvassRequestBytes = 256 << 10

// certifyRoutes registers recanvass and certification (of the election, not its practice twin):
// headquarters' routes and pages, and the printable page of a certification. The public list of
// certifications and their results CSV are each site's (Handler).
func (s *Server) certifyRoutes(mux *http.ServeMux) {
	mux.HandleFunc("POST /api/v1/hq/recanvass/{precinct_id}", s.onMain(s.staffJSON(maxDecisionBytes, rolesReview, s.handleRecanvass)))
	mux.HandleFunc("POST /api/v1/hq/recanvass-requests", s.onMain(s.staffJSON(maxRecanvassRequestBytes, rolesAdmin, s.handleRecanvassRequest)))
	mux.HandleFunc("GET /api/v1/hq/recanvass-requests", s.onMain(s.staffJSON(0, rolesCertifyRead, s.handleRecanvassRequests)))
	mux.HandleFunc("GET /api/v1/hq/certify", s.onMain(s.staffJSON(0, rolesCertifyRead, s.handleCertifyBoard)))
	mux.HandleFunc("POST /api/v1/hq/certify", s.onMain(s.staffJSON(maxCertifyBytes, rolesCertifier, s.handleCertify)))
	mux.HandleFunc("POST /api/v1/hq/certify/withdraw", s.onMain(s.staffJSON(maxCertifyBytes, rolesCertifier, s.handleWithdraw)))
	assets, err := web.Load()
	if err != nil {
		panic(err) // embedded files: a broken build, caught by the tests
	}
	mux.HandleFunc("GET /certifications/{log_index}", s.onMain(s.handleCertifiedPage(assets)))
	mux.HandleFunc("GET /hq/certify", s.onMain(s.handleCertifyPage(assets)))
}

// decodeJSON reads a request body into v, refusing unknown fields, with a 400 that names
// what to send.
func decodeJSON(body []byte, v any, what string) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return errorf(http.StatusBadRequest, "bad_request", "send %s as one JSON object: %s", what, strings.TrimPrefix(err.Error(), "json: "))
	}
	return nil
}

// recanvassRequest is POST /api/v1/hq/recanvass/{precinct_id}. Source says what the report was
// re-keyed from: "worksheet" (the default) or "cards".
type recanvassRequest struct {
	Report json.RawMessage `json:"report"`
	Reason string          `json:"reason"`
	Source string          `json:"source"`
}

// recanvassAnswer is the recanvass's outcome (spec/interfaces.md), with its source, the
// precinct's status after it, and the review flag it left when the recanvassed worksheet itself
// fires checks.
type recanvassAnswer struct {
	Differences   []night.Difference `json:"differences"`
	Outcome       string             `json:"outcome"`
	LogIndex      int64              `json:"log_index"`
	LeafHash      string             `json:"leaf_hash"`
	Source        string             `json:"source"`
	FlagLogIndex  *int64             `json:"flag_log_index,omitempty"`
	NeedsDecision bool               `json:"needs_decision"`
}

// handleRecanvass re-keys a precinct from its paper and records the outcome: 201 with the
// differences, confirmed or corrected; 403 for one's own entry, 409 for a certified precinct or
// one changed meanwhile, 422 for a refused recanvass (nothing counted yet, hard errors).
func (s *Server) handleRecanvass(site *Site, sess auth.Session, _ http.Header, r *http.Request) (any, int, error) {
	body, err := readBody(r, "recanvass", maxDecisionBytes)
	if err != nil {
		return nil, 0, err
	}
	var req recanvassRequest
	if err := decodeJSON(body, &req, "{report, reason, source}"); err != nil {
		return nil, 0, err
	}
	rc := night.Recanvass{PrecinctID: r.PathValue("precinct_id"), Author: sess.Username, Reason: strings.TrimSpace(req.Reason),
		Source: req.Source}
	if rc.Source == "" {
		rc.Source = report.RecanvassWorksheet
	}
	switch {
	case rc.Reason == "":
		return nil, 0, errorf(http.StatusUnprocessableEntity, "bad_recanvass", "reason: say why the precinct was recanvassed")
	case len(rc.Reason) > maxReasonLen:
		return nil, 0, errorf(http.StatusUnprocessableEntity, "bad_recanvass", "reason: at most %d bytes", maxReasonLen)
	case len(req.Report) == 0 || string(req.Report) == "null":
		return nil, 0, errorf(http.StatusUnprocessableEntity, "bad_recanvass", "report: the recanvassed numbers, as a whole report")
	}
	rep, err := report.Decode(req.Report)
	var se *report.SyntaxError
	var ie *report.InvalidError
	switch {
	case errors.As(err, &se):
		return nil, 0, errorf(http.StatusBadRequest, "bad_report", "report: %s", se.Msg)
	case errors.As(err, &ie):
		return map[string]any{"error": "report: " + ie.Check.Message, "checks": []rules.Check{ie.Check}}, http.StatusUnprocessableEntity, nil
	case err != nil:
		return nil, 0, err
	}
	rc.Report = rep
	res, err := site.night.Recanvass(r.Context(), rc)
	if v, status, err := refusal(err); status != 0 || err != nil {
		return v, status, err
	}
	a := recanvassAnswer{Differences: res.Differences, Outcome: res.Outcome, LogIndex: res.Entry.Index,
		LeafHash: report.HexHash(res.Entry.LeafHash), Source: rc.Source, NeedsDecision: res.Flag != nil}
	if res.Flag != nil {
		a.FlagLogIndex = &res.Flag.Index
	}
	return a, http.StatusCreated, nil
}

// refusal is the answer to a night's refusal of a decision, a recanvass or a certification:
// 403 for one's own entry, 409 for a stale or certified precinct or an unsettled scope (naming
// what is unsettled), 422 for any other refusal; (nil, 0, nil) for no error.
func refusal(err error) (any, int, error) {
	var re *night.RefusedError
	var un *night.UnsettledError
	switch {
	case err == nil:
		return nil, 0, nil
	case errors.As(err, &un):
		return map[string]any{"error": un.Error(), "code": "unsettled", "scope": un.Scope,
			"unsettled": nonNil(un.Precincts), "counties_not_certified": nonNil(un.Counties)}, http.StatusConflict, nil
	case errors.Is(err, night.ErrOwnEntry):
		return nil, 0, errorf(http.StatusForbidden, "own_entry", "%s", refusalMessage(err))
	case errors.Is(err, night.ErrStale):
		return nil, 0, errorf(http.StatusConflict, "stale", "%s", refusalMessage(err))
	case errors.Is(err, night.ErrCertified):
		return nil, 0, errorf(http.StatusConflict, "certified", "%s", refusalMessage(err))
	case errors.As(err, &re):
		checks := re.Checks
		if checks == nil {
			checks = []rules.Check{}
		}
		return map[string]any{"error": re.Message, "code": "refused", "checks": checks}, http.StatusUnprocessableEntity, nil
	}
	return nil, 0, err
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// handleRecanvassRequest records a campaign's request to recanvass a list of precincts.
func (s *Server) handleRecanvassRequest(site *Site, sess auth.Session, _ http.Header, r *http.Request) (any, int, error) {
	body, err := readBody(r, "recanvass request", maxRecanvassRequestBytes)
	if err != nil {
		return nil, 0, err
	}
	var req struct {
		RequestedBy string   `json:"requested_by"`
		Precincts   []string `json:"precincts"`
		Reason      string   `json:"reason"`
	}
	if err := decodeJSON(body, &req, "{requested_by, precincts, reason}"); err != nil {
		return nil, 0, err
	}
	if len(req.Reason) > maxReasonLen || len(req.RequestedBy) > 200 {
		return nil, 0, errorf(http.StatusUnprocessableEntity, "bad_request", "reason or requested_by too long")
	}
	got, err := site.night.RequestRecanvass(r.Context(), night.RecanvassRequest{RequestedBy: strings.TrimSpace(req.RequestedBy),
		RecordedBy: sess.Username, Reason: strings.TrimSpace(req.Reason), Precincts: req.Precincts})
	if v, status, err := refusal(err); status != 0 || err != nil {
		return v, status, err
	}
	return got, http.StatusCreated, nil
}

// handleRecanvassRequests lists the recorded requests, each precinct done or pending.
func (s *Server) handleRecanvassRequests(site *Site, _ auth.Session, _ http.Header, r *http.Request) (any, int, error) {
	all, err := site.night.RecanvassRequests(r.Context())
	if err != nil {
		return nil, 0, err
	}
	return map[string]any{"requests": all}, http.StatusOK, nil
}

// countyBoard is one county on the certification board.
type countyBoard struct {
	CountyID  string                    `json:"county_id"`
	Name      string                    `json:"name"`
	Scope     string                    `json:"scope"`
	Precincts int                       `json:"precincts"`
	Certified bool                      `json:"certified"`
	Settled   bool                      `json:"settled"`
	Unsettled []tally.UnsettledPrecinct `json:"unsettled"`
}

// certifyBoard is GET /api/v1/hq/certify: per county, settled or what is unsettled, and whether
// it is certified; the state likewise; every certification.
type certifyBoard struct {
	LogSize        int64         `json:"log_size"`
	StateCertified bool          `json:"state_certified"`
	StateReady     bool          `json:"state_ready"` // every county certified
	Counties       []countyBoard `json:"counties"`
	Certifications any           `json:"certifications"`
}

func (s *Server) handleCertifyBoard(site *Site, _ auth.Session, _ http.Header, _ *http.Request) (any, int, error) {
	snap := site.night.Snapshot()
	b := certifyBoard{LogSize: snap.LogSize(), StateCertified: snap.Certified(report.StateScope), StateReady: true,
		Counties: []countyBoard{}, Certifications: snap.Certifications().Certifications}
	for _, c := range site.def.Counties() {
		scope := report.CountyScope(c.ID)
		un := snap.Unsettled(c.ID)
		cb := countyBoard{CountyID: c.ID, Name: c.Name, Scope: scope, Precincts: len(site.def.PrecinctsIn(c.ID)),
			Certified: snap.Certified(scope), Settled: len(un) == 0, Unsettled: un}
		if !cb.Certified {
			b.StateReady = false
		}
		b.Counties = append(b.Counties, cb)
	}
	return b, http.StatusOK, nil
}

// certifyRequest is POST /api/v1/hq/certify and …/withdraw: the scope, the certifier's
// one-time code (checked again: a certification is the night's most consequential act), and a
// reason (required to withdraw).
type certifyRequest struct {
	Scope  string `json:"scope"`
	OTP    string `json:"otp"`
	Reason string `json:"reason"`
}

// certifyAnswer is a stored certification: spec/interfaces.md's fields, and its leaf hash.
type certifyAnswer struct {
	Scope    string `json:"scope"`
	Decision string `json:"decision"`
	LogSize  *int64 `json:"log_size,omitempty"`
	RootHash string `json:"root_hash,omitempty"`
	LogIndex int64  `json:"log_index"`
	LeafHash string `json:"leaf_hash"`
}

func (s *Server) handleCertify(site *Site, sess auth.Session, h http.Header, r *http.Request) (any, int, error) {
	return s.certifyAct(site, sess, r, false)
}

func (s *Server) handleWithdraw(site *Site, sess auth.Session, h http.Header, r *http.Request) (any, int, error) {
	return s.certifyAct(site, sess, r, true)
}

// certifyAct certifies a scope, or withdraws its certification, once the certifier's one-time
// code checks out: 201 with the entry, 403 for a wrong or used code, 409 with what is
// unsettled, 422 for any other refusal.
func (s *Server) certifyAct(site *Site, sess auth.Session, r *http.Request, withdraw bool) (any, int, error) {
	body, err := readBody(r, "certification", maxCertifyBytes)
	if err != nil {
		return nil, 0, err
	}
	var req certifyRequest
	if err := decodeJSON(body, &req, "{scope, otp, reason}"); err != nil {
		return nil, 0, err
	}
	req.Reason = strings.TrimSpace(req.Reason)
	switch {
	case req.Scope == "":
		return nil, 0, errorf(http.StatusUnprocessableEntity, "bad_request", "scope: \"county:ID\" or \"state\"")
	case req.OTP == "":
		return nil, 0, errorf(http.StatusUnprocessableEntity, "otp_required", "otp: the one-time code of your authenticator")
	case len(req.Reason) > maxReasonLen:
		return nil, 0, errorf(http.StatusUnprocessableEntity, "bad_request", "reason: at most %d bytes", maxReasonLen)
	}
	if err := s.auth.CheckStaffOTP(r.Context(), sess.Username, req.OTP, s.clientAddr(r)); err != nil {
		if errors.Is(err, auth.ErrBadOTP) {
			return nil, 0, errorf(http.StatusForbidden, "bad_otp", "%s", auth.ErrBadOTP.Message)
		}
		return nil, 0, err
	}
	c := night.Certification{Scope: req.Scope, Author: sess.Username, Reason: req.Reason}
	act := site.night.Certify
	if withdraw {
		act = site.night.Withdraw
	}
	e, err := act(r.Context(), c)
	if v, status, err := refusal(err); status != 0 || err != nil {
		return v, status, err
	}
	le, err := report.ParseEntry(e.Body)
	if err != nil {
		return nil, 0, err
	}
	return certifyAnswer{Scope: le.PrecinctID, Decision: le.Decision, LogSize: le.LogSize, RootHash: le.RootHash,
		LogIndex: e.Index, LeafHash: report.HexHash(e.LeafHash)}, http.StatusCreated, nil
}

// handleCertifications is GET /api/v1/certifications: every certification and withdrawal, each
// certification with the checkpoint it names, and the scopes certified now.
func (s *Server) handleCertifications(site *Site, h http.Header, _ *http.Request) (any, int, error) {
	h.Set("Cache-Control", "no-cache")
	return site.night.Certifications(), http.StatusOK, nil
}

// certifiedAt finds the certification at the request's log index and the results at its
// checkpoint.
func (s *Server) certifiedAt(site *Site, r *http.Request) (certified, error) {
	idx, err := strconv.ParseInt(r.PathValue("log_index"), 10, 64)
	if err != nil || idx < 0 {
		return certified{}, errorf(http.StatusNotFound, "not_found", "no certification %q: name it by its log index", r.PathValue("log_index"))
	}
	cert, snap, ok, err := site.night.CertifiedResults(r.Context(), idx)
	if err != nil {
		return certified{}, err
	}
	if !ok {
		return certified{}, errorf(http.StatusNotFound, "not_found", "log entry %d is no certification", idx)
	}
	county, _ := report.ParseScope(cert.Scope)
	c := certified{cert: cert, snap: snap, county: county}
	if county == "" {
		c.csv, _ = snap.CSV()
	} else {
		c.csv, _ = snap.CountyCSV(county)
	}
	return c, nil
}

// handleCertifiedCSV is GET /api/v1/certifications/{log_index}/results.csv: the columns of
// /api/v1/results.csv, the certified scope's precincts, computed at the checkpoint the
// certification names. It never changes, even once withdrawn: it is what was certified.
func (s *Server) handleCertifiedCSV(site *Site, w http.ResponseWriter, r *http.Request) {
	c, err := s.certifiedAt(site, r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	h := w.Header()
	h["Content-Type"] = hdrCSV
	h.Set("Cache-Control", "public, max-age=86400, immutable")
	h.Set("Caucus-Log-Size", strconv.FormatInt(*c.cert.LogSize, 10))
	h.Set("Content-Disposition", `attachment; filename="certified-`+strconv.FormatInt(c.cert.LogIndex, 10)+`.csv"`)
	w.Write(c.csv)
}
