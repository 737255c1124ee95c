package resultscsv_test

import (
	"bytes"
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"

	"caucus/internal/resultscsv"
)

// iowaCSV is the real 2020 file, copied from the shared folder (internal/shareddata).
const iowaCSV = "../shareddata/testdata/data/iowa-2020/precincts.csv"

func readIowa(t testing.TB) []byte {
	t.Helper()
	data, err := os.ReadFile(iowaCSV)
	if err != nil {
		t.Fatalf("the real 2020 results (internal/shareddata/testdata/data/iowa-2020): %v", err)
	}
	return data
}

func TestReadIowa2020(t *testing.T) {
	ps, err := resultscsv.Read(bytes.NewReader(readIowa(t)))
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 1765 {
		t.Errorf("precincts = %d, want 1765", len(ps))
	}
	var sat, first int64
	for _, p := range ps {
		if p.Satellite {
			sat++
		}
		if len(p.Candidates) != 14 {
			t.Errorf("%s has %d candidates, want 14", p.ID, len(p.Candidates))
		}
		first += p.First.Sum()
	}
	if sat != 87 || first != 176352 {
		t.Errorf("satellites = %d (want 87), first alignment = %d (want 176352)", sat, first)
	}
}

func TestRoundTrip(t *testing.T) {
	data := readIowa(t)
	ps, err := resultscsv.Read(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := resultscsv.Write(&buf, ps); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(bytes.ReplaceAll(data, []byte("\r\n"), []byte("\n")), buf.Bytes()) {
		t.Error("writing the 2020 file back does not give the same bytes")
	}
}

func TestErrors(t *testing.T) {
	good, err := os.ReadFile("testdata/two-precincts.csv")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(good), "\n"), "\n")
	replace := func(line int, old, new string) string {
		l := append([]string(nil), lines...)
		l[line-1] = strings.Replace(l[line-1], old, new, 1)
		return strings.Join(l, "\n") + "\n"
	}
	tests := []struct {
		name, file string
		line, col  int
		field      string
	}{
		{"empty file", "", 1, 1, ""},
		{"bad header", replace(1, "first", "frist"), 1, 9, "first"},
		{"negative count", replace(3, ",6,6,", ",-6,6,"), 3, 0, "first"},
		{"fraction", replace(3, ",6,6,", ",6,6.5,"), 3, 0, "final"},
		{"huge count", replace(3, ",6,6,", ",6,99999999,"), 3, 0, "final"},
		{"sde as float", replace(3, "0.0784", "7.84e-2"), 3, 0, "sde"},
		{"satellite word", replace(4, "false", "no"), 4, 0, "satellite"},
		{"field count", replace(6, ",0,0,0", ",0,0"), 6, 0, ""},
		{"duplicate candidate", replace(4, "bloomberg,Bloomberg", "biden,Biden"), 4, 0, "candidate_id"},
		{"county changes", replace(6, "adair,Adair", "adams,Adair"), 6, 0, "county_id"},
		{"delegates change", replace(7, "ADAIR,8,", "ADAIR,7,"), 7, 0, "delegates_to_elect"},
		{"empty precinct id", replace(7, "adair-1nw-adair", ""), 7, 0, "precinct_id"},
		{"bad quote", replace(8, "Klobuchar", "Klob\"uchar"), 8, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := resultscsv.Read(strings.NewReader(tt.file))
			var e *resultscsv.Error
			if !errors.As(err, &e) {
				t.Fatalf("err = %v, want *resultscsv.Error", err)
			}
			if e.Line != tt.line || (tt.col != 0 && e.Column != tt.col) || e.Field != tt.field {
				t.Errorf("error at line %d column %d field %q, want line %d column %d field %q: %v", e.Line, e.Column, e.Field, tt.line, tt.col, tt.field, err)
			}
			if !strings.Contains(err.Error(), "line ") {
				t.Errorf("message does not name the line: %v", err)
			}
		})
	}
}

// FuzzRead: whatever Read accepts, Write gives a file that reads back to the same precincts.
func FuzzRead(f *testing.F) {
	good, err := os.ReadFile("testdata/two-precincts.csv")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add([]byte(strings.Join(resultscsv.Header, ",") + "\n"))
	f.Add([]byte(strings.Join(resultscsv.Header, ",") + "\nc,C,p,P,,true,a,A,0,0,0\nc,C,p,P,,true,b,\"B, \"\"x\"\"\",3,1,0.25\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		ps, err := resultscsv.Read(bytes.NewReader(data))
		if err != nil {
			return
		}
		var buf bytes.Buffer
		if err := resultscsv.Write(&buf, ps); err != nil {
			t.Fatalf("write what was read: %v", err)
		}
		again, err := resultscsv.Read(bytes.NewReader(buf.Bytes()))
		if err != nil {
			t.Fatalf("read what was written: %v\n%s", err, buf.Bytes())
		}
		for i := range again {
			again[i].Line, ps[i].Line = 0, 0
		}
		if !reflect.DeepEqual(ps, again) {
			t.Fatalf("round trip changed the precincts:\n%+v\n%+v", ps, again)
		}
	})
}
