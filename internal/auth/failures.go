package auth

import (
	"context"
	"log/slog"
	"net/netip"
	"sync"
	"time"
)

// FailureCount is one aggregated row of failed or refused logins: how many came in one
// minute for one precinct from one client address group, for one reason. It is what the
// audit trail keeps of unauthenticated attempts (reliability.md A8: every attempt is
// recorded, as a count), so that a flood of junk logins updates a bounded set of rows instead
// of writing one per attempt, and never stores what an attacker typed.
type FailureCount struct {
	Minute     time.Time // the start of the minute, on auth's clock
	PrecinctID string    // a precinct that exists; "" for any unknown precinct and for staff
	Client     string    // the address group (addressGroup), or OverflowClient
	Reason     string    // an Error code (CodeTypo, CodeBadCredentials, CodeThrottled, …)
	Count      int
}

// Aggregation bounds: the memory of failures not yet written, whatever the flood.
const (
	// maxFailureGroups is how many distinct (precinct, client, reason) rows one minute may
	// have; past it new groups are counted under OverflowClient with no precinct. It bounds
	// both the memory held (the groups of the current minute, about 100 bytes each) and the
	// rows written: at most maxFailureGroups + one per reason each minute, under 100 KiB a
	// minute however many addresses a flood comes from.
	maxFailureGroups = 1024

	// failureFlushEvery is how often held counts are written (in one transaction): at most
	// this much of the record is lost if the process dies, and the store sees one write per
	// period however many junk logins arrive.
	failureFlushEvery = 2 * time.Second

	// OverflowClient is the Client of counts that arrived when maxFailureGroups were held:
	// a flood from more addresses than that is recorded, only not address by address.
	OverflowClient = "*"
)

type failureKey struct {
	minute           int64
	precinct, client string
	reason           string
}

// failureLog aggregates failures in memory and writes them to the store at most once per
// failureFlushEvery, by the caller that finds the period over (no goroutine of its own).
type failureLog struct {
	store Store
	log   *slog.Logger

	mu       sync.Mutex
	held     map[failureKey]int
	minute   int64                   // the minute of seen
	seen     map[failureKey]struct{} // the groups of that minute, written or held
	last     time.Time               // of the latest flush
	flushing bool
}

// add counts one failure and flushes when the period is over.
func (l *failureLog) add(ctx context.Context, now time.Time, precinct string, client netip.Addr, reason string) {
	k := failureKey{minute: now.Truncate(time.Minute).UnixMilli(), precinct: precinct,
		client: addressGroup(client), reason: reason}
	l.mu.Lock()
	if l.held == nil {
		l.held = make(map[failureKey]int)
		l.last = now
	}
	if k.minute != l.minute {
		l.minute, l.seen = k.minute, make(map[failureKey]struct{})
	}
	if _, ok := l.seen[k]; !ok {
		if len(l.seen) >= maxFailureGroups {
			k.client, k.precinct = OverflowClient, ""
		}
		l.seen[k] = struct{}{}
	}
	l.held[k]++
	due := !l.flushing && now.Sub(l.last) >= failureFlushEvery
	l.mu.Unlock()
	if due {
		l.flush(ctx, now)
	}
}

// flush writes the held counts in one transaction. On a store error the counts are kept for
// the next flush (and the error logged): they are the audit record.
func (l *failureLog) flush(ctx context.Context, now time.Time) {
	l.mu.Lock()
	if l.flushing || len(l.held) == 0 {
		l.mu.Unlock()
		return
	}
	l.flushing = true
	held := l.held
	l.held = make(map[failureKey]int)
	l.mu.Unlock()

	counts := make([]FailureCount, 0, len(held))
	total := 0
	for k, n := range held {
		counts = append(counts, FailureCount{Minute: time.UnixMilli(k.minute).UTC(), PrecinctID: k.precinct,
			Client: k.client, Reason: k.reason, Count: n})
		total += n
	}
	err := l.store.AddLoginFailures(context.WithoutCancel(ctx), counts)

	l.mu.Lock()
	defer l.mu.Unlock()
	l.flushing, l.last = false, now
	if err != nil {
		for k, n := range held { // the groups are already in seen: no more than before
			l.held[k] += n
		}
		l.log.LogAttrs(ctx, slog.LevelError, "login failures not written", slog.Any("err", err))
		return
	}
	l.log.LogAttrs(ctx, slog.LevelWarn, "login failures", slog.Int("count", total), slog.Int("rows", len(counts)))
}

// FlushFailures writes the failures held in memory now; call it before closing the store.
func (a *Authenticator) FlushFailures(ctx context.Context) {
	a.failures.flush(ctx, a.now())
}
