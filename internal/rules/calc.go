package rules

import (
	"fmt"
	"math/big"
	"slices"
)

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

// group is the working state of one group.
type group struct {
	id                  string
	first, final        int64 // in person
	early               int64 // Nevada: valid cards whose first choice is this group
	cfirst, cfinal      int64 // combined: what the output shows
	viableFirst, viable bool
}

func calc(in Input, problems []string, attendeesOK, delegatesOK bool) Result {
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
	var valid []Card
	var void int64
	for _, card := range in.Early {
		if prof != NevadaDem2020 {
			break
		}
		if card.valid() {
			valid = append(valid, card)
		} else {
			void += card.Count
		}
	}
	gs, index := groups(&in, final, valid)
	candidateCheck(c, &in, gs)
	first := inPerson(gs, func(g *group) int64 { return g.first })
	if first > in.Attendees {
		c.add(C03, "first alignment has %d people but only %d signed in", first, in.Attendees)
	}
	if f := inPerson(gs, func(g *group) int64 { return g.final }); f > first {
		c.add(C04, "final alignment has %d people but first alignment had %d", f, first)
	}
	if first < in.Attendees {
		c.add(C05, "%d signed in but only %d are in a first-alignment group (%d not counted)", in.Attendees, first, in.Attendees-first)
	}
	duplicateCheck(c, &in, gs, first)

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

	// D: given, or a satellite's attendance band (R14).
	d := in.DelegatesToElect
	band := SatelliteDelegates(in.Attendees)
	if in.Satellite {
		if !in.HasDelegatesToElect {
			d = band
		} else if d != band {
			c.add(C22, "a satellite with %d attendees elects %d delegates, not %d", in.Attendees, band, d)
		}
	}
	res.DelegatesToElect = ptr(d)
	if void > 0 {
		c.add(C23, "%s list fewer than 3 or more than 5 choices and were set aside", plural(void, "early card", "early cards"))
	}

	// Participants (R30): in-person sign-in plus valid early cards.
	p := in.Attendees
	for _, card := range valid {
		p += card.Count
	}
	if prof == NevadaDem2020 {
		res.Participants = ptr(p)
	}
	t := Threshold(p, d)
	if t >= 0 {
		res.Threshold = ptr(t)
	}
	need := max(t, 1)
	var nViable int64
	for _, g := range gs {
		g.cfirst = g.first + g.early
		g.viableFirst = p > 0 && d > 0 && g.cfirst >= need
		v := g.final + g.early // R31: first choices of early cards count in both alignments
		switch {
		case p == 0 || d == 0:
		case d == 1:
			g.viable = v >= 1 // R05
		default:
			g.viable = v >= need || (g.viableFirst && v >= 1) // R07
		}
		if g.viable {
			nViable++
		}
	}
	// R31: cards whose first choice is not viable move to their highest viable choice.
	var exhausted int64
	for _, g := range gs {
		g.cfinal = g.final
	}
	for _, card := range valid {
		moved := false
		for _, id := range card.Ranks {
			if g := gs[index[id]]; g.viable {
				g.cfinal += card.Count
				moved = true
				break
			}
		}
		if !moved {
			exhausted += card.Count
		}
	}
	if prof == NevadaDem2020 {
		res.EarlyExhausted = ptr(exhausted)
	}

	// Delegates (R05, R08–R12).
	a := &allocation{p: p, d: d, keep: prof == NevadaDem2020,
		f: make([]int64, len(gs)), viable: make([]bool, len(gs)), r: make([]int64, len(gs))}
	for i, g := range gs {
		a.f[i], a.viable[i] = g.cfinal, g.viable
	}
	tb := &tiebreaks{recorded: in.Tiebreaks, gs: gs, index: index}
	a.settle = tb.settle
	a.run()
	if a.open != nil {
		ids := make([]string, len(a.open.groups))
		for i, k := range a.open.groups {
			ids[i] = gs[k].id
		}
		res.TiebreaksNeeded = []TieNeeded{{Kind: prof.game(), Between: ids, Delegates: a.open.n}}
		c.add(C13, "%s", tieMessage(in, prof, gs, p, d, a.open))
	}
	tb.report(c, in)

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

	alignmentChecks(c, &in, gs, d, need)
	if d >= 2 && nViable > d {
		var none []string
		for i, g := range gs {
			if g.viable && a.r[i] == 0 {
				none = append(none, fmt.Sprintf("%s (%s)", in.name(g.id), formatRat4(big.NewRat(g.cfinal*d, p))))
			}
		}
		if len(none) > 0 {
			c.add(C15, "%d groups are viable but only %s; %s %s none", nViable, plural(d, "delegate", "delegates"), and(none), getVerb(len(none)))
		} else {
			c.add(C15, "%d groups are viable but only %s; each viable group keeps one, so %d are awarded", nViable, plural(d, "delegate", "delegates"), nViable)
		}
	}
	if p > 0 && nViable == 0 {
		c.add(C16, "no group is viable; no delegates are awarded")
	}
	expected := d
	if nViable == 0 {
		expected = 0
	} else if prof == NevadaDem2020 && nViable > d && d >= 2 { // R33; D = 1 is R05 (R32)
		expected = nViable
	}
	worksheetChecks(c, &in, gs, a, d, nViable, expected)
	sdeChecks(c, &in, res.Groups, a.open != nil, d, expected, nViable)
	res.Checks = c.sorted()
	return res
}

func getVerb(n int) string {
	if n == 1 {
		return "gets"
	}
	return "get"
}

func ptr[T any](v T) *T { return &v }

func (in *Input) name(id string) string {
	if n, ok := in.Names[id]; ok && n != "" {
		return n
	}
	return id
}

func inPerson(gs []*group, f func(*group) int64) int64 {
	var s int64
	for _, g := range gs {
		s += f(g)
	}
	return s
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

// invalid is the C01 result (§5 C01 row, R54).
func invalid(in Input, prof Profile, problems []string, attendeesOK, delegatesOK bool) Result {
	res := Result{Rules: prof}
	if attendeesOK && in.Attendees >= 0 && in.Attendees <= MaxCount {
		res.Attendees = ptr(in.Attendees)
	}
	okD := in.DelegatesToElect >= 1 || (prof == StrawPoll && in.DelegatesToElect == 0)
	if delegatesOK && in.HasDelegatesToElect && okD && in.DelegatesToElect <= MaxCount {
		res.DelegatesToElect = ptr(in.DelegatesToElect)
	}
	msg := problems[0]
	if len(problems) > 1 {
		msg = fmt.Sprintf("%s (and %d more: %s)", problems[0], len(problems)-1, joinLimited(problems[1:], 5))
	}
	res.Checks = []Check{{ID: C01, Severity: Error, Message: "C01: " + msg}}
	return res
}

func joinLimited(items []string, n int) string {
	if len(items) > n {
		return fmt.Sprintf("%s; …", joinSemi(items[:n]))
	}
	return joinSemi(items)
}

func joinSemi(items []string) string {
	s := ""
	for i, it := range items {
		if i > 0 {
			s += "; "
		}
		s += it
	}
	return s
}
