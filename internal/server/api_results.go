package server

import (
	"net/http"
	"strconv"
	"strings"
)

// resultsCacheControl lets a CDN serve results for a second and keep serving the last copy
// for a few more while it fetches a new one: results change live, so a short freshness.
const resultsCacheControl = "public, max-age=1, stale-while-revalidate=5"

// serveBytes writes pre-rendered results with their ETag, answering 304 to a matching
// If-None-Match, gzipped when the client takes it. Every results response names the log size it
// was computed from in the Caucus-Log-Size header (a county's document keeps its bytes while
// other counties change, so the size is not in its body).
func serveBytes(w http.ResponseWriter, r *http.Request, contentType string, body []byte, etag string, logSize int64) {
	h := w.Header()
	h.Set("Caucus-Log-Size", strconv.FormatInt(logSize, 10))
	h.Set("Content-Type", contentType)
	h.Set("Cache-Control", resultsCacheControl)
	h.Set("ETag", etag)
	h.Set("Vary", "Accept-Encoding")
	if match := r.Header.Get("If-None-Match"); match != "" {
		for _, m := range strings.Split(match, ",") {
			if strings.TrimSpace(m) == etag || strings.TrimSpace(m) == "*" {
				w.WriteHeader(http.StatusNotModified)
				return
			}
		}
	}
	writeBody(w, r, body, etag)
}

const jsonType = "application/json; charset=utf-8"

func (s *Server) handleResults(site *Site, w http.ResponseWriter, r *http.Request) {
	snap := site.Snapshot()
	b, etag := snap.Results()
	serveBytes(w, r, jsonType, b, etag, snap.LogSize())
}

func (s *Server) handleCounties(site *Site, w http.ResponseWriter, r *http.Request) {
	snap := site.Snapshot()
	b, etag := snap.Counties()
	serveBytes(w, r, jsonType, b, etag, snap.LogSize())
}

func (s *Server) handleCounty(site *Site, w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("county_id")
	snap := site.Snapshot()
	b, etag, ok := snap.County(id)
	if !ok {
		s.writeError(w, r, errorf(http.StatusNotFound, "not_found", "county %q is not in this election", id))
		return
	}
	serveBytes(w, r, jsonType, b, etag, snap.LogSize())
}

func (s *Server) handlePrecinct(site *Site, w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("precinct_id")
	snap := site.Snapshot()
	b, etag, ok := snap.Precinct(id)
	if !ok {
		s.writeError(w, r, errorf(http.StatusNotFound, "not_found", "precinct %q is not in this election", id))
		return
	}
	serveBytes(w, r, jsonType, b, etag, snap.LogSize())
}

func (s *Server) handleCSV(site *Site, w http.ResponseWriter, r *http.Request) {
	snap := site.Snapshot()
	b, etag := snap.CSV()
	w.Header().Set("Content-Disposition", `attachment; filename="results.csv"`)
	serveBytes(w, r, "text/csv; charset=utf-8", b, etag, snap.LogSize())
}

func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) {
	out := map[string]any{"status": "ok"}
	for _, site := range s.sites() {
		out[site.def.Election().ID] = map[string]any{"log_size": site.Snapshot().LogSize()}
	}
	writeJSON(w, http.StatusOK, out)
}
