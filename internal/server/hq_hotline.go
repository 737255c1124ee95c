package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"caucus/internal/auth"
	"caucus/internal/hotline"
	"caucus/internal/intake"
	"caucus/internal/report"
	"caucus/internal/store"
)

// The hotline's routes (spec/interfaces.md "Headquarters, hotline …"): operators key worksheets
// read over the phone or brought on paper, two copies each (internal/hotline's double entry),
// and work the call-back queue. They serve the election's site only: the practice twin has no
// headquarters.

// maxHotlineBytes bounds a keying: a report and the few fields around it.
const maxHotlineBytes = report.MaxBytes + 1<<10

// maxOutcomeBytes bounds a call-back outcome: the outcome and a note of 500 characters.
const maxOutcomeBytes = 4 << 10

// rolesHotlineBoard may read the hotline's figures: every staff role (the board shows them).
var rolesHotlineBoard = rolesStaff

// hotlineRoutes adds the hotline's API, the chair's view of its call-backs and the console page.
func (s *Server) hotlineRoutes(mux *http.ServeMux) {
	if s.hotline == nil {
		return
	}
	mux.HandleFunc("POST /api/v1/hotline/entries", s.onMain(s.staffJSON(maxHotlineBytes, rolesOperator, s.handleHotlineEntry)))
	mux.HandleFunc("GET /api/v1/hotline/precincts/{precinct_id}", s.onMain(s.staffJSON(0, rolesOperator, s.handleHotlinePrecinct)))
	mux.HandleFunc("GET /api/v1/hotline/callbacks", s.onMain(s.staffJSON(0, rolesOperator, s.handleCallbackQueue)))
	mux.HandleFunc("POST /api/v1/hotline/callbacks/{id}/claim", s.onMain(s.staffJSON(0, rolesOperator, s.handleCallbackClaim)))
	mux.HandleFunc("POST /api/v1/hotline/callbacks/{id}/outcome", s.onMain(s.staffJSON(maxOutcomeBytes, rolesOperator, s.handleCallbackOutcome)))
	mux.HandleFunc("GET /api/v1/hotline/stats", s.onMain(s.staffJSON(0, rolesHotlineBoard, s.handleHotlineStats)))
	mux.HandleFunc("GET /api/v1/callbacks/mine", s.onMain(s.serveJSON(0, s.handleMyCallbacks)))
	s.hotlinePage(mux)
}

type hotlineEntryRequest struct {
	PrecinctID string          `json:"precinct_id"`
	VerifiedBy string          `json:"verified_by"`
	PIN        string          `json:"pin"`
	Report     json.RawMessage `json:"report"`
}

// handleHotlineEntry keys one operator's copy (POST /api/v1/hotline/entries): 200
// waiting_second or mismatch, 201 matched with the report's receipt, 422 when the numbers have
// errors (nothing stored), 403 for a second copy by the same operator or an unverified caller.
func (s *Server) handleHotlineEntry(site *Site, sess auth.Session, _ http.Header, r *http.Request) (any, int, error) {
	if site.night.Busy() {
		return nil, 0, busy("the server is busy; nothing was stored — key the copy again in a moment")
	}
	body, err := readBody(r, "keying", maxHotlineBytes)
	if err != nil {
		return nil, 0, err
	}
	var req hotlineEntryRequest
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil || len(req.Report) == 0 {
		return nil, 0, errorf(http.StatusBadRequest, "bad_keying", `send {"precinct_id", "verified_by": "pin" | "callback", "pin", "report"} as JSON`)
	}
	p, ok := site.def.FindPrecinct(req.PrecinctID)
	if !ok {
		return nil, 0, errorf(http.StatusBadRequest, "unknown_precinct", "no precinct %q in this election", req.PrecinctID)
	}
	rep, err := decodeKeyedReport(req.Report, p.ID)
	if err != nil {
		return nil, 0, err
	}
	ctx, cancel := context.WithTimeout(r.Context(), submitTimeout)
	defer cancel()
	res, err := s.hotline.Key(ctx, hotline.Keying{PrecinctID: p.ID, Operator: sess.Username, VerifiedBy: req.VerifiedBy,
		PIN: req.PIN, Client: s.clientAddr(r), Report: rep})
	if err != nil {
		return nil, 0, s.hotlineError(r, err)
	}
	switch res.State {
	case hotline.StateRefused:
		return res, http.StatusUnprocessableEntity, nil
	case hotline.StateMatched:
		site.count("hotline_matched")
		return res, http.StatusCreated, nil
	}
	return res, http.StatusOK, nil
}

