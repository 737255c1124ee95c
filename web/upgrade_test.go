package web_test

import (
	"bytes"
	"context"
	"io/fs"
	"regexp"
	"slices"
	"testing"
	"testing/fstest"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"caucus/web"
)

// pages are the paths the service worker keeps the app page under (as internal/server serves it).
var pages = []string{"/", "/practice/"}

// versionB is the embedded app with two files changed, as the next release would have them: a
// line added to app.js, which marks the page as version B, and a Spanish word changed, a file the
// page loads only when asked.
func versionB(t *testing.T) *web.Assets {
	t.Helper()
	tree := fstest.MapFS{}
	err := fs.WalkDir(web.Embedded, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(web.Embedded, name)
		tree[name] = &fstest.MapFile{Data: data}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	tree["static/app.js"].Data = append(tree["static/app.js"].Data, "\nwindow.caucusTestVersion = \"B\";\n"...)
	es := tree["locales/es.json"]
	if !bytes.Contains(es.Data, []byte(`"Informe del caucus"`)) {
		t.Fatal(`locales/es.json has no "Informe del caucus" to change`)
	}
	es.Data = bytes.Replace(es.Data, []byte(`"Informe del caucus"`), []byte(`"Informe del caucus (B)"`), 1)
	b, err := web.LoadFS(tree)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// cacheName is the cache the service worker of these assets keeps the app in.
func cacheName(t *testing.T, a *web.Assets) string {
	t.Helper()
	m := regexp.MustCompile(`^const VERSION = "([0-9a-f]+)";`).FindSubmatch(a.ServiceWorker(pages))
	if m == nil {
		t.Fatal("the service worker's script does not start with its VERSION")
	}
	return "caucus-app-" + string(m[1])
}

// waitThroughReload polls a condition that comes true on a page the app reloads by itself: a
// poll does not survive a navigation, so it is started again on the new page.
func (p *page) waitThroughReload(cond string) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, stepTimeout)
	defer cancel()
	for {
		_, err := chromedp.Run(ctx, chromedp.Poll[bool](cond, chromedp.WithPollingInterval(50*time.Millisecond)))
		if err == nil {
			return
		}
		if ctx.Err() != nil {
			p.t.Fatalf("waiting for %s: %v\npage: %s", cond, err, p.text("main"))
		}
	}
}

func (p *page) cacheKeys() []string {
	p.t.Helper()
	keys := eval[[]string](p, `caches.keys()`)
	slices.Sort(keys)
	return keys
}

// TestUpgrade: a phone has version A of the app, with a report waiting in its outbox for a busy
// server; the server is restarted with version B. On the next load the phone installs B into a
// cache of its own, copies the files that did not change from A's cache rather than download
// them again, deletes A's cache (and a cache of the worker before versioned names, but no other
// app's), reloads into B, works offline from B's cache, and sends the report A queued.
func TestUpgrade(t *testing.T) {
	a, err := web.Load()
	if err != nil {
		t.Fatal(err)
	}
	b := versionB(t)
	nameA, nameB := cacheName(t, a), cacheName(t, b)
	if nameA == nameB || a.URL("app.js") == b.URL("app.js") || a.URL("es.json") == b.URL("es.json") {
		t.Fatalf("versions A and B are not told apart: caches %s, %s; app.js %s, %s", nameA, nameB, a.URL("app.js"), b.URL("app.js"))
	}
	if a.URL("rules.wasm") != b.URL("rules.wasm") {
		t.Fatal("version B should keep A's rules.wasm")
	}

	e := startEnv(t)
	p := newPage(t, e)
	p.open("/")
	p.wait(`navigator.serviceWorker.controller !== null`)
	if got := p.cacheKeys(); !slices.Equal(got, []string{nameA}) {
		t.Fatalf("caches under A = %q, want [%s]", got, nameA)
	}
	// What a phone may hold besides: the cache the worker named by its list's length and last
	// file, and another app's cache on the same origin, which is not the worker's to delete.
	const legacy, other = "caucus-4211-/static/wasm_exec.0badf00d.js", "another-app"
	eval[bool](p, `Promise.all([caches.open("`+legacy+`"), caches.open("`+other+`")]).then(() => true)`)

	p.toReview(precinct4)
	e.busy.Store(true)
	p.submit()
	p.wait(`document.getElementById("status").textContent.includes("saved on this phone")`)

	// The next release: the same databases and address, version B of the app. web.Load is where
	// the server takes the app from, the embedded files in a real binary; no other test runs
	// meanwhile (none is parallel).
	embedded := web.Load
	t.Cleanup(func() { web.Load = embedded })
	web.Load = func() (*web.Assets, error) { return b, nil }
	e.restart()
	// Whatever the browser's HTTP cache holds goes: a file of B's that reaches the phone
	// without a request to the server comes from A's cache.
	p.do(chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, network.ClearBrowserCache, cdp.Empty{})
		return err
	}))
	p.do(chromedp.Reload())
	p.waitThroughReload(`window.caucusTestVersion === "B" && document.documentElement.dataset.ready === "1"`)
	p.shot("upgrade-01-version-b")
	if got, want := p.cacheKeys(), []string{other, nameB}; !slices.Equal(got, want) {
		t.Errorf("caches after the upgrade = %q, want %q", got, want)
	}
	if got := eval[string](p, `document.querySelector('script[src^="/static/app."]').getAttribute("src")`); got != b.URL("app.js") {
		t.Errorf("page loads %s, want B's %s", got, b.URL("app.js"))
	}
	if n := e.served(b.URL("rules.wasm")); n != 0 {
		t.Errorf("rules.wasm, unchanged, was downloaded %d times after the upgrade; want it copied from A's cache", n)
	}
	if n := e.served(b.URL("app.js")); n != 1 {
		t.Errorf("B's app.js was downloaded %d times, want once", n)
	}

	// A's report, still on the phone, goes to the server once it answers.
	p.step("receipt")
	p.wait(`document.getElementById("status").textContent.includes("saved on this phone")`)
	if n := len(e.entries(false, precinct4)); n != 0 {
		t.Fatalf("%d entries stored while busy", n)
	}
	e.busy.Store(false)
	p.do(clickCSS("#send-now"))
	p.wait(`document.getElementById("receipt-state").textContent.includes("Accepted")`)
	if n := len(e.entries(false, precinct4)); n != 1 {
		t.Fatalf("%d entries stored, want exactly 1", n)
	}

	// B opens with the server unreachable: every file, the math and B's Spanish words included,
	// comes from B's cache.
	e.down.Store(true)
	p.reload()
	p.mathReady()
	p.do(clickCSS("#lang"))
	p.wait(`document.title === "Informe del caucus (B)"`)
	if v := eval[string](p, `String(window.caucusTestVersion)`); v != "B" {
		t.Errorf("offline page is version %s, want B", v)
	}
	e.down.Store(false)
}
