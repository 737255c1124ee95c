package client

// The chair's side of the contract: log in with a precinct's PIN, submit the precinct report
// with its report_id, and send it again, byte for byte, until the server answers. Used by
// `caucus simulate` (internal/simulate); the chair app in the browser does the same in
// JavaScript.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"time"

	"caucus/internal/report"
	"caucus/internal/rules"
)

// maxAnswer bounds a login or submission answer: a receipt with its checks is about 2 KiB.
const maxAnswer = 1 << 20

// StatusError is an answer that is not the one asked for: the status, the server's error code
// and message, and the Retry-After it gave, if any.
type StatusError struct {
	Op         string
	Status     int
	Code       string
	Message    string
	RetryAfter time.Duration
}

func (e *StatusError) Error() string {
	if e.Code != "" {
		return fmt.Sprintf("%s: %d %s: %s", e.Op, e.Status, e.Code, e.Message)
	}
	return fmt.Sprintf("%s: %d %s", e.Op, e.Status, e.Message)
}

// Login is POST /api/v1/login with a precinct id and PIN; it returns the session token. A wrong
// PIN, a throttled precinct or a refused request is a *StatusError (401, 429, 400…).
func (c *Client) Login(ctx context.Context, precinctID, pin string) (string, error) {
	return c.login(ctx, map[string]string{"precinct_id": precinctID, "pin": pin})
}

// LoginToken is POST /api/v1/login with a precinct ID and the token of its QR code (the link
// on the precinct packet), and returns the session token.
func (c *Client) LoginToken(ctx context.Context, precinctID, token string) (string, error) {
	return c.login(ctx, map[string]string{"precinct_id": precinctID, "token": token})
}

// LoginStaff is POST /api/v1/login with a staff user name and password (a hotline operator
// submits for any precinct).
func (c *Client) LoginStaff(ctx context.Context, username, password string) (string, error) {
	return c.login(ctx, map[string]string{"username": username, "password": password})
}

func (c *Client) login(ctx context.Context, body map[string]string) (string, error) {
	b, _ := json.Marshal(body)
	status, h, out, err := c.post(ctx, "api/v1/login", "", b)
	if err != nil {
		return "", err
	}
	if status != http.StatusOK {
		return "", statusError("login", status, h, out)
	}
	var o struct {
		Token string `json:"token"`
	}
	if err := json.Unmarshal(out, &o); err != nil || o.Token == "" {
		return "", fmt.Errorf("login: the answer has no token: %.200s", out)
	}
	return o.Token, nil
}

// Submitted is the server's answer to a report: 201 (stored, accepted or flagged), 200 (the
// same report again), 409 (a different report for the precinct, kept and flagged; or a
// report_id reused for different numbers) or 422 (refused, nothing stored).
type Submitted struct {
	Status  int
	Receipt *report.Receipt // 200, 201 and 409; nil for 422
	Checks  []rules.Check   // every check that fired (422: the errors among them)
	Message string
	Tries   int // requests sent, the last one answered
}

// Retry says how Submit sends a report again when the answer did not come (a cut connection,
// a timeout) or said to come back (503, 429): always the same bytes, so the same report_id.
type Retry struct {
	Attempts int           // requests in all; 0: 1
	MaxWait  time.Duration // cap on one wait; Retry-After is honoured up to it
	// Before, when set, is called before each new attempt with the failure that caused it
	// (a transport error or a *StatusError); it may block (e.g. until a restarted server is
	// up) and returns an error to stop.
	Before func(ctx context.Context, attempt int, cause error) error
}

// Submit is POST /api/v1/reports of r's canonical bytes with a Bearer token, sent again per
// retry until an answer other than 503/429 comes. Any answer of the contract (200, 201, 409,
// 422) is a Submitted; 401, 403, 400, 413 are a *StatusError; when the attempts run out the
// last failure is returned: the report may or may not be stored, and sending it again with the
// same report_id is always safe.
func (c *Client) Submit(ctx context.Context, token string, r report.Report, retry Retry) (Submitted, error) {
	body := r.Canonical()
	attempts := max(retry.Attempts, 1)
	var last error
	for try := 1; try <= attempts; try++ {
		if try > 1 {
			if retry.Before != nil {
				if err := retry.Before(ctx, try, last); err != nil {
					return Submitted{Tries: try - 1}, err
				}
			}
			if err := wait(ctx, retryWait(last, try, retry.MaxWait)); err != nil {
				return Submitted{Tries: try - 1}, err
			}
		}
		s, err := c.SubmitBytes(ctx, token, body)
		s.Tries = try
		var se *StatusError
		switch {
		case err == nil:
			return s, nil
		case errors.As(err, &se) && se.Status != http.StatusServiceUnavailable && se.Status != http.StatusTooManyRequests:
			return s, err
		case ctx.Err() != nil:
			return s, ctx.Err()
		}
		last = err
	}
	return Submitted{Tries: attempts}, last
}

// SubmitBytes sends one report body once.
func (c *Client) SubmitBytes(ctx context.Context, token string, body []byte) (Submitted, error) {
	status, h, out, err := c.post(ctx, "api/v1/reports", token, body)
	if err != nil {
		return Submitted{}, err
	}
	return ParseSubmitted(status, h, out)
}

