package server

import (
	"net/http"
	"strings"
)

// resultsCacheControl lets a CDN serve results for a second and keep serving the last copy
// for a few more while it fetches a new one: results change live, so a short freshness.
const resultsCacheControl = "public, max-age=1, stale-while-revalidate=5"

// serveBytes writes pre-rendered results with their ETag, answering 304 to a matching
// If-None-Match.
func serveBytes(w http.ResponseWriter, r *http.Request, contentType string, body []byte, etag string) {
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("Cache-Control", resultsCacheControl)
	h.Set("ETag", etag)
	if match := r.Header.Get("If-None-Match"); match != "" {
		for _, m := range strings.Split(match, ",") {
			if strings.TrimSpace(m) == etag || strings.TrimSpace(m) == "*" {
				w.WriteHeader(http.StatusNotModified)
				return
			}
		}
	}
	w.Write(body)
}

const jsonType = "application/json; charset=utf-8"

func (s *Server) handleResults(site *Site, w http.ResponseWriter, r *http.Request) {
	b, etag := site.Snapshot().Results()
	serveBytes(w, r, jsonType, b, etag)
}

func (s *Server) handleCounties(site *Site, w http.ResponseWriter, r *http.Request) {
	b, etag := site.Snapshot().Counties()
	serveBytes(w, r, jsonType, b, etag)
}

func (s *Server) handleCounty(site *Site, w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("county_id")
	b, etag, ok := site.Snapshot().County(id)
	if !ok {
		s.writeError(w, r, errorf(http.StatusNotFound, "not_found", "county %q is not in this election", id))
		return
	}
	serveBytes(w, r, jsonType, b, etag)
}

func (s *Server) handlePrecinct(site *Site, w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("precinct_id")
	b, etag, ok := site.Snapshot().Precinct(id)
	if !ok {
		s.writeError(w, r, errorf(http.StatusNotFound, "not_found", "precinct %q is not in this election", id))
		return
	}
	serveBytes(w, r, jsonType, b, etag)
}

func (s *Server) handleCSV(site *Site, w http.ResponseWriter, r *http.Request) {
	b, etag := site.Snapshot().CSV()
	w.Header().Set("Content-Disposition", `attachment; filename="results.csv"`)
	serveBytes(w, r, "text/csv; charset=utf-8", b, etag)
}

func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) {
	out := map[string]any{"status": "ok"}
	for _, site := range s.sites() {
		out[site.def.Election().ID] = map[string]any{"log_size": site.Snapshot().LogSize()}
	}
	writeJSON(w, http.StatusOK, out)
}
