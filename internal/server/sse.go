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

// maxStreams bounds the open event streams when the descriptor limit allows more: each holds a
// goroutine, a socket and a little memory.
const maxStreams = 10000

// streamCap is how many event streams the server keeps open with a file-descriptor limit of
// nofile: half of it, at most maxStreams, so that the other half is left for the chairs'
// connections, the databases and the listeners however many readers follow the results. The
// sites share it: the election's and the practice twin's streams together stay below the limit.
func streamCap(nofile uint64) int {
	return int(min(nofile/2, maxStreams))
}

// handleEvents streams a `results` event with the current results at once, then one each
// time they change.
func (s *Server) handleEvents(site *Site, w http.ResponseWriter, r *http.Request) {
	// The server bounds the open streams (each holds a goroutine and a socket), and so does each
	// night; beyond either a client gets 503 and falls back to polling the (cacheable) results.
	if s.streams.Add(1) > s.maxStreams {
		s.streams.Add(-1)
		s.writeError(w, r, busy("too many open event streams; poll /api/v1/results instead"))
		return
	}
	defer s.streams.Add(-1)
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
