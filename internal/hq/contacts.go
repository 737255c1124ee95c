package hq

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"unicode"
	"unicode/utf8"

	"caucus/internal/election"
	"caucus/internal/phone"
)

// ContactsHeader is the first line of contacts.csv: one line per precinct after it.
var ContactsHeader = []string{"precinct_id", "chair_name", "phone"}

// Contact is a precinct chair's name and phone number, whom headquarters calls when the
// precinct is missing or its PIN budget is being spent. It is kept apart from the public
// election definition, appears only in staff answers and is never logged.
type Contact struct {
	PrecinctID string `json:"-"`
	Name       string `json:"name"`
	Phone      string `json:"phone"` // E.164, e.g. "+15155550101"
}

// String keeps a contact out of logs and error messages by accident: it names the precinct only.
func (c Contact) String() string { return "contact of " + c.PrecinctID }

// LogValue is String, for log/slog.
func (c Contact) LogValue() slog.Value { return slog.StringValue(c.String()) }

// Contacts are the chairs' contacts by precinct ID.
type Contacts map[string]Contact

// maxContactName bounds a chair's name: longer is a mistake in the file.
const maxContactName = 120

// ReadContacts reads contacts.csv (ContactsHeader, then precinct_id,chair_name,phone) for the
// precincts of def. Every precinct must exist and appear at most once; a name must be printable
// text of at most 120 characters; a phone must be E.164 (phone.Valid; write US numbers as
// +1 and ten digits). A precinct without a line has no contact. Errors name the line and the
// column, never the value (the file is private).
func ReadContacts(r io.Reader, def *election.Definition) (Contacts, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = len(ContactsHeader)
	head, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, errors.New("contacts: the file is empty; its first line is precinct_id,chair_name,phone")
	} else if err != nil {
		return nil, fmt.Errorf("contacts: line 1: %w", csvErr(err))
	}
	if strings.Join(head, ",") != strings.Join(ContactsHeader, ",") {
		return nil, errors.New("contacts: line 1 must be precinct_id,chair_name,phone")
	}
	out := Contacts{}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil { // before FieldPos: after an error there is no record to ask about (it panics)
			return nil, fmt.Errorf("contacts: %w", csvErr(err))
		}
		line, _ := cr.FieldPos(0)
		c := Contact{PrecinctID: strings.TrimSpace(rec[0]), Name: strings.TrimSpace(rec[1]), Phone: strings.TrimSpace(rec[2])}
		if _, ok := def.Precinct(c.PrecinctID); !ok {
			return nil, fmt.Errorf("contacts: line %d: precinct %q is not in election %s", line, c.PrecinctID, def.Election().ID)
		}
		if _, dup := out[c.PrecinctID]; dup {
			return nil, fmt.Errorf("contacts: line %d: precinct %s has a contact already", line, c.PrecinctID)
		}
		if !printable(c.Name) {
			return nil, fmt.Errorf("contacts: line %d: chair_name must be 1 to %d characters of printable text", line, maxContactName)
		}
		if !phone.Valid(c.Phone) {
			return nil, fmt.Errorf("contacts: line %d: phone must be E.164, a + and 8 to 15 digits (+15155550101)", line)
		}
		out[c.PrecinctID] = c
	}
}

// csvErr is a CSV error without the record's text (a ParseError names its line and column).
func csvErr(err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return fmt.Errorf("line %d, column %d: %w", pe.Line, pe.Column, pe.Err)
	}
	return err
}

// printable: 1 to maxContactName characters, none of them a control or format character.
func printable(s string) bool {
	if s == "" || !utf8.ValidString(s) || utf8.RuneCountInString(s) > maxContactName {
		return false
	}
	for _, c := range s {
		if unicode.IsControl(c) || unicode.Is(unicode.Cf, c) {
			return false
		}
	}
	return true
}

// LoadContacts reads the contacts file at path (ReadContacts).
func LoadContacts(path string, def *election.Definition) (Contacts, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("contacts: %w", err)
	}
	defer f.Close()
	return ReadContacts(f, def)
}

// WriteContacts writes contacts as contacts.csv, in the order given.
func WriteContacts(w io.Writer, contacts []Contact) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(ContactsHeader); err != nil {
		return err
	}
	for _, c := range contacts {
		if err := cw.Write([]string{c.PrecinctID, c.Name, c.Phone}); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
