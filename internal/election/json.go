package election

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"caucus/internal/rules"
)

// jsonReader walks election.json token by token, so that every problem, including an unknown
// or repeated field, is reported with its line.
type jsonReader struct {
	data   []byte
	dec    *json.Decoder
	p      *problems
	off    int64 // offset up to which newlines have been counted
	line   int   // line at off
	failed bool  // a syntax error was reported: stop
}

// next returns the next token and its line.
func (r *jsonReader) next() (json.Token, int, bool) {
	if r.failed {
		return nil, 0, false
	}
	tok, err := r.dec.Token()
	if err != nil {
		r.failed = true
		var se *json.SyntaxError
		switch {
		case err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF) ||
			(errors.As(err, &se) && se.Offset >= int64(len(bytes.TrimRight(r.data, " \t\r\n")))):
			// Go 1.27's decoder reports a file cut short as a syntax error at its end.
			r.p.add(ElectionFile, r.lineAt(int64(len(r.data))), "", "the file ends too early: a closing } or ] is missing")
		case errors.As(err, &se):
			r.p.add(ElectionFile, r.lineAt(se.Offset), "", "this is not valid JSON: %v", se)
		default:
			r.p.add(ElectionFile, r.lineAt(r.dec.InputOffset()), "", "this is not valid JSON: %v", err)
		}
		return nil, 0, false
	}
	return tok, r.lineAt(r.dec.InputOffset()), true
}

func (r *jsonReader) lineAt(off int64) int {
	off = min(max(off, r.off), int64(len(r.data)))
	r.line += bytes.Count(r.data[r.off:off], []byte("\n"))
	r.off = off
	return r.line
}

// skip consumes the rest of a value whose first token was tok.
func (r *jsonReader) skip(tok json.Token) {
	depth := 0
	for {
		if d, ok := tok.(json.Delim); ok {
			switch d {
			case '{', '[':
				depth++
			default:
				depth--
			}
		}
		if depth == 0 {
			return
		}
		var ok bool
		if tok, _, ok = r.next(); !ok {
			return
		}
	}
}

// str reads a string value.
func (r *jsonReader) str(field, example string) (string, int, bool) {
	tok, line, ok := r.next()
	if !ok {
		return "", 0, false
	}
	if s, ok := tok.(string); ok {
		return s, line, true
	}
	r.p.add(ElectionFile, line, field, "must be text in double quotes, like %s", example)
	r.skip(tok)
	return "", 0, false
}

// object reads an object's fields, calling field for each; it reports a repeated field, and
// a required one that is missing, at the line of the opening {.
func (r *jsonReader) object(path, what string, field func(key, path string, line int), required ...string) (int, bool) {
	tok, line, ok := r.next()
	if !ok {
		return 0, false
	}
	if tok != json.Delim('{') {
		r.p.add(ElectionFile, line, path, "must be %s", what)
		r.skip(tok)
		return 0, false
	}
	seen := map[string]bool{}
	for r.dec.More() {
		tok, kline, ok := r.next()
		if !ok {
			return 0, false
		}
		key, _ := tok.(string)
		fpath := key
		if path != "" {
			fpath = path + "." + key
		}
		if seen[key] {
			r.p.add(ElectionFile, kline, fpath, "appears twice; keep only one")
			v, _, ok := r.next()
			if !ok {
				return 0, false
			}
			r.skip(v)
			continue
		}
		seen[key] = true
		field(key, fpath, kline)
		if r.failed {
			return 0, false
		}
	}
	if _, _, ok := r.next(); !ok { // the closing }
		return 0, false
	}
	for _, k := range required {
		if !seen[k] {
			fpath := k
			if path != "" {
				fpath = path + "." + k
			}
			r.p.add(ElectionFile, line, fpath, "is missing; %s needs it", what)
		}
	}
	return line, true
}

func (r *jsonReader) unknown(key, path string, line int, fields string) {
	r.p.add(ElectionFile, line, path, "%q is not a field here (the fields are %s); check its spelling", key, fields)
	if v, _, ok := r.next(); ok {
		r.skip(v)
	}
}

