// Package resultscsv reads and writes the long results CSV of spec/interfaces.md: one row per
// precinct per candidate, with the columns of shared/data/iowa-2020/precincts.csv. `caucus check`
// and `caucus simulate --replay` read it; the server writes it at /api/v1/results.csv.
//
// Reading is strict: the header must be exactly Header, counts are whole numbers from 0 to
// rules.MaxCount, SDEs are exact decimal strings (spec R52), the rows of one precinct agree on
// its county, name, delegates and satellite flag, and a candidate appears once per precinct.
// Every error names the line and column. It is not the election definition (internal/election).
package resultscsv

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"caucus/internal/rules"
)

// Header is the exact header line of the format.
var Header = []string{"county_id", "county", "precinct_id", "precinct", "delegates_to_elect", "satellite",
	"candidate_id", "candidate", "first", "final", "sde"}

// Column indices of Header.
const (
	colCountyID = iota
	colCounty
	colPrecinctID
	colPrecinct
	colDelegates
	colSatellite
	colCandidateID
	colCandidate
	colFirst
	colFinal
	colSDE
)

// MaxRows bounds how many rows Read accepts: the 2020 Iowa file has 24,710; a national-size
// election of 175,000 precincts with 20 candidates has 3.5 million.
const MaxRows = 10_000_000

// Candidate is a candidate column of a precinct, in file order.
type Candidate struct {
	ID, Name string
}

// Precinct is one precinct's published results.
type Precinct struct {
	CountyID, County string
	ID, Name         string
	// DelegatesToElect is absent (Has false) for satellites whose delegates follow attendance.
	DelegatesToElect    int64
	HasDelegatesToElect bool
	Satellite           bool
	Candidates          []Candidate // in file order
	First, Final        rules.Counts
	SDE                 map[string]string // published SDE strings, exactly as written
	Line                int               // line of its first row
}

// Error is a problem in the file, with its place.
type Error struct {
	Line, Column int // 1-based; Column 0 when the whole line is concerned
	Field        string
	Msg          string
}

func (e *Error) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("line %d, column %d (%s): %s", e.Line, e.Column, e.Field, e.Msg)
	}
	return fmt.Sprintf("line %d, column %d: %s", e.Line, e.Column, e.Msg)
}

// Read reads a whole file. Precincts come in the order of their first row; a precinct's rows
// need not be contiguous.
func Read(r io.Reader) ([]Precinct, error) {
	cr := csv.NewReader(r)
	cr.ReuseRecord = true
	cr.FieldsPerRecord = len(Header)
	head, err := cr.Read()
	if err != nil {
		return nil, csvError(err, "the header")
	}
	for i, h := range Header {
		if strings.TrimPrefix(head[i], "\ufeff") != h {
			return nil, &Error{Line: 1, Column: i + 1, Field: h, Msg: fmt.Sprintf("the header must be %s", strings.Join(Header, ","))}
		}
	}
	var out []Precinct
	index := map[string]int{}
	for rows := 0; ; rows++ {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, csvError(err, "")
		}
		if rows >= MaxRows {
			line, _ := cr.FieldPos(0)
			return nil, &Error{Line: line, Msg: fmt.Sprintf("more than %d rows", MaxRows)}
		}
		if err := add(cr, rec, &out, index); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func csvError(err error, what string) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		msg := pe.Err.Error()
		if errors.Is(pe.Err, csv.ErrFieldCount) {
			msg = fmt.Sprintf("a row must have %d fields (%s)", len(Header), strings.Join(Header, ","))
		}
		return &Error{Line: pe.Line, Column: pe.Column, Msg: msg}
	}
	if err == io.EOF && what != "" {
		return &Error{Line: 1, Column: 1, Msg: "the file is empty; expected " + what}
	}
	return fmt.Errorf("read results CSV: %w", err)
}

