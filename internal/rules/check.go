package rules

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Severity says whether a finding refuses a live report (error) or flags it (warning).
type Severity string

// The severities of §5.
const (
	Error   Severity = "error"
	Warning Severity = "warning"
)

// Check is one consistency finding: its ID (C01…C23), severity, the values it names (Args) and
// its English message, which is the ID and the table's English template filled with Args (In
// writes it in another language). Findings are values, never Go errors.
type Check struct {
	ID       CheckID  `json:"id"`
	Severity Severity `json:"severity"`
	Message  string   `json:"message"`
	Args     Args     `json:"args"`
}

// NewCheck is the check id with these arguments and its English message.
func NewCheck(id CheckID, sev Severity, args Args) Check {
	c := Check{ID: id, Severity: sev, Args: args}
	c.Message = c.In(English)
	return c
}

// maxProblems bounds how many input problems a C01 message lists; it counts the rest.
const maxProblems = 6

// InvalidInput is the C01 check (an error) for these problems, each an English sentence naming
// the field (spec §5 C01, R54).
func InvalidInput(problems ...string) Check {
	ps := make([]problem, len(problems))
	for i, text := range problems {
		ps[i] = problem{text: text}
	}
	return invalidInput(ps)
}

// problem is one reason an input is not valid (C01): an English sentence naming the field and,
// for the problems a chair can make (a count out of range, a field missing), typed arguments
// from which the table writes it in another language.
type problem struct {
	text string
	args Args // kind, field, candidate, value, min, max; nil: the sentence only
}

func (p problem) item() Args {
	it := Args{"problem": Text(p.text), "kind": Text("other")}
	for k, v := range p.args {
		it[k] = v
	}
	return it
}

// countProblem is a count out of range: field is the input's field (attendees, first, …), id the
// group when the count is one of a map's, value the count as given.
func countProblem(text, field, id, value string, lo int64) problem {
	args := Args{"kind": Text("count"), "field": Text(field), "value": Text(value), "min": Int(lo), "max": Int(MaxCount)}
	if id != "" {
		args["candidate"] = Cand(id, "")
	}
	return problem{text: text, args: args}
}

// missingProblem is a required field that is absent.
func missingProblem(text, field string) problem {
	return problem{text: text, args: Args{"kind": Text("missing"), "field": Text(field)}}
}

func problemTexts(ps []problem) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.text
	}
	return out
}

func invalidInput(problems []problem) Check {
	shown := problems[:min(len(problems), maxProblems)]
	items := make([]Args, len(shown))
	for i, p := range shown {
		items[i] = p.item()
	}
	return NewCheck(C01, Error, Args{"problems": List(items...), "more": Int(int64(len(problems) - len(shown)))})
}

// In is the check's message in a language: its ID, then the table's template for it filled with
// its arguments. An ID not in the table gives Message.
func (c Check) In(l Lang) string {
	d := c.ID.def()
	if d == nil {
		return c.Message
	}
	return string(c.ID) + ": " + render(d.message.in(l), c.Args, d, l, "")
}

// MarshalJSON writes args as an object even when there are none.
func (c Check) MarshalJSON() ([]byte, error) {
	type plain Check
	if c.Args == nil {
		c.Args = Args{}
	}
	return json.Marshal(plain(c))
}

// Args are a check's values by name: the names of the table's args.
type Args map[string]Arg

// Arg is one typed value a message names: an exact integer; a text (an exact decimal such as
// "1.5" or "0.1569", an id that is not a candidate's, a choice such as "coin"); a candidate (id
// and display name); or a list of items, each with Args of its own. In JSON: a number, a string,
// {"id", "name"}, an array of objects.
type Arg struct {
	kind  argKind
	n     int64
	s     string
	cand  Candidate
	items []Args
}

type argKind uint8

const (
	argNone argKind = iota
	argInt
	argText
	argCandidate
	argList
)

// Candidate is a group named in a message: its id and the display name (empty when not known).
type Candidate struct {
	ID   string `json:"id"`
	Name string `json:"name,omitempty"`
}

// Int is an exact integer argument.
func Int(n int64) Arg { return Arg{kind: argInt, n: n} }

// Text is a text argument.
func Text(s string) Arg { return Arg{kind: argText, s: s} }

// Cand is a candidate argument.
func Cand(id, name string) Arg { return Arg{kind: argCandidate, cand: Candidate{ID: id, Name: name}} }

// List is a list argument.
func List(items ...Args) Arg {
	if items == nil {
		items = []Args{}
	}
	return Arg{kind: argList, items: items}
}

// Int returns the argument's integer, if it is one.
func (a Arg) Int() (int64, bool) { return a.n, a.kind == argInt }

// Text returns the argument's text, if it is one.
func (a Arg) Text() (string, bool) { return a.s, a.kind == argText }

