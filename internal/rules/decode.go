package rules

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"strconv"
	"strings"
)

// MaxInputBytes bounds the JSON a caller should hand to Decode. Decode itself refuses nothing for
// size; callers reading from a network or stdin cap what they read with it. A precinct report is
// a few hundred bytes; 8 MiB leaves room for `others` in bulk checks of a whole state.
const MaxInputBytes = 8 << 20

// DecodeError lists every problem that makes an input invalid (check C01), each naming the field.
type DecodeError struct {
	Problems []string
}

func (e *DecodeError) Error() string { return strings.Join(e.Problems, "; ") }

// Decode reads the precinct input of spec §1/§5b strictly: counts are JSON integers 0..1,000,000
// (no fraction, exponent, string or boolean), decimals are strings in the R52 grammar, duplicate
// object keys are refused, a field given as null counts as absent and unknown top-level fields
// are ignored. override, when not empty, replaces the input's "rules" field (the --rules flag);
// the field is then not read at all.
//
// On error the returned Input still holds what was valid (so that C01 can echo attendees and
// delegates_to_elect) and the error is a *DecodeError.
func Decode(data []byte, override Profile) (Input, error) {
	var d decoder
	in := d.input(data, override)
	if len(d.problems) > 0 {
		return in, &DecodeError{Problems: problemTexts(d.problems)}
	}
	return in, nil
}

type decoder struct {
	problems []problem
	// valid echo values for C01
	attendeesOK, delegatesOK bool
}

func (d *decoder) fail(format string, args ...any) {
	d.problems = append(d.problems, problem{text: fmt.Sprintf(format, args...)})
}

type field struct {
	key string
	raw json.RawMessage
}

var errNotObject = errors.New("not an object")

// object splits a JSON object into its fields, refusing duplicate keys.
func object(raw []byte) ([]field, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	tok, err := dec.Token()
	if err != nil {
		return nil, errors.New("is not valid JSON")
	}
	if delim, ok := tok.(json.Delim); !ok || delim != '{' {
		return nil, errNotObject
	}
	var fields []field
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, errors.New("is not valid JSON")
		}
		key := tok.(string)
		if seen[key] {
			return nil, fmt.Errorf("has the key %q twice", key)
		}
		seen[key] = true
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, errors.New("is not valid JSON")
		}
		fields = append(fields, field{key, v})
	}
	if _, err := dec.Token(); err != nil {
		return nil, errors.New("is not valid JSON")
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("has more after the end of the JSON object")
	}
	return fields, nil
}

// array splits a JSON array into its elements.
func array(raw []byte) ([]json.RawMessage, bool) {
	if len(raw) == 0 || raw[0] != '[' {
		return nil, false
	}
	var elems []json.RawMessage
	if err := json.Unmarshal(raw, &elems); err != nil {
		return nil, false
	}
	return elems, true
}

func isNull(raw []byte) bool { return string(raw) == "null" }

