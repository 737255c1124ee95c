package server

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"caucus/internal/auth"
	"caucus/internal/store"
)

// rolesPINReset may reopen a precinct's PIN login or issue it a new PIN: the hotline's
// operators, who call the chair back on the number on file first, and admins.
var rolesPINReset = []auth.Role{auth.RoleOperator, auth.RoleAdmin}

// maxStaffBody bounds the small JSON bodies of the account and PIN routes.
const maxStaffBody = 4 << 10

// maxReason bounds a reason typed for the audit trail.
const maxReason = 500

// staffAdminRoutes are the admin's account routes and the PIN reopening routes.
func (s *Server) staffAdminRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/v1/hq/staff", s.onMain(s.staffJSON(0, rolesAdmin, s.handleStaffList)))
	mux.HandleFunc("POST /api/v1/hq/staff", s.onMain(s.staffJSON(maxStaffBody, rolesAdmin, s.handleStaffCreate)))
	mux.HandleFunc("POST /api/v1/hq/staff/{user}/disable", s.onMain(s.staffJSON(maxStaffBody, rolesAdmin, s.handleStaffDisable)))
	mux.HandleFunc("POST /api/v1/hq/staff/{user}/reset", s.onMain(s.staffJSON(maxStaffBody, rolesAdmin, s.handleStaffReset)))
	mux.HandleFunc("POST /api/v1/hq/precincts/{precinct_id}/reopen", s.onMain(s.staffJSON(maxStaffBody, rolesPINReset, s.handlePINReopen)))
	mux.HandleFunc("POST /api/v1/hq/precincts/{precinct_id}/new-pin", s.onMain(s.staffJSON(maxStaffBody, rolesPINReset, s.handleNewPIN)))
}

// decodeStaff reads a staff route's JSON body into v, refusing unknown fields.
func decodeStaff(r *http.Request, v any, shape string) error {
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return errorf(http.StatusBadRequest, "bad_request", "send %s as JSON", shape)
	}
	return nil
}

// reasonOf checks a reason: required when need is set, one line, at most maxReason characters.
func reasonOf(reason string, need bool) (string, error) {
	reason = strings.TrimSpace(reason)
	switch {
	case need && reason == "":
		return "", errorf(http.StatusBadRequest, "reason_required", "say why (reason), for the audit trail")
	case utf8.RuneCountInString(reason) > maxReason || strings.ContainsAny(reason, "\r\n"):
		return "", errorf(http.StatusBadRequest, "bad_reason", "a reason is one line of at most %d characters", maxReason)
	}
	return reason, nil
}

// staffAccountJSON is an account as listed: never a hash or a secret.
func staffAccountJSON(a auth.StaffAccount) map[string]any {
	return map[string]any{"user": a.Username, "role": a.Role, "disabled": a.Disabled,
		"second_factor": a.Role.NeedsOTP(), "created_at": a.Created.UTC().Format(time.RFC3339)}
}

func (s *Server) handleStaffList(_ *Site, _ auth.Session, _ http.Header, r *http.Request) (any, int, error) {
	l, err := s.auth.StaffAccounts(r.Context())
	if err != nil {
		return nil, 0, err
	}
	out := make([]map[string]any, len(l))
	for i, a := range l {
		out[i] = staffAccountJSON(a)
	}
	return map[string]any{"accounts": out}, http.StatusOK, nil
}

// newStaffJSON is the one answer that holds a password and a TOTP URI: to the admin who made
// or reset the account, once (no-store, like every staff answer).
func newStaffJSON(n auth.NewStaff) map[string]any {
	out := map[string]any{"user": n.Username, "role": n.Role, "password": n.Password.Reveal()}
	if uri := n.OTPURI(); uri != "" {
		out["otp_uri"] = uri
	}
	return out
}

// staffChangeError maps the account errors callers branch on to their statuses.
func staffChangeError(err error, user string) error {
	switch {
	case errors.Is(err, auth.ErrAccountExists):
		return errorf(http.StatusConflict, "account_exists", "there is already an account %q (disabled accounts keep their name)", user)
	case errors.Is(err, auth.ErrNotFound):
		return errorf(http.StatusNotFound, "not_found", "no enabled account %q", user)
	}
	return err
}

func (s *Server) actor(sess auth.Session, r *http.Request, reason string) auth.Actor {
	return auth.Actor{Name: sess.Username, From: s.clientAddr(r).String(), Reason: reason}
}

// handleStaffCreate makes an account {user, role}: 201 with its one-time password and, for
// admin and certifier, the otpauth:// URI of its second factor.
func (s *Server) handleStaffCreate(_ *Site, sess auth.Session, _ http.Header, r *http.Request) (any, int, error) {
	var req struct {
		User   string `json:"user"`
		Role   string `json:"role"`
		Reason string `json:"reason"`
	}
	if err := decodeStaff(r, &req, `{"user", "role"}`); err != nil {
		return nil, 0, err
	}
	reason, err := reasonOf(req.Reason, false)
	if err != nil {
		return nil, 0, err
	}
	n, err := s.auth.CreateStaff(r.Context(), s.actor(sess, r, reason), req.User, auth.Role(req.Role))
	if err != nil {
		return nil, 0, staffChangeError(err, req.User)
	}
	return newStaffJSON(n), http.StatusCreated, nil
}

