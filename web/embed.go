// Package web is the chair's reporting app: plain HTML, CSS and JavaScript with no
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
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"mime"
	"path"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/andybalholm/brotli"

	"caucus/internal/rules"
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
	Brotli      []byte // Data in brotli, or nil when that is not smaller than Gzip
	ETag        string
}

// Assets is the app's static files by logical and by served name.
type Assets struct {
	byName map[string]*Asset
	byURL  map[string]*Asset
	inline map[string]Inline
	tmpl   *template.Template
	fsys   fs.FS // the files they were built from
}

// Inline is a file put into the page itself (the login screen's style and script, the results
// pages' style, so a phone on a slow network needs one round trip, not two or three): its bytes
// and the CSP source that allows exactly that block, 'sha256-…' of the same embedded bytes, so
// the two can never drift.
type Inline struct {
	Data []byte
	CSP  string
}

// inlined are the files put into pages rather than served: app.html's style and script, and
// the results pages' style (results_base.html).
var inlined = map[string]bool{"app.css": true, "app.boot.js": true, "results.css": true}

// Load returns the embedded assets, hashed and compressed once per process (the files never
// change while it runs).
var Load = sync.OnceValues(func() (*Assets, error) { return load(files) })

// load builds the assets from a file tree laid out like the embedded one (static, templates,
// locales).
func load(fsys fs.FS) (*Assets, error) {
	a := &Assets{byName: map[string]*Asset{}, byURL: map[string]*Asset{}, inline: map[string]Inline{}, fsys: fsys}
	for _, dir := range []string{"static", "locales"} {
		entries, err := fs.ReadDir(fsys, dir)
		if err != nil {
			return nil, fmt.Errorf("read embedded %s: %w", dir, err)
		}
		// The manifest last: it names the icons, by their served URLs.
		sort.SliceStable(entries, func(i, j int) bool {
			return path.Ext(entries[i].Name()) != ".webmanifest" && path.Ext(entries[j].Name()) == ".webmanifest"
		})
		for _, e := range entries {
			if e.IsDir() || path.Ext(e.Name()) == ".br" {
				continue // a .br is its sibling's brotli form (brotliOf), not a file of its own
			}
			var data []byte
			if dir == "locales" {
				words, err := locale(fsys, e.Name())
				if err != nil {
					return nil, err
				}
				data, _ = json.Marshal(words)
			} else if data, err = fs.ReadFile(fsys, dir+"/"+e.Name()); err != nil {
				return nil, fmt.Errorf("read embedded %s: %w", e.Name(), err)
			}
			if inlined[e.Name()] {
				sum := sha256.Sum256(data)
				a.inline[e.Name()] = Inline{Data: data, CSP: "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"}
				continue
			}
			if path.Ext(e.Name()) == ".webmanifest" {
				for name, asset := range a.byName {
					data = bytes.ReplaceAll(data, []byte(`"`+name+`"`), []byte(`"`+asset.URL+`"`))
				}
			}
			sum := sha256.Sum256(data)
			h := hex.EncodeToString(sum[:4])
			ext := path.Ext(e.Name())
			asset := &Asset{Name: e.Name(), Data: data, ETag: `"` + hex.EncodeToString(sum[:16]) + `"`,
				URL: "/static/" + strings.TrimSuffix(e.Name(), ext) + "." + h + ext, ContentType: contentType(ext)}
			asset.Gzip = compress(data)
			if asset.Brotli, err = brotliOf(fsys, dir+"/"+e.Name(), data); err != nil {
				return nil, err
			}
			if asset.Brotli != nil && asset.Gzip != nil && len(asset.Brotli) >= len(asset.Gzip) {
				asset.Brotli = nil
			}
			a.byName[asset.Name] = asset
			a.byURL[asset.URL] = asset
		}
	}
	funcs := template.FuncMap{"asset": a.URL,
		"style":  func(name string) template.CSS { return template.CSS(a.inline[name].Data) },
		"script": func(name string) template.JS { return template.JS(a.inline[name].Data) },
		"words":  func(keys ...string) (map[string]map[string]string, error) { return words(fsys, keys...) },
		"num":    Thousands}
	tmpl, err := template.New("").Funcs(funcs).ParseFS(fsys, "templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("parse templates: %w", err)
	}
	a.tmpl = tmpl
	return a, nil
}

