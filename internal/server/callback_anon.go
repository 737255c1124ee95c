package server

import (
	"net/http"
	"net/netip"
	"sync"
	"time"

	"caucus/internal/store"
)

// A chair who cannot log in is the one who most needs a call: POST /api/v1/callbacks without an
// Authorization header (the contract's "no login needed"), or its alias
// /api/v1/callbacks/anonymous, takes a call-back request without a session. The precinct is matched as login matches it
// (election.Definition.FindPrecinct) and must be one of the election's; the phone is checked as
// the logged-in route checks it. Since anyone may call it, it is throttled per client address
// (IPv4 address or IPv6 /48, as auth groups addresses) and per precinct, in fixed windows.
const (
	anonCallbackWindow       = time.Hour
	anonCallbacksPerAddress  = 5 // a gym's shared address: a few chairs' requests an hour
	anonCallbacksPerPrecinct = 5 // headquarters calls a precinct back once; 5 covers a wrong number
	// anonCallbackKeys bounds the limiter's memory: past it in one window, requests from
	// addresses not yet counted are refused until the window turns.
	anonCallbackKeys = 100_000
)

// windowLimit counts requests per key in fixed windows, and refuses a key past its limit until
// the window turns.
type windowLimit struct {
	mu     sync.Mutex
	window time.Time
	counts map[string]int
}

// take counts one request for every key, or none when one of them is at its limit; it returns
// how long until the window turns when it refuses.
func (l *windowLimit) take(now time.Time, keys []string, limits []int) (ok bool, retry time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if w := now.Truncate(anonCallbackWindow); !w.Equal(l.window) || l.counts == nil {
		l.window, l.counts = w, map[string]int{}
	}
	retry = l.window.Add(anonCallbackWindow).Sub(now)
	for i, k := range keys {
		n, seen := l.counts[k]
		if n >= limits[i] || (!seen && len(l.counts) >= anonCallbackKeys) {
			return false, retry
		}
	}
	for _, k := range keys {
		l.counts[k]++
	}
	return true, 0
}

// callbackAddrGroup is the client's address group: an IPv4 address or an IPv6 /48.
func callbackAddrGroup(a netip.Addr) string {
	if !a.IsValid() {
		return "unknown"
	}
	a = a.Unmap()
	if a.Is6() {
		p, _ := a.Prefix(48)
		return p.String()
	}
	return a.String()
}

// handleAnonymousCallback puts a precinct in headquarters' call-back queue for a chair who is
// not logged in.
func (s *Server) handleAnonymousCallback(site *Site, _ http.Header, r *http.Request) (any, int, error) {
	req, err := decodeCallback(r)
	if err != nil {
		return nil, 0, err
	}
	p, ok := site.def.FindPrecinct(req.PrecinctID)
	if !ok {
		return nil, 0, errorf(http.StatusBadRequest, "unknown_precinct", "no precinct %q in this election: type the ID or the name printed on the packet", req.PrecinctID)
	}
	keys := []string{"addr/" + callbackAddrGroup(s.clientAddr(r)), "precinct/" + p.ID}
	if ok, retry := s.anonCallbacks.take(s.now(), keys, []int{anonCallbacksPerAddress, anonCallbacksPerPrecinct}); !ok {
		return nil, 0, &apiError{status: http.StatusTooManyRequests, code: "throttled",
			msg: "headquarters already has call-back requests for this precinct or from this address: they will call", retryAfter: retry}
	}
	cb, err := site.night.AddCallback(r.Context(), store.NewCallback{PrecinctID: p.ID, Phone: req.Phone, Note: req.Note, Actor: "anonymous"})
	if err != nil {
		return nil, 0, callbackError(err)
	}
	return map[string]any{"callback_id": cb.ID, "precinct_id": p.ID, "phone": req.Phone, "at": cb.At.UTC().Format("2006-01-02T15:04:05Z")}, http.StatusCreated, nil
}
