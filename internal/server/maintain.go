package server

import (
	"context"
	"log/slog"
	"time"
)

// maintenanceEvery is how often the server forgets old per-address login counters and expired
// sessions: hourly keeps the throttle tables small under a flood of junk logins from many
// addresses (reliability.md O3) without touching any precinct's guessing budget, which only a
// staff reset reopens.
const maintenanceEvery = time.Hour

// maintain runs the hourly housekeeping until ctx is done.
func (s *Server) maintain(ctx context.Context) {
	tick := time.NewTicker(maintenanceEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			if n, err := s.auth.ExpireAddressCounters(ctx); err != nil {
				s.log.ErrorContext(ctx, "expire address counters", slog.Any("err", err))
			} else if n > 0 {
				s.log.InfoContext(ctx, "expired address counters", slog.Int("n", n))
			}
		}
	}
}
