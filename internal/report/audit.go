package report

import (
	"errors"
	"fmt"

	"caucus/internal/rules"
)

// The events of a risk-limiting audit, each one log entry of kind audit.
const (
	AuditStart     = "start"      // the audit begins: the checkpoint audited, the seed, the risk limit
	AuditSample    = "sample"     // one contest's round drawn: its tickets
	AuditHandCount = "hand_count" // one precinct's preference cards counted by hand (two matching keyings)
	AuditRisk      = "risk"       // one contest's round counted: the measured risk and the status after it
)

// Audit is what an entry of kind audit records. Which fields are set depends on Event; anyone
// recomputes the samples and risks from the start's seed and risk limit, the results at the
// checkpoint it names and the hand counts (internal/audit).
type Audit struct {
	Event string `json:"event"`
	// start: the checkpoint audited (log size and root hash, hex) and whether a certification
	// named it; the seed (decimal digits rolled with dice) and the risk limit in percent.
	LogSize   int64  `json:"log_size,omitempty"`
	RootHash  string `json:"root_hash,omitempty"`
	Certified bool   `json:"certified,omitempty"`
	Seed      string `json:"seed,omitempty"`
	RiskLimit string `json:"risk_limit,omitempty"`
	// sample, risk: the contest (first, final, sde) and the round, counting from 1.
	Contest string `json:"contest,omitempty"`
	Round   int    `json:"round,omitempty"`
	// sample: the round's draws.
	Tickets []AuditTicket `json:"tickets,omitempty"`
	// hand_count: the precinct and its cards' counts, first and final alignment, and the
	// operators whose independent keyings matched.
	PrecinctID string       `json:"precinct_id,omitempty"`
	First      rules.Counts `json:"first,omitempty"`
	Final      rules.Counts `json:"final,omitempty"`
	KeyedBy    []string     `json:"keyed_by,omitempty"`
	// risk: the draws counted so far, the measured risk (6 decimal places, or "infinite") and
	// the contest's status after the round (in_progress, confirmed, full_hand_count).
	Draws  int64  `json:"draws,omitempty"`
	Risk   string `json:"risk,omitempty"`
	Status string `json:"status,omitempty"`
	// risk: every precinct drawn in the round whose hand count differs from the reported count
	// in the contest, with its relative overstatement e_p exactly (negative: an understatement).
	Overstatements []AuditOverstatement `json:"overstatements,omitempty"`
}

// AuditOverstatement is a precinct's relative overstatement e_p in a contest, an exact fraction
// ("3/867", "-1/289").
type AuditOverstatement struct {
	PrecinctID string `json:"precinct_id"`
	E          string `json:"e"`
}

// AuditTicket is one draw of a sample: its number, its hash (hex) and the precinct it selects.
type AuditTicket struct {
	Draw       int64  `json:"draw"`
	Hash       string `json:"hash"`
	PrecinctID string `json:"precinct_id"`
}

func (a *Audit) valid() error {
	switch a.Event {
	case AuditStart:
		if a.LogSize <= 0 || a.RootHash == "" || a.Seed == "" || a.RiskLimit == "" {
			return errors.New("a start names the log size, root hash, seed and risk limit")
		}
	case AuditSample:
		if a.Contest == "" || a.Round < 1 || len(a.Tickets) == 0 {
			return errors.New("a sample names its contest, round and tickets")
		}
	case AuditHandCount:
		if a.PrecinctID == "" || len(a.KeyedBy) == 0 {
			return errors.New("a hand count names its precinct and who keyed it")
		}
		for _, c := range []rules.Counts{a.First, a.Final} {
			for id, n := range c {
				if n < 0 || n > rules.MaxCount {
					return fmt.Errorf("count %d of %s is out of range", n, id)
				}
			}
		}
	case AuditRisk:
		if a.Contest == "" || a.Round < 1 || a.Risk == "" || a.Status == "" {
			return errors.New("a risk names its contest, round, risk and status")
		}
	default:
		return fmt.Errorf("unknown audit event %q", a.Event)
	}
	return nil
}
