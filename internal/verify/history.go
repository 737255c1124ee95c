package verify

import (
	"fmt"
	"maps"
	"slices"
	"strconv"

	"caucus/internal/results"
)

// history compares a precinct's published history (results.Precinct.History) with its entries
// in the log, up to the log size the page was computed from: every report, correction and
// review, with who, why, what it decided and the numbers it said, and which entry counts. A
// page that hides a decision, or shows an original that is not the one in the log, is found.
// A precinct whose numbers the publication policy withholds shows its history without them.
func (v *run) history(pr *precinct, s *pstate, pub results.Precinct) {
	where := "precinct " + pr.p.ID + " history"
	if len(pub.History) != len(s.entries) {
		v.find(Finding{Check: "history", Record: where, Published: fmt.Sprintf("%d entries", len(pub.History)),
			Recomputed: fmt.Sprintf("%d entries", len(s.entries))})
		return
	}
	for i, h := range pub.History {
		le, idx := pr.parsed[i], s.entries[i]
		rec := fmt.Sprintf("%s entry %d", where, idx)
		wantCounts := ""
		if le.Counts != nil {
			wantCounts = strconv.FormatInt(*le.Counts, 10)
		}
		gotCounts := ""
		if h.Counts != nil {
			gotCounts = strconv.FormatInt(*h.Counts, 10)
		}
		pubFields := []string{strconv.FormatInt(h.LogIndex, 10), h.Kind, h.ReceivedAt, h.Channel, h.Submitter, h.Reason, h.Decision, gotCounts,
			strconv.FormatBool(h.Counted)}
		want := []string{strconv.FormatInt(idx, 10), le.Kind, le.ReceivedAt, le.Channel, le.Submitter, le.Reason, le.Decision, wantCounts,
			strconv.FormatBool(s.counted == idx)}
		if !slices.Equal(pubFields, want) {
			v.find(Finding{Check: "history", Record: rec, Published: fmt.Sprint(pubFields), Recomputed: fmt.Sprint(want)})
			continue
		}
		r := le.Report
		if pub.Withheld {
			r = nil // a withheld precinct shows no numbers, in its history neither
		}
		switch {
		case r == nil && h.Report == nil:
		case r == nil || h.Report == nil:
			v.find(Finding{Check: "history", Record: rec + " report", Published: fmt.Sprint(h.Report != nil), Recomputed: fmt.Sprint(r != nil)})
		case h.Report.Attendees != r.Attendees || !maps.Equal(h.Report.First, r.First) || !maps.Equal(h.Report.Final, r.Final) ||
			!maps.Equal(h.Report.Delegates, r.Delegates) || (h.Report.Delegates == nil) != (r.Delegates == nil):
			v.find(Finding{Check: "history", Record: rec + " report", Published: fmt.Sprintf("%+v", *h.Report),
				Recomputed: fmt.Sprintf("attendees %d first %v final %v delegates %v", r.Attendees, r.First, r.Final, r.Delegates)})
		}
	}
}
