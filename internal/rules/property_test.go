package rules_test

import (
	"encoding/json"
	"slices"
	"testing"

	"pgregory.net/rapid"

	"caucus/internal/election/electiontest"
	"caucus/internal/rules"
)

func delegates(res rules.Result) map[string]int64 {
	m := map[string]int64{}
	for _, g := range res.Groups {
		m[g.CandidateID] = *g.Delegates
	}
	return m
}

func viableCount(res rules.Result) int64 {
	var v int64
	for _, g := range res.Groups {
		if *g.Viable {
			v++
		}
	}
	return v
}

// TestPropertyAllocation checks the allocation's invariants over random precincts (issue: sums,
// non-viable groups, minimum one, monotonicity), for Iowa and Nevada.
func TestPropertyAllocation(t *testing.T) {
	for _, prof := range []rules.Profile{rules.IowaDem2020, rules.NevadaDem2020} {
		t.Run(string(prof), func(t *testing.T) {
			rapid.Check(t, func(t *rapid.T) {
				in := electiontest.Precinct(t, electiontest.Options{Profile: prof, MaxGroups: 7, MaxPeople: 400, MaxD: 12,
					Impossible: true, Early: prof == rules.NevadaDem2020})
				res := rules.Calc(in)
				if res.Has(rules.C01) {
					t.Fatalf("generated input is invalid: %v", res.Checks)
				}
				d := *res.DelegatesToElect
				v := viableCount(res)
				var sum int64
				for _, g := range res.Groups {
					sum += *g.Delegates
					if !*g.Viable && *g.Delegates != 0 {
						t.Fatalf("non-viable %s got %d delegates", g.CandidateID, *g.Delegates)
					}
					if *g.Viable && *g.Delegates == 0 && d >= v {
						t.Fatalf("viable %s got no delegate with %d delegates for %d viable groups", g.CandidateID, d, v)
					}
				}
				want := d
				if prof == rules.NevadaDem2020 && v > d && d >= 2 {
					want = v // R33
				}
				if v > 0 && !res.TieOpen() && sum != want {
					t.Fatalf("delegates add up to %d, want %d (%d viable)", sum, want, v)
				}
				if res.TieOpen() {
					if open := res.TiebreaksNeeded[0].Delegates; sum+open != want {
						t.Fatalf("open tie: %d awarded + %d to settle != %d", sum, open, want)
					}
				}
				// More people in the final alignment never means fewer delegates.
				if !res.TieOpen() {
					for _, x := range res.Groups {
						for _, y := range res.Groups {
							if *x.Viable && *y.Viable && x.Final > y.Final && *x.Delegates < *y.Delegates {
								t.Fatalf("%s has %d people and %d delegates, %s has %d people and %d", x.CandidateID, x.Final, *x.Delegates, y.CandidateID, y.Final, *y.Delegates)
							}
						}
					}
				}
			})
		})
	}
}

// rename maps every candidate id of an input through f.
func rename(in rules.Input, f map[string]string) rules.Input {
	counts := func(c rules.Counts) rules.Counts {
		if c == nil {
			return nil
		}
		out := rules.Counts{}
		for k, v := range c {
			out[f[k]] = v
		}
		return out
	}
	out := in
	out.First, out.Final, out.Delegates = counts(in.First), counts(in.Final), counts(in.Delegates)
	out.Candidates = nil
	for _, c := range in.Candidates {
		out.Candidates = append(out.Candidates, f[c])
	}
	out.Tiebreaks = nil
	for _, tb := range in.Tiebreaks {
		nb := rules.Tiebreak{Kind: tb.Kind, Winner: f[tb.Winner]}
		for _, id := range tb.Between {
			nb.Between = append(nb.Between, f[id])
		}
		out.Tiebreaks = append(out.Tiebreaks, nb)
	}
	out.Early = nil
	for _, c := range in.Early {
		nc := rules.Card{Count: c.Count}
		for _, id := range c.Ranks {
			nc.Ranks = append(nc.Ranks, f[id])
		}
		out.Early = append(out.Early, nc)
	}
	return out
}

