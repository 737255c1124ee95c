package tally

import "caucus/internal/store"

// UnderReview is the IDs of the precincts whose status is under_review in the snapshot, in the
// definition's order (county by county): headquarters' review queue.
func (s *Snapshot) UnderReview() []string {
	var ids []string
	s.precincts.All(func(_ int, p *precinctView) bool {
		if p.ps.st.Status == store.StatusUnderReview {
			ids = append(ids, p.ps.st.PrecinctID)
		}
		return true
	})
	return ids
}
