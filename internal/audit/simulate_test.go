package audit_test

import (
	"fmt"
	"maps"
	"math"
	"math/big"
	"math/rand/v2"
	"os"
	"slices"
	"sort"
	"testing"

	"caucus/internal/audit"
	"caucus/internal/election"
	"caucus/internal/resultscsv"
	"caucus/internal/rules"
)

// The 2020 published results and their counties, copied from the shared folder
// (internal/shareddata).
const (
	precinctsCSV = "../shareddata/testdata/data/iowa-2020/precincts.csv"
	countiesCSV  = "../shareddata/testdata/data/iowa-2020/counties.csv"
)

func load2020(t testing.TB) ([]resultscsv.Precinct, func(string) *big.Rat) {
	t.Helper()
	f, err := os.Open(precinctsCSV)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ps, err := resultscsv.Read(f)
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(countiesCSV)
	if err != nil {
		t.Fatal(err)
	}
	counties, err := election.ReadCounties(data)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]*big.Rat{}
	for _, c := range counties {
		if r, ok := c.SDERatio(); ok {
			m[c.ID] = r
		}
	}
	return ps, func(id string) *big.Rat { return m[id] }
}

// truth is what the cards of every precinct say: first and final alignment.
type truth map[string][2]rules.Counts

// overstatements computes e_p of every precinct of a contest from the true counts.
func overstatements(t testing.TB, e *audit.Election, c *audit.Contest, tr truth) []*big.Rat {
	t.Helper()
	out := make([]*big.Rat, len(c.Batches))
	for i, b := range c.Batches {
		counts := tr[b.ID]
		outcomes, err := e.HandCount(b.ID, counts[0], counts[1])
		if err != nil {
			t.Fatal(err)
		}
		out[i] = c.Overstatement(i, outcomes[c.Kind]...)
	}
	return out
}

// runAudit runs one audit to its end from a seed: rounds of draws, each hand count taken from
// the true overstatements, until the risk is at most α or the audit escalates to a full hand
// count. It returns the status and the number of draws.
func runAudit(t testing.TB, c *audit.Contest, es []*big.Rat, alpha *big.Rat, seed string) (audit.Status, int) {
	p := c.Start(alpha)
	next := int64(1)
	for m := p.NextRound(); m > 0; m = p.NextRound() {
		tickets, err := c.Draw(seed, next, next+m-1)
		if err != nil {
			t.Fatal(err)
		}
		next += m
		for _, tk := range tickets {
			if err := p.Add(tk.Index, es[tk.Index]); err != nil {
				t.Fatal(err)
			}
		}
	}
	return p.Status, len(p.Draws)
}

func seedOf(scenario, trial int) string { return fmt.Sprintf("%d%021d", scenario, trial) }

func reportedTruth(ps []resultscsv.Precinct) truth {
	tr := truth{}
	for _, p := range ps {
		tr[p.ID] = [2]rules.Counts{p.First, p.Final}
	}
	return tr
}

// trials is the number of seeded audits per scenario: 1,000 as the validity claim needs; -short
// keeps 300, still enough to fail on a broken p-value.
func trials() int {
	if testing.Short() {
		return 300
	}
	return 1000
}

// atLeast is the fewest of n trials of a wrong outcome that must end in a full hand count. With
// 1,000 trials it is (1 − α)·n, as the claim reads. When the error is concentrated in the
// precincts with the largest bounds, each overstating by nearly its whole bound, the risk limit is
// nearly attained (the audit confirms only when the sample misses them all, which happens with
// probability about (1 − 1/U)^n ≈ α): the measured rate is then about 1 − α, so the 300 trials of
// -short allow three standard deviations of binomial noise below it (274 of 300), still far above
// what a broken p-value gives.
func atLeast(n int, alpha float64) int {
	if n >= 1000 {
		return int(math.Ceil(float64(n) * (1 - alpha)))
	}
	return int(math.Ceil(float64(n)*(1-alpha) - 3*math.Sqrt(float64(n)*alpha*(1-alpha))))
}

