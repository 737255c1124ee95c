package export

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"time"
	"unicode/utf8"

	"caucus/internal/store"
)

// Header is the export's first line.
type Header struct {
	Format     string        `json:"format"`
	Version    int           `json:"version"`
	Schema     int           `json:"schema"`
	ElectionID string        `json:"election_id"`
	Engine     string        `json:"engine"`
	ExportedAt time.Time     `json:"exported_at"`
	Checkpoint *Checkpoint   `json:"checkpoint,omitempty"`
	Tables     []tableHeader `json:"tables"`
}

// Checkpoint is the size and root hash of the log's latest signed checkpoint.
type Checkpoint struct {
	Size int64  `json:"size"`
	Root []byte `json:"root"`
}

type tableHeader struct {
	Name    string   `json:"name"`
	Columns []string `json:"columns"`
}

type rowLine struct {
	T string            `json:"t"`
	R []json.RawMessage `json:"r"`
}

type trailer struct {
	End  bool             `json:"end"`
	Rows map[string]int64 `json:"rows"`
}

func tableHeaders() []tableHeader {
	var hs []tableHeader
	for _, t := range Tables {
		h := tableHeader{Name: t.Name}
		for _, c := range t.Columns {
			h.Columns = append(h.Columns, c.Name)
		}
		hs = append(hs, h)
	}
	return hs
}

// Normalize turns the values an engine's driver reads into a Row of t's column types.
func Normalize(t *Table, raw []any) (Row, error) {
	if len(raw) != len(t.Columns) {
		return nil, fmt.Errorf("%s: %d values for %d columns", t.Name, len(raw), len(t.Columns))
	}
	row := make(Row, len(raw))
	for i, c := range t.Columns {
		v := raw[i]
		if v == nil {
			if !c.Null {
				return nil, fmt.Errorf("%s.%s: NULL in a NOT NULL column", t.Name, c.Name)
			}
			continue
		}
		var ok bool
		switch c.Type {
		case Int:
			switch n := v.(type) {
			case int64:
				row[i], ok = n, true
			case int32:
				row[i], ok = int64(n), true
			case int16:
				row[i], ok = int64(n), true
			case int:
				row[i], ok = int64(n), true
			}
		case Text:
			switch s := v.(type) {
			case string:
				row[i], ok = s, true
			case []byte:
				row[i], ok = string(s), true
			}
		case Bytes:
			switch b := v.(type) {
			case []byte:
				row[i], ok = bytes.Clone(b), true
			case string:
				row[i], ok = []byte(b), true
			}
		case Bool:
			switch b := v.(type) {
			case bool:
				row[i], ok = b, true
			case int64:
				row[i], ok = b != 0, b == 0 || b == 1
			}
		}
		if !ok {
			return nil, fmt.Errorf("%s.%s: unexpected value %T", t.Name, c.Name, v)
		}
	}
	return row, nil
}

func encodeRow(t *Table, row Row) ([]json.RawMessage, error) {
	out := make([]json.RawMessage, len(row))
	for i, v := range row {
		var err error
		switch v := v.(type) {
		case nil:
			out[i] = json.RawMessage("null")
		case int64:
			out[i] = strconv.AppendInt(nil, v, 10)
		case bool:
			out[i] = strconv.AppendBool(nil, v)
		case []byte:
			out[i], err = json.Marshal(base64.StdEncoding.EncodeToString(v))
		case string:
			if !utf8.ValidString(v) {
				return nil, fmt.Errorf("%s.%s: text is not UTF-8", t.Name, t.Columns[i].Name)
			}
			out[i], err = json.Marshal(v)
		}
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

func decodeRow(t *Table, raw []json.RawMessage) (Row, error) {
	if len(raw) != len(t.Columns) {
		return nil, fmt.Errorf("%w: %s: %d values for %d columns", ErrFormat, t.Name, len(raw), len(t.Columns))
	}
	row := make(Row, len(raw))
	for i, c := range t.Columns {
		bad := func(err error) error {
			return fmt.Errorf("%w: %s.%s: %w", ErrFormat, t.Name, c.Name, err)
		}
		if string(raw[i]) == "null" {
			if !c.Null {
				return nil, bad(fmt.Errorf("null in a NOT NULL column"))
			}
			continue
		}
		switch c.Type {
		case Int:
			n, err := strconv.ParseInt(string(raw[i]), 10, 64)
			if err != nil {
				return nil, bad(err)
			}
			row[i] = n
		case Bool:
			var b bool
			if err := json.Unmarshal(raw[i], &b); err != nil {
				return nil, bad(err)
			}
			row[i] = b
		case Text, Bytes:
			var s string
			if err := json.Unmarshal(raw[i], &s); err != nil {
				return nil, bad(err)
			}
			if c.Type == Text {
				row[i] = s
				continue
			}
			b, err := base64.StdEncoding.DecodeString(s)
			if err != nil {
				return nil, bad(err)
			}
			row[i] = b
		}
	}
	return row, nil
}

// Write exports the store's election to w (see the package doc for the format), engine naming
// the store's engine in the header.
func Write(ctx context.Context, src Source, engine string, now time.Time, w io.Writer) (Header, error) {
	zw := gzip.NewWriter(w)
	bw := bufio.NewWriterSize(zw, 1<<16)
	h := Header{Format: Format, Version: Version, Schema: SchemaVersion, Engine: engine,
		ExportedAt: now.UTC(), Tables: tableHeaders()}
	counts := map[string]int64{}
	// The header names the election and the checkpoint, which the settings and kv rows give:
	// those two tables come first and are held until the header is written.
	var held []rowLine
	headerDone := false
	writeHeader := func() error {
		if headerDone {
			return nil
		}
		headerDone = true
		if h.ElectionID == "" {
			return fmt.Errorf("the store holds no election (no settings row)")
		}
		if err := json.NewEncoder(bw).Encode(h); err != nil {
			return err
		}
		for _, l := range held {
			if err := encodeLine(ctx, bw, l); err != nil {
				return err
			}
		}
		held = nil
		return nil
	}
	err := src.ExportTables(ctx, Tables, func(t *Table, raw []any) error {
		row, err := Normalize(t, raw)
		if err != nil {
			return err
		}
		counts[t.Name]++
		switch t.Name {
		case "settings":
			h.ElectionID, _ = row[1].(string)
		case "kv":
			if row[0] == store.LogKeyValue {
				return ErrKeyInStore
			}
			if row[0] == checkpointValue {
				c, err := parseCheckpoint(row[1].([]byte))
				if err != nil {
					return fmt.Errorf("the stored checkpoint: %w", err)
				}
				h.Checkpoint = &c
			}
		}
		enc, err := encodeRow(t, row)
		if err != nil {
			return err
		}
		line := rowLine{T: t.Name, R: enc}
		if t.Name == "settings" || t.Name == "kv" {
			if headerDone {
				return fmt.Errorf("table %s read after the others", t.Name)
			}
			held = append(held, line)
			return nil
		}
		if err := writeHeader(); err != nil {
			return err
		}
		return encodeLine(ctx, bw, line)
	})
	if err == nil {
		err = writeHeader()
	}
	if err == nil {
		err = json.NewEncoder(bw).Encode(trailer{End: true, Rows: counts})
	}
	if err == nil {
		err = bw.Flush()
	}
	if err == nil {
		err = zw.Close()
	}
	if err != nil {
		return Header{}, fmt.Errorf("export: %w", err)
	}
	return h, nil
}

func encodeLine(ctx context.Context, w io.Writer, l rowLine) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	b, err := json.Marshal(l)
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}
