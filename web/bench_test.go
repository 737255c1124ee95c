package web_test

import (
	"context"
	"io"
	"net/http"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"caucus/web"
)

// Chromium DevTools' "Slow 3G" preset: 400 ms × 5 latency, 500 kbit/s × 0.8 each way.
const (
	slow3GLatency = 2000
	slow3GBytes   = 500 * 1000 / 8 * 0.8
)

// BenchmarkLoginSlow3G measures whether a chair's cheap phone on a slow network gets in: the
// app's compressed bytes, the
// login page's time-to-usable under Slow 3G with an empty cache (the page's own script has made
// the form work; cold-app-ms is when app.js has taken over), and a reload with the app
// cached by the service worker (still under Slow 3G). Figures, not assertions.
func BenchmarkLoginSlow3G(b *testing.B) {
	assets, err := web.Load()
	if err != nil {
		b.Fatal(err)
	}
	var all int
	for _, a := range assets.All() {
		n := len(a.Data)
		if a.Gzip != nil {
			n = len(a.Gzip)
		}
		all += n
	}
	e := startEnv(b)
	// The login screen is the page alone (its style and script are in it): its bytes as sent.
	req, _ := http.NewRequest("GET", e.URL+"/", nil)
	req.Header.Set("Accept-Encoding", "gzip")
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		b.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	login := len(page)
	all += login
	for b.Loop() {
		p := newPage(b, e)
		p.do(chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
			_, err := cdp.Call(ctx, t, network.EmulateNetworkConditionsByRule, network.EmulateNetworkConditionsByRuleParams{
				MatchedNetworkConditions: []*network.Conditions{{Latency: slow3GLatency, DownloadThroughput: slow3GBytes, UploadThroughput: slow3GBytes}}})
			return err
		}))
		p.open("/")
		b.ReportMetric(eval[float64](p, `window.caucusUsableAt`), "cold-usable-ms")
		p.wait(`window.caucusAppAt > 0`)
		b.ReportMetric(eval[float64](p, `window.caucusAppAt`), "cold-app-ms")
		p.mathReady()
		b.ReportMetric(eval[float64](p, `performance.now()`), "cold-math-ms")
		p.wait(`navigator.serviceWorker.controller !== null`)
		p.wait(`caches.keys().then((k) => k.length > 0)`)
		p.reload()
		b.ReportMetric(eval[float64](p, `window.caucusUsableAt`), "cached-usable-ms")
		p.mathReady()
		b.ReportMetric(eval[float64](p, `performance.now()`), "cached-math-ms")
	}
	b.ReportMetric(float64(all), "app-gzip-bytes")
	b.ReportMetric(float64(login), "login-gzip-bytes")
}
