package rules

// This file is the checks of the chair's worksheet against the math: C09–C12.

// worksheetChecks are C09–C12; expected is how many delegates the precinct awards in all.
func worksheetChecks(c *checks, in *Input, gs []*group, a *allocation, d, nViable, expected int64) {
	if in.Delegates == nil {
		return
	}
	var given, zero []Args
	for _, g := range gs {
		n := in.Delegates[g.id]
		if n >= 1 && !g.viable {
			given = append(given, Args{"candidate": in.cand(g.id), "delegates": Int(n), "people": Int(g.final + g.early)})
		}
		if n == 0 && g.viable && d >= 2 && (nViable <= d || in.profile() == NevadaDem2020) {
			zero = append(zero, Args{"candidate": in.cand(g.id), "people": Int(g.cfinal)})
		}
	}
	if len(given) > 0 {
		c.add(C09, Args{"groups": List(given...), "threshold": Int(max(Threshold(a.p, d), 1))})
	}
	if len(zero) > 0 {
		c.add(C10, Args{"groups": List(zero...)})
	}
	if sum := in.Delegates.Sum(); sum != expected {
		c.add(C11, Args{"sum": Int(sum), "expected": Int(expected)})
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
		var computed, worksheet []Args
		for i, g := range gs {
			if a.r[i] > 0 || in.Delegates[g.id] > 0 {
				computed = append(computed, Args{"candidate": in.cand(g.id), "delegates": Int(a.r[i])})
				worksheet = append(worksheet, Args{"candidate": in.cand(g.id), "delegates": Int(in.Delegates[g.id])})
			}
		}
		c.add(C12, Args{"computed": List(computed...), "worksheet": List(worksheet...)})
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
