package client

// Headquarters' side of the contract that scripts use: the review queue and a reviewer's
// decisions (spec/interfaces.md, "Headquarters"), with a staff session's Bearer token
// (LoginStaff).

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"

	"caucus/internal/report"
	"caucus/internal/rules"
)

// ReviewItem is one precinct of GET /api/v1/hq/review: why it waits for a decision, its
// reports and corrections, and its latest log index (for Decision.LastIndex).
type ReviewItem struct {
	PrecinctID   string        `json:"precinct_id"`
	Status       string        `json:"status"`
	Reasons      []string      `json:"reasons"`
	CountedEntry *int64        `json:"counted_entry"`
	LastIndex    int64         `json:"last_index"`
	Entries      []ReviewEntry `json:"entries"`
}

// ReviewEntry is one report or correction of a ReviewItem.
type ReviewEntry struct {
	LogIndex    int64          `json:"log_index"`
	Kind        string         `json:"kind"`
	Channel     string         `json:"channel"`
	Submitter   string         `json:"submitter"`
	ReportID    string         `json:"report_id"`
	Counted     bool           `json:"counted"`
	Checks      []rules.Check  `json:"checks"`
	PhotoSHA256 string         `json:"photo_sha256"`
	Report      *report.Report `json:"report"`
}

// ReviewQueue is GET /api/v1/hq/review with a reviewer's, an admin's or an observer's token.
func (c *Client) ReviewQueue(ctx context.Context, token string) ([]ReviewItem, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+"api/v1/hq/review", nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("GET /api/v1/hq/review: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxBody+1))
	switch {
	case err != nil:
		return nil, fmt.Errorf("GET /api/v1/hq/review: %w", err)
	case len(body) > MaxBody:
		return nil, fmt.Errorf("GET /api/v1/hq/review: the answer is larger than %d bytes", MaxBody)
	case resp.StatusCode != http.StatusOK:
		return nil, statusError("GET /api/v1/hq/review", resp.StatusCode, resp.Header, body)
	}
	var q struct {
		Items []ReviewItem `json:"items"`
	}
	if err := json.Unmarshal(body, &q); err != nil {
		return nil, fmt.Errorf("GET /api/v1/hq/review: not the expected JSON: %w", err)
	}
	return q.Items, nil
}

// Decision is POST /api/v1/hq/review/{precinct_id}: "accept" names the entry that counts
// (LogIndex), "correct" gives the whole report that counts instead (Report). LastIndex, when
// set, has the decision refused (409) if the precinct changed since it was read.
type Decision struct {
	Action    string         `json:"action"`
	LogIndex  *int64         `json:"log_index,omitempty"`
	Report    *report.Report `json:"-"`
	Reason    string         `json:"reason"`
	LastIndex *int64         `json:"last_index,omitempty"`
}

// Decided is a stored decision: its log entry and the precinct's status after it.
type Decided struct {
	PrecinctID string `json:"precinct_id"`
	LogIndex   int64  `json:"log_index"`
	LeafHash   string `json:"leaf_hash"`
	Status     string `json:"status"`
}

// Decide sends a reviewer's decision on a precinct. Any answer but 201 is a *StatusError
// (403: the reviewer submitted an entry it is about; 409: the precinct changed; 422: refused).
func (c *Client) Decide(ctx context.Context, token, precinctID string, d Decision) (Decided, error) {
	type wire Decision
	var body []byte
	var err error
	if d.Report != nil {
		body, err = json.Marshal(struct {
			wire
			Report json.RawMessage `json:"report"`
		}{wire(d), d.Report.Canonical()})
	} else {
		body, err = json.Marshal(wire(d))
	}
	if err != nil {
		return Decided{}, err
	}
	path := "api/v1/hq/review/" + url.PathEscape(precinctID)
	status, h, out, err := c.post(ctx, path, token, body)
	if err != nil {
		return Decided{}, err
	}
	if status != http.StatusCreated {
		return Decided{}, statusError("POST /"+path, status, h, out)
	}
	var a Decided
	if err := json.Unmarshal(out, &a); err != nil || a.LeafHash == "" {
		return Decided{}, fmt.Errorf("POST /%s: the answer is not a decision: %.200s", path, out)
	}
	return a, nil
}
