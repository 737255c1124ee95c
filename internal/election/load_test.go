package election_test

import (
	"errors"
	"fmt"
	"os"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"caucus/internal/election"
)

const (
	baseElection = `{
  "id": "test-2024",
  "name": "Test Caucus",
  "date": "2024-01-15",
  "rules": "iowa-dem-2020",
  "candidates": [
    {"id": "alpha", "name": "Alpha"},
    {"id": "uncommitted", "name": "Uncommitted"}
  ],
  "practice": false
}
`
	baseCounties = `county_id,name,county_delegates,state_delegates
adair,Adair,51,4
cd1-satellite,CD1 Satellite,,
`
	basePrecincts = `precinct_id,county_id,name,delegates_to_elect,satellite
adair-1nw,adair,1NW Adair,8,false
adair-2se,adair,2SE Adair,43,false
cd1-sat-one,cd1-satellite,"Cedar Rapids, IA",,true
`
)

func baseFS() fstest.MapFS {
	return fstest.MapFS{
		election.ElectionFile:  {Data: []byte(baseElection)},
		election.CountiesFile:  {Data: []byte(baseCounties)},
		election.PrecinctsFile: {Data: []byte(basePrecincts)},
	}
}

// problemsOf returns the joined errors of a Load.
func problemsOf(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

func TestLoadValid(t *testing.T) {
	d, err := election.Load(baseFS())
	if err != nil {
		t.Fatal(err)
	}
	e := d.Election()
	want := election.Election{ID: "test-2024", Name: "Test Caucus", Date: "2024-01-15", Rules: election.RulesIowa,
		Candidates: []election.Candidate{{ID: "alpha", Name: "Alpha"}, {ID: "uncommitted", Name: "Uncommitted"}}}
	if !reflect.DeepEqual(e, want) {
		t.Errorf("election = %+v, want %+v", e, want)
	}
	sat, ok := d.Precinct("cd1-sat-one")
	if !ok || !sat.Satellite || !sat.FollowsAttendance() || sat.Name != "Cedar Rapids, IA" || sat.CountyID != "cd1-satellite" {
		t.Errorf("satellite = %+v, %v", sat, ok)
	}
	if c, _ := d.County("cd1-satellite"); c.CountyDelegates != 0 || c.StateDelegates != 0 {
		t.Errorf("pseudo-county = %+v", c)
	} else if r, ok := c.SDERatio(); ok {
		t.Errorf("pseudo-county has a ratio %v", r)
	}
	if _, ok := d.Precinct("nope"); ok {
		t.Error("Precinct(nope) found")
	}
	if got := len(d.PrecinctsIn("adair")); got != 2 {
		t.Errorf("PrecinctsIn(adair) has %d precincts", got)
	}
}

// TestLoadAccepts covers inputs that are unusual but valid.
func TestLoadAccepts(t *testing.T) {
	tests := []struct{ name, file, old, new string }{
		{"byte order mark", election.CountiesFile, "county_id", "\uFEFFcounty_id"},
		{"CRLF line ends", election.PrecinctsFile, "\n", "\r\n"},
		{"satellite with delegates", election.PrecinctsFile, ",,true", ",5,true"},
		{"practice absent", election.ElectionFile, ",\n  \"practice\": false", ""},
		{"fractional state delegates", election.CountiesFile, "51,4", "51,4.0421"},
		{"nevada", election.ElectionFile, "iowa-dem-2020", "nevada-dem-2020"},
		{"straw poll", election.ElectionFile, "iowa-dem-2020", "straw-poll"},
		{"satellite in a real county", election.PrecinctsFile, "cd1-sat-one,cd1-satellite", "cd1-sat-one,adair"},
		{"name with ampersand and accent", election.CountiesFile, "Adair,", "Adair & Café,"},
		{"time zone", election.ElectionFile, `"practice": false`, `"practice": false, "time_zone": "America/Chicago"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fsys := baseFS()
			s := string(fsys[tt.file].Data)
			if !strings.Contains(s, tt.old) {
				t.Fatalf("%q not in %s", tt.old, tt.file)
			}
			fsys[tt.file] = &fstest.MapFile{Data: []byte(strings.ReplaceAll(s, tt.old, tt.new))}
			if _, err := election.Load(fsys); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestTimeZone: the election's zone is loaded, UTC when it names none, and written back.
func TestTimeZone(t *testing.T) {
	fsys := baseFS()
	d, err := election.Load(fsys)
	if err != nil {
		t.Fatal(err)
	}
	if d.Location() != time.UTC || d.Election().TimeZone != "" {
		t.Errorf("no time_zone: location %v, TimeZone %q; want UTC and empty", d.Location(), d.Election().TimeZone)
	}
	s := strings.Replace(string(fsys[election.ElectionFile].Data), `"practice": false`, `"practice": false, "time_zone": "America/Chicago"`, 1)
	fsys[election.ElectionFile] = &fstest.MapFile{Data: []byte(s)}
	if d, err = election.Load(fsys); err != nil {
		t.Fatal(err)
	}
	feb := time.Date(2020, 2, 4, 1, 0, 0, 0, time.UTC).In(d.Location())
	if d.Election().TimeZone != "America/Chicago" || feb.Format("15:04 MST") != "19:00 CST" {
		t.Errorf("time_zone America/Chicago: TimeZone %q, 01:00 UTC shows as %s", d.Election().TimeZone, feb.Format("15:04 MST"))
	}
	dir := t.TempDir()
	if err := d.Write(dir); err != nil {
		t.Fatal(err)
	}
	again, err := election.Load(os.DirFS(dir))
	if err != nil {
		t.Fatal(err)
	}
	if again.Election().TimeZone != "America/Chicago" {
		t.Errorf("written and read again: TimeZone %q", again.Election().TimeZone)
	}
}

// TestLoadErrors has one case per problem Load refuses: each gives exactly one error, naming
// the file, the line and the field.
func TestLoadErrors(t *testing.T) {
	const (
		ej = election.ElectionFile
		cc = election.CountiesFile
		pc = election.PrecinctsFile
	)
	var many strings.Builder
	for i := range 101 {
		fmt.Fprintf(&many, `{"id": "c%d", "name": "C"},`, i)
	}
	manyCandidates := many.String()
	many.Reset()
	for i := range 200000 {
		fmt.Fprintf(&many, "x%d,adair,X,1,false\n", i)
	}
	manyPrecincts := many.String()
	tests := []struct {
		name, file, old, new string
		want                 string // the whole error, or its start when it ends with "…"
	}{
		// election.json
		{"id not a slug", ej, `"test-2024"`, `"Test 2024"`,
			`election.json line 2, field id: "Test 2024" is not a valid id: use lowercase letters a-z, digits and single hyphens between them, like "iowa-2020"`},
		{"id double hyphen", ej, `"test-2024"`, `"test--2024"`, `election.json line 2, field id: "test--2024" is not a valid id…`},
		{"id empty", ej, `"test-2024"`, `""`, `election.json line 2, field id: is empty; give an id like "iowa-2020"`},
		{"id too long", ej, `"test-2024"`, `"` + strings.Repeat("a", 129) + `"`, `election.json line 2, field id: the id is 129 characters long; at most 128 are allowed`},
		{"id a number", ej, `"test-2024"`, `2024`, `election.json line 2, field id: must be text in double quotes, like "iowa-2020"`},
		{"id an object", ej, `"test-2024"`, `{"a": [1]}`, `election.json line 2, field id: must be text in double quotes…`},
		{"name empty", ej, `"Test Caucus"`, `"  "`, `election.json line 3, field name: is empty; give a name`},
		{"name formula", ej, `"Test Caucus"`, `"=HYPERLINK(1)"`, `election.json line 3, field name: "=HYPERLINK(1)" starts with "=", which a spreadsheet would run as a formula…`},
		{"name control", ej, `"Test Caucus"`, `"Test\tCaucus"`, `election.json line 3, field name: "Test\tCaucus" contains a control character…`},
		{"name padded", ej, `"Test Caucus"`, `" Test"`, `election.json line 3, field name: " Test" starts or ends with a space; remove it`},
		{"name too long", ej, `"Test Caucus"`, `"` + strings.Repeat("n", 201) + `"`, `election.json line 3, field name: the name is 201 characters long; at most 200 are allowed`},
		{"date invalid", ej, `"2024-01-15"`, `"2024-13-01"`, `election.json line 4, field date: "2024-13-01" is not a date written like 2020-02-03`},
		{"date American", ej, `"2024-01-15"`, `"1/15/2024"`, `election.json line 4, field date: "1/15/2024" is not a date…`},
		{"rules unknown", ej, `"iowa-dem-2020"`, `"iowa"`,
			`election.json line 5, field rules: "iowa" is not a known rules profile: use "iowa-dem-2020", "nevada-dem-2020" or "straw-poll"`},
		{"candidates empty", ej, "[\n    {\"id\": \"alpha\", \"name\": \"Alpha\"},\n    {\"id\": \"uncommitted\", \"name\": \"Uncommitted\"}\n  ]", `[]`,
			`election.json line 6, field candidates: the list is empty; name at least one candidate`},
		{"candidates not a list", ej, "[\n    {\"id\": \"alpha\", \"name\": \"Alpha\"},\n    {\"id\": \"uncommitted\", \"name\": \"Uncommitted\"}\n  ]", `"alpha"`,
			`election.json line 6, field candidates: must be a list…`},
		{"too many candidates", ej, `{"id": "alpha", "name": "Alpha"},`, manyCandidates,
			`election.json line 6, field candidates: there are more than 100 candidates; at most 100 are allowed`},
		{"candidate not an object", ej, `{"id": "alpha", "name": "Alpha"}`, `"alpha"`, `election.json line 7, field candidates[0]: must be a candidate like…`},
		{"candidate id duplicate", ej, `"uncommitted", "name"`, `"alpha", "name"`,
			`election.json line 8, field candidates[1].id: candidate id "alpha" is already used by candidates[0]`},
		{"candidate id uppercase", ej, `"alpha"`, `"Alpha"`, `election.json line 7, field candidates[0].id: "Alpha" is not a valid id…`},
		{"candidate name missing", ej, `{"id": "alpha", "name": "Alpha"}`, `{"id": "alpha"}`,
			`election.json line 7, field candidates[0].name: is missing; a candidate like {"id": "sanders", "name": "Bernie Sanders"} needs it`},
		{"candidate name empty", ej, `"name": "Alpha"`, `"name": ""`, `election.json line 7, field candidates[0].name: is empty; give a name`},
		{"candidate unknown field", ej, `"name": "Alpha"`, `"name": "Alpha", "party": "D"`,
			`election.json line 7, field candidates[0].party: "party" is not a field here (the fields are id and name); check its spelling`},
		{"unknown field", ej, `"practice": false`, `"practice": false, "colour": "red"`,
			`election.json line 10, field colour: "colour" is not a field here (the fields are id, name, date, rules, candidates, practice and time_zone); check its spelling`},
		{"repeated field", ej, `"practice": false`, `"practice": false, "id": "again"`, `election.json line 10, field id: appears twice; keep only one`},
		{"time_zone unknown", ej, `"practice": false`, `"practice": false, "time_zone": "America/Chicagoo"`,
			`election.json line 10, field time_zone: "America/Chicagoo" is not a known time zone: write an IANA name like "America/Chicago"`},
		{"time_zone Local", ej, `"practice": false`, `"practice": false, "time_zone": "Local"`,
			`election.json line 10, field time_zone: "Local" is not a time zone: write an IANA name like "America/Chicago", or leave time_zone out for UTC`},
		{"time_zone empty", ej, `"practice": false`, `"practice": false, "time_zone": ""`, `election.json line 10, field time_zone: "" is not a time zone…`},
		{"time_zone a number", ej, `"practice": false`, `"practice": false, "time_zone": -6`, `election.json line 10, field time_zone: must be text in double quotes, like "America/Chicago"`},
		{"practice a string", ej, `"practice": false`, `"practice": "no"`, `election.json line 10, field practice: must be true or false, without quotes`},
		{"required field missing", ej, "  \"rules\": \"iowa-dem-2020\",\n", "",
			`election.json line 1, field rules: is missing; one JSON object like…`},
		{"syntax error", ej, `"practice": false`, `"practice": false,`, `election.json line 10: this is not valid JSON: invalid character ',' looking for beginning of value`}, // the trailing comma, as Go 1.27 reports it
		{"truncated", ej, "  ],\n  \"practice\": false\n}\n", "  ],\n", `election.json line 10: the file ends too early: a closing } or ] is missing`},
		{"trailing data", ej, "false\n}\n", "false\n}\n{}\n", `election.json line 12: there is more after the closing } of the election; remove it`},
		{"not an object", ej, baseElection, `["x"]`, `election.json line 1: must be one JSON object like…`},
		{"empty file", ej, baseElection, ``, `election.json line 1: the file ends too early…`},
		{"missing", ej, baseElection, "<delete>", `election.json: is missing from the folder; a definition folder holds election.json, counties.csv and precincts.csv`},
		{"too large", ej, baseElection, strings.Repeat(" ", 1<<20+1), `election.json: is larger than 1 MiB, far more than any election needs; is it the right file?`},

		// counties.csv
		{"county header", cc, "county_id,name", "id,name", `counties.csv line 1: the header must be exactly county_id,name,county_delegates,state_delegates (found "id,name,county_delegates,state_delegates")`},
		{"county header extra column", cc, "state_delegates", "state_delegates,notes", `counties.csv line 1: the header must be exactly…`},
		{"county empty file", cc, baseCounties, "", `counties.csv line 1: the file is empty; its first line must be the header county_id,name,county_delegates,state_delegates`},
		{"county id not a slug", cc, "adair,Adair,51,4\n", "adair,Adair,51,4\nPolk,Polk,1,1\n", `counties.csv line 3, field county_id: "Polk" is not a valid id: use lowercase letters a-z, digits and single hyphens between them, like "polk"`},
		{"county id duplicate", cc, "adair,Adair,51,4\n", "adair,Adair,51,4\nadair,Adair 2,51,4\n", `counties.csv line 3, field county_id: county id "adair" is already used on line 2`},
		{"county delegates not a number", cc, "51,4", "x,4", `counties.csv line 2, field county_delegates: "x" is not a whole number (write digits only, like 12)`},
		{"county delegates negative", cc, "51,4", "-51,4", `counties.csv line 2, field county_delegates: "-51" is not a whole number (write digits only, like 12)`},
		{"county delegates decimal", cc, "51,4", "51.0,4", `counties.csv line 2, field county_delegates: "51.0" is not a whole number…`},
		{"county delegates zero", cc, "51,4", "0,4", `counties.csv line 2, field county_delegates: 0 is not allowed: a county has at least 1 county delegate (leave it empty if not known)`},
		{"county delegates huge", cc, "51,4", "99999999999,4", `counties.csv line 2, field county_delegates: 99999999999 is far too large`},
		{"county delegates out of range", cc, "51,4", "1000001,4", `counties.csv line 2, field county_delegates: 1000001 is out of range: it must be between 1 and 1000000 (or empty if not known)`},
		{"state delegates five places", cc, "51,4", "51,4.00001", `counties.csv line 2, field state_delegates: "4.00001" is not a decimal number like 12 or 6.0023 (at most 4 decimal places)`},
		{"state delegates zero", cc, "51,4", "51,0.0", `counties.csv line 2, field state_delegates: 0 is not allowed…`},
		{"state delegates out of range", cc, "51,4", "51,100000.5", `counties.csv line 2, field state_delegates: 100000.5 is out of range…`},
		{"county name empty", cc, "adair,Adair", "adair,", `counties.csv line 2, field name: is empty; give a name`},
		{"county name formula", cc, "adair,Adair", "adair,@SUM(A1)", `counties.csv line 2, field name: "@SUM(A1)" starts with "@"…`},
		{"county name not UTF-8", cc, "adair,Adair", "adair,Ad\xffair", `counties.csv line 2, field name: the name is not valid UTF-8 text; save the file as UTF-8`},
		{"county field count", cc, "adair,Adair,51,4", "adair,Adair,51", `counties.csv line 2: has 3 fields, but the header has 4 (county_id,name,county_delegates,state_delegates); a name with a comma must be in double quotes`},
		{"county bad quote", cc, "adair,Adair", `adair,"Ad"air`, `counties.csv line 2: column 10: this is not valid CSV…`},
		{"counties missing", cc, baseCounties, "<delete>", `counties.csv: is missing from the folder…`},

		// precincts.csv
		{"precinct header", pc, "precinct_id,county_id", "county_id,precinct_id", `precincts.csv line 1: the header must be exactly precinct_id,county_id,name,delegates_to_elect,satellite…`},
		{"precinct id not a slug", pc, "adair-1nw,", "adair_1nw,", `precincts.csv line 2, field precinct_id: "adair_1nw" is not a valid id…`},
		{"precinct id duplicate", pc, "adair-2se,", "adair-1nw,", `precincts.csv line 3, field precinct_id: precinct id "adair-1nw" is already used on line 2`},
		{"precinct county unknown", pc, "adair-2se,adair", "adair-2se,adiar", `precincts.csv line 3, field county_id: there is no county "adiar" in counties.csv`},
		{"precinct county empty", pc, "adair-2se,adair", "adair-2se,", `precincts.csv line 3, field county_id: is empty; give the id of the precinct's county from counties.csv`},
		{"delegates not a number", pc, "43,false", "x,false", `precincts.csv line 3, field delegates_to_elect: "x" is not a whole number (write digits only, like 12)`},
		{"delegates with space", pc, "43,false", " 43,false", `precincts.csv line 3, field delegates_to_elect: " 43" is not a whole number…`},
		{"delegates zero", pc, "43,false", "0,false", `precincts.csv line 3, field delegates_to_elect: 0 is not allowed: a precinct elects at least 1 delegate (a satellite may leave it empty, to follow its attendance)`},
		{"satellite delegates zero", pc, ",,true", ",0,true", `precincts.csv line 4, field delegates_to_elect: 0 is not allowed…`},
		{"delegates empty", pc, "43,false", ",false", `precincts.csv line 3, field delegates_to_elect: is empty or 0; a precinct elects at least 1 delegate (only a satellite may leave it empty, to follow its attendance)`},
		{"delegates out of range", pc, "43,false", "10001,false", `precincts.csv line 3, field delegates_to_elect: 10001 is out of range: it must be between 1 and 10000`},
		{"satellite not a boolean", pc, "43,false", "43,no", `precincts.csv line 3, field satellite: "no" must be true or false`},
		{"satellite capitalised", pc, "43,false", "43,TRUE", `precincts.csv line 3, field satellite: "TRUE" must be true or false`},
		{"precinct name newline", pc, `"Cedar Rapids, IA"`, "\"Cedar\nRapids\"", `precincts.csv line 4, field name: "Cedar\nRapids" contains a control character…`},
		{"quoted field over two lines", pc, "cd1-sat-one,cd1-satellite,\"Cedar Rapids, IA\",,true", "cd1-sat-one,cd1-satellite,\"Cedar\nRapids\",,yes",
			`precincts.csv line 5, field satellite: "yes" must be true or false`},
		{"no precincts", pc, basePrecincts, "precinct_id,county_id,name,delegates_to_elect,satellite\n", `precincts.csv: has no precincts: add one line per precinct after the header`},
		{"bare quote", pc, "1NW Adair", `1NW "Adair"`, `precincts.csv line 2: column 21: this is not valid CSV: bare " in non-quoted-field`},
		{"too many precincts", pc, basePrecincts, basePrecincts + manyPrecincts,
			`precincts.csv line 200002: there are more than 200000 rows, far more than any election needs; is it the right file?`},
		{"precincts too large", pc, basePrecincts, basePrecincts + strings.Repeat("#", 16<<20), `precincts.csv: is larger than 16 MiB…`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fsys := baseFS()
			s := string(fsys[tt.file].Data)
			if !strings.Contains(s, tt.old) {
				t.Fatalf("%q not in %s", tt.old, tt.file)
			}
			if tt.new == "<delete>" {
				delete(fsys, tt.file)
			} else {
				fsys[tt.file] = &fstest.MapFile{Data: []byte(strings.Replace(s, tt.old, tt.new, 1))}
			}
			d, err := election.Load(fsys)
			if err == nil {
				t.Fatalf("Load succeeded: %+v", d.Election())
			}
			errs := problemsOf(err)
			if len(errs) != 1 {
				t.Errorf("%d errors, want 1:\n%v", len(errs), err)
			}
			var fe *election.FieldError
			if !errors.As(errs[0], &fe) || fe.File != tt.file {
				t.Errorf("error %v is not a FieldError for %s", errs[0], tt.file)
			}
			got := errs[0].Error()
			if want, ok := strings.CutSuffix(tt.want, "…"); ok {
				if !strings.HasPrefix(got, want) {
					t.Errorf("error\n  %s\ndoes not start with\n  %s", got, want)
				}
			} else if got != tt.want {
				t.Errorf("error\n  %s\nwant\n  %s", got, tt.want)
			}
		})
	}
}

