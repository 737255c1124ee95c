package shareddata_test

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// shared is the shared folder beside the repository, as CI lays it out.
const shared = "../../../shared"

// copies lists each copy (from this package's folder) and its original (in the shared folder).
// A folder is copied whole: the same file names with the same bytes.
var copies = []struct{ copy, original string }{
	{"testdata/data/iowa-2020/precincts.csv", "data/iowa-2020/precincts.csv"},
	{"testdata/data/iowa-2020/counties.csv", "data/iowa-2020/counties.csv"},
	{"testdata/data/iowa-2020/inconsistencies.csv", "data/iowa-2020/inconsistencies.csv"},
	{"../rules/testdata/vectors", "spec/vectors"},
}

// TestCopiesFresh fails when a copy is not byte for byte its original in the shared folder, so
// that tests never pass on stale data. Without the shared folder there is nothing to compare:
// it says so and passes, unless CAUCUS_REQUIRE_SHARED=1 (scripts/test, for CI, which always has
// the folder) makes that a failure.
func TestCopiesFresh(t *testing.T) {
	if _, err := os.Stat(shared); err != nil {
		if os.Getenv("CAUCUS_REQUIRE_SHARED") == "1" {
			t.Fatalf("CAUCUS_REQUIRE_SHARED=1 but the shared folder is not beside the repository (%s): %v", shared, err)
		}
		t.Logf("the shared folder is not beside the repository (%v): the copies were not compared", err)
		return
	}
	for _, c := range copies {
		original := filepath.Join(shared, c.original)
		info, err := os.Stat(original)
		if err != nil {
			t.Errorf("%s: the original is gone from the shared folder: %v", c.copy, err)
			continue
		}
		if !info.IsDir() {
			compare(t, c.copy, original)
			continue
		}
		want := names(t, original)
		got := names(t, c.copy)
		for _, n := range want {
			if !slices.Contains(got, n) {
				t.Errorf("%s has no copy of the shared folder's %s/%s: copy the folder again", c.copy, c.original, n)
			}
		}
		for _, n := range got {
			if !slices.Contains(want, n) {
				t.Errorf("%s/%s is gone from the shared folder's %s: copy the folder again", c.copy, n, c.original)
			}
		}
		for _, n := range want {
			if slices.Contains(got, n) {
				compare(t, filepath.Join(c.copy, n), filepath.Join(original, n))
			}
		}
	}
}

// compare fails when the copy's bytes are not the original's.
func compare(t *testing.T, copy, original string) {
	t.Helper()
	got, err := os.ReadFile(copy)
	if err != nil {
		t.Errorf("the copy of %s: %v", original, err)
		return
	}
	want, err := os.ReadFile(original)
	if err != nil {
		t.Errorf("%v", err)
		return
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s (%d bytes) differs from %s (%d bytes): copy it again (cp %s %s) and review what the tests that read it now say",
			copy, len(got), original, len(want), original, copy)
	}
}

// names lists a folder's file names, sorted.
func names(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var ns []string
	for _, e := range entries {
		if !e.IsDir() {
			ns = append(ns, e.Name())
		}
	}
	return ns
}

// readsShared matches a relative path into the shared folder in Go source: "../shared/",
// "../../../shared/" and so on.
var readsShared = regexp.MustCompile(`(\.\./)+shared/`)

// TestNoTestReadsShared fails when a test of the module reads the shared folder instead of a
// copy here, so that a checkout keeps running its tests without it. This file is the exception:
// it compares the copies with the folder.
func TestNoTestReadsShared(t *testing.T) {
	self, err := filepath.Abs("fresh_test.go")
	if err != nil {
		t.Fatal(err)
	}
	err = filepath.WalkDir("../..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "testdata" || d.Name() == "vendor" || strings.HasPrefix(d.Name(), ".")) && path != "../.." {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, "_test.go") {
			return nil
		}
		if abs, _ := filepath.Abs(path); abs == self {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for i, line := range strings.Split(string(src), "\n") {
			if readsShared.MatchString(line) {
				t.Errorf("%s:%d reads the shared folder; read a copy in internal/shareddata/testdata instead (add it to copies in %s): %s",
					path, i+1, "internal/shareddata/fresh_test.go", strings.TrimSpace(line))
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
