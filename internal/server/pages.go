package server

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/big"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	xtlog "golang.org/x/mod/sumdb/tlog"

	"caucus/internal/election"
	"caucus/internal/results"
	"caucus/internal/rules"
	"caucus/internal/tally"
	"caucus/web"
)

// What the results pages show, built from the snapshot's own JSON documents (so a page never
// says something the feeds do not) plus the log's checkpoint and a precinct's entries.

// pageHead is what every results page says at the top and bottom.
type pageHead struct {
	Title        string
	Path         string // the page's path without the site prefix
	Prefix       string // "" or "/practice"
	Practice     bool
	ElectionName string
	NameSaysIt   bool // the election's name already says PRACTICE
	LogSize      int64
	UpdatedAt    string // RFC 3339, or "" before the first report
	UpdatedHuman string
	RootHash     string // of the tree the results were computed from
	PublicKey    string
	Checkpoint   int64 // size of the latest signed checkpoint, 0 before the first
	CheckRoot    string
	TimeZone     string // the election's IANA zone, for results.js; "UTC" when it names none
	Live         bool   // the page follows the results as they change (not the feeds' documentation)
	// Policy is the publication policy the results follow (results.Policy: "marked" or
	// "withheld"), and Withheld how many precincts under review it keeps out of the totals.
	Policy   string
	Withheld int
}

// base fills the page head from the site and snapshot.
func (pg *pages) base(site *Site, snap *tally.Snapshot, title, path string) pageHead {
	e := site.def.Election()
	h := pageHead{Title: title, Path: path, Prefix: site.prefix(), Practice: e.Practice, ElectionName: e.Name,
		LogSize: snap.LogSize(), UpdatedAt: snap.UpdatedAt(), UpdatedHuman: humanTime(snap.UpdatedAt(), site.def.Location()),
		NameSaysIt: strings.Contains(strings.ToUpper(e.Name), "PRACTICE"), TimeZone: site.def.Location().String(), Live: true}
	var doc results.Results
	if b, _ := snap.Results(); json.Unmarshal(b, &doc) == nil {
		h.RootHash, h.PublicKey = doc.LogRootHash, doc.LogPublicKey
		h.Policy, h.Withheld = results.PolicyMarked, doc.PrecinctsWithheld
		if doc.PublicationPolicy != nil {
			h.Policy = doc.PublicationPolicy.UnderReview
		}
	}
	if _, c := site.night.Checkpoint(); c.N > 0 {
		h.Checkpoint, h.CheckRoot = c.N, base64.StdEncoding.EncodeToString(c.Hash[:])
	}
	return h
}

