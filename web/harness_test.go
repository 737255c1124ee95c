package web_test

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"caucus/internal/auth"
	"caucus/internal/election"
	"caucus/internal/hotline"
	"caucus/internal/night"
	"caucus/internal/server"
	"caucus/internal/server/servertest"
	"caucus/internal/store"
	"caucus/internal/store/sqlite"
)

var screenshots = flag.String("screenshots", filepath.Join(os.TempDir(), "caucus-screenshots"),
	"where the browser tests save a screenshot of each step at phone size")

// stepTimeout bounds one wait in the page: generous for a loaded CI machine, never a sleep.
const stepTimeout = 20 * time.Second

// env is a real caucus server (election and practice twin, real SQLite, real argon2id
// credentials) on loopback, with switches that make it look down or overloaded to the phone.
type env struct {
	t        testing.TB
	URL      string
	PINs     map[string]string
	main     *sqlite.DB
	practice *sqlite.DB
	// down: every request's connection is dropped without an answer (server unreachable).
	// busy: every API request gets 503 with Retry-After (overloaded, reliability.md O1).
	down, busy atomic.Bool
	// quota: every photo upload and call-back request gets the server's answer to a precinct
	// past its quota of them: 429 with the code "quota" and a sentence, no Retry-After.
	quota   atomic.Bool
	reports atomic.Int64 // POST …/reports that reached the server
	// requests counts every request by path, for the tests that ask what reached the server.
	requests sync.Map // path → *atomic.Int64

	def, practiceDef *election.Definition
	dir, addr        string
	stop             func() // stops the server and closes its databases
}

func startEnv(t testing.TB) *env {
	t.Helper()
	def := servertest.Definition(t, 6)
	pe := def.Election()
	pe.ID, pe.Name, pe.Practice = "test-2020-practice", "Practice caucus", true
	practice, err := election.New(pe, def.Counties(), def.Precincts())
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, PINs: map[string]string{}, def: def, practiceDef: practice, dir: t.TempDir(), addr: "127.0.0.1:0"}
	e.start()
	var ids []string
	for _, p := range def.Precincts() {
		ids = append(ids, p.ID)
	}
	secrets, err := auth.GeneratePrecinctSecrets(ids)
	if err != nil {
		t.Fatal(err)
	}
	creds, err := auth.HashPrecinctSecrets(t.Context(), secrets, servertest.CheapParams)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.main.PutPrecinctCredentials(t.Context(), "system", creds); err != nil {
		t.Fatal(err)
	}
	for _, s := range secrets {
		e.PINs[s.PrecinctID] = s.PIN.Reveal()
	}
	return e
}

// start opens the databases in e.dir and serves them on e.addr (the same address again after a
// restart), with the app that web.Load gives at that moment; e.stop, or the test's end, stops it.
func (e *env) start() {
	t := e.t
	t.Helper()
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	var closers []func() // undone last first
	e.stop = sync.OnceFunc(func() {
		for i := len(closers) - 1; i >= 0; i-- {
			closers[i]()
		}
	})
	t.Cleanup(e.stop)
	open := func(name string, d *election.Definition) (*sqlite.DB, *night.Night) {
		db, err := sqlite.Open(ctx, filepath.Join(e.dir, name), sqlite.Options{})
		if err != nil {
			t.Fatal(err)
		}
		closers = append(closers, func() { db.Close() })
		site, err := night.Open(ctx, night.Config{Def: d, Store: db, Log: log})
		if err != nil {
			t.Fatal(err)
		}
		return db, site
	}
	var mainSite, practiceSite *night.Night
	e.main, mainSite = open("caucus.db", e.def)
	e.practice, practiceSite = open("caucus-practice.db", e.practiceDef)
	authn, err := auth.New(auth.Config{Store: e.main, Now: time.Now, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	desk := hotline.New(hotline.Config{Def: e.def, Store: e.main, Submit: mainSite, PINs: authn})
	srv := server.New(server.Config{Main: mainSite, Practice: practiceSite, Auth: authn, Hotline: desk, Log: log})
	h := srv.Handler()
	ln, err := net.Listen("tcp", e.addr)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, _ := e.requests.LoadOrStore(r.URL.Path, new(atomic.Int64))
		n.(*atomic.Int64).Add(1)
		if e.down.Load() {
			panic(http.ErrAbortHandler) // the connection drops: what a phone sees of a dead server
		}
		if e.busy.Load() && strings.Contains(r.URL.Path, "/api/") {
			w.Header().Set("Retry-After", "1")
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusServiceUnavailable)
			io.WriteString(w, `{"error":"the server is busy","code":"busy","request_id":"test"}`)
			return
		}
		if e.quota.Load() && r.Method == "POST" &&
			(strings.HasSuffix(r.URL.Path, "/api/v1/photos") || strings.HasSuffix(r.URL.Path, "/api/v1/callbacks")) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusTooManyRequests)
			io.WriteString(w, `{"error":"this precinct is past its quota","code":"quota","request_id":"test"}`)
			return
		}
		if r.Method == "POST" && strings.HasSuffix(r.URL.Path, "/api/v1/reports") {
			e.reports.Add(1)
		}
		h.ServeHTTP(w, r)
	}))
	hs.Listener.Close()
	hs.Listener = ln
	hs.Start()
	e.URL, e.addr = hs.URL, ln.Addr().String()
	runCtx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		var wg sync.WaitGroup
		wg.Go(func() { mainSite.Run(runCtx) })
		wg.Go(func() { practiceSite.Run(runCtx) })
		wg.Wait()
		close(done)
	}()
	closers = append(closers, func() { hs.Close(); cancel(); <-done })
}

