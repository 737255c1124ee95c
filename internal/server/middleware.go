package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

type ctxKey int

const requestIDKey ctxKey = 1

// requestID is the request's id for error bodies and log lines: the process's random prefix
// and the request's sequence number, formatted only when something asks for it (errors), so
// that a read answered from memory pays one atomic add for it.
func requestID(r *http.Request) string {
	if id, ok := r.Context().Value(requestIDKey).(*reqID); ok {
		return id.String()
	}
	return ""
}

// reqIDPrefix makes request ids unique across restarts: 8 random bytes per process, in hex.
var reqIDPrefix = func() string {
	var b [8]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}()

// reqIDSeq numbers the requests of this process.
var reqIDSeq atomic.Uint64

// reqID is a request's id before it is formatted.
type reqID struct{ n uint64 }

func (id *reqID) String() string { return reqIDPrefix + "-" + strconv.FormatUint(id.n, 16) }

// reqCtx is the request's context with its id: one allocation where context.WithValue would
// take two (the context and the boxed id).
type reqCtx struct {
	context.Context
	id reqID
}

func (c *reqCtx) Value(key any) any {
	if key == requestIDKey {
		return &c.id
	}
	return c.Context.Value(key)
}

// The security headers' values, shared by every response (each a one-element slice: adding
// to a header copies it, and nothing writes into a header's values in place).
var (
	hdrCSP       = []string{"default-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"}
	hdrHSTS      = []string{"max-age=31536000; includeSubDomains"}
	hdrNoSniff   = []string{"nosniff"}
	hdrNoReferer = []string{"no-referrer"}
	hdrDeny      = []string{"DENY"}
	hdrNoStore   = []string{"no-store"}
)

// securityHeaders are on every response, errors and 404s included (reliability.md A6). The
// keys are already canonical, so they are set directly, without Set's canonicalising and
// allocating a slice per header per request.
func securityHeaders(h http.Header) {
	h["Content-Security-Policy"] = hdrCSP
	h["Strict-Transport-Security"] = hdrHSTS
	h["X-Content-Type-Options"] = hdrNoSniff
	h["Referrer-Policy"] = hdrNoReferer
	h["X-Frame-Options"] = hdrDeny
}

// statusWriter remembers the status for metrics and logs.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// reqState is what the middleware allocates per request, in one piece.
type reqState struct {
	ctx reqCtx
	sw  statusWriter
}

// wrap is the outer middleware: request id, security headers, cross-origin protection for
// every state-changing request (reliability.md A5), panic recovery, metrics and one log line.
// The metrics of each route are resolved once (routeMetrics), not per request.
func (s *Server) wrap(next http.Handler) http.Handler {
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.writeError(w, r, errorf(http.StatusForbidden, "cross_origin", "cross-origin request refused"))
	}))
	inner := cop.Handler(next)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := s.now()
		st := &reqState{ctx: reqCtx{Context: r.Context(), id: reqID{n: reqIDSeq.Add(1)}}}
		r = r.WithContext(&st.ctx)
		securityHeaders(w.Header())
		// A request with credentials gets an answer no cache keeps (ASVS 14.3.2), unless its
		// handler says the answer is public.
		if _, ok := r.Header["Authorization"]; ok {
			w.Header()["Cache-Control"] = hdrNoStore
		}
		sw := &st.sw
		sw.ResponseWriter = w
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				s.log.ErrorContext(r.Context(), "panic", slog.String("request_id", requestID(r)), slog.Any("panic", p))
				if sw.status == 0 {
					s.writeError(sw, r, errorf(http.StatusInternalServerError, "internal", "internal error"))
				}
			}
			status := sw.status
			if status == 0 {
				status = http.StatusOK
			}
			rm := s.metrics.route(r.Pattern)
			rm.count(status)
			rm.latency.Observe(time.Since(start).Seconds())
		}()
		inner.ServeHTTP(sw, r)
	})
}

// clientAddr is the client's address for throttling (ASVS 15.3.4, reliability.md O3): the
// connection's peer, unless the peer is one of the configured trusted proxies. Then
// X-Forwarded-For is read from the right (the hop nearest this server, which the trusted proxy
// appended), skipping hops that are themselves trusted proxies; the first untrusted hop is the
// client. Everything left of it was written by the client (or a proxy it chose) and is never
// believed. A malformed hop ends the walk at the last trusted one, whose own address is used:
// the client cannot make itself look like someone else, only like its proxy.
func (s *Server) clientAddr(r *http.Request) netip.Addr {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return netip.IPv4Unspecified()
	}
	addr := ap.Addr().Unmap()
	if !trusted(s.trusted, addr) {
		return addr
	}
	hops := r.Header.Values("X-Forwarded-For")
	for i := len(hops) - 1; i >= 0; i-- {
		list := hops[i]
		for list != "" {
			var hop string
			if j := strings.LastIndexByte(list, ','); j >= 0 {
				list, hop = list[:j], list[j+1:]
			} else {
				list, hop = "", list
			}
			a, err := netip.ParseAddr(strings.TrimSpace(hop))
			if err != nil {
				return addr
			}
			addr = a.Unmap()
			if !trusted(s.trusted, addr) {
				return addr
			}
		}
	}
	return addr
}

func trusted(proxies []netip.Prefix, a netip.Addr) bool {
	for _, p := range proxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
