package night

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"caucus/internal/report"
	"caucus/internal/review"
	"caucus/internal/rules"
	"caucus/internal/store"
)

// Recanvass is a precinct re-keyed at headquarters from its paper: its worksheet (every number
// on it) or its preference cards (the first and final alignment counted from the cards, and the
// cards' number as the attendance).
type Recanvass struct {
	PrecinctID string
	Author     string // the reviewer
	Reason     string // why it was recanvassed (a campaign's request, an audit), in words
	Source     string // report.RecanvassWorksheet or report.RecanvassCards
	Report     report.Report
}

// Difference is one number on which a recanvass and the counted report differ. CandidateID is
// "" for the attendance; a nil value is a number one of them does not give (the worksheet's
// delegates).
type Difference struct {
	Field       string `json:"field"` // attendees, first, final or delegates
	CandidateID string `json:"candidate_id"`
	Accepted    *int64 `json:"accepted"`
	Recanvassed *int64 `json:"recanvassed"`
}

// Outcomes of a recanvass.
const (
	Confirmed = "confirmed" // the counted report's numbers stand: a review entry records it
	Corrected = "corrected" // the recanvass counts instead: a correction
)

// RecanvassResult is what a recanvass did: every difference with the counted report, the outcome,
// the log entry recording it and, when the recanvassed worksheet itself fires checks, the review
// flag that keeps the precinct in the review queue (reason recanvass_difference) for another
// reviewer to settle.
type RecanvassResult struct {
	Differences []Difference
	Outcome     string
	Entry       store.Entry
	Flag        *store.Entry
}

// Recanvass compares the recanvassed numbers with the precinct's counted report and records the
// outcome in the log through Decide: no difference confirms the counted report (a review that
// accepts it, naming the recanvass); a difference corrects it (the recanvassed report counts,
// and the totals follow). The worksheet's delegates are compared only for a worksheet recanvass:
// cards carry none. Refused like any decision (a certified scope, one's own entry, a report
// with hard errors) and when nothing counts yet.
func (n *Night) Recanvass(ctx context.Context, rc Recanvass) (RecanvassResult, error) {
	facts, ok := n.facts[rc.PrecinctID]
	if !ok {
		return RecanvassResult{}, refused("precinct %q is not in this election", rc.PrecinctID)
	}
	if rc.Source != report.RecanvassWorksheet && rc.Source != report.RecanvassCards {
		return RecanvassResult{}, refused("source: a recanvass is of the \"worksheet\" or the \"cards\", not %q", rc.Source)
	}
	if rc.Report.PrecinctID != rc.PrecinctID {
		return RecanvassResult{}, refused("the recanvassed report is for precinct %q, not %q", rc.Report.PrecinctID, rc.PrecinctID)
	}
	es, err := n.store.PrecinctEntries(ctx, rc.PrecinctID)
	if err != nil {
		return RecanvassResult{}, fmt.Errorf("read entries of precinct %s: %w", rc.PrecinctID, err)
	}
	it, err := review.Build(rc.PrecinctID, facts, es)
	if err != nil {
		return RecanvassResult{}, fmt.Errorf("review precinct %s: %w", rc.PrecinctID, err)
	}
	i := slices.IndexFunc(it.Entries, func(e review.Entry) bool { return e.Counted })
	if i < 0 {
		return RecanvassResult{}, refused("precinct %s counts no report yet: there is nothing to recanvass", rc.PrecinctID)
	}
	counted := it.Entries[i].Report
	res := RecanvassResult{Differences: Differences(*counted, rc.Report, rc.Source == report.RecanvassWorksheet)}
	last := it.LastIndex
	reason := fmt.Sprintf("recanvass of the %s: %s", rc.Source, strings.TrimSpace(rc.Reason))
	d := Decision{PrecinctID: rc.PrecinctID, Author: rc.Author, Reason: reason, LastIndex: &last, Recanvass: rc.Source}
	if len(res.Differences) == 0 {
		res.Outcome = Confirmed
		d.Status = store.StatusAccepted
		c := it.Entries[i].LogIndex
		d.Counts = &c
	} else {
		res.Outcome = Corrected
		rep := rc.Report
		d.Correction = &rep
	}
	if res.Entry, err = n.Decide(ctx, d); err != nil {
		return RecanvassResult{}, err
	}
	// A recanvassed worksheet that does not add up (its delegates differ from the math, or
	// another warning) is counted, but it needs a second look: flag it for another reviewer.
	if res.Outcome == Corrected && len(rules.Calc(report.CalcInput(rc.Report, facts)).Checks) > 0 {
		idx := res.Entry.Index
		flag, err := n.Decide(ctx, Decision{PrecinctID: rc.PrecinctID, Author: rc.Author, Status: store.StatusUnderReview,
			Reason: "the recanvassed report fires checks: " + reason, LastIndex: &idx, Recanvass: rc.Source})
		if err != nil {
			return res, fmt.Errorf("flag the recanvass for review: %w", err)
		}
		res.Flag = &flag
	}
	return res, nil
}

