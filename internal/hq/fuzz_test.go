package hq_test

import (
	"bytes"
	"maps"
	"strings"
	"testing"

	"caucus/internal/hq"
)

// FuzzReadContacts: contacts.csv comes from a party's staff, in whatever a spreadsheet writes.
// Any input is read or refused without a panic; what is read is contacts of the election's
// precincts with E.164 phones, and writing them back and reading again gives the same contacts
// (one meaning per file); a refusal names where, never the value (a chair's phone stays out of
// logs).
func FuzzReadContacts(f *testing.F) {
	for _, s := range []string{
		"precinct_id,chair_name,phone\np1,Ada Abbott,+15155551000\np2,\"Núñez, José\",+442079460958\n",
		"precinct_id,chair_name,phone\np1,Ada,(515) 555-1000\n",
		"precinct_id,chair_name,phone\r\np1,Ada,+15155551000\r\n",
		"precinct_id,chair_name,phone\np9,Ada,+15155551000\n",
		"\ufeffprecinct_id,chair_name,phone\np1,,+15155551000\n",
		"",
	} {
		f.Add(s)
	}
	def := twoPrecincts(f)
	f.Fuzz(func(t *testing.T, file string) {
		got, err := hq.ReadContacts(strings.NewReader(file), def)
		if err != nil {
			return
		}
		var out []hq.Contact
		for id, c := range got {
			if c.PrecinctID != id || (id != "p1" && id != "p2") {
				t.Fatalf("contact %q under %q: not a precinct of the election", c.PrecinctID, id)
			}
			if !strings.HasPrefix(c.Phone, "+") || len(c.Phone) < 8 || strings.Trim(c.Phone[1:], "0123456789") != "" {
				t.Fatalf("phone %q read as not E.164", c.Phone)
			}
			out = append(out, c)
		}
		var buf bytes.Buffer
		if err := hq.WriteContacts(&buf, out); err != nil {
			t.Fatalf("write back %v: %v", out, err)
		}
		again, err := hq.ReadContacts(&buf, def)
		if err != nil || !maps.Equal(again, got) {
			t.Fatalf("read back %v (%v), first read %v", again, err, got)
		}
	})
}
