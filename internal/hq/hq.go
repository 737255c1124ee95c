// Package hq is headquarters' view of the night: the progress board (precincts reporting, by
// county, status and channel; the missing precincts with their chairs' contacts; the review
// queue's length; the precincts whose PIN budget is being spent; readiness before the night)
// and its live updates, and the chairs' contacts (contacts.csv). It reads the night's tally
// snapshots (never a second copy of the tally), the practice election's, and, through a small
// Store, the audit trail's logins and the login failure counts.
//
// It is not HTTP (internal/server serves the board to staff sessions only), not the review
// queue, and not authentication.
package hq

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"caucus/internal/auth"
	"caucus/internal/election"
	"caucus/internal/hotline"
	"caucus/internal/store"
	"caucus/internal/tally"
)

// Night is what the board reads of an election's night (night.Night).
type Night interface {
	Definition() *election.Definition
	// Snapshot is the current results, immutable.
	Snapshot() *tally.Snapshot
	// Subscribe returns a channel holding the latest snapshot whenever it changes, and the
	// function that ends the subscription.
	Subscribe() (<-chan *tally.Snapshot, func(), error)
}

// Store is what the board reads of the election's database (store/sqlite implements it).
type Store interface {
	// Audit returns up to limit audit rows with ID > after, ordered by ID.
	Audit(ctx context.Context, after int64, limit int) ([]store.AuditRecord, error)
	// LoginFailures returns the aggregated failed-login rows from the minute since on.
	LoginFailures(ctx context.Context, since time.Time) ([]auth.FailureCount, error)
	// Throttle returns key's counter (zero when it has none).
	Throttle(ctx context.Context, key string) (auth.ThrottleCounter, error)
}

// Config sets up an HQ.
type Config struct {
	Main     Night
	Practice Night // optional: the practice election over the same precincts
	Store    Store
	Contacts Contacts // nil: no contacts.csv was given
	// FlushFailures, if set, writes the failed logins this process holds in memory
	// (auth.Authenticator.FlushFailures) before the board reads them, so that the board counts
	// every wrong PIN this server has seen.
	FlushFailures func(context.Context)
	// Hotline, if set, gives the hotline's figures for the board (calls waiting, average
	// wait, operators busy): hotline.Desk.Stats.
	Hotline func(context.Context) (hotline.Stats, error)
	Now     func() time.Time
	Log     *slog.Logger
}

// Budgets of the board's work.
const (
	// MinInterval is the least time between two computations of the board for its event
	// stream: a burst of reports makes one board event, not one per commit. A board costs one
	// pass over the precincts, whatever the number of staff following it.
	MinInterval = time.Second
	// PollEvery is how often the stream looks for what no commit announces (logins, failed
	// logins), and how old a board GET may serve when the results have not changed.
	PollEvery = 5 * time.Second
	// AttackWindow is how far back failed logins count on the board (a caucus night is shorter).
	AttackWindow = 12 * time.Hour
	// MaxAttacks bounds the precincts listed under login_attacks, those with the most failures
	// first: each costs a read of its counter.
	MaxAttacks = 100
	// auditPage is how many audit rows one read takes.
	auditPage = 1000
	// failureSettle is how long after its minute a failure row can still grow: the
	// authenticators write their counts every few seconds while failures come (and this
	// process's at once, Config.FlushFailures). Older minutes are read once and kept.
	failureSettle = 10 * time.Minute
)

// HQ computes the progress board and streams it. It is safe for concurrent use.
type HQ struct {
	cfg Config

	mu         sync.Mutex // guards the followers and the cached board
	auditAfter int64
	lastSeen   map[string]time.Time // precinct → the chair's latest login
	settled    map[string]failures  // failed logins of the minutes before settledTo
	settledTo  time.Time
	board      *Board
	boardAt    time.Time
	boardOf    [2]*tally.Snapshot // the snapshots board was computed from

	smu     sync.Mutex // guards the subscribers
	subs    map[chan []byte]struct{}
	stop    chan struct{} // closed when the last subscriber leaves
	running bool
}