// restart stops the server and starts it again on the same address over the same databases, as
// a new release of the binary would be, serving the app that web.Load gives now.
func (e *env) restart() {
	e.t.Helper()
	e.stop()
	e.requests.Clear()
	e.start()
}

// served is how many requests for path reached the server since it last started.
func (e *env) served(path string) int64 {
	n, ok := e.requests.Load(path)
	if !ok {
		return 0
	}
	return n.(*atomic.Int64).Load()
}

// entries returns every stored entry of a precinct in the election (or practice) store.
func (e *env) entries(practice bool, precinct string) []store.Entry {
	e.t.Helper()
	db := e.main
	if practice {
		db = e.practice
	}
	es, err := db.PrecinctEntries(context.Background(), precinct)
	if err != nil {
		e.t.Fatal(err)
	}
	return es
}

var (
	browserOnce   sync.Once
	browserCtx    context.Context
	browserErr    error
	browserCancel = func() {}
)

// chromium finds Debian's Chromium; a test needing it fails, never skips, when it is missing.
func chromium(t testing.TB) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatal("Chromium is not installed: run scripts/test (it installs it) or apt-get install -y chromium")
	return ""
}

// browser is one headless Chromium for the whole test binary; each test gets its own tab, and
// its own server origin, so storage never leaks between tests.
func browser(t testing.TB) context.Context {
	t.Helper()
	path := chromium(t)
	browserOnce.Do(func() {
		dir, err := os.MkdirTemp("", "caucus-chromium-")
		if err != nil {
			browserErr = err
			return
		}
		alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
			chromedp.ExecPath(path), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
			chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
			chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
			chromedp.Flag("disable-dev-shm-usage", true), chromedp.UserDataDir(dir), chromedp.WindowSize(360, 740))
		ctx, cancel := chromedp.NewContext(alloc)
		if err := chromedp.Do(ctx); err != nil {
			browserErr = fmt.Errorf("start Chromium %s: %w", path, err)
		}
		browserCtx = ctx
		browserCancel = func() { cancel(); cancelAlloc(); os.RemoveAll(dir) }
	})
	if browserErr != nil {
		t.Fatal(browserErr)
	}
	return browserCtx
}

func TestMain(m *testing.M) {
	flag.Parse()
	code := m.Run()
	browserCancel()
	os.Exit(code)
}

// page is one tab at phone size.
type page struct {
	t   testing.TB
	ctx context.Context
	env *env
}

func newPage(t testing.TB, e *env) *page {
	t.Helper()
	ctx, cancel := chromedp.NewContext(browser(t))
	t.Cleanup(cancel)
	p := &page{t: t, ctx: ctx, env: e}
	// The first Run on a tab opens it for the context's lifetime: never under a timeout.
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(360, 740, chromedp.EmulateScale(1))); err != nil {
		t.Fatalf("open a tab: %v", err)
	}
	return p
}

func (p *page) do(steps ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, stepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		p.t.Fatalf("browser: %v", err)
	}
}

// eval runs JavaScript in the page (awaiting a promise) and returns its value.
func eval[T any](p *page, expr string) T {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, stepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		p.t.Fatalf("eval %s: %v", expr, err)
	}
	return v
}

// wait polls a JavaScript condition until it is true.
func (p *page) wait(cond string) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, stepTimeout)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](cond, chromedp.WithPollingInterval(50*time.Millisecond))); err != nil {
		p.t.Fatalf("waiting for %s: %v\npage: %s", cond, err, p.text("main"))
	}
}

func (p *page) text(sel string) string {
	ctx, cancel := context.WithTimeout(p.ctx, 5*time.Second)
	defer cancel()
	s, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`(document.querySelector(`+quote(sel)+`)||{}).innerText||""`))
	return s
}

func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", `\'`) + "'" }

