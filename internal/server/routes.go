package server

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"caucus/internal/report"
)

// Handler is every route of the server, wrapped in the common middleware.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	// Logins are the election's: the practice twin takes the same credentials. Its route
	// counts a PIN against the practice budget (auth.LoginPracticePIN).
	mux.HandleFunc("POST /api/v1/login", s.onMain(s.serveJSON(maxLoginBytes, s.handleLogin(false))))
	if s.practice != nil {
		mux.HandleFunc("POST /practice/api/v1/login", s.onSite(s.practice, s.serveJSON(maxLoginBytes, s.handleLogin(true))))
	}
	mux.HandleFunc("POST /api/v1/logout", s.onMain(s.serveJSON(0, s.handleLogout)))
	for _, site := range s.sites() {
		p := site.prefix()
		mux.HandleFunc("POST "+p+"/api/v1/reports", s.onSite(site, s.serveJSON(report.MaxBytes, s.handleReport)))
		mux.HandleFunc("GET "+p+"/api/v1/results", s.onSite(site, s.handleResults))
		mux.HandleFunc("GET "+p+"/api/v1/results/counties", s.onSite(site, s.handleCounties))
		mux.HandleFunc("GET "+p+"/api/v1/results/counties/{county_id}", s.onSite(site, s.handleCounty))
		mux.HandleFunc("GET "+p+"/api/v1/results/precincts/{precinct_id}", s.onSite(site, s.handlePrecinct))
		mux.HandleFunc("GET "+p+"/api/v1/results.csv", s.onSite(site, s.handleCSV))
		mux.HandleFunc("GET "+p+"/api/v1/events", s.onSite(site, s.handleEvents))
		// Each site's certifications (the practice twin's: none, but caucus verify asks
		// every site the same questions).
		mux.HandleFunc("GET "+p+"/api/v1/certifications", s.onSite(site, s.serveJSON(0, s.handleCertifications)))
		mux.HandleFunc("GET "+p+"/api/v1/certifications/{log_index}/results.csv", s.onSite(site, s.handleCertifiedCSV))
		s.routeLog(mux, site)
	}
	s.staffLoginRoutes(mux)
	s.staffAdminRoutes(mux)
	s.reviewRoutes(mux)
	s.certifyRoutes(mux)
	s.auditRoutes(mux)
	s.webRoutes(mux)
	s.pageRoutes(mux)
	s.hqRoutes(mux)
	s.hotlineRoutes(mux)
	mux.HandleFunc("GET /healthz", s.onMain(s.serveJSON(0, s.handleHealth)))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.writeError(w, r, errorf(http.StatusNotFound, "not_found", "no such page: %s %s", r.Method, r.URL.Path))
	})
	return s.wrap(mux)
}

// MetricsHandler serves the Prometheus metrics (GET /metrics). It is not among Handler's
// routes: the series name routes, outcomes and the process's memory, which are for the
// operators, so caucus serve puts them on a listener of their own (--metrics-addr) that only
// they can reach.
func (s *Server) MetricsHandler() http.Handler {
	prom := promhttp.HandlerFor(s.metrics.reg, promhttp.HandlerOpts{})
	mux := http.NewServeMux()
	mux.HandleFunc("GET /metrics", func(w http.ResponseWriter, r *http.Request) {
		securityHeaders(w.Header())
		w.Header()["Cache-Control"] = hdrNoStore
		prom.ServeHTTP(w, r)
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		securityHeaders(w.Header())
		s.writeError(w, r, errorf(http.StatusNotFound, "not_found", "no such page: %s %s (only GET /metrics here)", r.Method, r.URL.Path))
	})
	return mux
}

// prefix is where the site's routes live: "" for the election, "/practice" for its practice twin.
func (site *Site) prefix() string {
	if site.def.Election().Practice {
		return "/practice"
	}
	return ""
}

// onSite binds a handler to a site and marks practice responses.
func (s *Server) onSite(site *Site, h func(*Site, http.ResponseWriter, *http.Request)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if site.practice {
			w.Header().Set("Caucus-Election", "PRACTICE")
		}
		h(site, w, r)
	}
}

// onMain binds a handler that is not one site's (logins, health) to the election's site.
func (s *Server) onMain(h func(*Site, http.ResponseWriter, *http.Request)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) { h(s.main, w, r) }
}