// TestLoadManyErrors checks that problems in several files come together, capped at 20 with a
// note that more were found.
func TestLoadManyErrors(t *testing.T) {
	fsys := baseFS()
	fsys[election.ElectionFile] = &fstest.MapFile{Data: []byte(strings.Replace(baseElection, "iowa-dem-2020", "iowa", 1))}
	fsys[election.CountiesFile] = &fstest.MapFile{Data: []byte(strings.Replace(baseCounties, "51,4", "x,4", 1))}
	err := func() error { _, err := election.Load(fsys); return err }()
	if errs := problemsOf(err); len(errs) != 2 || !strings.Contains(err.Error(), "field rules") || !strings.Contains(err.Error(), "field county_delegates") {
		t.Errorf("got %d errors:\n%v", len(errs), err)
	}

	var b strings.Builder
	b.WriteString("precinct_id,county_id,name,delegates_to_elect,satellite\n")
	for i := range 30 {
		fmt.Fprintf(&b, "p%d,adair,P,x,false\n", i)
	}
	fsys = baseFS()
	fsys[election.PrecinctsFile] = &fstest.MapFile{Data: []byte(b.String())}
	_, err = election.Load(fsys)
	errs := problemsOf(err)
	if len(errs) != 21 {
		t.Fatalf("%d errors, want 20 and a note:\n%v", len(errs), err)
	}
	if got := errs[19].Error(); got != `precincts.csv line 21, field delegates_to_elect: "x" is not a whole number (write digits only, like 12)` {
		t.Errorf("20th error = %s", got)
	}
	if got := errs[20].Error(); got != "stopped after 20 problems: fix these and load again to see any others" {
		t.Errorf("last error = %s", got)
	}
}