// humanTime writes an RFC 3339 time in the election's zone, as an American reader expects it,
// with the zone's abbreviation: "Feb 3, 2020, 7:42:05 PM CST".
func humanTime(rfc string, loc *time.Location) string {
	t, err := time.Parse(time.RFC3339Nano, rfc)
	if err != nil {
		return ""
	}
	return t.In(loc).Format("Jan 2, 2006, 3:04:05 PM MST")
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// candRow is one candidate's line of a totals table, with shares.
type candRow struct {
	ID, Name, Class                      string
	First, Final                         int64
	CountyDelegates, SDE                 string
	FirstPct, FinalPct, CDPct, SDEPct    string
	LeadFirst, LeadFinal, LeadCD, LeadSD bool
}

// candidateRows turns totals into table rows, ordered by SDEs, then final alignment, then
// ballot order: the order the party announces in.
func candidateRows(site *Site, cs []results.Candidate) (rows []candRow, hasCD, hasSDE bool) {
	var sumFirst, sumFinal, sumCD int64
	sumSDE := new(big.Rat)
	sdes := make([]*big.Rat, len(cs))
	for i, c := range cs {
		sumFirst += c.First
		sumFinal += c.Final
		if c.CountyDelegates != nil {
			hasCD = true
			sumCD += *c.CountyDelegates
		}
		if c.SDE != nil {
			hasSDE = true
			sdes[i], _ = new(big.Rat).SetString(*c.SDE)
			if sdes[i] != nil {
				sumSDE.Add(sumSDE, sdes[i])
			}
		}
	}
	var maxFirst, maxFinal, maxCD int64
	maxSDE := new(big.Rat)
	for i, c := range cs {
		maxFirst, maxFinal = max(maxFirst, c.First), max(maxFinal, c.Final)
		if c.CountyDelegates != nil {
			maxCD = max(maxCD, *c.CountyDelegates)
		}
		if sdes[i] != nil && sdes[i].Cmp(maxSDE) > 0 {
			maxSDE = sdes[i]
		}
	}
	order := make([]int, len(cs))
	for i := range order {
		order[i] = i
	}
	sortStable(order, func(a, b int) bool {
		if sdes[a] != nil && sdes[b] != nil {
			if c := sdes[a].Cmp(sdes[b]); c != 0 {
				return c > 0
			}
		}
		return cs[a].Final > cs[b].Final
	})
	for _, i := range order {
		c := cs[i]
		r := candRow{ID: c.CandidateID, Name: c.Name, Class: candidateClass(site, c.CandidateID), First: c.First, Final: c.Final,
			FirstPct: pct(c.First, sumFirst), FinalPct: pct(c.Final, sumFinal),
			LeadFirst: c.First > 0 && c.First == maxFirst, LeadFinal: c.Final > 0 && c.Final == maxFinal}
		if c.CountyDelegates != nil {
			r.CountyDelegates, r.CDPct = itoa(*c.CountyDelegates), pct(*c.CountyDelegates, sumCD)
			r.LeadCD = *c.CountyDelegates > 0 && *c.CountyDelegates == maxCD
		}
		if c.SDE != nil {
			r.SDE = *c.SDE
			if sdes[i] != nil && sumSDE.Sign() > 0 {
				f, _ := new(big.Rat).Quo(sdes[i], sumSDE).Float64()
				r.SDEPct = fmt.Sprintf("%.1f%%", 100*f)
				r.LeadSD = sdes[i].Sign() > 0 && sdes[i].Cmp(maxSDE) == 0
			} else {
				r.SDEPct = "–"
			}
		}
		rows = append(rows, r)
	}
	return rows, hasCD, hasSDE
}

// sortStable is an insertion sort: a dozen candidates.
func sortStable(xs []int, less func(a, b int) bool) {
	for i := 1; i < len(xs); i++ {
		for j := i; j > 0 && less(xs[j], xs[j-1]); j-- {
			xs[j], xs[j-1] = xs[j-1], xs[j]
		}
	}
}

func pct(n, total int64) string {
	if total == 0 {
		return "–"
	}
	return fmt.Sprintf("%.1f%%", 100*float64(n)/float64(total))
}

// candidateClass is a candidate's colour on the map and in legends: c0, c1… in ballot order.
func candidateClass(site *Site, id string) string {
	for i, c := range site.def.Election().Candidates {
		if c.ID == id {
			return "c" + strconv.Itoa(i%16)
		}
	}
	return "cx"
}

// leader names who leads a county: one candidate, a tie, or nobody yet.
type leader struct {
	Name, Class string // Class: c3, "tie" or "none"
}

func leaders(site *Site, cs []results.Candidate) (bySDE, byFinal leader) {
	bySDE, byFinal = leader{"No results yet", "none"}, leader{"No results yet", "none"}
	var best *big.Rat
	var sdeIDs []int
	var bestFinal int64
	var finalIDs []int
	for i, c := range cs {
		if c.Final > bestFinal {
			bestFinal, finalIDs = c.Final, []int{i}
		} else if c.Final == bestFinal && c.Final > 0 {
			finalIDs = append(finalIDs, i)
		}
		if c.SDE == nil {
			continue
		}
		v, ok := new(big.Rat).SetString(*c.SDE)
		if !ok || v.Sign() == 0 {
			continue
		}
		switch {
		case best == nil || v.Cmp(best) > 0:
			best, sdeIDs = v, []int{i}
		case v.Cmp(best) == 0:
			sdeIDs = append(sdeIDs, i)
		}
	}
	name := func(ids []int) leader {
		if len(ids) == 1 {
			return leader{cs[ids[0]].Name, candidateClass(site, cs[ids[0]].CandidateID)}
		}
		s := "Tied: "
		for k, i := range ids {
			if k > 0 {
				s += ", "
			}
			s += cs[i].Name
		}
		return leader{s, "tie"}
	}
	if len(sdeIDs) > 0 {
		bySDE = name(sdeIDs)
	}
	if len(finalIDs) > 0 {
		byFinal = name(finalIDs)
	}
	return bySDE, byFinal
}

// countyRow is one county in the map's table alternative.
type countyRow struct {
	ID, Name, URL    string
	Reporting, Total int
	BySDE, ByFinal   leader
	OnMap            bool
	MapHref          string
	Classes          string // s-… f-…: the map's two colourings
	Partial          bool   // some of its precincts have reported, not all: the map hatches it
	Label            string // the county in words, for the map's hover and focus
}

type legendItem struct{ Name, Class string }

// mapView is the county map and its switch.
type mapView struct {
	Show     bool
	ByFinal  bool
	SVGURL   string
	ViewBox  string
	Counties []countyRow // those on the map
	Legend   []legendItem
	Partial  bool // a county on the map is partly reported: the legend explains the hatching
}

// stateView is the statewide page and the map page.
type stateView struct {
	Page                   pageHead
	Reporting, Total       int
	ReportingPct           string
	Candidates             []candRow
	HasCD, HasSDE          bool
	Map                    mapView
	Counties, OffMap       []countyRow
	SDELeader, FinalLeader string
}

func (pg *pages) stateView(site *Site, snap *tally.Snapshot, mode string) (*stateView, error) {
	var doc results.Results
	b, _ := snap.Results()
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("read results document: %w", err)
	}
	var cdoc results.Counties
	b, _ = snap.Counties()
	if err := json.Unmarshal(b, &cdoc); err != nil {
		return nil, fmt.Errorf("read counties document: %w", err)
	}
	v := &stateView{Page: pg.base(site, snap, "Statewide results", "/results"), Reporting: doc.PrecinctsReporting,
		Total: doc.PrecinctsTotal, ReportingPct: pct(int64(doc.PrecinctsReporting), int64(doc.PrecinctsTotal))}
	v.Candidates, v.HasCD, v.HasSDE = candidateRows(site, doc.Candidates)
	sl, fl := leaders(site, doc.Candidates)
	v.SDELeader, v.FinalLeader = sl.Name, fl.Name
	m := pg.mapSVG
	v.Map = mapView{ByFinal: mode == "final"}
	inLegend := map[string]bool{}
	for _, c := range cdoc.Counties {
		bySDE, byFinal := leaders(site, c.Candidates)
		row := countyRow{ID: c.CountyID, Name: c.Name, URL: site.prefix() + "/results/counties/" + c.CountyID,
			Reporting: c.PrecinctsReporting, Total: c.PrecinctsTotal, BySDE: bySDE, ByFinal: byFinal,
			Classes: "s-" + bySDE.Class + " f-" + byFinal.Class,
			Partial: c.PrecinctsReporting > 0 && c.PrecinctsReporting < c.PrecinctsTotal}
		row.Label = fmt.Sprintf("%s: %s of %s precincts reporting. Most SDEs: %s. Most people in the final alignment: %s.",
			c.Name, web.Thousands(c.PrecinctsReporting), web.Thousands(c.PrecinctsTotal), bySDE.Name, byFinal.Name)
		if m != nil && m.ids[c.CountyID] {
			row.OnMap = true
			row.MapHref = pg.assets.URL(countyMapAsset) + "#" + c.CountyID
			v.Map.Counties = append(v.Map.Counties, row)
		} else {
			v.OffMap = append(v.OffMap, row)
		}
		v.Counties = append(v.Counties, row)
		for _, l := range []leader{bySDE, byFinal} {
			inLegend[l.Class] = true
		}
	}
	if len(v.Map.Counties) > 0 {
		v.Map.Show, v.Map.SVGURL, v.Map.ViewBox = true, pg.assets.URL(countyMapAsset), m.viewBox
	}
	for i, c := range site.def.Election().Candidates {
		cl := "c" + strconv.Itoa(i%16)
		if inLegend[cl] {
			v.Map.Legend = append(v.Map.Legend, legendItem{c.Name, cl})
		}
	}
	if inLegend["tie"] {
		v.Map.Legend = append(v.Map.Legend, legendItem{"Tied", "tie"})
	}
	for _, c := range v.Map.Counties {
		if c.Partial {
			v.Map.Partial = true
		}
	}
	v.Map.Legend = append(v.Map.Legend, legendItem{"No results yet", "none"})
	return v, nil
}

