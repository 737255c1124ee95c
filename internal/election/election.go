package election

import (
	"fmt"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // time_zone is checked against the zone database the program carries

	"caucus/internal/rules"
)

// The rules profiles an election may name: those of internal/rules, under the names the election's
// callers use.
const (
	RulesIowa   = rules.IowaDem2020
	RulesNevada = rules.NevadaDem2020
	RulesStraw  = rules.StrawPoll
)

// The files of a definition folder.
const (
	ElectionFile  = "election.json"
	CountiesFile  = "counties.csv"
	PrecinctsFile = "precincts.csv"
)

// Election is the content of election.json.
type Election struct {
	ID         string
	Name       string
	Date       string        // YYYY-MM-DD
	Rules      rules.Profile // checked at load: one of rules.Profiles()
	Candidates []Candidate
	Practice   bool // a rehearsal: every response about it must say so
	// TimeZone is where the caucuses meet, an IANA name such as "America/Chicago": the results
	// pages show times in it. Empty: UTC.
	TimeZone string
}

// Candidate is one entry of the ballot. "uncommitted" is a candidate id like any other.
type Candidate struct {
	ID   string
	Name string
}

// County is one row of counties.csv. A satellite pseudo-county is a county like any other.
type County struct {
	ID              string
	Name            string
	CountyDelegates int // 0: not known
	StateDelegates  SDE // 0: not known
}

// SDERatio returns the county's ratio ρ = state delegates ÷ county delegates (spec R13) as an
// exact fraction, or false when either number is not known.
func (c County) SDERatio() (*big.Rat, bool) {
	if c.CountyDelegates <= 0 || c.StateDelegates <= 0 {
		return nil, false
	}
	r := c.StateDelegates.Rat()
	return r.Quo(r, new(big.Rat).SetInt64(int64(c.CountyDelegates))), true
}

// Precinct is one row of precincts.csv.
type Precinct struct {
	ID       string
	CountyID string
	Name     string
	// DelegatesToElect is the number of county delegates the precinct elects. It is 0 only for
	// a satellite that left it empty: its delegates then follow its attendance (spec R14).
	DelegatesToElect int
	Satellite        bool
}

// FollowsAttendance reports whether the precinct's delegates to elect come from its
// attendance (spec R14) rather than from the definition.
func (p Precinct) FollowsAttendance() bool {
	return p.Satellite && p.DelegatesToElect == 0
}

// SDE is an exact, non-negative number of state delegates with at most four decimal places
// (the precision the party publishes), counted in ten-thousandths: SDE(60023) is 6.0023.
type SDE int64

const sdeScale = 10000

// ParseSDE parses a decimal such as "4", "6.0023" or "0.5" (digits, then optionally a point and
// one to four digits).
func ParseSDE(s string) (SDE, error) {
	whole, frac, hasPoint := strings.Cut(s, ".")
	if !isDigits(whole) || hasPoint && (!isDigits(frac) || len(frac) > 4) {
		return 0, fmt.Errorf("%q is not a decimal number like 12 or 6.0023 (at most 4 decimal places)", s)
	}
	if len(whole) > 12 {
		return 0, fmt.Errorf("%q is far too large", s)
	}
	w, err := strconv.ParseInt(whole, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%q is far too large", s)
	}
	f := int64(0)
	if hasPoint {
		f, _ = strconv.ParseInt(frac+strings.Repeat("0", 4-len(frac)), 10, 64)
	}
	return SDE(w*sdeScale + f), nil
}

// String returns the shortest decimal that is exactly s: "4", "6.0023", "0.5".
func (s SDE) String() string {
	neg := ""
	v := int64(s)
	if v < 0 {
		neg, v = "-", -v
	}
	out := neg + strconv.FormatInt(v/sdeScale, 10)
	if f := v % sdeScale; f != 0 {
		out += "." + strings.TrimRight(fmt.Sprintf("%04d", f), "0")
	}
	return out
}

