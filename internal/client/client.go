// Package client is a Go client for caucus's public HTTP contract (spec/interfaces.md): the
// published results, the election definition, and the transparency log's checkpoint, tiles and
// entry bundles (C2SP tlog-tiles). It returns the bytes the server sent, byte for byte, beside
// the few typed views its users need; it does not check them (internal/verify does).
//
// It is not the server, and imports none of its code: only the wire contract.
package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"caucus/internal/results"
)

// MaxBody bounds a response: the largest is results.csv for a national election (tens of MB).
const MaxBody = 256 << 20

// requestTimeout bounds one request: a verifier on a slow link still finishes a tile in it.
const requestTimeout = 30 * time.Second

// idleConns is how many connections to the server the default client keeps open: verify reads
// a few documents at once, and the standard library's default of 2 would open and close a
// connection for nearly every one of a national election's 175,000 precinct pages.
const idleConns = 16

// ErrNotFound is a 404: the server has no such document (yet).
var ErrNotFound = errors.New("not found")

// Client reads one election's public documents from a server.
type Client struct {
	base string // ends with "/"
	http *http.Client
}

// New returns a client for the election served at baseURL (e.g. "http://127.0.0.1:8080/", or
// ".../practice/" for a practice election). A nil hc uses a client with a request timeout.
func New(baseURL string, hc *http.Client) (*Client, error) {
	u, err := url.Parse(baseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("%q is not an http(s) URL", baseURL)
	}
	if hc == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.MaxIdleConnsPerHost = idleConns
		hc = &http.Client{Timeout: requestTimeout, Transport: tr}
	}
	return &Client{base: strings.TrimSuffix(u.String(), "/") + "/", http: hc}, nil
}

// Get fetches a path below the base URL and returns the body of a 200 answer.
func (c *Client) Get(ctx context.Context, path string) ([]byte, error) {
	b, _, err := c.get(ctx, path)
	return b, err
}

// LogSizeHeader names, on every results response, the log size the document was computed from
// (a county's or precinct's body does not carry it).
const LogSizeHeader = "Caucus-Log-Size"

// logSize reads LogSizeHeader; -1 when the server sent none.
func logSize(h http.Header) int64 {
	n, err := strconv.ParseInt(h.Get(LogSizeHeader), 10, 64)
	if err != nil || n < 0 {
		return -1
	}
	return n
}

func (c *Client) get(ctx context.Context, path string) ([]byte, http.Header, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+strings.TrimPrefix(path, "/"), nil)
	if err != nil {
		return nil, nil, err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, nil, fmt.Errorf("GET %s: %w", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxBody+1))
	if err != nil {
		return nil, nil, fmt.Errorf("GET %s: %w", path, err)
	}
	switch {
	case len(body) > MaxBody:
		return nil, nil, fmt.Errorf("GET %s: the answer is larger than %d bytes", path, MaxBody)
	case resp.StatusCode == http.StatusNotFound:
		return nil, nil, fmt.Errorf("GET %s: %w", path, ErrNotFound)
	case resp.StatusCode != http.StatusOK:
		return nil, nil, &StatusError{Op: "GET " + path, Status: resp.StatusCode, Message: http.StatusText(resp.StatusCode)}
	}
	return body, resp.Header, nil
}

// Checkpoint is GET /log/checkpoint: the signed note, unchecked.
func (c *Client) Checkpoint(ctx context.Context) ([]byte, error) { return c.Get(ctx, "log/checkpoint") }

// Tile is GET /log/<path>, path being a C2SP tile path ("tile/0/x001/234", "tile/entries/000.p/7").
func (c *Client) Tile(ctx context.Context, path string) ([]byte, error) {
	return c.Get(ctx, "log/"+path)
}

// Election is GET /api/v1/election: the definition's files by name.
type Election struct {
	ElectionID string            `json:"election_id"`
	Files      map[string]string `json:"files"`
}