// TestPropertyRenaming: renaming candidates (which reorders the groups, sorted by id) changes
// nothing but the names. The ballot order (candidates) is renamed with them, so C21 is stable.
func TestPropertyRenaming(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		prof := rapid.SampledFrom(rules.Profiles()).Draw(t, "profile")
		in := electiontest.Precinct(t, electiontest.Options{Profile: prof, MaxGroups: 6, MaxPeople: 200, MaxD: 9,
			Impossible: true, Early: prof == rules.NevadaDem2020})
		ids := electiontest.Candidates(6)
		names := rapid.Permutation([]string{"zed", "amy", "bo", "kay", "lu", "mo"}).Draw(t, "names")
		f, back := map[string]string{}, map[string]string{}
		for i, id := range ids {
			f[id], back[names[i]] = names[i], id
		}
		// Record a random game of chance when one is needed, so settled ties are renamed too.
		if r := rules.Calc(in); r.TieOpen() && rapid.Bool().Draw(t, "settle") {
			tie := r.TiebreaksNeeded[0]
			for _, w := range rapid.Permutation(tie.Between).Draw(t, "winners")[:tie.Delegates] {
				in.Tiebreaks = append(in.Tiebreaks, rules.Tiebreak{Kind: tie.Kind, Between: tie.Between, Winner: w})
			}
		}
		a, b := rules.Calc(in), rules.Calc(rename(in, f))
		ga := map[string]rules.Group{}
		for _, g := range a.Groups {
			g.CandidateID = f[g.CandidateID]
			ga[g.CandidateID] = g
		}
		for _, g := range b.Groups {
			if js(ga[g.CandidateID]) != js(g) {
				t.Fatalf("group %s: %s before renaming, %s after", back[g.CandidateID], js(ga[g.CandidateID]), js(g))
			}
		}
		if len(a.Groups) != len(b.Groups) || ids2(a.Checks) != ids2(b.Checks) || js(a.Threshold) != js(b.Threshold) {
			t.Fatalf("checks %v before renaming, %v after", a.Checks, b.Checks)
		}
		if len(a.TiebreaksNeeded) != len(b.TiebreaksNeeded) {
			t.Fatalf("ties %v before, %v after", a.TiebreaksNeeded, b.TiebreaksNeeded)
		}
		for i := range a.TiebreaksNeeded {
			x, y := a.TiebreaksNeeded[i], b.TiebreaksNeeded[i]
			var renamed []string
			for _, id := range x.Between {
				renamed = append(renamed, f[id])
			}
			slices.Sort(renamed)
			if !slices.Equal(renamed, y.Between) || x.Delegates != y.Delegates {
				t.Fatalf("tie %v before renaming, %v after", x, y)
			}
		}
	})
}

func ids2(cs []rules.Check) string {
	s := ""
	for _, c := range cs {
		s += string(c.ID) + string(c.Severity) + " "
	}
	return s
}

// TestPropertyNevadaWithoutCardsIsIowa: with no early votes the Nevada profile gives the Iowa
// result, except the game of chance (card, not coin) and, with more viable groups than delegates,
// R33 (each viable group keeps one) and the worksheet checks that follow from it.
func TestPropertyNevadaWithoutCardsIsIowa(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		in := electiontest.Precinct(t, electiontest.Options{Profile: rules.IowaDem2020, MaxGroups: 7, MaxPeople: 300, MaxD: 10, Impossible: true})
		if rapid.Bool().Draw(t, "worksheet") {
			in.Delegates = rules.Counts{}
			for _, id := range electiontest.Candidates(7) {
				in.Delegates[id] = rapid.Int64Range(0, 3).Draw(t, "chair")
			}
		}
		iowa := rules.Calc(in)
		in.Rules = rules.NevadaDem2020
		nevada := rules.Calc(in)
		if *nevada.Participants != *iowa.Attendees || *nevada.EarlyExhausted != 0 {
			t.Fatalf("participants %d, exhausted %d", *nevada.Participants, *nevada.EarlyExhausted)
		}
		if viableCount(iowa) > *iowa.DelegatesToElect && *iowa.DelegatesToElect >= 2 {
			return // R33: Nevada keeps every viable group's delegate
		}
		for i := range iowa.TiebreaksNeeded {
			iowa.TiebreaksNeeded[i].Kind = "card"
		}
		nevada.Participants, nevada.EarlyExhausted, nevada.Rules = nil, nil, rules.IowaDem2020
		for i := range nevada.Checks {
			// The game named differs (C13's game argument and so its message); nothing else may.
			if _, ok := nevada.Checks[i].Args["game"]; ok {
				nevada.Checks[i].Args["game"] = iowa.Checks[i].Args["game"]
			}
			nevada.Checks[i].Message = iowa.Checks[i].Message
		}
		if js(iowa) != js(nevada) {
			t.Fatalf("Iowa %s\nNevada %s", js(iowa), js(nevada))
		}
	})
}

func jsonUnmarshal(data []byte, v any) error { return json.Unmarshal(data, v) }

func js(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}
