// Package simulate rehearses caucus night against a running server (spec/interfaces.md
// `caucus simulate`): chairs log in and send their precinct reports through the real HTTP API
// with internal/client, with the faults of spec/reliability.md on demand (wrong PINs, retries,
// dropped connections, conflicting second reports, slow links, a burst of every chair at once,
// a troll flood: O2, O3), then every published precinct, county and state number is compared
// with the ground truth, summed here from internal/rules' results of the reports sent.
//
// The truth is generated (Synthetic: a realistic night, seeded) or replayed from a published
// results file (Replay). What the server must answer to each report (201, 422 with which
// checks, under review or not) is decided by internal/rules alone.
//
// It is not the server and never looks inside it: it imports no server, intake, tally or store
// code, so that a bug there cannot hide itself from the rehearsal.
package simulate

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"caucus/internal/client"
	"caucus/internal/report"
	"caucus/internal/results"
	"caucus/internal/rules"
)

// Budgets of a run.
const (
	// RequestTimeout bounds one request: the server's own submit budget is 10 s.
	RequestTimeout = 15 * time.Second
	// attempts is how often one report or login is sent before the chair gives up: enough to
	// ride out 503s and, under --chaos, several restarts.
	attempts = 60
	// shedPatience is how long a chair keeps logging in while the server sheds (503): far longer
	// than a night's login peak, short of a chair giving up for the hotline.
	shedPatience = 5 * time.Minute
)

// Staff is a hotline operator's account: Run logs in once with it and enters every report
// (channel hotline) instead of each chair logging in with a PIN.
type Staff struct{ Username, Password string }

// Config is one rehearsal.
type Config struct {
	URL string
	// Nodes are further servers of the same deployment (several nodes on one database): chair i
	// talks to node i mod (1+len(Nodes)), URL being node 0, round-robin. Results are read from
	// URL.
	Nodes []string
	Truth *Truth
	PINs  map[string]string // precinct id → PIN; or Operator
	// Tokens are the precincts' QR tokens (precinct id → token, from logins.csv) and QRShare
	// the share of chairs (0 to 1) who log in by scanning the packet's QR code instead of
	// typing the PIN.
	Tokens   map[string]string
	QRShare  float64
	Operator *Staff
	// HQ, when set, is a reviewer's account: headquarters resolves the review queue after the
	// reports (accepting the report that matches the truth, correcting where none does), and
	// chairs hit by the conflict fault also get their first report wrong. HQToken, when set, is
	// that reviewer's session token instead (no login).
	HQ      *Staff
	HQToken string
	// Hotline, when set, sends a share of the reports by phone through operators who key each
	// worksheet twice (hotline.go).
	Hotline     *Hotline
	Concurrency int // chairs at work at once; 0: 50
	Faults      Faults
	Seed        uint64
	// RetryWait caps one wait before sending again (the server's Retry-After says 2–10 s, which
	// a phone honours; a rehearsal measuring the server need not). 0: 200 ms.
	RetryWait time.Duration
	// Progress, when set, gets a progress line about ten times a second.
	Progress io.Writer
	// Down, when set, is called when a request got no answer at all; it may block until the
	// server is back (the crash drill restarts it) and returns an error to stop.
	Down func(ctx context.Context) error
	// Acked, when set, is called after each acknowledgement (the crash drill times its kills).
	Acked func(report.Receipt)
	// Events, when set, is called at each phase: "logins", "reports", "compare".
	Phase func(name string)
}

