package rules

import (
	"fmt"
	"math/big"
	"slices"
	"strings"
)

// validate finds what makes a directly built (or decoded) Input invalid (C01, R51–R53).
func validate(in *Input) []string {
	var p []string
	fail := func(format string, args ...any) { p = append(p, fmt.Sprintf(format, args...)) }
	prof := in.profile()
	if !prof.Known() {
		fail("rules must be one of iowa-dem-2020, nevada-dem-2020, straw-poll")
	}
	if in.Mode != "" && in.Mode != Live && in.Mode != Bulk {
		fail("mode must be \"live\" or \"bulk\"")
	}
	if in.Attendees < 0 || in.Attendees > MaxCount {
		fail("attendees (people signed in) is %d; it must be a whole number from 0 to %d", in.Attendees, MaxCount)
	}
	switch {
	case prof == StrawPoll:
		if in.HasDelegatesToElect && (in.DelegatesToElect < 0 || in.DelegatesToElect > MaxCount) {
			fail("delegates_to_elect is %d; it must be a whole number from 0 to %d", in.DelegatesToElect, MaxCount)
		}
	case !in.HasDelegatesToElect:
		if !in.Satellite {
			fail("delegates_to_elect (how many delegates this precinct elects) is missing")
		}
	case in.DelegatesToElect < 1 || in.DelegatesToElect > MaxCount:
		fail("delegates_to_elect is %d; a precinct elects from 1 to %d delegates", in.DelegatesToElect, MaxCount)
	}
	if in.First == nil {
		fail("first (the first alignment) is missing")
	}
	if in.Final == nil && prof != StrawPoll {
		fail("final (the final alignment) is missing")
	}
	countRange := func(name string, c Counts) {
		for _, n := range c {
			if n < 0 || n > MaxCount {
				for _, id := range sortedKeys(c) { // name them in a stable order
					if n := c[id]; n < 0 || n > MaxCount {
						fail("the %s %s is %d; counts must be whole numbers from 0 to %d", id, name, n, MaxCount)
					}
				}
				return
			}
		}
	}
	countRange("first alignment", in.First)
	countRange("final alignment", in.Final)
	countRange("delegates", in.Delegates)
	for i, o := range in.Others {
		countRange(fmt.Sprintf("others[%d] first alignment", i+1), o.First)
		countRange(fmt.Sprintf("others[%d] final alignment", i+1), o.Final)
	}
	for i, tb := range in.Tiebreaks {
		if tb.Kind != "coin" && tb.Kind != "card" {
			fail("tiebreak %d: kind must be \"coin\" or \"card\"", i+1)
		}
		if len(distinct(tb.Between)) < 2 {
			fail("tiebreak %d: a game of chance is between at least 2 groups", i+1)
		}
		if !slices.Contains(tb.Between, tb.Winner) {
			fail("tiebreak %d: the winner %q is not one of the tied groups", i+1, tb.Winner)
		}
	}
	for _, id := range sortedKeys(in.SDE) {
		if in.SDE[id] == nil || in.SDE[id].Sign() < 0 {
			fail("the published SDE of %s must be 0 or more", id)
		}
	}
	if in.SDERatio != nil && in.SDERatio.Sign() <= 0 {
		fail("sde_ratio must be more than 0")
	}
	if prof == NevadaDem2020 {
		var total int64
		for i, c := range in.Early {
			if c.Count < 1 || c.Count > MaxCount {
				fail("early card %d: count is %d; it must be from 1 to %d", i+1, c.Count, MaxCount)
			}
			total += c.Count
		}
		if total > maxEarly {
			fail("early cards add up to more than %d", int64(maxEarly))
		}
	}
	return p
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func distinct(ids []string) []string {
	s := slices.Clone(ids)
	slices.Sort(s)
	return slices.Compact(s)
}

// candidateCheck is C02: a group or a recorded tiebreak names an id not in `candidates`.
func candidateCheck(c *checks, in *Input, gs []*group) {
	if in.Candidates == nil {
		return
	}
	known := make(map[string]bool, len(in.Candidates))
	for _, id := range in.Candidates {
		known[id] = true
	}
	var unknown []string
	seen := map[string]bool{}
	note := func(id string) {
		if !known[id] && !seen[id] {
			seen[id] = true
			unknown = append(unknown, "'"+id+"'")
		}
	}
	for _, g := range gs {
		note(g.id)
	}
	for _, tb := range in.Tiebreaks {
		for _, id := range tb.Between {
			note(id)
		}
		note(tb.Winner)
	}
	if len(unknown) == 1 {
		c.add(C02, "%s is not a candidate in this election (did you mean one on the list?)", unknown[0])
	} else if len(unknown) > 1 {
		c.add(C02, "%s are not candidates in this election (did you mean ones on the list?)", and(unknown))
	}
}

// duplicateCheck is C20: the same non-zero numbers as another precinct of the file.
func duplicateCheck(c *checks, in *Input, gs []*group, first int64) {
	var nonzero int
	for _, g := range gs {
		if g.first > 0 {
			nonzero++
		}
	}
	if nonzero < 2 || first < 10 || (in.Duplicates == nil && len(in.Others) == 0) {
		return
	}
	final := in.Final
	if final == nil {
		final = in.First
	}
	sig := Signature(in.First, final)
	var match string
	if in.Duplicates != nil {
		match = in.Duplicates(sig)
	} else {
		for i, o := range in.Others {
			if Signature(o.First, o.Final) == sig {
				match = o.PrecinctID
				if match == "" {
					match = fmt.Sprintf("number %d of others", i+1)
				}
				break
			}
		}
	}
	if match != "" {
		c.add(C20, "first and final numbers are identical to precinct %s; a duplicate entry?", match)
	}
}

// alignmentChecks are C06, C07, C08 and C21 (D ≥ 2, in-person numbers, R55).
func alignmentChecks(c *checks, in *Input, gs []*group, d, need int64) {
	if d < 2 {
		return
	}
	var gained, released int64
	var left, notViable []string
	for _, g := range gs {
		if g.final > g.first {
			gained += g.final - g.first
		}
		if !g.viableFirst && g.first > g.final {
			released += g.first - g.final
		}
		if g.viableFirst && g.final < g.first {
			left = append(left, fmt.Sprintf("%s was viable with %d at first alignment but has %d in the final", in.name(g.id), g.first, g.final))
		}
		if !g.viable && g.final > 0 {
			notViable = append(notViable, fmt.Sprintf("%s has %d in the final alignment but is not viable (needs %d)", in.name(g.id), g.final, need))
		}
	}
	if len(left) > 0 {
		c.add(C06, "%s; viable groups cannot realign — did people leave?", strings.Join(left, "; "))
	}
	if gained > released {
		c.add(C07, "groups gained %d people in realignment but non-viable groups released only %d; members of viable groups cannot move", gained, released)
	}
	if len(notViable) > 0 {
		c.add(C08, "%s; they get no delegates — record them as not realigned", strings.Join(notViable, "; "))
	}
	adjacentShift(c, in, gs)
}

// adjacentShift is C21: a loss on one line of the ballot and the same gain on the next.
func adjacentShift(c *checks, in *Input, gs []*group) {
	byID := make(map[string]*group, len(gs))
	for _, g := range gs {
		byID[g.id] = g
	}
	order := in.Candidates
	if order == nil {
		order = make([]string, len(gs))
		for i, g := range gs {
			order[i] = g.id
		}
	}
	delta := func(id string) (int64, bool) {
		g, ok := byID[id]
		if !ok {
			return 0, false
		}
		return g.final - g.first, g.viableFirst
	}
	for i := 0; i+1 < len(order); i++ {
		x, y := order[i], order[i+1]
		dx, vx := delta(x)
		dy, vy := delta(y)
		if dx == 0 || dx != -dy {
			continue
		}
		if (dx < 0 && vx) || (dy < 0 && vy) {
			loser, winner, n := x, y, -dx
			if dy < 0 {
				loser, winner, n = y, x, dx
			}
			c.add(C21, "%s lost %d and the next line, %s, gained %d — typed on the wrong line?", in.name(loser), n, in.name(winner), n)
			return
		}
	}
}

// worksheetChecks are C09–C12: the chair's worksheet against the math.
func worksheetChecks(c *checks, in *Input, gs []*group, a *allocation, d, nViable, expected int64) {
	if in.Delegates == nil {
		return
	}
	var given, zero []string
	for _, g := range gs {
		n := in.Delegates[g.id]
		if n >= 1 && !g.viable {
			given = append(given, fmt.Sprintf("%s is given %d but is not viable (%d people)", in.name(g.id), n, g.final+g.early))
		}
		if n == 0 && g.viable && d >= 2 && (nViable <= d || in.profile() == NevadaDem2020) {
			zero = append(zero, fmt.Sprintf("%s is viable (%d people) but is given 0 delegates", in.name(g.id), g.cfinal))
		}
	}
	if len(given) > 0 {
		c.add(C09, "%s", strings.Join(given, "; "))
	}
	if len(zero) > 0 {
		c.add(C10, "%s; every viable group gets at least 1", strings.Join(zero, "; "))
	}
	if sum := in.Delegates.Sum(); sum != expected {
		c.add(C11, "the worksheet awards %d delegates but this precinct elects %d", sum, expected)
	}
	differs := false
	for i, g := range gs {
		if in.Delegates[g.id] != a.r[i] {
			differs = true
		}
	}
	if differs && a.open != nil && fitsOpenTie(in.Delegates, gs, a) {
		differs = false
	}
	if differs {
		var computed, worksheet []string
		for i, g := range gs {
			if a.r[i] > 0 || in.Delegates[g.id] > 0 {
				computed = append(computed, fmt.Sprintf("%s %d", in.name(g.id), a.r[i]))
				worksheet = append(worksheet, fmt.Sprintf("%s %d", in.name(g.id), in.Delegates[g.id]))
			}
		}
		c.add(C12, "computed %s; the worksheet says %s", strings.Join(computed, ", "), strings.Join(worksheet, ", "))
	}
}

// fitsOpenTie reports whether the worksheet is one outcome of the open tie: every other group as
// computed, and exactly n of the tied groups one delegate ahead of the less favourable outcome.
func fitsOpenTie(ws Counts, gs []*group, a *allocation) bool {
	tied := map[int]bool{}
	for _, i := range a.open.groups {
		tied[i] = true
	}
	var ahead int64
	for i, g := range gs {
		diff := ws[g.id] - a.r[i]
		switch {
		case !tied[i] && diff != 0:
			return false
		case tied[i] && diff == 1:
			ahead++
		case tied[i] && diff != 0:
			return false
		}
	}
	return ahead == a.open.n
}

// sdeChecks are C17–C19: published SDEs against the final alignment and the math.
func sdeChecks(c *checks, in *Input, out []Group, open bool, d, expected, nViable int64) {
	if in.SDE == nil {
		return
	}
	pub := func(id string) *big.Rat {
		if v, ok := in.SDE[id]; ok {
			return v
		}
		return new(big.Rat)
	}
	var disorder []string
	for _, x := range out {
		for _, y := range out {
			if x.Final > y.Final && pub(x.CandidateID).Cmp(pub(y.CandidateID)) < 0 {
				disorder = append(disorder, fmt.Sprintf("%s (%d people) has SDE %s but %s (%d people) has %s",
					in.name(x.CandidateID), x.Final, formatRat4(pub(x.CandidateID)), in.name(y.CandidateID), y.Final, formatRat4(pub(y.CandidateID))))
			}
		}
	}
	if len(disorder) > 0 {
		c.add(C17, "%s", strings.Join(disorder, "; "))
	}
	if in.SDERatio == nil {
		return
	}
	sum := new(big.Rat)
	var positive int64
	for _, v := range in.SDE {
		sum.Add(sum, v)
		if v.Sign() > 0 {
			positive++
		}
	}
	allot := new(big.Rat)
	if nViable > 0 {
		allot.Mul(new(big.Rat).SetInt64(expected), in.SDERatio)
	}
	diff := new(big.Rat).Sub(sum, allot)
	diff.Abs(diff)
	if diff.Cmp(big.NewRat(5*max(1, positive), 100000)) > 0 {
		c.add(C18, "SDEs add up to %s but this precinct's allotment is %s", formatRat4(sum), formatRat4(allot))
	}
	if open {
		return
	}
	var wrong []string
	for _, g := range out {
		computed, _ := ParseDecimal(*g.SDE)
		if p := pub(g.CandidateID); p.Cmp(computed) != 0 {
			wrong = append(wrong, fmt.Sprintf("%s is %s, computed %s", in.name(g.CandidateID), p.FloatString(4), *g.SDE))
		}
	}
	if len(wrong) > 0 {
		c.add(C19, "published SDE for %s", strings.Join(wrong, "; "))
	}
}
