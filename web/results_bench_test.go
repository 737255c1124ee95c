package web_test

import (
	"context"
	"io"
	"net/http"
	"regexp"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

var staticRE = regexp.MustCompile(`(?:href|src)="(/static/[^"#]+)`)

// gzipBytes is what a browser downloads for a page with an empty cache: the page and each
// /static/ file it names, gzipped as the server sends them.
func gzipBytes(b *testing.B, base, path string) (page, total int) {
	fetch := func(p string) ([]byte, int) {
		req, _ := http.NewRequest("GET", base+p, nil)
		req.Header.Set("Accept-Encoding", "gzip")
		resp, err := (&http.Transport{DisableCompression: true}).RoundTrip(req)
		if err != nil {
			b.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return body, len(body)
	}
	_, page = fetch(path)
	plain, err := http.Get(base + path)
	if err != nil {
		b.Fatal(err)
	}
	html, _ := io.ReadAll(plain.Body)
	plain.Body.Close()
	total = page
	seen := map[string]bool{}
	for _, m := range staticRE.FindAllSubmatch(html, -1) {
		if u := string(m[1]); !seen[u] {
			seen[u] = true
			_, n := fetch(u)
			total += n
		}
	}
	return page, total
}

// BenchmarkStatewideSlow3G measures whether the public can read results on a phone on a slow
// network, for the statewide page of the
// Iowa 2020 election with seven precincts reported: its bytes (gzip; the page alone, which
// carries its style, and with its JavaScript and map) and, under Chromium's Slow 3G preset with
// an empty cache, the time to first contentful paint and to the load event. Figures, not
// assertions.
func BenchmarkStatewideSlow3G(b *testing.B) {
	e := startResults(b)
	for i, id := range seeded {
		e.report(false, id, 11*i+1)
	}
	page, total := gzipBytes(b, e.URL, "/results")
	for b.Loop() {
		p := resultsPage(b, e, 360, 740)
		p.do(chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
			if _, err := cdp.Call(ctx, t, network.SetCacheDisabled, network.SetCacheDisabledParams{CacheDisabled: true}); err != nil {
				return err
			}
			_, err := cdp.Call(ctx, t, network.EmulateNetworkConditionsByRule, network.EmulateNetworkConditionsByRuleParams{
				MatchedNetworkConditions: []*network.Conditions{{Latency: slow3GLatency, DownloadThroughput: slow3GBytes, UploadThroughput: slow3GBytes}}})
			return err
		}))
		p.do(chromedp.Navigate(e.URL + "/results"))
		p.wait(`performance.getEntriesByType("navigation")[0].loadEventEnd > 0`)
		b.ReportMetric(eval[float64](p, `performance.getEntriesByName("first-contentful-paint")[0].startTime`), "fcp-ms")
		b.ReportMetric(eval[float64](p, `performance.getEntriesByType("navigation")[0].loadEventEnd`), "load-ms")
	}
	b.ReportMetric(float64(page), "page-gzip-bytes")
	b.ReportMetric(float64(total), "total-gzip-bytes")
}
