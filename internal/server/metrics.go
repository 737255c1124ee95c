package server

import (
	"slices"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the Prometheus series at /metrics.
type metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	reports  *prometheus.CounterVec // by outcome: accepted, flagged, conflict, duplicate, reused, rejected, busy
	logins   *prometheus.CounterVec // by result: ok, failed, throttled, shed
	batch    prometheus.Histogram   // commit batch sizes
	routes   sync.Map               // route pattern → *routeMetrics
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

// routeMetrics are one route's series, resolved once: a request adds to its counter and
// observes its latency without hashing label values.
type routeMetrics struct {
	m        *metrics
	route    string
	latency  prometheus.Observer
	mu       sync.Mutex                      // serialises adding a status
	byStatus atomic.Pointer[[]statusCounter] // copy on write: a few statuses per route
}

type statusCounter struct {
	status int
	c      prometheus.Counter
}

// route returns the series of a route pattern ("" is a request no route matched).
func (m *metrics) route(pattern string) *routeMetrics {
	if pattern == "" {
		pattern = "unmatched"
	}
	if rm, ok := m.routes.Load(pattern); ok {
		return rm.(*routeMetrics)
	}
	rm, _ := m.routes.LoadOrStore(pattern, &routeMetrics{m: m, route: pattern, latency: m.latency.WithLabelValues(pattern)})
	return rm.(*routeMetrics)
}

// count adds one request answered with status.
func (rm *routeMetrics) count(status int) {
	if cs := rm.byStatus.Load(); cs != nil {
		for _, c := range *cs {
			if c.status == status {
				c.c.Inc()
				return
			}
		}
	}
	rm.mu.Lock()
	var cs []statusCounter
	if p := rm.byStatus.Load(); p != nil {
		cs = *p
	}
	for _, c := range cs {
		if c.status == status {
			rm.mu.Unlock()
			c.c.Inc()
			return
		}
	}
	c := rm.m.requests.WithLabelValues(rm.route, strconv.Itoa(status))
	cs = append(slices.Clip(cs), statusCounter{status: status, c: c})
	rm.byStatus.Store(&cs)
	rm.mu.Unlock()
	c.Inc()
}
