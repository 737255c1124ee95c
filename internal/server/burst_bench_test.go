package server_test

import (
	"fmt"
	"testing"
	"time"

	"caucus/internal/server/servertest"
)

// BenchmarkBurst is load shedding seen from the chairs (reliability.md O1): `chairs` chairs send
// their reports at the same instant to a server on the real SQLite store, and each 503 is
// retried with the same report_id after a tenth of its Retry-After (the app waits all of it; a
// benchmark has no 2 to 10 s per round to spare), until every report is stored. It reports the
// latency of the answers that stored a report (accepted-p50-ms, accepted-p99-ms, the O1 target
// being p99 < 1 s), the share of attempts shed (shed-%), the share of chairs refused on their
// first try (first-shed-%), the retries per chair, and the time until every report was stored (all-stored-s).
// bench/run runs it once (-benchtime 1x); each iteration is a fresh server.
func BenchmarkBurst(b *testing.B) {
	for _, chairs := range []int{100, 250, 500, 1000, 2000} {
		b.Run(fmt.Sprintf("chairs=%d", chairs), func(b *testing.B) {
			var st burstStats
			for range b.N {
				b.StopTimer()
				env, hc, tokens, reports := startChairs(b, &faultStore{}, chairs, servertest.Options{})
				var acked servertest.Acked
				b.StartTimer()
				st = burst(b, env, hc, tokens, reports, func(int) time.Duration { return 0 }, 10, &acked)
				b.StopTimer()
				if len(acked.Receipts) != chairs || len(st.other) > 0 {
					b.Fatalf("%d of %d chairs acknowledged; other statuses %v", len(acked.Receipts), chairs, st.other)
				}
				env.Stop()
				b.StartTimer()
			}
			b.ReportMetric(float64(st.percentile(0.5))/1e6, "accepted-p50-ms")
			b.ReportMetric(float64(st.percentile(0.99))/1e6, "accepted-p99-ms")
			b.ReportMetric(100*float64(st.shed)/float64(st.attempts), "shed-%")
			b.ReportMetric(100*float64(st.firstShed)/float64(st.chairs), "first-shed-%")
			b.ReportMetric(float64(st.attempts-st.chairs)/float64(st.chairs), "retries/chair")
			b.ReportMetric(st.took.Seconds(), "all-stored-s")
		})
	}
}
