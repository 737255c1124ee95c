package internal_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// boundary is one rule of the import graph (STYLE.md §1: dependencies point inward). A pattern
// is an import path, or a path ending in "/..." for the path and everything under it, as the go
// command reads patterns.
type boundary struct {
	pkg string
	why string
	// only, when set, allows the standard library and these patterns, nothing else.
	only []string
	// not is what pkg must not depend on, directly or through anything it imports.
	not []string
}

// sqlDrivers are the SQL drivers this module uses or measured, and database/sql itself: the
// storage implementations' business, never the HTTP layer's.
var sqlDrivers = []string{"database/sql/...", "modernc.org/sqlite/...", "github.com/jackc/pgx/...",
	"zombiezen.com/go/sqlite/...", "github.com/ncruces/go-sqlite3/...", "github.com/mattn/go-sqlite3/...", "github.com/lib/pq/..."}

var boundaries = []boundary{
	{pkg: "caucus/internal/rules", only: []string{},
		why: "the caucus math is pure and builds for the chair app's WebAssembly: the standard library only"},
	{pkg: "caucus/internal/tlog/c2sp", only: []string{"golang.org/x/mod/sumdb/..."},
		not: []string{"caucus/internal/store/...", "caucus/internal/server/..."},
		why: "the log's public formats are shared by the server and the verifier: x/mod and the standard library only"},
	{pkg: "caucus/internal/tlog", not: []string{"caucus/internal/server/...", "caucus/internal/intake/...", "caucus/internal/tally/...", "caucus/internal/night/..."},
		why: "the integrator knows the store's entries and values, not who writes them or reads the results"},
	{pkg: "caucus/internal/verify",
		not: []string{"caucus/internal/store/...", "caucus/internal/server/...", "caucus/internal/intake/...",
			"caucus/internal/tally/...", "caucus/internal/night/...", "caucus/internal/tlog"},
		why: "the verifier shares the math and the wire formats with the server and nothing else, so a bug on the server's path cannot hide itself"},
	{pkg: "caucus/internal/server", not: sqlDrivers,
		why: "the server is HTTP only; SQL is the store implementations'"},
	{pkg: "caucus/internal/store", not: []string{"caucus/internal/auth/...", "caucus/internal/tlog/...", "caucus/internal/night/..."},
		why: "package store holds the entry types and sentinels; it knows nothing of the packages that consume storage"},
	{pkg: "caucus/internal/auth", not: []string{"caucus/internal/store/..."},
		why: "auth owns the storage interface it needs; the implementation imports auth's types to implement it, never the other way round"},
	{pkg: "caucus/internal/store/sqlite", not: []string{"caucus/internal/server/...", "caucus/internal/night/...", "caucus/internal/intake/..."},
		why: "an implementation of the consumers' interfaces knows their types, not the code that calls it"},
	{pkg: "caucus/internal/night", not: append([]string{"caucus/internal/server/...", "caucus/internal/store/sqlite/..."}, sqlDrivers...),
		why: "the running night is called by the HTTP layer, never the other way round, and takes its storage as an interface"},
	{pkg: "caucus/internal/hotline", not: append([]string{"caucus/internal/server/...", "caucus/internal/night/...", "caucus/internal/store/sqlite/..."}, sqlDrivers...),
		why: "the hotline's double entry submits through the night's one path and keeps its copies through its own interface"},
	{pkg: "caucus/internal/intake", not: append([]string{"caucus/internal/server/...", "caucus/internal/night/...", "caucus/internal/store/sqlite/..."}, sqlDrivers...),
		why: "the intake is one step of the night and knows its store only through its own interface"},
	{pkg: "caucus/internal/review", not: append([]string{"caucus/internal/server/...", "caucus/internal/night/...", "caucus/internal/store/sqlite/...",
		"caucus/internal/tally/...", "caucus/internal/intake/..."}, sqlDrivers...),
		why: "the review of a precinct is worked out from its entries and the math; the night stores decisions, the server serves them"},
	{pkg: "caucus/internal/results", only: []string{"caucus/internal/rules"},
		why: "the results documents are read by the client, the verifier and outsiders' tools, which run without a store, a server or the tally"},
	{pkg: "caucus/internal/client", not: []string{"caucus/internal/store/...", "caucus/internal/server/...", "caucus/internal/intake/...",
		"caucus/internal/tally/...", "caucus/internal/night/...", "caucus/internal/tlog"},
		why: "the client speaks the public HTTP contract only, as campaigns' and newsrooms' tools do"},
}

// TestBoundaries checks every rule of the import graph against what the go command lists: the
// packages' own files, not their tests.
func TestBoundaries(t *testing.T) {
	graph := listDeps(t, boundaryPackages())
	for _, b := range boundaries {
		t.Run(b.pkg, func(t *testing.T) {
			if msg := missing(graph, b.pkg); msg != "" {
				t.Fatal(msg)
			}
			for _, chain := range violations(graph, b) {
				t.Errorf("%s imports %s: %s", b.pkg, strings.Join(chain, " → "), b.why)
			}
		})
	}
}

