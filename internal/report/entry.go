package report

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"caucus/internal/rules"
)

// Entry kinds: every leaf of the log is one of these.
const (
	KindReport     = "report"     // a precinct report as submitted
	KindCorrection = "correction" // a staff correction: a whole new report, with reason and author
	KindReview     = "review"     // a review decision
	KindAudit      = "audit"      // a risk-limiting audit's start, sample, hand count or round's risk
)

// Entry is one leaf of the log, as stored: its canonical encoding (Marshal) is the exact leaf
// bytes. The server fills in who and when; it never stores its own computed numbers, which
// anyone recomputes from the report with internal/rules.
type Entry struct {
	Kind       string  `json:"kind"`
	ElectionID string  `json:"election_id"`
	PrecinctID string  `json:"precinct_id"`
	ReportID   string  `json:"report_id,omitempty"`
	ReceivedAt string  `json:"received_at"` // RFC 3339, UTC, milliseconds
	Submitter  string  `json:"submitter"`   // the precinct for a chair, the username for staff
	Channel    string  `json:"channel"`     // app, hotline, paper or staff
	Report     *Report `json:"report,omitempty"`
	Reason     string  `json:"reason,omitempty"`   // correction, review
	Decision   string  `json:"decision,omitempty"` // review: accepted, under_review, certified
	Counts     *int64  `json:"counts,omitempty"`   // review: the entry made counted
	Audit      *Audit  `json:"audit,omitempty"`    // audit: what happened (precinct_id is "")
}

// TimeFormat is how ReceivedAt is written.
const TimeFormat = "2006-01-02T15:04:05.000Z"

// FormatTime writes a time for ReceivedAt.
func FormatTime(t time.Time) string { return t.UTC().Format(TimeFormat) }

// Marshal is the entry's canonical encoding: the leaf bytes.
func (e Entry) Marshal() []byte {
	b, err := json.Marshal(e)
	if err != nil {
		panic("report: entry encoding: " + err.Error())
	}
	return b
}

// ParseEntry reads a leaf. It is strict: the bytes must be exactly the canonical encoding of the
// entry they decode to, so that one entry has one leaf.
func ParseEntry(leaf []byte) (Entry, error) {
	var e Entry
	dec := json.NewDecoder(bytes.NewReader(leaf))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil {
		return Entry{}, fmt.Errorf("entry is not valid: %w", err)
	}
	if e.Report != nil {
		// Decode the report as a submission would be, so its numbers obey the same rules.
		inner, err := json.Marshal(e.Report)
		if err != nil {
			return Entry{}, err
		}
		r, err := Decode(inner)
		if err != nil {
			return Entry{}, fmt.Errorf("entry's report is not valid: %w", err)
		}
		e.Report = &r
	}
	switch e.Kind {
	case KindReport, KindCorrection:
		if e.Report == nil {
			return Entry{}, fmt.Errorf("entry of kind %s has no report", e.Kind)
		}
	case KindReview:
	case KindAudit:
		if e.Audit == nil || e.PrecinctID != "" || e.Report != nil {
			return Entry{}, errors.New("entry of kind audit needs an audit record and no precinct_id nor report")
		}
		if err := e.Audit.valid(); err != nil {
			return Entry{}, fmt.Errorf("entry's audit record is not valid: %w", err)
		}
	default:
		return Entry{}, fmt.Errorf("entry has unknown kind %q", e.Kind)
	}
	if e.Audit != nil && e.Kind != KindAudit {
		return Entry{}, fmt.Errorf("entry of kind %s has an audit record", e.Kind)
	}
	if _, err := time.Parse(TimeFormat, e.ReceivedAt); err != nil {
		return Entry{}, fmt.Errorf("entry's received_at %q is not %s", e.ReceivedAt, TimeFormat)
	}
	if !bytes.Equal(e.Marshal(), leaf) {
		return Entry{}, errors.New("entry is not in canonical form: a leaf is exactly its entry's encoding (fields in order, no spaces, no null, no empty optional field)")
	}
	return e, nil
}

// Receipt is what a chair gets back for a report and keeps on the phone: where the report sits
// in the log and how to check it (spec/interfaces.md POST /api/v1/reports).
type Receipt struct {
	ReportID   string        `json:"report_id"`
	PrecinctID string        `json:"precinct_id"`
	ElectionID string        `json:"election_id"`
	LogIndex   int64         `json:"log_index"`
	LeafHash   string        `json:"leaf_hash"` // hex of SHA-256(0x00 ‖ entry)
	ReceivedAt string        `json:"received_at"`
	Status     string        `json:"status"` // accepted, under_review
	Checks     []rules.Check `json:"checks"`
	Practice   bool          `json:"practice,omitempty"`
}

// HexHash writes a leaf hash for a receipt.
func HexHash(h [32]byte) string { return hex.EncodeToString(h[:]) }
