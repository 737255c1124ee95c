package export

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"testing"
)

// FuzzReadHeader: an export file is read back from wherever it was carried, so its header may be
// anything. Any first line (gzip'd as a file is) is read or refused with ErrFormat, without a
// panic; a header read is one of this format, version and schema, with an election.
func FuzzReadHeader(f *testing.F) {
	good, _ := json.Marshal(Header{Format: Format, Version: Version, Schema: SchemaVersion, ElectionID: "e", Tables: tableHeaders()})
	for _, s := range []string{string(good), `{"format":"caucus-export","version":1}`, `{}`, `[]`, `null`, "", `{"tables":[{"name":"entries","columns":null}]}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		var b bytes.Buffer
		zw := gzip.NewWriter(&b)
		zw.Write([]byte(line + "\n"))
		zw.Close()
		h, err := ReadHeader(&b)
		if err != nil {
			if !errors.Is(err, ErrFormat) {
				t.Fatalf("refused without ErrFormat: %v", err)
			}
			return
		}
		if h.Format != Format || h.Version != Version || h.Schema != SchemaVersion || h.ElectionID == "" {
			t.Fatalf("read a header of another format: %+v", h)
		}
	})
}
