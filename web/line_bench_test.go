package web_test

import (
	"context"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// line is a TCP proxy that behaves like a slow mobile line between the phone and the server:
// each direction is one link of rate bytes a second shared by every connection, and every
// byte arrives delay after it has been sent (round trip: 2 × delay). Chromium's own network
// throttle misses what the service worker downloads; this line carries everything.
type line struct {
	ln         net.Listener
	target     string
	delay      time.Duration
	down, up   *link
	downBytes  atomic.Int64
	upBytes    atomic.Int64
	wg         sync.WaitGroup
	closeOnce  sync.Once
	connsMu    sync.Mutex
	conns      []net.Conn
	acceptDone chan struct{}
}

// link is one direction's bandwidth: a byte may go out only after the bytes before it.
type link struct {
	mu   sync.Mutex
	rate float64 // bytes a second
	free time.Time
}

// transmit puts n bytes on the link after the bytes already on it and returns when they are
// out. A connection transmits one segment at a time, so connections take turns, as flows do
// at a real bottleneck, and a sender is held back as TCP holds it back.
func (l *link) transmit(n int) {
	l.mu.Lock()
	now := time.Now()
	if l.free.Before(now) {
		l.free = now
	}
	l.free = l.free.Add(time.Duration(float64(n) / l.rate * float64(time.Second)))
	done := l.free
	l.mu.Unlock()
	time.Sleep(time.Until(done))
}

func newLine(tb testing.TB, target string, bitsPerSecond float64, rtt time.Duration) *line {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	l := &line{ln: ln, target: target, delay: rtt / 2, down: &link{rate: bitsPerSecond / 8}, up: &link{rate: bitsPerSecond / 8},
		acceptDone: make(chan struct{})}
	go l.accept()
	tb.Cleanup(l.close)
	return l
}

func (l *line) URL() string { return "http://" + l.ln.Addr().String() }

func (l *line) accept() {
	defer close(l.acceptDone)
	for {
		c, err := l.ln.Accept()
		if err != nil {
			return
		}
		s, err := net.Dial("tcp", l.target)
		if err != nil {
			c.Close()
			continue
		}
		l.connsMu.Lock()
		l.conns = append(l.conns, c, s)
		l.connsMu.Unlock()
		l.wg.Add(2)
		go l.pipe(c, s, l.down, &l.downBytes) // server to phone
		go l.pipe(s, c, l.up, &l.upBytes)     // phone to server
	}
}

type chunk struct {
	b  []byte
	at time.Time
}

// pipe carries src to dst over lk: each chunk is transmitted, then arrives delay later.
func (l *line) pipe(dst, src net.Conn, lk *link, count *atomic.Int64) {
	defer l.wg.Done()
	q := make(chan chunk, 1024)
	go func() {
		defer close(q)
		for {
			b := make([]byte, 1460) // one TCP segment at a time, so connections share the link
			n, err := src.Read(b)
			if n > 0 {
				count.Add(int64(n))
				lk.transmit(n)
				q <- chunk{b[:n], time.Now().Add(l.delay)}
			}
			if err != nil {
				return
			}
		}
	}()
	for c := range q {
		time.Sleep(time.Until(c.at))
		if _, err := dst.Write(c.b); err != nil {
			break
		}
	}
	if tc, ok := dst.(*net.TCPConn); ok {
		tc.CloseWrite()
	}
	for range q { // drain after a failed write
	}
}

func (l *line) close() {
	l.closeOnce.Do(func() {
		l.ln.Close()
		<-l.acceptDone
		l.connsMu.Lock()
		for _, c := range l.conns {
			c.Close()
		}
		l.connsMu.Unlock()
		l.wg.Wait()
	})
}

// waitLong polls a JavaScript condition for as long as a slow line needs (minutes, not the
// harness's step timeout).
func (p *page) waitLong(cond string) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 5*time.Minute)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](cond, chromedp.WithPollingInterval(50*time.Millisecond),
		chromedp.WithPollingTimeout(5*time.Minute))); err != nil {
		p.t.Fatalf("waiting for %s: %v", cond, err)
	}
}

// BenchmarkSlowLine is the chair's first visit on a bad line: 400 kbit/s each way and a 400 ms
// round trip, through a proxy that carries the service worker's downloads too, with an empty
// cache. It reports when the login form is usable, when the math first answers the chair
// (math-first-ms: typed attendees get a threshold, by the server while the wasm loads),
// whether that answer came from the server, when rules.wasm is ready (math-wasm-ms), and the
// bytes that crossed the line down and up by then and once the offline copy is complete.
// Figures, not assertions; run it alone: go test ./web -run '^$' -bench SlowLine -benchtime 1x.
func BenchmarkSlowLine(b *testing.B) {
	e := startEnv(b)
	for b.Loop() {
		ln := newLine(b, e.addr, 400_000, 400*time.Millisecond)
		p := newPage(b, e)
		p.do(chromedp.Navigate(ln.URL() + "/"))
		p.wait(`window.caucusUsableAt > 0`)
		b.ReportMetric(eval[float64](p, `window.caucusUsableAt`), "usable-ms")
		p.login(precinct5, e.PINs[precinct5])
		p.waitLong(`!document.getElementById("step-signin").hidden`)
		p.typeCount("attendees", 100)
		p.waitLong(`document.getElementById("signin-math").textContent.includes("15")`)
		b.ReportMetric(eval[float64](p, `performance.now()`), "math-first-ms")
		server := 0.0
		if !eval[bool](p, `window.caucusReady === true`) {
			server = 1
		}
		b.ReportMetric(server, "math-first-by-server")
		p.waitLong(`window.caucusReady === true`)
		b.ReportMetric(eval[float64](p, `performance.now()`), "math-wasm-ms")
		b.ReportMetric(float64(ln.downBytes.Load()), "down-bytes-at-wasm")
		b.ReportMetric(eval[float64](p, `(performance.getEntriesByType("resource").find((r) => r.name.includes("rules.")) || {}).encodedBodySize || 0`), "wasm-encoded-bytes")
		p.waitLong(`navigator.serviceWorker.controller !== null`) // installed: every file is cached
		b.ReportMetric(eval[float64](p, `performance.now()`), "offline-ready-ms")
		b.ReportMetric(float64(ln.downBytes.Load()), "down-bytes")
		b.ReportMetric(float64(ln.upBytes.Load()), "up-bytes")
		ln.close()
	}
}