// Summary is what a rehearsal measured and found.
type Summary struct {
	Precincts     int
	Logins        int
	LoginTime     time.Duration
	LoginLatency  []time.Duration
	Reports       int             // reports stored (201)
	Refused       int             // 422
	Conflicts     int             // 409
	Duplicates    int             // 200
	ReportTime    time.Duration   // the timed part: first report sent to last answer
	Latency       []time.Duration // every answered report request
	Events        map[string]int  // every answer and failure by kind
	Flagged       map[rules.CheckID]int
	FlaggedBy     map[rules.CheckID][]string // a few precincts per check
	RefusedBy     map[rules.CheckID]int
	Acked         map[string]report.Receipt // report_id → receipt
	Problems      []string                  // the server answered other than the rules say
	Differences   []string                  // published ≠ truth
	Compared      int                       // numbers compared
	CompareTime   time.Duration
	Decisions     int                      // headquarters' decisions
	Phoned        int                      // precincts reported through the hotline
	Slips         int                      // keying slips made in second copies
	SlipsCaught   int                      // of them, caught by the double entry
	counted       map[string]report.Report // precinct → the report that counts
	conflicted    map[string]bool
	decided       map[string]results.Status // precinct → its status after headquarters' decision
	mu            sync.Mutex
	problemsTotal int
}

// OK says whether the server did everything right.
func (s *Summary) OK() bool { return s.problemsTotal == 0 && len(s.Differences) == 0 }

func (s *Summary) event(kind string) {
	s.mu.Lock()
	s.Events[kind]++
	s.mu.Unlock()
}

func (s *Summary) problem(format string, args ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.problemsTotal++
	if len(s.Problems) < 50 {
		s.Problems = append(s.Problems, fmt.Sprintf(format, args...))
	}
}

// chair is one precinct's chair during the night.
type chair struct {
	i     int
	plan  *Plan
	url   string // the node this chair talks to (Config.Nodes)
	own   bool   // the chair has a client of its own, from an address of its own (loopback)
	http  *http.Client
	cl    *client.Client // nil between phases for a chair with a client of its own (hangUp)
	token string
	rng   *rand.Rand
	// phoned: the chair reports through the hotline (Config.Hotline).
	phoned bool
}

