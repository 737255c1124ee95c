package rules

import "slices"

// group is the working state of one group.
type group struct {
	id                  string
	first, final        int64 // in person
	early               int64 // Nevada: valid cards whose first choice is this group
	cfirst, cfinal      int64 // combined: what the output shows
	viableFirst, viable bool
}

// splitCards keeps the early cards that take part (R30, Nevada only) and counts the void ones.
func splitCards(prof Profile, early []Card) (valid []Card, void int64) {
	if prof != NevadaDem2020 {
		return nil, 0
	}
	for _, card := range early {
		if card.valid() {
			valid = append(valid, card)
		} else {
			void += card.Count
		}
	}
	return valid, void
}

// groups lists every group of the input, sorted by id (§1): the keys of first, final, delegates
// and sde, and the choices of valid early cards.
func groups(in *Input, final Counts, valid []Card) ([]*group, map[string]int) {
	index := map[string]int{}
	var ids []string
	addKey := func(id string) {
		if _, ok := index[id]; !ok {
			index[id] = 0
			ids = append(ids, id)
		}
	}
	for _, m := range []Counts{in.First, final, in.Delegates} {
		for id := range m {
			addKey(id)
		}
	}
	for id := range in.SDE {
		addKey(id)
	}
	for _, card := range valid {
		for _, id := range card.Ranks {
			addKey(id)
		}
	}
	slices.Sort(ids)
	gs := make([]*group, len(ids))
	for i, id := range ids {
		index[id] = i
		gs[i] = &group{id: id, first: in.First[id], final: final[id]}
	}
	for _, card := range valid {
		gs[index[card.Ranks[0]]].early += card.Count
	}
	return gs, index
}

func inPerson(gs []*group, f func(*group) int64) int64 {
	var s int64
	for _, g := range gs {
		s += f(g)
	}
	return s
}
