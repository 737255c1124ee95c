package election

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"caucus/internal/rules"
)

// Bounds on a definition. Each is far above any real election (Iowa 2020: 104 counties, 1,765
// precincts, 14 candidates, ids up to 88 characters, names up to 72, at most 36 delegates to
// elect, 11,402 county delegates) and low enough that a hostile folder costs little to refuse.
const (
	maxElectionBytes  = 1 << 20
	maxCountiesBytes  = 4 << 20
	maxPrecinctsBytes = 16 << 20
	maxCandidates     = 100
	maxCounties       = 5000
	maxPrecincts      = 200000 // a national-size election (the benchmark suite's) has 175,000
	maxIDLen          = 128
	maxNameLen        = 200
	maxDelegates      = 10000   // delegates_to_elect of one precinct
	maxCountyDel      = 1000000 // county_delegates of one county
	maxStateDel       = 100000  // state_delegates of one county, whole part
	maxErrors         = 20      // problems reported at once
	maxSDE            = maxStateDel * sdeScale
)

// FieldError is one problem in a definition folder, located by file, line and field.
type FieldError struct {
	File  string // "precincts.csv"
	Line  int    // 1-based; 0 when there is no line (a file that is missing, or built in code)
	Field string // "delegates_to_elect", "candidates[2].id"; "" for the line as a whole
	Msg   string // what is wrong, in words a volunteer understands
	Err   error  // the cause, when the file could not be read; nil otherwise
}

func (e *FieldError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, " line %d", e.Line)
	}
	if e.Field != "" {
		fmt.Fprintf(&b, ", field %s", e.Field)
	}
	b.WriteString(": ")
	b.WriteString(e.Msg)
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

func (e *FieldError) Unwrap() error { return e.Err }

// problems collects up to maxErrors FieldErrors.
type problems struct {
	errs []error
	more bool
}

func (p *problems) add(file string, line int, field, format string, args ...any) {
	if len(p.errs) >= maxErrors {
		p.more = true
		return
	}
	p.errs = append(p.errs, &FieldError{File: file, Line: line, Field: field, Msg: fmt.Sprintf(format, args...)})
}

func (p *problems) full() bool { return len(p.errs) >= maxErrors }

func (p *problems) err() error {
	if len(p.errs) == 0 {
		return nil
	}
	errs := p.errs
	if p.more {
		errs = append(errs[:len(errs):len(errs)],
			fmt.Errorf("stopped after %d problems: fix these and load again to see any others", len(p.errs)))
	}
	return errors.Join(errs...)
}

// source is a definition as read, with the line of each item, before validation.
type source struct {
	election      Election
	electionLines map[string]int // field path → line; nil when built in code

	counties    []County
	countyLines []int
	countyBad   []bool // a field of the row did not parse: its values are not checked

	precincts     []Precinct
	precinctLines []int
	precinctBad   []bool

	countyIDs         map[string]bool // every county id in counties.csv, valid or not
	countiesUnusable  bool            // counties.csv could not be read: county references are not checked
	precinctsUnusable bool            // precincts.csv could not be read to its end
}

func (s *source) eline(path string) int { return s.electionLines[path] }

// has reports whether the field at path is to be checked: always for a definition built in
// code; when read from election.json, only if it was decoded (else the decoder reported it).
func (s *source) has(path string) bool {
	return s.electionLines == nil || s.electionLines[path] > 0
}

// definition validates s and returns it as a Definition, or every problem found (with those
// already in p).
// checkTimeZone loads an IANA time zone name; "Local" is refused, since it would mean whatever
// zone the server's machine is set to.
func checkTimeZone(p *problems, f string, line int, name string) *time.Location {
	if name == "" || name == "Local" {
		p.add(f, line, "time_zone", "%q is not a time zone: write an IANA name like \"America/Chicago\", or leave time_zone out for UTC", name)
		return nil
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		p.add(f, line, "time_zone", "%q is not a known time zone: write an IANA name like \"America/Chicago\"", name)
		return nil
	}
	return loc
}