// countyMapAsset is the generated map of Iowa's counties (scripts/gen-iowa-map).
const countyMapAsset = "results-iowa.svg"

// countyMap is what the pages need of the map file: its viewBox and which county ids it draws.
type countyMap struct {
	viewBox string
	ids     map[string]bool
}

var (
	viewBoxRE = regexp.MustCompile(`viewBox="([0-9 .]+)"`)
	pathIDRE  = regexp.MustCompile(`<path id="([a-z0-9-]+)"`)
)

func loadCountyMap(assets *web.Assets) *countyMap {
	a, ok := assets.ByURL(assets.URL(countyMapAsset))
	if !ok {
		return nil
	}
	vb := viewBoxRE.FindSubmatch(a.Data)
	if vb == nil {
		return nil
	}
	m := &countyMap{viewBox: string(vb[1]), ids: map[string]bool{}}
	for _, id := range pathIDRE.FindAllSubmatch(a.Data, -1) {
		m.ids[string(id[1])] = true
	}
	return m
}

// statusText is each precinct status of spec/interfaces.md in words, and what it means.
var statusText = map[results.Status][2]string{
	results.NotReported: {"Not reported", "No report has reached the party yet."},
	results.Accepted:    {"Accepted", "The chair's report was received, its math checked, and it is counted."},
	results.UnderReview: {"Under review", "A second, different report or a check put this precinct before a reviewer; the first accepted report is counted until they decide."},
	results.Corrected:   {"Corrected", "Party staff entered a correction, with a reason, which is now counted."},
	results.Certified:   {"Certified", "A reviewer certified the counted report."},
}

