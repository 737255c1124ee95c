package rules

import (
	"math/big"
	"slices"
	"strings"
)

// tiebreaks matches the recorded games of chance against the tie the allocation meets (R12).
type tiebreaks struct {
	recorded []Tiebreak
	gs       []*group
	index    map[string]int
	matched  []bool // recorded[i]'s between is the tied set of a tie met
	tooMany  bool   // more distinct winners than the tie allows
	tooManyT tie
	settled  []TieSettled // the recorded winners of the tie the allocation met, when they settled it
}

// settle returns the recorded winners of t when the entries whose between equals the tied set
// name exactly t.n distinct winners.
func (tb *tiebreaks) settle(t tie) ([]int, bool) {
	if tb.matched == nil {
		tb.matched = make([]bool, len(tb.recorded))
	}
	set := make([]string, len(t.groups))
	for i, k := range t.groups {
		set[i] = tb.gs[k].id
	}
	var winners []int
	var kinds []string // the game recorded for each winner, first record first
	for i, r := range tb.recorded {
		if !slices.Equal(distinct(r.Between), set) { // set is sorted: groups are in id order
			continue
		}
		tb.matched[i] = true
		if w := tb.index[r.Winner]; !slices.Contains(winners, w) {
			winners, kinds = append(winners, w), append(kinds, r.Kind)
		}
	}
	if int64(len(winners)) > t.n {
		tb.tooMany, tb.tooManyT = true, t
		return nil, false
	}
	if int64(len(winners)) != t.n {
		return winners, false
	}
	for k, w := range winners {
		tb.settled = append(tb.settled, TieSettled{Kind: kinds[k], Between: set, Delegates: t.n, Winner: tb.gs[w].id})
	}
	return winners, true
}

// report raises C14 for entries that matched no tie, or named too many winners.
func (tb *tiebreaks) report(c *checks, in *Input) {
	var ignored []Args
	seen := map[string]bool{}
	for i, r := range tb.recorded {
		if tb.matched != nil && tb.matched[i] {
			continue
		}
		ids := distinct(r.Between)
		key := r.Kind + "\x00" + strings.Join(ids, "\x00")
		if seen[key] {
			continue
		}
		seen[key] = true
		between := make([]Args, len(ids))
		for k, id := range ids {
			between[k] = Args{"candidate": in.cand(id)}
		}
		game := "coin"
		if r.Kind == "card" {
			game = "card"
		}
		ignored = append(ignored, Args{"what": Text("untied"), "game": Text(game), "between": List(between...)})
	}
	if tb.tooMany {
		ignored = append(ignored, Args{"what": Text("too_many"), "delegates": Int(tb.tooManyT.n)})
	}
	if len(ignored) > 0 {
		c.add(C14, Args{"ignored": List(ignored...)})
	}
}

// tieArgs explains an open tie to the chair (C13), naming each tied group with its exact share
// of delegates (its final alignment × delegates ÷ participants).
func tieArgs(in *Input, prof Profile, gs []*group, p, d int64, t *tie) Args {
	tied := make([]Args, len(t.groups))
	for i, k := range t.groups {
		tied[i] = Args{"candidate": in.cand(gs[k].id)}
		if !t.plurality {
			tied[i]["share"] = Text(trimZeros(formatRat4(big.NewRat(gs[k].cfinal*d, p))))
		}
	}
	rounds := "one"
	if len(t.groups) > 2 || t.n > 1 {
		rounds = "many"
	}
	args := Args{"tied": List(tied...), "game": Text(prof.game()), "rounds": Text(rounds), "delegates": Int(t.n)}
	switch {
	case t.plurality:
		args["kind"] = Text("plurality")
		args["people"] = Int(t.claim.Num().Int64())
	case t.gain:
		args["kind"] = Text("gain")
	default:
		args["kind"] = Text("loss")
		args["lose"] = Int(int64(len(t.groups)) - t.n)
	}
	return args
}

// trimZeros shortens "1.5000" to "1.5" and "2.0000" to "2" for messages.
func trimZeros(s string) string {
	if strings.Contains(s, ".") {
		s = strings.TrimRight(s, "0")
		s = strings.TrimSuffix(s, ".")
	}
	return s
}