// Thousands writes a whole number, or a decimal string such as an SDE ("1234.5678"), with
// English thousands separators: 38,895 and 1,234.5678. Other strings ("–") pass unchanged.
func Thousands(v any) string {
	var s string
	switch n := v.(type) {
	case int:
		s = strconv.Itoa(n)
	case int64:
		s = strconv.FormatInt(n, 10)
	case string:
		s = n
	default:
		return fmt.Sprint(v)
	}
	sign, rest := "", s
	if strings.HasPrefix(rest, "-") {
		sign, rest = "-", rest[1:]
	}
	whole, frac, dot := strings.Cut(rest, ".")
	if whole == "" || strings.Trim(whole, "0123456789") != "" {
		return s
	}
	var b strings.Builder
	b.WriteString(sign)
	for i, c := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if dot {
		b.WriteString("." + frac)
	}
	return b.String()
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

// brotliMaxAtLoad is the largest file compressed with brotli when the assets load: brotli's
// best quality takes about 3 ms per KB, so a larger file (rules.wasm: 20 s) is compressed once,
// by go generate, into NAME.br beside it.
const brotliMaxAtLoad = 256 << 10

// brotliOf is data in brotli at the best quality: the committed NAME.br when there is one (it
// must decode to data exactly, or the build is broken: TestWasmFresh says how to fix it), else
// compressed now for a small file, else nil (served gzipped).
func brotliOf(fsys fs.FS, name string, data []byte) ([]byte, error) {
	pre, err := fs.ReadFile(fsys, name+".br")
	switch {
	case err == nil:
		got, err := io.ReadAll(brotli.NewReader(bytes.NewReader(pre)))
		if err != nil || !bytes.Equal(got, data) {
			return nil, fmt.Errorf("embedded %s.br is not %s in brotli: run \"go generate ./web\"", name, name)
		}
		return pre, nil
	case !errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("read embedded %s.br: %w", name, err)
	case len(data) > brotliMaxAtLoad:
		return nil, nil
	}
	return Brotli(data), nil
}

// Brotli compresses data at brotli's best quality, as go generate does for rules.wasm.br
// (brotli_gen.go).
func Brotli(data []byte) []byte {
	var b bytes.Buffer
	w := brotli.NewWriterOptions(&b, brotli.WriterOptions{Quality: brotli.BestCompression, LGWin: 24})
	w.Write(data)
	w.Close()
	return b.Bytes()
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

// words returns the given keys of every locale's words ({"en": {…}, "es": {…}}), for the page
// to carry what the login screen says in each language.
func words(fsys fs.FS, keys ...string) (map[string]map[string]string, error) {
	entries, err := fs.ReadDir(fsys, "locales")
	if err != nil {
		return nil, err
	}
	out := map[string]map[string]string{}
	for _, e := range entries {
		all, err := locale(fsys, e.Name())
		if err != nil {
			return nil, err
		}
		lang := strings.TrimSuffix(e.Name(), ".json")
		out[lang] = make(map[string]string, len(keys))
		for _, k := range keys {
			v, ok := all[k]
			if !ok {
				return nil, fmt.Errorf("locales/%s has no %q", e.Name(), k)
			}
			out[lang][k] = v
		}
	}
	return out, nil
}

// locale is one language's words (locales/en.json): the file's, and the check table of
// internal/rules in that language (rules.Words), so the app writes each check in the page's
// language from its ID and args, exactly as the server does. The table is the only place a check
// is described: a file that has one of its keys is refused.
func locale(fsys fs.FS, file string) (map[string]string, error) {
	b, err := fs.ReadFile(fsys, "locales/"+file)
	if err != nil {
		return nil, fmt.Errorf("read embedded locales/%s: %w", file, err)
	}
	var words map[string]string
	if err := json.Unmarshal(b, &words); err != nil {
		return nil, fmt.Errorf("locales/%s: %w", file, err)
	}
	lang := rules.Lang(strings.TrimSuffix(file, ".json"))
	if !slices.Contains(rules.Langs(), lang) {
		return nil, fmt.Errorf("locales/%s: the checks have no words in %q", file, lang)
	}
	for k, v := range rules.Words(lang) {
		if _, ok := words[k]; ok {
			return nil, fmt.Errorf("locales/%s has %q, which internal/rules' check table gives", file, k)
		}
		words[k] = v
	}
	return words, nil
}

// CSP returns the Content-Security-Policy sources that allow exactly the inline blocks of the
// named files, for the page that carries them (app.html: "app.boot.js" in script-src, "app.css"
// in style-src; the results pages: "results.css"), so no page allows another page's blocks. It
// panics on a file that is not inlined, which the tests catch.
func (a *Assets) CSP(names ...string) string {
	out := make([]string, 0, len(names))
	for _, name := range names {
		in, ok := a.inline[name]
		if !ok {
			panic(fmt.Sprintf("web: %q is not inlined", name))
		}
		out = append(out, in.CSP)
	}
	sort.Strings(out)
	return strings.Join(out, " ")
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

// ServiceWorker is the service worker's script, served at /sw.js (its scope is the whole site,
// so the practice app under /practice/ is kept by the same worker, in the same cache): the
// app's version, the list of every file to keep on the phone (the pages, which serve app.html,
// and every asset's URL), then templates/sw.js.
//
// The version names the worker's cache. It is a hash of every file the worker keeps: the
// assets by their URLs, which carry their content hashes, the page as rendered (its inline
// blocks and the words it carries included) and the worker's own code. Any change to one of
// them is a new version: the script's bytes change, so the browser installs it, into a cache of
// its own, and the old version's cache is deleted when it activates. It panics when app.html
// does not render, which the tests catch (the server renders the same page at start-up).
func (a *Assets) ServiceWorker(pages []string) []byte {
	urls := append([]string(nil), pages...)
	for _, asset := range a.All() {
		urls = append(urls, asset.URL)
	}
	list, _ := json.Marshal(urls)
	src, err := fs.ReadFile(a.fsys, "templates/sw.js")
	if err != nil {
		panic(fmt.Sprintf("web: %v", err))
	}
	page, err := a.Render("app.html", nil)
	if err != nil {
		panic(fmt.Sprintf("web: %v", err))
	}
	h := sha256.New()
	for _, part := range [][]byte{list, page, src} {
		sum := sha256.Sum256(part)
		h.Write(sum[:])
	}
	version := hex.EncodeToString(h.Sum(nil)[:8])
	head := "const VERSION = \"" + version + "\";\nconst PRECACHE = " + string(list) + ";\n"
	return append([]byte(head), src...)
}

// Render writes the named template (app.html) with data.
func (a *Assets) Render(name string, data any) ([]byte, error) {
	var b bytes.Buffer
	if err := a.tmpl.ExecuteTemplate(&b, name, data); err != nil {
		return nil, fmt.Errorf("render %s: %w", name, err)
	}
	return b.Bytes(), nil
}