// withheldHelp is the status help of a precinct under review whose numbers the publication
// policy withholds.
const withheldHelp = "A second, different report or a check put this precinct before a reviewer. By the party's publication policy its numbers are withheld, and in no total, until the reviewer decides."

type precinctLine struct {
	Withheld                                         bool // under review, numbers withheld by the policy
	Name, URL, Status, StatusLabel, Delegates, Flags string
	Reports                                          int64
	Winner                                           string // who won it, in words; "" before it reports
}

// checkKey is one check ID of a county's list and its plain title, from internal/rules' table.
type checkKey struct{ ID, Title string }

type countyPageView struct {
	Page             pageHead
	Name             string
	Reporting, Total int
	ReportingPct     string
	Candidates       []candRow
	HasCD, HasSDE    bool
	BySDE, ByFinal   leader
	Precincts        []precinctLine
	CheckKey         []checkKey // every check ID the list shows, in ID order
}

func (pg *pages) countyView(site *Site, snap *tally.Snapshot, body []byte) (*countyPageView, error) {
	var doc results.County
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, fmt.Errorf("read county document: %w", err)
	}
	v := &countyPageView{Page: pg.base(site, snap, doc.Name, "/results/counties/"+doc.CountyID), Name: doc.Name,
		Reporting: doc.PrecinctsReporting, Total: doc.PrecinctsTotal, ReportingPct: pct(int64(doc.PrecinctsReporting), int64(doc.PrecinctsTotal))}
	v.Candidates, v.HasCD, v.HasSDE = candidateRows(site, doc.Candidates)
	v.BySDE, v.ByFinal = leaders(site, doc.Candidates)
	for _, p := range doc.Precincts {
		l := precinctLine{Name: p.Name, URL: site.prefix() + "/results/precincts/" + p.PrecinctID, Status: string(p.Status),
			StatusLabel: statusText[p.Status][0], Reports: p.Reports, Delegates: "by attendance", Withheld: p.Withheld}
		if p.DelegatesToElect != nil {
			l.Delegates = itoa(*p.DelegatesToElect)
		}
		for i, f := range p.Flags {
			if i > 0 {
				l.Flags += ", "
			}
			l.Flags += string(f)
			if !slices.ContainsFunc(v.CheckKey, func(k checkKey) bool { return k.ID == string(f) }) {
				v.CheckKey = append(v.CheckKey, checkKey{string(f), sentence(f.Title())})
			}
		}
		if p.Status != results.NotReported {
			if b, _, ok := snap.Precinct(p.PrecinctID); ok {
				var pd results.Precinct
				if err := json.Unmarshal(b, &pd); err != nil {
					return nil, fmt.Errorf("read precinct document %s: %w", p.PrecinctID, err)
				}
				l.Winner = precinctWinner(&pd)
			}
		}
		v.Precincts = append(v.Precincts, l)
	}
	slices.SortFunc(v.CheckKey, func(a, b checkKey) int { return strings.Compare(a.ID, b.ID) })
	return v, nil
}

