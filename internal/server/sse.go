package server

import (
	"fmt"
	"net/http"
	"sync"
	"time"

	"caucus/internal/tally"
)

// SSE budgets.
const (
	// maxSubscribers bounds open event streams per site: each holds a goroutine and a socket.
	// Beyond it a client gets 503 and falls back to polling the (cacheable) results.
	maxSubscribers = 10000
	// heartbeat keeps proxies from closing an idle stream and lets us notice dead clients.
	heartbeat = 15 * time.Second
	// eventWriteTimeout bounds one write to a slow client; a client that cannot take an event in
	// this time is dropped rather than holding memory (reliability.md I3, O4).
	eventWriteTimeout = 10 * time.Second
)

// broadcaster fans the latest snapshot out to event streams. Subscribers only ever need the
// latest results, so each has a one-slot channel that a newer snapshot overwrites.
type broadcaster struct {
	mu   sync.Mutex
	subs map[chan *tally.Snapshot]struct{}
}

func newBroadcaster() *broadcaster {
	return &broadcaster{subs: map[chan *tally.Snapshot]struct{}{}}
}

func (b *broadcaster) subscribe() (chan *tally.Snapshot, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.subs) >= maxSubscribers {
		return nil, false
	}
	ch := make(chan *tally.Snapshot, 1)
	b.subs[ch] = struct{}{}
	return ch, true
}

func (b *broadcaster) unsubscribe(ch chan *tally.Snapshot) {
	b.mu.Lock()
	delete(b.subs, ch)
	b.mu.Unlock()
}

func (b *broadcaster) publish(s *tally.Snapshot) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for ch := range b.subs {
		select {
		case <-ch: // drop the older snapshot not yet sent
		default:
		}
		ch <- s
	}
}

// handleEvents streams a `results` event with the current results at once, then one each
// time they change.
func (s *Server) handleEvents(site *Site, w http.ResponseWriter, r *http.Request) {
	ch, ok := site.events.subscribe()
	if !ok {
		s.writeError(w, r, busy("too many open event streams; poll /api/v1/results instead"))
		return
	}
	defer site.events.unsubscribe(ch)
	rc := http.NewResponseController(w)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	send := func(snap *tally.Snapshot) error {
		rc.SetWriteDeadline(time.Now().Add(eventWriteTimeout))
		b, _ := snap.Results()
		if _, err := fmt.Fprintf(w, "event: results\nid: %d\ndata: %s\n\n", snap.LogSize(), trimNewline(b)); err != nil {
			return err
		}
		return rc.Flush()
	}
	if err := send(site.Snapshot()); err != nil {
		return
	}
	tick := time.NewTicker(heartbeat)
	defer tick.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case snap := <-ch:
			if err := send(snap); err != nil {
				return
			}
		case <-tick.C:
			rc.SetWriteDeadline(time.Now().Add(eventWriteTimeout))
			if _, err := fmt.Fprint(w, ": keep-alive\n\n"); err != nil || rc.Flush() != nil {
				return
			}
		}
	}
}

func trimNewline(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	return b
}
