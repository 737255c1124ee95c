package rules

import (
	"fmt"
	"slices"
	"strconv"
)

// validate finds what makes a directly built (or decoded) Input invalid (C01, R51–R53).
func validate(in *Input) []problem {
	var p []problem
	fail := func(format string, args ...any) { p = append(p, problem{text: fmt.Sprintf(format, args...)}) }
	prof := in.profile()
	if !prof.Known() {
		fail("rules must be one of iowa-dem-2020, nevada-dem-2020, straw-poll")
	}
	if in.Mode != "" && in.Mode != Live && in.Mode != Bulk {
		fail("mode must be \"live\" or \"bulk\"")
	}
	if in.Attendees < 0 || in.Attendees > MaxCount {
		p = append(p, countProblem(fmt.Sprintf("attendees (people signed in) is %d; it must be a whole number from 0 to %d", in.Attendees, MaxCount),
			"attendees", "", strconv.FormatInt(in.Attendees, 10), 0))
	}
	switch {
	case prof == StrawPoll:
		if in.HasDelegatesToElect && (in.DelegatesToElect < 0 || in.DelegatesToElect > MaxCount) {
			fail("delegates_to_elect is %d; it must be a whole number from 0 to %d", in.DelegatesToElect, MaxCount)
		}
	case !in.HasDelegatesToElect:
		if !in.Satellite {
			p = append(p, missingProblem("delegates_to_elect (how many delegates this precinct elects) is missing", "delegates_to_elect"))
		}
	case in.DelegatesToElect < 1 || in.DelegatesToElect > MaxCount:
		p = append(p, countProblem(fmt.Sprintf("delegates_to_elect is %d; a precinct elects from 1 to %d delegates", in.DelegatesToElect, MaxCount),
			"delegates_to_elect", "", strconv.FormatInt(in.DelegatesToElect, 10), 1))
	}
	if in.First == nil {
		p = append(p, missingProblem("first (the first alignment) is missing", "first"))
	}
	if in.Final == nil && prof != StrawPoll {
		p = append(p, missingProblem("final (the final alignment) is missing", "final"))
	}
	// countRange checks a map of counts; field is its input field when a chair types it ("" for
	// others).
	countRange := func(field, name string, c Counts) {
		for _, n := range c {
			if n < 0 || n > MaxCount {
				for _, id := range sortedKeys(c) { // name them in a stable order
					if n := c[id]; n < 0 || n > MaxCount {
						text := fmt.Sprintf("the %s %s is %d; counts must be whole numbers from 0 to %d", id, name, n, MaxCount)
						if field == "" {
							fail("%s", text)
						} else {
							p = append(p, countProblem(text, field, id, strconv.FormatInt(n, 10), 0))
						}
					}
				}
				return
			}
		}
	}
	countRange("first", "first alignment", in.First)
	countRange("final", "final alignment", in.Final)
	countRange("delegates", "delegates", in.Delegates)
	for i, o := range in.Others {
		countRange("", fmt.Sprintf("others[%d] first alignment", i+1), o.First)
		countRange("", fmt.Sprintf("others[%d] final alignment", i+1), o.Final)
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

// invalid is the C01 result (§5 C01 row, R54).
func invalid(in Input, prof Profile, problems []problem, attendeesOK, delegatesOK bool) Result {
	res := Result{Rules: prof}
	if attendeesOK && in.Attendees >= 0 && in.Attendees <= MaxCount {
		res.Attendees = ptr(in.Attendees)
	}
	okD := in.DelegatesToElect >= 1 || (prof == StrawPoll && in.DelegatesToElect == 0)
	if delegatesOK && in.HasDelegatesToElect && okD && in.DelegatesToElect <= MaxCount {
		res.DelegatesToElect = ptr(in.DelegatesToElect)
	}
	res.Checks = []Check{invalidInput(problems)}
	return res
}
