package rules

import "math/big"

// This file is the checks of published SDEs (bulk checking): C17–C19.

// sdeChecks are C17–C19: published SDEs against the final alignment and the math; expected is
// how many delegates the precinct awards in all.
func sdeChecks(c *checks, in *Input, out []Group, open bool, expected, nViable int64) {
	if in.SDE == nil {
		return
	}
	pub := func(id string) *big.Rat {
		if v, ok := in.SDE[id]; ok {
			return v
		}
		return new(big.Rat)
	}
	var disorder []Args
	for _, x := range out {
		for _, y := range out {
			if x.Final > y.Final && pub(x.CandidateID).Cmp(pub(y.CandidateID)) < 0 {
				disorder = append(disorder, Args{
					"more": in.cand(x.CandidateID), "more_people": Int(x.Final), "more_sde": Text(formatRat4(pub(x.CandidateID))),
					"fewer": in.cand(y.CandidateID), "fewer_people": Int(y.Final), "fewer_sde": Text(formatRat4(pub(y.CandidateID)))})
			}
		}
	}
	if len(disorder) > 0 {
		c.add(C17, Args{"pairs": List(disorder...)})
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
		c.add(C18, Args{"sum": Text(formatRat4(sum)), "allotment": Text(formatRat4(allot))})
	}
	if open {
		return
	}
	var wrong []Args
	for _, g := range out {
		computed, _ := ParseDecimal(*g.SDE)
		if p := pub(g.CandidateID); p.Cmp(computed) != 0 {
			wrong = append(wrong, Args{"candidate": in.cand(g.CandidateID), "published": Text(p.FloatString(4)), "computed": Text(*g.SDE)})
		}
	}
	if len(wrong) > 0 {
		c.add(C19, Args{"groups": List(wrong...)})
	}
}
