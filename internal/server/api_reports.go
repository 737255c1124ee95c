package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"caucus/internal/auth"
	"caucus/internal/intake"
	"caucus/internal/report"
	"caucus/internal/rules"
	"caucus/internal/store"
)

// submitTimeout bounds how long a submission waits for its commit. Past it the client gets 503
// and retries with the same report_id, which is always safe: the retry finds the report if the
// commit did happen (reliability.md D3).
const submitTimeout = 10 * time.Second

// maxLoginBytes bounds a login body: a precinct id and a PIN or token.
const maxLoginBytes = 4 << 10

// handleReport stores a chair's or an operator's report through the night and answers with
// its receipt (spec/interfaces.md POST /api/v1/reports).
func (s *Server) handleReport(site *Site, _ http.Header, r *http.Request) (any, int, error) {
	if site.night.Busy() { // shed before the session lookup and the body: the excess costs little
		site.count("busy")
		return nil, 0, busy("the server is busy; your report is not stored yet — retry with the same report_id")
	}
	sess, err := s.session(r)
	if err != nil {
		return nil, 0, err
	}
	body, err := readBody(r, "report", report.MaxBytes)
	if err != nil {
		return nil, 0, err
	}
	rep, err := report.Decode(body)
	var se *report.SyntaxError
	var ie *report.InvalidError
	switch {
	case errors.As(err, &se):
		return nil, 0, errorf(http.StatusBadRequest, "bad_report", "%s", se.Msg)
	case errors.As(err, &ie):
		site.count("rejected")
		return map[string]any{"error": ie.Check.Message, "checks": []rules.Check{ie.Check}}, http.StatusUnprocessableEntity, nil
	case err != nil:
		return nil, 0, err
	}
	if !sess.MaySubmit(rep.PrecinctID) {
		s.audit(r.Context(), site, submitterOf(sess), store.AuditForbidden, rep.PrecinctID, map[string]any{"route": "reports"})
		return nil, 0, errorf(http.StatusForbidden, "forbidden", "this login may not report for precinct %s", rep.PrecinctID)
	}
	if sess.Role == auth.RoleChair && rep.Channel != report.ChannelApp {
		return nil, 0, errorf(http.StatusBadRequest, "bad_report", "a chair reports through the app (channel \"app\")")
	}
	ctx, cancel := context.WithTimeout(r.Context(), submitTimeout)
	defer cancel()
	out, err := site.night.Submit(ctx, rep, intake.Submitter{ID: submitterOf(sess)})
	switch {
	case errors.Is(err, intake.ErrBusy), errors.Is(err, intake.ErrClosed), errors.Is(err, context.DeadlineExceeded):
		site.count("busy")
		return nil, 0, busy("the server is busy; your report is not stored yet — retry with the same report_id")
	case err != nil:
		site.count("error")
		s.log.ErrorContext(r.Context(), "submit failed", slog.String("request_id", requestID(r)), slog.Any("err", err))
		return nil, 0, busy("the report could not be stored; retry with the same report_id")
	}
	return s.outcome(site, out)
}

// outcome is the answer to a submission the night took (spec/interfaces.md: 201, 200, 409, 422).
func (s *Server) outcome(site *Site, out intake.Outcome) (any, int, error) {
	switch out.Kind {
	case intake.Stored:
		if out.Receipt.Status == string(store.StatusAccepted) {
			site.count("accepted")
		} else {
			site.count("flagged")
		}
		return out.Receipt, http.StatusCreated, nil
	case intake.Same:
		site.count("duplicate")
		if out.SameNumbers {
			// The same numbers under another report_id (reliability.md C4): the counted
			// report's receipt, with an informational note saying so.
			return sameNumbers{Receipt: out.Receipt, Info: []notice{{ID: "same_numbers", Severity: "info",
					Message: fmt.Sprintf("these numbers are already counted for this precinct as report %s; counted once", out.Receipt.ReportID)}}},
				http.StatusOK, nil
		}
		return out.Receipt, http.StatusOK, nil
	case intake.Conflict:
		site.count("conflict")
		return map[string]any{"error": "this precinct already has a different report; yours is kept and both go to review",
			"receipt": out.Receipt, "report_id": out.Receipt.ReportID, "log_index": out.Receipt.LogIndex,
			"leaf_hash": out.Receipt.LeafHash, "status": out.Receipt.Status, "checks": out.Checks}, http.StatusConflict, nil
	case intake.Reused:
		site.count("reused")
		return map[string]any{"error": "this report_id was already used for a different report; nothing was stored",
			"receipt": out.Receipt, "report_id": out.Receipt.ReportID, "log_index": out.Receipt.LogIndex,
			"leaf_hash": out.Receipt.LeafHash, "status": out.Receipt.Status, "checks": out.Checks}, http.StatusConflict, nil
	case intake.Refused:
		site.count("rejected")
		msg := out.Message
		if msg == "" {
			for _, c := range out.Checks {
				if c.Severity == rules.Error {
					msg = c.Message
					break
				}
			}
		}
		checks := out.Checks
		if checks == nil {
			checks = []rules.Check{}
		}
		return map[string]any{"error": msg, "checks": checks}, http.StatusUnprocessableEntity, nil
	}
	return nil, 0, fmt.Errorf("submission outcome %d has no answer", out.Kind)
}

// sameNumbers is the answer to a report whose numbers the precinct already counts under another
// report_id: the counted report's receipt, and info saying so.
type sameNumbers struct {
	*report.Receipt
	Info []notice `json:"info"`
}

