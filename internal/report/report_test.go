package report_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"caucus/internal/report"
	"caucus/internal/rules"
)

const good = `{"report_id":"r-1","precinct_id":"adair-1nw-adair","attendees":30,"first":{"biden":10,"sanders":20},"final":{"biden":10,"sanders":20},"delegates":{},"channel":"app"}`

func TestDecodeGood(t *testing.T) {
	r, err := report.Decode([]byte(good))
	if err != nil {
		t.Fatal(err)
	}
	if r.ReportID != "r-1" || r.Attendees != 30 || r.First["sanders"] != 20 || r.Delegates == nil {
		t.Errorf("decoded %+v", r)
	}
	if string(r.Canonical()) != good {
		t.Errorf("canonical\n%s\nwant\n%s", r.Canonical(), good)
	}
}

// TestDecodeHostile is reliability.md I4: each hostile body is refused with a named reason.
func TestDecodeHostile(t *testing.T) {
	deep := strings.Repeat("[", 5000) + strings.Repeat("]", 5000)
	tests := []struct {
		name, body string
		invalid    bool // 422 C01 rather than 400
		says       string
	}{
		{"empty", ``, false, "not valid JSON"},
		{"not an object", `[1,2]`, false, "JSON object"},
		{"duplicate key", `{"report_id":"a","report_id":"b"}`, false, "twice"},
		{"unknown field", strings.Replace(good, `"channel"`, `"admin":true,"channel"`, 1), false, `unknown field "admin"`},
		{"deep nesting", `{"report_id":"a","first":` + deep + `}`, false, ""},
		{"trailing garbage", good + `x`, false, "not valid JSON"},
		{"two objects", good + good, false, "not valid JSON"},
		{"invalid utf-8", strings.Replace(good, "r-1", "r-\xff", 1), false, "report_id"},
		{"nul in id", strings.Replace(good, "r-1", `r-\u0000`, 1), false, "report_id"},
		{"bidi in id", strings.Replace(good, "r-1", "r-\u202e1", 1), false, "report_id"},
		{"number id", strings.Replace(good, `"r-1"`, `1`, 1), false, "must be strings"},
		{"missing report_id", strings.Replace(good, `"report_id":"r-1",`, ``, 1), false, "report_id"},
		{"bad channel", strings.Replace(good, `"app"`, `"fax"`, 1), false, "channel"},
		{"bad photo", strings.Replace(good, `"channel"`, `"photo_sha256":"xyz","channel"`, 1), false, "photo_sha256"},
		{"too large", `{"report_id":"` + strings.Repeat("a", report.MaxBytes) + `"}`, false, "larger than"},
		{"1e400", strings.Replace(good, `"attendees":30`, `"attendees":1e400`, 1), true, "C01"},
		{"minus zero", strings.Replace(good, `"biden":10,"sanders":20},"final"`, `"biden":-0,"sanders":20},"final"`, 1), true, "C01"},
		{"2^63", strings.Replace(good, `"attendees":30`, `"attendees":9223372036854775808`, 1), true, "C01"},
		{"NaN", strings.Replace(good, `"attendees":30`, `"attendees":NaN`, 1), false, "not valid JSON"},
		{"negative", strings.Replace(good, `"sanders":20},"final"`, `"sanders":-20},"final"`, 1), true, "0 or more"},
		{"fraction", strings.Replace(good, `"attendees":30`, `"attendees":30.5`, 1), true, "C01"},
		{"string count", strings.Replace(good, `"attendees":30`, `"attendees":"30"`, 1), true, "C01"},
		{"missing first", strings.Replace(good, `"first":{"biden":10,"sanders":20},`, ``, 1), true, "first"},
		{"missing final", strings.Replace(good, `"final":{"biden":10,"sanders":20},`, ``, 1), true, "final"},
		{"missing attendees", strings.Replace(good, `"attendees":30,`, ``, 1), true, "attendees"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := report.Decode([]byte(tt.body))
			var se *report.SyntaxError
			var ie *report.InvalidError
			switch {
			case err == nil:
				t.Fatal("accepted")
			case tt.invalid && !errors.As(err, &ie):
				t.Fatalf("err = %v (%T), want *InvalidError", err, err)
			case !tt.invalid && !errors.As(err, &se):
				t.Fatalf("err = %v (%T), want *SyntaxError", err, err)
			}
			if ie != nil && ie.Check.ID != rules.C01 {
				t.Errorf("check %s, want C01", ie.Check.ID)
			}
			if !strings.Contains(err.Error(), tt.says) {
				t.Errorf("%q does not say %q", err, tt.says)
			}
		})
	}
}

