package tally_test

import (
	"testing"

	"pgregory.net/rapid"

	"caucus/internal/election/electiontest"
	"caucus/internal/rules"
	"caucus/internal/tally"
)

// TestLateReadsKeepTheirBytes: a snapshot renders its documents on first read, so a snapshot
// first read after many more entries were applied must still publish the bytes of its own log
// size, the bytes a recount of that prefix publishes.
func TestLateReadsKeepTheirBytes(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		o := electiontest.Options{Profile: rapid.SampledFrom([]rules.Profile{rules.IowaDem2020,
			rules.StrawPoll}).Draw(t, "profile"), MaxGroups: 4, MaxPeople: 60, MaxD: 9, Impossible: true}
		def := electiontest.Definition(t, o)
		entries := electiontest.Entries(t, def, o, 25)
		ta := tally.New(def)
		type kept struct {
			at int
			s  *tally.Snapshot
		}
		snaps := []kept{{0, ta.Snapshot()}}
		for at := 0; at < len(entries); {
			n := rapid.IntRange(1, len(entries)-at).Draw(t, "batch")
			if err := ta.Apply(entries[at : at+n]...); err != nil {
				t.Fatal(err)
			}
			at += n
			snaps = append(snaps, kept{at, ta.Snapshot()})
		}
		for _, k := range snaps {
			mustRecount(t, def, entries[:k.at], k.s)
		}
	})
}