// TestSimulationCorrectOutcome: the 2020 people contests as reported, with the cards equal to the
// report (a) exactly and (b) with small counting errors that do not change the outcome (in one
// precinct in five, one card moved between two candidates). With no error every audit stops at
// exactly the planned size; with small errors at about it.
func TestSimulationCorrectOutcome(t *testing.T) {
	ps, ratio := load2020(t)
	e, err := audit.FromPublished(ps, ratio, rules.DefaultProfile)
	if err != nil {
		t.Fatal(err)
	}
	alpha := big.NewRat(5, 100)
	exact := reportedTruth(ps)
	rng := rand.New(rand.NewPCG(2020, 16))
	noisy := truth{}
	for _, p := range ps {
		first, final := maps.Clone(p.First), maps.Clone(p.Final)
		if rng.IntN(5) == 0 && len(p.Candidates) >= 2 {
			a, b := p.Candidates[rng.IntN(len(p.Candidates))].ID, p.Candidates[rng.IntN(len(p.Candidates))].ID
			if final[a] > 0 && a != b {
				final[a]--
				final[b]++
				if first[a] > 0 {
					first[a]--
					first[b]++
				}
			}
		}
		noisy[p.ID] = [2]rules.Counts{first, final}
	}
	for ci, kind := range []audit.Kind{audit.First, audit.Final} {
		c := e.Contest(kind)
		planned := c.Plan(alpha).ExpectedSample
		for si, sc := range []struct {
			name string
			tr   truth
		}{{"exact", exact}, {"small errors", noisy}} {
			es := overstatements(t, e, c, sc.tr)
			n := trials()
			confirmed, total := 0, 0
			var sizes []int
			for i := range n {
				status, draws := runAudit(t, c, es, alpha, seedOf(10+ci*2+si, i))
				if status == audit.Confirmed {
					confirmed++
					sizes = append(sizes, draws)
				}
				total += draws
			}
			sort.Ints(sizes)
			median := 0
			if len(sizes) > 0 {
				median = sizes[len(sizes)/2]
			}
			t.Logf("%s, %s: planned %d draws; confirmed in %d of %d trials (%.1f %%); median draws when confirmed %d, mean draws %.1f",
				kind, sc.name, planned, confirmed, n, 100*float64(confirmed)/float64(n), median, float64(total)/float64(n))
			switch sc.name {
			case "exact":
				if confirmed != n || sizes[0] != int(planned) || sizes[len(sizes)-1] != int(planned) {
					t.Errorf("%s exact: every audit must stop at exactly %d draws; confirmed %d of %d, sizes %d–%d", kind, planned, confirmed, n, sizes[0], sizes[len(sizes)-1])
				}
			default:
				if confirmed < n*95/100 || median > int(planned)*3/2 {
					t.Errorf("%s with small errors: confirmed %d of %d, median %d draws; want nearly all confirmed at about %d", kind, confirmed, n, median, planned)
				}
			}
		}
	}
}

// flip returns true counts in which the reported runner-up won: need people moved from the
// winner to the runner-up in the contest's alignment (both alignments for first, so the cards
// stay consistent), taken from the precincts in the given order, at most perPrecinct from each.
func flip(ps []resultscsv.Precinct, kind audit.Kind, winner, runnerUp string, need int64, order []int, perPrecinct int64) truth {
	tr := reportedTruth(ps)
	for _, i := range order {
		if need <= 0 {
			break
		}
		p := ps[i]
		first, final := maps.Clone(p.First), maps.Clone(p.Final)
		counts := final
		if kind == audit.First {
			counts = first
		}
		k := min(counts[winner], perPrecinct, need)
		counts[winner] -= k
		counts[runnerUp] += k
		need -= k
		tr[p.ID] = [2]rules.Counts{first, final}
	}
	if need > 0 {
		panic("could not flip the outcome")
	}
	return tr
}

