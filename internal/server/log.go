package server

import (
	"context"
	"encoding/base64"
	"fmt"

	"caucus/internal/tally"
	"caucus/internal/tlog"
	"caucus/internal/tlog/c2sp"
)

// siteLog is a site's transparency log.
type siteLog struct{ *tlog.Log }

// openLog opens the election's log, creating its key with the election.
func openLog(ctx context.Context, cfg SiteConfig) (siteLog, error) {
	lg, err := tlog.Open(ctx, tlog.Config{Store: cfg.Store, Origin: c2sp.Origin(cfg.Def.Election().ID), Log: cfg.Log})
	if err != nil {
		return siteLog{}, fmt.Errorf("open transparency log: %w", err)
	}
	return siteLog{lg}, nil
}

// names is what the results say of the log: its key and the root hash of each size.
func (lg siteLog) names() tally.Log {
	return tally.Log{PublicKey: lg.VerifierKey(), RootHash: func(size int64) string {
		h, ok := lg.RootHash(size)
		if !ok {
			return ""
		}
		return base64.StdEncoding.EncodeToString(h[:])
	}}
}

// SignCheckpoint signs a checkpoint of every entry stored so far on each site, now (tests, and
// anyone who needs a checkpoint without waiting for the next interval).
func (s *Server) SignCheckpoint(ctx context.Context) error {
	for _, site := range s.sites() {
		size, err := site.store.Size(ctx)
		if err != nil {
			return err
		}
		if err := site.follow(ctx, size); err != nil {
			return err
		}
		if err := site.tlog.Sign(ctx); err != nil {
			return err
		}
	}
	return nil
}

// Log is the site's transparency log.
func (site *Site) Log() *tlog.Log { return site.tlog }