// ParseSubmitted reads a submission's answer from its status, headers and body.
func ParseSubmitted(status int, h http.Header, body []byte) (Submitted, error) {
	switch status {
	case http.StatusOK, http.StatusCreated, http.StatusConflict, http.StatusUnprocessableEntity:
	default:
		return Submitted{Status: status}, statusError("submit", status, h, body)
	}
	var o struct {
		report.Receipt
		Inner   *report.Receipt `json:"receipt"`
		Checks  []rules.Check   `json:"checks"`
		Message string          `json:"error"`
	}
	if err := json.Unmarshal(body, &o); err != nil {
		return Submitted{Status: status}, fmt.Errorf("submit: %d with a body that is not JSON: %.200s", status, body)
	}
	s := Submitted{Status: status, Checks: o.Checks, Message: o.Message}
	switch {
	case o.Inner != nil:
		s.Receipt = o.Inner
	case status != http.StatusUnprocessableEntity:
		rc := o.Receipt
		s.Receipt = &rc
	}
	if s.Receipt != nil && (s.Receipt.ReportID == "" || s.Receipt.LeafHash == "") {
		return s, fmt.Errorf("submit: %d without a receipt: %.200s", status, body)
	}
	return s, nil
}

func (c *Client) post(ctx context.Context, path, token string, body []byte) (int, http.Header, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+path, bytes.NewReader(body))
	if err != nil {
		return 0, nil, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, nil, nil, fmt.Errorf("POST /%s: %w", path, err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return 0, nil, nil, fmt.Errorf("POST /%s: %d, reading the answer: %w", path, resp.StatusCode, err)
	}
	return resp.StatusCode, resp.Header, out, nil
}

func statusError(op string, status int, h http.Header, body []byte) *StatusError {
	var o struct {
		Error string `json:"error"`
		Code  string `json:"code"`
	}
	json.Unmarshal(body, &o)
	if o.Error == "" {
		o.Error = http.StatusText(status)
	}
	e := &StatusError{Op: op, Status: status, Code: o.Code, Message: o.Error}
	if s, err := strconv.Atoi(h.Get("Retry-After")); err == nil && s >= 0 {
		e.RetryAfter = time.Duration(s) * time.Second
	}
	return e
}

// retryWait is the wait before attempt try: the server's Retry-After, else a doubling backoff
// from 10 ms, capped at max, with jitter so that retries do not come back together.
func retryWait(cause error, try int, maxWait time.Duration) time.Duration {
	d := 10 * time.Millisecond << min(try-2, 10)
	var se *StatusError
	if errors.As(cause, &se) && se.RetryAfter > 0 {
		d = se.RetryAfter
	}
	if maxWait > 0 && d > maxWait {
		d = maxWait
	}
	return d/2 + rand.N(d/2+1)
}

func wait(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Keyed is the answer to one operator's copy of a worksheet (POST /api/v1/hotline/entries):
// its state (waiting_second, matched, mismatch, refused), the receipt of the matched report,
// and the fields on which the copies differ.
type Keyed struct {
	Status      int
	State       string          `json:"state"`
	Receipt     *report.Receipt `json:"receipt"`
	Counted     string          `json:"counted"`
	Operators   []string        `json:"operators"`
	Checks      []rules.Check   `json:"checks"`
	Differences []struct {
		Field       string `json:"field"`
		CandidateID string `json:"candidate_id"`
	} `json:"differences"`
}

// KeyHotline sends one operator's copy of a precinct's worksheet, the caller verified by the
// precinct's PIN, with the operator's session token; 503 and 429 are sent again per retry.
// Any other answer but 200, 201 and 422 is a *StatusError.
func (c *Client) KeyHotline(ctx context.Context, token, pin string, r report.Report, retry Retry) (Keyed, error) {
	var rep map[string]any
	json.Unmarshal(r.Canonical(), &rep)
	delete(rep, "report_id") // the round's report gets its own
	body, err := json.Marshal(map[string]any{"precinct_id": r.PrecinctID, "verified_by": "pin", "pin": pin, "report": rep})
	if err != nil {
		return Keyed{}, err
	}
	var last error
	for try := 1; try <= max(retry.Attempts, 1); try++ {
		if try > 1 {
			if err := wait(ctx, retryWait(last, try, retry.MaxWait)); err != nil {
				return Keyed{}, err
			}
		}
		status, h, out, err := c.post(ctx, "api/v1/hotline/entries", token, body)
		if err != nil {
			last = err
			continue
		}
		switch status {
		case http.StatusOK, http.StatusCreated, http.StatusUnprocessableEntity:
			k := Keyed{Status: status}
			if err := json.Unmarshal(out, &k); err != nil {
				return k, fmt.Errorf("key hotline copy: %d with a body that is not JSON: %.200s", status, out)
			}
			return k, nil
		case http.StatusServiceUnavailable, http.StatusTooManyRequests:
			last = statusError("key hotline copy", status, h, out)
		default:
			return Keyed{Status: status}, statusError("key hotline copy", status, h, out)
		}
	}
	return Keyed{}, last
}
