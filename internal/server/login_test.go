package server_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"caucus/internal/auth"
	"caucus/internal/auth/authtest"
	"caucus/internal/server/servertest"
)

// login posts a login body from the given X-Forwarded-For (none if empty) and returns the
// status and the Retry-After header.
func login(t testing.TB, env *servertest.Env, body map[string]string, xff string) (int, string) {
	t.Helper()
	b, _ := json.Marshal(body)
	req, err := http.NewRequest("POST", env.URL+"/api/v1/login", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if xff != "" {
		req.Header.Set("X-Forwarded-For", xff)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	return resp.StatusCode, resp.Header.Get("Retry-After")
}

// guessPIN is a fresh PIN with a good check digit (almost surely not any precinct's).
func guessPIN(t testing.TB) string {
	p, err := auth.GeneratePIN()
	if err != nil {
		t.Fatal(err)
	}
	return p.Reveal()
}

// budgetSpent reads a precinct's live PIN budget counter from the database file.
func budgetSpent(t testing.TB, env *servertest.Env, precinct string) int {
	t.Helper()
	c, err := env.DB.Throttle(context.Background(), auth.PrecinctKeyPrefix+precinct)
	if err != nil {
		t.Fatal(err)
	}
	return c.Count
}

// TestLoginBurst: 60 concurrent wrong PINs (good check digit) for one precinct from one
// address. The attempt is reserved with its checks before the hash, so only the free attempts
// are verified; the rest are 429 (back-off) or 503 (shed), never 200. The precinct keeps its
// budget and the real chair logs in once the back-off has passed.
func TestLoginBurst(t *testing.T) {
	clock := authtest.NewClock(time.Now())
	env := servertest.Start(t, servertest.Options{Precincts: 3, Now: clock.Now})
	const p = "p0001"
	wrong := wrongPIN(env.PINs[p], 0)
	var mu sync.Mutex
	statuses := map[int]int{}
	var wg sync.WaitGroup
	for range 60 {
		wg.Go(func() {
			status, _ := login(t, env, map[string]string{"precinct_id": p, "pin": wrong}, "")
			mu.Lock()
			statuses[status]++
			mu.Unlock()
		})
	}
	wg.Wait()
	t.Logf("statuses: %v", statuses)
	if statuses[http.StatusUnauthorized] > auth.PrecinctFreeAttempts || statuses[http.StatusOK] > 0 ||
		statuses[http.StatusUnauthorized]+statuses[http.StatusTooManyRequests]+statuses[http.StatusServiceUnavailable] != 60 {
		t.Fatalf("statuses %v: want at most %d × 401, the rest 429 or 503", statuses, auth.PrecinctFreeAttempts)
	}
	if n := budgetSpent(t, env, p); n > auth.PrecinctFreeAttempts {
		t.Fatalf("budget spent %d of %d", n, auth.PrecinctBudget)
	}
	clock.Advance(auth.PrecinctBaseDelay)
	if status, _ := login(t, env, map[string]string{"precinct_id": p, "pin": env.PINs[p]}, ""); status != http.StatusOK {
		t.Fatalf("the real chair after the burst: %d", status)
	}
}

// TestCorrectLoginsSpendNothing: 45 right logins in a row (more than the budget) all get in
// and leave the budget untouched.
func TestCorrectLoginsSpendNothing(t *testing.T) {
	env := servertest.Start(t, servertest.Options{Precincts: 2})
	const p = "p0000"
	for i := range auth.PrecinctBudget + 5 {
		if status, _ := login(t, env, map[string]string{"precinct_id": p, "pin": env.PINs[p]}, ""); status != http.StatusOK {
			t.Fatalf("right login %d: %d", i+1, status)
		}
	}
	if n := budgetSpent(t, env, p); n != 0 {
		t.Fatalf("budget spent by right logins: %d", n)
	}
}

// TestSharedAddressChair: a school gym's NAT. 40 wrong PINs for made-up precincts from one
// address put it over the per-address limit; a chair for a real precinct behind the same
// address still gets in with the right PIN, while more made-up precincts are refused.
func TestSharedAddressChair(t *testing.T) {
	env := servertest.Start(t, servertest.Options{Precincts: 3})
	for i := range auth.AddressMaxFailures + 10 {
		status, _ := login(t, env, map[string]string{"precinct_id": fmt.Sprint("made-up-", i), "pin": env.PINs["p0000"]}, "")
		if status != http.StatusUnauthorized && status != http.StatusTooManyRequests {
			t.Fatalf("junk %d: %d", i, status)
		}
	}
	if status, retry := login(t, env, map[string]string{"precinct_id": "made-up-x", "pin": env.PINs["p0000"]}, ""); status != http.StatusTooManyRequests || retry == "" {
		t.Fatalf("made-up precinct past the address limit: %d (Retry-After %q)", status, retry)
	}
	if status, _ := login(t, env, map[string]string{"precinct_id": "p0002", "pin": env.PINs["p0002"]}, ""); status != http.StatusOK {
		t.Fatalf("the real chair behind the busy address: %d", status)
	}
}

// dbBytes is the database's size once its WAL is checkpointed into it.
func dbBytes(t testing.TB, env *servertest.Env) int64 {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+env.Path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec("PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(env.Path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

// TestJunkLoginDiskBound: 2,000 junk logins of every kind (wrong PINs with good check digits
// at made-up 120-character precincts, typos, bogus QR tokens, and the 429s they earn) grow the
// database by a bounded amount per login: they are counted in aggregated rows, not written one
// row each with what the attacker typed.
func TestJunkLoginDiskBound(t *testing.T) {
	env := servertest.Start(t, servertest.Options{Precincts: 2})
	before := dbBytes(t, env)
	const n = 2000
	pad := strings.Repeat("x", 112)
	statuses := map[int]int{}
	for i := range n {
		body := map[string]string{}
		switch i % 4 {
		case 0:
			body = map[string]string{"precinct_id": fmt.Sprintf("%s%08d", pad, i), "pin": guessPIN(t)}
		case 1:
			body = map[string]string{"precinct_id": "p0000", "pin": "123456789012"[:11] + "x"}
		case 2:
			body = map[string]string{"precinct_id": fmt.Sprintf("%s%08d", pad, i), "token": strings.Repeat("A", 32)}
		case 3:
			body = map[string]string{"precinct_id": strings.Repeat("y", 4000), "pin": guessPIN(t)}
		}
		status, _ := login(t, env, body, "")
		statuses[status]++
	}
	env.Auth.FlushFailures(context.Background())
	// Every attempt is in the audit record, as a count; no made-up precinct ID is stored.
	rows, err := env.DB.LoginFailures(context.Background(), time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, r := range rows {
		total += r.Count
		if r.PrecinctID != "" && r.PrecinctID != "p0000" {
			t.Errorf("a made-up precinct ID was stored: %.20q…", r.PrecinctID)
		}
	}
	if total != n {
		t.Errorf("%d attempts in the aggregated audit rows (%d rows), want %d", total, len(rows), n)
	}
	t.Logf("%d aggregated audit rows", len(rows))
	env.Stop()
	after := dbBytes(t, env)
	per := float64(after-before) / n
	t.Logf("%d junk logins %v: database %d → %d bytes, %.1f bytes per login", n, statuses, before, after, per)
	if statuses[http.StatusOK] > 0 {
		t.Fatal("a junk login got in")
	}
	if per > 16 {
		t.Fatalf("%.1f bytes written per junk login; want at most 16", per)
	}
}

// TestTrustedProxy: X-Forwarded-For decides the throttled address only when the peer is a
// trusted proxy. Through the trusted loopback proxy, junk from many forwarded addresses never
// reaches any one address's limit; a spoofed header from an untrusted peer is ignored, so all
// its junk lands on its own address.
func TestTrustedProxy(t *testing.T) {
	for _, tc := range []struct {
		name      string
		trusted   []netip.Prefix
		wantLimit bool // the peer's own address reaches its limit
	}{
		{"untrusted peer, spoofed header ignored", nil, true},
		{"other proxy trusted, header ignored", []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}, true},
		{"loopback proxy trusted, header honoured", []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := servertest.Start(t, servertest.Options{Precincts: 1, TrustedProxies: tc.trusted})
			limited := false
			for i := range auth.AddressMaxFailures + 5 {
				status, _ := login(t, env, map[string]string{"precinct_id": fmt.Sprint("nowhere-", i), "pin": env.PINs["p0000"]},
					fmt.Sprintf("192.0.2.%d", i))
				limited = limited || status == http.StatusTooManyRequests
			}
			if limited != tc.wantLimit {
				t.Fatalf("address limit reached: %v, want %v", limited, tc.wantLimit)
			}
		})
	}
}

// gatedAuth is the real store under auth whose PIN reservations at real precincts wait at a
// gate: the PIN lane stays full for as long as the test needs, as slow hashes would keep it.
type gatedAuth struct {
	auth.Store
	entered chan struct{}
	gate    chan struct{}
}

func (g *gatedAuth) UpdateThrottles(ctx context.Context, keys []string, decide func([]auth.ThrottleCounter) ([]auth.ThrottleCounter, error)) ([]auth.ThrottleCounter, error) {
	if strings.HasPrefix(keys[0], auth.PrecinctKeyPrefix) {
		g.entered <- struct{}{}
		<-g.gate
	}
	return g.Store.UpdateThrottles(ctx, keys, decide)
}

// TestLoginShed: with the PIN lane full, a PIN login is answered 503 with a Retry-After of
// 2–10 s at once (never 401 "wrong PIN"), and a QR-token login, in its own lane, gets in.
func TestLoginShed(t *testing.T) {
	g := &gatedAuth{entered: make(chan struct{}, 2), gate: make(chan struct{})}
	env := servertest.Start(t, servertest.Options{Precincts: 3, MaxConcurrentHashes: 1, MaxWaitingHashes: 1,
		WrapAuth: func(s auth.Store) auth.Store { g.Store = s; return g }})
	held := make(chan int, 2)
	for _, p := range []string{"p0000", "p0001"} {
		go func() {
			status, _ := login(t, env, map[string]string{"precinct_id": p, "pin": env.PINs[p]}, "")
			held <- status
		}()
		<-g.entered
	}
	status, retry := login(t, env, map[string]string{"precinct_id": "p0002", "pin": env.PINs["p0002"]}, "")
	if secs, err := strconv.Atoi(retry); status != http.StatusServiceUnavailable || err != nil || secs < 2 || secs > 10 {
		t.Fatalf("PIN login with the lane full: %d, Retry-After %q; want 503 with 2–10 s", status, retry)
	}
	if status, _ := login(t, env, map[string]string{"precinct_id": "p0002", "token": env.Tokens["p0002"]}, ""); status != http.StatusOK {
		t.Fatalf("QR login with the PIN lane full: %d", status)
	}
	close(g.gate)
	for range 2 {
		if status := <-held; status != http.StatusOK {
			t.Fatalf("held PIN login: %d", status)
		}
	}
}

// TestLoginLoosePrecinct: a chair who types the precinct as the packet prints it (its name, any
// case, spaces for hyphens) is logged in to that precinct, and the answer names its ID.
func TestLoginLoosePrecinct(t *testing.T) {
	env := servertest.Start(t, servertest.Options{Precincts: 2})
	for _, typed := range []string{"P0001", " p0001 ", "Precinct 1", "precinct-1", "Alpha Precinct 1"} {
		b, _ := json.Marshal(map[string]string{"precinct_id": typed, "pin": env.PINs["p0001"]})
		status, body := env.Do("POST", "/api/v1/login", "", b)
		var got struct {
			PrecinctID string `json:"precinct_id"`
		}
		json.Unmarshal(body, &got)
		if status != http.StatusOK || got.PrecinctID != "p0001" {
			t.Errorf("login as %q: %d %s", typed, status, body)
		}
	}
	b, _ := json.Marshal(map[string]string{"precinct_id": "Precinct 1", "pin": env.PINs["p0000"]})
	if status, body := env.Do("POST", "/api/v1/login", "", b); status != http.StatusUnauthorized {
		t.Errorf("another precinct's PIN: %d %s", status, body)
	}
}
