package store

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"time"
)

// Kind is what an entry of the log is.
type Kind string

const (
	KindReport     Kind = "report"     // a chair's or operator's precinct report
	KindCorrection Kind = "correction" // staff's corrected report, with reason and author in the body
	KindReview     Kind = "review"     // a reviewer's decision: accept, flag, certify
	// KindAudit is a risk-limiting audit's record (start, sample, hand count, risk): it belongs
	// to no precinct (PrecinctID "") and changes no precinct's state (Status "").
	KindAudit Kind = "audit"
	// KindCertification is a certifier's certification of a scope, or its withdrawal. Its
	// PrecinctID is the scope ("county:ID" or "state"), which no precinct ID is; it changes no
	// precinct's state (Next), and its stored status is certified or withdrawn.
	KindCertification Kind = "certification"
)

// Status is a precinct's published status, spelled as in spec/interfaces.md.
type Status string

const (
	StatusNotReported Status = "not_reported"
	StatusAccepted    Status = "accepted"
	StatusUnderReview Status = "under_review"
	StatusCorrected   Status = "corrected"
	StatusCertified   Status = "certified"
	// StatusWithdrawn is no precinct's status: it is the stored status of a certification
	// entry that withdraws its scope's certification.
	StatusWithdrawn Status = "withdrawn"
)

// Channel is how an entry reached the server: the report's channels of spec/interfaces.md, plus
// staff for corrections and review decisions made on the HQ pages.
type Channel string

const (
	ChannelApp     Channel = "app"
	ChannelHotline Channel = "hotline"
	ChannelPaper   Channel = "paper"
	ChannelStaff   Channel = "staff"
)

// NoIndex stands for "no entry" where a log index is expected (PrecinctState.Counted of a
// precinct that counts nothing yet, Entry.Counts of a non-review entry).
const NoIndex int64 = -1

// LeafHash is the RFC 6962 leaf hash of an entry's exact bytes: SHA-256(0x00 ‖ body).
func LeafHash(body []byte) [32]byte {
	h := sha256.New()
	h.Write([]byte{0})
	h.Write(body)
	var out [32]byte
	h.Sum(out[:0])
	return out
}

// NewEntry is what a caller asks Append to store.
type NewEntry struct {
	Kind       Kind
	PrecinctID string
	// ReportID is the client's idempotency key, required for reports and optional for the
	// other kinds. It is unique across the whole log.
	ReportID  string
	Submitter string // who: a precinct ID for a chair, a username for staff
	Channel   Channel
	// ReceivedAt is the time the caller wrote into Body, if it did; zero means the store's
	// clock. Stored with millisecond precision.
	ReceivedAt time.Time
	// Body is the exact canonical bytes of the entry: the log's leaf. Append copies nothing
	// out of it and never parses it.
	Body []byte
	// Status is what the caller computed: for a report, accepted, or under_review when it is
	// flagged (the chair's delegates differ from the computed ones); for a correction,
	// corrected (or empty); for a review, the decision: accepted, under_review or certified.
	Status Status
	// Counts, for a review only, names the entry (a report or correction of the same precinct)
	// the decision makes counted; nil keeps the counted one.
	Counts *int64
	// Content, for a report only, is a digest the caller computes of what the report says, its
	// report_id and channel left out (1 to MaxContentBytes bytes; nil: none). A report whose
	// Content equals that of the entry its precinct counts is the same report under another
	// report_id (a double tap, the app and the hotline both): SameContent, nothing stored.
	Content []byte
}

// MaxContentBytes bounds NewEntry.Content: a digest, not a copy of the body.
const MaxContentBytes = 64

