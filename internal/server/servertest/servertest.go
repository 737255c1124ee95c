// Package servertest starts a real caucus server for tests: a real SQLite file, real argon2id
// credentials (with cheap parameters), real HTTP on loopback, and the invariant checker of
// spec/reliability.md B0 that every server test ends with. It is for tests only.
package servertest

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"caucus/internal/auth"
	"caucus/internal/election"
	"caucus/internal/hotline"
	"caucus/internal/hq"
	"caucus/internal/night"
	"caucus/internal/report"
	"caucus/internal/rules"
	"caucus/internal/server"
	"caucus/internal/store"
	"caucus/internal/store/sqlite"
	"caucus/internal/tally"
	"caucus/internal/tlog/c2sp"
)

// CheapParams hash test PINs fast: the hashing is real argon2id, only lighter.
var CheapParams = auth.Params{MemoryKiB: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

// SessionCache is the servers' auth.Config.SessionCache, as caucus serve sets it.
var SessionCache = 5 * time.Second

// Candidates of the test election, in ballot order.
var Candidates = []string{"adams", "baker", "clark", "davis", "uncommitted"}

// Definition is a small election: one county, n precincts electing 4 to 8 delegates.
func Definition(t testing.TB, n int) *election.Definition {
	t.Helper()
	e := election.Election{ID: "test-2020", Name: "Test caucus", Date: "2020-02-03", Rules: election.RulesIowa}
	for _, c := range Candidates {
		e.Candidates = append(e.Candidates, election.Candidate{ID: c, Name: c})
	}
	var ps []election.Precinct
	total := 0
	for i := range n {
		d := 4 + i%5
		total += d
		ps = append(ps, election.Precinct{ID: fmt.Sprintf("p%04d", i), CountyID: "alpha", Name: fmt.Sprintf("Precinct %d", i), DelegatesToElect: d})
	}
	sde, err := election.ParseSDE(fmt.Sprint(total / 10))
	if err != nil {
		t.Fatal(err)
	}
	def, err := election.New(e, []election.County{{ID: "alpha", Name: "Alpha", CountyDelegates: total, StateDelegates: sde}}, ps)
	if err != nil {
		t.Fatal(err)
	}
	return def
}

// Options shape an Env.
type Options struct {
	Precincts       int // default 20
	MaxBatch, Queue int // intake tuning; 0: defaults
	// Wrap, when set, wraps the store the server uses (fault injection).
	Wrap func(store.Store) store.Store
	// Def, when set, is the election instead of Definition(Precincts) (e.g. Iowa 2020).
	Def *election.Definition
	// NoCredentials skips issuing PINs (benchmarks with thousands of precincts log chairs in
	// with ChairSessions instead).
	NoCredentials bool
	// Now, when set, is the login clock (auth's), so a test can step past a back-off.
	Now func() time.Time
	// TrustedProxies are the server's (server.Config.TrustedProxies).
	TrustedProxies []netip.Prefix
	// WrapAuth, when set, wraps the store the Authenticator uses (fault injection).
	WrapAuth func(auth.Store) auth.Store
	// MaxConcurrentHashes and MaxWaitingHashes size auth's hashing lanes; 0: auth's defaults.
	MaxConcurrentHashes, MaxWaitingHashes int
	// MaxStreams is the server's cap on open event streams; 0: the server's default.
	MaxStreams int
	// Contacts are the chairs' contacts the headquarters board shows (contacts.csv); nil: none.
	Contacts hq.Contacts
}

// Env is a running server.
type Env struct {
	t      testing.TB
	opts   Options
	Def    *election.Definition
	Path   string
	DB     *sqlite.DB
	Night  *night.Night
	Server *server.Server
	Auth   *auth.Authenticator
	Desk   *hotline.Desk // the hotline, on the same database
	HTTP   *httptest.Server
	URL    string
	PINs   map[string]string // precinct → PIN
	Tokens map[string]string // precinct → QR token
	cancel context.CancelFunc
	done   chan struct{}

	checkpoints []c2sp.Checkpoint // every checkpoint Check has seen, for B0.2
}

// Start starts a server and issues credentials for every precinct.
func Start(t testing.TB, opts Options) *Env {
	t.Helper()
	if opts.Precincts == 0 {
		opts.Precincts = 20
	}
	def := opts.Def
	if def == nil {
		def = Definition(t, opts.Precincts)
	}
	env := &Env{t: t, opts: opts, Def: def, Path: filepath.Join(t.TempDir(), "caucus.db"), PINs: map[string]string{}, Tokens: map[string]string{}}
	env.open()
	t.Cleanup(env.Stop)
	if opts.NoCredentials {
		return env
	}
	ids := make([]string, 0, len(def.Precincts()))
	for _, p := range env.Def.Precincts() {
		ids = append(ids, p.ID)
	}
	secrets, err := auth.GeneratePrecinctSecrets(ids)
	if err != nil {
		t.Fatal(err)
	}
	creds, err := auth.HashPrecinctSecrets(context.Background(), secrets, CheapParams)
	if err != nil {
		t.Fatal(err)
	}
	if err := env.DB.PutPrecinctCredentials(context.Background(), "system", creds); err != nil {
		t.Fatal(err)
	}
	for _, s := range secrets {
		env.PINs[s.PrecinctID] = s.PIN.Reveal()
		env.Tokens[s.PrecinctID] = s.Token.Reveal()
	}
	return env
}

// ChairSessions logs the chairs of precincts in without their PINs and returns their session
// tokens, in order: the sessions a chair's login stores (auth's token format: 32 random bytes
// in unpadded base64url, kept as its SHA-256), written in one transaction, so that a benchmark
// can log in thousands of chairs in a moment.
func (env *Env) ChairSessions(precincts []string) []string {
	t := env.t
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+env.Path+"?_pragma=busy_timeout(10000)&_txlock=immediate")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	tokens := make([]string, len(precincts))
	for i, p := range precincts {
		var b [32]byte
		rand.Read(b[:])
		tokens[i] = base64.RawURLEncoding.EncodeToString(b[:])
		h := sha256.Sum256([]byte(tokens[i]))
		if _, err := tx.Exec(`INSERT INTO sessions (token_hash, subject, role, created_at, expires_at) VALUES (?, ?, 'chair', ?, ?)`,
			h[:], p, now.UnixMilli(), now.Add(auth.ChairSessionTTL).UnixMilli()); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	// The first token reads back as its chair's session, as Authenticate reads it.
	if len(tokens) > 0 {
		tok, err := auth.ParseSessionToken(tokens[0])
		if err != nil {
			t.Fatal(err)
		}
		sess, err := env.DB.Session(context.Background(), tok.ID())
		if err != nil || sess.Role != auth.RoleChair || sess.PrecinctID != precincts[0] {
			t.Fatalf("session of %s: %+v, %v", precincts[0], sess, err)
		}
	}
	return tokens
}

func (env *Env) open() {
	t := env.t
	ctx := context.Background()
	db, err := sqlite.Open(ctx, env.Path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	env.DB = db
	var st store.Store = db
	if env.opts.Wrap != nil {
		st = env.opts.Wrap(db)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	now := env.opts.Now
	if now == nil {
		now = time.Now
	}
	var as auth.Store = db
	if env.opts.WrapAuth != nil {
		as = env.opts.WrapAuth(db)
	}
	pinDigits, err := auth.PINDigitsFor(len(env.Def.Precincts()))
	if err != nil {
		t.Fatal(err)
	}
	authn, err := auth.New(auth.Config{Store: as, Now: now, Log: log, SessionCache: SessionCache,
		MaxConcurrentHashes: env.opts.MaxConcurrentHashes, MaxWaitingHashes: env.opts.MaxWaitingHashes, PINDigits: pinDigits})
	if err != nil {
		t.Fatal(err)
	}
	n, err := night.Open(ctx, night.Config{Def: env.Def, Store: st, Log: log, MaxBatch: env.opts.MaxBatch, Queue: env.opts.Queue,
		Counters: authn})
	if err != nil {
		t.Fatal(err)
	}
	env.Night = n
	env.Auth = authn
	env.Desk = hotline.New(hotline.Config{Def: env.Def, Store: db, Submit: n, PINs: authn, Now: now})
	board, err := hq.New(hq.Config{Main: n, Store: db, Contacts: env.opts.Contacts, FlushFailures: authn.FlushFailures,
		Hotline: env.Desk.Stats, Now: now, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	env.Server = server.New(server.Config{Main: n, Auth: authn, Hotline: env.Desk, Log: log, TrustedProxies: env.opts.TrustedProxies,
		MaxStreams: env.opts.MaxStreams, HQ: board})
	// As caucus serve listens: its header limit, and net/http's own error answers with the
	// security headers.
	env.HTTP = httptest.NewUnstartedServer(env.Server.Handler())
	env.HTTP.Listener = server.Listener(env.HTTP.Listener)
	env.HTTP.Config.MaxHeaderBytes = server.MaxHeaderBytes
	env.HTTP.Start()
	env.URL = env.HTTP.URL
	runCtx, cancel := context.WithCancel(context.Background())
	env.cancel, env.done = cancel, make(chan struct{})
	go func() { n.Run(runCtx); close(env.done) }()
}

// Stop shuts the server down (idempotent).
func (env *Env) Stop() {
	if env.HTTP == nil {
		return
	}
	env.HTTP.Close()
	env.cancel()
	<-env.done
	env.DB.Close()
	env.HTTP = nil
}

// Restart stops the server and starts it again on the same database file.
func (env *Env) Restart() {
	env.Stop()
	env.open()
}

// Do sends a request and returns the status and body.
func (env *Env) Do(method, path, token string, body []byte) (int, []byte) {
	env.t.Helper()
	req, err := http.NewRequest(method, env.URL+path, bytes.NewReader(body))
	if err != nil {
		env.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		env.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		env.t.Fatal(err)
	}
	return resp.StatusCode, b
}

// Login logs a precinct's chair in and returns the session token. A 503 (auth's hashing
// lanes full, when many chairs log in at once) is retried, as the app does after Retry-After,
// only sooner.
func (env *Env) Login(precinct string) string {
	env.t.Helper()
	body, _ := json.Marshal(map[string]string{"precinct_id": precinct, "pin": env.PINs[precinct]})
	status, b := env.Do("POST", "/api/v1/login", "", body)
	for tries := 0; status == http.StatusServiceUnavailable && tries < 100; tries++ {
		time.Sleep(50 * time.Millisecond)
		status, b = env.Do("POST", "/api/v1/login", "", body)
	}
	if status != http.StatusOK {
		env.t.Fatalf("login %s: %d %s", precinct, status, b)
	}
	var out struct{ Token string }
	json.Unmarshal(b, &out)
	return out.Token
}

// Report is a valid report for a precinct, chosen by seed: people realign from one small group,
// the math needs no game of chance and no check fires as an error.
func (env *Env) Report(precinct, reportID string, seed int) report.Report {
	env.t.Helper()
	facts := report.Facts(env.Def)[precinct]
	for k := 0; k < 1000; k++ {
		s := seed + k*7919
		counts := []int64{int64(40 + s%17), int64(27 + s%7), int64(13 + s%5), int64(3)}
		first := map[string]int64{}
		var total int64
		for i, c := range counts {
			first[Candidates[i]] = c
			total += c
		}
		final := map[string]int64{Candidates[0]: counts[0], Candidates[1]: counts[1] + counts[3], Candidates[2]: counts[2]}
		r := report.Report{ReportID: reportID, PrecinctID: precinct, Attendees: total, First: first, Final: final, Channel: "app"}
		if res := rules.Calc(report.CalcInput(r, facts)); !res.HasErrors() {
			return r
		}
	}
	env.t.Fatalf("no valid report found for %s", precinct)
	return report.Report{}
}

// Acked is what a test remembers of an acknowledged report.
type Acked struct {
	mu       sync.Mutex
	Receipts map[string]report.Receipt // report_id → receipt
}

// Add records a receipt; the same report_id must always get the same receipt.
func (a *Acked) Add(t testing.TB, r report.Receipt) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.Receipts == nil {
		a.Receipts = map[string]report.Receipt{}
	}
	if old, ok := a.Receipts[r.ReportID]; ok && (old.LogIndex != r.LogIndex || old.LeafHash != r.LeafHash) {
		t.Errorf("report %s acknowledged twice with different receipts: %+v and %+v", r.ReportID, old, r)
	}
	a.Receipts[r.ReportID] = r
}

// Check is the global invariant check of spec/reliability.md B0.
func (env *Env) Check(acked *Acked) {
	t := env.t
	t.Helper()
	ctx := context.Background()
	// B0.1: every acked report_id stored exactly once, byte-identical to what was acked.
	for id, r := range acked.Receipts {
		e, err := env.DB.EntryByReportID(ctx, id)
		if err != nil {
			t.Errorf("B0.1: acknowledged report %s is not stored: %v", id, err)
			continue
		}
		if e.Index != r.LogIndex || report.HexHash(e.LeafHash) != r.LeafHash || report.HexHash(store.LeafHash(e.Body)) != r.LeafHash {
			t.Errorf("B0.1: report %s stored at %d with hash %x, receipt says %d %s", id, e.Index, e.LeafHash, r.LogIndex, r.LeafHash)
		}
	}
	size, err := env.DB.Size(ctx)
	if err != nil {
		t.Fatal(err)
	}
	entries, err := env.DB.Entries(ctx, 0, size)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for i, e := range entries {
		if e.Index != int64(i) {
			t.Errorf("B0.1: entry %d has index %d", i, e.Index)
		}
		if e.ReportID != "" && seen[e.ReportID] {
			t.Errorf("B0.1: report_id %s stored twice", e.ReportID)
		}
		seen[e.ReportID] = true
	}
	// B0.3: published totals = a recount from the log's leaves by another path.
	recount, err := tally.RecountWithPolicy(env.Def, entries, env.checkLog(entries), env.Night.Policy())
	if err != nil {
		t.Fatalf("B0.3: recount: %v", err)
	}
	status, published := env.Do("GET", "/api/v1/results", "", nil)
	want, _ := recount.Results()
	if status != http.StatusOK || !bytes.Equal(published, want) {
		t.Errorf("B0.3: published results differ from the recount:\n%s\n%s", published, want)
	}
	var res struct {
		Candidates []struct {
			CandidateID            string `json:"candidate_id"`
			First, Final, Delegate int64
		} `json:"candidates"`
	}
	json.Unmarshal(published, &res)
	for _, c := range res.Candidates {
		if c.First < 0 || c.Final < 0 {
			t.Errorf("B0.3: negative count for %s", c.CandidateID)
		}
	}
	// B0.4: the database is sound.
	if err := env.DB.IntegrityCheck(ctx); err != nil {
		t.Errorf("B0.4: %v", err)
	}
	// B0.5: every stored entry has its audit row.
	audited := map[string]bool{}
	for after := int64(0); ; {
		rows, err := env.DB.Audit(ctx, after, 1000)
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) == 0 {
			break
		}
		for _, a := range rows {
			var d struct {
				ReportID string `json:"report_id"`
			}
			json.Unmarshal(a.Detail, &d)
			if d.ReportID != "" {
				audited[d.ReportID] = true
			}
			after = a.ID
		}
	}
	for _, e := range entries {
		if e.ReportID != "" && !audited[e.ReportID] {
			t.Errorf("B0.5: stored report %s has no audit row", e.ReportID)
		}
	}
}

// ValidPIN reports whether a PIN passes its format and check digit.
func ValidPIN(s string) bool {
	_, err := auth.ParsePIN(s)
	return err == nil
}
