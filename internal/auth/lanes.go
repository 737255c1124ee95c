package auth

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"
)

// lane is one bounded queue of hash work: at most cap(slots) hashes run at once and at most
// cap(admit) requests hold a place (running or waiting). A request that finds no place is
// shed at once with ErrBusy, never made to wait behind a flood: a burst of junk logins costs
// a refusal, not a minute of queueing, and a chair is told "busy, try again", never "wrong PIN".
//
// PIN, QR-token and staff logins each have their own lane, so a flood of one kind never
// starves another: chairs with the QR link get in however many bogus PINs arrive. Attempts
// at unknown precincts and users share a fourth, so made-up names, which nothing else slows
// (an attacker has addresses enough), never take a real chair's place; junk at real precincts
// is slowed by each precinct's own back-off.
type lane struct {
	name  string
	admit chan struct{} // places: running + waiting
	slots chan struct{} // running
}

func newLane(name string, running, waiting int) *lane {
	return &lane{name: name, admit: make(chan struct{}, running+waiting), slots: make(chan struct{}, running)}
}

// enter takes a place in the lane, or returns ErrBusy when every place is taken. The caller
// must call leave exactly once after a nil error.
func (l *lane) enter() error {
	select {
	case l.admit <- struct{}{}:
		return nil
	default:
		return busy()
	}
}

func (l *lane) leave() { <-l.admit }

// run runs f in one of the lane's hash slots, waiting for one (the lane's places bound the
// wait). The caller holds a place (enter).
func (l *lane) run(ctx context.Context, f func() error) error {
	select {
	case l.slots <- struct{}{}:
	case <-ctx.Done():
		return fmt.Errorf("wait for a %s hash slot: %w", l.name, ctx.Err())
	}
	defer func() { <-l.slots }()
	return f()
}

// Retry-After of a shed login: jittered over BusyRetryMin…BusyRetryMax so that phones told to
// come back do not come back together (reliability.md O1: 2–10 s for chairs).
const (
	BusyRetryMin = 2 * time.Second
	BusyRetryMax = 10 * time.Second
)

func busy() error {
	d := BusyRetryMin + rand.N(BusyRetryMax-BusyRetryMin+time.Second)
	return &Error{Code: CodeBusy, Message: ErrBusy.Message, RetryAfter: d.Truncate(time.Second)}
}
