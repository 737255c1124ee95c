package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"caucus/internal/auth"
	"caucus/internal/night"
	"caucus/internal/results"
)

// Headquarters' progress board (internal/hq) and the publication policy, for staff sessions
// only: every role reads them (the observer's view is the same board, read-only); only an
// admin sets the policy. The board holds the chairs' names and phones: it is answered no-store
// and never to a request without a staff session.

// maxPolicyBytes bounds PUT /api/v1/hq/policy's body: {"under_review": "withheld"}.
const maxPolicyBytes = 256

// hqRoutes registers the board, its event stream and the policy, when the server has an HQ.
func (s *Server) hqRoutes(mux *http.ServeMux) {
	if s.hq == nil {
		return
	}
	mux.HandleFunc("GET /api/v1/hq/board", s.onMain(s.staffJSON(0, rolesStaff, s.handleBoard)))
	mux.HandleFunc("GET /api/v1/hq/events", s.onMain(s.handleBoardEvents))
	mux.HandleFunc("GET /api/v1/hq/policy", s.onMain(s.staffJSON(0, rolesStaff, s.handlePolicy)))
	mux.HandleFunc("PUT /api/v1/hq/policy", s.onMain(s.staffJSON(maxPolicyBytes, rolesAdmin, s.handleSetPolicy)))
	s.hqPageRoutes(mux)
}

func (s *Server) handleBoard(site *Site, _ auth.Session, _ http.Header, r *http.Request) (any, int, error) {
	b, err := s.hq.Board(r.Context())
	if err != nil {
		return nil, 0, err
	}
	return b, http.StatusOK, nil
}

// policyAnswer is GET and PUT /api/v1/hq/policy's answer: the policy in force, and whether it
// may still change (the log holds no entry yet).
type policyAnswer struct {
	results.Policy
	Settable bool  `json:"settable"`
	LogSize  int64 `json:"log_size"`
}

func policyOf(site *Site) policyAnswer {
	size := site.night.Snapshot().LogSize()
	return policyAnswer{Policy: site.night.Policy(), Settable: size == 0, LogSize: size}
}

func (s *Server) handlePolicy(site *Site, _ auth.Session, _ http.Header, _ *http.Request) (any, int, error) {
	return policyOf(site), http.StatusOK, nil
}

// handleSetPolicy sets the publication policy before the night: {under_review: "marked" |
// "withheld"}. 409 once the log holds an entry (a different policy), 400 for another value.
func (s *Server) handleSetPolicy(site *Site, _ auth.Session, _ http.Header, r *http.Request) (any, int, error) {
	var req results.Policy
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, 0, errorf(http.StatusRequestEntityTooLarge, "too_large", "the policy is larger than %d bytes", maxPolicyBytes)
		}
		return nil, 0, errorf(http.StatusBadRequest, "invalid_argument", `send {"under_review": "marked"} or {"under_review": "withheld"}`)
	}
	switch err := site.night.SetPolicy(r.Context(), req); {
	case errors.Is(err, night.ErrInvalidPolicy):
		return nil, 0, errorf(http.StatusBadRequest, "invalid_argument", `under_review is "marked" or "withheld", not %q`, req.UnderReview)
	case errors.Is(err, night.ErrPolicyLocked):
		return nil, 0, errorf(http.StatusConflict, "policy_locked",
			"the publication policy is set before the night; the log already holds %d entries, published %s", site.night.Snapshot().LogSize(), site.night.Policy().UnderReview)
	case err != nil:
		return nil, 0, err
	}
	return policyOf(site), http.StatusOK, nil
}

// handleBoardEvents streams a `board` event with the board at once, then one each time it
// changes (internal/hq coalesces bursts: one board per second at most, computed once for every
// stream). Staff only, every role; it counts among the server's open streams. The session is
// checked again before every event and heartbeat, so a stream ends soon after its session does
// (a logout, an account disabled, the idle or absolute limit).
func (s *Server) handleBoardEvents(site *Site, w http.ResponseWriter, r *http.Request) {
	if _, err := s.staffSession(site, r, rolesStaff); err != nil {
		s.writeError(w, r, err)
		return
	}
	token := staffToken(r)
	live := func() bool {
		_, err := s.auth.Authenticate(r.Context(), token)
		return err == nil
	}
	if s.streams.Add(1) > s.maxStreams {
		s.streams.Add(-1)
		s.writeError(w, r, busy("too many open event streams; poll /api/v1/hq/board instead"))
		return
	}
	defer s.streams.Add(-1)
	first, err := s.hq.Board(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	body, err := json.Marshal(first)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	ch, unsubscribe := s.hq.Subscribe()
	defer unsubscribe()
	rc := http.NewResponseController(w)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	send := func(b []byte) error {
		rc.SetWriteDeadline(time.Now().Add(eventWriteTimeout))
		if _, err := fmt.Fprintf(w, "event: board\ndata: %s\n\n", b); err != nil {
			return err
		}
		return rc.Flush()
	}
	if err := send(body); err != nil {
		return
	}
	tick := time.NewTicker(heartbeat)
	defer tick.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case b := <-ch:
			if !live() {
				return
			}
			if err := send(b); err != nil {
				return
			}
		case <-tick.C:
			if !live() {
				return
			}
			rc.SetWriteDeadline(time.Now().Add(eventWriteTimeout))
			if _, err := fmt.Fprint(w, ": keep-alive\n\n"); err != nil || rc.Flush() != nil {
				return
			}
		}
	}
}