func (s *source) definition(p *problems) (*Definition, error) {
	d := &Definition{
		election:       s.election,
		counties:       s.counties,
		precincts:      s.precincts,
		candidateIndex: make(map[string]int, len(s.election.Candidates)),
		countyIndex:    make(map[string]int, len(s.counties)),
		precinctIndex:  make(map[string]int, len(s.precincts)),
		location:       time.UTC,
	}
	if loc := s.checkElection(p, d.candidateIndex); loc != nil {
		d.location = loc
	}
	s.checkCounties(p, d.countyIndex)
	s.checkPrecincts(p, d.countyIndex, d.precinctIndex)
	if err := p.err(); err != nil {
		return nil, err
	}
	return d, nil
}

// checkElection checks election.json's fields and returns the time zone it names (nil: none, or
// not valid).
func (s *source) checkElection(p *problems, index map[string]int) (loc *time.Location) {
	const f = ElectionFile
	e := s.election
	if s.has("time_zone") && (e.TimeZone != "" || s.electionLines != nil) {
		loc = checkTimeZone(p, f, s.eline("time_zone"), e.TimeZone)
	}
	if s.has("id") {
		checkID(p, f, s.eline("id"), "id", e.ID, "iowa-2020")
	}
	if s.has("name") {
		checkName(p, f, s.eline("name"), "name", e.Name)
	}
	if s.has("date") {
		if _, err := time.Parse(time.DateOnly, e.Date); err != nil || len(e.Date) != len(time.DateOnly) {
			p.add(f, s.eline("date"), "date", "%q is not a date written like 2020-02-03", e.Date)
		}
	}
	if s.has("rules") {
		if !e.Rules.Known() {
			p.add(f, s.eline("rules"), "rules", "%q is not a known rules profile: use %s", e.Rules, profileList())
		}
	}
	if s.has("candidates") {
		switch {
		case len(e.Candidates) == 0:
			p.add(f, s.eline("candidates"), "candidates", "the list is empty; name at least one candidate")
		case len(e.Candidates) > maxCandidates:
			p.add(f, s.eline("candidates"), "candidates", "has %d candidates; at most %d are allowed", len(e.Candidates), maxCandidates)
			return
		}
	}
	for i, c := range e.Candidates {
		path := fmt.Sprintf("candidates[%d]", i)
		if s.has(path+".id") && checkID(p, f, s.eline(path+".id"), path+".id", c.ID, "uncommitted") {
			if j, dup := index[c.ID]; dup {
				p.add(f, s.eline(path+".id"), path+".id", "candidate id %q is already used by candidates[%d]", c.ID, j)
			} else {
				index[c.ID] = i
			}
		}
		if s.has(path + ".name") {
			checkName(p, f, s.eline(path+".name"), path+".name", c.Name)
		}
	}
	return loc
}

func (s *source) checkCounties(p *problems, index map[string]int) {
	const f = CountiesFile
	for i, c := range s.counties {
		line := s.countyLines[i]
		if checkID(p, f, line, "county_id", c.ID, "polk") {
			if j, dup := index[c.ID]; dup {
				p.add(f, line, "county_id", "county id %q is already used on line %d", c.ID, s.countyLines[j])
			} else {
				index[c.ID] = i
			}
		}
		if s.countyBad[i] {
			continue
		}
		checkName(p, f, line, "name", c.Name)
		switch {
		case c.CountyDelegates < 0 || c.CountyDelegates > maxCountyDel:
			p.add(f, line, "county_delegates", "%d is out of range: it must be between 1 and %d (or empty if not known)", c.CountyDelegates, maxCountyDel)
		case c.StateDelegates < 0 || c.StateDelegates > maxSDE:
			p.add(f, line, "state_delegates", "%s is out of range: it must be more than 0 and at most %d (or empty if not known)", c.StateDelegates, maxStateDel)
		}
	}
}

