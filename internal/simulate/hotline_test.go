package simulate_test

import (
	"fmt"
	"testing"

	"caucus/internal/auth"
	"caucus/internal/server/servertest"
	"caucus/internal/simulate"
)

// addOperators puts n operator accounts into the server's database, as headquarters' account
// command does, and returns them.
func addOperators(t *testing.T, env *servertest.Env, n int) []simulate.Staff {
	t.Helper()
	var ops []simulate.Staff
	for i := range n {
		user := fmt.Sprintf("operator%d", i+1)
		ops = append(ops, simulate.Staff{Username: user, Password: env.StaffAccount(user, auth.RoleOperator)})
	}
	return ops
}

// A fifth of the chairs report by phone: two operators key each worksheet, a third when a
// keying slip makes the copies differ. Every slip is caught, nothing mis-keyed is counted, and
// the published numbers equal the truth.
func TestHotlineShare(t *testing.T) {
	env := servertest.Start(t, servertest.Options{Precincts: 60})
	truth := simulate.Synthetic(env.Def, 0, 11)
	sum := run(t, simulate.Config{URL: env.URL, Truth: truth, PINs: env.PINs, Concurrency: 8, Seed: 11,
		Hotline: &simulate.Hotline{Share: 0.2, Operators: addOperators(t, env, 3)}})
	if !sum.OK() {
		t.Fatal("the rehearsal found problems (see the summary)")
	}
	if sum.Phoned < 4 || sum.Phoned > 24 || sum.Slips == 0 || sum.SlipsCaught != sum.Slips || sum.Reports != 60 {
		t.Errorf("%d phoned, %d slips, %d caught, %d reports; want about 12 phoned, some slips, all caught, 60 reports",
			sum.Phoned, sum.Slips, sum.SlipsCaught, sum.Reports)
	}
	env.Check(acked(t, sum))
}
