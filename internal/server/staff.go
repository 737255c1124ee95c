package server

import (
	"net/http"
	"net/url"
	"slices"
	"strings"

	"caucus/internal/auth"
	"caucus/internal/store"
)

// StaffCookie is the headquarters pages' session cookie. The __Host- prefix makes the browser
// refuse it unless it is Secure, has no Domain and has Path=/ (RFC 6265bis): no subdomain can
// set or read it.
const StaffCookie = "__Host-caucus-staff"

// Role sets for the headquarters routes (interfaces.md, "Headquarters"). A route names the
// roles it admits; every other session, and no session, is refused.
var (
	rolesStaff     = []auth.Role{auth.RoleAdmin, auth.RoleReviewer, auth.RoleOperator, auth.RoleCertifier, auth.RoleObserver}
	rolesReviewers = []auth.Role{auth.RoleReviewer, auth.RoleAdmin, auth.RoleObserver} // reads of the review queue
	rolesReview    = []auth.Role{auth.RoleReviewer}                                    // review decisions
	rolesOperator  = []auth.Role{auth.RoleOperator}
	rolesCertifier = []auth.Role{auth.RoleCertifier}
	rolesAdmin     = []auth.Role{auth.RoleAdmin}
)

// staffWork is a headquarters JSON handler's work, given the request's staff session.
type staffWork func(site *Site, sess auth.Session, h http.Header, r *http.Request) (v any, status int, err error)

// staffToken is the request's session token: the Authorization Bearer header (scripts) or
// else the staff cookie (the pages).
func staffToken(r *http.Request) string {
	if t, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		return t
	}
	if c, err := r.Cookie(StaffCookie); err == nil {
		return c.Value
	}
	return ""
}

// staffSession authenticates a headquarters request and admits it when its session's role is
// among roles: 401 without a valid session, 403 (audited as forbidden) for another role, with
// the session all the same, so that the refusal's audit rows name who was refused.
func (s *Server) staffSession(site *Site, r *http.Request, roles []auth.Role) (auth.Session, error) {
	token := staffToken(r)
	if token == "" {
		return auth.Session{}, errorf(http.StatusUnauthorized, auth.CodeUnauthenticated, "log in to headquarters first")
	}
	sess, err := s.auth.Authenticate(r.Context(), token)
	if err != nil {
		return auth.Session{}, err
	}
	if !slices.Contains(roles, sess.Role) {
		s.audit(r.Context(), site, actorOf(sess), store.AuditForbidden, "", map[string]any{
			"route": r.Method + " " + r.URL.Path, "role": string(sess.Role), "addr": s.clientAddr(r).String()})
		return sess, errorf(http.StatusForbidden, "forbidden", "your role (%s) may not do this", sess.Role)
	}
	return sess, nil
}

// staffJSON is serveJSON for a headquarters route: it admits the roles given (staffSession),
// then runs the work. A request that changes state (any method but GET and HEAD) leaves exactly
// one staff_action audit row, allowed or refused, with its outcome.
func (s *Server) staffJSON(maxBody int64, roles []auth.Role, work staffWork) func(*Site, http.ResponseWriter, *http.Request) {
	return s.serveJSON(maxBody, func(site *Site, h http.Header, r *http.Request) (any, int, error) {
		sess, err := s.staffSession(site, r, roles)
		var v any
		status := 0
		if err == nil {
			v, status, err = work(site, sess, h, r)
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			outcome := status
			if err != nil {
				outcome = statusOf(err)
			}
			s.audit(r.Context(), site, actorOf(sess), store.AuditStaffAction, r.PathValue("precinct_id"), map[string]any{
				"route": r.Method + " " + r.URL.Path, "status": outcome, "addr": s.clientAddr(r).String()})
		}
		return v, status, err
	})
}

// actorOf names a session in the audit log: the staff username, the chair's precinct, or
// "anonymous" for no session.
func actorOf(sess auth.Session) string {
	switch {
	case sess.Username != "":
		return sess.Username
	case sess.PrecinctID != "":
		return "chair:" + sess.PrecinctID
	}
	return "anonymous"
}

// staffPage admits a headquarters page's request like staffSession. A browser without a staff
// session is sent to the login page, which sends it back to this path; another role gets the
// 403. false means the answer is written.
func (s *Server) staffPage(site *Site, w http.ResponseWriter, r *http.Request, roles []auth.Role) (auth.Session, bool) {
	sess, err := s.staffSession(site, r, roles)
	switch {
	case err == nil:
		return sess, true
	case statusOf(err) == http.StatusUnauthorized:
		w.Header().Set("Cache-Control", "no-store")
		http.Redirect(w, r, "/hq/login?next="+url.QueryEscape(r.URL.Path), http.StatusSeeOther)
	default:
		s.writeError(w, r, err)
	}
	return auth.Session{}, false
}