// Run rehearses the night and compares the results. Its error is for a run that could not be
// carried out (the server unreachable, not fresh); a server that answers wrongly or publishes
// wrong numbers is reported in the Summary (OK false).
func Run(ctx context.Context, cfg Config) (*Summary, error) {
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 50
	}
	if cfg.RetryWait <= 0 {
		cfg.RetryWait = 200 * time.Millisecond
	}
	nodes := append([]string{cfg.URL}, cfg.Nodes...)
	for _, u := range nodes {
		if len(cfg.Faults) > 0 && !loopback(u) {
			return nil, errors.New("faults are only aimed at a server on this machine (a loopback address)")
		}
		if _, err := client.New(u, nil); err != nil {
			return nil, err
		}
	}
	t := cfg.Truth
	sum := &Summary{Precincts: len(t.Plans), Events: map[string]int{}, Flagged: map[rules.CheckID]int{},
		FlaggedBy: map[rules.CheckID][]string{}, RefusedBy: map[rules.CheckID]int{},
		Acked: map[string]report.Receipt{}, counted: map[string]report.Report{}, conflicted: map[string]bool{},
		decided: map[string]results.Status{}}
	shared := httpClient(nil, RequestTimeout, cfg.Concurrency)
	pub, err := client.New(cfg.URL, shared)
	if err != nil {
		return nil, err
	}
	res, err := pub.Results(ctx)
	if err != nil {
		return nil, fmt.Errorf("read the server's results: %w", err)
	}
	if res.ElectionID != t.Def.Election().ID {
		return nil, fmt.Errorf("the server runs election %q, the truth is for %q", res.ElectionID, t.Def.Election().ID)
	}
	if res.PrecinctsReporting != 0 {
		return nil, fmt.Errorf("the server already has %d precincts reporting: a rehearsal needs a fresh election", res.PrecinctsReporting)
	}
	chairs := make([]*chair, len(t.Plans))
	for i := range t.Plans {
		chairs[i] = &chair{i: i, plan: &t.Plans[i], url: nodes[i%len(nodes)], rng: rand.New(rand.NewPCG(cfg.Seed, uint64(i))),
			own: loopback(nodes[i%len(nodes)]) && cfg.Operator == nil}
	}
	prog := newProgress(cfg.Progress, len(chairs))
	defer prog.stop()

	// Logins: the hour before, not timed with the reports.
	phase(cfg, "logins")
	prog.setCounter("logins", nil)
	began := time.Now()
	if cfg.Operator != nil {
		tok, err := loginRetry(ctx, cfg, sum, func() (string, error) {
			return pub.LoginStaff(ctx, cfg.Operator.Username, cfg.Operator.Password)
		})
		if err != nil {
			return nil, fmt.Errorf("operator login: %w", err)
		}
		for _, c := range chairs {
			c.token = tok
		}
		sum.Logins = 1
	} else {
		var logins atomic.Int64
		prog.setCounter("logins", &logins)
		each(ctx, chairs, cfg.Concurrency, func(c *chair) {
			c.connect(shared)
			if err := c.login(ctx, cfg, sum); err != nil {
				sum.problem("precinct %s: %v", c.plan.Precinct.ID, err)
			}
			c.hangUp(shared)
			logins.Add(1)
		})
		sum.Logins = int(logins.Load())
	}
	var operators []string
	if cfg.Hotline != nil {
		if len(cfg.Hotline.Operators) < 3 {
			return nil, errors.New("the hotline needs three operators at least: two key each worksheet, a third settles a mismatch")
		}
		for _, op := range cfg.Hotline.Operators {
			tok, err := loginRetry(ctx, cfg, sum, func() (string, error) { return pub.LoginStaff(ctx, op.Username, op.Password) })
			if err != nil {
				return nil, fmt.Errorf("operator %s login: %w", op.Username, err)
			}
			operators = append(operators, tok)
		}
		for _, c := range chairs {
			c.phoned = cfg.Hotline.phones(cfg.Seed, c.i)
		}
	}
	sum.LoginTime = time.Since(began)
	if ctx.Err() != nil {
		return sum, ctx.Err()
	}

	// Reports: the timed burst.
	phase(cfg, "reports")
	var done atomic.Int64
	prog.setCounter("reports", &done)
	trollCtx, stopTroll := context.WithCancel(ctx)
	var trolls sync.WaitGroup
	if cfg.Faults[Troll] {
		for k := range 2 {
			trolls.Go(func() {
				troll(trollCtx, cfg.URL, trollPerChair*len(chairs)/2, cfg.Seed+uint64(k), sum.event, func(s string) { sum.problem("troll: %s", s) })
			})
		}
	}
	began = time.Now()
	conc := cfg.Concurrency
	if cfg.Faults[Burst] {
		conc = len(chairs)
	}
	each(ctx, chairs, conc, func(c *chair) {
		c.connect(shared)
		if c.phoned {
			c.phone(ctx, cfg, sum, operators)
			sum.mu.Lock()
			sum.Phoned++
			sum.mu.Unlock()
		} else {
			c.night(ctx, cfg, sum)
		}
		c.hangUp(shared)
		done.Add(1)
	})
	sum.ReportTime = time.Since(began)
	stopTroll()
	trolls.Wait()
	if ctx.Err() != nil {
		return sum, ctx.Err()
	}

	if cfg.HQ != nil || cfg.HQToken != "" {
		phase(cfg, "headquarters")
		prog.setCounter("headquarters", nil)
		if err := headquarters(ctx, cfg, pub, sum); err != nil {
			return sum, err
		}
	}

	phase(cfg, "compare")
	prog.setCounter("compare", nil)
	began = time.Now()
	if err := compare(ctx, pub, t, sum); err != nil {
		return sum, err
	}
	sum.CompareTime = time.Since(began)
	return sum, nil
}

func phase(cfg Config, name string) {
	if cfg.Phase != nil {
		cfg.Phase(name)
	}
}