// TestNew checks that a definition built in code is validated, with lines counted as Write
// would write the files.
func TestNew(t *testing.T) {
	e := election.Election{ID: "x", Name: "X", Date: "2024-01-15", Rules: election.RulesStraw,
		Candidates: []election.Candidate{{ID: "a", Name: "A"}, {ID: "a", Name: "B"}}}
	counties := []election.County{{ID: "c", Name: "C", CountyDelegates: -1}}
	precincts := []election.Precinct{{ID: "p", CountyID: "c", Name: "P", DelegatesToElect: 1}, {ID: "q", CountyID: "d", Name: "Q", DelegatesToElect: 1}}
	_, err := election.New(e, counties, precincts)
	want := []string{
		`election.json, field candidates[1].id: candidate id "a" is already used by candidates[0]`,
		`counties.csv line 2, field county_delegates: -1 is out of range: it must be between 1 and 1000000 (or empty if not known)`,
		`precincts.csv line 3, field county_id: there is no county "d" in counties.csv`,
	}
	var got []string
	for _, err := range problemsOf(err) {
		got = append(got, err.Error())
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	d, err := election.New(election.Election{ID: "x", Name: "X", Date: "2024-01-15", Rules: election.RulesStraw,
		Candidates: []election.Candidate{{ID: "a", Name: "A"}}}, counties[:0], precincts[:0])
	if err == nil || err.Error() != "precincts.csv: has no precincts: add one line per precinct after the header" {
		t.Errorf("New with no precincts = %v, %v", d, err)
	}
}

func TestSDE(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want election.SDE
		out  string
	}{
		{"4", 40000, "4"}, {"6.0023", 60023, "6.0023"}, {"0.5", 5000, "0.5"}, {"12.3400", 123400, "12.34"},
		{"007", 70000, "7"}, {"0.0001", 1, "0.0001"},
	} {
		got, err := election.ParseSDE(tt.in)
		if err != nil || got != tt.want || got.String() != tt.out {
			t.Errorf("ParseSDE(%q) = %d (%s), %v; want %d (%s)", tt.in, got, got, err, tt.want, tt.out)
		}
	}
	for _, in := range []string{"", ".", "1.", ".5", "-1", "+1", "1e3", "1.23456", " 1", "1,5", "9999999999999"} {
		if got, err := election.ParseSDE(in); err == nil {
			t.Errorf("ParseSDE(%q) = %s, want an error", in, got)
		}
	}
}

