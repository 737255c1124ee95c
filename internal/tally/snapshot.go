package tally

import (
	"crypto/sha256"
	"encoding/hex"
	"sync"

	"caucus/internal/results"
)

// Snapshot is the published results as of one log size: /results rendered with its ETag, every
// other document rendered on its first read and kept (a precinct's and a county's documents in
// views shared with later snapshots until they change). It is immutable and safe for
// concurrent use; the byte slices it returns are shared and must not be modified. Two snapshots
// of the same election from the same entries hold the same bytes, however they were computed.
type Snapshot struct {
	ix        *index
	size      int64
	updatedAt string
	results   doc
	counties  pvec[*countyView]   // per county, in file order
	precincts pvec[*precinctView] // per precinct, county by county (index.ordinal)
	certs     certs               // the certifications, as of size

	countiesOnce sync.Once
	countiesDoc  doc

	csvOnce sync.Once
	csv     doc
}

// LogSize is the number of log entries the snapshot was computed from.
func (s *Snapshot) LogSize() int64 { return s.size }

// UpdatedAt is the received_at of the last entry applied (RFC 3339, UTC, milliseconds), or ""
// before the first.
func (s *Snapshot) UpdatedAt() string { return s.updatedAt }

// Results is GET /api/v1/results: {election_id, updated_at, log_size, precincts_total,
// precincts_reporting, practice, candidates: [{candidate_id, name, first, final,
// county_delegates, sde}]}, candidates in ballot order, and its ETag.
func (s *Snapshot) Results() (body []byte, etag string) { return s.results.body, s.results.etag }

// Counties is GET /api/v1/results/counties: {election_id, updated_at, log_size, practice,
// counties: [{county_id, name, precincts_total, precincts_reporting, candidates}]}, counties in
// the definition's order, and its ETag.
func (s *Snapshot) Counties() (body []byte, etag string) {
	s.countiesOnce.Do(func() {
		entries := make([][]byte, 0, s.counties.Len())
		s.counties.All(func(_ int, c *countyView) bool {
			entries = append(entries, c.Entry())
			return true
		})
		s.countiesDoc = newDoc(splice(results.Counties{ElectionID: s.ix.elec.ID, UpdatedAt: strp(s.updatedAt),
			LogSize: s.size, Practice: s.ix.elec.Practice, Counties: []results.CountySummary{}}, "counties", entries))
	})
	return s.countiesDoc.body, s.countiesDoc.etag
}

// County is GET /api/v1/results/counties/{id}: {election_id, practice, county_id, name,
// updated_at, precincts_total, precincts_reporting, candidates, precincts: [{precinct_id, name,
// delegates_to_elect, satellite, status, flags, reports}]}, and its ETag; false when the
// election has no such county. Its updated_at is the county's own (its latest entry), so the
// document and its ETag stay the same while other counties report.
func (s *Snapshot) County(id string) (body []byte, etag string, ok bool) {
	ci, ok := s.ix.county[id]
	if !ok {
		return nil, "", false
	}
	d := s.counties.Get(ci).Detail()
	return d.body, d.etag, true
}

// Precinct is GET /api/v1/results/precincts/{id}: {election_id, practice, precinct_id, name,
// county_id, satellite, status, updated_at, counted_entry, entries, reports, attendees,
// delegates_to_elect, threshold, groups: [{candidate_id, name, first, final, viable,
// viable_first, delegates, sde}], chair_delegates, flags, checks: [{id, severity, message}]}
// (results.Precinct), and its ETag; false when the election has no such precinct. viable_first
// is viability at the first alignment, viable at the final one.
func (s *Snapshot) Precinct(id string) (body []byte, etag string, ok bool) {
	l, ok := s.ix.where[id]
	if !ok {
		return nil, "", false
	}
	d := s.precincts.Get(s.ix.ordinal(l)).Detail()
	return d.body, d.etag, true
}

