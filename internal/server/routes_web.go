package server

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"

	"caucus/internal/report"
	"caucus/internal/store"
	"caucus/web"
)

// appCSP is the Content-Security-Policy of the chair app's pages: the site-wide policy plus
// 'wasm-unsafe-eval' in script-src, which compiling rules.wasm needs and which allows nothing
// else (no eval of JavaScript), and the hashes of the page's own inline script and style (the
// login screen's, so it is usable after one round trip): exactly those blocks, never
// 'unsafe-inline'. The hashes are computed from the embedded bytes when the server starts.
// Every other response keeps the strict policy.
func appCSP(a *web.Assets) string {
	return "default-src 'self'; script-src 'self' 'wasm-unsafe-eval' " + a.CSP("app.boot.js") +
		"; style-src 'self' " + a.CSP("app.css") + "; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
}

// webRoutes adds the chair app and the API it needs beyond the contract's.
func (s *Server) webRoutes(mux *http.ServeMux) {
	assets, err := web.Load()
	if err != nil {
		panic(err) // embedded files: a broken build, caught by the tests
	}
	// The page is the same for every request: rendered once, like its CSP.
	b, err := assets.Render("app.html", nil)
	if err != nil {
		panic(err)
	}
	csp := appCSP(assets)
	sum := sha256.Sum256(b)
	etag := `"` + hex.EncodeToString(sum[:16]) + `"`
	var zb bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&zb, gzip.BestCompression)
	zw.Write(b)
	zw.Close()
	page := func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", csp)
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Cache-Control", "no-cache")
		h.Set("ETag", etag)
		h.Set("Vary", "Accept-Encoding")
		if r.Header.Get("If-None-Match") == etag {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		if strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
			h.Set("Content-Encoding", "gzip")
			w.Write(zb.Bytes())
			return
		}
		w.Write(b)
	}
	mux.HandleFunc("GET /{$}", page)
	mux.HandleFunc("GET /practice/{$}", page)
	sw := assets.ServiceWorker([]string{"/", "/practice/"})
	mux.HandleFunc("GET /sw.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
		w.Header().Set("Cache-Control", "no-cache")
		w.Write(sw)
	})
	mux.HandleFunc("GET /static/{name}", func(w http.ResponseWriter, r *http.Request) {
		a, ok := assets.ByURL(r.URL.Path)
		if !ok {
			s.writeError(w, r, errorf(http.StatusNotFound, "not_found", "no such file: %s", r.URL.Path))
			return
		}
		h := w.Header()
		h.Set("Content-Type", a.ContentType)
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
		h.Set("ETag", a.ETag)
		h.Set("Vary", "Accept-Encoding")
		switch {
		case a.Brotli != nil && acceptsEncoding(r, "br"):
			h.Set("Content-Encoding", "br")
			w.Write(a.Brotli)
		case a.Gzip != nil && acceptsEncoding(r, "gzip"):
			h.Set("Content-Encoding", "gzip")
			w.Write(a.Gzip)
		default:
			w.Write(a.Data)
		}
	})
	for _, site := range s.sites() {
		p := site.prefix()
		mux.HandleFunc("GET "+p+"/api/v1/precinct-info/{precinct_id}", s.onSite(site, s.serveJSON(0, s.handlePrecinctInfo)))
		mux.HandleFunc("POST "+p+"/api/v1/photos", s.onSite(site, s.serveBody(store.MaxPhotoBytes, false, s.handlePhoto)))
		mux.HandleFunc("POST "+p+"/api/v1/callbacks", s.onSite(site, s.serveJSON(maxCallbackBytes, s.handleCallback)))
		mux.HandleFunc("POST "+p+"/api/v1/callbacks/anonymous", s.onSite(site, s.serveJSON(maxCallbackBytes, s.handleAnonymousCallback)))
		mux.HandleFunc("POST "+p+"/api/v1/calc", s.onSite(site, s.serveJSON(report.MaxBytes, s.handleCalc)))
	}
}

// acceptsEncoding reports whether the request's Accept-Encoding takes coding (a listed token
// without q=0).
func acceptsEncoding(r *http.Request, coding string) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		name, params, _ := strings.Cut(part, ";")
		if strings.EqualFold(strings.TrimSpace(name), coding) {
			q := strings.ReplaceAll(params, " ", "")
			return q != "q=0" && q != "q=0.0" && q != "q=0.00" && q != "q=0.000"
		}
	}
	return false
}

type candidateInfo struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// handlePrecinctInfo is what the chair app needs to do a precinct's math: the calc input's
// fields that come from the election (spec/interfaces.md `caucus calc`). Public: it is all in
// the published election definition. The precinct may be named loosely, as at login
// (election.Definition.FindPrecinct): the login screen shows its name before the PIN is typed.
func (s *Server) handlePrecinctInfo(site *Site, h http.Header, r *http.Request) (any, int, error) {
	id := r.PathValue("precinct_id")
	p, ok := site.def.FindPrecinct(id)
	if !ok {
		return nil, 0, errorf(http.StatusNotFound, "not_found", "no precinct %q in this election", id)
	}
	e := site.def.Election()
	cands := make([]candidateInfo, 0, len(e.Candidates))
	for _, c := range e.Candidates {
		cands = append(cands, candidateInfo{c.ID, c.Name})
	}
	out := map[string]any{"election_id": e.ID, "election_name": e.Name, "practice": e.Practice, "rules": e.Rules,
		"precinct_id": p.ID, "name": p.Name, "county_id": p.CountyID, "satellite": p.Satellite,
		"delegates_to_elect": nil, "sde_ratio": nil, "candidates": cands}
	if p.DelegatesToElect > 0 || !p.Satellite {
		out["delegates_to_elect"] = p.DelegatesToElect
	}
	if c, ok := site.def.County(p.CountyID); ok {
		out["county_name"] = c.Name
		if ratio, ok := c.SDERatio(); ok {
			out["sde_ratio"] = ratio.String()
		}
	}
	h.Set("Cache-Control", "public, max-age=300")
	return out, http.StatusOK, nil
}
