package verify_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
	_ "modernc.org/sqlite"

	"caucus/internal/client"
	"caucus/internal/report"
	"caucus/internal/resultscsv"
	"caucus/internal/server/servertest"
	"caucus/internal/tlog"
	"caucus/internal/tlog/c2sp"
	"caucus/internal/verify"
)

// night is a server after a few hundred reports, some of them conflicting second reports.
type night struct {
	env      *servertest.Env
	receipts []report.Receipt
	key      string // the log's verifier key
	skey     string // its signer key, as an attacker with the database file has it
}

const precincts = 300

func newNight(t *testing.T) *night {
	t.Helper()
	env := servertest.Start(t, servertest.Options{Precincts: precincts})
	n := &night{env: env}
	var acked servertest.Acked
	var mu sync.Mutex
	var wg sync.WaitGroup
	sem := make(chan struct{}, 16)
	for i, p := range env.Def.Precincts() {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			tok := env.Login(p.ID)
			submit := func(id string, seed int) (int, report.Receipt) {
				body, _ := json.Marshal(env.Report(p.ID, id, seed))
				status, b := env.Do("POST", "/api/v1/reports", tok, body)
				var r report.Receipt
				if status == http.StatusConflict {
					var c struct{ Receipt report.Receipt }
					json.Unmarshal(b, &c)
					return status, c.Receipt
				}
				json.Unmarshal(b, &r)
				return status, r
			}
			status, r := submit(fmt.Sprintf("r-%d", i), i)
			if status != http.StatusCreated {
				t.Errorf("report for %s: %d", p.ID, status)
				return
			}
			acked.Add(t, r)
			mu.Lock()
			n.receipts = append(n.receipts, r)
			mu.Unlock()
			if i%15 == 0 { // a conflicting second report: kept, precinct under review
				if status, r := submit(fmt.Sprintf("r-%d-b", i), i+1); status != http.StatusConflict {
					t.Errorf("second report for %s: %d", p.ID, status)
				} else {
					acked.Add(t, r)
				}
			}
		}()
	}
	wg.Wait()
	if err := env.Server.SignCheckpoint(context.Background()); err != nil {
		t.Fatal(err)
	}
	env.Check(&acked)
	skey, err := env.DB.Value(context.Background(), tlog.KeyValue)
	if err != nil {
		t.Fatal(err)
	}
	n.skey = string(skey)
	c, _ := client.New(env.URL, nil)
	res, err := c.Results(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	n.key = res.LogPublicKey
	return n
}

// verifyAt runs verify against url and returns its findings as text.
func verifyAt(t *testing.T, url string, cfg verify.Config) (*verify.Result, string) {
	t.Helper()
	c, err := client.New(url, nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Client = c
	var out bytes.Buffer
	cfg.Out = &out
	res, err := verify.Run(context.Background(), cfg)
	if err != nil {
		t.Fatalf("verify: %v\n%s", err, out.String())
	}
	var b strings.Builder
	for _, f := range res.Findings {
		b.WriteString(f.String() + "\n")
	}
	return res, b.String()
}

// proxy serves the night's server through rewrite, as a server lying in its responses would.
func (n *night) proxy(t *testing.T, rewrite func(path string, body []byte) []byte) string {
	t.Helper()
	target, _ := url.Parse(n.env.URL)
	p := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		resp, err := http.Get(target.String() + r.URL.RequestURI())
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode == http.StatusOK {
			b = rewrite(r.URL.Path, b)
		}
		w.WriteHeader(resp.StatusCode)
		w.Write(b)
	}))
	t.Cleanup(p.Close)
	return p.URL
}

