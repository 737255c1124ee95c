package simulate

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"caucus/internal/rules"
)

// Percentile is the p-th percentile (0–100) of ds by the nearest-rank method; 0 for none.
func Percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	k := int(p/100*float64(len(s))+0.999999) - 1
	return s[min(max(k, 0), len(s)-1)]
}

// Rate is the reports stored per second of the timed part.
func (s *Summary) Rate() float64 {
	return float64(s.Reports+s.Refused+s.Conflicts) / max(s.ReportTime.Seconds(), 1e-9)
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond)) }

// Print writes the summary for people.
func (s *Summary) Print(w io.Writer) {
	fmt.Fprintf(w, "precincts: %d; logins: %d in %.2f s (%.0f/s), latency p50 %s p99 %s\n", s.Precincts, s.Logins,
		s.LoginTime.Seconds(), float64(s.Logins)/max(s.LoginTime.Seconds(), 1e-9),
		ms(Percentile(s.LoginLatency, 50)), ms(Percentile(s.LoginLatency, 99)))
	fmt.Fprintf(w, "reports: %d stored, %d refused (422), %d conflicting (409) in %.2f s: %.0f reports/s\n",
		s.Reports, s.Refused, s.Conflicts, s.ReportTime.Seconds(), s.Rate())
	fmt.Fprintf(w, "latency: p50 %s  p95 %s  p99 %s  max %s  (%d answered requests)\n",
		ms(Percentile(s.Latency, 50)), ms(Percentile(s.Latency, 95)), ms(Percentile(s.Latency, 99)),
		ms(Percentile(s.Latency, 100)), len(s.Latency))
	kinds := make([]string, 0, len(s.Events))
	for k := range s.Events {
		kinds = append(kinds, k)
	}
	slices.Sort(kinds)
	fmt.Fprintln(w, "answers and failures by kind:")
	for _, k := range kinds {
		fmt.Fprintf(w, "  %7d  %s\n", s.Events[k], k)
	}
	if len(s.Flagged) > 0 {
		fmt.Fprintln(w, "flagged for review (stored, counted, warnings):")
		for _, id := range sortedIDs(s.Flagged) {
			fmt.Fprintf(w, "  %s %5d  e.g. %s\n", id, s.Flagged[id], strings.Join(s.FlaggedBy[id], ", "))
		}
	}
	if len(s.RefusedBy) > 0 {
		fmt.Fprintln(w, "refused (422, nothing stored, as the rules say):")
		for _, id := range sortedIDs(s.RefusedBy) {
			fmt.Fprintf(w, "  %s %5d\n", id, s.RefusedBy[id])
		}
	}
	if s.Decisions > 0 {
		fmt.Fprintf(w, "headquarters: %d decisions through the review queue (accept %d, correct %d)\n", s.Decisions,
			s.Events["headquarters: accept"], s.Events["headquarters: correct"])
	}
	if s.Conflicts > 0 {
		fmt.Fprintf(w, "conflicting second reports kept for review: %d\n", s.Conflicts)
	}
	if s.Phoned > 0 {
		fmt.Fprintf(w, "hotline: %d precincts reported by phone, keyed twice; %d keying slips, %d caught by the double entry\n",
			s.Phoned, s.Slips, s.SlipsCaught)
	}
	fmt.Fprintf(w, "compared %d published numbers with the truth in %.2f s: %d differences\n", s.Compared,
		s.CompareTime.Seconds(), len(s.Differences))
	for _, d := range s.Differences {
		fmt.Fprintf(w, "  DIFFERENCE %s\n", d)
	}
	if s.problemsTotal > 0 {
		fmt.Fprintf(w, "%d answers other than the rules say:\n", s.problemsTotal)
		for _, p := range s.Problems {
			fmt.Fprintf(w, "  PROBLEM %s\n", p)
		}
	}
}

func sortedIDs(m map[rules.CheckID]int) []rules.CheckID {
	ids := make([]rules.CheckID, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}