// Differences lists every number on which a recanvassed report differs from the counted one:
// the attendance, each candidate's first and final alignment and, when delegates is set, the
// worksheet's delegates, in that order, candidates in id order.
func Differences(counted, recanvassed report.Report, delegates bool) []Difference {
	out := []Difference{}
	if counted.Attendees != recanvassed.Attendees {
		out = append(out, Difference{Field: "attendees", Accepted: ptr(counted.Attendees), Recanvassed: ptr(recanvassed.Attendees)})
	}
	cmp := func(field string, a, b rules.Counts) {
		ids := make([]string, 0, len(a)+len(b))
		for id := range a {
			ids = append(ids, id)
		}
		for id := range b {
			if _, ok := a[id]; !ok {
				ids = append(ids, id)
			}
		}
		slices.Sort(ids)
		for _, id := range ids {
			x, inA := a[id]
			y, inB := b[id]
			if inA == inB && x == y {
				continue
			}
			d := Difference{Field: field, CandidateID: id}
			if inA {
				d.Accepted = ptr(x)
			}
			if inB {
				d.Recanvassed = ptr(y)
			}
			// A candidate given as 0 on one side and left out on the other is the same count.
			if (inA && !inB && x == 0) || (inB && !inA && y == 0) {
				continue
			}
			out = append(out, d)
		}
	}
	cmp("first", counted.First, recanvassed.First)
	cmp("final", counted.Final, recanvassed.Final)
	if delegates {
		cmp("delegates", counted.Delegates, recanvassed.Delegates)
	}
	return out
}

func ptr(v int64) *int64 { return &v }

// RecanvassRequest is a campaign's request to recanvass a list of precincts, as an admin
// records it.
type RecanvassRequest struct {
	ID          int64    `json:"id"` // the audit row recording it
	At          string   `json:"at"`
	RequestedBy string   `json:"requested_by"` // the campaign
	RecordedBy  string   `json:"recorded_by"`  // the admin
	Reason      string   `json:"reason"`
	Precincts   []string `json:"precincts"`
	// LogSize is the log's size when the request was recorded: a recanvass entry of a precinct
	// from then on completes the request for it.
	LogSize int64 `json:"log_size"`
}