// sentence capitalises a check's title and ends it with a full stop.
func sentence(s string) string {
	if s == "" {
		return s
	}
	r, n := utf8.DecodeRuneInString(s)
	return string(unicode.ToUpper(r)) + s[n:] + "."
}

// precinctWinner names who won a reported precinct: most SDEs; where it has none (no county
// ratio, a game of chance still to play, an error check), most delegates; in a straw poll, most
// people in the final alignment. A tie at the top is said as a tie.
func precinctWinner(d *results.Precinct) string {
	if slices.Contains(d.Flags, rules.C13) {
		return "Tie: a game of chance is still to be played"
	}
	type score struct {
		name string
		v    *big.Rat
	}
	var by string
	var scores []score
	for _, g := range d.Groups {
		switch {
		case g.SDE != nil:
			if x, ok := new(big.Rat).SetString(*g.SDE); ok {
				scores, by = append(scores, score{g.Name, x}), ""
			}
		case g.Delegates != nil:
			scores, by = append(scores, score{g.Name, big.NewRat(*g.Delegates, 1)}), " (most delegates)"
		default:
			scores, by = append(scores, score{g.Name, big.NewRat(g.Final, 1)}), " (most people)"
		}
	}
	var best *big.Rat
	var top []string
	for _, sc := range scores {
		if best == nil || sc.v.Cmp(best) > 0 {
			best, top = sc.v, []string{sc.name}
		} else if sc.v.Cmp(best) == 0 {
			top = append(top, sc.name)
		}
	}
	switch {
	case best == nil || best.Sign() == 0:
		return "No winner: nobody won a delegate"
	case len(top) == 1:
		return top[0] + by
	}
	return "Tied: " + strings.Join(top, ", ") + by
}

type groupRow struct {
	Name, Class                     string
	First, Final                    int64
	ViableFirst, Viable             string
	Quotient, Delegates, Chair, SDE string
	ChairDiffers                    bool
}

type entryRow struct {
	Index                                                 int64
	Kind, Received, ReceivedISO, Channel, Status, LeafHex string
	Counted                                               bool
	// What the entry says, from the precinct document's history: its title ("Original report",
	// "Correction", "Review decision"), who sent or decided it, the numbers of a report or
	// correction, a decision, and the reason staff gave.
	Title, Who, Numbers, Decision, Reason string
}

type inclusion struct {
	Index, TreeSize    int64
	LeafHash, RootHash string
	Proof              []string
	Verified           bool
	Pending            bool // the entry is newer than the latest signed checkpoint
}

type precinctPageView struct {
	Page                      pageHead
	Name, CountyName          string
	CountyURL                 string
	Satellite                 bool
	Status, StatusLabel, Help string
	Reported                  bool
	Withheld                  bool // under review, its numbers withheld by the publication policy
	Attendees, Delegates      int64
	Threshold                 int64
	ThresholdRule             string
	Straw                     bool
	Groups                    []groupRow
	Nobody                    string // the candidates nobody stood for, not shown as rows
	HasChair                  bool   // show the chair's delegates: they differ somewhere
	ChairAgrees               bool   // the chair's worksheet gives the computed delegates
	Checks                    []rules.Check
	Tiebreaks                 []string // each recorded game of chance that decided delegates, in words
	Flags                     string
	Entries                   []entryRow
	Inclusion                 *inclusion
}

