package election

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"
	"strings"
)

var (
	countiesHeader  = []string{"county_id", "name", "county_delegates", "state_delegates"}
	precinctsHeader = []string{"precinct_id", "county_id", "name", "delegates_to_elect", "satellite"}
)

// LoadDir reads and validates the definition folder at path. See [Load].
func LoadDir(path string) (*Definition, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("open definition folder: %w", err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("open definition folder: %s is a file; give the folder that holds %s, %s and %s",
			path, ElectionFile, CountiesFile, PrecinctsFile)
	}
	return Load(os.DirFS(path))
}

// Load reads and validates the definition folder at the root of fsys: election.json,
// counties.csv and precincts.csv. When the folder is not valid, the error joins one
// [*FieldError] per problem found (at most 20, then a note that more were not shown).
func Load(fsys fs.FS) (*Definition, error) {
	var p problems
	ej := readFile(fsys, ElectionFile, maxElectionBytes, &p)
	cc := readFile(fsys, CountiesFile, maxCountiesBytes, &p)
	pc := readFile(fsys, PrecinctsFile, maxPrecinctsBytes, &p)
	return loadFiles(ej, cc, pc, &p)
}

// readFile returns the file's content, or nil after recording why it could not be read.
func readFile(fsys fs.FS, name string, limit int64, p *problems) []byte {
	f, err := fsys.Open(name)
	if errors.Is(err, fs.ErrNotExist) {
		p.add(name, 0, "", "is missing from the folder; a definition folder holds %s, %s and %s",
			ElectionFile, CountiesFile, PrecinctsFile)
		return nil
	}
	if err != nil {
		p.errs = append(p.errs, &FieldError{File: name, Msg: "could not be opened", Err: err})
		return nil
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		p.errs = append(p.errs, &FieldError{File: name, Msg: "could not be read", Err: err})
		return nil
	}
	if int64(len(data)) > limit {
		p.add(name, 0, "", "is larger than %d MiB, far more than any election needs; is it the right file?", limit>>20)
		return nil
	}
	return data
}

// loadFiles decodes and validates the three files; a nil file was already reported in p.
func loadFiles(electionJSON, countiesCSV, precinctsCSV []byte, p *problems) (*Definition, error) {
	s := &source{electionLines: map[string]int{}, countyIDs: map[string]bool{}}
	if electionJSON != nil {
		decodeElection(electionJSON, p, s)
	}
	if countiesCSV != nil {
		s.countiesUnusable = !readCSV(CountiesFile, countiesCSV, countiesHeader, maxCounties, p, func(lines []int, rec []string) { s.countyRow(p, lines, rec) })
	} else {
		s.countiesUnusable = true
	}
	s.precinctsUnusable = precinctsCSV == nil ||
		!readCSV(PrecinctsFile, precinctsCSV, precinctsHeader, maxPrecincts, p, func(lines []int, rec []string) { s.precinctRow(p, lines, rec) })
	return s.definition(p)
}

// readCSV checks the header and calls row for each record with the line of each field, or
// with nil lines for a record with the wrong number of fields (already reported). It reports
// false if the file could not be read to its end.
func readCSV(file string, data []byte, header []string, maxRows int, p *problems, row func(lines []int, rec []string)) bool {
	data = bytes.TrimPrefix(data, []byte("\uFEFF")) // a spreadsheet's byte order mark
	r := csv.NewReader(bytes.NewReader(data))
	r.FieldsPerRecord = -1
	r.ReuseRecord = true
	want := strings.Join(header, ",")
	rec, err := r.Read()
	switch {
	case err == io.EOF:
		p.add(file, 1, "", "the file is empty; its first line must be the header %s", want)
		return false
	case err != nil:
		csvError(file, err, p)
		return false
	case strings.Join(rec, ",") != want || len(rec) != len(header):
		line, _ := r.FieldPos(0)
		p.add(file, line, "", "the header must be exactly %s (found %s)", want, quoteFields(rec))
		return false
	}
	lines := make([]int, len(header))
	for rows := 0; ; rows++ {
		rec, err := r.Read()
		if err == io.EOF {
			return true
		}
		if err != nil {
			csvError(file, err, p)
			return false
		}
		line, _ := r.FieldPos(0)
		if rows == maxRows {
			p.add(file, line, "", "there are more than %d rows, far more than any election needs; is it the right file?", maxRows)
			return false
		}
		if len(rec) != len(header) {
			p.add(file, line, "", "has %d fields, but the header has %d (%s); a name with a comma must be in double quotes",
				len(rec), len(header), want)
			row(nil, rec)
		} else {
			for i := range rec {
				lines[i], _ = r.FieldPos(i)
			}
			row(lines, rec)
		}
		if p.full() {
			p.more = true
			return false
		}
	}
}

