package server

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"

	"caucus/internal/auth"
	"caucus/internal/results"
	"caucus/internal/tally"
	"caucus/web"
)

// certified is one certification and the results at its checkpoint, for its CSV and its page.
type certified struct {
	cert   results.Certification
	snap   *tally.Snapshot
	county string // "" for the state
	csv    []byte
}

// certifyPageView is the data of web/templates/hq_certify.html: who is looking and whether
// they may certify. The page reads the board from GET /api/v1/hq/certify with the same session.
type certifyPageView struct {
	Election, User, Role string
	ReadOnly             bool
}

// handleCertifyPage is GET /hq/certify, the certifier's page: per county, settled or what is
// unsettled; certify with the one-time code; withdraw. Without a session the browser goes to
// the login page, which sends it back here.
func (s *Server) handleCertifyPage(assets *web.Assets) func(*Site, http.ResponseWriter, *http.Request) {
	return func(site *Site, w http.ResponseWriter, r *http.Request) {
		sess, ok := s.staffPage(site, w, r, rolesCertifyRead)
		if !ok {
			return
		}
		b, err := assets.Render("hq_certify.html", certifyPageView{Election: site.def.Election().Name, User: sess.Username,
			Role: string(sess.Role), ReadOnly: sess.Role != auth.RoleCertifier})
		if err != nil {
			s.writeError(w, r, errors.Join(errors.New("render the certify page"), err))
			return
		}
		h := w.Header()
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Cache-Control", "no-store")
		w.Write(b)
	}
}

// certifiedPageView is the data of web/templates/certified.html.
type certifiedPageView struct {
	Election   string
	Cert       results.Certification
	ScopeName  string
	InForce    bool
	Candidates []results.Candidate
	Counties   []results.CountySummary // the state's
	Precincts  []results.PrecinctRow   // a county's
	Reporting  int
	Total      int
	CSV        string // its address
	PublicKey  string
}

// handleCertifiedPage is GET /certifications/{log_index}: the certified results as a page to
// print, stating the checkpoint they are computed at and how to check them.
func (s *Server) handleCertifiedPage(assets *web.Assets) func(*Site, http.ResponseWriter, *http.Request) {
	return func(site *Site, w http.ResponseWriter, r *http.Request) {
		c, err := s.certifiedAt(site, r)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		v := certifiedPageView{Election: site.def.Election().Name, Cert: c.cert, InForce: c.cert.InForce,
			CSV: "/api/v1/certifications/" + strconv.FormatInt(c.cert.LogIndex, 10) + "/results.csv", PublicKey: site.night.VerifierKey()}
		for _, now := range site.night.Certifications().Certifications {
			if now.LogIndex == c.cert.LogIndex {
				v.InForce = now.InForce
			}
		}
		if c.county == "" {
			v.ScopeName = "the state"
			var doc results.Results
			body, _ := c.snap.Results()
			var cs results.Counties
			cb, _ := c.snap.Counties()
			if err := errors.Join(json.Unmarshal(body, &doc), json.Unmarshal(cb, &cs)); err != nil {
				s.writeError(w, r, err)
				return
			}
			v.Candidates, v.Counties, v.Reporting, v.Total = doc.Candidates, cs.Counties, doc.PrecinctsReporting, doc.PrecinctsTotal
		} else {
			body, _, _ := c.snap.County(c.county)
			var doc results.County
			if err := json.Unmarshal(body, &doc); err != nil {
				s.writeError(w, r, err)
				return
			}
			v.ScopeName = doc.Name + " county"
			v.Candidates, v.Precincts, v.Reporting, v.Total = doc.Candidates, doc.Precincts, doc.PrecinctsReporting, doc.PrecinctsTotal
		}
		b, err := assets.Render("certified.html", v)
		if err != nil {
			s.writeError(w, r, errors.Join(errors.New("render the certified results"), err))
			return
		}
		h := w.Header()
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Cache-Control", "no-cache")
		w.Write(b)
	}
}
