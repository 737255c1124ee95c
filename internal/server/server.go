// Package server is caucus's HTTP layer: the contract of spec/interfaces.md (login, reports,
// results, results.csv, events, healthz, metrics) over the intake (reports in), the tally
// (results out) and auth (who may do what). It holds no caucus logic of its own: handlers decode,
// call, and write, and one table maps failures to statuses.
//
// One server serves an election and, optionally, its practice twin under /practice, with the
// same credentials (chairs rehearse with the PIN they will use), marked PRACTICE in every
// response: a "practice": true field in JSON bodies and a Caucus-Election: PRACTICE header.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"sync"
	"time"

	"caucus/internal/auth"
	"caucus/internal/election"
	"caucus/internal/intake"
	"caucus/internal/store"
	"caucus/internal/tally"
	"caucus/internal/tlog"
)

// Config sets up a Server.
type Config struct {
	Main     *Site
	Practice *Site // optional: the practice election, served under /practice
	Auth     *auth.Authenticator
	Log      *slog.Logger
	Now      func() time.Time
	// TrustedProxies are the peers whose X-Forwarded-For is believed (clientAddr); none: the
	// client address is always the connection's peer.
	TrustedProxies []netip.Prefix
}

// Server is the HTTP handler set. Create it with New, serve Handler, and run Run beside it.
type Server struct {
	main, practice *Site
	auth           *auth.Authenticator
	log            *slog.Logger
	now            func() time.Time
	metrics        *metrics
	trusted        []netip.Prefix
}

// New makes a Server.
func New(cfg Config) *Server {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	s := &Server{main: cfg.Main, practice: cfg.Practice, auth: cfg.Auth, log: cfg.Log, now: cfg.Now, metrics: newMetrics(),
		trusted: cfg.TrustedProxies}
	for _, site := range s.sites() {
		site.metrics = s.metrics
	}
	return s
}

func (s *Server) sites() []*Site {
	if s.practice != nil {
		return []*Site{s.main, s.practice}
	}
	return []*Site{s.main}
}

// Run runs the sites' committers, the log integrators and the hourly housekeeping until ctx is
// done; a commit under way is finished first.
func (s *Server) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for _, site := range s.sites() {
		wg.Go(func() { site.intake.Run(ctx) })
		wg.Go(func() { site.tlog.Run(ctx) })
	}
	wg.Go(func() { s.maintain(ctx) })
	wg.Wait()
}

// Site is one election served: its definition, store, intake and tally.
type Site struct {
	def     *election.Definition
	store   store.Store
	intake  *intake.Intake
	tally   *tally.Tally
	tlog    *tlog.Log
	log     *slog.Logger
	metrics *metrics

	mu     sync.Mutex // serialises follow
	events *broadcaster

	practice bool     // def.Election().Practice, read once
	hdr      struct { // the header values of the documents served last
		results, counties, csv hdrCache
	}
	outcomes sync.Map // report outcome → prometheus.Counter, resolved once
}

// SiteConfig sets up a Site.
type SiteConfig struct {
	Def   *election.Definition
	Store store.Store
	Log   *slog.Logger
	Now   func() time.Time
	// Intake tunes the group commit; zero values take the intake's defaults.
	MaxBatch, Queue int
}

// rebuildChunk is how many entries one read takes when the tally is rebuilt at start-up.
const rebuildChunk = 4096

// NewSite opens a site: it checks that the store belongs to this election (or claims a new
// store for it) and rebuilds the tally from every stored entry.
func NewSite(ctx context.Context, cfg SiteConfig) (*Site, error) {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	id := cfg.Def.Election().ID
	settings, err := cfg.Store.InitSettings(ctx, id)
	if err != nil {
		if errors.Is(err, store.ErrConflict) {
			return nil, fmt.Errorf("the database belongs to election %q, not %q", settings.ElectionID, id)
		}
		return nil, fmt.Errorf("claim store for election %s: %w", id, err)
	}
	lg, err := openLog(ctx, cfg)
	if err != nil {
		return nil, err
	}
	site := &Site{def: cfg.Def, store: cfg.Store, tally: tally.NewWithLog(cfg.Def, lg.names()), tlog: lg.Log,
		log: cfg.Log, events: newBroadcaster(), practice: cfg.Def.Election().Practice}
	site.intake = intake.New(intake.Config{Store: cfg.Store, Def: cfg.Def, Now: cfg.Now, Log: cfg.Log,
		MaxBatch: cfg.MaxBatch, Queue: cfg.Queue,
		Committed: func(size int64) {
			if err := site.follow(context.Background(), size); err != nil {
				cfg.Log.Error("tally could not follow the log", slog.Any("err", err))
			}
		},
		CommittedLeaves: func(size int64, leaves []intake.Leaf) {
			parsed := make([]tally.Leaf, len(leaves))
			for i, l := range leaves {
				parsed[i] = tally.Leaf(l)
			}
			if err := site.follow(context.Background(), size, parsed...); err != nil {
				cfg.Log.Error("tally could not follow the log", slog.Any("err", err))
			}
		},
		BatchSize: func(n int) {
			if site.metrics != nil {
				site.metrics.batch.Observe(float64(n))
			}
		}})
	size, err := cfg.Store.Size(ctx)
	if err != nil {
		return nil, fmt.Errorf("read log size: %w", err)
	}
	if err := site.follow(ctx, size); err != nil {
		return nil, fmt.Errorf("rebuild tally: %w", err)
	}
	if err := site.tlog.Sign(ctx); err != nil {
		return nil, fmt.Errorf("sign checkpoint at start-up: %w", err)
	}
	return site, nil
}

// follow folds the log's entries up to size into the tally and tells the event listeners;
// leaves are ones the intake already parsed.
func (site *Site) follow(ctx context.Context, size int64, leaves ...tally.Leaf) error {
	site.mu.Lock()
	defer site.mu.Unlock()
	from := site.tally.Snapshot().LogSize()
	if size <= from {
		return nil
	}
	for from < size {
		to := min(size, from+rebuildChunk)
		es, err := site.store.Entries(ctx, from, to)
		if err != nil {
			return err
		}
		if len(es) == 0 {
			break
		}
		if err := site.tlog.Append(es...); err != nil {
			return err
		}
		if err := site.tally.ApplyParsed(leaves, es...); err != nil {
			return err
		}
		from += int64(len(es))
	}
	site.events.publish(site.tally.Snapshot())
	return nil
}

// Definition is the site's election.
func (site *Site) Definition() *election.Definition { return site.def }

// Snapshot is the site's current results.
func (site *Site) Snapshot() *tally.Snapshot { return site.tally.Snapshot() }
