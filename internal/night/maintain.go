package night

import (
	"context"
	"log/slog"
	"time"
)

// maintenanceEvery is how often the night does its housekeeping: it forgets old per-address
// login counters, which keeps the throttle tables small under a flood of junk logins from many
// addresses (reliability.md O3) without touching any precinct's guessing budget, which only a
// staff reset reopens; and it deletes expired sessions, so that the sessions table holds only
// live ones (a chair's session lasts the night, and the night is a few hours).
const maintenanceEvery = time.Hour

// AddressCounters is the login throttle's housekeeping (auth.Authenticator provides it).
type AddressCounters interface {
	// ExpireAddressCounters forgets the per-address login counters past their window and says
	// how many it removed.
	ExpireAddressCounters(ctx context.Context) (int, error)
}

// Sessions is the session table's housekeeping (auth.Authenticator provides it).
type Sessions interface {
	// DeleteExpiredSessions deletes the sessions expired by now and says how many.
	DeleteExpiredSessions(ctx context.Context) (int, error)
}

// maintain runs the hourly housekeeping until ctx is done.
func (n *Night) maintain(ctx context.Context) {
	tick := time.NewTicker(maintenanceEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			n.housekeep(ctx)
		}
	}
}

// housekeep does one round of the housekeeping, logging what it removed and what failed (a
// failure is retried at the next round: nothing depends on it but the tables' size).
func (n *Night) housekeep(ctx context.Context) {
	if n.counters != nil {
		if k, err := n.counters.ExpireAddressCounters(ctx); err != nil {
			n.log.ErrorContext(ctx, "expire address counters", slog.Any("err", err))
		} else if k > 0 {
			n.log.InfoContext(ctx, "expired address counters", slog.Int("n", k))
		}
	}
	if n.sessions != nil {
		if k, err := n.sessions.DeleteExpiredSessions(ctx); err != nil {
			n.log.ErrorContext(ctx, "delete expired sessions", slog.Any("err", err))
		} else if k > 0 {
			n.log.InfoContext(ctx, "deleted expired sessions", slog.Int("n", k))
		}
	}
}
