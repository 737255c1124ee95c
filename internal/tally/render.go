package tally

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strings"
	"sync"

	"caucus/internal/results"
	"caucus/internal/resultscsv"
	"caucus/internal/rules"
)

// doc is one rendered document and its ETag. Its bytes are never modified once made.
type doc struct {
	body []byte
	etag string
}

// newDoc finishes a document: a trailing newline, and a strong ETag, the quoted first 128 bits
// of the SHA-256 of the bytes.
func newDoc(body []byte) doc {
	body = append(body, '\n')
	sum := sha256.Sum256(body)
	return doc{body: body, etag: `"` + hex.EncodeToString(sum[:16]) + `"`}
}

// marshal encodes a value of this file's types, which cannot fail.
func marshal(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic("tally: encoding: " + err.Error())
	}
	return b
}

// splice renders doc, a results document whose last field is the list named key, with parts
// (each already a JSON value) as that list. doc holds the list empty, not nil.
func splice(doc any, key string, parts [][]byte) []byte {
	h := marshal(doc)
	empty := `"` + key + `":[]}`
	if !bytes.HasSuffix(h, []byte(empty)) {
		panic("tally: " + key + " is not the last field of its document, or is not empty")
	}
	h = h[:len(h)-2] // ends with "key":[
	n := len(h) + 2
	for _, p := range parts {
		n += len(p) + 1
	}
	b := make([]byte, 0, n+1) // +1: newDoc's newline
	b = append(b, h...)
	for i, p := range parts {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, p...)
	}
	return append(b, "]}"...)
}

// candidates are an area's lines of /results or of a county: every candidate in ballot order,
// county_delegates null in a straw poll, sde null when t has none.
func (ix *index) candidates(t *totals) []results.Candidate {
	out := make([]results.Candidate, len(ix.ids))
	for i, id := range ix.ids {
		c := results.Candidate{CandidateID: id, Name: ix.names[id], First: t.first[i], Final: t.final[i]}
		if !ix.straw {
			c.CountyDelegates = &t.delegates[i]
		}
		if t.sde != nil {
			c.SDE = &t.sde[i]
		}
		out[i] = c
	}
	return out
}

// precinctView is one precinct's rendered parts, shared by every snapshot until it changes.
// Each part is rendered on its first read (most are never read before the precinct changes
// again): it holds a copy of the precinct's state as of the snapshot, whose slices are only
// ever appended to, so the copy stays what it was.
type precinctView struct {
	ix *index
	l  loc
	ps pstate

	rowOnce    sync.Once
	row        []byte // its line in /results/counties/{id}
	detailOnce sync.Once
	detail     doc // /results/precincts/{id}
	csvOnce    sync.Once
	csv        []byte // its rows of results.csv, without the header; nil when not reported
}

