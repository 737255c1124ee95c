package election

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
)

// Marshal returns the definition's three files, keyed by file name, in the format [Load]
// reads. The bytes are canonical: loading them and marshalling again gives the same bytes.
func (d *Definition) Marshal() map[string][]byte {
	return map[string][]byte{
		ElectionFile:  marshalElection(d.election),
		CountiesFile:  d.marshalCounties(),
		PrecinctsFile: d.marshalPrecincts(),
	}
}

// Write writes the definition's three files into dir, creating dir if needed and replacing
// files of the same names. A file is written to a temporary name and renamed, so a reader
// never sees half a file.
func (d *Definition) Write(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create definition folder: %w", err)
	}
	files := d.Marshal()
	for _, name := range []string{ElectionFile, CountiesFile, PrecinctsFile} {
		if err := writeFile(filepath.Join(dir, name), files[name]); err != nil {
			return err
		}
	}
	return nil
}

func writeFile(path string, data []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return fmt.Errorf("write %s: %w", filepath.Base(path), err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", filepath.Base(path), err)
	}
	return nil
}

func (d *Definition) marshalCounties() []byte {
	rows := make([][]string, 0, len(d.counties)+1)
	rows = append(rows, countiesHeader)
	for _, c := range d.counties {
		rows = append(rows, []string{c.ID, c.Name, optional(int64(c.CountyDelegates)), optionalSDE(c.StateDelegates)})
	}
	return marshalCSV(rows)
}

func (d *Definition) marshalPrecincts() []byte {
	rows := make([][]string, 0, len(d.precincts)+1)
	rows = append(rows, precinctsHeader)
	for _, p := range d.precincts {
		rows = append(rows, []string{p.ID, p.CountyID, p.Name, optional(int64(p.DelegatesToElect)), strconv.FormatBool(p.Satellite)})
	}
	return marshalCSV(rows)
}

func marshalCSV(rows [][]string) []byte {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	_ = w.WriteAll(rows) // writing to a bytes.Buffer does not fail
	return b.Bytes()
}

// optional writes 0 (not known, or following attendance) as an empty field.
func optional(n int64) string {
	if n == 0 {
		return ""
	}
	return strconv.FormatInt(n, 10)
}

func optionalSDE(s SDE) string {
	if s == 0 {
		return ""
	}
	return s.String()
}
