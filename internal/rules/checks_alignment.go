package rules

import "math/big"

// This file is the checks of realignment and its outcome: C06, C07, C08 and C21 (D ≥ 2, on the
// in-person numbers, R55), C15 (more viable groups than delegates) and C16 (none viable).

// alignmentChecks are C06, C07, C08 and C21; need is the number of people a group needs to be
// viable.
func alignmentChecks(c *checks, in *Input, gs []*group, d, need int64) {
	if d < 2 {
		return
	}
	var gained, released int64
	var left, notViable []Args
	for _, g := range gs {
		if g.final > g.first {
			gained += g.final - g.first
		}
		if !g.viableFirst && g.first > g.final {
			released += g.first - g.final
		}
		if g.viableFirst && g.final < g.first {
			left = append(left, Args{"candidate": in.cand(g.id), "first": Int(g.first), "final": Int(g.final)})
		}
		if !g.viable && g.final > 0 {
			notViable = append(notViable, Args{"candidate": in.cand(g.id), "final": Int(g.final)})
		}
	}
	if len(left) > 0 {
		c.add(C06, Args{"groups": List(left...)})
	}
	if gained > released {
		c.add(C07, Args{"gained": Int(gained), "released": Int(released)})
	}
	if len(notViable) > 0 {
		c.add(C08, Args{"groups": List(notViable...), "threshold": Int(need)})
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
			c.add(C21, Args{"lost": in.cand(loser), "gained": in.cand(winner), "people": Int(n)})
			return
		}
	}
}

// outcomeChecks are C15 (D ≥ 2 and more viable groups than delegates, naming the viable groups
// left with none and their shares) and C16 (people took part and no group is viable).
func outcomeChecks(c *checks, in *Input, gs []*group, a *allocation, p, d, nViable int64) {
	if d >= 2 && nViable > d {
		none := []Args{}
		for i, g := range gs {
			if g.viable && a.r[i] == 0 {
				none = append(none, Args{"candidate": in.cand(g.id), "share": Text(formatRat4(big.NewRat(g.cfinal*d, p)))})
			}
		}
		c.add(C15, Args{"viable": Int(nViable), "delegates": Int(d), "none": List(none...)})
	}
	if p > 0 && nViable == 0 {
		c.add(C16, nil)
	}
}