func strp(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func (ix *index) renderPrecinct(l loc, ps *pstate) *precinctView {
	return &precinctView{ix: ix, l: l, ps: *ps}
}

// flags is the precinct's flags, never nil.
func (v *precinctView) flags() []rules.CheckID {
	flags := []rules.CheckID{}
	if v.ps.out != nil {
		flags = append(flags, v.ps.out.flags...)
	}
	return flags
}

func (v *precinctView) delegatesToElect() *int64 {
	if p := v.ix.precinct(v.l); !p.FollowsAttendance() {
		d := int64(p.DelegatesToElect)
		return &d
	}
	return nil
}

// Row is the precinct's line in its county's document.
func (v *precinctView) Row() []byte {
	v.rowOnce.Do(func() {
		p, ps := v.ix.precinct(v.l), &v.ps
		v.row = marshal(results.PrecinctRow{PrecinctID: p.ID, Name: p.Name, DelegatesToElect: v.delegatesToElect(),
			Satellite: p.Satellite, Status: ps.status(), Flags: v.flags(), Reports: ps.st.Reports,
			Withheld: v.ix.withheld(ps)})
	})
	return v.row
}

// Detail is /results/precincts/{id}.
func (v *precinctView) Detail() doc {
	v.detailOnce.Do(func() {
		ix, l, ps := v.ix, v.l, &v.ps
		p := ix.precinct(l)
		d := results.Precinct{ElectionID: ix.elec.ID, Practice: ix.elec.Practice, PrecinctID: p.ID,
			Name: p.Name, CountyID: p.CountyID, Satellite: p.Satellite, Status: ps.status(),
			UpdatedAt: strp(ps.updatedAt), Entries: append([]int64{}, ps.entries...),
			Reports: ps.st.Reports, DelegatesToElect: v.delegatesToElect(), Groups: []results.Group{},
			Flags: v.flags(), Checks: []rules.Check{}, Tiebreaks: []results.Tiebreak{},
			History: make([]results.HistoryEntry, len(ps.history))}
		copy(d.History, ps.history)
		for i := range d.History {
			d.History[i].Counted = d.History[i].LogIndex == ps.st.Counted
		}
		if o := ps.out; o != nil {
			d.CountedEntry = &o.index
		}
		d.Withheld = ix.withheld(ps)
		if d.Withheld { // no numbers, the history's neither (the log itself still holds them)
			for i := range d.History {
				d.History[i].Report = nil
			}
		}
		if o := ix.shown(ps); o != nil {
			res := &o.result
			d.Attendees, d.DelegatesToElect, d.Threshold = res.Attendees, res.DelegatesToElect, res.Threshold
			d.ChairDelegates = o.report.Delegates
			if res.Checks != nil {
				d.Checks = res.Checks
			}
			d.Groups = ix.groups(l, o)
			d.Tiebreaks = results.Tiebreaks(res)
		}
		v.detail = newDoc(marshal(d))
	})
	return v.detail
}

// CSV is the precinct's rows of results.csv; nil when it has not reported.
func (v *precinctView) CSV() []byte {
	v.csvOnce.Do(func() {
		if o := v.ix.shown(&v.ps); o != nil {
			v.csv = v.ix.csvRows(v.l, o)
		}
	})
	return v.csv
}

// groups lists a precinct's groups: the election's candidates in ballot order, then the groups
// of candidates not in the election, as rules.Calc orders them.
func (ix *index) groups(l loc, o *outcome) []results.Group {
	byID := make(map[string]*rules.Group, len(o.result.Groups))
	for i := range o.result.Groups {
		byID[o.result.Groups[i].CandidateID] = &o.result.Groups[i]
	}
	ratio := ix.ratios[l.county]
	line := func(id, name string, g *rules.Group) results.Group {
		out := results.Group{CandidateID: id, Name: name}
		var d int64
		if g != nil {
			out.First, out.Final = g.First, g.Final
			if g.Delegates != nil {
				d = *g.Delegates
			}
		}
		if !ix.straw {
			viable := g != nil && g.Viable != nil && *g.Viable
			first := g != nil && g.ViableFirst != nil && *g.ViableFirst
			out.Viable, out.ViableFirst, out.Delegates = &viable, &first, &d
		}
		if o.sde {
			s := rules.SDE(d, ratio)
			out.SDE = &s
		}
		return out
	}
	out := make([]results.Group, 0, len(ix.ids)+1)
	for _, id := range ix.ids {
		out = append(out, line(id, ix.names[id], byID[id]))
	}
	for i := range o.result.Groups {
		g := &o.result.Groups[i]
		if _, ok := ix.cand[g.CandidateID]; !ok {
			out = append(out, line(g.CandidateID, g.CandidateID, g))
		}
	}
	return out
}

// csvHeader is what resultscsv.Write puts before the rows.
var csvHeader = strings.Join(resultscsv.Header, ",") + "\n"

// csvRows renders a reporting precinct's rows of results.csv with resultscsv.Write: one per
// candidate of the election, the definition's delegates_to_elect (empty when it follows
// attendance), and an empty sde when the precinct has none (see BUG in snapshot.go).
func (ix *index) csvRows(l loc, o *outcome) []byte {
	p := ix.precinct(l)
	c := ix.counties[l.county]
	rp := resultscsv.Precinct{CountyID: c.ID, County: c.Name, ID: p.ID, Name: p.Name,
		DelegatesToElect: int64(p.DelegatesToElect), HasDelegatesToElect: !p.FollowsAttendance(),
		Satellite: p.Satellite, First: rules.Counts{}, Final: rules.Counts{}, SDE: map[string]string{}}
	for i, id := range ix.ids {
		rp.Candidates = append(rp.Candidates, resultscsv.Candidate{ID: id, Name: ix.names[id]})
		rp.First[id], rp.Final[id] = o.first[i], o.final[i]
		if o.sde {
			rp.SDE[id] = rules.SDE(o.delegates[i], ix.ratios[l.county])
		}
	}
	var buf bytes.Buffer
	if err := resultscsv.Write(&buf, []resultscsv.Precinct{rp}); err != nil {
		panic("tally: results.csv: " + err.Error()) // a bytes.Buffer does not fail
	}
	b, ok := bytes.CutPrefix(buf.Bytes(), []byte(csvHeader))
	if !ok {
		panic("tally: resultscsv.Write no longer starts with its Header")
	}
	return b
}

// countyView is one county as of one snapshot, shared by every later snapshot until one of its
// precincts changes: its totals, and its documents rendered on their first read.
type countyView struct {
	ix        *index
	ci        int
	t         totals // t.sde is set by sdeOnce when sdeDelegates is not nil
	updatedAt string
	precincts pvec[*precinctView] // the snapshot's precincts, this county's among them
	// sdeDelegates are the county's delegates that count toward SDEs, when its SDEs are to be
	// worked out on first read: every precinct of a county has the county's ratio, so its exact
	// SDEs are Σ (d × ρ) = (Σ d) × ρ.
	sdeDelegates []int64
	sdeOnce      sync.Once

	entryOnce  sync.Once
	entry      []byte // its object in /results/counties
	detailOnce sync.Once
	detail     doc // /results/counties/{id}
}

func (ix *index) renderCounty(ci int, t totals, updatedAt string, precincts pvec[*precinctView]) *countyView {
	return &countyView{ix: ix, ci: ci, t: t, updatedAt: updatedAt, precincts: precincts}
}

// totals are the county's totals, its SDEs worked out on the first call.
func (v *countyView) totals() *totals {
	v.sdeOnce.Do(func() {
		if v.sdeDelegates == nil {
			return
		}
		ratio := v.ix.ratios[v.ci]
		v.t.sde = make([]string, len(v.sdeDelegates))
		for i, d := range v.sdeDelegates {
			v.t.sde[i] = rules.SDE(d, ratio)
		}
	})
	return &v.t
}

// precinct is the view of the county's precinct pi.
func (v *countyView) precinct(pi int) *precinctView {
	return v.precincts.Get(v.ix.ordinal(loc{v.ci, pi}))
}

// Entry is the county's object in /results/counties.
func (v *countyView) Entry() []byte {
	v.entryOnce.Do(func() {
		c := v.ix.counties[v.ci]
		v.entry = marshal(results.CountySummary{CountyID: c.ID, Name: c.Name,
			PrecinctsTotal: len(v.ix.precincts[v.ci]), PrecinctsReporting: v.t.reporting,
			Candidates: v.ix.candidates(v.totals())})
	})
	return v.entry
}

// Detail is /results/counties/{id}.
func (v *countyView) Detail() doc {
	v.detailOnce.Do(func() {
		ix, c := v.ix, v.ix.counties[v.ci]
		rows := make([][]byte, len(ix.precincts[v.ci]))
		for pi := range rows {
			rows[pi] = v.precinct(pi).Row()
		}
		head := results.County{ElectionID: ix.elec.ID, Practice: ix.elec.Practice, CountyID: c.ID,
			Name: c.Name, UpdatedAt: strp(v.updatedAt), PrecinctsTotal: len(rows),
			PrecinctsReporting: v.t.reporting, Candidates: ix.candidates(v.totals()), Precincts: []results.PrecinctRow{}}
		v.detail = newDoc(splice(head, "precincts", rows))
	})
	return v.detail
}

// snapshot makes the snapshot of the given views and renders the state's results.
func (ix *index) snapshot(size int64, updatedAt string, state totals, counties pvec[*countyView], precincts pvec[*precinctView]) *Snapshot {
	s := &Snapshot{ix: ix, size: size, updatedAt: updatedAt, counties: counties, precincts: precincts}
	r := results.Results{ElectionID: ix.elec.ID, UpdatedAt: strp(updatedAt),
		LogSize: size, PrecinctsTotal: ix.total, PrecinctsReporting: state.reporting,
		Practice: ix.elec.Practice, Candidates: ix.candidates(&state),
		PublicationPolicy: &ix.policy, PrecinctsWithheld: state.withheld}
	if ix.log.RootHash != nil {
		r.LogRootHash, r.LogPublicKey = ix.log.RootHash(size), ix.log.PublicKey
	}
	s.results = newDoc(marshal(r))
	return s
}
