package audit_test

import (
	"encoding/hex"
	"errors"
	"math/big"
	"strings"
	"testing"

	"caucus/internal/audit"
	"caucus/internal/resultscsv"
	"caucus/internal/rules"
)

func rat(s string) *big.Rat {
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		panic(s)
	}
	return r
}

func tally(kv ...any) audit.Tally {
	t := audit.Tally{}
	for i := 0; i < len(kv); i += 2 {
		t[kv[i].(string)] = big.NewRat(int64(kv[i+1].(int)), 1)
	}
	return t
}

// threePrecincts is the worked example of the tests below, each precinct of attendance 100:
//
//	      a   b   c
//	p1   60  40   0
//	p2   30  50  20
//	p3   50  30  20
//	sum 140 120  40
//
// The winner is a; V_ab = 140 − 120 = 20, V_ac = 140 − 40 = 100; the runner-up is b.
// u_p = max over l of (v_ap − v_lp + 100) / V_al:
//
//	p1: max((60−40+100)/20, (60−0+100)/100)  = max(6, 1.6) = 6
//	p2: max((30−50+100)/20, (30−20+100)/100) = max(4, 1.1) = 4
//	p3: max((50−30+100)/20, (50−20+100)/100) = max(6, 1.3) = 6
//
// U = 16.
func threePrecincts(t *testing.T) *audit.Contest {
	t.Helper()
	c, err := audit.NewContest(audit.First, nil, []audit.Batch{
		{ID: "p3", Reported: tally("a", 50, "b", 30, "c", 20), Bound: big.NewRat(100, 1)},
		{ID: "p1", Reported: tally("a", 60, "b", 40, "c", 0), Bound: big.NewRat(100, 1)},
		{ID: "p2", Reported: tally("a", 30, "b", 50, "c", 20), Bound: big.NewRat(100, 1)},
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestWorkedExampleBounds(t *testing.T) {
	c := threePrecincts(t)
	if c.Winner != "a" || c.RunnerUp != "b" || c.Tie {
		t.Fatalf("winner %s, runner-up %s, tie %v; want a, b, false", c.Winner, c.RunnerUp, c.Tie)
	}
	if c.Margins["b"].Cmp(rat("20")) != 0 || c.Margins["c"].Cmp(rat("100")) != 0 {
		t.Errorf("margins %v %v, want 20 and 100", c.Margins["b"], c.Margins["c"])
	}
	for i, want := range []string{"6", "4", "6"} { // p1, p2, p3: sorted by id
		if c.Batches[i].ID != []string{"p1", "p2", "p3"}[i] {
			t.Fatalf("batch %d is %s", i, c.Batches[i].ID)
		}
		if got := c.Bound(i); got.Cmp(rat(want)) != 0 {
			t.Errorf("u(%s) = %v, want %s", c.Batches[i].ID, got, want)
		}
	}
	if c.U.Cmp(rat("16")) != 0 {
		t.Errorf("U = %v, want 16", c.U)
	}
}

// TestWorkedExampleOverstatement: hand counts of the example.
//
//	p1 counted a 55, b 45, c 0:
//	  vs b: ((60−40) − (55−45)) / 20 = 10/20 = 1/2;  vs c: ((60−0) − (55−0)) / 100 = 1/20
//	  e = 1/2; factor (1 − 1/16) / (1 − (1/2)/6) = (15/16) / (11/12) = 180/176 = 45/44
//	p2 counted a 35, b 45, c 20:
//	  vs b: ((30−50) − (35−45)) / 20 = −10/20 = −1/2;  vs c: ((30−20) − (35−20)) / 100 = −1/20
//	  e = −1/20, an understatement, counted as 0: factor 15/16
//	p3 counted a 0, b 100, c 0:
//	  vs b: ((50−30) − (0−100)) / 20 = 120/20 = 6 = u: the factor is infinite
func TestWorkedExampleOverstatement(t *testing.T) {
	c := threePrecincts(t)
	e1 := c.Overstatement(0, tally("a", 55, "b", 45, "c", 0))
	if e1.Cmp(rat("1/2")) != 0 {
		t.Errorf("e(p1) = %v, want 1/2", e1)
	}
	f1, ok := c.Factor(0, e1)
	if !ok || f1.Cmp(rat("45/44")) != 0 {
		t.Errorf("factor(p1) = %v %v, want 45/44", f1, ok)
	}
	e2 := c.Overstatement(1, tally("a", 35, "b", 45, "c", 20))
	if e2.Cmp(rat("-1/20")) != 0 {
		t.Errorf("e(p2) = %v, want -1/20", e2)
	}
	f2, ok := c.Factor(1, e2)
	if !ok || f2.Cmp(rat("15/16")) != 0 {
		t.Errorf("factor(p2) = %v %v, want 15/16 (understatement counted as 0)", f2, ok)
	}
	e3 := c.Overstatement(2, tally("a", 0, "b", 100, "c", 0))
	if e3.Cmp(rat("6")) != 0 {
		t.Errorf("e(p3) = %v, want 6", e3)
	}
	if _, ok := c.Factor(2, e3); ok {
		t.Error("factor(p3) is finite; e = u must make it infinite")
	}

	// The p-value after p1 then p2: 45/44 · 15/16 = 675/704 ≈ 0.9588.
	r := c.NewRisk().After(c, 0, e1).After(c, 1, e2)
	if r.Rat().Cmp(rat("675/704")) != 0 || r.Rat().Cmp(new(big.Rat).Mul(f1, f2)) != 0 {
		t.Errorf("risk %v, want 675/704", r.Rat())
	}
	if r.AtMost(rat("675/705")) || !r.AtMost(rat("675/704")) {
		t.Error("AtMost is not exact at the boundary")
	}
	if inf := r.After(c, 2, e3); !inf.Infinite || inf.AtMost(rat("1")) {
		t.Error("an infinite factor must make the risk infinite and never at most α")
	}
}

// TestExpectedSample: (15/16)^n ≤ 0.05 first holds at n = 47: ln 0.05 / ln(15/16) =
// −2.995732 / −0.064539 = 46.42; (15/16)^46 = 0.0514 > 0.05 and (15/16)^47 = 0.0481.
func TestExpectedSample(t *testing.T) {
	c := threePrecincts(t)
	alpha := rat("1/20")
	m, within, err := c.DrawsNeeded(c.NewRisk(), alpha, 1000)
	if err != nil || !within || m != 47 {
		t.Fatalf("DrawsNeeded = %d %v %v, want 47 true", m, within, err)
	}
	// Exactly: 20 · 15^47 ≤ 16^47 and 20 · 15^46 > 16^46.
	pow := func(b, e int64) *big.Int { return new(big.Int).Exp(big.NewInt(b), big.NewInt(e), nil) }
	if new(big.Int).Mul(big.NewInt(20), pow(15, 47)).Cmp(pow(16, 47)) > 0 ||
		new(big.Int).Mul(big.NewInt(20), pow(15, 46)).Cmp(pow(16, 46)) <= 0 {
		t.Fatal("the hand computation is wrong")
	}
	// A limit below 47 is not enough, decided exactly.
	if m, within, _ := c.DrawsNeeded(c.NewRisk(), alpha, 46); within || m < 47 {
		t.Errorf("with limit 46: %d %v, want not within and an estimate ≥ 47", m, within)
	}
	// From a risk of 675/704, the draws still needed: (675/704)(15/16)^m ≤ 1/20 first at m = 46
	// (46.42 − ln(704/675)/0.0645 = 46.42 − 0.65 = 45.77).
	r := c.NewRisk().After(c, 0, rat("1/2")).After(c, 1, rat("0"))
	if m, within, _ := c.DrawsNeeded(r, alpha, 1000); !within || m != 46 {
		t.Errorf("from 675/704: %d %v, want 46", m, within)
	}
	// With only 3 precincts, a sample of 47 draws is no better than a full hand count.
	pl := c.Plan(alpha)
	if !pl.FullHandCount || pl.ExpectedSample != 47 || !strings.Contains(pl.Reason, "not smaller than the number of precincts") {
		t.Errorf("plan %+v: want a full hand count, expected sample 47", pl)
	}
}

func TestInvalidContests(t *testing.T) {
	if _, err := audit.NewContest(audit.First, nil, nil); !errors.Is(err, audit.ErrNoBatches) {
		t.Errorf("no batches: %v", err)
	}
	if _, err := audit.NewContest(audit.First, nil, []audit.Batch{{ID: "p", Reported: tally("a", 3), Bound: big.NewRat(3, 1)}}); !errors.Is(err, audit.ErrNoLoser) {
		t.Errorf("one candidate: %v", err)
	}
	two := []audit.Batch{{ID: "p", Reported: tally("a", 3), Bound: big.NewRat(3, 1)}, {ID: "p", Reported: tally("b", 1), Bound: big.NewRat(1, 1)}}
	if _, err := audit.NewContest(audit.First, nil, two); !errors.Is(err, audit.ErrDuplicateID) {
		t.Errorf("a precinct twice: %v", err)
	}
	// q: b leads a by 5 with a bound of 2: u = (−5 + 2)/V < 0.
	small := []audit.Batch{{ID: "p", Reported: tally("a", 20), Bound: big.NewRat(20, 1)}, {ID: "q", Reported: tally("b", 5), Bound: big.NewRat(2, 1)}}
	if _, err := audit.NewContest(audit.First, nil, small); !errors.Is(err, audit.ErrBoundTooSmall) {
		t.Errorf("a bound below a loser's lead: %v", err)
	}
}

func TestTie(t *testing.T) {
	c, err := audit.NewContest(audit.Final, []string{"x"}, []audit.Batch{
		{ID: "p1", Reported: tally("a", 10, "b", 5), Bound: big.NewRat(15, 1)},
		{ID: "p2", Reported: tally("a", 5, "b", 10), Bound: big.NewRat(15, 1)},
	})
	if err != nil {
		t.Fatal(err)
	}
	if !c.Tie || c.Margin().Sign() != 0 {
		t.Fatalf("tie %v margin %v", c.Tie, c.Margin())
	}
	pl := c.Plan(rat("1/20"))
	if !pl.FullHandCount || !strings.Contains(pl.Reason, "tie") {
		t.Errorf("plan %+v: want a full hand count for a tie", pl)
	}
	if _, err := c.Draw("12345678901234567890", 1, 3); !errors.Is(err, audit.ErrTie) {
		t.Errorf("Draw on a tie: %v, want ErrTie", err)
	}
	if p := c.Start(rat("1/20")); p.Status != audit.FullHandCount {
		t.Errorf("a tie's audit starts as %s", p.Status)
	}
}

// TestTicketHash: the hashes computed independently, by
// printf '%s' "12345678901234567890,1" | sha256sum.
func TestTicketHash(t *testing.T) {
	for draw, want := range map[int64]string{
		1: "4da594a8ab6064d666eab2bdf20cb4480e819e0c3102ca353de57caae1d11fd1",
		2: "ae230ec16bee77f77c7378f4eb5d265d931665e29e8bbee7e733f58d3815d338",
	} {
		h := audit.TicketHash("12345678901234567890", draw)
		if got := hex.EncodeToString(h[:]); got != want {
			t.Errorf("draw %d: %s, want %s", draw, got, want)
		}
	}
}

// TestPick: with cumulative bounds 6, 10, 16 (p1, p2, p3), x = h·16/2²⁵⁶ selects p1 on [0, 6),
// p2 on [6, 10), p3 on [10, 16).
func TestPick(t *testing.T) {
	c := threePrecincts(t)
	at := func(num, den int64) [32]byte { // the hash h = 2²⁵⁶ · num/den, so x = 16 · num/den
		h := new(big.Int).Lsh(big.NewInt(num), 256)
		h.Quo(h, big.NewInt(den))
		var b [32]byte
		h.FillBytes(b[:])
		return b
	}
	var top [32]byte
	for i := range top {
		top[i] = 0xff
	}
	for _, tc := range []struct {
		h    [32]byte
		want string
	}{
		{[32]byte{}, "p1"}, // x = 0
		{at(5, 16), "p1"},  // x = 5
		{at(6, 16), "p2"},  // x = 6 exactly: a bound belongs to the next precinct
		{at(1, 2), "p2"},   // x = 8
		{at(10, 16), "p3"}, // x = 10
		{top, "p3"},        // x just under 16
	} {
		if got := c.Batches[c.Pick(tc.h)].ID; got != tc.want {
			t.Errorf("hash %x…: %s, want %s", tc.h[:4], got, tc.want)
		}
	}
	// x = 6 − 16/2²⁵⁶ (h = 6·2²⁵²−1) is still p1.
	h := new(big.Int).Lsh(big.NewInt(6), 252)
	h.Sub(h, big.NewInt(1))
	var b [32]byte
	h.FillBytes(b[:])
	if got := c.Batches[c.Pick(b)].ID; got != "p1" {
		t.Errorf("just under 6: %s, want p1", got)
	}
}

// TestDraw: the first ten draws of seed 12345678901234567890 on the example, computed
// independently (Python: x = int(sha256(b"12345678901234567890,%d").hexdigest(), 16) · 16 // 2²⁵⁶
// against the bounds 6, 10, 16): x = 4, 10, 9, 9, 14, 6, 4, 0, 6, 14.
func TestDraw(t *testing.T) {
	c := threePrecincts(t)
	want := []string{"p1", "p3", "p2", "p2", "p3", "p2", "p1", "p1", "p2", "p3"}
	tickets, err := c.Draw("12345678901234567890", 1, 10)
	if err != nil {
		t.Fatal(err)
	}
	for i, tk := range tickets {
		if tk.Draw != int64(i+1) || tk.PrecinctID != want[i] {
			t.Errorf("ticket %d: draw %d precinct %s, want %d %s", i, tk.Draw, tk.PrecinctID, i+1, want[i])
		}
	}
	again, _ := c.Draw("12345678901234567890", 6, 10)
	for i, tk := range again {
		if tk != tickets[5+i] {
			t.Errorf("draw %d redrawn differs: %+v vs %+v", tk.Draw, tk, tickets[5+i])
		}
	}
	for _, bad := range []string{"1234567890123456789", "1234567890123456789a", " 12345678901234567890", "-12345678901234567890"} {
		if _, err := c.Draw(bad, 1, 1); !errors.Is(err, audit.ErrSeed) {
			t.Errorf("seed %q: %v, want ErrSeed", bad, err)
		}
	}
}

// TestProgress runs the example to its end: with no overstatement each draw multiplies the risk
// by 15/16; the audit needs 47 draws, more than the 3 precincts, so it goes to a full hand count
// at once (TestManyPrecincts runs the same bounds over 300 precincts to the end).
func TestProgress(t *testing.T) {
	c := threePrecincts(t)
	p := c.Start(rat("1/20"))
	if m := p.NextRound(); m != 0 || p.Status != audit.FullHandCount {
		t.Errorf("round 1: %d draws, status %s; want a full hand count", m, p.Status)
	}
	if err := p.Add(0, rat("0")); !errors.Is(err, audit.ErrOver) {
		t.Errorf("Add after the end: %v", err)
	}
}

// TestManyPrecincts: 100 copies of the three precincts: totals and margins ×100, so
// V_ab = 2000, V_ac = 10000, u = (20+100)/2000 = 3/50 for p1 copies, 4/100 for p2, 3/50 for p3;
// U = 100 · 16/100 = 16 again, and the expected sample 47 < 300 precincts.
func TestManyPrecincts(t *testing.T) {
	var bs []audit.Batch
	for i := 0; i < 100; i++ {
		for j, v := range []audit.Tally{tally("a", 60, "b", 40, "c", 0), tally("a", 30, "b", 50, "c", 20), tally("a", 50, "b", 30, "c", 20)} {
			bs = append(bs, audit.Batch{ID: string(rune('a'+j)) + strings.Repeat("0", 3-len(itoa(i))) + itoa(i), Reported: v, Bound: big.NewRat(100, 1)})
		}
	}
	c, err := audit.NewContest(audit.First, nil, bs)
	if err != nil {
		t.Fatal(err)
	}
	if c.U.Cmp(rat("16")) != 0 || c.Margin().Cmp(rat("2000")) != 0 {
		t.Fatalf("U %v margin %v, want 16 and 2000", c.U, c.Margin())
	}
	alpha := rat("1/20")
	pl := c.Plan(alpha)
	if pl.FullHandCount || pl.ExpectedSample != 47 {
		t.Fatalf("plan %+v, want 47 draws", pl)
	}
	// No overstatement: the audit stops after exactly the planned 47 draws, risk (15/16)^47.
	p := c.Start(alpha)
	seed := "31415926535897932384"
	next := int64(1)
	for m := p.NextRound(); m > 0; m = p.NextRound() {
		tickets, err := c.Draw(seed, next, next+m-1)
		if err != nil {
			t.Fatal(err)
		}
		next += m
		for _, tk := range tickets {
			if err := p.Add(tk.Index, c.Overstatement(tk.Index, c.Batches[tk.Index].Reported)); err != nil {
				t.Fatal(err)
			}
		}
	}
	want := new(big.Rat).SetFrac(new(big.Int).Exp(big.NewInt(15), big.NewInt(47), nil), new(big.Int).Exp(big.NewInt(16), big.NewInt(47), nil))
	if p.Status != audit.Confirmed || len(p.Draws) != 47 || p.Risk.Rat().Cmp(want) != 0 {
		t.Errorf("status %s after %d draws, risk %s; want confirmed after 47, (15/16)^47", p.Status, len(p.Draws), p.Risk)
	}
}

func itoa(i int) string { return big.NewInt(int64(i)).String() }

func TestParseRiskLimit(t *testing.T) {
	for in, want := range map[string]string{"5": "1/20", "2.5": "1/40", "10": "1/10"} {
		got, err := audit.ParseRiskLimit(in)
		if err != nil || got.Cmp(rat(want)) != 0 {
			t.Errorf("%s: %v %v, want %s", in, got, err, want)
		}
	}
	for _, bad := range []string{"0", "100", "-5", "abc", "", "1e999999", "5/2", "+5", "5.", ".5", " 5"} {
		if _, err := audit.ParseRiskLimit(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// TestPublishedSDE: the SDE contest of a published file. Two precincts of a county of ratio 1/7
// (7 county delegates, 1 state delegate), each electing 2 delegates (SDE of both: 2/7 = 0.2857):
//
//	q1: first x 6, y 4; final x 6, y 4 → x 1, y 1 → SDE 0.1429 each
//	q2: first x 9, y 1; final x 9, y 1 → y not viable (1 < 25% of 10) → x 2 → 0.2857
//
// Totals: x 0.4286, y 0.1429; margin 0.2857. b = max(Σ published, SDE(2, 1/7) = 0.2857) =
// 0.2858 in q1 (0.1429 + 0.1429, rounding) and 0.2857 in q2.
// u(q1) = (0 + 0.2858)/0.2857 = 2858/2857, u(q2) = (0.2857 + 0.2857)/0.2857 = 2.
func TestPublishedSDE(t *testing.T) {
	csv := strings.Join(append([]string{strings.Join(resultscsv.Header, ",")},
		"c,C,q1,Q1,2,false,x,X,6,6,0.1429",
		"c,C,q1,Q1,2,false,y,Y,4,4,0.1429",
		"c,C,q2,Q2,2,false,x,X,9,9,0.2857",
		"c,C,q2,Q2,2,false,y,Y,1,1,0",
	), "\n") + "\n"
	ps, err := resultscsv.Read(strings.NewReader(csv))
	if err != nil {
		t.Fatal(err)
	}
	e, err := audit.FromPublished(ps, func(string) *big.Rat { return big.NewRat(1, 7) }, rules.DefaultProfile)
	if err != nil {
		t.Fatal(err)
	}
	c := e.Contest(audit.SDE)
	if c.Winner != "x" || c.Margin().Cmp(rat("0.2857")) != 0 {
		t.Fatalf("winner %s margin %v", c.Winner, c.Margin().FloatString(4))
	}
	if c.Bound(0).Cmp(rat("2858/2857")) != 0 || c.Bound(1).Cmp(rat("2")) != 0 {
		t.Errorf("u = %v, %v; want 2858/2857 and 2", c.Bound(0), c.Bound(1))
	}
	// People: first alignment x 15, y 5, margin 10; b = 10 each;
	// u(q1) = (2 + 10)/10 = 6/5, u(q2) = (8 + 10)/10 = 9/5, U = 3.
	f := e.Contest(audit.First)
	if f.U.Cmp(rat("3")) != 0 || f.Margin().Cmp(rat("10")) != 0 {
		t.Errorf("first: U %v margin %v, want 3 and 10", f.U, f.Margin())
	}

	// Hand count of q1 finds x 5, y 5: 2 delegates, 1 each, SDE 0.1429 each as reported: e = 0
	// for the SDEs; the first alignment is overstated by ((6−4) − (5−5))/10 = 1/5.
	out, err := e.HandCount("q1", rules.Counts{"x": 5, "y": 5}, rules.Counts{"x": 5, "y": 5})
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Overstatement(0, out[audit.SDE]...); got.Sign() != 0 {
		t.Errorf("SDE e(q1) = %v, want 0", got)
	}
	if got := f.Overstatement(0, out[audit.First]...); got.Cmp(rat("1/5")) != 0 {
		t.Errorf("first e(q1) = %v, want 1/5", got)
	}
	// Hand count of q2 finds x 7, y 3: y viable (3 ≥ 25% of 10 = 3): q = 1.4 and 0.6, 1 each:
	// x 0.1429, y 0.1429; e = ((0.2857 − 0) − (0.1429 − 0.1429)) / 0.2857 = 1.
	out, err = e.HandCount("q2", rules.Counts{"x": 7, "y": 3}, rules.Counts{"x": 7, "y": 3})
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Overstatement(1, out[audit.SDE]...); got.Cmp(rat("1")) != 0 {
		t.Errorf("SDE e(q2) = %v, want 1", got)
	}
	if _, err := e.HandCount("nowhere", nil, nil); !errors.Is(err, audit.ErrUnknownPrecinct) {
		t.Errorf("unknown precinct: %v", err)
	}
}

// TestHandSDEUnplayedTie: a one-delegate precinct whose hand count ties 3–3 needs a game of chance
// nobody played: both outcomes are returned, and the audit takes the worse for the winner.
func TestHandSDEUnplayedTie(t *testing.T) {
	in := rules.Input{Mode: rules.Bulk, Attendees: 6, DelegatesToElect: 1, HasDelegatesToElect: true,
		First: rules.Counts{"x": 3, "y": 3}, Final: rules.Counts{"x": 3, "y": 3}, SDERatio: big.NewRat(1, 7)}
	outs, err := audit.HandSDE(in)
	if err != nil {
		t.Fatal(err)
	}
	if len(outs) != 2 {
		t.Fatalf("%d outcomes, want 2: %v", len(outs), outs)
	}
	// Reported x 0.1429, y 0 (x won); margin 0.1429, b = 0.1429, u = 2.
	c, err := audit.NewContest(audit.SDE, nil, []audit.Batch{
		{ID: "p", Reported: audit.Tally{"x": rat("0.1429"), "y": rat("0")}, Bound: rat("0.1429")},
	})
	if err != nil {
		t.Fatal(err)
	}
	// Worst outcome: y wins the toss: ((0.1429 − 0) − (0 − 0.1429)) / 0.1429 = 2.
	if got := c.Overstatement(0, outs...); got.Cmp(rat("2")) != 0 {
		t.Errorf("e = %v, want 2 (the toss lost)", got)
	}
	// With the toss recorded for x, one outcome and no overstatement.
	in.Tiebreaks = []rules.Tiebreak{{Kind: "coin", Between: []string{"x", "y"}, Winner: "x"}}
	outs, err = audit.HandSDE(in)
	if err != nil || len(outs) != 1 {
		t.Fatalf("%v %v", outs, err)
	}
	if got := c.Overstatement(0, outs...); got.Sign() != 0 {
		t.Errorf("e = %v with the toss recorded, want 0", got)
	}
}
