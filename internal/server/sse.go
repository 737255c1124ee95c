package server

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"caucus/internal/night"
	"caucus/internal/tally"
)

// SSE budgets.
const (
	// heartbeat keeps proxies from closing an idle stream and lets us notice dead clients.
	heartbeat = 15 * time.Second
	// eventWriteTimeout bounds one write to a slow client; a client that cannot take an event in
	// this time is dropped rather than holding memory (reliability.md I3, O4).
	eventWriteTimeout = 10 * time.Second
)

// handleEvents streams a `results` event with the current results at once, then one each
// time they change.
func (s *Server) handleEvents(site *Site, w http.ResponseWriter, r *http.Request) {
	// The night bounds the open streams (each holds a goroutine and a socket); beyond it a client
	// gets 503 and falls back to polling the (cacheable) results.
	ch, unsubscribe, err := site.night.Subscribe()
	if errors.Is(err, night.ErrTooManySubscribers) {
		s.writeError(w, r, busy("too many open event streams; poll /api/v1/results instead"))
		return
	} else if err != nil {
		s.writeError(w, r, err)
		return
	}
	defer unsubscribe()
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
	if err := send(site.night.Snapshot()); err != nil {
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
