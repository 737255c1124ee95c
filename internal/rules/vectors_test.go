package rules_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"caucus/internal/rules"
)

// vector is one worked case of spec/vectors (copied to testdata/vectors).
type vector struct {
	Name     string          `json:"name"`
	Rules    []string        `json:"rules"`
	Source   string          `json:"source"`
	Input    json.RawMessage `json:"input"`
	Expected json.RawMessage `json:"expected"`
}

func loadVectors(t testing.TB) []vector {
	t.Helper()
	files, err := filepath.Glob("testdata/vectors/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no vectors in testdata/vectors: %v", err)
	}
	var vs []vector
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var v vector
		if err := json.Unmarshal(data, &v); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if v.Name == "" {
			v.Name = strings.TrimSuffix(filepath.Base(f), ".json")
		}
		vs = append(vs, v)
	}
	return vs
}

// comparable turns a result into generic JSON with check messages and arguments dropped: messages
// are free text (R54), but each must say something and start with its ID; the arguments are
// what the message names (TestCheckMessages).
func comparable(t *testing.T, raw []byte, checkMessages bool) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("result is not JSON: %v\n%s", err, raw)
	}
	checks, _ := m["checks"].([]any)
	for _, c := range checks {
		c := c.(map[string]any)
		if checkMessages {
			msg, _ := c["message"].(string)
			if !strings.HasPrefix(msg, c["id"].(string)+": ") || len(msg) < 12 {
				t.Errorf("check %v has no useful message: %q", c["id"], msg)
			}
		}
		delete(c, "message")
		delete(c, "args")
	}
	return m
}

func TestVectors(t *testing.T) {
	for _, v := range loadVectors(t) {
		t.Run(v.Name, func(t *testing.T) {
			res := rules.CalcJSON(v.Input, "")
			got, err := json.Marshal(res)
			if err != nil {
				t.Fatal(err)
			}
			g := comparable(t, got, true)
			w := comparable(t, v.Expected, false)
			if !reflect.DeepEqual(g, w) {
				want, _ := json.MarshalIndent(w, "", " ")
				have, _ := json.MarshalIndent(g, "", " ")
				t.Errorf("%s\ninput: %s\ngot:  %s\nwant: %s\nmessages: %v", v.Source, v.Input, have, want, res.Checks)
			}
		})
	}
}
