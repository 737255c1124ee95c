package report

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"caucus/internal/rules"
)

// Entry kinds: every leaf of the log is one of these.
const (
	KindReport     = "report"     // a precinct report as submitted
	KindCorrection = "correction" // a staff correction: a whole new report, with reason and author
	KindReview     = "review"     // a review decision
	KindAudit      = "audit"      // a risk-limiting audit's start, sample, hand count or round's risk
	// KindCertification is a certifier's certification of a scope (a county or the state) at
	// a checkpoint of the log, or its withdrawal. Its precinct_id is the scope it certifies:
	// "county:ID" or "state" (see ParseScope).
	KindCertification = "certification"
)

// Decisions of a certification entry.
const (
	Certified = "certified" // the scope's results at the named checkpoint are certified
	Withdrawn = "withdrawn" // the scope's certification is withdrawn (a correction may follow)
)

// Recanvass sources: what a recanvass re-keyed the precinct from.
const (
	RecanvassWorksheet = "worksheet" // the precinct's paper worksheet
	RecanvassCards     = "cards"     // its preference cards, first and final alignment counted from them
)

// StateScope is the scope of the state's certification; a county's is CountyScope(id).
const StateScope = "state"

// CountyScope is the scope of a county's certification.
func CountyScope(countyID string) string { return "county:" + countyID }

// ParseScope reads a certification's scope: the county it names, or "" for the state.
func ParseScope(scope string) (countyID string, ok bool) {
	if scope == StateScope {
		return "", true
	}
	id, ok := strings.CutPrefix(scope, "county:")
	return id, ok && id != ""
}

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
	Reason     string  `json:"reason,omitempty"`   // correction, review, certification
	Decision   string  `json:"decision,omitempty"` // review: accepted, under_review, certified
	Counts     *int64  `json:"counts,omitempty"`   // review: the entry made counted
	Audit      *Audit  `json:"audit,omitempty"`    // audit: what happened (precinct_id is "")
	// Recanvass, on a review or correction, says the entry is a recanvass's outcome (a review
	// confirming the counted report, a correction applying what it found) and what it re-keyed
	// the precinct from: worksheet or cards.
	Recanvass string `json:"recanvass,omitempty"`
	// LogSize and RootHash, on a certification, name the checkpoint it certifies: the tree of
	// the log's first LogSize entries and its root hash (standard base64, as a checkpoint
	// writes it). A withdrawal names none.
	LogSize  *int64 `json:"log_size,omitempty"`
	RootHash string `json:"root_hash,omitempty"`
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
	case KindCertification:
		if err := e.checkCertification(); err != nil {
			return Entry{}, err
		}
	default:
		return Entry{}, fmt.Errorf("entry has unknown kind %q", e.Kind)
	}
	if e.Audit != nil && e.Kind != KindAudit {
		return Entry{}, fmt.Errorf("entry of kind %s has an audit record", e.Kind)
	}
	if e.Recanvass != "" && e.Recanvass != RecanvassWorksheet && e.Recanvass != RecanvassCards {
		return Entry{}, fmt.Errorf("entry's recanvass source %q is not worksheet or cards", e.Recanvass)
	}
	if e.Kind != KindCertification && (e.LogSize != nil || e.RootHash != "") {
		return Entry{}, fmt.Errorf("entry of kind %s names a checkpoint", e.Kind)
	}
	if _, err := time.Parse(TimeFormat, e.ReceivedAt); err != nil {
		return Entry{}, fmt.Errorf("entry's received_at %q is not %s", e.ReceivedAt, TimeFormat)
	}
	if !bytes.Equal(e.Marshal(), leaf) {
		return Entry{}, errors.New("entry is not in canonical form: a leaf is exactly its entry's encoding (fields in order, no spaces, no null, no empty optional field)")
	}
	return e, nil
}

// checkCertification checks what a certification entry must say: its scope, its decision, and
// the checkpoint a certification (not a withdrawal) names.
func (e *Entry) checkCertification() error {
	if _, ok := ParseScope(e.PrecinctID); !ok {
		return fmt.Errorf("certification's scope %q is not \"state\" nor \"county:ID\"", e.PrecinctID)
	}
	if e.Report != nil || e.Counts != nil || e.Recanvass != "" {
		return errors.New("a certification has no report, counts or recanvass")
	}
	switch e.Decision {
	case Certified:
		if e.LogSize == nil || *e.LogSize < 0 || e.RootHash == "" {
			return errors.New("a certification names the checkpoint it certifies (log_size, root_hash)")
		}
	case Withdrawn:
		if e.LogSize != nil || e.RootHash != "" {
			return errors.New("a withdrawal names no checkpoint")
		}
	default:
		return fmt.Errorf("certification decides %q, not certified or withdrawn", e.Decision)
	}
	return nil
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