func csvError(file string, err error, p *problems) {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		p.add(file, pe.Line, "", "column %d: this is not valid CSV: %v", pe.Column, pe.Err)
		return
	}
	p.errs = append(p.errs, &FieldError{File: file, Msg: "could not be read as CSV", Err: err})
}

func quoteFields(rec []string) string {
	if len(rec) == 0 {
		return "nothing"
	}
	s := strings.Join(rec, ",")
	if len(s) > 120 {
		s = s[:120] + "…"
	}
	return strconv.Quote(s)
}

// countyRow records one row of counties.csv.
func (s *source) countyRow(p *problems, lines []int, rec []string) {
	s.countyIDs[rec[0]] = true
	if lines == nil {
		return
	}
	c := County{ID: rec[0], Name: rec[1]}
	bad := false
	if rec[2] != "" {
		n, ok := wholeNumber(p, CountiesFile, lines[2], "county_delegates", rec[2])
		if ok && n == 0 {
			p.add(CountiesFile, lines[2], "county_delegates", "0 is not allowed: a county has at least 1 county delegate (leave it empty if not known)")
			ok = false
		}
		c.CountyDelegates, bad = n, !ok
	}
	if rec[3] != "" {
		v, err := ParseSDE(rec[3])
		switch {
		case err != nil:
			p.add(CountiesFile, lines[3], "state_delegates", "%v", err)
			bad = true
		case v == 0:
			p.add(CountiesFile, lines[3], "state_delegates", "0 is not allowed: it would give the county no SDEs at all (leave it empty if not known)")
			bad = true
		}
		c.StateDelegates = v
	}
	s.counties = append(s.counties, c)
	s.countyLines = append(s.countyLines, lines[0])
	s.countyBad = append(s.countyBad, bad)
}

// precinctRow records one row of precincts.csv.
func (s *source) precinctRow(p *problems, lines []int, rec []string) {
	if lines == nil {
		return
	}
	pr := Precinct{ID: rec[0], CountyID: rec[1], Name: rec[2]}
	bad := false
	switch rec[4] {
	case "true":
		pr.Satellite = true
	case "false":
	default:
		p.add(PrecinctsFile, lines[4], "satellite", "%q must be true or false", rec[4])
		bad = true
	}
	if rec[3] != "" {
		n, ok := wholeNumber(p, PrecinctsFile, lines[3], "delegates_to_elect", rec[3])
		if ok && n == 0 {
			p.add(PrecinctsFile, lines[3], "delegates_to_elect", "0 is not allowed: a precinct elects at least 1 delegate (a satellite may leave it empty, to follow its attendance)")
			ok = false
		}
		pr.DelegatesToElect, bad = n, bad || !ok
	}
	s.precincts = append(s.precincts, pr)
	s.precinctLines = append(s.precinctLines, lines[0])
	s.precinctBad = append(s.precinctBad, bad)
}

// wholeNumber parses digits only: no sign, space, point or exponent.
func wholeNumber(p *problems, file string, line int, field, s string) (int, bool) {
	if !isDigits(s) {
		p.add(file, line, field, "%q is not a whole number (write digits only, like 12)", s)
		return 0, false
	}
	if len(s) > 9 {
		p.add(file, line, field, "%s is far too large", s)
		return 0, false
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		p.add(file, line, field, "%q is not a whole number (write digits only, like 12)", s)
		return 0, false
	}
	return n, true
}
