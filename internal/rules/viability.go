package rules

// This file is who is viable: the delegates a precinct elects (R14), the participants (R30), the
// threshold (R02, R03, R05) and viability at both alignments (R04, R07, R31), then the early
// cards' move to viable choices (R31).

// SatelliteDelegates is the number of delegates a satellite caucus elects for its attendance
// (R14, APP20 calculateSatelliteDelegates).
func SatelliteDelegates(attendees int64) int64 {
	switch {
	case attendees <= 0:
		return 0
	case attendees <= 20:
		return 4
	case attendees <= 40:
		return 5
	case attendees <= 60:
		return 6
	case attendees <= 80:
		return 7
	case attendees <= 100:
		return 8
	}
	return 9
}

// Threshold is the viability threshold for p participants electing d delegates (R02, R03, R05):
// the integer ceiling of p × fraction, never a float. d = 1 gives 1; d = 0 has no threshold and
// returns -1.
func Threshold(p, d int64) int64 {
	var num, den int64
	switch {
	case d <= 0:
		return -1
	case d == 1:
		return 1
	case d == 2:
		num, den = 1, 4
	case d == 3:
		num, den = 1, 6
	default:
		num, den = 15, 100
	}
	return (p*num + den - 1) / den
}

// ThresholdRule says in words how the viability threshold of a precinct electing d delegates is
// found under profile p (R02, R03, R05; Nevada counts early cards as participants, R30), for
// pages that show the worksheet. Straw polls have no threshold: "".
func ThresholdRule(p Profile, d int64) string {
	who := "those signed in"
	switch p {
	case StrawPoll:
		return ""
	case NevadaDem2020:
		who = "participants (signed in plus valid early cards)"
	}
	switch {
	case d <= 0:
		return "no delegates to elect: no group is viable"
	case d == 1:
		return "one delegate: every group with a member is viable, and the largest group after realignment wins it"
	case d == 2:
		return "25% of " + who + ", rounded up"
	case d == 3:
		return "one sixth of " + who + ", rounded up"
	}
	return "15% of " + who + ", rounded up"
}

// ViableFirst reports whether a group of first people (combined, in Nevada) is viable at first
// alignment when p participants elect d delegates (R04): at least the threshold and at least one.
func ViableFirst(first, p, d int64) bool {
	return p > 0 && d > 0 && MeetsThreshold(first, Threshold(p, d))
}

// MeetsThreshold reports whether a group of count people reaches threshold t (R03): at least t
// and at least one person.
func MeetsThreshold(count, t int64) bool { return count >= max(t, 1) }

// Participants is P: the attendees signed in plus the valid early cards (R30; outside Nevada
// there are none, and P is the attendees).
func Participants(attendees int64, valid []Card) int64 {
	p := attendees
	for _, card := range valid {
		p += card.Count
	}
	return p
}

// delegatesToElect is D: given, or a satellite's attendance band (R14), with C22 when a
// satellite's given D differs from its band.
func delegatesToElect(c *checks, in *Input) int64 {
	d := in.DelegatesToElect
	if !in.Satellite {
		return d
	}
	band := SatelliteDelegates(in.Attendees)
	if !in.HasDelegatesToElect {
		return band
	}
	if d != band {
		c.add(C22, Args{"attendees": Int(in.Attendees), "band": Int(band), "delegates": Int(d)})
	}
	return d
}

// viability marks each group viable at first alignment and in the final one, and counts the
// viable groups.
func viability(gs []*group, p, d int64) (nViable int64) {
	t := Threshold(p, d)
	for _, g := range gs {
		g.cfirst = g.first + g.early
		g.viableFirst = ViableFirst(g.cfirst, p, d)
		v := g.final + g.early // R31: first choices of early cards count in both alignments
		switch {
		case p == 0 || d == 0:
		case d == 1:
			g.viable = v >= 1 // R05
		default:
			g.viable = MeetsThreshold(v, t) || (g.viableFirst && v >= 1) // R07
		}
		if g.viable {
			nViable++
		}
	}
	return nViable
}

// moveCards moves each valid card whose first choice is not viable to its highest viable choice
// (R31) and returns how many cards had none (exhausted).
func moveCards(gs []*group, index map[string]int, valid []Card) (exhausted int64) {
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
	return exhausted
}

// awarded is how many delegates the precinct awards in all: D, none when no group is viable, and
// in Nevada one per viable group when there are more of them than D ≥ 2 (R33; D = 1 is R05, R32).
func awarded(prof Profile, d, nViable int64) int64 {
	switch {
	case nViable == 0:
		return 0
	case prof == NevadaDem2020 && nViable > d && d >= 2:
		return nViable
	}
	return d
}
