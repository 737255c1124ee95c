package rules

import (
	"fmt"
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
	for i, r := range tb.recorded {
		if !slices.Equal(distinct(r.Between), set) { // set is sorted: groups are in id order
			continue
		}
		tb.matched[i] = true
		if w := tb.index[r.Winner]; !slices.Contains(winners, w) {
			winners = append(winners, w)
		}
	}
	if int64(len(winners)) > t.n {
		tb.tooMany, tb.tooManyT = true, t
		return nil, false
	}
	return winners, int64(len(winners)) == t.n
}

// report raises C14 for entries that matched no tie, or named too many winners.
func (tb *tiebreaks) report(c *checks, in Input) {
	var ignored []string
	for i, r := range tb.recorded {
		if tb.matched == nil || !tb.matched[i] {
			names := make([]string, 0, len(r.Between))
			for _, id := range distinct(r.Between) {
				names = append(names, in.name(id))
			}
			msg := fmt.Sprintf("a %s between %s was recorded but they were not tied for a delegate", gameName(r.Kind), and(names))
			if !slices.Contains(ignored, msg) {
				ignored = append(ignored, msg)
			}
		}
	}
	if tb.tooMany {
		ignored = append(ignored, fmt.Sprintf("more winners were recorded than the %s that the tie decides", plural(tb.tooManyT.n, "delegate", "delegates")))
	}
	if len(ignored) > 0 {
		c.add(C14, "%s; it was ignored", strings.Join(ignored, "; "))
	}
}

func gameName(kind string) string {
	if kind == "card" {
		return "card draw"
	}
	return "coin toss"
}

// tieMessage explains an open tie to the chair (C13), naming each tied group with its exact
// share of delegates (its final alignment × delegates ÷ participants).
func tieMessage(in Input, prof Profile, gs []*group, p, d int64, t *tie) string {
	names := make([]string, len(t.groups))
	for i, k := range t.groups {
		names[i] = in.name(gs[k].id)
		if !t.plurality {
			names[i] += " (" + trimZeros(formatRat4(big.NewRat(gs[k].cfinal*d, p))) + ")"
		}
	}
	game := "toss a coin"
	if prof == NevadaDem2020 {
		game = "draw cards (high card wins)"
	}
	if len(t.groups) > 2 || t.n > 1 {
		game += " as many times as needed"
	}
	switch {
	case t.plurality:
		return fmt.Sprintf("%s are tied with %s people each for the precinct's only delegate: %s and record the winner",
			and(names), t.claim.RatString(), game)
	case t.gain:
		return fmt.Sprintf("%s are tied for %s: %s and record the winner", and(names), plural(t.n, "more delegate", "more delegates"), game)
	}
	lose := int64(len(t.groups)) - t.n
	return fmt.Sprintf("%s are tied for who gives back a delegate: %d of them %s one; %s and record who keeps theirs",
		and(names), lose, map[bool]string{true: "gives back", false: "give back"}[lose == 1], game)
}

// trimZeros shortens "1.5000" to "1.5" and "2.0000" to "2" for messages.
func trimZeros(s string) string {
	if strings.Contains(s, ".") {
		s = strings.TrimRight(s, "0")
		s = strings.TrimSuffix(s, ".")
	}
	return s
}
