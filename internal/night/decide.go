package night

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"caucus/internal/report"
	"caucus/internal/review"
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
	// LastIndex, when set, is the log index of the precinct's latest entry as the reviewer saw
	// it: the decision is refused (ErrStale) when another entry arrived since.
	LastIndex *int64
	// Recanvass, when set, records the decision as a recanvass's outcome and what it re-keyed
	// the precinct from: report.RecanvassWorksheet or report.RecanvassCards.
	Recanvass string
}

// ErrRefused means Decide stored nothing: the decision breaks a rule. Its *RefusedError says why.
var ErrRefused = errors.New("decision refused")

// ErrOwnEntry is the separation of duties: the author submitted or keyed an entry the decision
// is about. A *RefusedError wraps it (and ErrRefused).
var ErrOwnEntry = errors.New("a decision on one's own entry")

// ErrStale means the precinct has an entry the decision's author has not seen
// (Decision.LastIndex). A *RefusedError wraps it (and ErrRefused).
var ErrStale = errors.New("the precinct changed since it was read")

// RefusedError is why a decision was refused: a message for the reviewer and, for a correction
// with hard errors, the checks that fired. It wraps ErrRefused, and Err when set.
type RefusedError struct {
	Message string
	Checks  []rules.Check
	Err     error // ErrOwnEntry, ErrStale, or the store's error when it refused the entry
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
	ne, leaf, err := n.decisionEntry(d)
	if err != nil {
		return store.Entry{}, err
	}
	// A correction's report_id already stored: the same correction again, or a refusal.
	if ne.ReportID != "" {
		if e, err := n.store.EntryByReportID(ctx, ne.ReportID); err == nil {
			return sameCorrection(e, leaf)
		} else if !errors.Is(err, store.ErrNotFound) {
			return store.Entry{}, fmt.Errorf("look up report_id: %w", err)
		}
	}
	// Decisions are few: one at a time, across every node (exclusive), so that what
	// checkDecision read is still the precinct's history when the decision is appended (a
	// report may still arrive in between: it is a new conflict, and the precinct goes back
	// under review).
	var r store.AppendResult
	err = n.exclusive(ctx, func(ctx context.Context) error {
		if err := n.checkDecision(ctx, d); err != nil {
			return err
		}
		res, err := n.store.Append(ctx, []store.NewEntry{ne})
		if err != nil {
			return fmt.Errorf("append decision: %w", err)
		}
		if len(res) != 1 {
			return fmt.Errorf("append decision: the store answered %d results for one entry", len(res))
		}
		r = res[0]
		if r.Outcome != store.Appended {
			return nil
		}
		// The decision is durable: bring the log, the tally and the subscribers up to it
		// (before the next decision's checks read them) even if the caller has gone.
		if err := n.follow(context.WithoutCancel(ctx), r.Entry.Index+1); err != nil {
			return fmt.Errorf("follow decision %d: %w", r.Entry.Index, err)
		}
		return nil
	})
	if err != nil {
		return store.Entry{}, err
	}
	switch r.Outcome {
	case store.Appended:
		return r.Entry, nil
	case store.Duplicate, store.ReportIDReused: // another call stored this report_id first
		return sameCorrection(r.Entry, leaf)
	case store.Invalid:
		return store.Entry{}, &RefusedError{Message: r.Err.Error(), Err: r.Err}
	default:
		return store.Entry{}, fmt.Errorf("append decision: outcome %s: %w", r.Outcome, r.Err)
	}
}

// checkDecision refuses a decision for a precinct of a certified scope (ErrCertified), and one
// that its precinct's history forbids: a stale one
// (Decision.LastIndex), one accepting an entry that is not a report or correction of the
// precinct, or one its author may not make (review.OwnEntry).
func (n *Night) checkDecision(ctx context.Context, d Decision) error {
	if err := n.checkCertified(d.PrecinctID); err != nil {
		return err
	}
	es, err := n.store.PrecinctEntries(ctx, d.PrecinctID)
	if err != nil {
		return fmt.Errorf("read entries of precinct %s: %w", d.PrecinctID, err)
	}
	last := store.NoIndex
	if len(es) > 0 {
		last = es[len(es)-1].Index
	}
	if d.LastIndex != nil && *d.LastIndex != last {
		return &RefusedError{Err: ErrStale, Message: fmt.Sprintf(
			"precinct %s has changed: its latest entry is %d, not %d; read it again before deciding", d.PrecinctID, last, *d.LastIndex)}
	}
	if d.Counts != nil {
		i := slices.IndexFunc(es, func(e store.Entry) bool { return e.Index == *d.Counts })
		if i < 0 || es[i].Kind == store.KindReview {
			return refused("log_index %d is not a report or correction of precinct %s", *d.Counts, d.PrecinctID)
		}
	} else if d.Correction == nil && len(es) == 0 {
		return refused("precinct %s has no report to decide on", d.PrecinctID)
	}
	if e, own := review.OwnEntry(es, d.Author, d.Counts); own {
		return &RefusedError{Err: ErrOwnEntry, Message: fmt.Sprintf(
			"%s submitted log entry %d (a %s of precinct %s): another reviewer must decide", d.Author, e.Index, e.Kind, d.PrecinctID)}
	}
	return nil
}