func (pg *pages) precinctView(ctx context.Context, site *Site, snap *tally.Snapshot, body []byte) (*precinctPageView, error) {
	var doc results.Precinct
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, fmt.Errorf("read precinct document: %w", err)
	}
	county, _ := site.def.County(doc.CountyID)
	st := statusText[doc.Status]
	if doc.Withheld {
		st[1] = withheldHelp
	}
	v := &precinctPageView{Page: pg.base(site, snap, doc.Name, "/results/precincts/"+doc.PrecinctID), Name: doc.Name,
		CountyName: county.Name, CountyURL: site.prefix() + "/results/counties/" + doc.CountyID, Satellite: doc.Satellite,
		Status: string(doc.Status), StatusLabel: st[0], Help: st[1], Checks: doc.Checks, Straw: site.def.Election().Rules == election.RulesStraw,
		Withheld: doc.Withheld}
	for i, f := range doc.Flags {
		if i > 0 {
			v.Flags += ", "
		}
		v.Flags += string(f)
	}
	if doc.Attendees != nil && doc.DelegatesToElect != nil && doc.Threshold != nil {
		v.Reported, v.Attendees, v.Delegates, v.Threshold = true, *doc.Attendees, *doc.DelegatesToElect, *doc.Threshold
		v.ThresholdRule = rules.ThresholdRule(site.def.Election().Rules, v.Delegates)
	}
	v.HasChair = doc.ChairDelegates != nil
	for _, g := range doc.Groups {
		if v.Reported && g.First == 0 && g.Final == 0 && (g.Delegates == nil || *g.Delegates == 0) && doc.ChairDelegates[g.CandidateID] == 0 {
			if v.Nobody != "" {
				v.Nobody += ", "
			}
			v.Nobody += g.Name
			continue
		}
		r := groupRow{Name: g.Name, Class: candidateClass(site, g.CandidateID), First: g.First, Final: g.Final}
		if v.Reported && !v.Straw {
			r.ViableFirst = viableText(rules.MeetsThreshold(g.First, v.Threshold))
		}
		if g.Viable != nil {
			r.Viable = viableText(*g.Viable)
			if *g.Viable {
				r.Quotient = rules.QuotientString(g.Final, v.Attendees, v.Delegates)
			}
		}
		if g.Delegates != nil {
			r.Delegates = itoa(*g.Delegates)
		}
		if v.HasChair {
			r.Chair = itoa(doc.ChairDelegates[g.CandidateID])
			r.ChairDiffers = g.Delegates != nil && *g.Delegates != doc.ChairDelegates[g.CandidateID]
		}
		if g.SDE != nil {
			r.SDE = *g.SDE
		}
		v.Groups = append(v.Groups, r)
	}
	// The chair's column only when it says something the computed one does not.
	v.ChairAgrees = v.HasChair
	for _, r := range v.Groups {
		if r.ChairDiffers {
			v.ChairAgrees = false
		}
	}
	v.HasChair = v.HasChair && !v.ChairAgrees
	v.Tiebreaks = tiebreakSentences(doc.Groups, doc.Tiebreaks)
	if err := pg.history(ctx, site, snap, &doc, v); err != nil {
		return nil, err
	}
	return v, nil
}

// history lists the precinct's log entries (those the snapshot was computed from) and proves the
// counted one's inclusion in the latest signed checkpoint.
func (pg *pages) history(ctx context.Context, site *Site, snap *tally.Snapshot, doc *results.Precinct, v *precinctPageView) error {
	if len(doc.Entries) == 0 {
		return nil
	}
	es, err := site.night.PrecinctEntries(ctx, doc.PrecinctID)
	if err != nil {
		return fmt.Errorf("read entries of precinct %s: %w", doc.PrecinctID, err)
	}
	said := map[int64]results.HistoryEntry{}
	for _, h := range doc.History {
		said[h.LogIndex] = h
	}
	reports := 0
	for _, e := range es {
		if e.Index >= snap.LogSize() {
			continue
		}
		at := e.ReceivedAt.UTC().Format(time.RFC3339Nano)
		row := entryRow{Index: e.Index, Kind: string(e.Kind), Received: humanTime(at, site.def.Location()), ReceivedISO: at,
			Channel: string(e.Channel), Status: statusText[results.Status(e.Status)][0], LeafHex: hex.EncodeToString(e.LeafHash[:]),
			Counted: doc.CountedEntry != nil && *doc.CountedEntry == e.Index}
		if h, ok := said[e.Index]; ok {
			describeEntry(site, &row, h, &reports)
		}
		v.Entries = append(v.Entries, row)
	}
	if doc.CountedEntry == nil {
		return nil
	}
	idx := *doc.CountedEntry
	_, c := site.night.Checkpoint()
	if idx >= c.N {
		v.Inclusion = &inclusion{Index: idx, Pending: true}
		return nil
	}
	proof, leaf, err := site.night.Prove(idx, c.N)
	if err != nil {
		return fmt.Errorf("prove entry %d in checkpoint %d: %w", idx, c.N, err)
	}
	in := &inclusion{Index: idx, TreeSize: c.N, LeafHash: b64(leaf), RootHash: b64(c.Hash),
		Verified: xtlog.CheckRecord(proof, c.N, c.Hash, idx, leaf) == nil}
	for _, h := range proof {
		in.Proof = append(in.Proof, b64(h))
	}
	v.Inclusion = in
	return nil
}

