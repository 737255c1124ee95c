package export

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func gz(t *testing.T, lines ...string) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	zw.Write([]byte(strings.Join(lines, "\n") + "\n"))
	zw.Close()
	return b.Bytes()
}

func header(t *testing.T, edit func(h map[string]any)) string {
	t.Helper()
	b, _ := json.Marshal(Header{Format: Format, Version: Version, Schema: SchemaVersion, ElectionID: "e", Tables: tableHeaders()})
	var h map[string]any
	json.Unmarshal(b, &h)
	edit(h)
	b, _ = json.Marshal(h)
	return string(b)
}

// TestReadHeader: a file of this format and schema is read; another format, a later version or
// schema, a table list that is not this schema's, and a file that is not gzip are refused.
func TestReadHeader(t *testing.T) {
	good := header(t, func(map[string]any) {})
	if h, err := ReadHeader(bytes.NewReader(gz(t, good))); err != nil || h.ElectionID != "e" {
		t.Fatalf("ReadHeader(good) = %+v, %v", h, err)
	}
	for name, file := range map[string][]byte{
		"format":  gz(t, header(t, func(h map[string]any) { h["format"] = "other" })),
		"version": gz(t, header(t, func(h map[string]any) { h["version"] = Version + 1 })),
		"schema":  gz(t, header(t, func(h map[string]any) { h["schema"] = SchemaVersion + 1 })),
		"tables":  gz(t, header(t, func(h map[string]any) { h["tables"] = h["tables"].([]any)[1:] })),
		"columns": gz(t, header(t, func(h map[string]any) {
			h["tables"].([]any)[2].(map[string]any)["columns"] = []string{"idx"}
		})),
		"election": gz(t, header(t, func(h map[string]any) { h["election_id"] = "" })),
		"plain":    []byte(good + "\n"),
		"empty":    gz(t),
	} {
		if _, err := ReadHeader(bytes.NewReader(file)); !errors.Is(err, ErrFormat) {
			t.Errorf("%s: %v, want ErrFormat", name, err)
		}
	}
}

// TestRowCodec: every type, NULL included, goes through a line and back unchanged, bytes that
// are not UTF-8 among them; text that is not UTF-8 is refused rather than mangled.
func TestRowCodec(t *testing.T) {
	tb := &Table{Name: "t", Columns: []Column{col("i", Int), null("n", Int), col("s", Text), col("b", Bytes),
		col("f", Bool), null("z", Bytes)}}
	row := Row{int64(-1 << 62), nil, "é\u2028\"\\", []byte{0, 0xff, '\n'}, true, nil}
	enc, err := encodeRow(tb, row)
	if err != nil {
		t.Fatal(err)
	}
	line, _ := json.Marshal(rowLine{T: "t", R: enc})
	var back rowLine
	if err := json.Unmarshal(line, &back); err != nil {
		t.Fatal(err)
	}
	got, err := decodeRow(tb, back.R)
	if err != nil {
		t.Fatal(err)
	}
	for i := range row {
		if !equalValue(got[i], row[i]) {
			t.Errorf("column %d: %#v, want %#v", i, got[i], row[i])
		}
	}
	if _, err := encodeRow(tb, Row{int64(1), nil, "\xff", []byte{1}, false, nil}); err == nil {
		t.Error("text that is not UTF-8 was encoded")
	}
	if _, err := decodeRow(tb, []json.RawMessage{[]byte("1"), []byte("null"), []byte("null"), []byte(`"AA=="`),
		[]byte("true"), []byte("null")}); !errors.Is(err, ErrFormat) {
		t.Errorf("null in a NOT NULL column: %v, want ErrFormat", err)
	}
}

func equalValue(a, b any) bool {
	if x, ok := a.([]byte); ok {
		y, ok := b.([]byte)
		return ok && bytes.Equal(x, y)
	}
	return a == b
}
