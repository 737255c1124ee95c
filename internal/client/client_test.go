package client_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"caucus/internal/client"
	"caucus/internal/results"
	"caucus/internal/server/servertest"
)

// start runs a real server (HTTP on loopback, SQLite in a temporary file) and returns it with a
// client for it.
func start(t *testing.T) (*servertest.Env, *client.Client) {
	t.Helper()
	env := servertest.Start(t, servertest.Options{Precincts: 4})
	c, err := client.New(env.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	return env, c
}

func precincts(env *servertest.Env) []string {
	var ids []string
	for _, p := range env.Def.Precincts() {
		ids = append(ids, p.ID)
	}
	return ids
}

func statusErr(t *testing.T, err error, status int, code string) {
	t.Helper()
	var se *client.StatusError
	if !errors.As(err, &se) {
		t.Fatalf("error %v (%T), want a *client.StatusError %d", err, err, status)
	}
	if se.Status != status || (code != "" && se.Code != code) {
		t.Fatalf("error %v: status %d code %q, want %d %q", err, se.Status, se.Code, status, code)
	}
}

// TestLogin: the right PIN gives a session that submits; a wrong PIN is a 401 bad_credentials, a
// PIN that fails its check digit a 400 pin_typo, both as *StatusError.
func TestLogin(t *testing.T) {
	env, c := start(t)
	ctx := context.Background()
	ids := precincts(env)
	p := ids[0]
	token, err := c.Login(ctx, p, env.PINs[p])
	if err != nil || token == "" {
		t.Fatalf("login with the right PIN: %q, %v", token, err)
	}
	s, err := c.Submit(ctx, token, env.Report(p, "r-login", 1), client.Retry{})
	if err != nil || s.Status != http.StatusCreated {
		t.Fatalf("submit with the session: %+v, %v", s, err)
	}

	// Another precinct's PIN is well formed, and wrong for this one.
	_, err = c.Login(ctx, p, env.PINs[ids[1]])
	statusErr(t, err, http.StatusUnauthorized, "bad_credentials")

	pin := []byte(env.PINs[p])
	for i := range pin {
		typo := bytes.Clone(pin)
		typo[i] = '0' + (typo[i]-'0'+1)%10
		if typo[i] < '0' || typo[i] > '9' || servertest.ValidPIN(string(typo)) {
			continue
		}
		_, err = c.Login(ctx, p, string(typo))
		statusErr(t, err, http.StatusBadRequest, "pin_typo")
		break
	}

	// No session, or one that does not exist.
	_, err = c.Submit(ctx, "", env.Report(p, "r-anon", 2), client.Retry{Attempts: 3})
	statusErr(t, err, http.StatusUnauthorized, "")
	_, err = c.Submit(ctx, "not-a-session", env.Report(p, "r-forged", 3), client.Retry{Attempts: 3})
	statusErr(t, err, http.StatusUnauthorized, "")
	env.Check(&servertest.Acked{})
}

// TestSubmitAnswers: each answer of the contract is a Submitted: 201 with a receipt, 200 the
// same receipt for the same report again, 409 for a different report of the precinct (kept),
// 422 with the error checks and nothing stored.
func TestSubmitAnswers(t *testing.T) {
	env, c := start(t)
	ctx := context.Background()
	p := precincts(env)[0]
	token := env.Login(p)
	var acked servertest.Acked

	r := env.Report(p, "r-1", 1)
	first, err := c.Submit(ctx, token, r, client.Retry{})
	if err != nil || first.Status != http.StatusCreated || first.Receipt == nil || first.Tries != 1 {
		t.Fatalf("first report: %+v, %v; want 201 with a receipt, in one try", first, err)
	}
	acked.Add(t, *first.Receipt)
	if first.Receipt.ReportID != "r-1" || first.Receipt.PrecinctID != p || first.Receipt.LeafHash == "" {
		t.Errorf("receipt %+v, want report r-1 of %s with a leaf hash", first.Receipt, p)
	}

	again, err := c.Submit(ctx, token, r, client.Retry{})
	if err != nil || again.Status != http.StatusOK || again.Receipt == nil ||
		again.Receipt.LogIndex != first.Receipt.LogIndex || again.Receipt.LeafHash != first.Receipt.LeafHash {
		t.Fatalf("the same report again: %+v, %v; want 200 with receipt %+v", again, err, first.Receipt)
	}

	other := env.Report(p, "r-2", 2)
	if other.First.Sum() == r.First.Sum() {
		other = env.Report(p, "r-2", 3)
	}
	conflict, err := c.Submit(ctx, token, other, client.Retry{})
	if err != nil || conflict.Status != http.StatusConflict || conflict.Receipt == nil {
		t.Fatalf("a different report: %+v, %v; want 409 with a receipt", conflict, err)
	}
	acked.Add(t, *conflict.Receipt)

	bad := env.Report(p, "r-3", 4)
	bad.Attendees = 1 // fewer than stood in the first alignment
	refused, err := c.Submit(ctx, token, bad, client.Retry{})
	if err != nil || refused.Status != http.StatusUnprocessableEntity || refused.Receipt != nil || len(refused.Checks) == 0 {
		t.Fatalf("a report with errors: %+v, %v; want 422 with checks and no receipt", refused, err)
	}
	if _, err := env.DB.EntryByReportID(ctx, "r-3"); err == nil {
		t.Error("the refused report was stored")
	}
	env.Check(&acked)
}

// lossy is a proxy in front of a real server that spoils the first answers to report
// submissions as told, and passes everything else through.
type lossy struct {
	*httptest.Server
	spoil atomic.Int32 // submissions still to spoil
	// lose, when true, forwards a spoiled submission and drops its answer (the report is
	// stored, the chair does not know it); else answers 503 with Retry-After without forwarding.
	lose  bool
	calls atomic.Int32 // submissions received
}

func newLossy(t *testing.T, target string, spoil int, lose bool) *lossy {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(u)
	l := &lossy{lose: lose}
	l.spoil.Store(int32(spoil))
	l.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/v1/reports" {
			proxy.ServeHTTP(w, r)
			return
		}
		l.calls.Add(1)
		if l.spoil.Add(-1) < 0 {
			proxy.ServeHTTP(w, r)
			return
		}
		if !l.lose {
			w.Header().Set("Retry-After", "1")
			http.Error(w, `{"error":"busy","code":"unavailable"}`, http.StatusServiceUnavailable)
			return
		}
		// Forward the report, wait for its answer, and drop it with the connection.
		body, _ := io.ReadAll(r.Body)
		req, _ := http.NewRequestWithContext(r.Context(), http.MethodPost, target+r.URL.Path, bytes.NewReader(body))
		req.Header = r.Header.Clone()
		if resp, err := http.DefaultClient.Do(req); err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		panic(http.ErrAbortHandler)
	}))
	t.Cleanup(l.Close)
	return l
}

