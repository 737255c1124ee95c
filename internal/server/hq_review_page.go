package server

import (
	"encoding/json"
	"errors"
	"net/http"

	"caucus/internal/auth"
	"caucus/web"
)

// reviewPageView is the data of web/templates/hq_review.html: who is looking, whether they may
// decide, and the election's candidates for the correction form. Everything else the page
// reads from the review API with the same session.
type reviewPageView struct {
	Election, User, Role string
	ReadOnly             bool
	Candidates           string // JSON: [{id, name}] in ballot order
}

// handleReviewPage is GET /hq/review, headquarters' review queue: for the staff session's
// cookie of a reviewer (who decides), an admin or an observer (who read). Without a session the
// browser goes to the login page, which sends it back here.
func (s *Server) handleReviewPage(assets *web.Assets) func(*Site, http.ResponseWriter, *http.Request) {
	return func(site *Site, w http.ResponseWriter, r *http.Request) {
		sess, ok := s.staffPage(site, w, r, rolesReviewers)
		if !ok {
			return
		}
		e := site.def.Election()
		cands := make([]candidateInfo, 0, len(e.Candidates))
		for _, c := range e.Candidates {
			cands = append(cands, candidateInfo{c.ID, c.Name})
		}
		cj, _ := json.Marshal(cands)
		b, err := assets.Render("hq_review.html", reviewPageView{Election: e.Name, User: sess.Username, Role: string(sess.Role),
			ReadOnly: sess.Role != auth.RoleReviewer, Candidates: string(cj)})
		if err != nil {
			s.writeError(w, r, errors.Join(errors.New("render the review page"), err))
			return
		}
		h := w.Header()
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Cache-Control", "no-store")
		w.Write(b)
	}
}
