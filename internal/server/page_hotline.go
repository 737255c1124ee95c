package server

import (
	"net/http"

	"caucus/internal/auth"
	"caucus/web"
)

// hotlinePage serves the operators' console, /hq/hotline: the call-back queue, the caller's
// verification, the worksheet with the chair app's live math and check messages
// (POST /api/v1/calc, web/static/checks.js), the report the precinct counts already, and a
// mismatch field by field. It is for a logged-in operator: a browser without a staff session is
// sent to /hq/login, and comes back here after it.
func (s *Server) hotlinePage(mux *http.ServeMux) {
	assets, err := web.Load()
	if err != nil {
		panic(err) // embedded files: a broken build, caught by the tests
	}
	mux.HandleFunc("GET /hq/hotline", s.onMain(func(site *Site, w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h["Cache-Control"] = hdrNoStore
		sess, ok := s.staffPage(site, w, r, rolesOperator)
		if !ok {
			return
		}
		b, err := assets.Render("hotline.html", map[string]any{"User": sess.Username})
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Vary", "Cookie")
		w.Write(b)
	}))
}

// pageSession authenticates a request of the chair app (its Bearer token) or of a headquarters
// page (the staff cookie, when no Authorization header is sent): the math and the photo upload
// serve both.
func (s *Server) pageSession(r *http.Request) (auth.Session, error) {
	if c, err := r.Cookie(StaffCookie); err == nil && r.Header.Get("Authorization") == "" {
		return s.auth.Authenticate(r.Context(), c.Value)
	}
	return s.session(r)
}
