package server

import (
	"net/http"

	"caucus/web"
)

// The headquarters board page (/hq): a page for staff sessions only, whose figures come from
// the board's event stream (web/static/hq.js). Without a session the browser is sent to the
// staff login page, /hq/login, which comes back here.

// hqPageData is what hq.html shows before the board arrives.
type hqPageData struct {
	ElectionName string
	User, Role   string
	Policy       string
	Map          hqMap
}

type hqMap struct {
	Show     bool
	ViewBox  string
	Counties []hqMapCounty
}

type hqMapCounty struct{ ID, Name, Href string }

func (s *Server) hqPageRoutes(mux *http.ServeMux) {
	assets, err := web.Load()
	if err != nil {
		panic(err) // embedded files: a broken build, caught by the tests
	}
	m := loadCountyMap(assets)
	var mp hqMap
	if m != nil {
		for _, c := range s.main.def.Counties() {
			if m.ids[c.ID] {
				mp.Counties = append(mp.Counties, hqMapCounty{ID: c.ID, Name: c.Name, Href: assets.URL(countyMapAsset) + "#" + c.ID})
			}
		}
		mp.Show, mp.ViewBox = len(mp.Counties) > 0, m.viewBox
	}
	mux.HandleFunc("GET /hq", s.onMain(func(site *Site, w http.ResponseWriter, r *http.Request) {
		sess, ok := s.staffPage(site, w, r, rolesStaff)
		if !ok {
			return
		}
		body, err := assets.Render("hq.html", hqPageData{ElectionName: site.def.Election().Name, User: sess.Username,
			Role: string(sess.Role), Policy: site.night.Policy().UnderReview, Map: mp})
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		h := w.Header()
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Cache-Control", "no-store")
		h.Set("Vary", "Cookie")
		w.Write(body)
	}))
}