// open loads the app (path "/" or "/practice/") and waits until the login form is usable.
func (p *page) open(path string) {
	p.t.Helper()
	p.do(chromedp.Navigate(p.env.URL + path))
	p.wait(`document.documentElement.dataset.ready === "1"`)
}

// login types the precinct ID and PIN and taps Log in.
func (p *page) login(precinct, pin string) {
	p.t.Helper()
	p.do(chromedp.SendKeys(chromedp.CSS("#precinct"), precinct), chromedp.SendKeys(chromedp.CSS("#pin"), pin),
		chromedp.Click(chromedp.CSS("#login-button")))
}

// typeCount puts a number in an input as a chair would (the input event fires).
func (p *page) typeCount(id string, n int) {
	p.t.Helper()
	eval[bool](p, `(() => { document.getElementById("`+id+`").value = ""; return true })()`)
	p.do(chromedp.SendKeys(chromedp.CSS("#"+id), fmt.Sprint(n)))
}

// counts fills one step's rows: kind is first, final or worksheet.
func (p *page) counts(kind string, m map[string]int) {
	p.t.Helper()
	for id, n := range m {
		p.typeCount(kind+"-"+id, n)
	}
	// Candidates not given are cleared (final is pre-filled from the first alignment).
	for _, c := range servertest.Candidates {
		if _, ok := m[c]; !ok {
			eval[bool](p, `(() => { const i = document.getElementById("`+kind+`-`+c+`"); if (i.value !== "") { i.value = ""; i.dispatchEvent(new Event("input")); } return true })()`)
		}
	}
	// The chair leaves the boxes (the page's checks wait for that).
	eval[bool](p, `(() => { document.activeElement.blur(); return true })()`)
}

// step waits until the named step is on screen.
func (p *page) step(name string) {
	p.t.Helper()
	p.wait(`!document.getElementById("step-` + name + `").hidden`)
}

// next taps the visible step's Next button once it is enabled.
func (p *page) next(step string) {
	p.t.Helper()
	sel := "#step-" + step + " .next"
	p.wait(`!document.querySelector("` + sel + `").disabled`)
	p.do(chromedp.Click(chromedp.CSS(sel)))
}

// mathReady waits for rules.wasm.
func (p *page) mathReady() {
	p.t.Helper()
	p.wait(`window.caucusReady === true`)
}

// shot saves a screenshot of the viewport as NAME.png in the screenshots directory.
func (p *page) shot(name string) {
	p.t.Helper()
	if err := os.MkdirAll(*screenshots, 0o755); err != nil {
		p.t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(p.ctx, stepTimeout)
	defer cancel()
	b, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		p.t.Fatalf("screenshot %s: %v", name, err)
	}
	ext := ".jpg"
	if len(b) > 4 && string(b[1:4]) == "PNG" {
		ext = ".png"
	}
	if err := os.WriteFile(filepath.Join(*screenshots, name+ext), b, 0o644); err != nil {
		p.t.Fatal(err)
	}
}

// offline cuts (or restores) the page's network, navigator.onLine included.
func (p *page) offline(off bool) {
	p.t.Helper()
	p.do(chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		if _, err := cdp.Call(ctx, t, network.EmulateNetworkConditionsByRule, network.EmulateNetworkConditionsByRuleParams{
			MatchedNetworkConditions: []*network.Conditions{{Offline: off, DownloadThroughput: -1, UploadThroughput: -1}}}); err != nil {
			return err
		}
		_, err := cdp.Call(ctx, t, network.OverrideNetworkState, network.OverrideNetworkStateParams{Offline: off,
			DownloadThroughput: -1, UploadThroughput: -1})
		return err
	}))
	// The page redraws its status line on the online/offline event, which can move the buttons:
	// wait until it has seen the change and painted, so that the next click lands where it aims.
	p.wait(fmt.Sprintf(`navigator.onLine === %t`, !off))
	eval[bool](p, `new Promise((ok) => requestAnimationFrame(() => requestAnimationFrame(() => ok(true))))`)
}

func clickCSS(sel string) chromedp.Action[chromedp.Void] { return chromedp.Click(chromedp.CSS(sel)) }

// submit taps Send once it is enabled.
func (p *page) submit() {
	p.t.Helper()
	p.wait(`!document.getElementById("submit").disabled`)
	p.do(clickCSS("#submit"))
}

// reload reloads the page and waits until it is usable again.
func (p *page) reload() {
	p.t.Helper()
	p.do(chromedp.Reload())
	p.wait(`document.documentElement.dataset.ready === "1"`)
}

// typeText types into a text field.
func (p *page) typeText(id, s string) {
	p.t.Helper()
	p.do(chromedp.SendKeys(chromedp.CSS("#"+id), s))
}
