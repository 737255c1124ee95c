// Package review is headquarters' review of a precinct: why it waits for a decision (the
// reasons of the review queue), what each of its reports and corrections computes to, its whole
// history as the log holds it, and the separation of duties a decision must respect (nobody
// decides on what they submitted or keyed).
//
// It reads a precinct's log entries and the caucus math (internal/rules); it stores nothing and
// knows no HTTP. internal/night appends the decisions; internal/server serves the queue.
package review

import (
	"encoding/hex"
	"fmt"
	"slices"

	"caucus/internal/report"
	"caucus/internal/rules"
	"caucus/internal/store"
)

// Reason is why a precinct is in the review queue. The list is open (a new source of doubt adds
// its own), so a client shows a reason it does not know by its name rather than drop it.
type Reason string

const (
	// Conflict: a second report arrived while the precinct counted another; every one of them
	// is kept and shown side by side.
	Conflict Reason = "conflict"
	// DelegatesDiffer: the counted report's worksheet delegates differ from the computed ones
	// (checks C09 to C12).
	DelegatesDiffer Reason = "delegates_differ"
	// Warnings: the counted report fired another warning check.
	Warnings Reason = "warnings"
	// Flagged: a reviewer's decision kept the precinct under review.
	Flagged Reason = "flagged"
	// RecanvassDifference: a recanvass corrected the precinct with a worksheet that fires checks
	// of its own, and flagged it for another reviewer.
	RecanvassDifference Reason = "recanvass_difference"
	// HotlineMismatch: two operators keyed the precinct's worksheet differently and no third
	// copy settled it. Nothing of it is counted (the copies are not in the log); a reviewer
	// corrects the precinct with the right numbers, or accepts a report already in.
	HotlineMismatch Reason = "hotline_mismatch"
	// UnderReview: the precinct is under review for none of the reasons above (a state the
	// log allows but no rule above explains); listed so that it is never silently dropped.
	UnderReview Reason = "under_review"
)

// delegateChecks are the checks that compare the worksheet's delegates with the computed ones.
var delegateChecks = []rules.CheckID{rules.C09, rules.C10, rules.C11, rules.C12}

// Item is one precinct as headquarters reviews it. It is in the review queue while its status is
// under_review; a decision that settles it (an accepting or certifying review, or a correction)
// takes it out, until a new report puts it back.
type Item struct {
	PrecinctID string       `json:"precinct_id"`
	Status     store.Status `json:"status"`
	Reasons    []Reason     `json:"reasons"`
	// CountedEntry is the log index of the entry counted now; null when none counts.
	CountedEntry *int64 `json:"counted_entry"`
	// LastIndex is the log index of the precinct's latest entry: a decision may name it so
	// that it is refused when another entry arrived in between.
	LastIndex int64 `json:"last_index"`
	// Entries are the precinct's reports and corrections, oldest first: what a reviewer may
	// accept, each with its numbers, its computed math and every check's message.
	Entries []Entry `json:"entries"`
	// History is every entry of the precinct, decisions included, in log order.
	History []Event `json:"history"`
}

// Entry is one report or correction of an Item.
type Entry struct {
	LogIndex    int64          `json:"log_index"`
	Kind        store.Kind     `json:"kind"`
	Channel     store.Channel  `json:"channel"`
	Submitter   string         `json:"submitter"`
	ReceivedAt  string         `json:"received_at"`
	ReportID    string         `json:"report_id"`
	Counted     bool           `json:"counted"`
	Checks      []rules.Check  `json:"checks"`
	PhotoSHA256 string         `json:"photo_sha256"`
	Reason      string         `json:"reason,omitempty"` // a correction's
	Report      *report.Report `json:"report"`
	// Math is the computed result of the report (the `caucus calc --json` object): threshold,
	// viability and delegates per group, checks.
	Math rules.Result `json:"math"`
	// Decided says whether a settling decision came after the entry: what is still open is
	// what arrived after the last one.
	Decided bool `json:"decided"`
}

// Event is one entry of an Item's history.
type Event struct {
	LogIndex   int64         `json:"log_index"`
	Kind       store.Kind    `json:"kind"`
	Channel    store.Channel `json:"channel"`
	Submitter  string        `json:"submitter"`
	ReceivedAt string        `json:"received_at"`
	Status     store.Status  `json:"status"` // the precinct's status right after it
	Reason     string        `json:"reason,omitempty"`
	Decision   string        `json:"decision,omitempty"`
	Counts     *int64        `json:"counts,omitempty"`
	LeafHash   string        `json:"leaf_hash"`
}