// decodeKeyedReport reads the report of a keying. The console need not invent a report_id (the
// round's report gets its own) nor repeat the precinct: both are filled in when missing.
func decodeKeyedReport(raw json.RawMessage, precinctID string) (report.Report, error) {
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(raw, &keys); err != nil || keys == nil {
		return report.Report{}, errorf(http.StatusBadRequest, "bad_report", "report must be a JSON object")
	}
	b := bytes.TrimSpace(raw)
	var pre []string
	if _, ok := keys["report_id"]; !ok {
		pre = append(pre, `"report_id":"hotline-copy"`)
	}
	if _, ok := keys["precinct_id"]; !ok {
		pid, _ := json.Marshal(precinctID)
		pre = append(pre, `"precinct_id":`+string(pid))
	}
	if len(pre) > 0 {
		sep := ","
		if len(keys) == 0 {
			sep = ""
		}
		b = append([]byte("{"+strings.Join(pre, ",")+sep), b[1:]...)
	}
	rep, err := report.Decode(b)
	var se *report.SyntaxError
	var ie *report.InvalidError
	switch {
	case errors.As(err, &se):
		return report.Report{}, errorf(http.StatusBadRequest, "bad_report", "%s", se.Msg)
	case errors.As(err, &ie):
		return report.Report{}, errorf(http.StatusUnprocessableEntity, "invalid_report", "%s", ie.Check.Message)
	case err != nil:
		return report.Report{}, err
	}
	return rep, nil
}

// hotlineError maps the desk's refusals to statuses.
func (s *Server) hotlineError(r *http.Request, err error) error {
	var autherr *auth.Error
	switch {
	case errors.Is(err, hotline.ErrSameOperator):
		return errorf(http.StatusForbidden, "same_operator", "%s", err.Error())
	case errors.Is(err, hotline.ErrNotVerified):
		return errorf(http.StatusForbidden, "not_verified", "%s", err.Error())
	case errors.Is(err, hotline.ErrBadKeying):
		return errorf(http.StatusBadRequest, "bad_keying", "%s", err.Error())
	case errors.As(err, &autherr) && autherr.Code == auth.CodeBadCredentials:
		// The caller's PIN, not the operator's session: not a 401, which would log the
		// console out.
		return errorf(http.StatusForbidden, "wrong_pin", "the PIN is not this precinct's: ask the caller to read it again, or call back the number on file")
	case errors.As(err, &autherr):
		return err
	case errors.Is(err, intake.ErrBusy), errors.Is(err, intake.ErrClosed), errors.Is(err, context.DeadlineExceeded):
		return busy("the server is busy; key the copy again in a moment")
	}
	s.log.ErrorContext(r.Context(), "hotline keying failed", slog.String("request_id", requestID(r)), slog.Any("err", err))
	return err
}

// handleHotlinePrecinct is what an operator sees before keying: the report the precinct
// counts already (by the app, say) and its open round, never another operator's numbers.
func (s *Server) handleHotlinePrecinct(site *Site, sess auth.Session, _ http.Header, r *http.Request) (any, int, error) {
	p, ok := site.def.FindPrecinct(r.PathValue("precinct_id"))
	if !ok {
		return nil, 0, errorf(http.StatusNotFound, "not_found", "no precinct %q in this election", r.PathValue("precinct_id"))
	}
	v, err := s.hotline.Precinct(r.Context(), p.ID, sess.Username)
	if err != nil {
		return nil, 0, s.hotlineError(r, err)
	}
	return v, http.StatusOK, nil
}

// queuedCallback is one request of the queue as operators see it: the number on file is
// shown to staff only.
type queuedCallback struct {
	ID           int64  `json:"callback_id"`
	PrecinctID   string `json:"precinct_id"`
	PrecinctName string `json:"precinct_name"`
	CountyID     string `json:"county_id"`
	Phone        string `json:"phone"`
	Note         string `json:"note"`
	At           string `json:"at"`
	WaitSeconds  int64  `json:"wait_seconds"`
	State        string `json:"state"`
	Operator     string `json:"operator,omitempty"`
	ClaimedAt    string `json:"claimed_at,omitempty"`
	Attempts     int    `json:"attempts"`
	Outcome      string `json:"last_outcome,omitempty"`
	OutcomeNote  string `json:"last_note,omitempty"`
}

