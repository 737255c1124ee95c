package night

import (
	"context"
	"log/slog"
	"time"
)

// maintenanceEvery is how often the night forgets old per-address login counters: hourly keeps
// the throttle tables small under a flood of junk logins from many addresses (reliability.md
// O3) without touching any precinct's guessing budget, which only a staff reset reopens.
const maintenanceEvery = time.Hour

// maintain runs the hourly housekeeping until ctx is done.
func (n *Night) maintain(ctx context.Context) {
	tick := time.NewTicker(maintenanceEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			if k, err := n.counters.ExpireAddressCounters(ctx); err != nil {
				n.log.ErrorContext(ctx, "expire address counters", slog.Any("err", err))
			} else if k > 0 {
				n.log.InfoContext(ctx, "expired address counters", slog.Int("n", k))
			}
		}
	}
}
