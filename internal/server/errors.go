package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
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
}

// writeError writes err as JSON {error, code, request_id}. Anything that is not an apiError or
// an auth error is "internal error", logged in full with the request id.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var ae *apiError
	var autherr *auth.Error
	switch {
	case errors.As(err, &ae):
	case errors.As(err, &autherr):
		status, ok := authStatus[autherr.Code]
		if !ok {
			status = http.StatusUnauthorized
		}
		ae = &apiError{status: status, code: autherr.Code, msg: autherr.Message, retryAfter: autherr.RetryAfter}
	default:
		s.log.ErrorContext(r.Context(), "internal error", slog.String("request_id", requestID(r)),
			slog.String("path", r.URL.Path), slog.Any("err", err))
		ae = &apiError{status: http.StatusInternalServerError, code: "internal", msg: "internal error; the request id identifies it in the server log"}
	}
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
