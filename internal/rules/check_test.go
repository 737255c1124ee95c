package rules

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// placeholders lists the argument names a template reads, at every depth.
func placeholders(tpl string) []string {
	var names []string
	for i := 0; i < len(tpl); i++ {
		if tpl[i] != '{' {
			continue
		}
		end := closing(tpl, i)
		if end < 0 {
			return append(names, "<unclosed>")
		}
		parts := branches(tpl[i+1 : end])
		names = append(names, parts[0])
		for _, ch := range parts[1:] {
			if key, text, ok := strings.Cut(ch, ":"); ok && !strings.ContainsAny(key, "{ ") {
				ch = text
			}
			names = append(names, placeholders(ch)...)
		}
		i = end
	}
	return names
}

// TestCheckTable: every check of §5 is described once, in both languages, and its templates read
// only the arguments it declares, with an item template for each list.
func TestCheckTable(t *testing.T) {
	if len(table) != 23 {
		t.Fatalf("%d checks in the table, want 23", len(table))
	}
	for i, d := range table {
		if want := CheckID(fmt.Sprintf("C%02d", i+1)); d.id != want {
			t.Errorf("entry %d is %s, want %s", i, d.id, want)
		}
		if d.severity != Error && d.severity != Warning {
			t.Errorf("%s: severity %q", d.id, d.severity)
		}
		for _, l := range Langs() {
			if d.title.in(l) == "" || d.message.in(l) == "" {
				t.Errorf("%s: no title or message in %s", d.id, l)
			}
			tpls := map[string]string{"message": d.message.in(l)}
			for name, li := range d.lists {
				tpls["item "+name] = li.item.in(l)
				if li.sep != "and" && li.sep != ";" {
					t.Errorf("%s: list %s has separator %q", d.id, name, li.sep)
				}
			}
			for what, tpl := range tpls {
				if strings.Count(tpl, "{") != strings.Count(tpl, "}") {
					t.Errorf("%s %s %s: unbalanced braces: %s", d.id, l, what, tpl)
				}
				for _, name := range placeholders(tpl) {
					if !slices.Contains(d.args, name) {
						t.Errorf("%s %s %s: reads %q, which is not among its args %v", d.id, l, what, name, d.args)
					}
				}
			}
		}
		for name := range d.lists {
			if !slices.Contains(d.args, name) {
				t.Errorf("%s: list %s is not among its args", d.id, name)
			}
		}
	}
	en, es := Words(English), Words(Spanish)
	if !slices.Equal(slices.Sorted(maps.Keys(en)), slices.Sorted(maps.Keys(es))) {
		t.Errorf("the English and Spanish word lists have different keys")
	}
}

func TestRender(t *testing.T) {
	d := &checkDef{lists: map[string]list{
		"xs": {words{"{x} ({n|# one|# many})", "{x} ({n|# uno|# muchos})"}, "and"},
		"ys": {words{"{x}", "{x}"}, ";"},
	}}
	two := List(Args{"x": Cand("a", "Avery"), "n": Int(1)}, Args{"x": Cand("b", ""), "n": Int(3)})
	for _, c := range []struct {
		tpl  string
		args Args
		l    Lang
		want string
	}{
		{"{n|# person|# people} #", Args{"n": Int(1)}, English, "1 person #"},
		{"{n|# person|# people}", Args{"n": Int(0)}, English, "0 people"},
		{"{n|none|# one|# many}", Args{"n": Int(0)}, English, "none"},
		{"{n|none|# one|# many}", Args{"n": Int(2)}, English, "2 many"},
		{"{k|a:A {n}|*:other}", Args{"k": Text("a"), "n": Int(5)}, English, "A 5"},
		{"{k|a:A|*:other}", Args{"k": Text("z")}, English, "other"},
		{"[{k|a:A}]", Args{"k": Text("")}, English, "[]"},
		{"[{k|a:A}]", Args{}, English, "[]"},
		{"{xs}", Args{"xs": two}, English, "Avery (1 one) and b (3 many)"},
		{"{xs}", Args{"xs": two}, Spanish, "Avery (1 uno) y b (3 muchos)"},
		{"{xs|one: {xs}|many: {xs}}", Args{"xs": two}, English, "many: Avery (1 one) and b (3 many)"},
		{"{ys}", Args{"ys": List(Args{"x": Text("p")}, Args{"x": Text("q")}, Args{"x": Text("r")})}, English, "p; q; r"},
		{"{missing}", Args{}, English, "{missing}"},
	} {
		if got := render(c.tpl, c.args, d, c.l, ""); got != c.want {
			t.Errorf("render(%q, %v, %s) = %q, want %q", c.tpl, c.args, c.l, got, c.want)
		}
	}
}

