package store_test

import (
	"go/build"
	"path/filepath"
	"strings"
	"testing"
)

// TestStoreDoesNotImportAuth keeps the dependency one way: store and its implementations know
// nothing of auth (or of anything above them); internal/authstore adapts one to the other.
func TestStoreDoesNotImportAuth(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	for _, pkg := range []string{"caucus/internal/store", "caucus/internal/store/sqlite"} {
		seen := map[string]bool{}
		var walk func(path string, chain []string)
		walk = func(path string, chain []string) {
			if seen[path] {
				return
			}
			seen[path] = true
			chain = append(chain, path)
			if path == "caucus/internal/auth" || path == "caucus/internal/authstore" {
				t.Errorf("%s imports %s", pkg, strings.Join(chain, " → "))
				return
			}
			p, err := build.ImportDir(filepath.Join(root, strings.TrimPrefix(path, "caucus/")), 0)
			if err != nil {
				t.Fatalf("%s: %v", path, err)
			}
			for _, imp := range p.Imports {
				if strings.HasPrefix(imp, "caucus/") {
					walk(imp, chain)
				}
			}
		}
		walk(pkg, nil)
	}
}