type failures struct {
	count int
	last  time.Time
}

// New makes an HQ. Config.Main, Store and Now are required.
func New(cfg Config) (*HQ, error) {
	if cfg.Main == nil || cfg.Store == nil || cfg.Now == nil {
		return nil, errors.New("hq: Main, Store and Now are required")
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	return &HQ{cfg: cfg, lastSeen: map[string]time.Time{}, settled: map[string]failures{},
		settledTo: cfg.Now().Add(-AttackWindow).Truncate(time.Minute), subs: map[chan []byte]struct{}{}}, nil
}

// Board returns the progress board: computed again when the results changed or it is older
// than PollEvery, else the one computed last.
func (h *HQ) Board(ctx context.Context) (*Board, error) {
	return h.board1(ctx, PollEvery)
}

// board1 is Board with the age a board may have.
func (h *HQ) board1(ctx context.Context, maxAge time.Duration) (*Board, error) {
	snaps := [2]*tally.Snapshot{h.cfg.Main.Snapshot(), nil}
	if h.cfg.Practice != nil {
		snaps[1] = h.cfg.Practice.Snapshot()
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	now := h.cfg.Now()
	if h.board != nil && snaps == h.boardOf && now.Sub(h.boardAt) < maxAge {
		return h.board, nil
	}
	if err := h.followLogins(ctx); err != nil {
		return nil, err
	}
	attacks, err := h.attacks(ctx, now)
	if err != nil {
		return nil, err
	}
	var calls *hotline.Stats
	if h.cfg.Hotline != nil {
		st, err := h.cfg.Hotline(ctx)
		if err != nil {
			return nil, fmt.Errorf("board: hotline figures: %w", err)
		}
		calls = &st
	}
	h.board = compute(inputs{def: h.cfg.Main.Definition(), snap: snaps[0], practice: snaps[1],
		lastSeen: h.lastSeen, attacks: attacks, contacts: h.cfg.Contacts})
	h.board.Hotline = calls
	h.boardAt, h.boardOf = now, snaps
	return h.board, nil
}

// followLogins reads the audit rows written since the last call and keeps each precinct's
// latest chair login. The work follows the rows written, not the trail's length.
func (h *HQ) followLogins(ctx context.Context) error {
	for {
		rows, err := h.cfg.Store.Audit(ctx, h.auditAfter, auditPage)
		if err != nil {
			return fmt.Errorf("read the audit trail: %w", err)
		}
		for _, r := range rows {
			h.auditAfter = r.ID
			if r.Kind == store.AuditLoginOK && r.PrecinctID != "" && r.At.After(h.lastSeen[r.PrecinctID]) {
				h.lastSeen[r.PrecinctID] = r.At
			}
		}
		if len(rows) < auditPage {
			return nil
		}
	}
}

// spends reports whether a failed login of this reason is a guess at a precinct's PIN or link
// (not a typo, which never counts).
func spends(reason string) bool {
	return reason == auth.CodeBadCredentials || reason == auth.CodeThrottled || reason == auth.CodePINClosed
}

// attacks are the precincts with failed logins in the window, with their budget counters.
// Minutes older than failureSettle are read once and kept; the recent ones are read again.
func (h *HQ) attacks(ctx context.Context, now time.Time) ([]Attack, error) {
	if h.cfg.FlushFailures != nil {
		h.cfg.FlushFailures(ctx)
	}
	rows, err := h.cfg.Store.LoginFailures(ctx, h.settledTo)
	if err != nil {
		return nil, fmt.Errorf("read login failures: %w", err)
	}
	settle := now.Add(-failureSettle).Truncate(time.Minute)
	recent := map[string]failures{}
	for _, r := range rows {
		if r.PrecinctID == "" || !spends(r.Reason) {
			continue
		}
		m := recent
		if r.Minute.Before(settle) {
			m = h.settled
		}
		f := m[r.PrecinctID]
		f.count += r.Count
		if r.Minute.After(f.last) {
			f.last = r.Minute
		}
		m[r.PrecinctID] = f
	}
	if settle.After(h.settledTo) {
		h.settledTo = settle
	}
	all := make(map[string]failures, len(h.settled)+len(recent))
	for id, f := range h.settled {
		all[id] = f
	}
	for id, f := range recent {
		a := all[id]
		a.count += f.count
		if f.last.After(a.last) {
			a.last = f.last
		}
		all[id] = a
	}
	out := make([]Attack, 0, len(all))
	for id, f := range all {
		out = append(out, Attack{PrecinctID: id, Failures: f.count, LastFailure: f.last, Budget: auth.PrecinctBudget})
	}
	slices.SortFunc(out, func(x, y Attack) int {
		if x.Failures != y.Failures {
			return y.Failures - x.Failures
		}
		if x.PrecinctID < y.PrecinctID {
			return -1
		}
		return 1
	})
	if len(out) > MaxAttacks {
		out = out[:MaxAttacks]
	}
	for i := range out {
		c, err := h.cfg.Store.Throttle(ctx, auth.PrecinctKeyPrefix+out[i].PrecinctID)
		if err != nil {
			return nil, fmt.Errorf("read the PIN budget of %s: %w", out[i].PrecinctID, err)
		}
		out[i].BudgetSpent, out[i].Closed = c.Count, c.Count >= auth.PrecinctBudget
	}
	return out, nil
}

// Subscribe returns a channel that holds the latest board, as JSON, whenever it changes (a
// newer board replaces one not yet received), and the function that ends the subscription.
// One goroutine follows the nights for every subscriber, while there is one: it computes the
// board at most once per MinInterval, when the results change or every PollEvery.
func (h *HQ) Subscribe() (<-chan []byte, func()) {
	ch := make(chan []byte, 1)
	h.smu.Lock()
	h.subs[ch] = struct{}{}
	if !h.running {
		h.running, h.stop = true, make(chan struct{})
		go h.follow(h.stop)
	}
	h.smu.Unlock()
	return ch, func() {
		h.smu.Lock()
		defer h.smu.Unlock()
		if _, ok := h.subs[ch]; !ok {
			return
		}
		delete(h.subs, ch)
		if len(h.subs) == 0 && h.running {
			h.running = false
			close(h.stop)
		}
	}
}

// follow recomputes and publishes the board until stop is closed.
func (h *HQ) follow(stop <-chan struct{}) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-stop
		cancel()
	}()
	changed := make(chan struct{}, 1)
	for _, n := range []Night{h.cfg.Main, h.cfg.Practice} {
		if n == nil {
			continue
		}
		snaps, unsubscribe, err := n.Subscribe()
		if err != nil {
			h.cfg.Log.Warn("board: results not followed; polling", slog.Any("err", err))
			continue
		}
		defer unsubscribe()
		go func() {
			for {
				select {
				case <-ctx.Done():
					return
				case <-snaps:
					select {
					case changed <- struct{}{}:
					default:
					}
				}
			}
		}()
	}
	poll := time.NewTicker(PollEvery)
	defer poll.Stop()
	var last []byte
	for {
		b, err := h.board1(ctx, 0)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			h.cfg.Log.Error("board not computed", slog.Any("err", err))
		} else if body, err := json.Marshal(b); err == nil && string(body) != string(last) {
			last = body
			h.publish(body)
		}
		// Coalesce: the next board is no sooner than MinInterval after this one.
		select {
		case <-ctx.Done():
			return
		case <-time.After(MinInterval):
		}
		select {
		case <-ctx.Done():
			return
		case <-changed:
		case <-poll.C:
		}
	}
}

func (h *HQ) publish(body []byte) {
	h.smu.Lock()
	defer h.smu.Unlock()
	for ch := range h.subs {
		select {
		case <-ch:
		default:
		}
		ch <- body
	}
}