// count parses a count (R51): a JSON integer literal from 0 to MaxCount. When it is not one, msg
// says why and shown is the value as a message shows it.
func count(raw []byte) (n int64, shown, msg string) {
	s := string(raw)
	short := func(s string) string {
		if len(s) > 40 {
			return s[:40] + "…"
		}
		return s
	}
	if s == "" || (s[0] != '-' && (s[0] < '0' || s[0] > '9')) || strings.ContainsAny(s, ".eE") {
		return 0, short(s), fmt.Sprintf("is %s; counts must be whole numbers 0 or more", short(s))
	}
	if s[0] == '-' {
		return 0, "−" + s[1:], fmt.Sprintf("is −%s; counts must be whole numbers 0 or more", s[1:])
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n > MaxCount {
		return 0, short(s), fmt.Sprintf("is %s; counts must be at most %d", short(s), MaxCount)
	}
	return n, "", ""
}

func str(raw []byte) (string, bool) {
	if len(raw) == 0 || raw[0] != '"' {
		return "", false
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", false
	}
	return s, true
}

// counts parses a map of group → count; field is its input field when a chair types it (first,
// final, delegates), "" otherwise.
func (d *decoder) counts(field, name string, raw []byte) Counts {
	fields, err := object(raw)
	if err != nil {
		if err == errNotObject {
			d.fail("%s must be an object of candidate → number", name)
		} else {
			d.fail("%s %v", name, err)
		}
		return Counts{} // given, though not valid: validate must not call it missing too
	}
	c := make(Counts, len(fields))
	for _, f := range fields {
		n, shown, msg := count(f.raw)
		if msg != "" {
			text := fmt.Sprintf("the %s %s %s", f.key, name, msg)
			if field == "" {
				d.fail("%s", text)
			} else {
				d.problems = append(d.problems, countProblem(text, field, f.key, shown, 0))
			}
			continue
		}
		c[f.key] = n
	}
	return c
}

func (d *decoder) input(data []byte, override Profile) Input {
	var in Input
	fields, err := object(data)
	if err != nil {
		if err == errNotObject {
			d.fail("the input must be a JSON object")
		} else {
			d.fail("the input %v", err)
		}
		in.Rules = override
		return in
	}
	get := map[string]json.RawMessage{}
	for _, f := range fields {
		if !isNull(f.raw) { // R53: null counts as absent
			get[f.key] = f.raw
		}
	}

	// rules and mode first: they decide what else is read.
	in.Rules = override
	if raw, ok := get["rules"]; ok && override == "" {
		s, ok := str(raw)
		if !ok || !Profile(s).Known() {
			d.fail("rules must be one of iowa-dem-2020, nevada-dem-2020, straw-poll")
		} else {
			in.Rules = Profile(s)
		}
	}
	profile := in.profile()
	if raw, ok := get["mode"]; ok {
		s, ok := str(raw)
		if !ok || (s != string(Live) && s != string(Bulk)) {
			d.fail("mode must be \"live\" or \"bulk\"")
		} else {
			in.Mode = Mode(s)
		}
	}
	if raw, ok := get["satellite"]; ok {
		switch string(raw) {
		case "true":
			in.Satellite = true
		case "false":
		default:
			d.fail("satellite must be true or false")
		}
	}

	if raw, ok := get["attendees"]; ok {
		n, shown, msg := count(raw)
		if msg != "" {
			d.problems = append(d.problems, countProblem("attendees (people signed in) "+msg, "attendees", "", shown, 0))
		} else {
			in.Attendees, d.attendeesOK = n, true
		}
	} else {
		d.problems = append(d.problems, missingProblem("attendees (people signed in) is missing", "attendees"))
	}
	if raw, ok := get["delegates_to_elect"]; ok {
		n, shown, msg := count(raw)
		switch {
		case msg != "":
			d.problems = append(d.problems, countProblem("delegates_to_elect "+msg, "delegates_to_elect", "", shown, 0))
		default:
			in.DelegatesToElect, in.HasDelegatesToElect, d.delegatesOK = n, true, true
		}
	}

	if raw, ok := get["first"]; ok {
		in.First = d.counts("first", "first alignment", raw)
	}
	if raw, ok := get["final"]; ok {
		in.Final = d.counts("final", "final alignment", raw)
	}
	if raw, ok := get["delegates"]; ok {
		in.Delegates = d.counts("delegates", "delegates", raw)
	}
	if raw, ok := get["tiebreaks"]; ok {
		in.Tiebreaks = d.tiebreaks(raw)
	}
	if raw, ok := get["sde_ratio"]; ok {
		s, isStr := str(raw)
		if !isStr {
			d.fail("sde_ratio must be a string like \"4/51\" or \"0.0784\", not a number")
		} else if r, err := ParseRatio(s); err != nil {
			d.fail("sde_ratio %q %v", s, err)
		} else {
			in.SDERatio = r
		}
	}
	if raw, ok := get["sde"]; ok {
		in.SDE = d.sde(raw)
	}
	if raw, ok := get["candidates"]; ok {
		in.Candidates = d.candidates(raw)
	}
	if raw, ok := get["others"]; ok {
		in.Others = d.others(raw)
	}
	if raw, ok := get["early"]; ok && profile == NevadaDem2020 {
		in.Early = d.early(raw)
	}
	return in
}

func (d *decoder) tiebreaks(raw []byte) []Tiebreak {
	elems, ok := array(raw)
	if !ok {
		d.fail("tiebreaks must be a list")
		return nil
	}
	tbs := make([]Tiebreak, 0, len(elems))
	for i, e := range elems {
		fields, err := object(e)
		if err != nil {
			d.fail("tiebreak %d must be an object {kind, between, winner}", i+1)
			continue
		}
		var tb Tiebreak
		var between json.RawMessage
		for _, f := range fields {
			switch f.key {
			case "kind":
				tb.Kind, _ = str(f.raw)
			case "winner":
				tb.Winner, _ = str(f.raw)
			case "between":
				between = f.raw
			}
		}
		if list, ok := d.strings(between); ok {
			tb.Between = list
		} else {
			d.fail("tiebreak %d: between must be a list of candidates", i+1)
			continue
		}
		tbs = append(tbs, tb)
	}
	return tbs
}

func (d *decoder) strings(raw []byte) ([]string, bool) {
	elems, ok := array(raw)
	if !ok {
		return nil, false
	}
	list := make([]string, 0, len(elems))
	for _, e := range elems {
		s, ok := str(e)
		if !ok {
			return nil, false
		}
		list = append(list, s)
	}
	return list, true
}

func (d *decoder) sde(raw []byte) map[string]*big.Rat {
	fields, err := object(raw)
	if err != nil {
		d.fail("sde must be an object of candidate → decimal string")
		return nil
	}
	m := make(map[string]*big.Rat, len(fields))
	for _, f := range fields {
		s, ok := str(f.raw)
		if !ok {
			d.fail("the published SDE of %s must be a string like \"0.1569\", not a number", f.key)
			continue
		}
		r, err := ParseDecimal(s)
		if err != nil {
			d.fail("the published SDE of %s, %q, is %v", f.key, s, err)
			continue
		}
		m[f.key] = r
	}
	return m
}

func (d *decoder) candidates(raw []byte) []string {
	list, ok := d.strings(raw)
	if !ok {
		d.fail("candidates must be a list of candidate ids")
		return nil
	}
	return list
}

func (d *decoder) others(raw []byte) []Other {
	elems, ok := array(raw)
	if !ok {
		d.fail("others must be a list of precincts")
		return nil
	}
	others := make([]Other, 0, len(elems))
	for i, e := range elems {
		fields, err := object(e)
		if err != nil {
			d.fail("others entry %d must be an object {precinct_id, first, final}", i+1)
			continue
		}
		var o Other
		for _, f := range fields {
			switch f.key {
			case "precinct_id":
				o.PrecinctID, _ = str(f.raw)
			case "first":
				o.First = d.counts("", fmt.Sprintf("others[%d] first alignment", i+1), f.raw)
			case "final":
				o.Final = d.counts("", fmt.Sprintf("others[%d] final alignment", i+1), f.raw)
			}
		}
		// An absent alignment counts as empty, and is held as an empty map rather than nil so
		// that the canonical encoding writes {} (null would not decode): decode is a fixed point.
		if o.First == nil {
			o.First = Counts{}
		}
		if o.Final == nil {
			o.Final = Counts{}
		}
		others = append(others, o)
	}
	return others
}

func (d *decoder) early(raw []byte) []Card {
	elems, ok := array(raw)
	if !ok {
		d.fail("early must be a list of preference cards")
		return nil
	}
	cards := make([]Card, 0, len(elems))
	for i, e := range elems {
		fields, err := object(e)
		if err != nil {
			d.fail("early card %d must be an object {ranks, count}", i+1)
			continue
		}
		c := Card{Count: 1}
		hasRanks := false
		for _, f := range fields {
			switch f.key {
			case "ranks":
				list, ok := d.strings(f.raw)
				if !ok {
					d.fail("early card %d: ranks must be a list of candidates", i+1)
					continue
				}
				c.Ranks, hasRanks = list, true
			case "count":
				if isNull(f.raw) {
					continue
				}
				n, _, msg := count(f.raw)
				if msg == "" && n < 1 {
					msg = "is 0; a card count must be 1 or more"
				}
				if msg != "" {
					d.fail("early card %d: count %s", i+1, msg)
					continue
				}
				c.Count = n
			}
		}
		if !hasRanks {
			d.fail("early card %d has no ranks", i+1)
			continue
		}
		cards = append(cards, c)
	}
	return cards
}