func add(cr *csv.Reader, rec []string, out *[]Precinct, index map[string]int) error {
	fail := func(col int, format string, args ...any) error {
		line, column := cr.FieldPos(col)
		return &Error{Line: line, Column: column, Field: Header[col], Msg: fmt.Sprintf(format, args...)}
	}
	for _, col := range []int{colCountyID, colPrecinctID, colCandidateID} {
		if rec[col] == "" {
			return fail(col, "is empty")
		}
	}
	var d int64
	hasD := rec[colDelegates] != ""
	if hasD {
		n, err := parseCount(rec[colDelegates])
		if err != "" {
			return fail(colDelegates, "%q %s", rec[colDelegates], err)
		}
		d = n
	}
	var sat bool
	switch rec[colSatellite] {
	case "true":
		sat = true
	case "false":
	default:
		return fail(colSatellite, "%q must be true or false", rec[colSatellite])
	}
	first, errs := parseCount(rec[colFirst])
	if errs != "" {
		return fail(colFirst, "%q %s", rec[colFirst], errs)
	}
	final, errs := parseCount(rec[colFinal])
	if errs != "" {
		return fail(colFinal, "%q %s", rec[colFinal], errs)
	}
	if _, err := rules.ParseDecimal(rec[colSDE]); err != nil {
		return fail(colSDE, "%q is not an exact decimal like 0.1569", rec[colSDE])
	}
	id := rec[colPrecinctID]
	i, ok := index[id]
	if !ok {
		line, _ := cr.FieldPos(0)
		i = len(*out)
		index[id] = i
		*out = append(*out, Precinct{
			CountyID: rec[colCountyID], County: rec[colCounty], ID: id, Name: rec[colPrecinct],
			DelegatesToElect: d, HasDelegatesToElect: hasD, Satellite: sat,
			First: rules.Counts{}, Final: rules.Counts{}, SDE: map[string]string{}, Line: line,
		})
	}
	p := &(*out)[i]
	switch {
	case p.CountyID != rec[colCountyID]:
		return fail(colCountyID, "precinct %s is in county %s on line %d", id, p.CountyID, p.Line)
	case p.County != rec[colCounty]:
		return fail(colCounty, "precinct %s is in county %q on line %d", id, p.County, p.Line)
	case p.Name != rec[colPrecinct]:
		return fail(colPrecinct, "precinct %s is named %q on line %d", id, p.Name, p.Line)
	case p.HasDelegatesToElect != hasD || p.DelegatesToElect != d:
		return fail(colDelegates, "precinct %s has a different delegates_to_elect on line %d", id, p.Line)
	case p.Satellite != sat:
		return fail(colSatellite, "precinct %s has a different satellite flag on line %d", id, p.Line)
	}
	cand := rec[colCandidateID]
	if _, dup := p.SDE[cand]; dup {
		return fail(colCandidateID, "candidate %s appears twice for precinct %s", cand, id)
	}
	p.Candidates = append(p.Candidates, Candidate{ID: cand, Name: rec[colCandidate]})
	p.First[cand], p.Final[cand], p.SDE[cand] = first, final, rec[colSDE]
	return nil
}

func parseCount(s string) (int64, string) {
	if s == "" || s[0] < '0' || s[0] > '9' {
		return 0, "is not a whole number 0 or more"
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, "is not a whole number 0 or more"
	}
	if n > rules.MaxCount {
		return 0, fmt.Sprintf("is more than %d", rules.MaxCount)
	}
	return n, ""
}

// Write writes precincts in the format, in the given order, candidates in each precinct's order.
// A precinct's recorded coin tosses and card draws are not in it: Header is the contract's fixed
// header (the party's published format, which `caucus check` reads), and a column per toss does not
// fit one row per candidate; they are published in the precinct's JSON only ("tiebreaks" of
// /api/v1/results/precincts/{id}).
func Write(w io.Writer, precincts []Precinct) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(Header); err != nil {
		return err
	}
	rec := make([]string, len(Header))
	for _, p := range precincts {
		rec[colCountyID], rec[colCounty], rec[colPrecinctID], rec[colPrecinct] = p.CountyID, p.County, p.ID, p.Name
		rec[colDelegates] = ""
		if p.HasDelegatesToElect {
			rec[colDelegates] = strconv.FormatInt(p.DelegatesToElect, 10)
		}
		rec[colSatellite] = strconv.FormatBool(p.Satellite)
		for _, c := range p.Candidates {
			rec[colCandidateID], rec[colCandidate] = c.ID, c.Name
			rec[colFirst] = strconv.FormatInt(p.First[c.ID], 10)
			rec[colFinal] = strconv.FormatInt(p.Final[c.ID], 10)
			rec[colSDE] = p.SDE[c.ID]
			if err := cw.Write(rec); err != nil {
				return err
			}
		}
	}
	cw.Flush()
	return cw.Error()
}
