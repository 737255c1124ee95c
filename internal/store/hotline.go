package store

import (
	"encoding/json"
	"fmt"
	"time"
	"unicode/utf8"
)

// How headquarters knew who was on the line before keying a worksheet (NewHotlineCopy.VerifiedBy).
const (
	VerifiedPIN      = "pin"      // the caller gave the precinct's PIN, checked as a login checks it
	VerifiedCallback = "callback" // headquarters called the number on file back (a claimed call-back)
	VerifiedPaper    = "paper"    // a paper worksheet in hand, its photo or scan attached
)

// Outcomes of a hotline round (HotlineSettlement.Outcome).
const (
	RoundMatched  = "matched"  // two operators' copies agreed: one report was appended
	RoundReviewed = "reviewed" // a reviewer settled the round's mismatch (a correction or an accept)
)

// NewHotlineCopy is one operator's keying of one precinct's worksheet, taken over the phone or
// from paper. Copies are evidence: they are kept whether or not they agree, and never counted
// themselves; two agreeing copies become one report through the intake.
type NewHotlineCopy struct {
	PrecinctID string // required
	Operator   string // required: the staff username who keyed it
	VerifiedBy string // VerifiedPIN, VerifiedCallback or VerifiedPaper
	Channel    string // "hotline" or "paper"
	Report     []byte // required: the report as keyed (its canonical JSON)
	Content    []byte // required: the digest of its numbers; equal digests are agreeing copies
}

// HotlineCopy is a stored copy.
type HotlineCopy struct {
	ID         int64 // 1, 2, 3 … in commit order
	At         time.Time
	PrecinctID string
	Round      int64 // the precinct's round it belongs to: 1, then 2 after round 1 is settled …
	Operator   string
	VerifiedBy string
	Channel    string
	Report     []byte
	Content    []byte
}

// HotlineSettlement closes a precinct's round: its copies agreed (RoundMatched, with the report
// appended) or a reviewer settled it (RoundReviewed).
type HotlineSettlement struct {
	PrecinctID string
	Round      int64
	Outcome    string  // RoundMatched or RoundReviewed
	Copies     []int64 // the agreeing copies' IDs (matched), or none
	ReportID   string  // the report appended for the round, when there is one
	LogIndex   int64   // its log index; -1 when there is none
	Actor      string  // who settled it: the second operator, or the reviewer
	At         time.Time
}

// HotlineRound is a precinct's open round: its copies so far, oldest first, and how many
// rounds were settled before it.
type HotlineRound struct {
	PrecinctID string
	Round      int64
	Copies     []HotlineCopy
	Settled    []HotlineSettlement // the precinct's earlier rounds, oldest first
}

// Call-back outcomes an operator records (CallbackOutcome).
const (
	CallbackReported    = "reported"     // the chair was reached and reported
	CallbackNoAnswer    = "no_answer"    // nobody answered: the request goes back in the queue
	CallbackWrongNumber = "wrong_number" // the number on file was not the chair's
)

// States of a call-back request (CallbackState.State).
const (
	CallbackWaiting = "waiting" // in the queue, nobody has it
	CallbackClaimed = "claimed" // an operator is calling
	CallbackDone    = "done"    // reported or wrong number: off the queue
)

// CallbackState is a call-back request with what headquarters did about it.
type CallbackState struct {
	Callback
	State       string    // CallbackWaiting, CallbackClaimed or CallbackDone
	Operator    string    // who claimed it last ("" if nobody has)
	ClaimedAt   time.Time // when they did
	Outcome     string    // the last outcome recorded ("" if none)
	OutcomeNote string    // the last outcome's note
	Attempts    int       // outcomes recorded so far (no answer puts it back)
	UpdatedAt   time.Time // the last claim or outcome; At when none
}

// CallbackFilter selects call-back requests: those of one precinct ("" for all), and only
// those still in the queue (waiting or claimed) when Open.
type CallbackFilter struct {
	PrecinctID string
	Open       bool
	Limit      int // at most this many, oldest first; required
}

// Validate is what both stores check of a copy before storing it: the precinct, the operator,
// the report (JSON) and its content digest (1 to 64 bytes) present, a known VerifiedBy and a
// channel of hotline or paper. Its errors wrap ErrInvalid.
func (c NewHotlineCopy) Validate() error {
	switch {
	case c.PrecinctID == "" || c.Operator == "" || len(c.Report) == 0 || len(c.Content) == 0 || len(c.Content) > 64:
		return fmt.Errorf("add hotline copy: %w: precinct, operator, report and content are required", ErrInvalid)
	case c.VerifiedBy != VerifiedPIN && c.VerifiedBy != VerifiedCallback && c.VerifiedBy != VerifiedPaper:
		return fmt.Errorf("add hotline copy: %w: verified_by %q", ErrInvalid, c.VerifiedBy)
	case c.Channel != string(ChannelHotline) && c.Channel != string(ChannelPaper):
		return fmt.Errorf("add hotline copy: %w: channel %q", ErrInvalid, c.Channel)
	case !json.Valid(c.Report):
		return fmt.Errorf("add hotline copy: %w: the report is not JSON", ErrInvalid)
	}
	return nil
}

// ValidateOutcome is what both stores check of a call-back's outcome before recording it: an
// operator, a known outcome and a note of at most 500 characters. Its errors wrap ErrInvalid.
func ValidateOutcome(operator, outcome, note string) error {
	switch {
	case operator == "":
		return fmt.Errorf("call-back outcome: %w: no operator", ErrInvalid)
	case outcome != CallbackReported && outcome != CallbackNoAnswer && outcome != CallbackWrongNumber:
		return fmt.Errorf("call-back outcome: %w: outcome %q", ErrInvalid, outcome)
	case utf8.RuneCountInString(note) > 500:
		return fmt.Errorf("call-back outcome: %w: note over 500 characters", ErrInvalid)
	}
	return nil
}

// Validate is what both stores check of a settlement before storing it: the precinct, a round
// of 1 or more, the actor and a known outcome. Its errors wrap ErrInvalid.
func (s HotlineSettlement) Validate() error {
	switch {
	case s.PrecinctID == "" || s.Actor == "" || s.Round < 1:
		return fmt.Errorf("settle hotline round: %w: precinct, round and actor are required", ErrInvalid)
	case s.Outcome != RoundMatched && s.Outcome != RoundReviewed:
		return fmt.Errorf("settle hotline round: %w: outcome %q", ErrInvalid, s.Outcome)
	}
	return nil
}
