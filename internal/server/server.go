// Package server is caucus's HTTP layer: the contract of spec/interfaces.md (login, reports,
// results, results.csv, events, healthz, metrics) over an election's night (internal/night:
// reports in, results and the log out) and auth (who may do what). It holds no caucus logic and
// wires nothing of its own: handlers decode, call the night, and write, and one table maps
// failures to statuses. No SQL driver: the command that runs it opens the stores.
//
// One server serves an election and, optionally, its practice twin under /practice, with the
// same credentials (chairs rehearse with the PIN they will use), marked PRACTICE in every
// response: a "practice": true field in JSON bodies and a Caucus-Election: PRACTICE header.
package server

import (
	"context"
	"log/slog"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"caucus/internal/auth"
	"caucus/internal/election"
	"caucus/internal/hotline"
	"caucus/internal/hq"
	"caucus/internal/night"
)

// Config sets up a Server.
type Config struct {
	Main     *night.Night
	Practice *night.Night // optional: the practice election, served under /practice
	Auth     *auth.Authenticator
	// Hotline, if set, is the election's hotline (double entry and call-back queue): its
	// routes and the /hq/hotline console are served only with it.
	Hotline *hotline.Desk
	Log     *slog.Logger
	Now     func() time.Time
	// TrustedProxies are the peers whose X-Forwarded-For is believed (clientAddr); none: the
	// client address is always the connection's peer.
	TrustedProxies []netip.Prefix
	// MaxStreams bounds the open event streams of all sites together; 0 takes half the
	// process's file-descriptor limit, at most maxStreams (streamCap).
	MaxStreams int
	// HQ is headquarters' progress board (internal/hq), served to staff at /hq and
	// /api/v1/hq/board; nil: those routes are not served.
	HQ *hq.HQ
}

// Server is the HTTP handler set. Create it with New and serve Handler; the nights it serves
// run on their own (night.Night.Run).
type Server struct {
	main, practice *Site
	auth           *auth.Authenticator
	hotline        *hotline.Desk
	log            *slog.Logger
	now            func() time.Time
	metrics        *metrics
	trusted        []netip.Prefix
	photoSlots     chan struct{} // photos being decoded (photoDecoders)
	streams        atomic.Int64  // open event streams
	maxStreams     int64
	anonCallbacks  windowLimit // call-back requests without a login (callback_anon.go)
	hq             *hq.HQ      // headquarters' board; nil: not served
}

// New makes a Server of the nights in cfg.
func New(cfg Config) *Server {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	s := &Server{auth: cfg.Auth, hotline: cfg.Hotline, log: cfg.Log, now: cfg.Now, metrics: newMetrics(), trusted: cfg.TrustedProxies,
		photoSlots: make(chan struct{}, photoDecoders), hq: cfg.HQ}
	if cfg.MaxStreams <= 0 {
		cfg.MaxStreams = streamCap(fileLimit())
	}
	s.maxStreams = int64(cfg.MaxStreams)
	s.main = s.newSite(cfg.Main)
	if cfg.Practice != nil {
		s.practice = s.newSite(cfg.Practice)
	}
	return s
}

func (s *Server) sites() []*Site {
	if s.practice != nil {
		return []*Site{s.main, s.practice}
	}
	return []*Site{s.main}
}

// Site is one election as the server serves it: its night, and what the HTTP layer keeps of
// its own (the headers of the documents served last, the report outcome counters).
type Site struct {
	night   *night.Night
	def     *election.Definition // night.Definition(), read once
	metrics *metrics

	practice bool     // def.Election().Practice, read once
	hdr      struct { // the header values of the documents served last
		results, counties, csv hdrCache
	}
	outcomes sync.Map // report outcome → prometheus.Counter, resolved once
}

func (s *Server) newSite(n *night.Night) *Site {
	n.ObserveBatches(func(entries int) { s.metrics.batch.Observe(float64(entries)) })
	def := n.Definition()
	return &Site{night: n, def: def, metrics: s.metrics, practice: def.Election().Practice}
}

// SignCheckpoint signs a checkpoint of every entry stored so far on each site's night, now
// (night.Night.SignCheckpoint), for tests that check the log without waiting for its interval.
func (s *Server) SignCheckpoint(ctx context.Context) error {
	for _, site := range s.sites() {
		if err := site.night.SignCheckpoint(ctx); err != nil {
			return err
		}
	}
	return nil
}
