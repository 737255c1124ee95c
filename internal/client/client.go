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
	"strings"
	"time"
)

// MaxBody bounds a response: the largest is results.csv for a national election (tens of MB).
const MaxBody = 256 << 20

// requestTimeout bounds one request: a verifier on a slow link still finishes a tile in it.
const requestTimeout = 30 * time.Second

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
		hc = &http.Client{Timeout: requestTimeout}
	}
	return &Client{base: strings.TrimSuffix(u.String(), "/") + "/", http: hc}, nil
}

// Get fetches a path below the base URL and returns the body of a 200 answer.
func (c *Client) Get(ctx context.Context, path string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+strings.TrimPrefix(path, "/"), nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxBody+1))
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", path, err)
	}
	switch {
	case len(body) > MaxBody:
		return nil, fmt.Errorf("GET %s: the answer is larger than %d bytes", path, MaxBody)
	case resp.StatusCode == http.StatusNotFound:
		return nil, fmt.Errorf("GET %s: %w", path, ErrNotFound)
	case resp.StatusCode != http.StatusOK:
		return nil, fmt.Errorf("GET %s: %s", path, resp.Status)
	}
	return body, nil
}

// Checkpoint is GET /log/checkpoint: the signed note, unchecked.
func (c *Client) Checkpoint(ctx context.Context) ([]byte, error) { return c.Get(ctx, "log/checkpoint") }

// Tile is GET /log/<path>, path being a C2SP tile path ("tile/0/x001/234", "tile/entries/000.p/7").
func (c *Client) Tile(ctx context.Context, path string) ([]byte, error) {
	return c.Get(ctx, "log/"+path)
}

// Candidate is one candidate's totals in results and counties.
type Candidate struct {
	CandidateID     string  `json:"candidate_id"`
	Name            string  `json:"name"`
	First           int64   `json:"first"`
	Final           int64   `json:"final"`
	CountyDelegates *int64  `json:"county_delegates"`
	SDE             *string `json:"sde"`
}

// Results is GET /api/v1/results.
type Results struct {
	ElectionID         string      `json:"election_id"`
	UpdatedAt          *string     `json:"updated_at"`
	LogSize            int64       `json:"log_size"`
	LogRootHash        string      `json:"log_root_hash"`
	LogPublicKey       string      `json:"log_public_key"`
	PrecinctsTotal     int         `json:"precincts_total"`
	PrecinctsReporting int         `json:"precincts_reporting"`
	Candidates         []Candidate `json:"candidates"`
}

// County is one county of GET /api/v1/results/counties, and the head of …/counties/{id}.
type County struct {
	CountyID           string      `json:"county_id"`
	Name               string      `json:"name"`
	PrecinctsTotal     int         `json:"precincts_total"`
	PrecinctsReporting int         `json:"precincts_reporting"`
	Candidates         []Candidate `json:"candidates"`
	Precincts          []struct {
		PrecinctID string `json:"precinct_id"`
		Status     string `json:"status"`
		Reports    int64  `json:"reports"`
	} `json:"precincts"`
}

// Counties is GET /api/v1/results/counties.
type Counties struct {
	LogSize  int64    `json:"log_size"`
	Counties []County `json:"counties"`
}

// Group is one group of a precinct's result.
type Group struct {
	CandidateID string  `json:"candidate_id"`
	First       int64   `json:"first"`
	Final       int64   `json:"final"`
	Delegates   *int64  `json:"delegates"`
	SDE         *string `json:"sde"`
}

// Precinct is GET /api/v1/results/precincts/{id}.
type Precinct struct {
	PrecinctID   string  `json:"precinct_id"`
	CountyID     string  `json:"county_id"`
	Status       string  `json:"status"`
	CountedEntry *int64  `json:"counted_entry"`
	Entries      []int64 `json:"entries"`
	Reports      int64   `json:"reports"`
	Attendees    *int64  `json:"attendees"`
	Groups       []Group `json:"groups"`
}

// Election is GET /api/v1/election: the definition's files by name.
type Election struct {
	ElectionID string            `json:"election_id"`
	Files      map[string]string `json:"files"`
}

// GetJSON fetches a path and decodes its JSON into v, returning the raw bytes too.
func (c *Client) GetJSON(ctx context.Context, path string, v any) ([]byte, error) {
	b, err := c.Get(ctx, path)
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return b, fmt.Errorf("GET %s: not the expected JSON: %w", path, err)
	}
	return b, nil
}

// Results is GET /api/v1/results.
func (c *Client) Results(ctx context.Context) (Results, error) {
	var r Results
	_, err := c.GetJSON(ctx, "api/v1/results", &r)
	return r, err
}

// Counties is GET /api/v1/results/counties.
func (c *Client) Counties(ctx context.Context) (Counties, error) {
	var r Counties
	_, err := c.GetJSON(ctx, "api/v1/results/counties", &r)
	return r, err
}

// County is GET /api/v1/results/counties/{id}.
func (c *Client) County(ctx context.Context, id string) (County, error) {
	var r County
	_, err := c.GetJSON(ctx, "api/v1/results/counties/"+url.PathEscape(id), &r)
	return r, err
}

// Precinct is GET /api/v1/results/precincts/{id}.
func (c *Client) Precinct(ctx context.Context, id string) (Precinct, error) {
	var r Precinct
	_, err := c.GetJSON(ctx, "api/v1/results/precincts/"+url.PathEscape(id), &r)
	return r, err
}

// ResultsCSV is GET /api/v1/results.csv.
func (c *Client) ResultsCSV(ctx context.Context) ([]byte, error) {
	return c.Get(ctx, "api/v1/results.csv")
}

// Election is GET /api/v1/election.
func (c *Client) Election(ctx context.Context) (Election, error) {
	var r Election
	_, err := c.GetJSON(ctx, "api/v1/election", &r)
	return r, err
}
