// Package report is the wire format of a precinct report (spec/interfaces.md, "A precinct
// report") and of the log's entries: strict, size-bounded decoding of what a chair or operator
// submits, the canonical encoding whose exact bytes are a leaf of the transparency log, and the
// receipt a chair keeps. The server, the verifier, the rehearsal and the phone share it.
//
// It is not the caucus math (internal/rules): a decoded report becomes a rules.Input with
// CalcInput, given the precinct's facts from the election definition.
package report

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"regexp"
	"slices"

	"caucus/internal/rules"
)

// MaxBytes bounds a submitted report (spec/reliability.md I2: a report ≤ 16 KiB). A real one is
// a few hundred bytes.
const MaxBytes = 16 << 10

// Channels a report comes through.
const (
	ChannelApp     = "app"
	ChannelHotline = "hotline"
	ChannelPaper   = "paper"
)

// Report is what a chair (or an operator for a chair) submits for one precinct.
type Report struct {
	ReportID    string           `json:"report_id"`
	PrecinctID  string           `json:"precinct_id"`
	Attendees   int64            `json:"attendees"`
	First       rules.Counts     `json:"first"`
	Final       rules.Counts     `json:"final"`
	Delegates   rules.Counts     `json:"delegates,omitempty"` // the chair's worksheet; nil: not given
	Tiebreaks   []rules.Tiebreak `json:"tiebreaks,omitempty"`
	PhotoSHA256 string           `json:"photo_sha256,omitempty"`
	Channel     string           `json:"channel"`
}

// SyntaxError is input that is not a report at all: not a JSON object, duplicate or unknown
// keys, a wrong type for an identifier. The server answers it with 400.
type SyntaxError struct{ Msg string }

func (e *SyntaxError) Error() string { return e.Msg }

// InvalidError is a report whose numbers are not valid (check C01): the server answers 422 with
// the check.
type InvalidError struct{ Check rules.Check }

func (e *InvalidError) Error() string { return e.Check.Message }

var (
	idPattern   = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$`)
	slugPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9._/-]{0,199}$`)
	hexPattern  = regexp.MustCompile(`^[0-9a-f]{64}$`)
)

// fields a report may have; any other key is refused (spec/reliability.md I4).
var fields = []string{"report_id", "precinct_id", "attendees", "first", "final", "delegates",
	"tiebreaks", "photo_sha256", "channel"}

// Decode reads one report strictly. Errors are *SyntaxError (not a report) or *InvalidError
// (a report whose numbers break R51–R53).
func Decode(data []byte) (Report, error) {
	if len(data) > MaxBytes {
		return Report{}, &SyntaxError{fmt.Sprintf("the report is larger than %d bytes", MaxBytes)}
	}
	keys, err := topKeys(data)
	if err != nil {
		return Report{}, err
	}
	for _, k := range keys {
		if !slices.Contains(fields, k) {
			return Report{}, &SyntaxError{fmt.Sprintf("unknown field %q in the report", k)}
		}
	}
	var ids struct {
		ReportID    *string `json:"report_id"`
		PrecinctID  *string `json:"precinct_id"`
		PhotoSHA256 *string `json:"photo_sha256"`
		Channel     *string `json:"channel"`
	}
	if err := json.Unmarshal(data, &ids); err != nil {
		return Report{}, &SyntaxError{"report_id, precinct_id, channel and photo_sha256 must be strings"}
	}
	r := Report{Channel: ChannelApp}
	switch {
	case ids.ReportID == nil || !idPattern.MatchString(*ids.ReportID):
		return Report{}, &SyntaxError{"report_id must be 1 to 128 letters, digits or ._:- chosen by the app"}
	case ids.PrecinctID == nil || !slugPattern.MatchString(*ids.PrecinctID):
		return Report{}, &SyntaxError{"precinct_id is missing or not a precinct id"}
	case ids.PhotoSHA256 != nil && !hexPattern.MatchString(*ids.PhotoSHA256):
		return Report{}, &SyntaxError{"photo_sha256 must be 64 lowercase hex digits"}
	}
	r.ReportID, r.PrecinctID = *ids.ReportID, *ids.PrecinctID
	if ids.PhotoSHA256 != nil {
		r.PhotoSHA256 = *ids.PhotoSHA256
	}
	if ids.Channel != nil {
		switch *ids.Channel {
		case ChannelApp, ChannelHotline, ChannelPaper:
			r.Channel = *ids.Channel
		default:
			return Report{}, &SyntaxError{"channel must be app, hotline or paper"}
		}
	}
	in, err := rules.Decode(data, rules.StrawPoll) // the counts only; the profile is the election's
	var de *rules.DecodeError
	if errors.As(err, &de) {
		res := rules.CalcJSON(data, rules.StrawPoll)
		return Report{}, &InvalidError{Check: res.Checks[0]}
	}
	if in.First == nil {
		return Report{}, &InvalidError{Check: rules.InvalidInput("first (the first alignment) is missing")}
	}
	if in.Final == nil {
		return Report{}, &InvalidError{Check: rules.InvalidInput("final (the final alignment) is missing")}
	}
	r.Attendees, r.First, r.Final, r.Delegates, r.Tiebreaks = in.Attendees, in.First, in.Final, in.Delegates, in.Tiebreaks
	if len(r.Tiebreaks) == 0 {
		r.Tiebreaks = nil // "tiebreaks": [] is no tiebreak, as its canonical form (none) says
	}
	return r, nil
}

