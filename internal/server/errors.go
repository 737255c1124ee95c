package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"mime"
	"net/http"
	"strconv"
	"time"

	"caucus/internal/auth"
)

// apiError is an error with a status and a message safe to show the user: the one place that
// decides what a failure looks like on the wire (STYLE.md §4).
type apiError struct {
	status     int
	code       string
	msg        string
	retryAfter time.Duration
}

func (e *apiError) Error() string { return e.msg }

func errorf(status int, code, format string, args ...any) *apiError {
	return &apiError{status: status, code: code, msg: fmt.Sprintf(format, args...)}
}

// busy is the answer when the server cannot keep up: 503 with a jittered Retry-After, so that
// phones retrying do not come back all at once (reliability.md O1: 2–10 s for chairs).
func busy(msg string) *apiError {
	return &apiError{status: http.StatusServiceUnavailable, code: "busy", msg: msg,
		retryAfter: time.Duration(2+rand.IntN(9)) * time.Second}
}

// authStatus maps auth's error codes to statuses, in one table.
var authStatus = map[string]int{
	auth.CodeTypo:            http.StatusBadRequest,
	auth.CodeBadLink:         http.StatusBadRequest,
	auth.CodeBadCredentials:  http.StatusUnauthorized,
	auth.CodeThrottled:       http.StatusTooManyRequests,
	auth.CodePINClosed:       http.StatusTooManyRequests,
	auth.CodeNotOpen:         http.StatusForbidden,
	auth.CodeUnauthenticated: http.StatusUnauthorized,
	auth.CodeInvalidArgument: http.StatusBadRequest,
	auth.CodeTooLong:         http.StatusBadRequest,
	auth.CodeBusy:            http.StatusServiceUnavailable, // with auth's jittered Retry-After
	auth.CodeWeakPassword:    http.StatusBadRequest,
}

// apiErrorOf is the answer err gets: its apiError, auth's error mapped to a status, or nil for
// anything else (an internal error).
func apiErrorOf(err error) *apiError {
	var ae *apiError
	var autherr *auth.Error
	switch {
	case errors.As(err, &ae):
		return ae
	case errors.As(err, &autherr):
		status, ok := authStatus[autherr.Code]
		if !ok {
			status = http.StatusUnauthorized
		}
		return &apiError{status: status, code: autherr.Code, msg: autherr.Message, retryAfter: autherr.RetryAfter}
	}
	return nil
}

// statusOf is the HTTP status writeError gives err.
func statusOf(err error) int {
	if ae := apiErrorOf(err); ae != nil {
		return ae.status
	}
	return http.StatusInternalServerError
}

// writeError writes err as JSON {error, code, request_id}. Anything that is not an apiError or
// an auth error is "internal error", logged in full with the request id.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	ae := apiErrorOf(err)
	if ae == nil {
		s.log.ErrorContext(r.Context(), "internal error", slog.String("request_id", requestID(r)),
			slog.String("path", r.URL.Path), slog.Any("err", err))
		ae = &apiError{status: http.StatusInternalServerError, code: "internal", msg: "internal error; the request id identifies it in the server log"}
	}
	// An error is never cached (a 404 is cacheable by default, RFC 9111 §4.2.2), whatever
	// the route set before it failed.
	w.Header()["Cache-Control"] = hdrNoStore
	if ae.retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int((ae.retryAfter+time.Second-1)/time.Second)))
	}
	writeJSON(w, ae.status, map[string]any{"error": ae.msg, "code": ae.code, "request_id": requestID(r)})
}

// writeJSON writes v as JSON with a status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error":"internal error","code":"internal"}`)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}

// jsonWork is a JSON handler's work: it reads the request and returns the value to write and
// its status, or an error for writeError. It may set headers on success; it never writes.
type jsonWork func(site *Site, h http.Header, r *http.Request) (v any, status int, err error)

// serveJSON is the one place a JSON handler's answer is written (STYLE.md §7): it caps the
// request body at maxBody bytes (0: the route takes none) and requires it to be JSON, runs the
// work, and writes its value with writeJSON or its error with writeError.
func (s *Server) serveJSON(maxBody int64, work jsonWork) func(*Site, http.ResponseWriter, *http.Request) {
	return s.serveBody(maxBody, true, work)
}

// serveBody is serveJSON for a route whose body may be other than JSON (a photo): the work
// checks its media type itself when json is false. The answer is not cached unless the work
// says otherwise: logins, receipts and everything answered to a session are no-store.
func (s *Server) serveBody(maxBody int64, json bool, work jsonWork) func(*Site, http.ResponseWriter, *http.Request) {
	return func(site *Site, w http.ResponseWriter, r *http.Request) {
		if maxBody > 0 {
			if json && !isJSON(r.Header.Get("Content-Type")) {
				s.writeError(w, r, errorf(http.StatusUnsupportedMediaType, "content_type", "send the body as application/json"))
				return
			}
			r.Body = http.MaxBytesReader(w, r.Body, maxBody)
		}
		v, status, err := work(site, w.Header(), r)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		if _, ok := w.Header()["Cache-Control"]; !ok {
			w.Header()["Cache-Control"] = hdrNoStore
		}
		writeJSON(w, status, v)
	}
}

// isJSON says whether a request's Content-Type is JSON: exactly the media type
// application/json, parameters allowed ("; charset=utf-8"), or no Content-Type at all (a
// client that sends none still has to send JSON). "application/jsonfoo" and
// "application/json-seq" are not JSON.
func isJSON(ct string) bool {
	if ct == "" {
		return true
	}
	mt, _, err := mime.ParseMediaType(ct)
	return err == nil && mt == "application/json"
}

// readBody reads a request body capped by serveJSON, saying what was too large (what, limit)
// or unreadable.
func readBody(r *http.Request, what string, limit int64) ([]byte, error) {
	b, err := io.ReadAll(r.Body)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, errorf(http.StatusRequestEntityTooLarge, "too_large", "the %s is larger than %d bytes", what, limit)
		}
		return nil, errorf(http.StatusBadRequest, "bad_body", "the %s could not be read", what)
	}
	return b, nil
}
