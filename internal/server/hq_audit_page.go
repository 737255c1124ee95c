package server

import (
	"encoding/json"
	"errors"
	"net/http"

	"caucus/internal/auth"
	"caucus/web"
)

// rolesAuditPage may open the hand-count page: operators key, the admin starts the audit, an
// observer watches.
var rolesAuditPage = []auth.Role{auth.RoleOperator, auth.RoleAdmin, auth.RoleObserver}

// auditPageView is the data of web/templates/hq_audit.html.
type auditPageView struct {
	Election, User, Role string
	CanKey, CanStart     bool
	Candidates           string // JSON: [{id, name}] in ballot order
}

// handleAuditPage is GET /hq/audit, headquarters' entry of the audit's hand counts. Without a
// session the browser goes to the login page, which sends it back here.
func (s *Server) handleAuditPage(assets *web.Assets) func(*Site, http.ResponseWriter, *http.Request) {
	return func(site *Site, w http.ResponseWriter, r *http.Request) {
		sess, ok := s.staffPage(site, w, r, rolesAuditPage)
		if !ok {
			return
		}
		e := site.def.Election()
		cands := make([]candidateInfo, 0, len(e.Candidates))
		for _, c := range e.Candidates {
			cands = append(cands, candidateInfo{c.ID, c.Name})
		}
		cj, _ := json.Marshal(cands)
		b, err := assets.Render("hq_audit.html", auditPageView{Election: e.Name, User: sess.Username, Role: string(sess.Role),
			CanKey: sess.Role == auth.RoleOperator, CanStart: sess.Role == auth.RoleAdmin, Candidates: string(cj)})
		if err != nil {
			s.writeError(w, r, errors.Join(errors.New("render the audit page"), err))
			return
		}
		h := w.Header()
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Cache-Control", "no-store")
		w.Write(b)
	}
}