// topKeys checks that data is exactly one JSON object with no duplicate key, and returns its keys.
func topKeys(data []byte) ([]string, error) {
	if !json.Valid(data) {
		return nil, &SyntaxError{"the report is not valid JSON"}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	tok, _ := dec.Token()
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, &SyntaxError{"the report must be a JSON object"}
	}
	var keys []string
	for dec.More() {
		tok, _ := dec.Token()
		k := tok.(string)
		if slices.Contains(keys, k) {
			return nil, &SyntaxError{fmt.Sprintf("the field %q appears twice", k)}
		}
		keys = append(keys, k)
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return nil, &SyntaxError{"the report is not valid JSON"}
		}
	}
	dec.Token()
	if _, err := dec.Token(); err != io.EOF {
		return nil, &SyntaxError{"there is more after the report's JSON object"}
	}
	return keys, nil
}

// Canonical is the report's canonical JSON: fixed field order, count maps with sorted keys, no
// spaces. Two reports are the same report exactly when their canonical bytes are equal.
func (r Report) Canonical() []byte {
	b, err := json.Marshal(r.wire())
	if err != nil {
		panic("report: canonical encoding: " + err.Error()) // only counts, strings and lists
	}
	return b
}

// wire is the report in its canonical field order. Delegates is a pointer so that an empty
// worksheet ({}: given, awarding nothing) is kept apart from none.
func (r Report) wire() any {
	type wire struct {
		ReportID    string           `json:"report_id"`
		PrecinctID  string           `json:"precinct_id"`
		Attendees   int64            `json:"attendees"`
		First       rules.Counts     `json:"first"`
		Final       rules.Counts     `json:"final"`
		Delegates   *rules.Counts    `json:"delegates,omitempty"`
		Tiebreaks   []rules.Tiebreak `json:"tiebreaks,omitempty"`
		PhotoSHA256 string           `json:"photo_sha256,omitempty"`
		Channel     string           `json:"channel"`
	}
	w := wire{r.ReportID, r.PrecinctID, r.Attendees, r.First, r.Final, nil, r.Tiebreaks, r.PhotoSHA256, r.Channel}
	if w.First == nil {
		w.First = rules.Counts{}
	}
	if w.Final == nil {
		w.Final = rules.Counts{}
	}
	if r.Delegates != nil {
		w.Delegates = &r.Delegates
	}
	return w
}

// MarshalJSON writes the canonical form.
func (r Report) MarshalJSON() ([]byte, error) { return json.Marshal(r.wire()) }

// Precinct is what the math needs to know of the precinct and election a report is for.
type Precinct struct {
	Rules            rules.Profile
	DelegatesToElect int64 // 0 for a satellite whose delegates follow attendance
	Satellite        bool
	Ratio            *big.Rat // the county's SDE ratio; nil if not known
	Candidates       []string // the election's candidate ids, in ballot order
	Names            map[string]string
}

// CalcInput is the live calc input of a report for its precinct.
func CalcInput(r Report, p Precinct) rules.Input {
	return rules.Input{
		Rules:               p.Rules,
		Mode:                rules.Live,
		Attendees:           r.Attendees,
		DelegatesToElect:    p.DelegatesToElect,
		HasDelegatesToElect: p.DelegatesToElect > 0 || !p.Satellite,
		First:               r.First,
		Final:               r.Final,
		Delegates:           r.Delegates,
		Tiebreaks:           r.Tiebreaks,
		SDERatio:            p.Ratio,
		Satellite:           p.Satellite,
		Candidates:          p.Candidates,
		Names:               p.Names,
	}
}