// sameCorrection answers a correction whose report_id is already stored in e: e itself when it
// is the same correction (the same report, reason and author, at another time), else a refusal.
func sameCorrection(e store.Entry, want report.Entry) (store.Entry, error) {
	stored, err := report.ParseEntry(e.Body)
	if err != nil {
		return store.Entry{}, fmt.Errorf("stored entry %d does not parse: %w", e.Index, err)
	}
	if stored.Kind != want.Kind || stored.PrecinctID != want.PrecinctID || stored.Reason != want.Reason ||
		stored.Submitter != want.Submitter || stored.Report == nil ||
		!bytes.Equal(stored.Report.Canonical(), want.Report.Canonical()) {
		return store.Entry{}, refused("report_id %q is already used by log entry %d, a different entry", want.ReportID, e.Index)
	}
	return e, nil
}

// decisionEntry builds the log entry of a decision and its leaf, or refuses it.
func (n *Night) decisionEntry(d Decision) (store.NewEntry, report.Entry, error) {
	el := n.def.Election()
	facts, ok := n.facts[d.PrecinctID]
	switch {
	case !ok:
		return store.NewEntry{}, report.Entry{}, refused("precinct %q is not in this election", d.PrecinctID)
	case strings.TrimSpace(d.Author) == "":
		return store.NewEntry{}, report.Entry{}, refused("a decision needs its author")
	case strings.TrimSpace(d.Reason) == "":
		return store.NewEntry{}, report.Entry{}, refused("a decision needs its reason")
	}
	switch d.Recanvass {
	case "", report.RecanvassWorksheet, report.RecanvassCards:
	default:
		return store.NewEntry{}, report.Entry{}, refused("a recanvass is of the worksheet or the cards, not %q", d.Recanvass)
	}
	now := n.now().UTC().Truncate(time.Millisecond)
	leaf := report.Entry{ElectionID: el.ID, PrecinctID: d.PrecinctID, ReceivedAt: report.FormatTime(now),
		Submitter: d.Author, Channel: string(store.ChannelStaff), Reason: d.Reason, Recanvass: d.Recanvass}
	ne := store.NewEntry{PrecinctID: d.PrecinctID, Submitter: d.Author, Channel: store.ChannelStaff, ReceivedAt: now}
	if r := d.Correction; r != nil {
		if d.Status != "" || d.Counts != nil {
			return store.NewEntry{}, report.Entry{}, refused("a correction counts its own report: give no status nor counts")
		}
		if r.PrecinctID != d.PrecinctID {
			return store.NewEntry{}, report.Entry{}, refused("the correction's report is for precinct %q, not %q", r.PrecinctID, d.PrecinctID)
		}
		if res := rules.Calc(report.CalcInput(*r, facts)); res.HasErrors() {
			e := refused("the corrected report has errors")
			for _, c := range res.Checks {
				if c.Severity == rules.Error {
					e.Checks = append(e.Checks, c)
				}
			}
			return store.NewEntry{}, report.Entry{}, e
		}
		// The report as decoding its canonical form gives it: the leaf must parse back to it.
		rep, err := report.Decode(r.Canonical())
		if err != nil {
			return store.NewEntry{}, report.Entry{}, &RefusedError{Message: "the corrected report is not valid: " + err.Error(), Err: err}
		}
		leaf.Kind, leaf.ReportID, leaf.Report = report.KindCorrection, rep.ReportID, &rep
		ne.Kind, ne.ReportID, ne.Status = store.KindCorrection, rep.ReportID, store.StatusCorrected
	} else {
		switch d.Status {
		case store.StatusAccepted, store.StatusUnderReview, store.StatusCertified:
		default:
			return store.NewEntry{}, report.Entry{}, refused("a review decides accepted, under_review or certified, not %q", d.Status)
		}
		leaf.Kind, leaf.Decision, leaf.Counts = report.KindReview, string(d.Status), d.Counts
		ne.Kind, ne.Status, ne.Counts = store.KindReview, d.Status, d.Counts
	}
	ne.Body = leaf.Marshal()
	if err := ne.Validate(); err != nil {
		return store.NewEntry{}, report.Entry{}, &RefusedError{Message: err.Error(), Err: err}
	}
	return ne, leaf, nil
}