// decodeElection reads election.json into s.election, recording the line of every field read
// in s.electionLines; a field missing from the map was reported here.
func decodeElection(data []byte, p *problems, s *source) {
	r := &jsonReader{data: data, dec: json.NewDecoder(bytes.NewReader(data)), p: p, line: 1}
	r.dec.UseNumber()
	e := &s.election
	const what = `one JSON object like {"id": …, "name": …, "date": …, "rules": …, "candidates": […], "practice": false}`
	_, ok := r.object("", what, func(key, path string, line int) {
		switch key {
		case "id", "name", "date", "rules", "time_zone":
			v, vline, ok := r.str(key, map[string]string{
				"id": `"iowa-2020"`, "name": `"2020 Iowa Democratic Caucuses"`,
				"date": `"2020-02-03"`, "rules": `"iowa-dem-2020"`, "time_zone": `"America/Chicago"`}[key])
			if !ok {
				return
			}
			s.electionLines[key] = vline
			switch key {
			case "id":
				e.ID = v
			case "name":
				e.Name = v
			case "date":
				e.Date = v
			case "rules":
				e.Rules = rules.Profile(v)
			case "time_zone":
				e.TimeZone = v
			}
		case "practice":
			tok, vline, ok := r.next()
			if !ok {
				return
			}
			b, isBool := tok.(bool)
			if !isBool {
				p.add(ElectionFile, vline, key, "must be true or false, without quotes")
				r.skip(tok)
				return
			}
			e.Practice = b
			s.electionLines[key] = vline
		case "candidates":
			r.candidates(s)
		default:
			r.unknown(key, path, line, "id, name, date, rules, candidates, practice and time_zone")
		}
	}, "id", "name", "date", "rules", "candidates")
	if !ok {
		return
	}
	if _, err := r.dec.Token(); err != io.EOF {
		p.add(ElectionFile, r.lineAt(r.dec.InputOffset()), "", "there is more after the closing } of the election; remove it")
	}
}

func (r *jsonReader) candidates(s *source) {
	tok, line, ok := r.next()
	if !ok {
		return
	}
	if tok != json.Delim('[') {
		r.p.add(ElectionFile, line, "candidates", `must be a list like [{"id": "sanders", "name": "Bernie Sanders"}, …]`)
		r.skip(tok)
		return
	}
	s.electionLines["candidates"] = line
	for i := 0; r.dec.More(); i++ {
		if i == maxCandidates {
			r.p.add(ElectionFile, line, "candidates", "there are more than %d candidates; at most %d are allowed", maxCandidates, maxCandidates)
			for r.dec.More() {
				v, _, ok := r.next()
				if !ok {
					return
				}
				r.skip(v)
			}
			break
		}
		path := fmt.Sprintf("candidates[%d]", i)
		var c Candidate
		const what = `a candidate like {"id": "sanders", "name": "Bernie Sanders"}`
		oline, ok := r.object(path, what, func(key, fpath string, kline int) {
			switch key {
			case "id", "name":
				v, vline, ok := r.str(fpath, map[string]string{"id": `"sanders"`, "name": `"Bernie Sanders"`}[key])
				if !ok {
					return
				}
				s.electionLines[fpath] = vline
				if key == "id" {
					c.ID = v
				} else {
					c.Name = v
				}
			default:
				r.unknown(key, fpath, kline, "id and name")
			}
		}, "id", "name")
		if r.failed {
			return
		}
		if ok {
			s.electionLines[path] = oline
		}
		s.election.Candidates = append(s.election.Candidates, c)
	}
	r.next() // the closing ]
}

// marshalElection writes election.json with one candidate per line.
func marshalElection(e Election) []byte {
	var b bytes.Buffer
	b.WriteString("{\n")
	fmt.Fprintf(&b, "  \"id\": %s,\n", jsonString(e.ID))
	fmt.Fprintf(&b, "  \"name\": %s,\n", jsonString(e.Name))
	fmt.Fprintf(&b, "  \"date\": %s,\n", jsonString(e.Date))
	fmt.Fprintf(&b, "  \"rules\": %s,\n", jsonString(string(e.Rules)))
	b.WriteString("  \"candidates\": [\n")
	for i, c := range e.Candidates {
		fmt.Fprintf(&b, "    {\"id\": %s, \"name\": %s}", jsonString(c.ID), jsonString(c.Name))
		if i < len(e.Candidates)-1 {
			b.WriteByte(',')
		}
		b.WriteByte('\n')
	}
	b.WriteString("  ],\n")
	if e.TimeZone != "" {
		fmt.Fprintf(&b, "  \"practice\": %t,\n", e.Practice)
		fmt.Fprintf(&b, "  \"time_zone\": %s\n", jsonString(e.TimeZone))
	} else {
		fmt.Fprintf(&b, "  \"practice\": %t\n", e.Practice)
	}
	b.WriteString("}\n")
	return b.Bytes()
}

func jsonString(s string) string {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // a string always encodes
	return strings.TrimSuffix(b.String(), "\n")
}