func TestReadCounties(t *testing.T) {
	iowa, err := os.ReadFile("iowa2020/counties.csv")
	if err != nil {
		t.Fatal(err)
	}
	shared, err := os.ReadFile(sharedIowa + "/counties.csv")
	if err != nil {
		t.Fatalf("the shared Iowa 2020 data is not at %s: %v", sharedIowa, err)
	}
	for name, data := range map[string][]byte{"embedded": iowa, "shared": shared} {
		counties, err := election.ReadCounties(data)
		if err != nil || len(counties) != 104 {
			t.Errorf("%s: %d counties, %v", name, len(counties), err)
		}
	}
	for _, tt := range []struct{ in, want string }{
		{baseCounties + "adair,Again,1,1\n", `counties.csv line 4, field county_id: county id "adair" is already used on line 2`},
		{baseCounties + "Polk,Polk,1,1\n", `counties.csv line 4, field county_id: "Polk" is not a valid id…`},
		{baseCounties + "polk,=1+1,1,1\n", `counties.csv line 4, field name: "=1+1" starts with "="…`},
		{baseCounties + "polk,Polk,x,1\n", `counties.csv line 4, field county_delegates: "x" is not a whole number…`},
		{"county_id,name\n", `counties.csv line 1: the header must be exactly…`},
	} {
		_, err := election.ReadCounties([]byte(tt.in))
		want, _ := strings.CutSuffix(tt.want, "…")
		if err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("ReadCounties(%q) = %v, want %s", tt.in, err, tt.want)
		}
	}
}
