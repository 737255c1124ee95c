package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// shared is the copy of the project's shared folder that tests read (internal/shareddata).
const shared = "../../internal/shareddata/testdata/"

func run(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = (&Main{}).Run(context.Background(), args, strings.NewReader(stdin), &out, &errOut)
	return code, out.String(), errOut.String()
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./cmd/caucus -update to create it)", err)
	}
	if string(want) != got {
		t.Errorf("output differs from %s (review, then go test ./cmd/caucus -update):\n%s", path, diffHead(string(want), got))
	}
}

func diffHead(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < len(w) || i < len(g); i++ {
		var a, b string
		if i < len(w) {
			a = w[i]
		}
		if i < len(g) {
			b = g[i]
		}
		if a != b {
			return "line " + itoa(i+1) + ":\n- " + a + "\n+ " + b
		}
	}
	return ""
}

func itoa(i int) string { b, _ := json.Marshal(i); return string(b) }

func TestExitCodes(t *testing.T) {
	const ok = `{"delegates_to_elect": 4, "attendees": 40, "first": {"a": 24, "b": 16}, "final": {"a": 24, "b": 16}}`
	const impossible = `{"delegates_to_elect": 4, "attendees": 40, "first": {"a": 24, "b": 16}, "final": {"a": 30, "b": 16}}`
	tests := []struct {
		name   string
		args   []string
		stdin  string
		code   int
		stderr string // a part of it
	}{
		{"no command", nil, "", 2, "Usage"},
		{"help", []string{"--help"}, "", 0, ""},
		{"unknown command", []string{"frobnicate"}, "", 2, `unknown command "frobnicate"`},
		{"calc ok", []string{"calc"}, ok, 0, ""},
		{"calc json ok", []string{"calc", "--json"}, ok, 0, ""},
		{"calc error check", []string{"calc", "--json"}, impossible, 1, ""},
		{"calc invalid json", []string{"calc"}, `{"attendees": `, 1, ""},
		{"calc unknown rules flag", []string{"calc", "--rules", "bogus"}, ok, 2, `unknown rules "bogus"`},
		{"calc unknown flag", []string{"calc", "--frob"}, ok, 2, "flag provided but not defined"},
		{"calc argument", []string{"calc", "x.json"}, ok, 2, "standard input"},
		{"calc help", []string{"calc", "--help"}, "", 0, ""},
		{"check no file", []string{"check"}, "", 2, "exactly one results file"},
		{"check missing file", []string{"check", "testdata/nope.csv"}, "", 1, "no such file"},
		{"check not csv", []string{"check", "main.go"}, "", 1, "line 1"},
		{"check unknown rules", []string{"check", "--rules", "x", shared + "data/iowa-2020/precincts.csv"}, "", 2, "unknown rules"},
		{"check flagged", []string{"check", shared + "data/iowa-2020/precincts.csv"}, "", 1, ""},
		{"check clean", []string{"check", "testdata/clean.csv"}, "", 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := run(t, tt.stdin, tt.args...)
			if code != tt.code {
				t.Errorf("exit %d, want %d; stderr: %s", code, tt.code, stderr)
			}
			if !strings.Contains(stderr, tt.stderr) {
				t.Errorf("stderr %q does not say %q", stderr, tt.stderr)
			}
		})
	}
}

// TestCalcOutput pins the table and the JSON for a tie and for a C01.
func TestCalcOutput(t *testing.T) {
	const tie = `{"delegates_to_elect": 3, "attendees": 20, "first": {"a": 10, "b": 10}, "final": {"a": 10, "b": 10}, "sde_ratio": "4/51"}`
	_, out, _ := run(t, tie, "calc")
	golden(t, "calc-tie.txt", out)
	_, out, _ = run(t, tie, "calc", "--json")
	golden(t, "calc-tie.json", out)
	_, out, _ = run(t, `{"attendees": -3, "first": {"sanders": -3}, "final": {}}`, "calc", "--json")
	golden(t, "calc-c01.json", out)
	_, out, _ = run(t, `{"delegates_to_elect": 4, "attendees": 40, "first": {}, "final": {}}`, "calc", "--rules", "straw-poll", "--json")
	golden(t, "calc-straw.json", out)
}

// TestCheckIowa2020 pins `caucus check` on the real 2020 file, table and JSON summary.
func TestCheckIowa2020(t *testing.T) {
	code, out, stderr := run(t, "", "check", shared+"data/iowa-2020/precincts.csv")
	if code != 1 || stderr != "" {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	golden(t, "check-iowa-2020.txt", out)
	_, out, _ = run(t, "", "check", "--json", shared+"data/iowa-2020/precincts.csv")
	var rep struct {
		Precincts []struct {
			PrecinctID       string         `json:"precinct_id"`
			Computed         map[string]int `json:"computed"`
			MatchesPublished bool           `json:"matches_published"`
		} `json:"precincts"`
		Summary map[string]any `json:"summary"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	summary, _ := json.MarshalIndent(rep.Summary, "", "  ")
	golden(t, "check-iowa-2020-summary.json", string(summary)+"\n")
	if len(rep.Precincts) != 1765 {
		t.Errorf("%d precincts in the JSON", len(rep.Precincts))
	}
}

func TestHelp(t *testing.T) {
	for _, cmd := range []string{"calc", "check", "serve", "demo"} {
		code, out, _ := run(t, "", cmd, "--help")
		if code != 0 {
			t.Errorf("%s --help: exit %d", cmd, code)
		}
		golden(t, "help-"+cmd+".txt", out)
	}
}
