package election_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"testing/fstest"

	"caucus/internal/election"
)

func readEmbedded(f *testing.F, name string) []byte {
	f.Helper()
	data, err := os.ReadFile(filepath.Join("iowa2020", filepath.FromSlash(name)))
	if err != nil {
		f.Fatal(err)
	}
	return data
}

// checkFixedPoint loads fsys; when it loads, marshalling and loading again must give the same
// definition and the same bytes. When it does not, every problem must be a FieldError naming
// its file, or the note that more were not shown.
func checkFixedPoint(t *testing.T, fsys fstest.MapFS) {
	d, err := election.Load(fsys)
	if err != nil {
		for i, e := range problemsOf(err) {
			var fe *election.FieldError
			if errors.As(e, &fe) {
				if fe.File == "" || fe.Msg == "" {
					t.Fatalf("problem without file or message: %#v", fe)
				}
			} else if i != 20 {
				t.Fatalf("problem %d is not a FieldError: %v", i, e)
			}
		}
		return
	}
	files := d.Marshal()
	d2, err := election.Load(mapFS(files))
	if err != nil {
		t.Fatalf("loaded, written, then refused: %v\n%s%s%s", err, files[election.ElectionFile], files[election.CountiesFile], files[election.PrecinctsFile])
	}
	if diff := equalDefinitions(d, d2); diff != "" {
		t.Fatalf("loaded → written → loaded: %s", diff)
	}
	for name, data := range d2.Marshal() {
		if !bytes.Equal(data, files[name]) {
			t.Fatalf("%s is not a fixed point:\n%s\n---\n%s", name, files[name], data)
		}
	}
}

func FuzzLoadCSV(f *testing.F) {
	f.Add([]byte(baseCounties), []byte(basePrecincts))
	f.Add(readEmbedded(f, "counties.csv"), readEmbedded(f, "precincts.csv"))
	f.Add([]byte("county_id,name,county_delegates,state_delegates\r\nx,\"X, \"\"Y\"\"\",007,0.50\r\n"),
		[]byte("\uFEFFprecinct_id,county_id,name,delegates_to_elect,satellite\np,x,P,01,false\n"))
	f.Fuzz(func(t *testing.T, counties, precincts []byte) {
		checkFixedPoint(t, fstest.MapFS{
			election.ElectionFile:  {Data: []byte(baseElection)},
			election.CountiesFile:  {Data: counties},
			election.PrecinctsFile: {Data: precincts},
		})
	})
}

func FuzzLoadElectionJSON(f *testing.F) {
	f.Add([]byte(baseElection))
	f.Add(readEmbedded(f, "election.json"))
	f.Add(readEmbedded(f, "practice/election.json"))
	f.Add([]byte(`{"id":"a","name":"A \u00e9 \\ \"q\" <&>","date":"2024-02-29","rules":"straw-poll","candidates":[{"name":"B","id":"b"}]}`))
	f.Fuzz(func(t *testing.T, electionJSON []byte) {
		checkFixedPoint(t, fstest.MapFS{
			election.ElectionFile:  {Data: electionJSON},
			election.CountiesFile:  {Data: []byte(baseCounties)},
			election.PrecinctsFile: {Data: []byte(basePrecincts)},
		})
	})
}
