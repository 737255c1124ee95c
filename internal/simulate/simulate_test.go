package simulate_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"caucus/internal/client"
	"caucus/internal/election"
	"caucus/internal/rules"
	"caucus/internal/server/servertest"
	"caucus/internal/simulate"
)

// testTimeout bounds one rehearsal in these tests.
const testTimeout = 60 * time.Second

func run(t *testing.T, cfg simulate.Config) *simulate.Summary {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	sum, err := simulate.Run(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	sum.Print(&b)
	t.Logf("summary:\n%s", b.String())
	return sum
}

func acked(t *testing.T, sum *simulate.Summary) *servertest.Acked {
	a := &servertest.Acked{}
	for _, r := range sum.Acked {
		a.Add(t, r)
	}
	return a
}

// A small synthetic night with every fault on: the published results equal the truth, every
// answer is the one the rules call for, and the server's own invariants (B0) hold after.
func TestSyntheticAllFaults(t *testing.T) {
	env := servertest.Start(t, servertest.Options{Precincts: 60})
	faults, _ := simulate.ParseFaults("all")
	truth := simulate.Synthetic(env.Def, 0, 7)
	sum := run(t, simulate.Config{URL: env.URL, Truth: truth, PINs: env.PINs, Concurrency: 8, Faults: faults, Seed: 7})
	if !sum.OK() {
		t.Fatal("the rehearsal found problems (see the summary)")
	}
	if sum.Reports != 60 || sum.Compared == 0 {
		t.Errorf("%d reports stored and %d numbers compared; want 60 and some", sum.Reports, sum.Compared)
	}
	for _, k := range []string{"report → 200", "login → 200"} {
		if sum.Events[k] == 0 {
			t.Errorf("no %q in the events: %v", k, sum.Events)
		}
	}
	env.Check(acked(t, sum))
}

// The same seed makes the same night.
func TestSyntheticReproducible(t *testing.T) {
	def := servertest.Definition(t, 50)
	a, b := simulate.Synthetic(def, 0, 42), simulate.Synthetic(def, 0, 42)
	for i := range a.Plans {
		for k := range a.Plans[i].Reports {
			if !bytes.Equal(a.Plans[i].Reports[k].Canonical(), b.Plans[i].Reports[k].Canonical()) {
				t.Fatalf("plan %d differs between two runs of seed 42", i)
			}
		}
	}
	c := simulate.Synthetic(def, 0, 43)
	if bytes.Equal(a.Plans[0].Reports[0].Canonical(), c.Plans[0].Reports[0].Canonical()) {
		t.Error("seeds 42 and 43 give the same first report")
	}
}

// iowaSlice is part of the published 2020 file: the first precincts of the file and a few whose
// published numbers the rules refuse for each of C04, C07 and C13.
func iowaSlice(t *testing.T, def *election.Definition) ([]byte, map[string]string) {
	t.Helper()
	data, err := os.ReadFile("../shareddata/testdata/data/iowa-2020/precincts.csv")
	if err != nil {
		t.Fatalf("the 2020 file (internal/shareddata/testdata/data/iowa-2020/precincts.csv): %v", err)
	}
	all, err := simulate.Replay(def, bytes.NewReader(data), "pick")
	if err != nil {
		t.Fatal(err)
	}
	pick := map[string]string{} // precinct → why
	per := map[string]int{}
	for i, p := range all.Plans {
		res := all.Calc(p.Reports[0])
		if i < 24 {
			pick[p.Precinct.ID] = "first of the file"
		}
		for _, c := range res.Checks {
			if id := string(c.ID); c.Severity == "error" && (id == "C04" || id == "C07" || id == "C13") && per[id] < 4 {
				per[id]++
				pick[p.Precinct.ID] = id
			}
		}
	}
	var out bytes.Buffer
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 0; sc.Scan(); n++ {
		line := sc.Text()
		f := strings.Split(line, ",")
		if n == 0 || len(f) > 2 && pick[f[2]] != "" {
			out.WriteString(line + "\n")
		}
	}
	return out.Bytes(), pick
}

// A replay of a slice of the real 2020 file against a server running the 2020 election: the
// precincts the rules refuse come back 422 with the right checks and are not published, the
// others are published (flagged when the rules warn), and everything equals the truth.
func TestReplayIowa2020Slice(t *testing.T) {
	def, err := election.Iowa2020()
	if err != nil {
		t.Fatal(err)
	}
	slice, pick := iowaSlice(t, def)
	env := servertest.Start(t, servertest.Options{Def: def})
	truth, err := simulate.Replay(def, bytes.NewReader(slice), "test")
	if err != nil {
		t.Fatal(err)
	}
	if len(truth.Plans) != len(pick) {
		t.Fatalf("%d precincts in the slice, %d picked", len(truth.Plans), len(pick))
	}
	faults, _ := simulate.ParseFaults("retry,drop-after,conflict")
	sum := run(t, simulate.Config{URL: env.URL, Truth: truth, PINs: env.PINs, Concurrency: 8, Faults: faults, Seed: 1})
	if !sum.OK() {
		t.Fatal("the replay found problems (see the summary)")
	}
	for _, id := range []string{"C04", "C07", "C13"} {
		if sum.RefusedBy[rules.CheckID(id)] == 0 {
			t.Errorf("no report refused with %s: %v", id, sum.RefusedBy)
		}
	}
	if sum.Reports+sum.Refused != len(pick) || len(sum.Flagged) == 0 {
		t.Errorf("%d stored + %d refused of %d, flagged %v", sum.Reports, sum.Refused, len(pick), sum.Flagged)
	}
	env.Check(acked(t, sum))
}

// A server that publishes one wrong number: the rehearsal names it.
func TestWrongServer(t *testing.T) {
	env := servertest.Start(t, servertest.Options{Precincts: 12})
	target, _ := url.Parse(env.URL)
	proxy := httputil.NewSingleHostReverseProxy(target)
	firstCount := regexp.MustCompile(`("candidate_id":"adams","name":"adams","first":)(\d+)`)
	proxy.ModifyResponse = func(resp *http.Response) error {
		if resp.Request.URL.Path != "/api/v1/results" {
			return nil
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return err
		}
		b = firstCount.ReplaceAllFunc(b, func(m []byte) []byte {
			sub := firstCount.FindSubmatch(m)
			var n int
			fmt.Sscan(string(sub[2]), &n)
			return fmt.Appendf(nil, "%s%d", sub[1], n+1)
		})
		resp.Body = io.NopCloser(bytes.NewReader(b))
		resp.ContentLength = int64(len(b))
		resp.Header.Set("Content-Length", fmt.Sprint(len(b)))
		resp.Header.Del("ETag")
		return nil
	}
	wrong := httptest.NewServer(proxy)
	defer wrong.Close()
	truth := simulate.Synthetic(env.Def, 0, 3)
	sum := run(t, simulate.Config{URL: wrong.URL, Truth: truth, PINs: env.PINs, Concurrency: 4, Seed: 3})
	if sum.OK() {
		t.Fatal("a server that adds one to adams's first alignment passed the rehearsal")
	}
	if len(sum.Differences) != 1 || !strings.Contains(sum.Differences[0], "state, adams: first") {
		t.Errorf("differences %q; want exactly the state's adams first", sum.Differences)
	}
}

// simulate drives a server only through its public HTTP contract: it must not import the
// server's own parts (STYLE.md §1), so that a bug there cannot hide itself from the rehearsal.
func TestImportBoundary(t *testing.T) {
	out, err := exec.Command(filepath.Join(runtime.GOROOT(), "bin", "go"), "list", "-deps", "caucus/internal/simulate").Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range strings.Fields(string(out)) {
		for _, banned := range []string{"server", "intake", "tally", "store", "auth", "verify", "tlog"} {
			if p == "caucus/internal/"+banned || strings.HasPrefix(p, "caucus/internal/"+banned+"/") {
				t.Errorf("internal/simulate depends on %s", p)
			}
		}
	}
}

// The headquarters actor: chairs get reports wrong and send second ones, the night flags
// warnings, and a reviewer resolves the whole review queue through the API (accepting the
// report that matches the worksheet, correcting where none does); the published numbers then
// equal the truth, every precinct settled, and the server's invariants hold.
func TestHeadquartersResolvesTheQueue(t *testing.T) {
	env := servertest.Start(t, servertest.Options{Precincts: 80})
	password := env.StaffAccount("rita", "reviewer")
	faults, _ := simulate.ParseFaults("conflict,retry")
	truth := simulate.Synthetic(env.Def, 0, 11)
	sum := run(t, simulate.Config{URL: env.URL, Truth: truth, PINs: env.PINs, Concurrency: 8, Faults: faults, Seed: 11,
		HQ: &simulate.Staff{Username: "rita", Password: password}})
	if !sum.OK() {
		t.Fatal("the rehearsal found problems (see the summary)")
	}
	for _, k := range []string{"headquarters: accept", "headquarters: correct", "second report after a mistake → 409",
		"headquarters: in the queue for conflict", "headquarters: in the queue for warnings"} {
		if sum.Events[k] == 0 {
			t.Errorf("no %q in the events: %v", k, sum.Events)
		}
	}
	// Every precinct reported is settled: accepted or corrected, none under review.
	c, _ := client.New(env.URL, nil)
	for _, p := range env.Def.Precincts() {
		d, err := c.Precinct(context.Background(), p.ID)
		if err != nil {
			t.Fatal(err)
		}
		if d.Status != "accepted" && d.Status != "corrected" {
			t.Errorf("precinct %s: status %s after headquarters", p.ID, d.Status)
		}
	}
	env.Check(acked(t, sum))
}
