package server

import (
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"
	"sync"

	"caucus/internal/tally"
	"caucus/web"
)

// The public results site: server-rendered pages over the same snapshots as the
// results feeds, so they work with JavaScript off; web/static/results.js keeps an open page live
// from the SSE stream. Pages are cached rendered (and gzipped) per snapshot and checkpoint, and
// served with an ETag and the feeds' short Cache-Control, so a CDN can stand in front of a crowd.

// maxCachedPages bounds the rendered pages kept: every county and precinct page of both sites
// fits (Iowa: about 3,800); past it the cache starts again.
const maxCachedPages = 8192

// resultsCSP is the Content-Security-Policy of the results pages: the site-wide policy plus the
// hash of their stylesheet, which each page carries inline so that it paints after one round
// trip on a slow network (web.Assets.CSP, computed from the embedded bytes at start-up, as for
// the chair app): exactly that block, never 'unsafe-inline'. results.js stays a file.
func resultsCSP(a *web.Assets) string {
	return "default-src 'self'; style-src 'self' " + a.CSP("results.css") + "; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
}

// pages renders and caches the results site's pages.
type pages struct {
	s      *Server
	assets *web.Assets
	mapSVG *countyMap
	csp    string

	mu    sync.Mutex
	cache map[string]*renderedPage // by site prefix + path + variant
}

// renderedPage is one page as of one snapshot and checkpoint.
type renderedPage struct {
	snap   *tally.Snapshot
	ckpt   int64
	body   []byte
	etag   string
	status int
}

// pageRoutes registers the results site of every site, and the newsroom page.
func (s *Server) pageRoutes(mux *http.ServeMux) {
	assets, err := web.Load()
	if err != nil {
		panic(err) // embedded files: a broken build, caught by the tests
	}
	pg := &pages{s: s, assets: assets, mapSVG: loadCountyMap(assets), csp: resultsCSP(assets), cache: map[string]*renderedPage{}}
	for _, site := range s.sites() {
		p := site.prefix()
		mux.HandleFunc("GET "+p+"/results", s.onSite(site, pg.serve(pg.statewide)))
		mux.HandleFunc("GET "+p+"/results/map", s.onSite(site, pg.serve(pg.mapPage)))
		mux.HandleFunc("GET "+p+"/results/counties/{county_id}", s.onSite(site, pg.serve(pg.county)))
		mux.HandleFunc("GET "+p+"/results/precincts/{precinct_id}", s.onSite(site, pg.serve(pg.precinct)))
	}
	mux.HandleFunc("GET /audit", s.onMain(pg.serve(pg.auditPage)))
	api := pg.serve(pg.apiPage)
	mux.HandleFunc("GET /api", func(w http.ResponseWriter, r *http.Request) { api(s.main, w, r) })
}

// pageFunc builds one page's data: the template to render and its data, or a status (404).
type pageFunc func(site *Site, snap *tally.Snapshot, r *http.Request) (tmpl string, data any, status int, err error)

