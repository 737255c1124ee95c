package audit_test

import (
	"encoding/csv"
	"math/big"
	"os"
	"strconv"
	"testing"

	"caucus/internal/audit"
)

func readCSV(t *testing.T, path string) []map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]string
	for _, rec := range recs[1:] {
		m := map[string]string{}
		for i, h := range recs[0] {
			m[h] = rec[i]
		}
		out = append(out, m)
	}
	return out
}

func num(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// near reports whether x, rounded to the published number of decimals, is the published value:
// |x − published| ≤ half a unit of its last place (and a hair for the publisher's float).
func near(x *big.Rat, published string) bool {
	p, ok := new(big.Rat).SetString(published)
	if !ok {
		return false
	}
	places := 0
	for i := len(published) - 1; i >= 0 && published[i] != '.'; i-- {
		places++
	}
	if places == len(published) {
		places = 0
	}
	tol := new(big.Rat).SetFrac(big.NewInt(51), new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(places+2)), nil))
	d := new(big.Rat).Sub(x, p)
	return d.Abs(d).Cmp(tol) <= 0
}

// TestLindeman2008: M. Lindeman's published Kaplan–Markov example (California CD3, 2008). The
// contest's margins are Lungren−Durston 17453, −Padilla 142046, −Tuma 148151; the published table
// lists the audited batches. A batch "rest of the district" makes our contest's totals give
// exactly those margins; then every audited batch's MACRO overstatement e_p (each loser's, and
// their maximum), its taint e_p/u_p and its Kaplan–Markov factor must be the published ones, to
// the decimals published. For
// example 06005AV130 (424 ballots; reported 231 Lungren, 149 Durston; audited 230, 150):
// e = ((231 − 149) − (230 − 150)) / 17453 = 2/17453 = 0.000115, u = (424 + 231 − 149)/17453 =
// 506/17453, taint = 2/506 = 0.003953. With the table's 1 − 1/U the product of the factors
// ((1 − 1/U)/(1 − taint))^times_drawn is the example's P-value 0.098616 when understatements are
// kept (Lindeman does); we count them as 0, which gives a larger (more conservative) P-value.
func TestLindeman2008(t *testing.T) {
	rows := readCSV(t, "testdata/lindeman-2008-ca-cd3-batches.csv")
	cands := []string{"Lungren", "Durston", "Tuma", "Padilla"}
	var batches []audit.Batch
	sum := map[string]int{}
	for _, r := range rows {
		tl := audit.Tally{}
		for _, c := range cands {
			tl[c] = big.NewRat(int64(num(t, r[c])), 1)
			sum[c] += num(t, r[c])
		}
		batches = append(batches, audit.Batch{ID: r["precinct"], Reported: tl, Bound: big.NewRat(int64(num(t, r["ballots_cast"])), 1)})
	}
	const x = 200000
	rest := map[string]int{"Lungren": x, "Durston": x + sum["Lungren"] - sum["Durston"] - 17453,
		"Padilla": x + sum["Lungren"] - sum["Padilla"] - 142046, "Tuma": x + sum["Lungren"] - sum["Tuma"] - 148151}
	rt := audit.Tally{}
	for c, n := range rest {
		rt[c] = big.NewRat(int64(n), 1)
	}
	batches = append(batches, audit.Batch{ID: "~rest", Reported: rt, Bound: big.NewRat(x, 1)})
	c, err := audit.NewContest(audit.First, nil, batches)
	if err != nil {
		t.Fatal(err)
	}
	for l, m := range map[string]int64{"Durston": 17453, "Padilla": 142046, "Tuma": 148151} {
		if c.Margins[l].Cmp(big.NewRat(m, 1)) != 0 {
			t.Fatalf("margin Lungren−%s = %v, want %d", l, c.Margins[l], m)
		}
	}
	// u of the batch Lindeman works through on page 3: (382 + 158 − 172)/17453.
	for id, want := range map[string]string{"0606726420": "368/17453"} {
		if got := c.Bound(c.Index(id)); got.Cmp(rat(want)) != 0 {
			t.Errorf("u(%s) = %v, want %s", id, got, want)
		}
	}
	// 1 − 1/U as the table prints it for a batch without discrepancy (U = 20.4701…, shown 20.47).
	shrink := rat("0.951148308")
	pKept, pClipped := big.NewRat(1, 1), big.NewRat(1, 1)
	for _, r := range rows {
		i := c.Index(r["precinct"])
		audited := audit.Tally{}
		for _, cd := range cands {
			audited[cd] = big.NewRat(int64(num(t, r["audit_"+cd])), 1)
		}
		// Each loser's e alone: a contest of the winner against that loser only sees it, so
		// compute it directly from the definition and compare with the published column.
		b := c.Batches[i]
		for _, l := range []string{"Durston", "Tuma", "Padilla"} {
			e := new(big.Rat).Sub(b.Reported["Lungren"], b.Reported[l])
			e.Sub(e, new(big.Rat).Sub(audited["Lungren"], audited[l]))
			e.Quo(e, c.Margins[l])
			if !near(e, r["e_"+l]) {
				t.Errorf("%s: e vs %s = %s, published %s", r["precinct"], l, e.FloatString(8), r["e_"+l])
			}
		}
		e := c.Overstatement(i, audited)
		taint := new(big.Rat).Quo(e, c.Bound(i))
		if !near(taint, r["taint"]) {
			t.Errorf("%s: taint %s, published %s", r["precinct"], taint.FloatString(8), r["taint"])
		}
		times := num(t, r["times_drawn"])
		for range times {
			f := new(big.Rat).Quo(shrink, new(big.Rat).Sub(big.NewRat(1, 1), taint))
			pKept.Mul(pKept, f)
			if taint.Sign() < 0 {
				f = shrink
			}
			pClipped.Mul(pClipped, f)
		}
		f := new(big.Rat).Quo(shrink, new(big.Rat).Sub(big.NewRat(1, 1), taint))
		if !near(f, r["KM_factor"]) {
			t.Errorf("%s: KM factor %s, published %s", r["precinct"], f.FloatString(9), r["KM_factor"])
		}
	}
	if !near(pKept, "0.098616") {
		t.Errorf("P-value with understatements kept: %s, published 0.098616", pKept.FloatString(8))
	}
	if pClipped.Cmp(pKept) <= 0 {
		t.Errorf("counting understatements as 0 must give a larger P-value: %s vs %s", pClipped.FloatString(8), pKept.FloatString(8))
	}
	t.Logf("P-value: %s as published (understatements kept), %s with understatements counted as 0",
		pKept.FloatString(6), pClipped.FloatString(6))
}