// CSV is GET /api/v1/results.csv (internal/resultscsv): one row per reporting precinct per
// candidate of the election, precincts in the definition's order, and its ETag. The rows are
// rendered per precinct as precincts change; the whole file (about 2 MB for Iowa) is put
// together on the first call for a snapshot and kept.
func (s *Snapshot) CSV() (body []byte, etag string) {
	s.csvOnce.Do(func() {
		n := len(csvHeader)
		s.precincts.All(func(_ int, p *precinctView) bool {
			n += len(p.CSV())
			return true
		})
		b := make([]byte, 0, n)
		b = append(b, csvHeader...)
		s.precincts.All(func(_ int, p *precinctView) bool {
			b = append(b, p.CSV()...)
			return true
		})
		sum := sha256.Sum256(b)
		s.csv = doc{body: b, etag: `"` + hex.EncodeToString(sum[:16]) + `"`}
	})
	return s.csv.body, s.csv.etag
}

// Equal reports whether two snapshots publish the same bytes, every document included.
func (s *Snapshot) Equal(t *Snapshot) bool { return s.Diff(t) == "" }

// Diff names the first document in which two snapshots differ, or returns "" when they publish
// the same bytes.
func (s *Snapshot) Diff(t *Snapshot) string {
	switch {
	case string(s.results.body) != string(t.results.body):
		return "/results"
	case !docEqual(s.Counties, t.Counties):
		return "/results/counties"
	case s.counties.Len() != t.counties.Len() || s.precincts.Len() != t.precincts.Len():
		return "the counties"
	}
	for ci := range s.counties.Len() {
		if string(s.counties.Get(ci).Detail().body) != string(t.counties.Get(ci).Detail().body) {
			return "/results/counties/" + s.ix.counties[ci].ID
		}
		for pi, p := range s.ix.precincts[ci] {
			o := s.ix.ordinal(loc{ci, pi})
			if string(s.precincts.Get(o).Detail().body) != string(t.precincts.Get(o).Detail().body) {
				return "/results/precincts/" + p.ID
			}
		}
	}
	if string(marshal(s.Certifications())) != string(marshal(t.Certifications())) {
		return "/certifications"
	}
	a, _ := s.CSV()
	b, _ := t.CSV()
	if string(a) != string(b) {
		return "/results.csv"
	}
	return ""
}

func docEqual(a, b func() ([]byte, string)) bool {
	x, _ := a()
	y, _ := b()
	return string(x) == string(y)
}

// BUG(tally): a reporting precinct with no SDE (its county has no ratio, or its counted report
// has an open game of chance or an error check) gets an empty sde cell in results.csv, which
// resultscsv.Read refuses: the format has no way to say "not known". Iowa 2020 has a ratio for
// every county and intake refuses reports with errors, so only a flagged staff entry can do it.

// PrecinctLine is one precinct as of a snapshot: what headquarters' progress board counts.
type PrecinctLine struct {
	PrecinctID, CountyID string
	Status               results.Status
	// Channel is the counted report's channel (app, hotline or paper); "" when nothing counts.
	Channel   string
	Flags     int   // the checks that fired on the counted report
	Conflict  bool  // a second, different report awaits a reviewer
	Withheld  bool  // under review, its numbers withheld by the publication policy
	Reports   int64 // reports received, conflicting ones too
	UpdatedAt string
}

// Lines yields every precinct of the election, county by county in the definition's order.
func (s *Snapshot) Lines(yield func(PrecinctLine) bool) {
	s.precincts.All(func(_ int, v *precinctView) bool {
		p, ps := v.ix.precinct(v.l), &v.ps
		line := PrecinctLine{PrecinctID: p.ID, CountyID: p.CountyID, Status: ps.status(),
			Conflict: ps.st.Conflict, Withheld: v.ix.withheld(ps), Reports: ps.st.Reports, UpdatedAt: ps.updatedAt}
		if o := ps.out; o != nil {
			line.Channel, line.Flags = o.report.Channel, len(o.flags)
		}
		return yield(line)
	})
}

// Policy is the publication policy the snapshot's documents follow.
func (s *Snapshot) Policy() results.Policy { return s.ix.policy }