// TestBoundaryRules checks the checker on a made-up graph: a rule is broken through an import
// chain, a pattern with /... covers the subtree and a plain path only itself, and only lets the
// standard library through.
func TestBoundaryRules(t *testing.T) {
	graph := map[string]*listed{
		"m/a":     {ImportPath: "m/a", Imports: []string{"m/b", "fmt"}},
		"m/b":     {ImportPath: "m/b", Imports: []string{"m/c/d", "x.org/y"}},
		"m/c/d":   {ImportPath: "m/c/d"},
		"m/e":     {ImportPath: "m/e", Imports: []string{"m/c"}},
		"m/c":     {ImportPath: "m/c"},
		"x.org/y": {ImportPath: "x.org/y"},
		"fmt":     {ImportPath: "fmt", Standard: true},
	}
	for _, c := range []struct {
		name string
		b    boundary
		want [][]string
	}{
		{"subtree through a chain", boundary{pkg: "m/a", not: []string{"m/c/..."}}, [][]string{{"m/b", "m/c/d"}}},
		{"plain path is exact", boundary{pkg: "m/a", not: []string{"m/c"}}, nil},
		{"plain path", boundary{pkg: "m/e", not: []string{"m/c"}}, [][]string{{"m/c"}}},
		{"only std", boundary{pkg: "m/a", only: []string{}}, [][]string{{"m/b"}}},
		{"only std and m/...", boundary{pkg: "m/a", only: []string{"m/..."}}, [][]string{{"m/b", "x.org/y"}}},
		{"only std, m/... and x.org/y", boundary{pkg: "m/a", only: []string{"m/...", "x.org/y"}}, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := violations(graph, c.b)
			if !slices.EqualFunc(got, c.want, slices.Equal) {
				t.Errorf("violations = %q, want %q", got, c.want)
			}
		})
	}
}

// TestBoundaryMissingPackage checks that a rule about a package that does not exist fails, and
// says so, rather than passing for want of imports.
func TestBoundaryMissingPackage(t *testing.T) {
	const pkg = "caucus/internal/no-such-package"
	msg := missing(listDeps(t, []string{pkg}), pkg)
	if !strings.Contains(msg, "no such package") {
		t.Errorf("missing(%s) = %q, want it to say there is no such package", pkg, msg)
	}
	if msg := missing(listDeps(t, []string{"caucus/internal/rules"}), "caucus/internal/rules"); msg != "" {
		t.Errorf("missing(rules) = %q, want none", msg)
	}
}

// missing says why pkg cannot be checked: the go command did not find it. Empty when it did.
func missing(graph map[string]*listed, pkg string) string {
	p, ok := graph[pkg]
	switch {
	case !ok:
		return pkg + ": the go command did not list it; a boundary rule names it"
	case p.Error != nil:
		return fmt.Sprintf("%s: no such package (%s): a boundary rule names it; create the package or drop its rule", pkg, p.Error.Err)
	}
	return ""
}

// listed is what the go command says of one package.
type listed struct {
	ImportPath string
	Imports    []string
	Standard   bool
	Error      *struct{ Err string }
}

// boundaryPackages is every package a rule is about.
func boundaryPackages() []string {
	var out []string
	for _, b := range boundaries {
		out = append(out, b.pkg)
	}
	return out
}

// listDeps runs go list -deps over pkgs from the module root and returns every package listed,
// with its direct imports, by import path.
func listDeps(t *testing.T, pkgs []string) map[string]*listed {
	t.Helper()
	cmd := exec.Command("go", append([]string{"list", "-e", "-deps", "-json=ImportPath,Imports,Standard,Error"}, pkgs...)...)
	cmd.Dir = ".."
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.Bytes())
	}
	graph := map[string]*listed{}
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p listed
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("go list output: %v", err)
		}
		graph[p.ImportPath] = &p
	}
	return graph
}

// violations returns, for each dependency of b.pkg that breaks b, the shortest import chain from
// b.pkg to it (b.pkg left out), in the order a breadth-first walk meets them. It does not walk
// past a dependency that breaks the rule.
func violations(graph map[string]*listed, b boundary) [][]string {
	var out [][]string
	from := map[string]string{b.pkg: ""}
	queue := []string{b.pkg}
	for len(queue) > 0 {
		path := queue[0]
		queue = queue[1:]
		p := graph[path]
		if p == nil {
			continue
		}
		for _, imp := range p.Imports {
			if _, seen := from[imp]; seen {
				continue
			}
			from[imp] = path
			if breaks(graph, b, imp) {
				var chain []string
				for at := imp; at != b.pkg; at = from[at] {
					chain = append([]string{at}, chain...)
				}
				out = append(out, chain)
				continue
			}
			queue = append(queue, imp)
		}
	}
	return out
}

// breaks reports whether depending on path breaks b.
func breaks(graph map[string]*listed, b boundary, path string) bool {
	if slices.ContainsFunc(b.not, func(pattern string) bool { return matches(pattern, path) }) {
		return true
	}
	if b.only == nil {
		return false
	}
	if p := graph[path]; p != nil && p.Standard {
		return false
	}
	return !slices.ContainsFunc(b.only, func(pattern string) bool { return matches(pattern, path) })
}

// matches reports whether path is pattern, or under it when pattern ends in "/...".
func matches(pattern, path string) bool {
	if base, ok := strings.CutSuffix(pattern, "/..."); ok {
		return path == base || strings.HasPrefix(path, base+"/")
	}
	return path == pattern
}
