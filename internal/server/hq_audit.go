package server

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"caucus/internal/auth"
	"caucus/internal/night"
	"caucus/internal/results"
	"caucus/internal/rules"
	"caucus/web"
)

// maxAuditBytes bounds an audit request: a seed and a risk limit, or one precinct's counts.
const maxAuditBytes = 64 << 10

// auditRoutes registers the risk-limiting audit of the election: its start (admin), the hand
// counts keyed twice (operators), and the audit for anyone, as JSON and as the CSV report.
func (s *Server) auditRoutes(mux *http.ServeMux) {
	mux.HandleFunc("POST /api/v1/hq/audit", s.onMain(s.staffJSON(maxAuditBytes, rolesAdmin, s.handleAuditStart)))
	mux.HandleFunc("POST /api/v1/hq/audit/hand-counts/{precinct_id}", s.onMain(s.staffJSON(maxAuditBytes, rolesOperator, s.handleHandCount)))
	mux.HandleFunc("GET /api/v1/audit", s.onMain(s.serveJSON(0, s.handleAudit)))
	mux.HandleFunc("GET /api/v1/audit.csv", s.onMain(s.handleAuditCSV))
	assets, err := web.Load()
	if err != nil {
		panic(err) // embedded files: a broken build, caught by the tests
	}
	mux.HandleFunc("GET /hq/audit", s.onMain(s.handleAuditPage(assets)))
}

// auditStartRequest is POST /api/v1/hq/audit: the seed, decimal digits rolled with dice in
// public, and the risk limit in percent (a number, or a string of one).
type auditStartRequest struct {
	Seed      string          `json:"seed"`
	RiskLimit json.RawMessage `json:"risk_limit"`
}

func (s *Server) handleAuditStart(site *Site, sess auth.Session, _ http.Header, r *http.Request) (any, int, error) {
	var req auditStartRequest
	if err := decodeStrict(r, "audit start", &req); err != nil {
		return nil, 0, err
	}
	limit := strings.Trim(string(req.RiskLimit), `"`)
	a, err := site.night.StartAudit(r.Context(), sess.Username, req.Seed, limit)
	if err != nil {
		return nil, 0, auditError(err)
	}
	return a, http.StatusCreated, nil
}

// handCountRequest is POST /api/v1/hq/audit/hand-counts/{precinct_id}: one operator's count of
// the precinct's preference cards, each candidate's first and final alignment.
type handCountRequest struct {
	First rules.Counts `json:"first"`
	Final rules.Counts `json:"final"`
}

// handleHandCount keys one operator's copy: 200 {state: "waiting_second"}, 201 {state:
// "matched", log_index, leaf_hash} once it matches another operator's copy, 409 {state:
// "mismatch", differences} when it matches none (a third operator keys the cards again).
func (s *Server) handleHandCount(site *Site, sess auth.Session, _ http.Header, r *http.Request) (any, int, error) {
	var req handCountRequest
	if err := decodeStrict(r, "hand count", &req); err != nil {
		return nil, 0, err
	}
	k, err := site.night.KeyHandCount(r.Context(), sess.Username, r.PathValue("precinct_id"), req.First, req.Final)
	if err != nil {
		return nil, 0, auditError(err)
	}
	switch k.State {
	case "matched":
		return k, http.StatusCreated, nil
	case "mismatch":
		return k, http.StatusConflict, nil
	}
	return k, http.StatusOK, nil
}

// decodeStrict reads a request's one JSON object, refusing unknown fields.
func decodeStrict(r *http.Request, what string, v any) error {
	body, err := readBody(r, what, maxAuditBytes)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return errorf(http.StatusBadRequest, "bad_request", "the %s is not one JSON object of the documented fields: %s", what, strings.TrimPrefix(err.Error(), "json: "))
	}
	return nil
}

// auditError answers a refused audit action with its status.
func auditError(err error) error {
	msg := strings.TrimPrefix(err.Error(), night.ErrAuditRefused.Error()+": ")
	switch {
	case errors.Is(err, night.ErrSameOperator):
		return errorf(http.StatusForbidden, "same_operator", "%s", msg)
	case errors.Is(err, night.ErrAuditStarted):
		return errorf(http.StatusConflict, "audit_started", "%s", msg)
	case errors.Is(err, night.ErrAuditNotStarted):
		return errorf(http.StatusConflict, "audit_not_started", "%s", msg)
	case errors.Is(err, night.ErrNotSampled):
		return errorf(http.StatusConflict, "not_sampled", "%s", msg)
	case errors.Is(err, night.ErrHandCounted):
		return errorf(http.StatusConflict, "hand_counted", "%s", msg)
	case errors.Is(err, night.ErrAuditRefused):
		return errorf(http.StatusUnprocessableEntity, "refused", "%s", msg)
	}
	return err
}

func (s *Server) handleAudit(site *Site, _ http.Header, r *http.Request) (any, int, error) {
	a, err := site.night.AuditStatus(r.Context())
	if err != nil {
		return nil, 0, err
	}
	return a, http.StatusOK, nil
}

// auditCSVHeader is the audit report's columns: one row per contest and sample ticket, and a
// contest's summary row (ticket columns empty).
var auditCSVHeader = []string{"contest", "winner", "runner_up", "margin", "u_total", "risk_limit", "status", "draws",
	"risk", "conclusion", "round", "draw", "hash", "precinct_id", "hand_counted", "overstatement"}

// handleAuditCSV is the audit report a party publishes, as CSV: per contest its margin, status,
// measured risk and conclusion, then every ticket of its sample with the precinct drawn, whether
// it is hand counted and its overstatement (a discrepancy when not 0).
func (s *Server) handleAuditCSV(site *Site, w http.ResponseWriter, r *http.Request) {
	a, err := site.night.AuditStatus(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var buf bytes.Buffer
	writeAuditCSV(&buf, a)
	securityHeaders(w.Header())
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header()["Cache-Control"] = hdrNoStore
	w.Write(buf.Bytes())
}

func writeAuditCSV(buf *bytes.Buffer, a results.Audit) {
	cw := csv.NewWriter(buf)
	cw.Write(auditCSVHeader)
	counted := map[string]bool{}
	for _, h := range a.HandCounts {
		counted[h.PrecinctID] = true
	}
	for _, c := range a.Contests {
		over := map[string]string{}
		for _, d := range c.Discrepancies {
			over[d.PrecinctID] = d.Overstatement
		}
		head := []string{c.Contest, c.Winner, c.RunnerUp, c.Margin, c.UTotal, string(a.RiskLimit), c.Status,
			strconv.Itoa(c.Draws), c.Risk, c.Conclusion}
		cw.Write(append(head, "", "", "", "", "", ""))
		for _, t := range c.Sample {
			o := ""
			if counted[t.PrecinctID] {
				o = "0"
				if v, ok := over[t.PrecinctID]; ok {
					o = v
				}
			}
			cw.Write(append(head[:1:1], "", "", "", "", "", "", "", "", "", strconv.Itoa(t.Round),
				strconv.FormatInt(t.Draw, 10), t.Hash, t.PrecinctID, strconv.FormatBool(counted[t.PrecinctID]), o))
		}
	}
	cw.Flush()
}