// describeEntry fills in what a history entry says, in words; reports counts the reports
// described so far (the first is the original).
func describeEntry(site *Site, row *entryRow, h results.HistoryEntry, reports *int) {
	row.Who, row.Reason = h.Submitter, h.Reason
	switch h.Kind {
	case "report":
		row.Title = "Original report"
		if *reports > 0 {
			row.Title = "Conflicting report"
		}
		*reports++
	case "correction":
		row.Title = "Correction by headquarters"
	case "review":
		row.Title = "Review decision"
		switch {
		case h.Decision == "accepted" && h.Counts != nil:
			row.Decision = "accepted log entry " + web.Thousands(*h.Counts) + ": it counts"
		case h.Decision == "accepted":
			row.Decision = "accepted the counted entry"
		case h.Decision == "under_review":
			row.Decision = "kept under review"
		default:
			row.Decision = h.Decision
		}
	}
	if r := h.Report; r != nil {
		counts := func(c rules.Counts) string {
			var parts []string
			for _, cand := range site.def.Candidates() {
				if n, ok := c[cand.ID]; ok && n > 0 {
					parts = append(parts, cand.Name+" "+web.Thousands(n))
				}
			}
			if len(parts) == 0 {
				return "none"
			}
			return strings.Join(parts, ", ")
		}
		row.Numbers = web.Thousands(r.Attendees) + " attended; first alignment: " + counts(r.First) + "; final: " + counts(r.Final)
		if r.Delegates != nil {
			row.Numbers += "; worksheet delegates: " + counts(r.Delegates)
		}
	}
}

// tiebreakSentences says each tie a game of chance decided, its winners together: "Coin toss
// between Buttigieg and Warren for 1 delegate: Warren".
func tiebreakSentences(groups []results.Group, tbs []results.Tiebreak) []string {
	names := map[string]string{}
	for _, g := range groups {
		names[g.CandidateID] = g.Name
	}
	name := func(id string) string {
		if n, ok := names[id]; ok {
			return n
		}
		return id
	}
	list := func(ids []string) string {
		ns := make([]string, len(ids))
		for i, id := range ids {
			ns[i] = name(id)
		}
		if len(ns) < 2 {
			return strings.Join(ns, "")
		}
		return strings.Join(ns[:len(ns)-1], ", ") + " and " + ns[len(ns)-1]
	}
	type tie struct {
		kind, between string
		delegates     int64
		winners       []string
	}
	var ties []*tie
	for _, t := range tbs {
		between := strings.Join(t.Between, " ")
		i := slices.IndexFunc(ties, func(x *tie) bool {
			return x.kind == t.Kind && x.between == between && x.delegates == t.Delegates
		})
		if i < 0 {
			ties = append(ties, &tie{kind: t.Kind, between: between, delegates: t.Delegates})
			i = len(ties) - 1
		}
		ties[i].winners = append(ties[i].winners, t.Winner)
	}
	out := make([]string, len(ties))
	for i, t := range ties {
		game := "Coin toss"
		if t.kind == "card" {
			game = "Card draw"
		}
		unit := "delegates"
		if t.delegates == 1 {
			unit = "delegate"
		}
		out[i] = fmt.Sprintf("%s between %s for %s %s: %s", game, list(strings.Fields(t.between)), web.Thousands(t.delegates), unit, list(t.winners))
	}
	return out
}

func viableText(b bool) string {
	if b {
		return "viable"
	}
	return "not viable"
}

// totalsView is the data of the results_candidates template.
type totalsView struct {
	Caption       string
	Rows          []candRow
	HasCD, HasSDE bool
}

// Totals is the statewide candidates table.
func (v *stateView) Totals() totalsView {
	return totalsView{"Statewide results by candidate, most SDEs first", v.Candidates, v.HasCD, v.HasSDE}
}

// Totals is the county's candidates table.
func (v *countyPageView) Totals() totalsView {
	return totalsView{v.Name + ": results by candidate, most SDEs first", v.Candidates, v.HasCD, v.HasSDE}
}