// GetJSON fetches a path and decodes its JSON into v, returning the raw bytes too.
func (c *Client) GetJSON(ctx context.Context, path string, v any) ([]byte, error) {
	b, _, err := c.getJSON(ctx, path, v)
	return b, err
}

// getJSON is GetJSON, with the log size the document names in its LogSizeHeader.
func (c *Client) getJSON(ctx context.Context, path string, v any) ([]byte, int64, error) {
	b, h, err := c.get(ctx, path)
	if err != nil {
		return nil, -1, err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return b, -1, fmt.Errorf("GET %s: not the expected JSON: %w", path, err)
	}
	return b, logSize(h), nil
}

// The results documents are internal/results' types, the one declaration the server writes
// and every reader decodes.

// Results is GET /api/v1/results.
func (c *Client) Results(ctx context.Context) (results.Results, error) {
	var r results.Results
	_, err := c.GetJSON(ctx, "api/v1/results", &r)
	return r, err
}

// Audit is GET /api/v1/audit: the risk-limiting audit as the server has it.
func (c *Client) Audit(ctx context.Context) (results.Audit, error) {
	var a results.Audit
	_, err := c.GetJSON(ctx, "api/v1/audit", &a)
	return a, err
}

// Counties is GET /api/v1/results/counties.
func (c *Client) Counties(ctx context.Context) (results.Counties, error) {
	var r results.Counties
	_, err := c.GetJSON(ctx, "api/v1/results/counties", &r)
	return r, err
}

// County is GET /api/v1/results/counties/{id}.
func (c *Client) County(ctx context.Context, id string) (results.County, error) {
	r, _, err := c.CountyAt(ctx, id)
	return r, err
}

// CountyAt is County with the log size it was computed from (LogSizeHeader; -1 if none): the
// document itself does not say.
func (c *Client) CountyAt(ctx context.Context, id string) (results.County, int64, error) {
	var r results.County
	_, n, err := c.getJSON(ctx, "api/v1/results/counties/"+url.PathEscape(id), &r)
	return r, n, err
}

// Precinct is GET /api/v1/results/precincts/{id}.
func (c *Client) Precinct(ctx context.Context, id string) (results.Precinct, error) {
	r, _, err := c.PrecinctAt(ctx, id)
	return r, err
}

// PrecinctAt is Precinct with the log size it was computed from (LogSizeHeader; -1 if none).
func (c *Client) PrecinctAt(ctx context.Context, id string) (results.Precinct, int64, error) {
	var r results.Precinct
	_, n, err := c.getJSON(ctx, "api/v1/results/precincts/"+url.PathEscape(id), &r)
	return r, n, err
}

// ResultsCSV is GET /api/v1/results.csv.
func (c *Client) ResultsCSV(ctx context.Context) ([]byte, error) {
	return c.Get(ctx, "api/v1/results.csv")
}

// ResultsCSVAt is ResultsCSV with the log size it was computed from (LogSizeHeader; -1 if none).
func (c *Client) ResultsCSVAt(ctx context.Context) ([]byte, int64, error) {
	b, h, err := c.get(ctx, "api/v1/results.csv")
	if err != nil {
		return nil, -1, err
	}
	return b, logSize(h), nil
}

// Election is GET /api/v1/election.
func (c *Client) Election(ctx context.Context) (Election, error) {
	var r Election
	_, err := c.GetJSON(ctx, "api/v1/election", &r)
	return r, err
}

// Certifications is GET /api/v1/certifications.
func (c *Client) Certifications(ctx context.Context) (results.Certifications, error) {
	var r results.Certifications
	_, err := c.GetJSON(ctx, "api/v1/certifications", &r)
	return r, err
}

// CertifiedCSV is GET /api/v1/certifications/{log_index}/results.csv: the results CSV of the
// certification at that log index, computed at the checkpoint it names.
func (c *Client) CertifiedCSV(ctx context.Context, logIndex int64) ([]byte, error) {
	return c.Get(ctx, fmt.Sprintf("api/v1/certifications/%d/results.csv", logIndex))
}