func (s *Server) queued(site *Site, c store.CallbackState) queuedCallback {
	q := queuedCallback{ID: c.ID, PrecinctID: c.PrecinctID, Phone: c.Phone, Note: c.Callback.Note,
		At: c.At.UTC().Format(time.RFC3339), WaitSeconds: int64(max(0, s.now().Sub(c.At)) / time.Second),
		State: c.State, Operator: c.Operator, Attempts: c.Attempts, Outcome: c.Outcome, OutcomeNote: c.OutcomeNote}
	if !c.ClaimedAt.IsZero() && c.State == store.CallbackClaimed {
		q.ClaimedAt = c.ClaimedAt.UTC().Format(time.RFC3339)
	} else if c.State == store.CallbackWaiting {
		q.Operator = ""
	}
	if p, ok := site.def.Precinct(c.PrecinctID); ok {
		q.PrecinctName, q.CountyID = p.Name, p.CountyID
	}
	return q
}

// handleCallbackQueue lists the call-back requests still to work, oldest first.
func (s *Server) handleCallbackQueue(site *Site, _ auth.Session, _ http.Header, r *http.Request) (any, int, error) {
	q, err := s.hotline.Queue(r.Context())
	if err != nil {
		return nil, 0, err
	}
	out := make([]queuedCallback, len(q))
	for i, c := range q {
		out[i] = s.queued(site, c)
	}
	return map[string]any{"callbacks": out}, http.StatusOK, nil
}

func callbackID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, errorf(http.StatusNotFound, "not_found", "no call-back request %q", r.PathValue("id"))
	}
	return id, nil
}

func callbackWorkError(err error) error {
	switch {
	case errors.Is(err, store.ErrNotFound):
		return errorf(http.StatusNotFound, "not_found", "no such call-back request")
	case errors.Is(err, store.ErrConflict):
		msg := err.Error()
		if i := strings.LastIndex(msg, "call-back "); i >= 0 {
			msg = msg[i:]
		}
		return errorf(http.StatusConflict, "taken", "%s", msg)
	case errors.Is(err, store.ErrInvalid):
		return errorf(http.StatusBadRequest, "bad_outcome", `outcome must be "reported", "no_answer" or "wrong_number", and the note at most 500 characters`)
	}
	return err
}

// handleCallbackClaim takes a request for this operator: 409 when another operator has it.
func (s *Server) handleCallbackClaim(site *Site, sess auth.Session, _ http.Header, r *http.Request) (any, int, error) {
	id, err := callbackID(r)
	if err != nil {
		return nil, 0, err
	}
	st, err := s.hotline.Claim(r.Context(), id, sess.Username)
	if err != nil {
		return nil, 0, callbackWorkError(err)
	}
	return s.queued(site, st), http.StatusOK, nil
}

// handleCallbackOutcome records what came of the operator's call.
func (s *Server) handleCallbackOutcome(site *Site, sess auth.Session, _ http.Header, r *http.Request) (any, int, error) {
	id, err := callbackID(r)
	if err != nil {
		return nil, 0, err
	}
	var req struct {
		Outcome string `json:"outcome"`
		Note    string `json:"note"`
	}
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return nil, 0, errorf(http.StatusBadRequest, "bad_outcome", `send {"outcome": "reported" | "no_answer" | "wrong_number", "note"} as JSON`)
	}
	if err := checkNote(strings.TrimSpace(req.Note)); err != nil {
		return nil, 0, errorf(http.StatusBadRequest, "bad_note", "%s", err.Error())
	}
	st, err := s.hotline.Outcome(r.Context(), id, sess.Username, req.Outcome, strings.TrimSpace(req.Note))
	if err != nil {
		return nil, 0, callbackWorkError(err)
	}
	return s.queued(site, st), http.StatusOK, nil
}

// handleHotlineStats is the board's hotline figures (hotline.Desk.Stats).
func (s *Server) handleHotlineStats(_ *Site, _ auth.Session, _ http.Header, r *http.Request) (any, int, error) {
	st, err := s.hotline.Stats(r.Context())
	if err != nil {
		return nil, 0, err
	}
	return st, http.StatusOK, nil
}

// handleMyCallbacks is a chair's call-back requests and what headquarters is doing about them
// (waiting with the place in the queue, being called, done), for the app to show.
func (s *Server) handleMyCallbacks(_ *Site, _ http.Header, r *http.Request) (any, int, error) {
	sess, err := s.session(r)
	if err != nil {
		return nil, 0, err
	}
	if sess.Role != auth.RoleChair {
		return nil, 0, errorf(http.StatusForbidden, "forbidden", "a chair's own call-backs: log in as the precinct's chair")
	}
	mine, err := s.hotline.Mine(r.Context(), sess.PrecinctID)
	if err != nil {
		return nil, 0, err
	}
	return map[string]any{"precinct_id": sess.PrecinctID, "callbacks": mine}, http.StatusOK, nil
}