// notice is an informational note: it flags nothing for review and refuses nothing.
type notice struct {
	ID       string `json:"id"`
	Severity string `json:"severity"`
	Message  string `json:"message"`
}

func (site *Site) count(outcome string) {
	if site.metrics == nil {
		return
	}
	c, ok := site.outcomes.Load(outcome)
	if !ok {
		c, _ = site.outcomes.LoadOrStore(outcome, site.metrics.reports.WithLabelValues(site.def.Election().ID, outcome))
	}
	c.(prometheus.Counter).Inc()
}

// session authenticates the request's bearer token.
func (s *Server) session(r *http.Request) (auth.Session, error) {
	h := r.Header.Get("Authorization")
	token, ok := strings.CutPrefix(h, "Bearer ")
	if !ok || token == "" {
		return auth.Session{}, errorf(http.StatusUnauthorized, auth.CodeUnauthenticated, "log in first: send Authorization: Bearer <token>")
	}
	return s.auth.Authenticate(r.Context(), token)
}

func submitterOf(sess auth.Session) string {
	if sess.Role == auth.RoleChair {
		return sess.PrecinctID
	}
	return sess.Username
}

type loginRequest struct {
	PrecinctID string `json:"precinct_id"`
	PIN        string `json:"pin"`
	Token      string `json:"token"`
	Username   string `json:"username"`
	Password   string `json:"password"`
	OTP        string `json:"otp"`
}

// handleLogin logs a chair in with precinct ID and PIN (or the QR code's token), or a staff
// member with username, password and (admin, certifier) otp, and returns a session token. practice is true on the
// practice site's route: a PIN then counts against the practice budget, at any time. Logins
// are the election's whichever route they come by: a success is audited in its store. The
// precinct may be typed loosely (election.Definition.FindPrecinct).
//
// Failed and refused logins are not audited here one row each: auth counts them and writes
// them aggregated (per minute, precinct, address group and reason), so that unauthenticated
// junk costs bounded disk. A login that succeeds is one audit row.
func (s *Server) handleLogin(practice bool) jsonWork {
	return func(site *Site, _ http.Header, r *http.Request) (any, int, error) {
		var req loginRequest
		dec := json.NewDecoder(r.Body)
		dec.DisallowUnknownFields()
		if err := dec.Decode(&req); err != nil {
			return nil, 0, errorf(http.StatusBadRequest, "bad_login", "send {\"precinct_id\", \"pin\"} as JSON")
		}
		// The precinct as the chair typed it ("Polk Des Moines 41", the packet's name) is the
		// precinct it names; what names none goes to auth as typed, which refuses it as any
		// unknown precinct.
		if p, ok := site.def.FindPrecinct(req.PrecinctID); ok && req.Username == "" {
			req.PrecinctID = p.ID
		}
		addr := s.clientAddr(r)
		var sess auth.Session
		var tok auth.SessionToken
		var err error
		if req.Username != "" {
			// A staff member, as on /api/v1/staff/login (audited there), without the cookie.
			if sess, tok, err = s.loginStaff(r, req.Username, req.Password, req.OTP, "/api/v1/login"); err != nil {
				return nil, 0, err
			}
			return map[string]any{"token": tok.Reveal(), "role": sess.Role, "precinct_id": sess.PrecinctID,
				"expires_at": sess.Expires.UTC().Format(time.RFC3339)}, http.StatusOK, nil
		}
		switch {
		case req.Token != "":
			sess, tok, err = s.auth.LoginToken(r.Context(), req.PrecinctID, req.Token, addr)
		case practice:
			sess, tok, err = s.auth.LoginPracticePIN(r.Context(), req.PrecinctID, req.PIN, addr)
		default:
			sess, tok, err = s.auth.LoginPIN(r.Context(), req.PrecinctID, req.PIN, addr)
		}
		if err != nil {
			result := "failed"
			switch {
			case errors.Is(err, auth.ErrThrottled) || errors.Is(err, auth.ErrPINClosed):
				result = "throttled"
			case errors.Is(err, auth.ErrBusy):
				result = "shed"
			}
			s.metrics.logins.WithLabelValues(result).Inc()
			return nil, 0, err
		}
		s.metrics.logins.WithLabelValues("ok").Inc()
		s.audit(r.Context(), s.main, sess.PrecinctID, store.AuditLoginOK, sess.PrecinctID, map[string]any{"addr": addr.String(), "role": string(sess.Role)})
		return map[string]any{"token": tok.Reveal(), "role": sess.Role, "precinct_id": sess.PrecinctID,
			"expires_at": sess.Expires.UTC().Format(time.RFC3339)}, http.StatusOK, nil
	}
}

func (s *Server) handleLogout(_ *Site, _ http.Header, r *http.Request) (any, int, error) {
	token, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if err := s.auth.Logout(r.Context(), token); err != nil {
		return nil, 0, err
	}
	return map[string]any{"logged_out": true}, http.StatusOK, nil
}

func (s *Server) audit(ctx context.Context, site *Site, actor string, kind store.AuditKind, precinct string, detail map[string]any) {
	b, _ := json.Marshal(detail)
	if actor == "" {
		actor = "anonymous"
	}
	if err := site.night.Audit(ctx, store.NewAudit{Actor: actor, Kind: kind, PrecinctID: precinct, Detail: b}); err != nil {
		s.log.ErrorContext(ctx, "audit row not written", slog.String("kind", string(kind)), slog.Any("err", err))
	}
}