// serve wraps a pageFunc with the cache, ETag, 304, gzip and headers.
func (pg *pages) serve(build pageFunc) func(*Site, http.ResponseWriter, *http.Request) {
	return func(site *Site, w http.ResponseWriter, r *http.Request) {
		snap := site.night.Snapshot()
		var ckpt int64
		if _, c := site.night.Checkpoint(); c.N > 0 {
			ckpt = c.N
		}
		key := site.prefix() + " " + r.URL.Path + " " + mapMode(r)
		pg.mu.Lock()
		rp, ok := pg.cache[key]
		pg.mu.Unlock()
		if !ok || rp.snap != snap || rp.ckpt != ckpt {
			tmpl, data, status, err := build(site, snap, r)
			if err != nil {
				pg.s.writeError(w, r, err)
				return
			}
			if status == 0 {
				status = http.StatusOK
			}
			body, err := pg.assets.Render(tmpl, data)
			if err != nil {
				pg.s.writeError(w, r, err)
				return
			}
			sum := sha256.Sum256(body)
			rp = &renderedPage{snap: snap, ckpt: ckpt, body: body, status: status, etag: `"p` + hex.EncodeToString(sum[:16]) + `"`}
			if status == http.StatusOK {
				pg.mu.Lock()
				if len(pg.cache) >= maxCachedPages {
					clear(pg.cache)
				}
				pg.cache[key] = rp
				pg.mu.Unlock()
			}
		}
		h := w.Header()
		h.Set("Content-Security-Policy", pg.csp)
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Vary", "Accept-Encoding")
		if rp.status != http.StatusOK {
			// Not cached (its message names what was asked), but gzipped: it carries the style.
			h.Set("Cache-Control", "no-cache")
			if acceptsGzip(r) {
				h.Set("Content-Encoding", "gzip")
				w.WriteHeader(rp.status)
				zw := gzip.NewWriter(w)
				zw.Write(rp.body)
				zw.Close()
				return
			}
			w.WriteHeader(rp.status)
			w.Write(rp.body)
			return
		}
		h.Set("Cache-Control", resultsCacheControl)
		h.Set("ETag", rp.etag)
		h.Set("Caucus-Log-Size", itoa(snap.LogSize()))
		if match := r.Header.Get("If-None-Match"); match != "" {
			for _, m := range strings.Split(match, ",") {
				if strings.TrimSpace(m) == rp.etag {
					w.WriteHeader(http.StatusNotModified)
					return
				}
			}
		}
		writeBody(w, r, rp.body, rp.etag)
	}
}

// mapMode is the map's colouring asked for: "final" (leader by final alignment) or "" (SDEs).
func mapMode(r *http.Request) string {
	if r.URL.Query().Get("by") == "final" {
		return "final"
	}
	return ""
}

func (pg *pages) statewide(site *Site, snap *tally.Snapshot, r *http.Request) (string, any, int, error) {
	v, err := pg.stateView(site, snap, mapMode(r))
	if err != nil {
		return "", nil, 0, err
	}
	return "results_statewide.html", v, 0, nil
}

func (pg *pages) mapPage(site *Site, snap *tally.Snapshot, r *http.Request) (string, any, int, error) {
	v, err := pg.stateView(site, snap, mapMode(r))
	if err != nil {
		return "", nil, 0, err
	}
	v.Page.Title = "County map"
	v.Page.Path = "/results/map"
	return "results_map.html", v, 0, nil
}

func (pg *pages) county(site *Site, snap *tally.Snapshot, r *http.Request) (string, any, int, error) {
	id := r.PathValue("county_id")
	body, _, ok := snap.County(id)
	if !ok {
		return pg.notFound(site, snap, "There is no county “"+id+"” in this election.")
	}
	v, err := pg.countyView(site, snap, body)
	if err != nil {
		return "", nil, 0, err
	}
	return "results_county.html", v, 0, nil
}

func (pg *pages) precinct(site *Site, snap *tally.Snapshot, r *http.Request) (string, any, int, error) {
	id := r.PathValue("precinct_id")
	body, _, ok := snap.Precinct(id)
	if !ok {
		return pg.notFound(site, snap, "There is no precinct “"+id+"” in this election.")
	}
	v, err := pg.precinctView(r.Context(), site, snap, body)
	if err != nil {
		return "", nil, 0, err
	}
	return "results_precinct.html", v, 0, nil
}

func (pg *pages) apiPage(site *Site, snap *tally.Snapshot, r *http.Request) (string, any, int, error) {
	v := pg.base(site, snap, "Results feeds for newsrooms", "/api")
	v.Live = false // documentation: nothing on it follows the results
	return "results_api.html", struct {
		Page        pageHead
		HasPractice bool
	}{v, pg.s.practice != nil}, 0, nil
}

func (pg *pages) notFound(site *Site, snap *tally.Snapshot, msg string) (string, any, int, error) {
	v := pg.base(site, snap, "Not found", "")
	v.Live = false
	return "results_notfound.html", struct {
		Page    pageHead
		Message string
	}{v, msg}, http.StatusNotFound, nil
}