// TestSimulationWrongOutcome: the reported counts are the 2020 ones but the cards say the
// runner-up won (by one person), the difference (a) spread thinly, one card in each of many
// precincts, or (b) concentrated in the largest precincts. A risk-limiting audit must end in a
// full hand count in at least 1 − α of the trials.
func TestSimulationWrongOutcome(t *testing.T) {
	ps, ratio := load2020(t)
	e, err := audit.FromPublished(ps, ratio, rules.DefaultProfile)
	if err != nil {
		t.Fatal(err)
	}
	alpha := big.NewRat(5, 100)
	bySize := make([]int, len(ps))
	rng := rand.New(rand.NewPCG(2020, 17))
	spread := rng.Perm(len(ps))
	for i := range bySize {
		bySize[i] = i
	}
	slices.SortStableFunc(bySize, func(a, b int) int {
		return int(max(ps[b].First.Sum(), ps[b].Final.Sum()) - max(ps[a].First.Sum(), ps[a].Final.Sum()))
	})
	for ci, kind := range []audit.Kind{audit.First, audit.Final} {
		c := e.Contest(kind)
		// Moving k people from winner to runner-up changes the margin by 2k: one more than half
		// the margin makes the runner-up win by one or two.
		need := c.Margin().Num().Int64()/2 + 1
		for si, sc := range []struct {
			name        string
			order       []int
			perPrecinct int64
		}{{"spread", spread, need/int64(len(ps)) + 1}, {"concentrated", bySize, 1 << 40}} {
			tr := flip(ps, kind, c.Winner, c.RunnerUp, need, sc.order, sc.perPrecinct)
			es := overstatements(t, e, c, tr)
			sum, mass := new(big.Rat), new(big.Rat)
			for i, x := range es {
				if x.Sign() > 0 {
					sum.Add(sum, x)
					mass.Add(mass, c.Bound(i))
				}
			}
			if sum.Cmp(big.NewRat(1, 1)) < 0 {
				t.Fatalf("%s %s: the total overstatement %s is under 1: the outcome is not wrong", kind, sc.name, sum.FloatString(4))
			}
			t.Logf("%s, wrong outcome %s: total overstatement %s; precincts overstated hold %s of U = %s",
				kind, sc.name, sum.FloatString(4), mass.FloatString(3), c.U.FloatString(3))
			n := trials()
			full, total := 0, 0
			for i := range n {
				status, draws := runAudit(t, c, es, alpha, seedOf(20+ci*2+si, i))
				if status == audit.FullHandCount {
					full++
				}
				total += draws
			}
			t.Logf("%s, wrong outcome %s: full hand count in %d of %d trials (%.1f %%); mean draws before escalating %.1f",
				kind, sc.name, full, n, 100*float64(full)/float64(n), float64(total)/float64(n))
			if full < atLeast(n, 0.05) {
				t.Errorf("%s %s: a wrong outcome went to a full hand count in only %d of %d trials", kind, sc.name, full, n)
			}
		}
	}
}

