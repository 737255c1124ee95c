package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	_ "modernc.org/sqlite"

	"caucus/internal/server/servertest"
	"caucus/internal/tlog"
)

// watchOut is verify's stdout, read while it runs: onLine sees every line as it is written.
type watchOut struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	onLine func(string)
}

func (w *watchOut) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	for _, l := range strings.SplitAfter(string(p), "\n") {
		if w.onLine != nil && l != "" {
			w.onLine(l)
		}
	}
	return len(p), nil
}

func (w *watchOut) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// TestVerifyWatch runs `caucus verify --watch` as a campaign's observer would, bounded by
// --rounds and a short --every: it keeps passing while chairs report between (and during)
// rounds, and when the server starts lying mid-watch it fails in that very round.
func TestVerifyWatch(t *testing.T) {
	env := servertest.Start(t, servertest.Options{Precincts: 60})
	ps := env.Def.Precincts()
	var next atomic.Int64
	report := func() bool {
		i := int(next.Add(1) - 1)
		if i >= len(ps) {
			return false
		}
		tok := env.Login(ps[i].ID)
		body, _ := json.Marshal(env.Report(ps[i].ID, fmt.Sprintf("watch-%d", i), i))
		if status, b := env.Do("POST", "/api/v1/reports", tok, body); status != http.StatusCreated {
			t.Errorf("report %d: %d %s", i, status, b)
		}
		return true
	}
	for range 5 {
		report()
	}
	if err := env.Server.SignCheckpoint(context.Background()); err != nil {
		t.Fatal(err)
	}
	_, b := env.Do("GET", "/api/v1/results", "", nil)
	var res struct {
		LogPublicKey string `json:"log_public_key"`
	}
	json.Unmarshal(b, &res)

	// The server lies from the moment tamper is set: adams' state total is one more.
	var tamper atomic.Bool
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		resp, err := http.Get(env.URL + r.URL.RequestURI())
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if tamper.Load() && r.URL.Path == "/api/v1/results" {
			body = regexp.MustCompile(`("candidate_id":"adams","name":"adams","first":)([0-9]+)`).ReplaceAllFunc(body, func(m []byte) []byte {
				i := bytes.LastIndexByte(m, ':') + 1
				var n int
				fmt.Sscan(string(m[i:]), &n)
				return fmt.Appendf(m[:i:i], "%d", n+1)
			})
		}
		for k, v := range resp.Header {
			if k != "Content-Length" {
				w.Header()[k] = v
			}
		}
		w.WriteHeader(resp.StatusCode)
		w.Write(body)
	}))
	defer proxy.Close()

	t.Run("passes while reports arrive", func(t *testing.T) {
		// Reports arrive all through the watch: a burst as each round starts, and more while
		// verify reads.
		out := &watchOut{onLine: func(l string) {
			if strings.HasPrefix(l, "round ") {
				go func() {
					for range 4 {
						report()
					}
				}()
			}
		}}
		cp := filepath.Join(t.TempDir(), "checkpoint")
		code := (&Main{}).Run(context.Background(), []string{"verify", "--url", proxy.URL, "--key", res.LogPublicKey,
			"--checkpoint", cp, "--watch", "--rounds", "6", "--every", "20ms"}, strings.NewReader(""), out, io.Discard)
		s := out.String()
		if code != 0 || strings.Count(s, "summary: OK") != 6 || strings.Contains(s, "FAIL") {
			t.Fatalf("exit %d, want 6 rounds that pass:\n%s", code, s)
		}
		sizes := regexp.MustCompile(`summary: OK — log of ([0-9]+) entries`).FindAllStringSubmatch(s, -1)
		if sizes[0][1] == sizes[len(sizes)-1][1] {
			t.Errorf("the log did not grow during the watch: %v", sizes)
		}
		t.Logf("log sizes seen: %v", sizes)
	})

	t.Run("fails at once on a tamper", func(t *testing.T) {
		tamper.Store(false)
		out := &watchOut{}
		out.onLine = func(l string) {
			if strings.HasPrefix(l, "round 3 ") {
				tamper.Store(true)
			}
		}
		code := (&Main{}).Run(context.Background(), []string{"verify", "--url", proxy.URL, "--key", res.LogPublicKey,
			"--watch", "--rounds", "50", "--every", "20ms"}, strings.NewReader(""), out, io.Discard)
		s := out.String()
		if code != 1 {
			t.Fatalf("exit %d, want 1:\n%s", code, s)
		}
		if strings.Count(s, "summary: OK") != 2 || strings.Contains(s, "round 4 ") {
			t.Errorf("want 2 rounds that pass, then a failure in round 3:\n%s", s)
		}
		if !regexp.MustCompile(`FAIL  total: state candidate adams first: published [0-9]+, recomputed [0-9]+`).MatchString(s) {
			t.Errorf("the failure does not name the record and both values:\n%s", s)
		}
	})
}

