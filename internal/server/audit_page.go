package server

import (
	"net/http"

	"caucus/internal/results"
	"caucus/internal/tally"
)

// auditTitles names the audit's contests on its page.
var auditTitles = map[string]string{
	"first": "First alignment (people)",
	"final": "Final alignment (people)",
	"sde":   "State delegate equivalents (SDEs)",
}

var auditStatusWords = map[string]string{
	"in_progress":     "in progress: precincts are being counted by hand",
	"confirmed":       "every outcome confirmed at the risk limit",
	"full_hand_count": "only a full hand count can confirm an outcome",
}

// auditPage is GET /audit, the audit report a party publishes: per contest the margin, the
// sample, the discrepancies found, the measured risk and the conclusion. Audit entries are log
// entries, so the page cache (keyed by the results' log size) follows them.
func (pg *pages) auditPage(site *Site, snap *tally.Snapshot, r *http.Request) (string, any, int, error) {
	a, err := site.night.AuditStatus(r.Context())
	if err != nil {
		return "", nil, 0, err
	}
	v := pg.base(site, snap, "Risk-limiting audit", "/audit")
	v.Live = false
	return "results_audit.html", struct {
		Page        pageHead
		Audit       results.Audit
		Titles      map[string]string
		StatusWords string
	}{v, a, auditTitles, auditStatusWords[a.Status]}, 0, nil
}
