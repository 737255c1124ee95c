package rules

// maxEarly bounds the total count of Nevada early cards a directly built Input may carry, so that
// F·D and the claims of alloc.go stay far inside int64 (1e12 × 1e6 < 9.2e18). Decode cannot reach
// it within MaxInputBytes.
const maxEarly = 1_000_000_000_000

// Calc does the caucus math for one precinct (spec §2–§5): it validates the input (C01), works
// out viability, delegates and SDEs, and runs every consistency check. It never fails: findings,
// C01 included, are in the result.
func Calc(in Input) Result {
	return calc(in, nil, true, true)
}

// CalcJSON decodes a precinct input (Decode) and calculates it; invalid input gives the C01
// result of spec §5 (R54).
func CalcJSON(data []byte, override Profile) Result {
	var d decoder
	in := d.input(data, override)
	return calc(in, d.problems, d.attendeesOK, d.delegatesOK)
}

// calc runs the phases in order: validation (validate.go), the groups and the in-person checks
// (groups.go, checks_input.go), delegates to elect and viability (viability.go), the allocation
// with its games of chance (alloc.go, tiebreak.go), SDEs (sde.go), then the checks that read the
// outcome (checks_alignment.go, checks_worksheet.go, checks_sde.go).
func calc(in Input, problems []problem, attendeesOK, delegatesOK bool) Result {
	prof := in.profile()
	problems = append(problems, validate(&in)...)
	if len(problems) > 0 {
		return invalid(in, prof, problems, attendeesOK, delegatesOK)
	}
	mode := in.Mode
	if mode == "" {
		mode = Live
	}
	c := &checks{mode: mode}
	res := Result{Rules: prof, Attendees: ptr(in.Attendees)}

	final := in.Final
	if final == nil { // straw-poll only (validate)
		final = in.First
	}
	valid, void := splitCards(prof, in.Early)
	gs, index := groups(&in, final, valid)
	countChecks(c, &in, gs)

	if prof == StrawPoll {
		if in.HasDelegatesToElect {
			res.DelegatesToElect = ptr(in.DelegatesToElect)
		}
		res.Groups = make([]Group, len(gs))
		for i, g := range gs {
			res.Groups[i] = Group{CandidateID: g.id, First: g.first, Final: g.final, InPersonFirst: g.first, InPersonFinal: g.final}
		}
		res.Checks = c.sorted()
		return res
	}

	d := delegatesToElect(c, &in)
	res.DelegatesToElect = ptr(d)
	if void > 0 {
		c.add(C23, Args{"void": Int(void)})
	}
	p := Participants(in.Attendees, valid)
	if prof == NevadaDem2020 {
		res.Participants = ptr(p)
	}
	t := Threshold(p, d)
	if t >= 0 {
		res.Threshold = ptr(t)
	}
	nViable := viability(gs, p, d)
	exhausted := moveCards(gs, index, valid)
	if prof == NevadaDem2020 {
		res.EarlyExhausted = ptr(exhausted)
	}

	a := allocate(gs, p, d, prof == NevadaDem2020)
	tb := &tiebreaks{recorded: in.Tiebreaks, gs: gs, index: index}
	a.settle = tb.settle
	a.run()
	if a.open != nil {
		ids := make([]string, len(a.open.groups))
		for i, k := range a.open.groups {
			ids[i] = gs[k].id
		}
		res.TiebreaksNeeded = []TieNeeded{{Kind: prof.game(), Between: ids, Delegates: a.open.n}}
		c.add(C13, tieArgs(&in, prof, gs, p, d, a.open))
	}
	tb.report(c, &in)
	res.TiebreaksSettled = tb.settled

	res.Groups = make([]Group, len(gs))
	for i, g := range gs {
		out := Group{CandidateID: g.id, First: g.cfirst, Final: g.cfinal,
			Viable: ptr(g.viable), ViableFirst: ptr(g.viableFirst), Delegates: ptr(a.r[i]),
			InPersonFirst: g.first, InPersonFinal: g.final}
		if in.SDERatio != nil && a.open == nil {
			out.SDE = ptr(SDE(a.r[i], in.SDERatio))
		}
		res.Groups[i] = out
	}

	alignmentChecks(c, &in, gs, d, max(t, 1))
	outcomeChecks(c, &in, gs, a, p, d, nViable)
	expected := awarded(prof, d, nViable)
	worksheetChecks(c, &in, gs, a, d, nViable, expected)
	sdeChecks(c, &in, res.Groups, a.open != nil, expected, nViable)
	res.Checks = c.sorted()
	return res
}

func ptr[T any](v T) *T { return &v }
