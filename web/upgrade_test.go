package web_test

import (
	"bytes"
	"context"
	"io/fs"
	"maps"
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

// versionB is the embedded app with three files changed, as the next release would have them:
// a line added to app.js, which marks the page as version B; a Spanish word, a file the page
// loads only when asked; and rules.wasm, which gets a custom section (name "B", no payload),
// which the WebAssembly runtime ignores.
func versionB(t *testing.T) *web.Assets {
	t.Helper()
	return loadFS(t, versionBTree(t))
}

func versionBTree(t *testing.T) fstest.MapFS {
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
	// Section id 0 (custom), 2 bytes long: the name's length, 1, and the name.
	tree["static/rules.wasm"].Data = append(tree["static/rules.wasm"].Data, 0, 2, 1, 'B')
	delete(tree, "static/rules.wasm.br") // A's brotli form: B's wasm goes gzipped (compressing it anew takes 20 s)
	return tree
}

func loadFS(t *testing.T, tree fstest.MapFS) *web.Assets {
	t.Helper()
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
			p.t.Fatalf("waiting for %s: %v\nservice worker: %s\npage: %s", cond, err, p.workerState(), p.text("main"))
		}
	}
}

// workerState says what the page's service worker registration holds (each worker's state and
// script), and which caches the origin has: what a failed upgrade left behind.
func (p *page) workerState() string {
	ctx, cancel := context.WithTimeout(p.ctx, 5*time.Second)
	defer cancel()
	out, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(async () => {
		const r = await navigator.serviceWorker.getRegistration();
		const w = (x) => x ? x.state + " " + x.scriptURL : "none";
		const c = navigator.serviceWorker.controller;
		return JSON.stringify({registration: !!r, installing: w(r && r.installing), waiting: w(r && r.waiting),
			active: w(r && r.active), controller: w(c), caches: await caches.keys(),
			reloaded: sessionStorage.getItem("caucus.reloaded"), nudged: sessionStorage.getItem("caucus.nudged")}) })()`, chromedp.EvalAwaitPromise))
	if err != nil {
		return err.Error()
	}
	return out
}

func (p *page) cacheKeys() []string {
	p.t.Helper()
	keys := eval[[]string](p, `caches.keys()`)
	slices.Sort(keys)
	return keys
}

// cachedBytes is the size of every file the origin's caches hold.
func (p *page) cachedBytes() int {
	p.t.Helper()
	return eval[int](p, `(async () => {
		let n = 0;
		for (const k of await caches.keys()) {
			const c = await caches.open(k);
			for (const req of await c.keys()) n += (await (await c.match(req)).arrayBuffer()).byteLength;
		}
		return n })()`)
}

// TestUpgrade: a phone has version A of the app, with a report waiting in its outbox for a busy
// server; the server is restarted with version B. On the next load the phone installs B into a
// cache of its own, downloading only the files that changed (the others are copied from A's
// cache), deletes A's cache (and a cache of the worker before versioned names, but no other
// app's), so A's rules.wasm is gone, reloads into B, works offline from B's cache, and sends the
// report A queued.
func TestUpgrade(t *testing.T) {
	a, err := web.Load()
	if err != nil {
		t.Fatal(err)
	}
	b := versionB(t)
	nameA, nameB := cacheName(t, a), cacheName(t, b)
	if nameA == nameB {
		t.Fatalf("versions A and B have the same cache, %s", nameA)
	}
	changed := map[string]bool{}
	for _, asset := range b.All() {
		if _, ok := a.ByURL(asset.URL); !ok {
			changed[asset.Name] = true
		}
	}
	if want := map[string]bool{"app.js": true, "es.json": true, "rules.wasm": true}; !maps.Equal(changed, want) {
		t.Fatalf("version B changes %v, want %v", changed, want)
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
	sizeA := p.cachedBytes()

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
	// B's install downloaded the pages and the changed files, each once, and nothing else; the
	// pages the phone showed came from the caches.
	for _, path := range pages {
		if n := e.served(path); n != 1 {
			t.Errorf("%s was downloaded %d times after the upgrade, want once", path, n)
		}
	}
	for _, asset := range b.All() {
		want := int64(0)
		if changed[asset.Name] {
			want = 1
		}
		if n := e.served(asset.URL); n != want {
			t.Errorf("%s was downloaded %d times after the upgrade, want %d", asset.URL, n, want)
		}
	}
	if eval[bool](p, `caches.match("`+a.URL("rules.wasm")+`").then((r) => r !== undefined)`) {
		t.Errorf("A's rules.wasm is still on the phone")
	}
	sizeB := p.cachedBytes()
	t.Logf("the phone's caches hold %d bytes under A, %d bytes after the upgrade to B", sizeA, sizeB)
	if sizeB > sizeA+sizeA/10 {
		t.Errorf("the caches grew from %d to %d bytes: an old version is still kept", sizeA, sizeB)
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
	p.open("/practice/")
	if v := eval[string](p, `String(window.caucusTestVersion)`); v != "B" {
		t.Errorf("offline practice page is version %s, want B", v)
	}
	e.down.Store(false)
}

// TestUpgradeWaitingWorker: version B's worker does not skip waiting by itself, as when the
// browser put off handing it the page (Chromium waits until the worker in charge has gone idle
// and stopped, which can take from 30 s to 5 minutes). The page asks it to skip waiting, and the
// phone is on version B without the chair closing the app.
func TestUpgradeWaitingWorker(t *testing.T) {
	tree := versionBTree(t)
	sw := tree["templates/sw.js"]
	const skip = ".then(() => self.skipWaiting())"
	if !bytes.Contains(sw.Data, []byte(skip)) {
		t.Fatalf("templates/sw.js has no %q to take out", skip)
	}
	sw.Data = bytes.Replace(sw.Data, []byte(skip), nil, 1)
	b := loadFS(t, tree)

	e := startEnv(t)
	p := newPage(t, e)
	p.open("/")
	p.wait(`navigator.serviceWorker.controller !== null`)
	embedded := web.Load
	t.Cleanup(func() { web.Load = embedded })
	web.Load = func() (*web.Assets, error) { return b, nil }
	e.restart()
	p.do(chromedp.Reload())
	p.waitThroughReload(`window.caucusTestVersion === "B" && document.documentElement.dataset.ready === "1"`)
	if got, want := p.cacheKeys(), []string{cacheName(t, b)}; !slices.Equal(got, want) {
		t.Errorf("caches after the upgrade = %q, want %q", got, want)
	}
}