// TestCheckMessages: for every check the vectors raise, the English message is the template
// filled with the check's args, every arg is one the table declares, the Spanish message is
// whole (no argument left unfilled) and not the English one, and the check reads back from JSON
// as it was written.
func TestCheckMessages(t *testing.T) {
	files, _ := filepath.Glob("testdata/vectors/*.json")
	if len(files) == 0 {
		t.Fatal("no vectors")
	}
	seen := map[CheckID]bool{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var v struct{ Input json.RawMessage }
		if err := json.Unmarshal(data, &v); err != nil {
			t.Fatal(err)
		}
		res := CalcJSON(v.Input, "")
		for _, c := range res.Checks {
			seen[c.ID] = true
			d := c.ID.def()
			if c.Message != c.In(English) {
				t.Errorf("%s %s: message %q, the template gives %q", f, c.ID, c.Message, c.In(English))
			}
			checkArgs(t, f, d, c.Args)
			es := c.In(Spanish)
			if strings.ContainsAny(es+c.Message, "{}") || es == c.Message {
				t.Errorf("%s %s: Spanish %q for English %q", f, c.ID, es, c.Message)
			}
			b, err := json.Marshal(c)
			if err != nil {
				t.Fatal(err)
			}
			var back Check
			if err := json.Unmarshal(b, &back); err != nil {
				t.Fatalf("%s: %v", b, err)
			}
			if c.Args == nil {
				c.Args = Args{}
			}
			if !reflect.DeepEqual(back, c) {
				t.Errorf("%s %s: JSON %s reads back as %+v", f, c.ID, b, back)
			}
		}
	}
	for _, id := range CheckIDs() {
		if !seen[id] {
			t.Errorf("no vector raises %s", id)
		}
	}
}

func checkArgs(t *testing.T, where string, d *checkDef, args Args) {
	t.Helper()
	for name, a := range args {
		if !slices.Contains(d.args, name) {
			t.Errorf("%s %s: arg %q is not declared in the table", where, d.id, name)
		}
		if items, ok := a.Items(); ok {
			if _, ok := d.lists[name]; !ok {
				t.Errorf("%s %s: list %q has no item template", where, d.id, name)
			}
			for _, it := range items {
				checkArgs(t, where, d, it)
			}
		}
	}
}

func TestArgJSONRefusesFractions(t *testing.T) {
	var a Arg
	if err := json.Unmarshal([]byte("1.5"), &a); err == nil {
		t.Fatalf("1.5 read as %+v", a)
	}
	if err := json.Unmarshal([]byte("12"), &a); err != nil || a.n != 12 || a.kind != argInt {
		t.Fatalf("12 read as %+v, %v", a, err)
	}
}

// TestInvalidInputInSpanish: the problems a chair can make (a count out of range, a missing
// field) are written wholly in Spanish; others keep their English sentence.
func TestInvalidInputInSpanish(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{`{"attendees": 1000001, "delegates_to_elect": 4, "first": {"a": -3}, "final": {"a": 2.5}}`,
			"C01: los números no se pueden usar: el número de registrados es 1000001; debe ser un número entero de 0 a 1000000; " +
				"la primera alineación de a es −3; debe ser un número entero de 0 a 1000000; la alineación final de a es 2.5; debe ser un número entero de 0 a 1000000"},
		{`{"attendees": 5, "first": {"a": 5}}`,
			"C01: los números no se pueden usar: falta el número de delegados a elegir; falta la alineación final"},
		{`{"delegates_to_elect": 0, "first": {}, "final": {}, "delegates": {"b": 1000002}}`,
			"C01: los números no se pueden usar: falta el número de registrados; el número de delegados de b en la hoja es 1000002; debe ser un número entero de 0 a 1000000; " +
				"el número de delegados a elegir es 0; debe ser un número entero de 1 a 1000000"},
	} {
		res := CalcJSON([]byte(c.in), "")
		if len(res.Checks) != 1 || res.Checks[0].ID != C01 {
			t.Fatalf("%s: checks %v", c.in, res.Checks)
		}
		if got := res.Checks[0].In(Spanish); got != c.want {
			t.Errorf("%s:\n got %q\nwant %q\n(English %q)", c.in, got, c.want, res.Checks[0].Message)
		}
	}
	res := CalcJSON([]byte(`{"attendees": 5, "delegates_to_elect": 4, "first": {}, "final": {}, "sde_ratio": 0.5}`), "")
	if got := res.Checks[0].In(Spanish); !strings.Contains(got, "no se pueden usar: sde_ratio must be a string") {
		t.Errorf("an untyped problem in Spanish: %q", got)
	}
}
