package server

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strings"
	"unicode/utf8"

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

// maxCallbackBytes bounds a call-back request: a phone number and a short note.
const maxCallbackBytes = 4 << 10

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
		mux.HandleFunc("POST "+p+"/api/v1/photos", s.onSite(site, s.serveJSON(store.MaxPhotoBytes, s.handlePhoto)))
		mux.HandleFunc("POST "+p+"/api/v1/callbacks", s.onSite(site, s.serveJSON(maxCallbackBytes, s.handleCallback)))
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
// the published election definition.
func (s *Server) handlePrecinctInfo(site *Site, h http.Header, r *http.Request) (any, int, error) {
	id := r.PathValue("precinct_id")
	p, ok := site.def.Precinct(id)
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

// handlePhoto stores a worksheet photo by the SHA-256 of its bytes; the report names it in
// photo_sha256. 201 when new, 200 when the same bytes were already stored.
func (s *Server) handlePhoto(site *Site, _ http.Header, r *http.Request) (any, int, error) {
	sess, err := s.session(r)
	if err != nil {
		return nil, 0, err
	}
	ct := r.Header.Get("Content-Type")
	if ct != "image/jpeg" && ct != "image/png" {
		return nil, 0, errorf(http.StatusUnsupportedMediaType, "content_type", "send the photo as image/jpeg or image/png")
	}
	data, err := readBody(r, "photo", store.MaxPhotoBytes)
	if err != nil {
		return nil, 0, err
	}
	if len(data) == 0 {
		return nil, 0, errorf(http.StatusBadRequest, "bad_body", "the photo is empty")
	}
	if got := http.DetectContentType(data); got != ct {
		return nil, 0, errorf(http.StatusBadRequest, "bad_photo", "the photo is not a %s image", ct)
	}
	sum := sha256.Sum256(data)
	sha := hex.EncodeToString(sum[:])
	created, err := site.night.PutPhoto(r.Context(), store.NewPhoto{SHA256: sha, ContentType: ct, Data: data,
		PrecinctID: sess.PrecinctID, Actor: submitterOf(sess)})
	if err != nil {
		return nil, 0, err
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	return map[string]any{"sha256": sha, "bytes": len(data)}, status, nil
}

type callbackRequest struct {
	PrecinctID string `json:"precinct_id"`
	Phone      string `json:"phone"`
	Note       string `json:"note"`
}

// handleCallback puts a precinct in headquarters' call-back queue with the chair's number.
func (s *Server) handleCallback(site *Site, _ http.Header, r *http.Request) (any, int, error) {
	sess, err := s.session(r)
	if err != nil {
		return nil, 0, err
	}
	var req callbackRequest
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return nil, 0, errorf(http.StatusBadRequest, "bad_callback", "send {\"precinct_id\", \"phone\", \"note\"} as JSON")
	}
	req.Phone, req.Note = strings.TrimSpace(req.Phone), strings.TrimSpace(req.Note)
	digits := 0
	for _, c := range req.Phone {
		if c >= '0' && c <= '9' {
			digits++
		}
	}
	switch {
	case !sess.MaySubmit(req.PrecinctID):
		return nil, 0, errorf(http.StatusForbidden, "forbidden", "this login may not ask for precinct %s", req.PrecinctID)
	case digits < 7 || utf8.RuneCountInString(req.Phone) > 40:
		return nil, 0, errorf(http.StatusBadRequest, "bad_phone", "give a phone number with at least 7 digits")
	case utf8.RuneCountInString(req.Note) > 500:
		return nil, 0, errorf(http.StatusBadRequest, "bad_note", "the note is longer than 500 characters")
	}
	cb, err := site.night.AddCallback(r.Context(), store.NewCallback{PrecinctID: req.PrecinctID, Phone: req.Phone,
		Note: req.Note, Actor: submitterOf(sess)})
	if err != nil {
		return nil, 0, err
	}
	return map[string]any{"callback_id": cb.ID, "at": cb.At.UTC().Format("2006-01-02T15:04:05Z")}, http.StatusCreated, nil
}