// Validate checks the rules a NewEntry must meet on its own. Its error wraps ErrInvalid.
func (e *NewEntry) Validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: entry: "+format, append([]any{ErrInvalid}, args...)...)
	}
	switch {
	case e.Kind == KindAudit:
		if e.PrecinctID != "" || e.Status != "" || e.Counts != nil || e.Content != nil {
			return bad("an audit entry has no precinct_id, status, counts nor content")
		}
	case e.PrecinctID == "":
		return bad("empty precinct_id")
	}
	switch {
	case e.Submitter == "":
		return bad("empty submitter")
	case len(e.Body) == 0:
		return bad("empty body")
	}
	switch e.Channel {
	case ChannelApp, ChannelHotline, ChannelPaper, ChannelStaff:
	default:
		return bad("unknown channel %q", e.Channel)
	}
	if e.Counts != nil && e.Kind != KindReview {
		return bad("counts is for reviews only")
	}
	if e.Content != nil && (e.Kind != KindReport || len(e.Content) == 0 || len(e.Content) > MaxContentBytes) {
		return bad("content is a report's digest of 1 to %d bytes", MaxContentBytes)
	}
	switch e.Kind {
	case KindReport:
		if e.ReportID == "" {
			return bad("report without report_id")
		}
		if e.Status != StatusAccepted && e.Status != StatusUnderReview {
			return bad("report status %q, want accepted or under_review", e.Status)
		}
	case KindCorrection:
		if e.Status != "" && e.Status != StatusCorrected {
			return bad("correction status %q, want corrected", e.Status)
		}
	case KindAudit:
	case KindReview:
		switch e.Status {
		case StatusAccepted, StatusUnderReview, StatusCertified:
		default:
			return bad("review status %q, want accepted, under_review or certified", e.Status)
		}
		if e.Counts != nil && *e.Counts < 0 {
			return bad("negative counts %d", *e.Counts)
		}
	case KindCertification:
		if e.Status != StatusCertified && e.Status != StatusWithdrawn {
			return bad("certification status %q, want certified or withdrawn", e.Status)
		}
		if e.ReportID != "" {
			return bad("a certification has no report_id")
		}
	default:
		return bad("unknown kind %q", e.Kind)
	}
	return nil
}

// Entry is a stored entry of the log.
type Entry struct {
	Index      int64 // dense, 0-based, in commit order, never reused
	Kind       Kind
	PrecinctID string
	ReportID   string // empty when the entry had none
	Submitter  string
	Channel    Channel
	ReceivedAt time.Time
	Body       []byte
	LeafHash   [32]byte
	// Status is the precinct's status right after this entry was appended (under_review for
	// a Conflict). It never changes afterwards: later entries change the precinct, not this.
	Status Status
	Counts int64 // a review's chosen entry, or NoIndex
}

// Outcome is how Append resolved one NewEntry.
type Outcome int

const (
	Appended       Outcome = iota + 1 // stored at a new index
	Duplicate                         // same ReportID and body already stored; nothing stored
	ReportIDReused                    // same ReportID, different body; nothing stored
	Conflict                          // stored, but the precinct already counted another report
	Invalid                           // refused on its own merits; nothing stored
	SameContent                       // another report_id, the counted report's Content; nothing stored
)

func (o Outcome) String() string {
	switch o {
	case Appended:
		return "appended"
	case Duplicate:
		return "duplicate"
	case ReportIDReused:
		return "report_id_reused"
	case Conflict:
		return "conflict"
	case Invalid:
		return "invalid"
	case SameContent:
		return "same_content"
	}
	return fmt.Sprintf("Outcome(%d)", int(o))
}

// AppendResult is Append's answer for one NewEntry.
type AppendResult struct {
	Outcome Outcome
	// Entry is the stored entry: the new one for Appended and Conflict, the original for
	// Duplicate and ReportIDReused, the precinct's counted one for SameContent, the zero Entry
	// for Invalid.
	Entry Entry
	// Err is nil for Appended, Duplicate and SameContent, a *ConflictError for Conflict, a
	// *ReportIDReusedError for ReportIDReused, and an error wrapping ErrInvalid for Invalid.
	Err error
}