// handleStaffDisable disables an account; its sessions end at once. An admin cannot disable
// their own account (so that the last admin is not locked out by a slip).
func (s *Server) handleStaffDisable(_ *Site, sess auth.Session, _ http.Header, r *http.Request) (any, int, error) {
	var req struct {
		Reason string `json:"reason"`
	}
	if err := decodeStaff(r, &req, `{"reason"}`); err != nil {
		return nil, 0, err
	}
	reason, err := reasonOf(req.Reason, false)
	if err != nil {
		return nil, 0, err
	}
	user := r.PathValue("user")
	if user == sess.Username {
		return nil, 0, errorf(http.StatusConflict, "own_account", "you cannot disable your own account: ask another admin")
	}
	n, err := s.auth.DisableStaff(r.Context(), s.actor(sess, r, reason), user)
	if err != nil {
		return nil, 0, staffChangeError(err, user)
	}
	return map[string]any{"user": user, "disabled": true, "sessions_ended": n}, http.StatusOK, nil
}

// handleStaffReset gives an account a new one-time password (and, for admin and certifier, a
// new second factor: a lost phone); its sessions end.
func (s *Server) handleStaffReset(_ *Site, sess auth.Session, _ http.Header, r *http.Request) (any, int, error) {
	var req struct {
		Reason string `json:"reason"`
	}
	if err := decodeStaff(r, &req, `{"reason"}`); err != nil {
		return nil, 0, err
	}
	reason, err := reasonOf(req.Reason, false)
	if err != nil {
		return nil, 0, err
	}
	user := r.PathValue("user")
	n, err := s.auth.ResetStaff(r.Context(), s.actor(sess, r, reason), user)
	if err != nil {
		return nil, 0, staffChangeError(err, user)
	}
	return newStaffJSON(n), http.StatusOK, nil
}

// pinReset reads a PIN route's request: the precinct (which must be the election's) and the
// reason, required.
func (s *Server) pinReset(site *Site, r *http.Request) (precinct, reason string, err error) {
	var req struct {
		Reason string `json:"reason"`
	}
	if err := decodeStaff(r, &req, `{"reason"}`); err != nil {
		return "", "", err
	}
	if reason, err = reasonOf(req.Reason, true); err != nil {
		return "", "", err
	}
	precinct = r.PathValue("precinct_id")
	if _, ok := site.def.Precinct(precinct); !ok {
		return "", "", errorf(http.StatusNotFound, "not_found", "no precinct %q in this election", precinct)
	}
	return precinct, reason, nil
}

// handlePINReopen reopens a precinct's PIN login closed by wrong guesses: its budget and
// back-off start again. The throttle_reset row says who, why and how many wrong PINs there had
// been.
func (s *Server) handlePINReopen(site *Site, sess auth.Session, _ http.Header, r *http.Request) (any, int, error) {
	precinct, reason, err := s.pinReset(site, r)
	if err != nil {
		return nil, 0, err
	}
	before, err := s.auth.ReopenPIN(r.Context(), precinct)
	if err != nil {
		return nil, 0, noCredential(err, precinct)
	}
	s.audit(r.Context(), site, sess.Username, store.AuditThrottleReset, precinct, map[string]any{
		"reason": reason, "wrong_pins": before, "new_pin": false, "addr": s.clientAddr(r).String()})
	return map[string]any{"precinct_id": precinct, "reopened": true, "wrong_pins": before}, http.StatusOK, nil
}

// handleNewPIN issues the precinct a new PIN, returned once (read it to the chair on the call
// back); the old PIN stops working and the budget starts again. The QR login link is kept.
func (s *Server) handleNewPIN(site *Site, sess auth.Session, _ http.Header, r *http.Request) (any, int, error) {
	precinct, reason, err := s.pinReset(site, r)
	if err != nil {
		return nil, 0, err
	}
	pin, before, err := s.auth.NewPIN(r.Context(), sess.Username, precinct)
	if err != nil {
		return nil, 0, noCredential(err, precinct)
	}
	s.audit(r.Context(), site, sess.Username, store.AuditThrottleReset, precinct, map[string]any{
		"reason": reason, "wrong_pins": before, "new_pin": true, "addr": s.clientAddr(r).String()})
	return map[string]any{"precinct_id": precinct, "pin": pin.Grouped(), "wrong_pins": before}, http.StatusOK, nil
}

// noCredential answers 404 for a precinct that has no credentials issued yet.
func noCredential(err error, precinct string) error {
	if errors.Is(err, auth.ErrNotFound) {
		return errorf(http.StatusNotFound, "not_found", "precinct %q has no credentials issued", precinct)
	}
	return err
}
