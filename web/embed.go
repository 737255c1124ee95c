// Package web is the chair's reporting app (issue 5): plain HTML, CSS and JavaScript with no
// framework and no build step, the caucus math as WebAssembly (static/rules.wasm, built from
// cmd/caucus-wasm and committed), a service worker that keeps the app on the phone for offline
// use, and the English and Spanish words (locales/).
//
// It is files, embedded in the binary, and the one function that names them: every static file
// is served under a content-hash name (app.3f9a0c1d.js) with immutable caching, so a phone never
// mixes an old script with a new page. It is not the HTTP layer: internal/server serves it
// (routes_web.go) and owns the API the app talks to (spec/interfaces.md).
package web

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html/template"
	"io/fs"
	"mime"
	"path"
	"sort"
	"strings"
	"sync"
)

//go:embed static templates locales
var files embed.FS

// Asset is one static file.
type Asset struct {
	Name        string // the logical name, e.g. "app.js" or "es.json"
	URL         string // where it is served: /static/app.3f9a0c1d.js
	ContentType string
	Data        []byte
	Gzip        []byte // Data gzipped, or nil when that does not make it smaller
	ETag        string
}

// Assets is the app's static files by logical and by served name.
type Assets struct {
	byName map[string]*Asset
	byURL  map[string]*Asset
	tmpl   *template.Template
}

// Load returns the embedded assets, hashed and compressed once per process (the files never
// change while it runs).
var Load = sync.OnceValues(load)

func load() (*Assets, error) {
	a := &Assets{byName: map[string]*Asset{}, byURL: map[string]*Asset{}}
	for _, dir := range []string{"static", "locales"} {
		entries, err := fs.ReadDir(files, dir)
		if err != nil {
			return nil, fmt.Errorf("read embedded %s: %w", dir, err)
		}
		for _, e := range entries {
			if e.IsDir() {
				continue
			}
			data, err := files.ReadFile(dir + "/" + e.Name())
			if err != nil {
				return nil, fmt.Errorf("read embedded %s: %w", e.Name(), err)
			}
			sum := sha256.Sum256(data)
			h := hex.EncodeToString(sum[:4])
			ext := path.Ext(e.Name())
			asset := &Asset{Name: e.Name(), Data: data, ETag: `"` + hex.EncodeToString(sum[:16]) + `"`,
				URL: "/static/" + strings.TrimSuffix(e.Name(), ext) + "." + h + ext, ContentType: contentType(ext)}
			asset.Gzip = compress(data)
			a.byName[asset.Name] = asset
			a.byURL[asset.URL] = asset
		}
	}
	tmpl, err := template.New("").Funcs(template.FuncMap{"asset": a.URL}).ParseFS(files, "templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("parse templates: %w", err)
	}
	a.tmpl = tmpl
	return a, nil
}

func contentType(ext string) string {
	switch ext {
	case ".js":
		return "text/javascript; charset=utf-8"
	case ".json":
		return "application/json; charset=utf-8"
	case ".webmanifest":
		return "application/manifest+json"
	case ".wasm":
		return "application/wasm"
	}
	if t := mime.TypeByExtension(ext); t != "" {
		return t
	}
	return "application/octet-stream"
}

func compress(data []byte) []byte {
	var b bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
	zw.Write(data)
	zw.Close()
	if b.Len() >= len(data) {
		return nil
	}
	return b.Bytes()
}

// URL is the served address of a logical asset name; it panics on an unknown name, which the
// templates' test catches.
func (a *Assets) URL(name string) string {
	asset, ok := a.byName[name]
	if !ok {
		panic(fmt.Sprintf("web: no asset %q", name))
	}
	return asset.URL
}

// ByURL returns the asset served at a /static/… address.
func (a *Assets) ByURL(url string) (*Asset, bool) {
	asset, ok := a.byURL[url]
	return asset, ok
}

// All returns every asset, ordered by URL (the service worker's precache list).
func (a *Assets) All() []*Asset {
	out := make([]*Asset, 0, len(a.byURL))
	for _, asset := range a.byURL {
		out = append(out, asset)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].URL < out[j].URL })
	return out
}

// ServiceWorker is the service worker's script, served at /sw.js (its scope is the whole site):
// the list of every asset's URL to keep on the phone, then templates/sw.js. Its bytes change
// whenever an asset does, which is what makes the browser install the new app.
func (a *Assets) ServiceWorker(pages []string) []byte {
	urls := append([]string(nil), pages...)
	for _, asset := range a.All() {
		urls = append(urls, asset.URL)
	}
	list, _ := json.Marshal(urls)
	src, _ := files.ReadFile("templates/sw.js")
	return append([]byte("const PRECACHE = "+string(list)+";\n"), src...)
}

// Render writes the named template (app.html) with data.
func (a *Assets) Render(name string, data any) ([]byte, error) {
	var b bytes.Buffer
	if err := a.tmpl.ExecuteTemplate(&b, name, data); err != nil {
		return nil, fmt.Errorf("render %s: %w", name, err)
	}
	return b.Bytes(), nil
}
