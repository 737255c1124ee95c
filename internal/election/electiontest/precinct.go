// Package electiontest has pgregory.net/rapid generators of precincts and elections for
// property tests across packages. It is for tests only.
package electiontest

import (
	"fmt"

	"pgregory.net/rapid"

	"caucus/internal/rules"
)

// Options shape the precincts Precinct draws.
type Options struct {
	Profile    rules.Profile
	MaxGroups  int   // candidate ids are "c0", "c1", …
	MaxPeople  int64 // attendees
	MaxD       int64 // delegates to elect (≥ 1)
	Impossible bool  // allow numbers that break the rules (C03, C04, C07)
	Early      bool  // Nevada early cards
}

// Candidates returns the ids of n candidates.
func Candidates(n int) []string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("c%d", i)
	}
	return ids
}

// Precinct draws a precinct: attendees, a first alignment that fits them, and a final alignment
// reached by a realignment that follows R06 (viable groups may lose people who leave; people of
// non-viable groups move, form new groups or leave), or, with Impossible, any numbers.
func Precinct(t *rapid.T, o Options) rules.Input {
	n := rapid.IntRange(1, o.MaxGroups).Draw(t, "groups")
	ids := Candidates(o.MaxGroups)
	d := rapid.Int64Range(1, o.MaxD).Draw(t, "delegates_to_elect")
	a := rapid.Int64Range(0, o.MaxPeople).Draw(t, "attendees")
	in := rules.Input{Rules: o.Profile, Attendees: a, DelegatesToElect: d, HasDelegatesToElect: true,
		First: rules.Counts{}, Final: rules.Counts{}, Candidates: ids}
	if o.Impossible && rapid.Bool().Draw(t, "impossible") {
		for i := 0; i < n; i++ {
			in.First[ids[i]] = rapid.Int64Range(0, o.MaxPeople).Draw(t, "first")
			in.Final[ids[i]] = rapid.Int64Range(0, o.MaxPeople).Draw(t, "final")
		}
		return in
	}
	// First alignment: split up to a people among n groups.
	left := a - rapid.Int64Range(0, a/10).Draw(t, "undercount")
	for i := 0; i < n && left > 0; i++ {
		k := left
		if i < n-1 {
			k = rapid.Int64Range(0, left).Draw(t, "first")
		}
		in.First[ids[i]] = k
		left -= k
	}
	// Realignment: people of small groups move or leave; a few of the others leave.
	t15 := rules.Threshold(a, d)
	var free int64
	for _, id := range ids[:n] {
		f := in.First[id]
		if f >= t15 && f > 0 && d > 1 {
			leave := rapid.Int64Range(0, f/5).Draw(t, "leave")
			in.Final[id] = f - leave
			continue
		}
		stay := rapid.Int64Range(0, f).Draw(t, "stay")
		in.Final[id] = stay
		free += f - stay
	}
	for free > 0 {
		id := ids[rapid.IntRange(0, o.MaxGroups-1).Draw(t, "join")]
		k := rapid.Int64Range(0, free).Draw(t, "joiners")
		if k == 0 {
			break // the rest do not realign
		}
		in.Final[id] += k
		free -= k
	}
	if o.Early {
		cards := rapid.IntRange(0, 4).Draw(t, "cards")
		for i := 0; i < cards; i++ {
			ranks := rapid.SliceOfN(rapid.SampledFrom(ids), 1, 6).Draw(t, "ranks")
			in.Early = append(in.Early, rules.Card{Ranks: ranks, Count: rapid.Int64Range(1, o.MaxPeople/4+1).Draw(t, "count")})
		}
	}
	return in
}