// TestSubmitRetries: a submission whose answer is lost is sent again with the same bytes, so
// the same report_id, and the server's second answer is the receipt of the one stored entry; a
// 503 is waited out (Retry-After, capped by MaxWait) and sent again; when the attempts run out
// the last failure is returned.
func TestSubmitRetries(t *testing.T) {
	env, _ := start(t)
	ctx := context.Background()
	ids := precincts(env)
	var acked servertest.Acked

	t.Run("answer lost", func(t *testing.T) {
		l := newLossy(t, env.URL, 1, true)
		c, err := client.New(l.URL, nil)
		if err != nil {
			t.Fatal(err)
		}
		var causes []error
		s, err := c.Submit(ctx, env.Login(ids[0]), env.Report(ids[0], "r-lost", 1), client.Retry{Attempts: 3, MaxWait: 20 * time.Millisecond,
			Before: func(_ context.Context, _ int, cause error) error { causes = append(causes, cause); return nil }})
		if err != nil || s.Tries != 2 || s.Status != http.StatusOK || s.Receipt == nil {
			t.Fatalf("%+v, %v; want 200 (the same report again) on the second try", s, err)
		}
		if len(causes) != 1 || errors.As(causes[0], new(*client.StatusError)) {
			t.Errorf("retried after %v, want one transport error", causes)
		}
		e, err := env.DB.EntryByReportID(ctx, "r-lost")
		if err != nil || e.Index != s.Receipt.LogIndex {
			t.Errorf("stored entry %+v, %v; the receipt says log index %d", e, err, s.Receipt.LogIndex)
		}
		acked.Add(t, *s.Receipt)
	})

	t.Run("busy", func(t *testing.T) {
		l := newLossy(t, env.URL, 2, false)
		c, err := client.New(l.URL, nil)
		if err != nil {
			t.Fatal(err)
		}
		var causes []error
		s, err := c.Submit(ctx, env.Login(ids[1]), env.Report(ids[1], "r-busy", 2), client.Retry{Attempts: 3, MaxWait: 20 * time.Millisecond,
			Before: func(_ context.Context, _ int, cause error) error { causes = append(causes, cause); return nil }})
		if err != nil || s.Tries != 3 || s.Status != http.StatusCreated || s.Receipt == nil {
			t.Fatalf("%+v, %v; want 201 on the third try", s, err)
		}
		for _, cause := range causes {
			var se *client.StatusError
			if !errors.As(cause, &se) || se.Status != http.StatusServiceUnavailable || se.RetryAfter != time.Second || se.Code != "unavailable" {
				t.Errorf("retried after %v, want a 503 with Retry-After 1s", cause)
			}
		}
		acked.Add(t, *s.Receipt)
	})

	t.Run("attempts run out", func(t *testing.T) {
		l := newLossy(t, env.URL, 100, false)
		c, err := client.New(l.URL, nil)
		if err != nil {
			t.Fatal(err)
		}
		s, err := c.Submit(ctx, env.Login(ids[2]), env.Report(ids[2], "r-never", 3), client.Retry{Attempts: 3, MaxWait: time.Millisecond})
		statusErr(t, err, http.StatusServiceUnavailable, "unavailable")
		if s.Tries != 3 || l.calls.Load() != 3 {
			t.Errorf("%d tries, %d requests; want 3", s.Tries, l.calls.Load())
		}
		if _, err := env.DB.EntryByReportID(ctx, "r-never"); err == nil {
			t.Error("a report no server answered was stored")
		}
	})

	t.Run("stop", func(t *testing.T) {
		l := newLossy(t, env.URL, 100, false)
		c, err := client.New(l.URL, nil)
		if err != nil {
			t.Fatal(err)
		}
		stop := errors.New("the chair gave up")
		_, err = c.Submit(ctx, env.Login(ids[3]), env.Report(ids[3], "r-stop", 4), client.Retry{Attempts: 5,
			Before: func(context.Context, int, error) error { return stop }})
		if !errors.Is(err, stop) || l.calls.Load() != 1 {
			t.Errorf("%v after %d requests; want Before's error after 1", err, l.calls.Load())
		}
	})
	env.Check(&acked)
}

