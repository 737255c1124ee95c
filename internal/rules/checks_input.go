package rules

// This file is the checks that read the numbers as typed, before any math: C02 (an unknown
// candidate), C03–C05 (the totals against the sign-in) and C20 (a duplicate of another precinct).

// countChecks runs C02, C03, C04, C05 and C20 on the in-person numbers (R55).
func countChecks(c *checks, in *Input, gs []*group) {
	candidateCheck(c, in, gs)
	first := inPerson(gs, func(g *group) int64 { return g.first })
	if first > in.Attendees {
		c.add(C03, Args{"first": Int(first), "attendees": Int(in.Attendees)})
	}
	if f := inPerson(gs, func(g *group) int64 { return g.final }); f > first {
		c.add(C04, Args{"final": Int(f), "first": Int(first)})
	}
	if first < in.Attendees {
		c.add(C05, Args{"attendees": Int(in.Attendees), "first": Int(first), "missing": Int(in.Attendees - first)})
	}
	duplicateCheck(c, in, gs, first)
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
	var unknown []Args
	seen := map[string]bool{}
	note := func(id string) {
		if !known[id] && !seen[id] {
			seen[id] = true
			unknown = append(unknown, Args{"id": Text(id)})
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
	if len(unknown) > 0 {
		c.add(C02, Args{"ids": List(unknown...)})
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
	if in.Duplicates != nil {
		if match := in.Duplicates(sig); match != "" {
			c.add(C20, Args{"precinct": Text(match)})
		}
		return
	}
	for i, o := range in.Others {
		if Signature(o.First, o.Final) != sig {
			continue
		}
		if o.PrecinctID != "" {
			c.add(C20, Args{"precinct": Text(o.PrecinctID)})
		} else {
			c.add(C20, Args{"other": Int(int64(i + 1))})
		}
		return
	}
}