// PrecinctState is the state of one precinct derived from its entries. It is rebuildable from
// the log: replaying every entry through Next from the zero state gives the same states.
type PrecinctState struct {
	PrecinctID string
	Status     Status
	Counted    int64 // log index of the entry currently counted, or NoIndex
	Reports    int64 // report entries received, conflicting ones included
	Conflict   bool  // a second report arrived; cleared by a correction or a review decision
	LastIndex  int64 // log index of the latest entry for the precinct
	UpdatedAt  time.Time
}

// EmptyState is the state of a precinct with no entry.
func EmptyState(precinctID string) PrecinctState {
	return PrecinctState{PrecinctID: precinctID, Status: StatusNotReported, Counted: NoIndex,
		LastIndex: NoIndex}
}

// Next is the precinct state machine every implementation applies, so that backends agree and
// the state can be rebuilt from the log. Given the precinct's state before, a valid entry e and
// the index it would get, it returns the state after, the entry's stored status and its outcome
// (Appended or Conflict), or an error wrapping ErrInvalid when e cannot apply to this precinct.
// The rules (the first accepted report stands until a reviewer decides, spec/reliability.md C3):
//   - a report for a precinct counting nothing becomes counted, with the report's status;
//   - a report for a precinct already counting an entry is a Conflict: stored as
//     under_review, precinct under_review with the conflict flag, the counted entry unchanged;
//   - a correction becomes counted, status corrected, conflict cleared;
//   - a review needs a counted entry; it sets the decided status, makes e.Counts counted when
//     given (the caller checks that it names a report or correction of the precinct), and
//     clears the conflict flag unless the decision is under_review;
//   - an audit entry belongs to no precinct: the state is returned as it was, status "";
//   - a certification is about a scope, not a precinct: the state is returned unchanged (the
//     store keeps no state for a scope), with the certification's own status.
func Next(prev PrecinctState, e *NewEntry, index int64, at time.Time) (PrecinctState, Status, Outcome, error) {
	if e.Kind == KindCertification {
		return prev, e.Status, Appended, nil
	}
	next := prev
	next.LastIndex = index
	next.UpdatedAt = at
	outcome := Appended
	switch e.Kind {
	case KindAudit:
		return prev, "", Appended, nil
	case KindReport:
		next.Reports++
		if prev.Counted == NoIndex {
			next.Counted = index
			next.Status = e.Status
		} else {
			next.Status = StatusUnderReview
			next.Conflict = true
			outcome = Conflict
		}
	case KindCorrection:
		next.Counted = index
		next.Status = StatusCorrected
		next.Conflict = false
	case KindReview:
		if prev.Counted == NoIndex {
			return prev, "", 0, fmt.Errorf("%w: review of precinct %q, which counts no entry",
				ErrInvalid, e.PrecinctID)
		}
		if e.Counts != nil {
			next.Counted = *e.Counts
		}
		next.Status = e.Status
		if e.Status != StatusUnderReview {
			next.Conflict = false
		}
	default:
		return prev, "", 0, fmt.Errorf("%w: unknown kind %q", ErrInvalid, e.Kind)
	}
	return next, next.Status, outcome, nil
}

// IsSameContent reports whether e is the report its precinct already counts, sent again under
// another report_id: a report with a Content, for a precinct counting an entry (prev.Counted)
// whose stored Content, counted, equals it. Append resolves such an entry as SameContent
// instead of passing it to Next, so that the precinct state does not change.
func IsSameContent(prev PrecinctState, e *NewEntry, counted []byte) bool {
	return e.Kind == KindReport && len(e.Content) > 0 && prev.Counted != NoIndex && bytes.Equal(e.Content, counted)
}

// BUG(store): a report arriving after certification is a Conflict like any other: it is kept
// and puts the certified precinct back under review. Whether certification should instead refuse
// late reports is review's policy to decide; the store only keeps the evidence.