// Build makes the review item of one precinct from its entries (store.Store.PrecinctEntries:
// every entry of the precinct, in log order) and the facts its math needs.
func Build(precinctID string, facts report.Precinct, entries []store.Entry) (Item, error) {
	it := Item{PrecinctID: precinctID, Status: store.StatusNotReported, Reasons: []Reason{}, LastIndex: store.NoIndex,
		Entries: []Entry{}, History: []Event{}}
	st := store.EmptyState(precinctID)
	settled := store.NoIndex // the latest settling decision
	flagged, recanvass := false, false
	for i := range entries {
		e := &entries[i]
		if e.PrecinctID != precinctID {
			return Item{}, fmt.Errorf("entry %d is for precinct %q, not %q", e.Index, e.PrecinctID, precinctID)
		}
		le, err := report.ParseEntry(e.Body)
		if err != nil {
			return Item{}, fmt.Errorf("entry %d: %w", e.Index, err)
		}
		ne := store.NewEntry{Kind: e.Kind, PrecinctID: e.PrecinctID, Status: e.Status}
		if e.Kind == store.KindReview && e.Counts != store.NoIndex {
			c := e.Counts
			ne.Counts = &c
		}
		if st, _, _, err = store.Next(st, &ne, e.Index, e.ReceivedAt); err != nil {
			return Item{}, fmt.Errorf("entry %d: %w", e.Index, err)
		}
		ev := Event{LogIndex: e.Index, Kind: e.Kind, Channel: e.Channel, Submitter: e.Submitter, ReceivedAt: le.ReceivedAt,
			Status: e.Status, Reason: le.Reason, Decision: le.Decision, Counts: le.Counts, LeafHash: hex.EncodeToString(e.LeafHash[:])}
		it.History = append(it.History, ev)
		switch e.Kind {
		case store.KindReport, store.KindCorrection:
			res := rules.Calc(report.CalcInput(*le.Report, facts))
			checks := res.Checks
			if checks == nil {
				checks = []rules.Check{}
			}
			it.Entries = append(it.Entries, Entry{LogIndex: e.Index, Kind: e.Kind, Channel: e.Channel, Submitter: e.Submitter,
				ReceivedAt: le.ReceivedAt, ReportID: e.ReportID, Checks: checks, PhotoSHA256: le.Report.PhotoSHA256,
				Reason: le.Reason, Report: le.Report, Math: res})
			if e.Kind == store.KindCorrection {
				settled, flagged = e.Index, false
			}
		case store.KindReview:
			if e.Status == store.StatusUnderReview {
				flagged, recanvass = true, le.Recanvass != ""
			} else {
				settled, flagged = e.Index, false
			}
		}
	}
	it.Status, it.LastIndex = st.Status, st.LastIndex
	if st.Counted != store.NoIndex {
		c := st.Counted
		it.CountedEntry = &c
	}
	var counted *Entry
	for i := range it.Entries {
		en := &it.Entries[i]
		en.Counted = en.LogIndex == st.Counted
		en.Decided = en.LogIndex <= settled
		if en.Counted {
			counted = en
		}
	}
	if st.Status != store.StatusUnderReview {
		return it, nil
	}
	if st.Conflict {
		it.Reasons = append(it.Reasons, Conflict)
	}
	// The counted entry's checks are open until a decision settles them.
	if counted != nil && !counted.Decided && counted.Kind == store.KindReport {
		differ, warn := false, false
		for _, c := range counted.Checks {
			if slices.Contains(delegateChecks, c.ID) {
				differ = true
			} else {
				warn = true
			}
		}
		if differ {
			it.Reasons = append(it.Reasons, DelegatesDiffer)
		}
		if warn {
			it.Reasons = append(it.Reasons, Warnings)
		}
	}
	switch {
	case flagged && recanvass:
		it.Reasons = append(it.Reasons, RecanvassDifference)
	case flagged:
		it.Reasons = append(it.Reasons, Flagged)
	}
	if len(it.Reasons) == 0 {
		it.Reasons = append(it.Reasons, UnderReview)
	}
	return it, nil
}

// Open reports whether the item waits for a decision: the review queue's rule.
func (it *Item) Open() bool { return it.Status == store.StatusUnderReview }

// OwnEntry is the separation of duties: the entry of the precinct that user submitted or keyed
// and may therefore not decide on, and whether there is one. Deciding on a precinct touches
// every report and correction that arrived since its last settling decision (they are what the
// decision resolves), and accepting also touches the entry it names (which may be older: a
// correction's author may not later accept it either). entries are the precinct's, in log
// order; accept is the entry an accepting decision names, or nil for a correction.
func OwnEntry(entries []store.Entry, user string, accept *int64) (store.Entry, bool) {
	open := 0 // entries[open:] arrived after the last settling decision
	for i, e := range entries {
		if e.Kind == store.KindCorrection || (e.Kind == store.KindReview && e.Status != store.StatusUnderReview) {
			open = i + 1
		}
	}
	for i, e := range entries {
		if e.Kind == store.KindReview || e.Submitter != user {
			continue
		}
		if i >= open || (accept != nil && e.Index == *accept) {
			return e, true
		}
	}
	return store.Entry{}, false
}
