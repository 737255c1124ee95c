package export

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"

	"caucus/internal/store"
	"caucus/internal/tlog/c2sp"
)

// checkpointValue is the named value holding the log's latest signed checkpoint.
const checkpointValue = store.LogCheckpointValue

// parseCheckpoint reads the size and root hash of a signed checkpoint note (its text; the
// signatures are the log key's business, which is not in the store).
func parseCheckpoint(signed []byte) (Checkpoint, error) {
	i := bytes.LastIndex(signed, []byte("\n\n"))
	if i < 0 {
		return Checkpoint{}, fmt.Errorf("%w: not a signed note", c2sp.ErrCheckpoint)
	}
	c, _, err := c2sp.ParseCheckpoint(signed[:i+1])
	if err != nil {
		return Checkpoint{}, err
	}
	return Checkpoint{Size: c.N, Root: c.Hash[:]}, nil
}

// maxLine bounds one line of an export: a photo of 2 MiB in base64 is under 3 MiB.
const maxLine = 8 << 20

type lineReader struct{ r *bufio.Reader }

func (l lineReader) next() ([]byte, error) {
	var line []byte
	for {
		part, err := l.r.ReadSlice('\n')
		line = append(line, part...)
		if len(line) > maxLine {
			return nil, fmt.Errorf("%w: a line longer than %d bytes", ErrFormat, maxLine)
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%w: the file ends before its trailer (cut off?)", ErrFormat)
		}
		return line, err
	}
}

// ReadHeader reads an export's header (and nothing more).
func ReadHeader(r io.Reader) (Header, error) {
	zr, err := gzip.NewReader(r)
	if err != nil {
		return Header{}, fmt.Errorf("%w: %w", ErrFormat, err)
	}
	return readHeader(lineReader{bufio.NewReaderSize(zr, 1<<16)})
}

func readHeader(lr lineReader) (Header, error) {
	line, err := lr.next()
	if err != nil {
		return Header{}, err
	}
	var h Header
	if err := json.Unmarshal(line, &h); err != nil {
		return Header{}, fmt.Errorf("%w: header: %w", ErrFormat, err)
	}
	if h.Format != Format {
		return Header{}, fmt.Errorf("%w: format %q", ErrFormat, h.Format)
	}
	if h.Version != Version || h.Schema != SchemaVersion {
		return Header{}, fmt.Errorf("%w: format version %d, schema %d: this caucus reads version %d, schema %d",
			ErrFormat, h.Version, h.Schema, Version, SchemaVersion)
	}
	want := tableHeaders()
	if len(h.Tables) != len(want) {
		return Header{}, fmt.Errorf("%w: %d tables, schema %d has %d", ErrFormat, len(h.Tables), SchemaVersion, len(want))
	}
	for i := range want {
		if h.Tables[i].Name != want[i].Name || !slices.Equal(h.Tables[i].Columns, want[i].Columns) {
			return Header{}, fmt.Errorf("%w: table %d is %s%v, schema %d has %s%v", ErrFormat, i,
				h.Tables[i].Name, h.Tables[i].Columns, SchemaVersion, want[i].Name, want[i].Columns)
		}
	}
	if h.ElectionID == "" {
		return Header{}, fmt.Errorf("%w: no election ID", ErrFormat)
	}
	return h, nil
}

// Read imports an export from r into sink, an empty store, in one transaction, and checks the
// imported election before it commits (see the package doc).
func Read(ctx context.Context, r io.Reader, sink Sink) (Header, error) {
	zr, err := gzip.NewReader(r)
	if err != nil {
		return Header{}, fmt.Errorf("import: %w: %w", ErrFormat, err)
	}
	lr := lineReader{bufio.NewReaderSize(zr, 1<<16)}
	h, err := readHeader(lr)
	if err != nil {
		return Header{}, fmt.Errorf("import: %w", err)
	}
	byName := map[string]int{}
	for i := range Tables {
		byName[Tables[i].Name] = i
	}
	err = sink.ImportTables(ctx, Tables, func(tx Tx) error {
		counts := map[string]int64{}
		last := 0
		// Hotline rounds, held by precinct (in round order) until their copies are written.
		rounds := map[string][]Row{}
		var roundOrder []string
		var tr trailer
		roundsT := &Tables[byName["hotline_rounds"]]
		flushRounds := func(precinct string, before int64) error {
			rs := rounds[precinct]
			for len(rs) > 0 && rs[0][1].(int64) < before {
				if err := tx.Insert(ctx, roundsT, rs[0]); err != nil {
					return err
				}
				rs = rs[1:]
			}
			rounds[precinct] = rs
			return nil
		}
		for {
			line, err := lr.next()
			if err != nil {
				return err
			}
			var rl rowLine
			if err := json.Unmarshal(line, &rl); err != nil {
				return fmt.Errorf("%w: %w", ErrFormat, err)
			}
			if rl.T == "" {
				if err := json.Unmarshal(line, &tr); err != nil || !tr.End {
					return fmt.Errorf("%w: a line that is neither a row nor the trailer", ErrFormat)
				}
				// Read to the end, which also checks the gzip stream's checksum.
				if n, err := io.Copy(io.Discard, lr.r); err != nil {
					return fmt.Errorf("%w: %w", ErrFormat, err)
				} else if n > 0 {
					return fmt.Errorf("%w: %d bytes after the trailer", ErrFormat, n)
				}
				break
			}
			i, ok := byName[rl.T]
			if !ok || i < last {
				return fmt.Errorf("%w: a row of table %q out of place", ErrFormat, rl.T)
			}
			last = i
			t := &Tables[i]
			row, err := decodeRow(t, rl.R)
			if err != nil {
				return err
			}
			counts[t.Name]++
			switch t.Name {
			case "settings":
				if row[1] != h.ElectionID {
					return fmt.Errorf("%w: settings name election %v, the header %s", ErrFormat, row[1], h.ElectionID)
				}
			case "hotline_rounds":
				p := row[0].(string)
				if _, ok := rounds[p]; !ok {
					roundOrder = append(roundOrder, p)
				}
				rounds[p] = append(rounds[p], row)
				continue
			case "hotline_copies":
				if err := flushRounds(row[2].(string), row[3].(int64)); err != nil {
					return err
				}
			}
			if err := tx.Insert(ctx, t, row); err != nil {
				return err
			}
		}
		for _, p := range roundOrder {
			if err := flushRounds(p, 1<<62); err != nil {
				return err
			}
		}
		for _, t := range Tables {
			if counts[t.Name] != tr.Rows[t.Name] {
				return fmt.Errorf("%w: table %s: %d rows, the trailer says %d", ErrFormat, t.Name, counts[t.Name], tr.Rows[t.Name])
			}
		}
		if counts["settings"] != 1 {
			return fmt.Errorf("%w: %d settings rows", ErrFormat, counts["settings"])
		}
		return Check(ctx, tx, h.Checkpoint)
	})
	if err != nil {
		return Header{}, fmt.Errorf("import: %w", err)
	}
	return h, nil
}
