package report_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"caucus/internal/report"
)

// TestDecodeNullAbsentEmpty: every field of a report given as null, left out, or empty is either
// refused with an error naming it, or decodes to a value whose canonical encoding decodes to the
// same value and the same bytes (a fixed point), so that one report never means two things and a
// stored leaf always decodes again in verify.
func TestDecodeNullAbsentEmpty(t *testing.T) {
	// base has every optional field given, so that each case changes exactly one.
	base := `{"report_id":"r-1","precinct_id":"p-1","attendees":7,"first":{"a":4,"b":3},"final":{"a":7},` +
		`"delegates":{"a":1},"tiebreaks":[{"kind":"coin","between":["a","b"],"winner":"a"}],` +
		`"photo_sha256":"` + strings.Repeat("0", 64) + `","channel":"paper"}`
	const tb = `{"kind":"coin","between":["a","b"],"winner":"a"}`
	tests := []struct {
		name     string
		from, to string    // the change made to base
		refused  string    // a word the error must hold; "" when the input is accepted
		syntax   bool      // refused as *SyntaxError rather than *InvalidError
		canon    [2]string // accepted: the change to base that gives the canonical form; none: the input is canonical
	}{
		// Required fields: null, absent and empty are refused by name.
		{name: "report_id null", from: `"report_id":"r-1"`, to: `"report_id":null`, refused: "report_id", syntax: true},
		{name: "report_id absent", from: `"report_id":"r-1",`, to: ``, refused: "report_id", syntax: true},
		{name: "report_id empty", from: `"report_id":"r-1"`, to: `"report_id":""`, refused: "report_id", syntax: true},
		{name: "precinct_id null", from: `"precinct_id":"p-1"`, to: `"precinct_id":null`, refused: "precinct_id", syntax: true},
		{name: "precinct_id absent", from: `"precinct_id":"p-1",`, to: ``, refused: "precinct_id", syntax: true},
		{name: "precinct_id empty", from: `"precinct_id":"p-1"`, to: `"precinct_id":""`, refused: "precinct_id", syntax: true},
		{name: "attendees null", from: `"attendees":7`, to: `"attendees":null`, refused: "attendees"},
		{name: "attendees absent", from: `"attendees":7,`, to: ``, refused: "attendees"},
		{name: "attendees empty string", from: `"attendees":7`, to: `"attendees":""`, refused: "attendees"},
		{name: "first null", from: `"first":{"a":4,"b":3}`, to: `"first":null`, refused: "first"},
		{name: "first absent", from: `"first":{"a":4,"b":3},`, to: ``, refused: "first"},
		{name: "first empty", from: `"first":{"a":4,"b":3}`, to: `"first":{}`},
		{name: "first empty list", from: `"first":{"a":4,"b":3}`, to: `"first":[]`, refused: "first"},
		{name: "final null", from: `"final":{"a":7}`, to: `"final":null`, refused: "final"},
		{name: "final absent", from: `"final":{"a":7},`, to: ``, refused: "final"},
		{name: "final empty", from: `"final":{"a":7}`, to: `"final":{}`},

		// Optional fields: null is absent; empty is kept apart from absent where it means
		// something (delegates: a worksheet awarding nothing) and is refused where it cannot.
		{name: "delegates null", from: `"delegates":{"a":1}`, to: `"delegates":null`, canon: [2]string{`"delegates":{"a":1},`, ``}},
		{name: "delegates absent", from: `"delegates":{"a":1},`, to: ``},
		{name: "delegates empty", from: `"delegates":{"a":1}`, to: `"delegates":{}`},
		{name: "delegates empty list", from: `"delegates":{"a":1}`, to: `"delegates":[]`, refused: "delegates"},
		{name: "tiebreaks null", from: `"tiebreaks":[` + tb + `]`, to: `"tiebreaks":null`, canon: [2]string{`"tiebreaks":[` + tb + `],`, ``}},
		{name: "tiebreaks absent", from: `"tiebreaks":[` + tb + `],`, to: ``},
		{name: "tiebreaks empty", from: `"tiebreaks":[` + tb + `]`, to: `"tiebreaks":[]`, canon: [2]string{`"tiebreaks":[` + tb + `],`, ``}},
		{name: "tiebreaks empty object", from: `"tiebreaks":[` + tb + `]`, to: `"tiebreaks":{}`, refused: "tiebreaks"},
		{name: "tiebreak empty", from: tb, to: `{}`, refused: "between"},
		{name: "tiebreak kind null", from: `"kind":"coin"`, to: `"kind":null`, canon: [2]string{`"kind":"coin"`, `"kind":""`}},
		{name: "tiebreak kind absent", from: `"kind":"coin",`, to: ``, canon: [2]string{`"kind":"coin"`, `"kind":""`}},
		{name: "tiebreak kind empty", from: `"kind":"coin"`, to: `"kind":""`},
		{name: "tiebreak between null", from: `"between":["a","b"]`, to: `"between":null`, refused: "between"},
		{name: "tiebreak between absent", from: `"between":["a","b"],`, to: ``, refused: "between"},
		{name: "tiebreak between empty", from: `"between":["a","b"]`, to: `"between":[]`},
		{name: "tiebreak winner null", from: `"winner":"a"`, to: `"winner":null`, canon: [2]string{`"winner":"a"`, `"winner":""`}},
		{name: "tiebreak winner absent", from: `,"winner":"a"`, to: ``, canon: [2]string{`"winner":"a"`, `"winner":""`}},
		{name: "tiebreak winner empty", from: `"winner":"a"`, to: `"winner":""`},
		{name: "photo_sha256 null", from: `"photo_sha256":"` + strings.Repeat("0", 64) + `"`, to: `"photo_sha256":null`,
			canon: [2]string{`"photo_sha256":"` + strings.Repeat("0", 64) + `",`, ``}},
		{name: "photo_sha256 absent", from: `"photo_sha256":"` + strings.Repeat("0", 64) + `",`, to: ``},
		{name: "photo_sha256 empty", from: `"photo_sha256":"` + strings.Repeat("0", 64) + `"`, to: `"photo_sha256":""`, refused: "photo_sha256", syntax: true},
		{name: "channel null", from: `"channel":"paper"`, to: `"channel":null`, canon: [2]string{`"channel":"paper"`, `"channel":"app"`}},
		{name: "channel absent", from: `,"channel":"paper"`, to: ``, canon: [2]string{`"channel":"paper"`, `"channel":"app"`}},
		{name: "channel empty", from: `"channel":"paper"`, to: `"channel":""`, refused: "channel", syntax: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if strings.Count(base, tt.from) != 1 {
				t.Fatalf("the case's change %q is not in the base report exactly once", tt.from)
			}
			in := strings.Replace(base, tt.from, tt.to, 1)
			r, err := report.Decode([]byte(in))
			if tt.refused != "" {
				var se *report.SyntaxError
				var ie *report.InvalidError
				switch {
				case err == nil:
					t.Fatalf("accepted %s\ncanonical %s", in, r.Canonical())
				case tt.syntax && !errors.As(err, &se):
					t.Fatalf("err = %v (%T), want *SyntaxError", err, err)
				case !tt.syntax && !errors.As(err, &ie):
					t.Fatalf("err = %v (%T), want *InvalidError", err, err)
				case !strings.Contains(err.Error(), tt.refused):
					t.Fatalf("%q does not name %s", err, tt.refused)
				}
				return
			}
			if err != nil {
				t.Fatalf("refused %s: %v", in, err)
			}
			canonical := r.Canonical()
			want := in
			if tt.canon[0] != "" {
				want = strings.Replace(base, tt.canon[0], tt.canon[1], 1)
			}
			if string(canonical) != want {
				t.Errorf("canonical\n%s\nwant\n%s", canonical, want)
			}
			fixedPoint(t, r)
		})
	}
}

