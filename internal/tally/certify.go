package tally

import (
	"fmt"
	"slices"

	"caucus/internal/report"
	"caucus/internal/results"
	"caucus/internal/store"
)

// certs is what the certification entries applied so far say: every one of them, and the
// scopes certified now. It is a value: a snapshot keeps its own copy.
type certs struct {
	list   []results.Certification // in log order; InForce as of these entries
	county []bool                  // per county, in the definition's order
	state  bool
}

func newCerts(counties int) certs { return certs{county: make([]bool, counties)} }

// clone is a copy that later applies do not change.
func (c certs) clone() certs {
	out := certs{list: make([]results.Certification, len(c.list)), county: slices.Clone(c.county), state: c.state}
	copy(out.list, c.list)
	return out
}

// decodeCert reads a certification entry's leaf (or takes leaf, parsed from the same bytes),
// checks that it says what the store says, and returns it with its county's ordinal (-1 for the
// state).
func (ix *index) decodeCert(e *store.Entry, leaf *Leaf) (report.Entry, int, error) {
	var le report.Entry
	if leaf != nil && string(leaf.Body) == string(e.Body) {
		le = leaf.Entry
	} else {
		var err error
		if le, err = report.ParseEntry(e.Body); err != nil {
			return le, 0, fmt.Errorf("read leaf: %w", err)
		}
	}
	switch {
	case le.ElectionID != ix.elec.ID:
		return le, 0, fmt.Errorf("leaf is for election %q, not %q", le.ElectionID, ix.elec.ID)
	case le.Kind != string(e.Kind):
		return le, 0, fmt.Errorf("leaf is a %s, the store says %s", le.Kind, e.Kind)
	case le.PrecinctID != e.PrecinctID:
		return le, 0, fmt.Errorf("leaf is for scope %q, the store says %q", le.PrecinctID, e.PrecinctID)
	case le.Decision != string(e.Status):
		return le, 0, fmt.Errorf("certification decides %q, the store says %q", le.Decision, e.Status)
	}
	county, _ := report.ParseScope(le.PrecinctID)
	if county == "" {
		return le, -1, nil
	}
	ci, ok := ix.county[county]
	if !ok {
		return le, 0, fmt.Errorf("certification of county %q, which is not in election %q", county, ix.elec.ID)
	}
	return le, ci, nil
}

// apply records one certification entry; it returns whether the scope is certified after it.
func (c *certs) apply(e *store.Entry, le *report.Entry, ci int) bool {
	on := le.Decision == report.Certified
	for i := range c.list {
		if c.list[i].Scope == le.PrecinctID {
			c.list[i].InForce = false
		}
	}
	rec := results.Certification{LogIndex: e.Index, Scope: le.PrecinctID, Decision: le.Decision,
		LogSize: le.LogSize, Certifier: le.Submitter, Reason: le.Reason, At: le.ReceivedAt, InForce: on}
	if le.RootHash != "" {
		h := le.RootHash
		rec.RootHash = &h
	}
	c.list = append(c.list, rec)
	if ci < 0 {
		c.state = on
	} else {
		c.county[ci] = on
	}
	return on
}

// applyCert folds a certification entry in: the precincts of a county it certifies (or whose
// certification it withdraws) show it in their status.
func (t *Tally) applyCert(e *store.Entry, leaf *Leaf, dirty map[loc]bool) error {
	le, ci, err := t.ix.decodeCert(e, leaf)
	if err != nil {
		return err
	}
	on := t.certs.apply(e, &le, ci)
	if ci >= 0 {
		for pi := range t.precincts[ci] {
			t.precincts[ci][pi].certified = on
			dirty[loc{ci, pi}] = true
		}
		t.counties[ci].updatedAt = le.ReceivedAt
	}
	t.size++
	t.updatedAt = le.ReceivedAt
	return nil
}

// status is a precinct's published status: certified when its county is certified and what it
// counts is settled (accepted or corrected); a precinct under review, or not reported, shows that
// whatever its county.
func (ps *pstate) status() results.Status {
	if ps.certified && (ps.st.Status == store.StatusAccepted || ps.st.Status == store.StatusCorrected) {
		return results.Certified
	}
	return results.Status(ps.st.Status)
}

// Certifications is GET /api/v1/certifications as of the snapshot.
func (s *Snapshot) Certifications() results.Certifications {
	out := results.Certifications{ElectionID: s.ix.elec.ID, LogSize: s.size, Certified: []string{},
		Certifications: append([]results.Certification{}, s.certs.list...)}
	for ci, on := range s.certs.county {
		if on {
			out.Certified = append(out.Certified, report.CountyScope(s.ix.counties[ci].ID))
		}
	}
	if s.certs.state {
		out.Certified = append(out.Certified, report.StateScope)
	}
	return out
}

// Certified reports whether a scope ("county:ID" or "state") is certified in the snapshot.
func (s *Snapshot) Certified(scope string) bool {
	county, ok := report.ParseScope(scope)
	if !ok {
		return false
	}
	if county == "" {
		return s.certs.state
	}
	ci, ok := s.ix.county[county]
	return ok && s.certs.county[ci]
}

// CountyOf is the county of a precinct, and whether the election has the precinct.
func (s *Snapshot) CountyOf(precinctID string) (string, bool) {
	l, ok := s.ix.where[precinctID]
	if !ok {
		return "", false
	}
	return s.ix.counties[l.county].ID, true
}

// Unsettled is the precincts of a county (every county for "") that are not settled in the
// snapshot, in the definition's order, with their status: not reported, or under review.
// Certification waits for none of them.
func (s *Snapshot) Unsettled(countyID string) []UnsettledPrecinct {
	out := []UnsettledPrecinct{}
	s.precincts.All(func(_ int, p *precinctView) bool {
		if countyID != "" && s.ix.counties[p.l.county].ID != countyID {
			return true
		}
		switch st := p.ps.st.Status; st {
		case store.StatusNotReported, store.StatusUnderReview:
			out = append(out, UnsettledPrecinct{PrecinctID: p.ps.st.PrecinctID, Status: results.Status(st)})
		}
		return true
	})
	return out
}

// UnsettledPrecinct is a precinct a certification waits for.
type UnsettledPrecinct struct {
	PrecinctID string         `json:"precinct_id"`
	Status     results.Status `json:"status"`
}

// CountyCSV is the rows of results.csv (with its header) of one county's precincts; false when
// the election has no such county.
func (s *Snapshot) CountyCSV(countyID string) ([]byte, bool) {
	ci, ok := s.ix.county[countyID]
	if !ok {
		return nil, false
	}
	b := []byte(csvHeader)
	for pi := range s.ix.precincts[ci] {
		b = append(b, s.precincts.Get(s.ix.ordinal(loc{ci, pi})).CSV()...)
	}
	return b, true
}