// each runs f for every chair, n at a time; with n ≥ len(chairs) every chair starts at the
// same moment (a gate opens once all are waiting).
func each(ctx context.Context, chairs []*chair, n int, f func(*chair)) {
	var wg sync.WaitGroup
	if n >= len(chairs) {
		gate := make(chan struct{})
		for _, c := range chairs {
			wg.Go(func() {
				<-gate
				if ctx.Err() == nil {
					f(c)
				}
			})
		}
		close(gate)
		wg.Wait()
		return
	}
	next := make(chan *chair)
	for range n {
		wg.Go(func() {
			for c := range next {
				if ctx.Err() == nil {
					f(c)
				}
			}
		})
	}
	for _, c := range chairs {
		next <- c
	}
	close(next)
	wg.Wait()
}

// shedWait is the pause after a 503: a tenth of the server's Retry-After (the rehearsal runs the
// night faster than phones would, as BenchmarkBurst does), jittered by half so that shed chairs
// do not come back together, and never less than 50 ms.
func shedWait(ctx context.Context, retryAfter time.Duration) error {
	d := max(retryAfter/10, 50*time.Millisecond)
	d = d/2 + rand.N(d/2+1)
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// loginRetry logs in until an answer comes, riding out restarts and 503s. A chair whose login is
// shed keeps trying, as the app does ("busy, try again"), for up to shedPatience; only failures
// without an answer count against attempts.
func loginRetry(ctx context.Context, cfg Config, sum *Summary, login func() (string, error)) (string, error) {
	var last error
	deadline := time.Now().Add(shedPatience)
	for tries := 0; tries < attempts; {
		tok, err := login()
		var se *client.StatusError
		switch {
		case err == nil:
			return tok, nil
		case errors.As(err, &se) && se.Status != http.StatusServiceUnavailable:
			return "", err
		case errors.As(err, &se):
			sum.event("login → 503 (sent again)")
			if time.Now().After(deadline) {
				return "", fmt.Errorf("still shed after %v: %w", shedPatience, err)
			}
			// The PIN hashing lane is full: wait before the next try, as the chair's app waits
			// out Retry-After, or the chairs' instant retries are all the server sees.
			if werr := shedWait(ctx, se.RetryAfter); werr != nil {
				return "", werr
			}
		default:
			tries++
			sum.event("login: no answer (sent again)")
			if cfg.Down != nil {
				if derr := cfg.Down(ctx); derr != nil {
					return "", derr
				}
			}
		}
		last = err
		if ctx.Err() != nil {
			return "", ctx.Err()
		}
	}
	return "", last
}

func (c *chair) login(ctx context.Context, cfg Config, sum *Summary) error {
	pin, ok := cfg.PINs[c.plan.Precinct.ID]
	if !ok {
		return fmt.Errorf("no PIN for this precinct in the PINs file")
	}
	if cfg.Faults[WrongPIN] && c.rng.IntN(100) < faultShare {
		wrong := wrongPIN(pin, c.rng)
		began := time.Now()
		_, err := c.cl.Login(ctx, c.plan.Precinct.ID, wrong)
		var se *client.StatusError
		switch {
		case errors.As(err, &se) && (se.Status == http.StatusUnauthorized || se.Status == http.StatusBadRequest):
			sum.event(fmt.Sprintf("login with a wrong PIN → %d", se.Status))
			c.latency(sum, &sum.LoginLatency, began)
		case err == nil:
			sum.problem("precinct %s: a wrong PIN logged in", c.plan.Precinct.ID)
		default:
			sum.event(fmt.Sprintf("login with a wrong PIN: %v", short(err)))
		}
	}
	began := time.Now()
	tok, err := loginRetry(ctx, cfg, sum, func() (string, error) { return c.credLogin(ctx, cfg, pin) })
	if err != nil {
		return fmt.Errorf("login: %w", err)
	}
	c.latency(sum, &sum.LoginLatency, began)
	if c.scans(cfg) {
		sum.event("login with the QR code → 200")
	} else {
		sum.event("login → 200")
	}
	c.token = tok
	return nil
}

// scans reports whether this chair logs in with the packet's QR code (Config.QRShare): the
// first QRShare of every thousand chairs.
func (c *chair) scans(cfg Config) bool {
	return cfg.Tokens[c.plan.Precinct.ID] != "" && c.i%1000 < int(cfg.QRShare*1000)
}

// credLogin logs the chair in with the QR code's token or with the PIN.
func (c *chair) credLogin(ctx context.Context, cfg Config, pin string) (string, error) {
	if c.scans(cfg) {
		return c.cl.LoginToken(ctx, c.plan.Precinct.ID, cfg.Tokens[c.plan.Precinct.ID])
	}
	return c.cl.Login(ctx, c.plan.Precinct.ID, pin)
}

// wrongPIN changes one digit of a PIN: most such PINs fail the check digit (a typo the server
// answers 400 without counting it), a few pass it and are wrong (401).
func wrongPIN(pin string, rng *rand.Rand) string {
	b := []byte(pin)
	var digits []int
	for i, ch := range b {
		if ch >= '0' && ch <= '9' {
			digits = append(digits, i)
		}
	}
	if len(digits) == 0 {
		return pin + "0"
	}
	i := digits[rng.IntN(len(digits))]
	b[i] = '0' + (b[i]-'0'+byte(1+rng.IntN(9)))%10
	return string(b)
}

func (c *chair) latency(sum *Summary, into *[]time.Duration, began time.Time) {
	d := time.Since(began)
	sum.mu.Lock()
	*into = append(*into, d)
	sum.mu.Unlock()
}

// night sends the chair's reports, with the faults that hit this chair.
func (c *chair) night(ctx context.Context, cfg Config, sum *Summary) {
	hit := func(f Fault) bool { return cfg.Faults[f] && c.rng.IntN(100) < faultShare }
	id := c.plan.Precinct.ID
	for k, r := range c.plan.Reports {
		if cfg.Operator != nil {
			r.Channel = report.ChannelHotline
		}
		want := cfg.Truth.Calc(r)
		if (cfg.HQ != nil || cfg.HQToken != "") && !want.HasErrors() && hit(Conflict) {
			if m := mistake(c.rng.IntN(3)); m != rightFirst && c.mistaken(ctx, cfg, sum, r, m) {
				return
			}
		}
		body := r.Canonical()
		if hit(DropBefore) {
			rawRequest(ctx, c.url, c.local(cfg), "/api/v1/reports", c.token, body, len(body)/2, false)
			sum.event("report: connection cut while sending (sent again)")
		}
		mayBeStored, lost := false, false
		if hit(DropAfter) {
			mayBeStored = true
			status, err := rawRequest(ctx, c.url, c.local(cfg), "/api/v1/reports", c.token, body, 0, true)
			if err == nil {
				sum.event(fmt.Sprintf("report → %d, answer lost (sent again)", status))
				lost = status == http.StatusCreated
			} else {
				sum.event("report: connection cut before the answer (sent again)")
			}
		}
		var s client.Submitted
		var err error
		if hit(Slow) {
			began := time.Now()
			s, err = slowSubmit(ctx, c.http, c.url, c.token, body)
			if err == nil {
				c.latency(sum, &sum.Latency, began)
				sum.event("report over a slow link")
			}
		}
		if s.Status == 0 || err != nil {
			s, err = c.submit(ctx, cfg, sum, r)
		}
		if err != nil {
			sum.problem("precinct %s: report %s: %v", id, r.ReportID, err)
			return
		}
		if want.HasErrors() {
			c.expectRefused(sum, r, want, s)
			continue // the chair corrects it and sends the next one
		}
		if !c.expectStored(cfg, sum, r, want, s, mayBeStored, lost) {
			return
		}
		if hit(Retry) {
			again, err := c.submit(ctx, cfg, sum, r)
			if err != nil {
				sum.problem("precinct %s: sending report %s again: %v", id, r.ReportID, err)
			} else if again.Status != http.StatusOK || again.Receipt == nil || again.Receipt.LogIndex != s.Receipt.LogIndex || again.Receipt.LeafHash != s.Receipt.LeafHash {
				sum.problem("precinct %s: report %s sent again got %d %+v, want 200 with the receipt %+v", id, r.ReportID, again.Status, again.Receipt, s.Receipt)
			}
		}
		if hit(Conflict) {
			c.conflict(ctx, cfg, sum, r, k)
		}
		return
	}
}

// connect gives the chair its client for a phase: the shared one, or (loopback runs) one of
// its own, from an address of its own.
func (c *chair) connect(shared *http.Client) {
	if c.cl != nil {
		return
	}
	c.http = shared
	if c.own {
		c.http = httpClient(sourceAddr(c.i), RequestTimeout, 1)
	}
	c.cl, _ = client.New(c.url, c.http)
}

// hangUp closes the connection of a chair's own client once a phase is done with it, and lets
// the client go, as a phone drops its connection between login and report: a nation's 175,000
// chairs each keeping a connection, or a client with its buffers, would run the server and
// this process out of file descriptors and memory.
func (c *chair) hangUp(shared *http.Client) {
	if c.own && c.http != nil {
		c.http.CloseIdleConnections()
		c.http, c.cl = nil, nil
	}
}

func (c *chair) local(cfg Config) *net.TCPAddr {
	if cfg.Operator != nil || !loopback(c.url) {
		return nil
	}
	return sourceAddr(c.i)
}

// submit sends a report until answered, logging in again if the session is gone.
func (c *chair) submit(ctx context.Context, cfg Config, sum *Summary, r report.Report) (client.Submitted, error) {
	retry := client.Retry{Attempts: attempts, MaxWait: cfg.RetryWait, Before: func(ctx context.Context, _ int, cause error) error {
		var se *client.StatusError
		if errors.As(cause, &se) {
			sum.event(fmt.Sprintf("report → %d (sent again)", se.Status))
			return nil
		}
		sum.event("report: no answer (sent again)")
		if cfg.Down != nil {
			return cfg.Down(ctx)
		}
		return nil
	}}
	for range 3 {
		began := time.Now()
		s, err := c.cl.Submit(ctx, c.token, r, retry)
		var se *client.StatusError
		if errors.As(err, &se) && se.Status == http.StatusUnauthorized && cfg.Operator == nil {
			sum.event("report → 401: logged in again")
			pin := cfg.PINs[c.plan.Precinct.ID]
			tok, lerr := loginRetry(ctx, cfg, sum, func() (string, error) { return c.credLogin(ctx, cfg, pin) })
			if lerr != nil {
				return s, lerr
			}
			c.token = tok
			continue
		}
		if err == nil {
			c.latency(sum, &sum.Latency, began)
		}
		return s, err
	}
	return client.Submitted{}, errors.New("401 after logging in again")
}

func checkIDs(cs []rules.Check, errorsOnly bool) []string {
	var ids []string
	for _, c := range cs {
		if !errorsOnly || c.Severity == rules.Error {
			ids = append(ids, string(c.ID))
		}
	}
	sort.Strings(ids)
	return ids
}

func (c *chair) expectRefused(sum *Summary, r report.Report, want rules.Result, s client.Submitted) {
	id := c.plan.Precinct.ID
	sum.event(fmt.Sprintf("report → %d", s.Status))
	if s.Status != http.StatusUnprocessableEntity {
		sum.problem("precinct %s: report %s got %d; the rules refuse it (%s): want 422", id, r.ReportID, s.Status, strings.Join(checkIDs(want.Checks, true), ","))
		return
	}
	got, exp := checkIDs(s.Checks, true), checkIDs(want.Checks, true)
	if !slices.Equal(got, exp) {
		sum.problem("precinct %s: report %s refused with %v, the rules say %v", id, r.ReportID, got, exp)
	}
	sum.mu.Lock()
	sum.Refused++
	for _, e := range exp {
		sum.RefusedBy[rules.CheckID(e)]++
	}
	sum.mu.Unlock()
}

// expectStored checks the answer to a report the rules accept: stored, acknowledged once.
// A 200 is right only when an earlier copy may have been stored: its answer was lost, or a
// request went unanswered; when a 201 was lost, only 200 is right.
func (c *chair) expectStored(cfg Config, sum *Summary, r report.Report, want rules.Result, s client.Submitted, mayBeStored, lost bool) bool {
	id := c.plan.Precinct.ID
	sum.event(fmt.Sprintf("report → %d", s.Status))
	ok := s.Status == http.StatusCreated || (s.Status == http.StatusOK && (mayBeStored || s.Tries > 1))
	if lost && s.Status != http.StatusOK {
		ok = false
	}
	if !ok || s.Receipt == nil {
		sum.problem("precinct %s: report %s got %d (%s); want 201 (200 when an earlier copy was stored)", id, r.ReportID, s.Status, s.Message)
		return false
	}
	status := "accepted"
	if len(want.Checks) > 0 {
		status = "under_review"
	}
	if s.Receipt.Status != status || s.Receipt.ReportID != r.ReportID || s.Receipt.PrecinctID != id {
		sum.problem("precinct %s: receipt %+v; want report %s, status %s", id, s.Receipt, r.ReportID, status)
	}
	if s.Status == http.StatusCreated {
		if got, exp := checkIDs(s.Checks, false), checkIDs(want.Checks, false); !slices.Equal(got, exp) {
			sum.problem("precinct %s: report %s flagged %v, the rules say %v", id, r.ReportID, got, exp)
		}
	}
	sum.mu.Lock()
	defer sum.mu.Unlock()
	if old, dup := sum.Acked[r.ReportID]; dup && (old.LogIndex != s.Receipt.LogIndex || old.LeafHash != s.Receipt.LeafHash) {
		sum.problemsTotal++
		sum.Problems = append(sum.Problems, fmt.Sprintf("report %s acknowledged twice with different receipts", r.ReportID))
	}
	sum.Acked[r.ReportID] = *s.Receipt
	sum.counted[id] = r
	sum.Reports++
	for _, ch := range want.Checks {
		sum.Flagged[ch.ID]++
		if len(sum.FlaggedBy[ch.ID]) < 3 {
			sum.FlaggedBy[ch.ID] = append(sum.FlaggedBy[ch.ID], id)
		}
	}
	if cfg.Acked != nil {
		cfg.Acked(*s.Receipt)
	}
	return true
}

// conflict sends a second, different report for the precinct: 409, kept for review.
func (c *chair) conflict(ctx context.Context, cfg Config, sum *Summary, r report.Report, k int) {
	id := c.plan.Precinct.ID
	var second report.Report
	found := false
	for _, g := range slices.Sorted(keys(r.Final)) {
		second = r
		second.ReportID = fmt.Sprintf("%s-second-%d", r.ReportID, k)
		second.First, second.Final = maps(r.First), maps(r.Final)
		second.Attendees++
		second.First[g]++
		second.Final[g]++
		second.Delegates, second.Tiebreaks = nil, nil
		if res := cfg.Truth.Calc(second); !res.HasErrors() {
			found = true
			break
		}
	}
	if !found {
		return
	}
	s, err := c.submit(ctx, cfg, sum, second)
	sum.event(fmt.Sprintf("conflicting second report → %d", s.Status))
	switch {
	case err != nil:
		sum.problem("precinct %s: conflicting report %s: %v", id, second.ReportID, err)
	case s.Status != http.StatusConflict && !(s.Status == http.StatusOK && s.Tries > 1):
		sum.problem("precinct %s: conflicting report %s got %d, want 409", id, second.ReportID, s.Status)
	default:
		sum.mu.Lock()
		sum.Conflicts++
		sum.conflicted[id] = true
		if s.Receipt != nil {
			sum.Acked[second.ReportID] = *s.Receipt
		}
		sum.mu.Unlock()
		if cfg.Acked != nil && s.Receipt != nil {
			cfg.Acked(*s.Receipt)
		}
	}
}

func short(err error) string {
	s := err.Error()
	if len(s) > 80 {
		s = s[:80] + "…"
	}
	return s
}