// fixedPoint fails unless r's canonical bytes decode to r and encode to the same bytes, and an
// entry holding r parses back to the same leaf and the same report.
func fixedPoint(t *testing.T, r report.Report) {
	t.Helper()
	again, err := report.Decode(r.Canonical())
	if err != nil {
		t.Fatalf("the canonical form is refused: %v\n%s", err, r.Canonical())
	}
	if !reflect.DeepEqual(again, r) {
		t.Fatalf("the canonical form decodes to another value:\n%#v\n%#v", r, again)
	}
	if string(again.Canonical()) != string(r.Canonical()) {
		t.Fatalf("not a fixed point:\n%s\n%s", r.Canonical(), again.Canonical())
	}
	e := report.Entry{Kind: report.KindReport, ElectionID: "e", PrecinctID: r.PrecinctID, ReportID: r.ReportID,
		ReceivedAt: "2020-02-04T01:02:03.456Z", Submitter: "s", Channel: r.Channel, Report: &r}
	back, err := report.ParseEntry(e.Marshal())
	if err != nil {
		t.Fatalf("the entry of an accepted report is refused: %v\n%s", err, e.Marshal())
	}
	if !reflect.DeepEqual(back, e) {
		t.Fatalf("the entry parses to another value:\n%#v\n%#v", e, back)
	}
}

