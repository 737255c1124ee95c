package server

import (
	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the Prometheus series at /metrics.
type metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	reports  *prometheus.CounterVec // by outcome: accepted, flagged, conflict, duplicate, reused, rejected, busy
	logins   *prometheus.CounterVec // by result: ok, failed, throttled
	batch    prometheus.Histogram   // commit batch sizes
}

func newMetrics() *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "caucus_http_requests_total",
			Help: "HTTP requests by route and status."}, []string{"route", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "caucus_http_request_seconds",
			Help: "HTTP request latency by route.", Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16)}, []string{"route"}),
		reports: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "caucus_reports_total",
			Help: "Report submissions by outcome."}, []string{"election", "outcome"}),
		logins: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "caucus_logins_total",
			Help: "Login attempts by result."}, []string{"result"}),
		batch: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "caucus_commit_batch_entries",
			Help: "Entries per group commit.", Buckets: prometheus.ExponentialBuckets(1, 2, 9)}),
	}
	m.reg.MustRegister(m.requests, m.latency, m.reports, m.logins, m.batch,
		prometheus.NewGoCollector(), prometheus.NewProcessCollector(prometheus.ProcessCollectorOpts{}))
	return m
}
