package store_test

import (
	"go/build"
	"path/filepath"
	"strings"
	"testing"
)

// TestImportDirection keeps the dependencies pointing one way: a consumer owns the interface
// it needs and knows nothing of the database (auth imports neither store nor its
// implementation), the implementation imports the consumer's types to implement it
// (store/sqlite → auth), and package store, the entry types and sentinels, knows nothing of its
// consumers.
func TestImportDirection(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	for pkg, forbidden := range map[string][]string{
		"caucus/internal/store": {"caucus/internal/auth"},
		"caucus/internal/auth":  {"caucus/internal/store", "caucus/internal/store/sqlite"},
	} {
		seen := map[string]bool{}
		var walk func(path string, chain []string)
		walk = func(path string, chain []string) {
			if seen[path] {
				return
			}
			seen[path] = true
			chain = append(chain, path)
			for _, f := range forbidden {
				if path == f {
					t.Errorf("%s imports %s", pkg, strings.Join(chain, " → "))
					return
				}
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