// Candidate returns the argument's candidate, if it is one.
func (a Arg) Candidate() (Candidate, bool) { return a.cand, a.kind == argCandidate }

// Items returns the argument's items, if it is a list.
func (a Arg) Items() ([]Args, bool) { return a.items, a.kind == argList }

// MarshalJSON writes the argument as a number, a string, an object or an array.
func (a Arg) MarshalJSON() ([]byte, error) {
	switch a.kind {
	case argInt:
		return strconv.AppendInt(nil, a.n, 10), nil
	case argText:
		return json.Marshal(a.s)
	case argCandidate:
		return json.Marshal(a.cand)
	case argList:
		return json.Marshal(a.items)
	}
	return []byte("null"), nil
}

var errArg = errors.New("a check argument is a whole number, a string, a candidate or a list")

// UnmarshalJSON reads what MarshalJSON writes; a number must be a whole number (no float).
func (a *Arg) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return errArg
	}
	switch b[0] {
	case '"':
		*a = Arg{kind: argText}
		return json.Unmarshal(b, &a.s)
	case '{':
		*a = Arg{kind: argCandidate}
		return json.Unmarshal(b, &a.cand)
	case '[':
		*a = Arg{kind: argList, items: []Args{}}
		return json.Unmarshal(b, &a.items)
	case 'n':
		*a = Arg{}
		return nil
	}
	n, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil {
		return fmt.Errorf("%w: %s", errArg, b)
	}
	*a = Int(n)
	return nil
}

// render fills a template of the table (syntax in check_table.go) with args. hash is what # stands
// for: the number of the innermost choice by number, or "" outside one (# is then itself).
// Unknown argument names are written back as they are, so a test sees them.
func render(tpl string, args Args, d *checkDef, l Lang, hash string) string {
	var b strings.Builder
	for i := 0; i < len(tpl); i++ {
		switch c := tpl[i]; {
		case c == '#' && hash != "":
			b.WriteString(hash)
		case c == '{':
			end := closing(tpl, i)
			if end < 0 {
				b.WriteString(tpl[i:])
				return b.String()
			}
			b.WriteString(placeholder(tpl[i+1:end], args, d, l))
			i = end
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// closing is the index of the } that closes the { at open, or -1.
func closing(s string, open int) int {
	depth := 0
	for i := open; i < len(s); i++ {
		switch s[i] {
		case '{':
			depth++
		case '}':
			depth--
			if depth == 0 {
				return i
			}
		}
	}
	return -1
}

// branches splits a placeholder's inside at the | that are not nested in braces.
func branches(s string) []string {
	var out []string
	depth, start := 0, 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '{':
			depth++
		case '}':
			depth--
		case '|':
			if depth == 0 {
				out = append(out, s[start:i])
				start = i + 1
			}
		}
	}
	return append(out, s[start:])
}

func placeholder(inside string, args Args, d *checkDef, l Lang) string {
	parts := branches(inside)
	name := parts[0]
	a, ok := args[name]
	if len(parts) == 1 {
		if !ok {
			return "{" + inside + "}"
		}
		return value(name, a, d, l)
	}
	choices := parts[1:]
	if a.kind == argText {
		for _, ch := range choices {
			key, text, _ := strings.Cut(ch, ":")
			if key == a.s || (key == "*" && a.s != "") {
				return render(text, args, d, l, "")
			}
		}
		return ""
	}
	if a.kind == argNone && !ok {
		return "" // an optional choice not given
	}
	n := a.n
	if a.kind == argList {
		n = int64(len(a.items))
	}
	var pick string
	switch {
	case len(choices) >= 3 && n == 0:
		pick = choices[0]
	case n == 1:
		pick = choices[len(choices)-2]
	default:
		pick = choices[len(choices)-1]
	}
	return render(pick, args, d, l, strconv.FormatInt(n, 10))
}

func value(name string, a Arg, d *checkDef, l Lang) string {
	switch a.kind {
	case argInt:
		return strconv.FormatInt(a.n, 10)
	case argText:
		return a.s
	case argCandidate:
		if a.cand.Name != "" {
			return a.cand.Name
		}
		return a.cand.ID
	case argList:
		li := d.lists[name]
		parts := make([]string, len(a.items))
		for i, it := range a.items {
			parts[i] = render(li.item.in(l), it, d, l, "")
		}
		if li.sep == ";" {
			return strings.Join(parts, "; ")
		}
		return joinAnd(parts, andWord(l))
	}
	return ""
}

// joinAnd joins names for a message: "a", "a and b", "a, b and c".
func joinAnd(names []string, and string) string {
	switch len(names) {
	case 0:
		return ""
	case 1:
		return names[0]
	}
	return strings.Join(names[:len(names)-1], ", ") + " " + and + " " + names[len(names)-1]
}
