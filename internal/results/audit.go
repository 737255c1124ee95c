package results

import "encoding/json"

// Audit is the risk-limiting audit as GET /api/v1/audit publishes it: the seed and risk limit,
// the checkpoint audited, each contest's margin, sample (tickets), rounds and measured risk, and
// the hand counts entered. Everything but the hand counts' authors is recomputable from the seed,
// the risk limit, the results at the checkpoint and the hand counts (caucus verify does).
type Audit struct {
	// Status is not_started, in_progress (a contest still needs hand counts), confirmed (every
	// contest confirmed) or full_hand_count (a contest can be confirmed only by counting every
	// precinct).
	Status    string      `json:"status"`
	Seed      string      `json:"seed"`
	RiskLimit json.Number `json:"risk_limit,omitempty"` // percent, an exact decimal
	// The checkpoint audited: its log size and root hash (hex), and whether a certification
	// named it.
	LogSize   int64  `json:"log_size"`
	RootHash  string `json:"root_hash"`
	Certified bool   `json:"certified"`
	StartedBy string `json:"started_by"`
	StartedAt string `json:"started_at"`
	LogIndex  *int64 `json:"log_index"` // the start's entry, null before the start
	// PrecinctsToCount is every precinct the current rounds drew that is not hand counted yet.
	PrecinctsToCount []string         `json:"precincts_to_count"`
	Contests         []AuditContest   `json:"contests"`
	HandCounts       []AuditHandCount `json:"hand_counts"`
}

// AuditContest is one contest's audit: first, final or sde.
type AuditContest struct {
	Contest        string `json:"contest"`
	Winner         string `json:"winner"`
	RunnerUp       string `json:"runner_up"`
	Margin         string `json:"margin"`  // exact decimal
	UTotal         string `json:"u_total"` // 6 places; "" for a tie
	ExpectedSample int64  `json:"expected_sample"`
	// Status is in_progress, confirmed or full_hand_count; Risk the measured risk (6 places, or
	// "infinite") after Draws draws counted.
	Status        string             `json:"status"`
	Draws         int                `json:"draws"`
	Risk          string             `json:"risk"`
	Rounds        []AuditRound       `json:"rounds"`
	Sample        []AuditTicket      `json:"sample"`
	Waiting       []string           `json:"waiting"`
	Discrepancies []AuditDiscrepancy `json:"discrepancies"`
	Conclusion    string             `json:"conclusion"` // in words, for the report
}

// AuditRound is a counted round: the draws counted so far and the measured risk after it.
type AuditRound struct {
	Round int    `json:"round"`
	Draws int64  `json:"draws"`
	Risk  string `json:"risk"`
}

// AuditTicket is one draw of a sample.
type AuditTicket struct {
	Round      int    `json:"round"`
	Draw       int64  `json:"draw"`
	Hash       string `json:"hash"`
	PrecinctID string `json:"precinct_id"`
}

// AuditDiscrepancy is a hand-counted precinct whose count differs from the reported one in the
// contest: its relative overstatement e_p (6 places; negative is an understatement).
type AuditDiscrepancy struct {
	PrecinctID    string `json:"precinct_id"`
	Overstatement string `json:"overstatement"`
}

// AuditHandCount is one precinct's hand count, as its log entry records it.
type AuditHandCount struct {
	PrecinctID string           `json:"precinct_id"`
	First      map[string]int64 `json:"first"`
	Final      map[string]int64 `json:"final"`
	KeyedBy    []string         `json:"keyed_by"`
	EnteredAt  string           `json:"entered_at"`
	LogIndex   int64            `json:"log_index"`
}