// TestParseEntryNullAbsentEmpty: a leaf is exactly its entry's canonical encoding, so a field
// given as null, or an optional field given empty, is refused, and whatever is accepted parses to
// an entry that encodes to the same leaf and parses to the same entry again.
func TestParseEntryNullAbsentEmpty(t *testing.T) {
	r, err := report.Decode([]byte(good))
	if err != nil {
		t.Fatal(err)
	}
	one := int64(1)
	// base has every optional field given, so that each case changes exactly one.
	base := string(report.Entry{Kind: report.KindCorrection, ElectionID: "e", PrecinctID: r.PrecinctID, ReportID: r.ReportID,
		ReceivedAt: "2020-02-04T01:02:03.456Z", Submitter: "staff-1", Channel: "staff", Report: &r,
		Reason: "typo", Decision: "accepted", Counts: &one}.Marshal())
	inner := string(r.Canonical())
	tests := []struct {
		name, from, to string
		refused        string // a word the error must hold; "" when the leaf is accepted
	}{
		{"kind null", `"kind":"correction"`, `"kind":null`, "kind"},
		{"kind absent", `"kind":"correction",`, ``, "kind"},
		{"kind empty", `"kind":"correction"`, `"kind":""`, "kind"},
		{"election_id null", `"election_id":"e"`, `"election_id":null`, "canonical"},
		{"election_id absent", `"election_id":"e",`, ``, "canonical"},
		{"received_at null", `"received_at":"2020-02-04T01:02:03.456Z"`, `"received_at":null`, "received_at"},
		{"received_at empty", `"received_at":"2020-02-04T01:02:03.456Z"`, `"received_at":""`, "received_at"},
		{"submitter null", `"submitter":"staff-1"`, `"submitter":null`, "canonical"},
		{"channel absent", `,"channel":"staff"`, ``, "canonical"},
		{"report_id null", `"adair-1nw-adair","report_id":"r-1"`, `"adair-1nw-adair","report_id":null`, "canonical"},
		{"report_id absent", `"adair-1nw-adair","report_id":"r-1",`, `"adair-1nw-adair",`, ""},
		{"report_id empty", `"adair-1nw-adair","report_id":"r-1"`, `"adair-1nw-adair","report_id":""`, "canonical"},
		{"report null", `"report":` + inner, `"report":null`, "no report"},
		{"report absent", `"report":` + inner + `,`, ``, "no report"},
		{"report empty", `"report":` + inner, `"report":{}`, "report"},
		{"report's delegates null", `"delegates":{}`, `"delegates":null`, "canonical"},
		{"report's delegates absent", `"delegates":{},`, ``, ""},
		{"report's tiebreaks null", `"delegates":{}`, `"delegates":{},"tiebreaks":null`, "canonical"},
		{"report's tiebreaks empty", `"delegates":{}`, `"delegates":{},"tiebreaks":[]`, "canonical"},
		{"report's channel null", `"channel":"app"}`, `"channel":null}`, "report"},
		{"reason null", `"reason":"typo"`, `"reason":null`, "canonical"},
		{"reason absent", `"reason":"typo",`, ``, ""},
		{"reason empty", `"reason":"typo"`, `"reason":""`, "canonical"},
		{"decision null", `"decision":"accepted"`, `"decision":null`, "canonical"},
		{"decision absent", `"decision":"accepted",`, ``, ""},
		{"decision empty", `"decision":"accepted"`, `"decision":""`, "canonical"},
		{"counts null", `,"counts":1`, `,"counts":null`, "canonical"},
		{"counts absent", `,"counts":1`, ``, ""},
		{"counts zero", `"counts":1`, `"counts":0`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if strings.Count(base, tt.from) != 1 {
				t.Fatalf("the case's change %q is not in the base leaf exactly once:\n%s", tt.from, base)
			}
			leaf := strings.Replace(base, tt.from, tt.to, 1)
			e, err := report.ParseEntry([]byte(leaf))
			if tt.refused != "" {
				if err == nil {
					t.Fatalf("accepted %s", leaf)
				}
				if !strings.Contains(err.Error(), tt.refused) {
					t.Fatalf("%q does not say %s", err, tt.refused)
				}
				return
			}
			if err != nil {
				t.Fatalf("refused %s: %v", leaf, err)
			}
			if string(e.Marshal()) != leaf {
				t.Fatalf("accepted a leaf that is not its entry's encoding:\n%s\n%s", leaf, e.Marshal())
			}
			again, err := report.ParseEntry(e.Marshal())
			if err != nil {
				t.Fatalf("the entry's own encoding is refused: %v", err)
			}
			if !reflect.DeepEqual(again, e) {
				t.Fatalf("the entry's encoding parses to another value:\n%#v\n%#v", e, again)
			}
			if e.Report != nil {
				fixedPoint(t, *e.Report)
			}
		})
	}
}
