package rules_test

import (
	"math/big"
	"strings"
	"testing"

	"caucus/internal/rules"
)

// TestViableFirstAgreesWithCalc: the exported viability-at-first rule is the one Calc applies,
// on every group of every valid vector.
func TestViableFirstAgreesWithCalc(t *testing.T) {
	n := 0
	for _, v := range loadVectors(t) {
		res := rules.CalcJSON(v.Input, "")
		if res.Has(rules.C01) || res.Rules == rules.StrawPoll || res.DelegatesToElect == nil {
			continue
		}
		p := *res.Attendees
		if res.Participants != nil {
			p = *res.Participants
		}
		for _, g := range res.Groups {
			n++
			if got := rules.ViableFirst(g.First, p, *res.DelegatesToElect); got != *g.ViableFirst {
				t.Errorf("%s %s: ViableFirst(%d, %d, %d) = %v, Calc says %v", v.Name, g.CandidateID, g.First, p, *res.DelegatesToElect, got, *g.ViableFirst)
			}
			if res.Threshold != nil && p > 0 && rules.MeetsThreshold(g.First, *res.Threshold) != *g.ViableFirst {
				t.Errorf("%s %s: MeetsThreshold(%d, %d) disagrees with Calc", v.Name, g.CandidateID, g.First, *res.Threshold)
			}
		}
	}
	if n < 50 {
		t.Fatalf("only %d groups compared", n)
	}
}

func TestThresholdRule(t *testing.T) {
	for _, c := range []struct {
		p    rules.Profile
		d    int64
		want string
	}{
		{rules.IowaDem2020, 1, "one delegate: every group with a member is viable"},
		{rules.IowaDem2020, 2, "25% of those signed in, rounded up"},
		{rules.IowaDem2020, 3, "one sixth of those signed in, rounded up"},
		{rules.IowaDem2020, 8, "15% of those signed in, rounded up"},
		{rules.NevadaDem2020, 4, "15% of participants (signed in plus valid early cards), rounded up"},
		{rules.StrawPoll, 4, ""},
	} {
		if got := rules.ThresholdRule(c.p, c.d); !strings.HasPrefix(got, c.want) || (c.want == "" && got != "") {
			t.Errorf("ThresholdRule(%s, %d) = %q, want %q", c.p, c.d, got, c.want)
		}
	}
}

func TestQuotientString(t *testing.T) {
	for _, c := range []struct {
		final, p, d int64
		want        string
	}{
		{3, 6, 3, "1.5000"}, {2, 3, 1, "0.6667"}, {35, 210, 8, "1.3333"}, {5, 0, 4, ""},
	} {
		if got := rules.QuotientString(c.final, c.p, c.d); got != c.want {
			t.Errorf("QuotientString(%d, %d, %d) = %q, want %q", c.final, c.p, c.d, got, c.want)
		}
	}
}

// TestDelegatesFromSDE reads county delegates back from published SDEs (R22): Adair's ratio
// 4/51 (DATA20) and the exact half, which rounds up.
func TestDelegatesFromSDE(t *testing.T) {
	rho := big.NewRat(4, 51)
	for _, c := range []struct {
		sde  string
		want int64
	}{
		{"0.0000", 0}, {"0.0784", 1}, {"0.1569", 2}, {"0.2353", 3}, {"0.0392", 0}, {"0.0393", 1},
	} {
		sde, err := rules.ParseDecimal(c.sde)
		if err != nil {
			t.Fatal(err)
		}
		if got := rules.DelegatesFromSDE(sde, rho); got != c.want {
			t.Errorf("DelegatesFromSDE(%s, 4/51) = %d, want %d", c.sde, got, c.want)
		}
	}
	if got := rules.DelegatesFromSDE(big.NewRat(1, 2), big.NewRat(1, 1)); got != 1 {
		t.Errorf("an exact half gives %d, want 1", got)
	}
}