// RequestRecanvass records a campaign's recanvass request, durably, as a row of the audit trail
// (store.AuditRecanvassRequested). Every precinct must be the election's, each named once.
func (n *Night) RequestRecanvass(ctx context.Context, req RecanvassRequest) (RecanvassRequest, error) {
	switch {
	case strings.TrimSpace(req.RequestedBy) == "":
		return req, refused("requested_by: name who asked for the recanvass")
	case strings.TrimSpace(req.Reason) == "":
		return req, refused("reason: say why the recanvass was asked for")
	case len(req.Precincts) == 0:
		return req, refused("precincts: name at least one precinct")
	case len(req.Precincts) > len(n.facts):
		return req, refused("precincts: more than the election has")
	}
	seen := map[string]bool{}
	for _, id := range req.Precincts {
		if _, ok := n.facts[id]; !ok {
			return req, refused("precinct %q is not in this election", id)
		}
		if seen[id] {
			return req, refused("precinct %q is named twice", id)
		}
		seen[id] = true
	}
	size, err := n.store.Size(ctx)
	if err != nil {
		return req, fmt.Errorf("read log size: %w", err)
	}
	req.LogSize = size
	detail, err := json.Marshal(map[string]any{"requested_by": req.RequestedBy, "reason": req.Reason,
		"precincts": req.Precincts, "log_size": size})
	if err != nil {
		return req, err
	}
	rec, err := n.store.AddAudit(ctx, store.NewAudit{Actor: req.RecordedBy, Kind: store.AuditRecanvassRequested, Detail: detail})
	if err != nil {
		return req, fmt.Errorf("record recanvass request: %w", err)
	}
	req.ID, req.At = rec.ID, report.FormatTime(rec.At)
	return req, nil
}

// RecanvassProgress is a recorded request and, per precinct, whether it is done: the log entry
// of the precinct's first recanvass since the request, or pending.
type RecanvassProgress struct {
	RecanvassRequest
	Done     bool                `json:"done"`
	Progress []PrecinctRecanvass `json:"progress"`
}

// PrecinctRecanvass is one precinct of a request.
type PrecinctRecanvass struct {
	PrecinctID string `json:"precinct_id"`
	State      string `json:"state"` // done or pending
	LogIndex   *int64 `json:"log_index"`
	Outcome    string `json:"outcome,omitempty"` // confirmed or corrected
}

// auditPage is how many audit rows one read of RecanvassRequests takes.
const auditPage = 1000

// RecanvassRequests is every recorded recanvass request, oldest first, with its progress.
// It reads the whole audit trail: a request is rare, and this is a page staff open, not the
// night's hot path.
func (n *Night) RecanvassRequests(ctx context.Context) ([]RecanvassProgress, error) {
	out := []RecanvassProgress{}
	for after := int64(0); ; {
		rows, err := n.store.Audit(ctx, after, auditPage)
		if err != nil {
			return nil, fmt.Errorf("read audit trail: %w", err)
		}
		for _, a := range rows {
			if a.Kind != store.AuditRecanvassRequested {
				continue
			}
			var req RecanvassRequest
			if err := json.Unmarshal(a.Detail, &req); err != nil {
				return nil, fmt.Errorf("audit row %d: %w", a.ID, err)
			}
			req.ID, req.At, req.RecordedBy = a.ID, report.FormatTime(a.At), a.Actor
			p, err := n.progress(ctx, req)
			if err != nil {
				return nil, err
			}
			out = append(out, p)
		}
		if len(rows) < auditPage {
			return out, nil
		}
		after = rows[len(rows)-1].ID
	}
}

// progress finds, for each precinct of a request, its first recanvass entry from the request's
// log size on.
func (n *Night) progress(ctx context.Context, req RecanvassRequest) (RecanvassProgress, error) {
	p := RecanvassProgress{RecanvassRequest: req, Done: true, Progress: []PrecinctRecanvass{}}
	for _, id := range req.Precincts {
		es, err := n.store.PrecinctEntries(ctx, id)
		if err != nil {
			return p, fmt.Errorf("read entries of precinct %s: %w", id, err)
		}
		pr := PrecinctRecanvass{PrecinctID: id, State: "pending"}
		for _, e := range es {
			if e.Index < req.LogSize || (e.Kind != store.KindReview && e.Kind != store.KindCorrection) {
				continue
			}
			le, err := report.ParseEntry(e.Body)
			if err != nil {
				return p, fmt.Errorf("entry %d: %w", e.Index, err)
			}
			if le.Recanvass == "" {
				continue
			}
			idx := e.Index
			pr.State, pr.LogIndex, pr.Outcome = "done", &idx, Confirmed
			if e.Kind == store.KindCorrection {
				pr.Outcome = Corrected
			}
			break
		}
		if pr.State != "done" {
			p.Done = false
		}
		p.Progress = append(p.Progress, pr)
	}
	return p, nil
}