// TestBoulder2010Coroner: the 492 audit units of Boulder County's 2010 Coroner contest, as
// published for its audit: Hall won, 49627 to 33924 (margin 15703), U = 8.714322 with all
// units; the audit reduced the margin by the 5347 ballots not yet tallied (10356), which is what
// a unit of 5347 ballots all for Pruett does (its own u is (5347 + 0 − 5347)/10356 = 0): then U
// = 13.213693, every unit's u_p is the published one (6 decimals), and at a 10 % risk limit the
// audit needs 30 units with no discrepancy (ln 0.1 / ln(1 − 1/U) = 29.3). The published U are
// float sums (8.714322104056551, 13.213692545384328), compared to 10 decimals.
func TestBoulder2010Coroner(t *testing.T) {
	rows := readCSV(t, "testdata/boulder-2010-coroner-batches.csv")
	var batches []audit.Batch
	for _, r := range rows {
		batches = append(batches, audit.Batch{ID: r["name"],
			Reported: audit.Tally{"hall": big.NewRat(int64(num(t, r["hall"])), 1), "pruett": big.NewRat(int64(num(t, r["pruett"])), 1)},
			Bound:    big.NewRat(int64(num(t, r["ballots"])), 1)})
	}
	all, err := audit.NewContest(audit.First, nil, batches)
	if err != nil {
		t.Fatal(err)
	}
	if all.Winner != "hall" || all.Margin().Cmp(big.NewRat(15703, 1)) != 0 || !near(all.U, "8.7143221041") {
		t.Errorf("all units: winner %s, margin %v, U %s; want hall, 15703, 8.714322104056551", all.Winner, all.Margin(), all.U.FloatString(15))
	}
	untallied := audit.Batch{ID: "~untallied", Reported: audit.Tally{"pruett": big.NewRat(5347, 1)}, Bound: big.NewRat(5347, 1)}
	c, err := audit.NewContest(audit.First, nil, append(batches, untallied))
	if err != nil {
		t.Fatal(err)
	}
	if c.Margin().Cmp(big.NewRat(10356, 1)) != 0 || !near(c.U, "13.2136925454") || c.Bound(c.Index("~untallied")).Sign() != 0 {
		t.Fatalf("margin %v, U %s", c.Margin(), c.U.FloatString(15))
	}
	for _, r := range rows {
		i := c.Index(r["name"])
		if !near(c.Bound(i), r["u"]) {
			t.Errorf("%s: u %s, published %s", r["name"], c.Bound(i).FloatString(8), r["u"])
		}
		if p := new(big.Rat).Quo(c.Bound(i), c.U); !near(p, r["selection_probability"]) {
			t.Errorf("%s: selection probability %s, published %s", r["name"], p.FloatString(8), r["selection_probability"])
		}
	}
	if pl := c.Plan(big.NewRat(1, 10)); pl.ExpectedSample != 30 || pl.FullHandCount {
		t.Errorf("plan at 10 %%: %+v, want 30 units", pl)
	}
}