func TestEntryRoundTrip(t *testing.T) {
	r, err := report.Decode([]byte(good))
	if err != nil {
		t.Fatal(err)
	}
	e := report.Entry{Kind: report.KindReport, ElectionID: "iowa-2020", PrecinctID: r.PrecinctID, ReportID: r.ReportID,
		ReceivedAt: "2020-02-04T01:02:03.456Z", Submitter: r.PrecinctID, Channel: "app", Report: &r}
	leaf := e.Marshal()
	back, err := report.ParseEntry(leaf)
	if err != nil {
		t.Fatal(err)
	}
	if string(back.Marshal()) != string(leaf) {
		t.Errorf("round trip changed the leaf")
	}
	for _, bad := range []string{
		strings.Replace(string(leaf), `"kind":"report"`, `"kind":"other"`, 1),
		strings.Replace(string(leaf), `{"kind"`, `{ "kind"`, 1),
		strings.Replace(string(leaf), `"received_at":"2020-02-04T01:02:03.456Z"`, `"received_at":"yesterday"`, 1),
		strings.Replace(string(leaf), `"submitter"`, `"extra":1,"submitter"`, 1),
	} {
		if _, err := report.ParseEntry([]byte(bad)); err == nil {
			t.Errorf("accepted %s", bad)
		}
	}
}

// FuzzDecode: an accepted report's canonical bytes decode to the same report (a fixed point),
// and an entry holding it parses back to the same leaf.
func FuzzDecode(f *testing.F) {
	f.Add([]byte(good))
	f.Add([]byte(`{"report_id":"x","precinct_id":"p","attendees":5,"first":{"a":5},"final":{"a":5},"tiebreaks":[{"kind":"coin","between":["a","b"],"winner":"a"}],"channel":"hotline"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := report.Decode(data)
		if err != nil {
			return
		}
		again, err := report.Decode(r.Canonical())
		if err != nil {
			t.Fatalf("canonical form refused: %v\n%s", err, r.Canonical())
		}
		if string(again.Canonical()) != string(r.Canonical()) {
			t.Fatalf("not a fixed point:\n%s\n%s", r.Canonical(), again.Canonical())
		}
		// The intake hands the tally the report it decoded rather than parsing the leaf it
		// built from it: the two must be the same value, not only the same bytes.
		if !reflect.DeepEqual(r, again) {
			t.Fatalf("decoding the canonical form gives another value:\n%#v\n%#v", r, again)
		}
		e := report.Entry{Kind: report.KindReport, ElectionID: "e", PrecinctID: r.PrecinctID, ReportID: r.ReportID,
			ReceivedAt: "2020-02-04T01:02:03.456Z", Submitter: "s", Channel: r.Channel, Report: &r}
		if _, err := report.ParseEntry(e.Marshal()); err != nil {
			t.Fatalf("entry of an accepted report refused: %v", err)
		}
	})
}

// FuzzParseEntry: an accepted leaf is canonical.
func FuzzParseEntry(f *testing.F) {
	r, _ := report.Decode([]byte(good))
	f.Add(report.Entry{Kind: "report", ElectionID: "e", PrecinctID: "p", ReportID: "r", ReceivedAt: "2020-02-04T01:02:03.456Z", Submitter: "s", Channel: "app", Report: &r}.Marshal())
	f.Fuzz(func(t *testing.T, leaf []byte) {
		e, err := report.ParseEntry(leaf)
		if err != nil {
			return
		}
		if string(e.Marshal()) != string(leaf) {
			t.Fatalf("accepted a non-canonical leaf")
		}
	})
}
