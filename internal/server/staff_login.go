package server

import (
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"caucus/internal/auth"
	"caucus/internal/store"
	"caucus/web"
)

// The staff login and session routes (interfaces.md, "Headquarters"): a login sets the
// __Host- cookie the headquarters pages use and returns the same token for scripts (Bearer).
func (s *Server) staffLoginRoutes(mux *http.ServeMux) {
	mux.HandleFunc("POST /api/v1/staff/login", s.onMain(s.serveJSON(maxLoginBytes, s.handleStaffLogin)))
	mux.HandleFunc("POST /api/v1/staff/logout", s.onMain(s.staffJSON(0, rolesStaff, s.handleStaffLogout)))
	mux.HandleFunc("GET /api/v1/staff/me", s.onMain(s.staffJSON(0, rolesStaff, s.handleStaffMe)))
	mux.HandleFunc("POST /api/v1/staff/password", s.onMain(s.staffJSON(maxLoginBytes, rolesStaff, s.handleStaffPassword)))
	mux.HandleFunc("GET /hq/login", s.hqLoginPage())
}

// hqLoginCSP is the login page's policy: its script and style are files of this origin, no
// inline block at all, and it posts only to this origin.
const hqLoginCSP = "default-src 'self'; script-src 'self'; style-src 'self'; object-src 'none'; base-uri 'none'; " +
	"form-action 'self'; frame-ancestors 'none'"

// hqLoginPage serves the headquarters login page (web/templates/hq_login.html), rendered once.
func (s *Server) hqLoginPage() http.HandlerFunc {
	assets, err := web.Load()
	if err != nil {
		panic(err) // embedded files: a broken build, caught by the tests
	}
	b, err := assets.Render("hq_login.html", map[string]any{"ElectionName": s.main.def.Election().Name})
	if err != nil {
		panic(err)
	}
	return func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", hqLoginCSP)
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Cache-Control", "no-cache")
		w.Write(b)
	}
}

type staffLoginRequest struct {
	User     string `json:"user"`
	Password string `json:"password"`
	OTP      string `json:"otp"`
}

// handleStaffLogin logs a staff member in: a new session (a new token) at every login, in the
// cookie and in the answer {token, role, expires_at}.
func (s *Server) handleStaffLogin(site *Site, h http.Header, r *http.Request) (any, int, error) {
	var req staffLoginRequest
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return nil, 0, errorf(http.StatusBadRequest, "bad_login", `send {"user", "password", "otp"} as JSON`)
	}
	sess, tok, err := s.loginStaff(r, req.User, req.Password, req.OTP, "/api/v1/staff/login")
	if err != nil {
		return nil, 0, err
	}
	h.Add("Set-Cookie", staffCookie(tok.Reveal(), sess.Expires, s.now()).String())
	return map[string]any{"token": tok.Reveal(), "role": sess.Role, "user": sess.Username,
		"expires_at": sess.Expires.UTC().Format(time.RFC3339)}, http.StatusOK, nil
}

// loginStaff checks a staff login and audits it: one row for each attempt that was checked
// (login_ok or login_failed: who, from where, the route, the outcome). Attempts refused before
// any check (the account's back-off, a full hashing lane, a name too long) are counted by
// auth, aggregated per minute and address like the chairs', so that hammering a login costs
// bounded disk. No password, code or token is ever in a row.
func (s *Server) loginStaff(r *http.Request, user, password, otp, route string) (auth.Session, auth.SessionToken, error) {
	addr := s.clientAddr(r)
	sess, tok, err := s.auth.LoginStaff(r.Context(), user, auth.NewPassword(password), otp, addr)
	actor := user
	if auth.ValidUsername(user) != nil {
		actor = "invalid-username" // not a name any account can have: not stored as typed
	}
	detail := map[string]any{"addr": addr.String(), "route": route}
	switch {
	case err == nil:
		s.metrics.logins.WithLabelValues("ok").Inc()
		detail["role"] = string(sess.Role)
		s.audit(r.Context(), s.main, actor, store.AuditLoginOK, "", detail)
	case errors.Is(err, auth.ErrBadCredentials):
		s.metrics.logins.WithLabelValues("failed").Inc()
		detail["outcome"] = statusOf(err)
		s.audit(r.Context(), s.main, actor, store.AuditLoginFailed, "", detail)
	case errors.Is(err, auth.ErrThrottled):
		s.metrics.logins.WithLabelValues("throttled").Inc()
	case errors.Is(err, auth.ErrBusy):
		s.metrics.logins.WithLabelValues("shed").Inc()
	default:
		s.metrics.logins.WithLabelValues("failed").Inc()
	}
	return sess, tok, err
}

// staffCookie is the session cookie: __Host- (Secure, Path=/, no Domain), HttpOnly so no
// script reads it, SameSite=Strict so no other site's page sends it; it lasts as long as the
// session's absolute expiry. An empty token clears it.
func staffCookie(token string, expires, now time.Time) *http.Cookie {
	c := &http.Cookie{Name: StaffCookie, Value: token, Path: "/", Secure: true, HttpOnly: true,
		SameSite: http.SameSiteStrictMode}
	if token == "" {
		c.MaxAge = -1
		return c
	}
	c.MaxAge = max(int(expires.Sub(now)/time.Second), 1)
	return c
}

// handleStaffLogout ends the request's session (Bearer or cookie) and clears the cookie.
func (s *Server) handleStaffLogout(_ *Site, _ auth.Session, h http.Header, r *http.Request) (any, int, error) {
	if err := s.auth.Logout(r.Context(), staffToken(r)); err != nil {
		return nil, 0, err
	}
	h.Add("Set-Cookie", staffCookie("", time.Time{}, s.now()).String())
	return map[string]any{"logged_out": true}, http.StatusOK, nil
}

// handleStaffMe says who the session is and when it ends: expires_at absolutely,
// idle_expires_at if not used again before.
func (s *Server) handleStaffMe(_ *Site, sess auth.Session, _ http.Header, _ *http.Request) (any, int, error) {
	return map[string]any{"user": sess.Username, "role": sess.Role,
		"expires_at":      sess.Expires.UTC().Format(time.RFC3339),
		"idle_expires_at": sess.IdleExpires().UTC().Format(time.RFC3339)}, http.StatusOK, nil
}

type staffPasswordRequest struct {
	Current string `json:"current"`
	New     string `json:"new"`
	OTP     string `json:"otp"`
}

// handleStaffPassword lets a staff member replace the one-time password they were given by one
// of their own (at least auth.MinPasswordLen characters); every session of the account ends,
// this one too, and the cookie is cleared: the next step is to log in with the new password.
func (s *Server) handleStaffPassword(_ *Site, sess auth.Session, h http.Header, r *http.Request) (any, int, error) {
	var req staffPasswordRequest
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return nil, 0, errorf(http.StatusBadRequest, "bad_request", `send {"current", "new", "otp"} as JSON`)
	}
	by := auth.Actor{Name: sess.Username, From: s.clientAddr(r).String(), Reason: "own password"}
	if err := s.auth.ChangeStaffPassword(r.Context(), by, sess.Username, auth.NewPassword(req.Current),
		auth.NewPassword(req.New), req.OTP, s.clientAddr(r)); err != nil {
		return nil, 0, err
	}
	h.Add("Set-Cookie", staffCookie("", time.Time{}, s.now()).String())
	return map[string]any{"changed": true}, http.StatusOK, nil
}