func (s *source) checkPrecincts(p *problems, counties, index map[string]int) {
	const f = PrecinctsFile
	for i, pr := range s.precincts {
		line := s.precinctLines[i]
		if checkID(p, f, line, "precinct_id", pr.ID, "polk-des-moines-41") {
			if j, dup := index[pr.ID]; dup {
				p.add(f, line, "precinct_id", "precinct id %q is already used on line %d", pr.ID, s.precinctLines[j])
			} else {
				index[pr.ID] = i
			}
		}
		_, ok := counties[pr.CountyID]
		if !ok && !s.countiesUnusable && !s.countyIDs[pr.CountyID] {
			if pr.CountyID == "" {
				p.add(f, line, "county_id", "is empty; give the id of the precinct's county from %s", CountiesFile)
			} else {
				p.add(f, line, "county_id", "there is no county %q in %s", pr.CountyID, CountiesFile)
			}
		}
		if s.precinctBad[i] {
			continue
		}
		checkName(p, f, line, "name", pr.Name)
		switch {
		case pr.DelegatesToElect == 0 && !pr.Satellite:
			p.add(f, line, "delegates_to_elect", "is empty or 0; a precinct elects at least 1 delegate (only a satellite may leave it empty, to follow its attendance)")
		case pr.DelegatesToElect < 0 || pr.DelegatesToElect > maxDelegates:
			p.add(f, line, "delegates_to_elect", "%d is out of range: it must be between 1 and %d", pr.DelegatesToElect, maxDelegates)
		}
	}
	if len(s.precincts) == 0 && !s.precinctsUnusable {
		p.add(f, 0, "", "has no precincts: add one line per precinct after the header")
	}
}

// checkID reports whether id is a lowercase slug: letters a–z and digits, in words joined by
// single hyphens.
func checkID(p *problems, file string, line int, field, id, example string) bool {
	switch {
	case id == "":
		p.add(file, line, field, "is empty; give an id like %q", example)
		return false
	case len(id) > maxIDLen:
		p.add(file, line, field, "the id is %d characters long; at most %d are allowed", len(id), maxIDLen)
		return false
	case !isSlug(id):
		p.add(file, line, field, "%q is not a valid id: use lowercase letters a-z, digits and single hyphens between them, like %q", id, example)
		return false
	}
	return true
}

func isSlug(s string) bool {
	if s == "" || s[0] == '-' || s[len(s)-1] == '-' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', '0' <= c && c <= '9':
		case c == '-' && s[i-1] != '-':
		default:
			return false
		}
	}
	return true
}

// checkName refuses an empty or overlong name, one that is not text, and one that a
// spreadsheet would run as a formula when someone opens the file.
func checkName(p *problems, file string, line int, field, name string) {
	switch {
	case strings.TrimSpace(name) == "":
		p.add(file, line, field, "is empty; give a name")
	case len(name) > maxNameLen:
		p.add(file, line, field, "the name is %d characters long; at most %d are allowed", len(name), maxNameLen)
	case !utf8.ValidString(name):
		p.add(file, line, field, "the name is not valid UTF-8 text; save the file as UTF-8")
	case strings.TrimSpace(name) != name:
		p.add(file, line, field, "%q starts or ends with a space; remove it", name)
	case strings.ContainsAny(name[:1], "=+-@"):
		p.add(file, line, field, "%q starts with %q, which a spreadsheet would run as a formula; start the name with a letter or digit", name, name[:1])
	case strings.IndexFunc(name, func(r rune) bool { return unicode.IsControl(r) || r == utf8.RuneError }) >= 0:
		p.add(file, line, field, "%q contains a control character (a tab, a line break or similar) or a byte that is not text; remove it", name)
	}
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// profileList names every known rules profile for an error message: "a", "b" or "c".
func profileList() string {
	ps := rules.Profiles()
	var b strings.Builder
	for i, p := range ps {
		switch {
		case i == len(ps)-1 && i > 0:
			b.WriteString(" or ")
		case i > 0:
			b.WriteString(", ")
		}
		b.WriteString(strconv.Quote(string(p)))
	}
	return b.String()
}