// sign signs a checkpoint text with a signer key.
func sign(t testing.TB, skey, text string) []byte {
	t.Helper()
	s, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	b, err := note.Sign(&note.Note{Text: text}, s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func checkpointText(signed []byte) string { return strings.SplitN(string(signed), "\n\n", 2)[0] + "\n" }

func expect(t *testing.T, res *verify.Result, findings string, want ...string) {
	t.Helper()
	if res.OK() {
		t.Fatalf("verify passed; want a finding naming %q", want)
	}
	for _, w := range want {
		if !strings.Contains(findings, w) {
			t.Errorf("findings do not name %q:\n%s", w, findings)
		}
	}
}

func TestVerify(t *testing.T) {
	n := newNight(t)
	cpFile := filepath.Join(t.TempDir(), "checkpoint")
	res, findings := verifyAt(t, n.env.URL, verify.Config{Key: n.key, CheckpointFile: cpFile})
	if !res.OK() {
		t.Fatalf("verify of a clean night failed:\n%s", findings)
	}
	if res.Precincts != precincts || res.TreeSize < precincts {
		t.Errorf("verified %d precincts in a tree of %d", res.Precincts, res.TreeSize)
	}
	good, _ := os.ReadFile(cpFile)
	size := res.TreeSize
	// A receipt verifies, a second time too (consistent with the saved checkpoint).
	r := n.receipts[7]
	if res, findings := verifyAt(t, n.env.URL, verify.Config{Key: n.key, CheckpointFile: cpFile, Receipt: &r}); !res.OK() {
		t.Fatalf("verify with a receipt failed:\n%s", findings)
	}

	cases := []struct {
		name    string
		rewrite func(path string, body []byte) []byte
		cfg     verify.Config
		want    []string
	}{
		{"V1 entry altered in a bundle", func(path string, b []byte) []byte {
			if path == "/log/tile/entries/000" {
				return bytes.Replace(b, []byte(`"channel":"app"`), []byte(`"channel":"apq"`), 1) // same length
			}
			return b
		}, verify.Config{}, []string{"entry 0: leaf hash in hash tile", "root"}},
		{"V3 entries reordered", func(path string, b []byte) []byte {
			if path == "/log/tile/entries/000" {
				l0 := 2 + int(b[0])<<8 + int(b[1])
				l1 := 2 + int(b[l0])<<8 + int(b[l0+1])
				return append(append(append([]byte{}, b[l0:l0+l1]...), b[:l0]...), b[l0+l1:]...)
			}
			return b
		}, verify.Config{}, []string{"entry 0:"}},
		{"V2 entry removed from a bundle", func(path string, b []byte) []byte {
			if path == "/log/tile/entries/000" {
				l0 := 2 + int(b[0])<<8 + int(b[1])
				return b[l0:]
			}
			return b
		}, verify.Config{}, []string{"missing entry", "255 entries", "256 entries"}},
		{"V6 published total changed", func(path string, b []byte) []byte {
			if path == "/api/v1/results" {
				return bytes.Replace(b, []byte(`"candidate_id":"adams","name":"adams","first":`), []byte(`"candidate_id":"adams","name":"adams","first":1`), 1)
			}
			return b
		}, verify.Config{}, []string{"total: state candidate adams first: published 1"}},
		{"V6 results.csv cell changed", func(path string, b []byte) []byte {
			if path != "/api/v1/results.csv" {
				return b
			}
			rows, err := resultscsv.Read(bytes.NewReader(b))
			if err != nil {
				return b
			}
			for i := range rows {
				if rows[i].ID == "p0003" {
					rows[i].Final["baker"] += 7
				}
			}
			var out bytes.Buffer
			resultscsv.Write(&out, rows)
			return out.Bytes()
		}, verify.Config{}, []string{"total: results.csv precinct p0003 candidate baker final: published ", ", recomputed "}},
		{"precinct delegates changed", func(path string, b []byte) []byte {
			if path == "/api/v1/results/precincts/p0005" {
				return regexp.MustCompile(`("candidate_id":"clark"[^}]*"delegates":)[0-9]+`).ReplaceAll(b, []byte("${1}9"))
			}
			return b
		}, verify.Config{}, []string{"delegates: precinct p0005 candidate clark delegates: published 9"}},
		{"precinct tiebreak published that the log does not record", func(path string, b []byte) []byte {
			if path == "/api/v1/results/precincts/p0005" {
				return bytes.Replace(b, []byte(`"tiebreaks":[]`), []byte(`"tiebreaks":[{"kind":"coin","between":["adams","clark"],"delegates":1,"winner":"clark"}]`), 1)
			}
			return b
		}, verify.Config{}, []string{"tiebreaks: precinct p0005 tiebreaks: published coin adams|clark for 1: clark, recomputed none"}},
		{"V7 bad signature", func(path string, b []byte) []byte {
			if path == "/log/checkpoint" {
				i := bytes.LastIndexByte(b, ' ') + 1
				sig, _ := base64.StdEncoding.DecodeString(strings.TrimSpace(string(b[i:])))
				sig[10] ^= 1 // inside the signature, past the key hash
				return append(bytes.Clone(b[:i]), base64.StdEncoding.EncodeToString(sig)+"\n"...)
			}
			return b
		}, verify.Config{}, []string{"signed note: bad signature"}},
		{"V7 unknown key only", func(path string, b []byte) []byte {
			if path == "/log/checkpoint" {
				other, _, _ := note.GenerateKey(nil, c2sp.Origin("test-2020"))
				return sign(t, other, checkpointText(b))
			}
			return b
		}, verify.Config{}, []string{"no signature by the log's key"}},
		{"V7 wrong origin", func(path string, b []byte) []byte {
			if path == "/log/checkpoint" {
				return sign(t, n.skey, strings.Replace(checkpointText(b), "caucus.example/test-2020", "caucus.example/other", 1))
			}
			return b
		}, verify.Config{}, []string{"origin: checkpoint origin line"}},
		{"V7 extension lines", func(path string, b []byte) []byte {
			if path == "/log/checkpoint" {
				return sign(t, n.skey, checkpointText(b)+"extra\n")
			}
			return b
		}, verify.Config{}, []string{"extension lines"}},
		{"V7 malformed note", func(path string, b []byte) []byte {
			if path == "/log/checkpoint" {
				return bytes.Replace(b, []byte("\n\n"), []byte("\n"), 1)
			}
			return b
		}, verify.Config{}, []string{"malformed note"}},
		{"V7 duplicated signature lines", func(path string, b []byte) []byte {
			if path == "/log/checkpoint" {
				i := bytes.LastIndex(b, []byte("\n\n"))
				return append(bytes.Clone(b), b[i+2:]...)
			}
			return b
		}, verify.Config{}, []string{"duplicated signature lines"}},
		{"V8 hash tile tampered", func(path string, b []byte) []byte {
			if strings.HasPrefix(path, "/log/tile/1/") {
				b = bytes.Clone(b)
				b[0] ^= 1
			}
			return b
		}, verify.Config{}, []string{"inconsistent tile: level 1 index 0"}},
		{"V8 partial tile width", func(path string, b []byte) []byte {
			if strings.HasPrefix(path, "/log/tile/0/001.p/") {
				return b[:len(b)-32]
			}
			return b
		}, verify.Config{}, []string{"inconsistent tile: level 0 index 1", "width"}},
		{"V9 receipt not in the log", func(path string, b []byte) []byte { return b },
			verify.Config{Receipt: &report.Receipt{ReportID: "made-up", PrecinctID: "p0001", LogIndex: size + 40, LeafHash: strings.Repeat("ab", 32)}},
			[]string{"receipt: receipt for report made-up (log_index", "not in the log"}},
		{"V9 receipt with a wrong leaf hash", func(path string, b []byte) []byte { return b },
			verify.Config{Receipt: &report.Receipt{ReportID: r.ReportID, PrecinctID: r.PrecinctID, LogIndex: r.LogIndex, LeafHash: strings.Repeat("cd", 32)}},
			[]string{"receipt for report " + r.ReportID, "not in the log"}},
		{"V5 checkpoint older than one seen before", func(path string, b []byte) []byte {
			if path == "/log/checkpoint" {
				return sign(t, n.skey, strings.Replace(checkpointText(b), fmt.Sprintf("\n%d\n", size), "\n3\n", 1))
			}
			return b
		}, verify.Config{CheckpointFile: cpFile}, []string{"rollback: checkpoint tree size: published 3, recomputed " + fmt.Sprint(size)}},
		{"V11 checkpoint stops advancing", func(path string, b []byte) []byte {
			if path == "/api/v1/results" {
				return bytes.Replace(b, []byte(fmt.Sprintf(`"log_size":%d`, size)), []byte(fmt.Sprintf(`"log_size":%d`, size+1)), 1)
			}
			return b
		}, verify.Config{StaleAfter: 300 * time.Millisecond}, []string{"stale checkpoint", fmt.Sprintf("log_size %d", size+1), fmt.Sprintf("checkpoint size %d", size)}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			os.WriteFile(cpFile, good, 0o644)
			cfg := c.cfg
			cfg.Key = n.key
			res, findings := verifyAt(t, n.proxy(t, c.rewrite), cfg)
			expect(t, res, findings, c.want...)
			t.Logf("%s", findings)
		})
	}
}

// TestVerifyDatabaseTamper tampers with the SQLite file as an attacker with file access would:
// the append-only triggers dropped, an entry rewritten in place, another deleted; then a second
// server on a rewritten copy signs a fork of the log.
func TestVerifyDatabaseTamper(t *testing.T) {
	n := newNight(t)
	cpFile := filepath.Join(t.TempDir(), "checkpoint")
	if res, findings := verifyAt(t, n.env.URL, verify.Config{Key: n.key, CheckpointFile: cpFile}); !res.OK() {
		t.Fatalf("clean: %s", findings)
	}
	raw := func(path string, stmts ...string) {
		db, err := sql.Open("sqlite", path)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		for _, s := range stmts {
			if _, err := db.Exec(s); err != nil {
				t.Fatalf("%s: %v", s, err)
			}
		}
	}
	// The fork: a copy of the database with entry 2 rewritten and the signed checkpoint removed,
	// served by a second server with the same key.
	forkPath := filepath.Join(t.TempDir(), "fork.db")
	raw(n.env.Path, "VACUUM INTO '"+forkPath+"'")
	raw(forkPath, "DROP TRIGGER entries_no_update", "DELETE FROM kv WHERE name = 'tlog/checkpoint'")
	func() {
		db, err := sql.Open("sqlite", forkPath)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		var body []byte
		if err := db.QueryRow("SELECT body FROM entries WHERE idx = 2").Scan(&body); err != nil {
			t.Fatal(err)
		}
		body = bytes.Replace(body, []byte(`"channel":"app"`), []byte(`"channel":"apq"`), 1)
		h := sha256.Sum256(append([]byte{0}, body...))
		if _, err := db.Exec("UPDATE entries SET body = ?, leaf_hash = ? WHERE idx = 2", body, h[:]); err != nil {
			t.Fatal(err)
		}
	}()
	fork := servertest.Start(t, servertest.Options{Precincts: precincts})
	fork.Stop()
	fork.Path = forkPath
	fork.Restart()
	res, findings := verifyAt(t, fork.URL, verify.Config{Key: n.key, CheckpointFile: cpFile})
	expect(t, res, findings, "SECURITY ERROR: fork", "both signed notes kept in "+cpFile+".fork")
	if ev, err := os.ReadFile(cpFile + ".fork"); err != nil || bytes.Count(ev, []byte("— caucus.example/test-2020 ")) != 2 {
		t.Errorf("fork evidence: %v\n%s", err, ev)
	}
	t.Logf("fork:\n%s", findings)

	raw(n.env.Path, "DROP TRIGGER entries_no_update",
		"UPDATE entries SET body = CAST(replace(CAST(body AS TEXT), '\"channel\":\"app\"', '\"channel\":\"apq\"') AS BLOB) WHERE idx = 17")
	res, findings = verifyAt(t, n.env.URL, verify.Config{Key: n.key, CheckpointFile: cpFile})
	expect(t, res, findings, "entry 17: leaf hash", "root: tree of size")
	t.Logf("altered:\n%s", findings)

	raw(n.env.Path, "DROP TRIGGER entries_no_delete", "DELETE FROM entries WHERE idx = 300")
	res, findings = verifyAt(t, n.env.URL, verify.Config{Key: n.key, CheckpointFile: cpFile})
	expect(t, res, findings, "missing entry", "entries 256 to")
	t.Logf("removed:\n%s", findings)
}

// TestVerifyWhileReporting runs verify again and again while chairs keep reporting: every run
// passes, none stops with "run again", since each document is checked against the tree of the
// log size it names.
func TestVerifyWhileReporting(t *testing.T) {
	env := servertest.Start(t, servertest.Options{Precincts: 400})
	ps := env.Def.Precincts()
	submit := func(i int) {
		tok := env.Login(ps[i].ID)
		body, _ := json.Marshal(env.Report(ps[i].ID, fmt.Sprintf("w-%d", i), i))
		if status, b := env.Do("POST", "/api/v1/reports", tok, body); status != http.StatusCreated {
			t.Errorf("report %d: %d %s", i, status, b)
		}
	}
	for i := range 50 {
		submit(i)
	}
	if err := env.Server.SignCheckpoint(context.Background()); err != nil {
		t.Fatal(err)
	}
	c, _ := client.New(env.URL, nil)
	first, err := c.Results(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		var wg sync.WaitGroup
		for w := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 50 + w; i < len(ps); i += 4 {
					submit(i)
				}
			}()
		}
		wg.Wait()
	}()
	cpFile := filepath.Join(t.TempDir(), "checkpoint")
	runs, overlapped, moving := 0, 0, 0
	for finished := false; !finished; runs++ {
		select {
		case <-done:
			finished = true
		default:
		}
		var out bytes.Buffer
		res, err := verify.Run(context.Background(), verify.Config{Client: c, Key: first.LogPublicKey, CheckpointFile: cpFile, Out: &out})
		if err != nil {
			t.Fatalf("run %d: %v\n%s", runs, err, out.String())
		}
		if !res.OK() {
			t.Fatalf("run %d while reporting: %v\n%s", runs, res.Findings, out.String())
		}
		if strings.Contains(out.String(), "reports arrived while verify read") {
			overlapped++
		}
		if res.TreeSize < int64(len(ps)) {
			moving++
		}
	}
	t.Logf("%d runs, %d while the log grew, %d saw documents of several log sizes or a newer checkpoint", runs, moving, overlapped)
	if moving == 0 {
		t.Errorf("no run overlapped the reports: the test tested nothing")
	}
}
