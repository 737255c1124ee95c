package simulate

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"

	"caucus/internal/client"
	"caucus/internal/report"
	"caucus/internal/results"
)

// The headquarters actor: with a reviewer's account (Config.HQ), the chairs' mistakes go
// further than a conflicting second report, and headquarters resolves everything the night put
// in the review queue through the API, as a reviewer holding the worksheets would: it accepts
// the entry that says what the worksheet (the ground truth) says, or, when none does, enters
// the worksheet as a correction. The published numbers must then equal the truth, every
// precinct settled.

// mistake is how a chair hit by the conflict fault gets it wrong when headquarters takes part.
type mistake int

const (
	rightFirst  mistake = iota // the truth first, then maybe a different second report
	rightSecond                // a mistaken report first, the truth second: accept the second
	neverRight                 // two different mistaken reports: correct from the worksheet
)

// variant is a report for r's precinct the rules accept that differs from r: one more person,
// in the n-th group (in id order) for which that works.
func variant(cfg Config, r report.Report, id string, n int) (report.Report, bool) {
	for _, g := range slices.Sorted(keys(r.Final)) {
		v := r
		v.ReportID = id
		v.First, v.Final = maps(r.First), maps(r.Final)
		v.Attendees++
		v.First[g]++
		v.Final[g]++
		v.Delegates, v.Tiebreaks = nil, nil
		if res := cfg.Truth.Calc(v); !res.HasErrors() {
			if n == 0 {
				return v, true
			}
			n--
		}
	}
	return report.Report{}, false
}

// mistaken sends a mistaken report first and then, as a second report (409), the truth r
// (rightSecond) or another mistake (neverRight). It reports false when the precinct allows no
// such mistakes; the chair then reports as usual.
func (c *chair) mistaken(ctx context.Context, cfg Config, sum *Summary, r report.Report, m mistake) bool {
	id := c.plan.Precinct.ID
	first, ok1 := variant(cfg, r, r.ReportID+"-mistake", 0)
	second, ok2 := r, true
	if m == neverRight {
		second, ok2 = variant(cfg, r, r.ReportID+"-mistake-2", 1)
	}
	if !ok1 || !ok2 {
		return false
	}
	s, err := c.submit(ctx, cfg, sum, first)
	if err != nil {
		sum.problem("precinct %s: mistaken report %s: %v", id, first.ReportID, err)
		return true
	}
	if !c.expectStored(cfg, sum, first, cfg.Truth.Calc(first), s, false, false) {
		return true
	}
	s, err = c.submit(ctx, cfg, sum, second)
	sum.event(fmt.Sprintf("second report after a mistake → %d", s.Status))
	switch {
	case err != nil:
		sum.problem("precinct %s: second report %s: %v", id, second.ReportID, err)
	case s.Status != http.StatusConflict && !(s.Status == http.StatusOK && s.Tries > 1):
		sum.problem("precinct %s: second report %s got %d, want 409", id, second.ReportID, s.Status)
	default:
		sum.mu.Lock()
		sum.Conflicts++
		sum.conflicted[id] = true
		if s.Receipt != nil {
			sum.Acked[second.ReportID] = *s.Receipt
		}
		sum.mu.Unlock()
		if cfg.Acked != nil && s.Receipt != nil {
			cfg.Acked(*s.Receipt)
		}
	}
	return true
}

// sameNumbers reports whether a stored report says what the worksheet w says (its report_id,
// channel and photo aside).
func sameNumbers(stored *report.Report, w report.Report) bool {
	if stored == nil {
		return false
	}
	a, b := *stored, w
	a.ReportID, a.Channel, a.PhotoSHA256 = "", "", ""
	b.ReportID, b.Channel, b.PhotoSHA256 = "", "", ""
	if len(b.Tiebreaks) == 0 {
		b.Tiebreaks = nil
	}
	if len(a.Tiebreaks) == 0 {
		a.Tiebreaks = nil
	}
	return bytes.Equal(a.Canonical(), b.Canonical())
}

// headquarters resolves the review queue: every precinct in it gets one decision, then the
// queue must be empty.
func headquarters(ctx context.Context, cfg Config, pub *client.Client, sum *Summary) error {
	tok := cfg.HQToken
	if tok == "" {
		var err error
		tok, err = loginRetry(ctx, cfg, sum, func() (string, error) { return pub.LoginStaff(ctx, cfg.HQ.Username, cfg.HQ.Password) })
		if err != nil {
			return fmt.Errorf("headquarters login: %w", err)
		}
	}
	worksheet := map[string]report.Report{} // precinct → the first report the rules accept
	for _, p := range cfg.Truth.Plans {
		for _, r := range p.Reports {
			if res := cfg.Truth.Calc(r); !res.HasErrors() {
				worksheet[p.Precinct.ID] = r
				break
			}
		}
	}
	items, err := pub.ReviewQueue(ctx, tok)
	if err != nil {
		return fmt.Errorf("read the review queue: %w", err)
	}
	for _, it := range items {
		id := it.PrecinctID
		w, ok := worksheet[id]
		if !ok {
			sum.problem("precinct %s is in the review queue (%v) but sent no report the rules accept", id, it.Reasons)
			continue
		}
		last := it.LastIndex
		d := client.Decision{LastIndex: &last}
		i := slices.IndexFunc(it.Entries, func(e client.ReviewEntry) bool { return sameNumbers(e.Report, w) })
		want := results.Accepted
		if i >= 0 {
			e := it.Entries[i]
			d.Action, d.LogIndex = "accept", &e.LogIndex
			d.Reason = fmt.Sprintf("log entry %d (%s, %s) says what the worksheet says", e.LogIndex, e.Kind, e.Channel)
		} else {
			fix := w
			fix.ReportID, fix.Channel = w.ReportID+"-hq", report.ChannelPaper
			d.Action, d.Report = "correct", &fix
			d.Reason = "no report matches the worksheet: entered from the worksheet"
			want = results.Corrected
		}
		a, err := pub.Decide(ctx, tok, id, d)
		var se *client.StatusError
		switch {
		case errors.As(err, &se):
			sum.problem("precinct %s: headquarters' decision (%s) refused: %v", id, d.Action, err)
			continue
		case err != nil:
			return fmt.Errorf("decide precinct %s: %w", id, err)
		}
		if a.Status != string(want) {
			sum.problem("precinct %s: after headquarters' %s the status is %q, want %q", id, d.Action, a.Status, want)
		}
		sum.mu.Lock()
		sum.decided[id] = want
		sum.Decisions++
		sum.mu.Unlock()
		sum.event("headquarters: " + d.Action)
		for _, r := range it.Reasons {
			sum.event("headquarters: in the queue for " + r)
		}
	}
	left, err := pub.ReviewQueue(ctx, tok)
	if err != nil {
		return fmt.Errorf("read the review queue: %w", err)
	}
	for _, it := range left {
		sum.problem("precinct %s is still in the review queue after headquarters' decisions (%v)", it.PrecinctID, it.Reasons)
	}
	return nil
}