// Rat returns s as an exact fraction.
func (s SDE) Rat() *big.Rat {
	return big.NewRat(int64(s), sdeScale)
}

// Definition is a validated election definition. It is immutable: accessors return copies,
// so a Definition is safe for concurrent use.
type Definition struct {
	election  Election
	counties  []County
	precincts []Precinct

	candidateIndex map[string]int
	countyIndex    map[string]int
	precinctIndex  map[string]int
	location       *time.Location   // the election's TimeZone, loaded
	looseIndex     map[uint64]int32 // loose key hashes; see FindPrecinct
}

// New validates an election definition built in code and returns it. Its errors are those of
// [Load], with lines counted as [Definition.Write] would write the files.
func New(e Election, counties []County, precincts []Precinct) (*Definition, error) {
	s := &source{
		election:  e,
		counties:  slices.Clone(counties),
		precincts: slices.Clone(precincts),
	}
	s.election.Candidates = slices.Clone(e.Candidates)
	s.countyLines = make([]int, len(counties))
	for i := range s.countyLines {
		s.countyLines[i] = i + 2
	}
	s.countyBad = make([]bool, len(counties))
	s.countyIDs = make(map[string]bool, len(counties))
	for _, c := range counties {
		s.countyIDs[c.ID] = true
	}
	s.precinctLines = make([]int, len(precincts))
	for i := range s.precinctLines {
		s.precinctLines[i] = i + 2
	}
	s.precinctBad = make([]bool, len(precincts))
	var p problems
	if len(counties) > maxCounties {
		p.add(CountiesFile, 0, "", "has %d counties; at most %d are allowed", len(counties), maxCounties)
	}
	if len(precincts) > maxPrecincts {
		p.add(PrecinctsFile, 0, "", "has %d precincts; at most %d are allowed", len(precincts), maxPrecincts)
	}
	if err := p.err(); err != nil {
		return nil, err
	}
	return s.definition(&p)
}

// Election returns the election.
func (d *Definition) Election() Election {
	e := d.election
	e.Candidates = slices.Clone(e.Candidates)
	return e
}

// Location is the election's time zone (UTC when it names none).
func (d *Definition) Location() *time.Location { return d.location }

// Candidates returns the candidates in ballot order.
func (d *Definition) Candidates() []Candidate {
	return slices.Clone(d.election.Candidates)
}

// Counties returns the counties in file order.
func (d *Definition) Counties() []County {
	return slices.Clone(d.counties)
}

// Precincts returns the precincts in file order.
func (d *Definition) Precincts() []Precinct {
	return slices.Clone(d.precincts)
}

// Candidate returns the candidate with the given id.
func (d *Definition) Candidate(id string) (Candidate, bool) {
	i, ok := d.candidateIndex[id]
	if !ok {
		return Candidate{}, false
	}
	return d.election.Candidates[i], true
}

// County returns the county with the given id.
func (d *Definition) County(id string) (County, bool) {
	i, ok := d.countyIndex[id]
	if !ok {
		return County{}, false
	}
	return d.counties[i], true
}

// Precinct returns the precinct with the given id.
func (d *Definition) Precinct(id string) (Precinct, bool) {
	i, ok := d.precinctIndex[id]
	if !ok {
		return Precinct{}, false
	}
	return d.precincts[i], true
}

// CountyOf returns the county of the precinct with the given id.
func (d *Definition) CountyOf(precinctID string) (County, bool) {
	p, ok := d.Precinct(precinctID)
	if !ok {
		return County{}, false
	}
	return d.County(p.CountyID)
}

// PrecinctsIn returns the precincts of the county with the given id, in file order.
func (d *Definition) PrecinctsIn(countyID string) []Precinct {
	var out []Precinct
	for _, p := range d.precincts {
		if p.CountyID == countyID {
			out = append(out, p)
		}
	}
	return out
}
