package server

import (
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
)

// resultsCacheControl lets a CDN serve results for a second and keep serving the last copy
// for a few more while it fetches a new one: results change live, so a short freshness.
const resultsCacheControl = "public, max-age=1, stale-while-revalidate=5"

// The results responses' constant header values, shared (see securityHeaders).
var (
	hdrJSON         = []string{jsonType}
	hdrCSV          = []string{"text/csv; charset=utf-8"}
	hdrResultsCache = []string{resultsCacheControl}
	hdrVary         = []string{"Accept-Encoding"}
)

// docHeaders are the header values of one document at one log size, made once and shared by
// every response that serves it.
type docHeaders struct {
	etag         string
	logSize      int64
	etagV, sizeV []string
}

// hdrCache keeps the headers of the document a route served last (the statewide results are
// the same document for every reader until the next commit). The zero value is ready.
type hdrCache struct{ p atomic.Pointer[docHeaders] }

// get returns the headers of (etag, logSize), from the cache when it holds them; c may be nil.
func (c *hdrCache) get(etag string, logSize int64) *docHeaders {
	if c != nil {
		if d := c.p.Load(); d != nil && d.etag == etag && d.logSize == logSize {
			return d
		}
	}
	d := &docHeaders{etag: etag, logSize: logSize, etagV: []string{etag},
		sizeV: []string{strconv.FormatInt(logSize, 10)}}
	if c != nil {
		c.p.Store(d)
	}
	return d
}

// serveBytes writes pre-rendered results with their ETag, answering 304 to a matching
// If-None-Match, gzipped when the client takes it. Every results response names the log size it
// was computed from in the Caucus-Log-Size header (a county's document keeps its bytes while
// other counties change, so the size is not in its body). cache, if not nil, keeps the
// document's header values for the next request.
func serveBytes(w http.ResponseWriter, r *http.Request, contentType []string, body []byte, etag string, logSize int64, cache *hdrCache) {
	d := cache.get(etag, logSize)
	h := w.Header()
	h["Caucus-Log-Size"] = d.sizeV
	h["Content-Type"] = contentType
	h["Cache-Control"] = hdrResultsCache
	h["Etag"] = d.etagV
	h["Vary"] = hdrVary
	if match := r.Header.Get("If-None-Match"); match != "" && etagMatches(match, etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	writeBody(w, r, body, etag)
}

// etagMatches reports whether an If-None-Match list names etag (or is "*").
func etagMatches(match, etag string) bool {
	for match != "" {
		var m string
		m, match, _ = strings.Cut(match, ",")
		if m = strings.TrimSpace(m); m == etag || m == "*" {
			return true
		}
	}
	return false
}

const jsonType = "application/json; charset=utf-8"

func (s *Server) handleResults(site *Site, w http.ResponseWriter, r *http.Request) {
	snap := site.night.Snapshot()
	b, etag := snap.Results()
	serveBytes(w, r, hdrJSON, b, etag, snap.LogSize(), &site.hdr.results)
}

func (s *Server) handleCounties(site *Site, w http.ResponseWriter, r *http.Request) {
	snap := site.night.Snapshot()
	b, etag := snap.Counties()
	serveBytes(w, r, hdrJSON, b, etag, snap.LogSize(), &site.hdr.counties)
}

func (s *Server) handleCounty(site *Site, w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("county_id")
	snap := site.night.Snapshot()
	b, etag, ok := snap.County(id)
	if !ok {
		s.writeError(w, r, errorf(http.StatusNotFound, "not_found", "county %q is not in this election", id))
		return
	}
	serveBytes(w, r, hdrJSON, b, etag, snap.LogSize(), nil)
}

func (s *Server) handlePrecinct(site *Site, w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("precinct_id")
	snap := site.night.Snapshot()
	b, etag, ok := snap.Precinct(id)
	if !ok {
		s.writeError(w, r, errorf(http.StatusNotFound, "not_found", "precinct %q is not in this election", id))
		return
	}
	serveBytes(w, r, hdrJSON, b, etag, snap.LogSize(), nil)
}

func (s *Server) handleCSV(site *Site, w http.ResponseWriter, r *http.Request) {
	snap := site.night.Snapshot()
	b, etag := snap.CSV()
	w.Header().Set("Content-Disposition", `attachment; filename="results.csv"`)
	serveBytes(w, r, hdrCSV, b, etag, snap.LogSize(), &site.hdr.csv)
}

func (s *Server) handleHealth(_ *Site, _ http.Header, _ *http.Request) (any, int, error) {
	out := map[string]any{"status": "ok"}
	for _, site := range s.sites() {
		out[site.def.Election().ID] = map[string]any{"log_size": site.night.Snapshot().LogSize()}
	}
	return out, http.StatusOK, nil
}