// TestResults: the results documents read into internal/results' types, as the raw bytes say,
// with the log size of the county and precinct documents from the server's header.
func TestResults(t *testing.T) {
	env, c := start(t)
	ctx := context.Background()
	p := precincts(env)[0]
	s, err := c.Submit(ctx, env.Login(p), env.Report(p, "r-1", 1), client.Retry{})
	if err != nil || s.Receipt == nil {
		t.Fatalf("submit: %+v, %v", s, err)
	}
	var acked servertest.Acked
	acked.Add(t, *s.Receipt)
	if err := env.Server.SignCheckpoint(ctx); err != nil {
		t.Fatal(err)
	}

	res, err := c.Results(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if res.ElectionID != env.Def.Election().ID || res.LogSize != 1 || res.PrecinctsReporting != 1 ||
		res.PrecinctsTotal != len(env.Def.Precincts()) || len(res.Candidates) != len(env.Def.Candidates()) || res.LogRootHash == "" {
		t.Errorf("results %+v: want election %s, log size 1, 1 of %d reporting, %d candidates, a root hash",
			res, env.Def.Election().ID, len(env.Def.Precincts()), len(env.Def.Candidates()))
	}
	sameAsRaw(t, c, "api/v1/results", res)

	all, err := c.Counties(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(all.Counties) != 1 || all.Counties[0].CountyID != "alpha" || all.Counties[0].PrecinctsReporting != 1 {
		t.Errorf("counties %+v, want alpha with 1 reporting", all)
	}
	sameAsRaw(t, c, "api/v1/results/counties", all)

	county, size, err := c.CountyAt(ctx, "alpha")
	if err != nil || size != 1 {
		t.Fatalf("county alpha at log size %d: %v; want 1", size, err)
	}
	if len(county.Precincts) != len(env.Def.Precincts()) || county.Precincts[0].PrecinctID != p ||
		county.Precincts[0].Status != results.Accepted || county.Precincts[1].Status != results.NotReported {
		t.Errorf("county %+v: want %s accepted, the others not reported", county, p)
	}
	sameAsRaw(t, c, "api/v1/results/counties/alpha", county)

	pr, size, err := c.PrecinctAt(ctx, p)
	if err != nil || size != 1 {
		t.Fatalf("precinct %s at log size %d: %v; want 1", p, size, err)
	}
	if pr.Status != results.Accepted || pr.CountedEntry == nil || *pr.CountedEntry != s.Receipt.LogIndex || len(pr.Groups) == 0 {
		t.Fatalf("precinct %+v: want accepted, counting entry %d, with groups", pr, s.Receipt.LogIndex)
	}
	for _, g := range pr.Groups {
		if g.ViableFirst == nil || g.Viable == nil || *g.ViableFirst != (g.First >= *pr.Threshold) {
			t.Errorf("group %+v: viable_first is not first ≥ threshold %d", g, *pr.Threshold)
		}
	}
	sameAsRaw(t, c, "api/v1/results/precincts/"+p, pr)
	if _, err := c.Precinct(ctx, p); err != nil {
		t.Error(err)
	}

	el, err := c.Election(ctx)
	if err != nil || el.ElectionID != env.Def.Election().ID || el.Files["election.json"] == "" {
		t.Errorf("election %s with files %d, %v; want %s with election.json", el.ElectionID, len(el.Files), err, env.Def.Election().ID)
	}
	csv, size, err := c.ResultsCSVAt(ctx)
	if err != nil || size != 1 || !bytes.HasPrefix(csv, []byte("county_id,")) {
		t.Errorf("results.csv at log size %d: %.40q, %v", size, csv, err)
	}
	cp, err := c.Checkpoint(ctx)
	if err != nil || !bytes.Contains(cp, []byte("\n1\n")) {
		t.Errorf("checkpoint %q, %v; want one of size 1", cp, err)
	}
	env.Check(&acked)
}

// sameAsRaw checks that a typed document is what the raw bytes at path decode to.
func sameAsRaw(t *testing.T, c *client.Client, path string, typed any) {
	t.Helper()
	raw, err := c.Get(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := json.Marshal(typed)
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	got, _ := json.Marshal(v)
	var w any
	json.Unmarshal(want, &w)
	want, _ = json.Marshal(w)
	if !bytes.Equal(got, want) {
		t.Errorf("%s: the typed document says\n%s\nthe server sent\n%s", path, want, got)
	}
}

// TestErrors: a missing document is ErrNotFound; another refusal a *StatusError with its
// status; no answer at all a transport error; an answer that is not the JSON asked for says
// so; a base URL that is not http(s) is refused.
func TestErrors(t *testing.T) {
	env, c := start(t)
	ctx := context.Background()
	if _, err := c.Precinct(ctx, "no-such-precinct"); !errors.Is(err, client.ErrNotFound) {
		t.Errorf("a precinct not in the election: %v, want ErrNotFound", err)
	}
	if _, err := c.County(ctx, "no-such-county"); !errors.Is(err, client.ErrNotFound) {
		t.Errorf("a county not in the election: %v, want ErrNotFound", err)
	}
	if _, err := c.Tile(ctx, "tile/0/x999/999"); !errors.Is(err, client.ErrNotFound) {
		t.Errorf("a tile the log does not have: %v, want ErrNotFound", err)
	}
	var v struct{}
	if _, err := c.GetJSON(ctx, "api/v1/results.csv", &v); err == nil || errors.As(err, new(*client.StatusError)) || errors.Is(err, client.ErrNotFound) {
		t.Errorf("results.csv read as JSON: %v, want a decoding error", err)
	}
	for _, base := range []string{"ftp://example.org/", "example.org", "http://", ":"} {
		if _, err := client.New(base, nil); err == nil {
			t.Errorf("client.New(%q) works, want an error", base)
		}
	}

	// The server goes down behind a reverse proxy: the proxy answers 502, the server nothing.
	u, err := url.Parse(env.URL)
	if err != nil {
		t.Fatal(err)
	}
	rp := httputil.NewSingleHostReverseProxy(u)
	rp.ErrorLog = log.New(io.Discard, "", 0) // the 502s are expected
	proxy := httptest.NewServer(rp)
	defer proxy.Close()
	viaProxy, err := client.New(proxy.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := viaProxy.Results(ctx); err != nil {
		t.Fatalf("through the proxy: %v", err)
	}
	env.Stop()
	_, err = viaProxy.Results(ctx)
	statusErr(t, err, http.StatusBadGateway, "")
	if _, err := c.Results(ctx); err == nil || errors.As(err, new(*client.StatusError)) || errors.Is(err, client.ErrNotFound) {
		t.Errorf("a server that is down: %v, want a transport error", err)
	}
}
