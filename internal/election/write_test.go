package election_test

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"testing/fstest"

	"caucus/internal/election"
)

// equalDefinitions reports how a and b differ, or "" when they are equal.
func equalDefinitions(a, b *election.Definition) string {
	switch {
	case !reflect.DeepEqual(a.Election(), b.Election()):
		return "elections differ"
	case !reflect.DeepEqual(a.Counties(), b.Counties()):
		return "counties differ"
	case !reflect.DeepEqual(a.Precincts(), b.Precincts()):
		return "precincts differ"
	}
	return ""
}

func mapFS(files map[string][]byte) fstest.MapFS {
	m := fstest.MapFS{}
	for name, data := range files {
		m[name] = &fstest.MapFile{Data: data}
	}
	return m
}

func TestRoundTrip(t *testing.T) {
	iowa, err := election.Iowa2020()
	if err != nil {
		t.Fatal(err)
	}
	practice, err := election.Iowa2020Practice()
	if err != nil {
		t.Fatal(err)
	}
	base, err := election.Load(baseFS())
	if err != nil {
		t.Fatal(err)
	}
	for name, d := range map[string]*election.Definition{"base": base, "iowa": iowa, "practice": practice} {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "def")
			if err := d.Write(dir); err != nil {
				t.Fatal(err)
			}
			d2, err := election.LoadDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			if diff := equalDefinitions(d, d2); diff != "" {
				t.Fatal(diff)
			}
			files := d.Marshal()
			for name, data := range files {
				got, err := os.ReadFile(filepath.Join(dir, name))
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got, data) {
					t.Errorf("written %s differs from Marshal", name)
				}
			}
			entries, err := os.ReadDir(dir)
			if err != nil || len(entries) != 3 {
				t.Errorf("the folder holds %d entries (%v), want the 3 files", len(entries), err)
			}
			// Writing again over the files gives the same folder.
			if err := d2.Write(dir); err != nil {
				t.Fatal(err)
			}
			for name, data := range files {
				if got, _ := os.ReadFile(filepath.Join(dir, name)); !bytes.Equal(got, data) {
					t.Errorf("rewritten %s differs", name)
				}
			}
		})
	}
}

// TestEmbeddedCanonical checks that the embedded files are already in the form Write gives.
func TestEmbeddedCanonical(t *testing.T) {
	d, err := election.Iowa2020()
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range d.Marshal() {
		got, err := os.ReadFile(filepath.Join("iowa2020", name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, data) {
			t.Errorf("iowa2020/%s is not canonical", name)
		}
	}
}

func TestWriteError(t *testing.T) {
	d, err := election.Load(baseFS())
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := d.Write(file); err == nil {
		t.Error("Write into a file succeeded")
	}
	if err := d.Write(filepath.Join(file, "sub")); err == nil {
		t.Error("Write under a file succeeded")
	}
}

func TestLoadDirMissing(t *testing.T) {
	_, err := election.LoadDir(filepath.Join(t.TempDir(), "nothing"))
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("LoadDir of a missing folder: %v", err)
	}
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := election.LoadDir(file); err == nil {
		t.Error("LoadDir of a file succeeded")
	}
}