// sdeElection builds an election with the real 2020 structure (every precinct whose county ratio
// is known, with its delegates and ratio) whose reported counts are the 2020 counts with a share
// of the given candidate's final alignment moved to another: its reported SDEs are computed by
// the rules from those counts, games of chance settled for the first candidate in id order and
// published as such.
func sdeElection(t testing.TB, from, to string, percent int64) (*audit.Election, []resultscsv.Precinct, truth) {
	t.Helper()
	all, ratio := load2020(t)
	var ps []resultscsv.Precinct
	real := truth{}
	for _, p := range all {
		rho := ratio(p.CountyID)
		if rho == nil {
			continue
		}
		real[p.ID] = [2]rules.Counts{p.First, p.Final}
		final := maps.Clone(p.Final)
		k := final[from] * percent / 100
		final[from] -= k
		final[to] += k
		in := rules.Input{Mode: rules.Bulk, Attendees: max(p.First.Sum(), final.Sum()), DelegatesToElect: p.DelegatesToElect,
			HasDelegatesToElect: p.HasDelegatesToElect, Satellite: p.Satellite, First: p.First, Final: final, SDERatio: rho}
		outs, err := audit.HandSDE(in)
		if err != nil {
			t.Fatalf("%s: %v", p.ID, err)
		}
		q := p
		q.Final, q.SDE = final, map[string]string{}
		for _, c := range p.Candidates {
			v := outs[0][c.ID]
			if v == nil {
				v = new(big.Rat)
			}
			q.SDE[c.ID] = v.FloatString(4)
		}
		ps = append(ps, q)
	}
	e, err := audit.FromPublished(ps, ratio, rules.DefaultProfile)
	if err != nil {
		t.Fatal(err)
	}
	return e, ps, real
}

// TestSimulationSDE: the SDE contest, on the 2020 structure with 6 % of Buttigieg's final
// alignment reported as Sanders' (so that Sanders wins the reported SDEs by enough for a
// sample to confirm it). (a) Cards as reported: every hand count reproduces the reported SDEs
// and every audit stops at the planned size. (b) Cards as in 2020, where Buttigieg won: the
// reported outcome is wrong and the audit must end in a full hand count.
func TestSimulationSDE(t *testing.T) {
	e, ps, real := sdeElection(t, "buttigieg", "sanders", 6)
	c := e.Contest(audit.SDE)
	alpha := big.NewRat(5, 100)
	pl := c.Plan(alpha)
	t.Logf("SDEs as reported: %s over %s by %s; U = %s; expected sample %d of %d precincts",
		c.Winner, c.RunnerUp, c.Margin().FloatString(4), c.U.FloatString(3), pl.ExpectedSample, len(c.Batches))
	if c.Winner != "sanders" || pl.FullHandCount {
		t.Fatalf("the altered election must have Sanders winning with a sample possible: %+v", pl)
	}

	es := overstatements(t, e, c, reportedTruth(ps))
	for i, x := range es {
		if x.Sign() != 0 {
			t.Errorf("%s: the hand count equal to the report overstates by %s", c.Batches[i].ID, x.FloatString(6))
		}
	}
	n := trials()
	for i := range n {
		status, draws := runAudit(t, c, es, alpha, seedOf(30, i))
		if status != audit.Confirmed || draws != int(pl.ExpectedSample) {
			t.Fatalf("trial %d: %s after %d draws, want confirmed after %d", i, status, draws, pl.ExpectedSample)
		}
	}
	t.Logf("SDEs, cards as reported: confirmed in %d of %d trials, each after exactly %d draws", n, n, pl.ExpectedSample)

	es = overstatements(t, e, c, real)
	sum := new(big.Rat)
	for _, x := range es {
		if x.Sign() > 0 {
			sum.Add(sum, x)
		}
	}
	if sum.Cmp(big.NewRat(1, 1)) < 0 {
		t.Fatalf("the total overstatement %s is under 1: the 2020 cards do not make the reported outcome wrong", sum.FloatString(4))
	}
	full, total := 0, 0
	for i := range n {
		status, draws := runAudit(t, c, es, alpha, seedOf(31, i))
		if status == audit.FullHandCount {
			full++
		}
		total += draws
	}
	t.Logf("SDEs, cards as in 2020 (total overstatement %s): full hand count in %d of %d trials (%.1f %%); mean draws before escalating %.1f",
		sum.FloatString(4), full, n, 100*float64(full)/float64(n), float64(total)/float64(n))
	if full < atLeast(n, 0.05) {
		t.Errorf("a wrong SDE outcome went to a full hand count in only %d of %d trials", full, n)
	}
}
