package night

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"caucus/internal/report"
	"caucus/internal/rules"
	"caucus/internal/store"
)

// Decision is a reviewer's decision on one precinct, appended to the log as one entry: a
// review (accept one of the precinct's conflicting reports, keep it under review, certify), or
// a correction (a whole new report from headquarters, counted from then on).
type Decision struct {
	PrecinctID string
	Author     string // the staff username deciding
	Reason     string // why, in words the audit will read; required
	// Status is a review's decision: accepted, under_review or certified. A correction's is
	// always corrected, so it leaves Status empty.
	Status store.Status
	// Counts, for a review, names the report or correction of the precinct that counts from now
	// on (the one of its conflicting reports the reviewer accepts); nil keeps the counted one.
	Counts *int64
	// Correction, when set, makes the decision a correction: the report that counts instead.
	// Its report_id, when set, makes a retry of the same correction idempotent.
	Correction *report.Report
}

// ErrRefused means Decide stored nothing: the decision breaks a rule. Its *RefusedError says why.
var ErrRefused = errors.New("decision refused")

// RefusedError is why a decision was refused: a message for the reviewer and, for a correction
// with hard errors, the checks that fired. It wraps ErrRefused, and the store's error when the
// store refused the entry.
type RefusedError struct {
	Message string
	Checks  []rules.Check
	Err     error // the store's, when it refused the entry
}

func (e *RefusedError) Error() string { return "decision refused: " + e.Message }

func (e *RefusedError) Unwrap() []error {
	if e.Err != nil {
		return []error{ErrRefused, e.Err}
	}
	return []error{ErrRefused}
}

func refused(format string, args ...any) *RefusedError {
	return &RefusedError{Message: fmt.Sprintf(format, args...)}
}

// Decide appends a decision to the log through the store's precinct state machine (store.Next:
// a review makes the entry it names counted and clears the conflict; a correction becomes
// counted with status corrected) and returns the stored entry. The tally, the log and the
// subscribers include it by the time Decide returns. A refused decision stores nothing and
// returns a *RefusedError; any other error is the store's, and the decision may or may not be
// stored (a correction with a report_id is then safe to retry).
func (n *Night) Decide(ctx context.Context, d Decision) (store.Entry, error) {
	ne, err := n.decisionEntry(d)
	if err != nil {
		return store.Entry{}, err
	}
	res, err := n.store.Append(ctx, []store.NewEntry{ne})
	if err != nil {
		return store.Entry{}, fmt.Errorf("append decision: %w", err)
	}
	if len(res) != 1 {
		return store.Entry{}, fmt.Errorf("append decision: the store answered %d results for one entry", len(res))
	}
	r := res[0]
	switch r.Outcome {
	case store.Appended, store.Duplicate:
	case store.Invalid, store.ReportIDReused:
		return store.Entry{}, &RefusedError{Message: r.Err.Error(), Err: r.Err}
	default:
		return store.Entry{}, fmt.Errorf("append decision: outcome %s: %w", r.Outcome, r.Err)
	}
	// The decision is durable: bring the log, the tally and the subscribers up to it even if
	// the caller has gone.
	if err := n.follow(context.WithoutCancel(ctx), r.Entry.Index+1); err != nil {
		return store.Entry{}, fmt.Errorf("follow decision %d: %w", r.Entry.Index, err)
	}
	return r.Entry, nil
}

// decisionEntry builds the log entry of a decision, or refuses it.
func (n *Night) decisionEntry(d Decision) (store.NewEntry, error) {
	el := n.def.Election()
	facts, ok := n.facts[d.PrecinctID]
	switch {
	case !ok:
		return store.NewEntry{}, refused("precinct %q is not in this election", d.PrecinctID)
	case strings.TrimSpace(d.Author) == "":
		return store.NewEntry{}, refused("a decision needs its author")
	case strings.TrimSpace(d.Reason) == "":
		return store.NewEntry{}, refused("a decision needs its reason")
	}
	now := n.now().UTC().Truncate(time.Millisecond)
	leaf := report.Entry{ElectionID: el.ID, PrecinctID: d.PrecinctID, ReceivedAt: report.FormatTime(now),
		Submitter: d.Author, Channel: string(store.ChannelStaff), Reason: d.Reason}
	ne := store.NewEntry{PrecinctID: d.PrecinctID, Submitter: d.Author, Channel: store.ChannelStaff, ReceivedAt: now}
	if r := d.Correction; r != nil {
		if d.Status != "" || d.Counts != nil {
			return store.NewEntry{}, refused("a correction counts its own report: give no status nor counts")
		}
		if r.PrecinctID != d.PrecinctID {
			return store.NewEntry{}, refused("the correction's report is for precinct %q, not %q", r.PrecinctID, d.PrecinctID)
		}
		if res := rules.Calc(report.CalcInput(*r, facts)); res.HasErrors() {
			e := refused("the corrected report has errors")
			for _, c := range res.Checks {
				if c.Severity == rules.Error {
					e.Checks = append(e.Checks, c)
				}
			}
			return store.NewEntry{}, e
		}
		// The report as decoding its canonical form gives it: the leaf must parse back to it.
		rep, err := report.Decode(r.Canonical())
		if err != nil {
			return store.NewEntry{}, &RefusedError{Message: "the corrected report is not valid: " + err.Error(), Err: err}
		}
		leaf.Kind, leaf.ReportID, leaf.Report = report.KindCorrection, rep.ReportID, &rep
		ne.Kind, ne.ReportID, ne.Status = store.KindCorrection, rep.ReportID, store.StatusCorrected
	} else {
		switch d.Status {
		case store.StatusAccepted, store.StatusUnderReview, store.StatusCertified:
		default:
			return store.NewEntry{}, refused("a review decides accepted, under_review or certified, not %q", d.Status)
		}
		leaf.Kind, leaf.Decision, leaf.Counts = report.KindReview, string(d.Status), d.Counts
		ne.Kind, ne.Status, ne.Counts = store.KindReview, d.Status, d.Counts
	}
	ne.Body = leaf.Marshal()
	if err := ne.Validate(); err != nil {
		return store.NewEntry{}, &RefusedError{Message: err.Error(), Err: err}
	}
	return ne, nil
}