// TestLogKeyNeverServed: the log's private key (with it anyone could sign a forged log) is in
// its own 0600 file beside the database and nowhere else, the database included. `caucus demo` prints the public key; the private key of the
// election's log and of its practice twin appears in no response of any route of either site
// (errors, 404s, the log, results, pages, static files), nor in anything the demo prints or logs.
func TestLogKeyNeverServed(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "demo")
	ctx, cancel := context.WithCancel(context.Background())
	var stdout, stderr watchOut
	started := make(chan string, 1)
	stdout.onLine = func(l string) {
		if m := regexp.MustCompile(`^  results +(http://[0-9.:]+/)api/v1/results`).FindStringSubmatch(l); m != nil {
			started <- m[1]
		}
	}
	done := make(chan int, 1)
	go func() {
		done <- (&Main{}).Run(ctx, []string{"demo", "--data", dir, "--addr", "127.0.0.1:0"}, strings.NewReader(""), &stdout, &stderr)
	}()
	var base string
	select {
	case base = <-started:
	case code := <-done:
		t.Fatalf("demo exited %d:\n%s\n%s", code, stdout.String(), stderr.String())
	}
	defer func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("demo exited %d", code)
		}
	}()
	// A chair reports on both sites, so that both logs have entries, tiles and checkpoints.
	pins := readPins(t, filepath.Join(dir, "credentials", "pins.csv"))
	status, b := post(t, base+"api/v1/login", "", map[string]string{"precinct_id": "adair-1nw-adair", "pin": pins["adair-1nw-adair"]})
	if status != 200 {
		t.Fatalf("login: %d %s", status, b)
	}
	var login struct{ Token string }
	json.Unmarshal(b, &login)
	for _, r := range []struct {
		site  string
		votes map[string]int
	}{{"", map[string]int{"biden": 6, "buttigieg": 9, "klobuchar": 7, "sanders": 8}}, {"practice/", map[string]int{"oakhurst": 12, "wrenfield": 8}}} {
		total := 0
		for _, v := range r.votes {
			total += v
		}
		if status, b := post(t, base+r.site+"api/v1/reports", login.Token, map[string]any{"report_id": "key" + strings.TrimSuffix(r.site, "/"),
			"precinct_id": "adair-1nw-adair", "attendees": total, "first": r.votes, "final": r.votes}); status != 201 {
			t.Fatalf("report on %q: %d %s", r.site, status, b)
		}
	}
	// The private keys, as an attacker with the key files has them; the databases hold none.
	var secrets []string
	for _, name := range []string{"caucus", "caucus-practice"} {
		keyFile := filepath.Join(dir, name+".log-key")
		st, err := os.Stat(keyFile)
		if err != nil || st.Mode().Perm() != 0o600 {
			t.Fatalf("%s: %v, %v", keyFile, st, err)
		}
		b, err := os.ReadFile(keyFile)
		if err != nil {
			t.Fatal(err)
		}
		skey := strings.TrimSpace(string(b))
		parts := strings.SplitN(skey, "+", 5)
		if len(parts) != 5 || parts[0] != "PRIVATE" {
			t.Fatalf("%s: not a note signer key", keyFile)
		}
		d, err := sql.Open("sqlite", filepath.Join(dir, name+".db"))
		if err != nil {
			t.Fatal(err)
		}
		var n int
		err = d.QueryRow("SELECT count(*) FROM kv WHERE name = ?", tlog.KeyValue).Scan(&n)
		d.Close()
		if err != nil || n != 0 {
			t.Errorf("%s.db holds a log key (%d, %v)", name, n, err)
		}
		secrets = append(secrets, skey, parts[4]) // the whole key, and its base64 seed alone
	}
	if secrets[0] == secrets[2] {
		t.Errorf("the election and its practice twin share a log key")
	}
	// The public key is printed, and is the one the results name.
	var pub struct {
		LogPublicKey string `json:"log_public_key"`
	}
	json.Unmarshal(get(t, base+"api/v1/results"), &pub)
	if pub.LogPublicKey == "" || !strings.Contains(stdout.String(), "  log key       "+pub.LogPublicKey+"\n") {
		t.Errorf("demo does not print the log's public key %q:\n%s", pub.LogPublicKey, stdout.String())
	}
	// Every route of both sites, the ones that fail too.
	var paths []string
	for _, site := range []string{"", "practice/"} {
		for _, p := range []string{"", "api/v1/results", "api/v1/results/counties", "api/v1/results/counties/adair",
			"api/v1/results/precincts/adair-1nw-adair", "api/v1/results.csv", "api/v1/election", "api/v1/events",
			"log/checkpoint", "log/tile/0/000.p/1", "log/tile/entries/000.p/1", "log/tile/1/000", "log/tile/bad",
			"log/proof?index=0", "log/proof?index=99", "api/v1/precincts/adair-1nw-adair", "healthz", "metrics",
			"results", "results/adair", "no/such/page", "api/v1/reports", "api/v1/login"} {
			paths = append(paths, site+p)
		}
	}
	client := &http.Client{}
	for _, p := range paths {
		for _, method := range []string{"GET", "POST"} {
			ctx, cancel := context.WithTimeout(context.Background(), 300e6) // SSE never ends: its first bytes suffice
			req, _ := http.NewRequestWithContext(ctx, method, base+p, strings.NewReader("{}"))
			resp, err := client.Do(req)
			if err != nil {
				cancel()
				t.Fatalf("%s %s: %v", method, p, err)
			}
			var body bytes.Buffer
			io.Copy(&body, resp.Body)
			resp.Body.Close()
			cancel()
			var head bytes.Buffer
			resp.Header.Write(&head)
			for _, s := range secrets {
				if strings.Contains(body.String(), s) || strings.Contains(head.String(), s) {
					t.Errorf("%s %s (%d) serves the log's private key", method, p, resp.StatusCode)
				}
			}
		}
	}
	for _, s := range secrets {
		if strings.Contains(stdout.String(), s) || strings.Contains(stderr.String(), s) {
			t.Errorf("the demo prints or logs the log's private key")
		}
	}
	t.Logf("%d routes × GET, POST on both sites; public key %s", len(paths), pub.LogPublicKey)
}
