package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"caucus/internal/election"
	"caucus/internal/report"
	"caucus/internal/server/servertest"
	"caucus/internal/store/postgres"
	"caucus/internal/store/postgres/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// TestServePostgres runs caucus serve over HTTP on a PostgreSQL database, with a practice
// election in a schema of its own: credentials issued into it, chairs logging in and reporting
// (a retry, a conflicting second report, a practice report), two hotline operators keying one
// precinct's worksheet that is counted when their copies match, a second serve on the same
// database publishing what the first takes, the first restarted on the same database with every
// report still there, and caucus verify passing against both logs.
func TestServePostgres(t *testing.T) {
	ctx := context.Background()
	dbURL := pgtest.NewDatabase(t)
	dir := t.TempDir()
	def := servertest.Definition(t, 6)
	e := def.Election()
	e.ID, e.Practice = e.ID+"-practice", true
	practice, err := election.New(e, def.Counties(), def.Precincts()) // kept in the schema "practice"
	if err != nil {
		t.Fatal(err)
	}
	db, err := openDB(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := issueCredentials(ctx, def, db, filepath.Join(dir, "pins"), "http://127.0.0.1/", io.Discard); err != nil {
		t.Fatal(err)
	}
	db.Close()
	pins := readPins(t, filepath.Join(dir, "pins", "pins.csv"))
	opts := serveOptions{logKeyFile: filepath.Join(dir, "election.log-key")}

	// start runs serve until the returned stop is called.
	start := func() (string, func()) {
		t.Helper()
		sctx, cancel := context.WithCancel(ctx)
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ready := make(chan string, 1)
		served := make(chan error, 1)
		go func() {
			served <- serve(sctx, ln, def, practice, dbURL, slog.New(slog.DiscardHandler), opts, func(url string) { ready <- url })
		}()
		select {
		case url := <-ready:
			return url, func() {
				cancel()
				if err := <-served; err != nil {
					t.Errorf("serve: %v", err)
				}
			}
		case err := <-served:
			cancel()
			t.Fatalf("serve: %v", err)
		}
		return "", nil
	}
	url, stop := start()

	// A second serve on the same database is a second node: it starts, and publishes what the
	// first takes (checked below).
	url2, stop2 := start()

	// One without a log key file refuses to start: a database server has no folder to keep it
	// beside.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	err = serve(ctx, ln, def, nil, dbURL, slog.New(slog.DiscardHandler), serveOptions{}, func(string) {
		t.Error("serve on PostgreSQL started without a log key")
	})
	ln.Close()
	var usage *usageError
	if !errors.As(err, &usage) || !strings.Contains(err.Error(), "--log-key") {
		t.Errorf("serve without --log-key: %v, want a usage error naming --log-key", err)
	}

	facts := report.Facts(def)
	seen := map[string]bool{}
	post := func(path, token string, body []byte) (int, []byte) {
		t.Helper()
		req, _ := http.NewRequest("POST", url+path, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
	precincts := def.Precincts()
	byPhone := precincts[len(precincts)-1] // reported through the hotline below
	for i, p := range precincts[:len(precincts)-1] {
		body, _ := json.Marshal(map[string]string{"precinct_id": p.ID, "pin": pins[p.ID]})
		status, b := post("api/v1/login", "", body)
		if status != http.StatusOK {
			t.Fatalf("login %s: %d %s", p.ID, status, b)
		}
		var login struct{ Token string }
		json.Unmarshal(b, &login)
		r := crashReport(facts[p.ID], p.ID, fmt.Sprintf("pg-%s", p.ID), i, seen)
		for _, want := range []int{http.StatusCreated, http.StatusOK} { // the report, then the phone's retry
			if status, b := post("api/v1/reports", login.Token, r.Canonical()); status != want {
				t.Fatalf("report %s: %d %s, want %d", p.ID, status, b, want)
			}
		}
		if i == 0 { // a second, different report: kept and flagged, the first stays counted
			r2 := crashReport(facts[p.ID], p.ID, "pg-second", 100, seen)
			if status, b := post("api/v1/reports", login.Token, r2.Canonical()); status != http.StatusConflict {
				t.Fatalf("conflicting report: %d %s, want 409", status, b)
			}
			// The practice election, on the same login, into a log of its own.
			if status, b := post("practice/api/v1/reports", login.Token, r.Canonical()); status != http.StatusCreated {
				t.Fatalf("practice report: %d %s, want 201", status, b)
			}
		}
	}

	// The hotline on PostgreSQL: two operators made with caucus staff add (beside the running
	// serve) key the same worksheet, verified by the chair's PIN; the second copy matches the
	// first and the report is counted.
	r := crashReport(facts[byPhone.ID], byPhone.ID, "pg-hotline", len(precincts), seen)
	var rep map[string]any
	json.Unmarshal(r.Canonical(), &rep)
	delete(rep, "report_id") // the console sends none
	rep["channel"] = report.ChannelHotline
	copyBody, _ := json.Marshal(map[string]any{"precinct_id": byPhone.ID, "verified_by": "pin", "pin": pins[byPhone.ID], "report": rep})
	for i, op := range []string{"olga", "oscar"} {
		var out, errOut bytes.Buffer
		if code := (&Main{}).Run(ctx, []string{"staff", "add", "--db", dbURL, "--user", op, "--role", "operator"},
			strings.NewReader(""), &out, &errOut); code != 0 {
			t.Fatalf("staff add %s: exit %d\n%s\n%s", op, code, out.String(), errOut.String())
		}
		var password string
		for _, line := range strings.Split(out.String(), "\n") {
			if f := strings.Fields(line); len(f) == 3 && f[0] == "one-time" && f[1] == "password" {
				password = f[2]
			}
		}
		body, _ := json.Marshal(map[string]string{"user": op, "password": password})
		status, b := post("api/v1/staff/login", "", body)
		if status != http.StatusOK {
			t.Fatalf("staff login %s: %d %s", op, status, b)
		}
		var login struct{ Token string }
		json.Unmarshal(b, &login)
		status, b = post("api/v1/hotline/entries", login.Token, copyBody)
		var res struct{ State, Counted string }
		json.Unmarshal(b, &res)
		wantStatus, want := []int{http.StatusOK, http.StatusCreated}[i], []string{"waiting_second", "matched"}[i]
		if status != wantStatus || res.State != want {
			t.Fatalf("%s's copy: %d %s, want %d and state %s", op, status, b, wantStatus, want)
		}
		if i == 1 && res.Counted != "counted" {
			t.Fatalf("matched copies: %s, want counted", b)
		}
	}
	// The second node publishes the first's results, and the practice election's, once it has
	// followed the first's commits (polled, with a deadline).
	for _, site := range []string{"", "practice/"} {
		want := getOK(t, url+site+"api/v1/results")
		deadline := time.Now().Add(10 * time.Second)
		for got := getOK(t, url2+site+"api/v1/results"); !bytes.Equal(got, want); got = getOK(t, url2+site+"api/v1/results") {
			if time.Now().After(deadline) {
				t.Fatalf("the second node's %sresults after 10 s:\n%s\nthe first's:\n%s", site, got, want)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	stop2()
	stop()

	// Restarted on the same database: the log is there, and verify checks it end to end.
	url, stop = start()
	defer stop()
	for site, size := range map[string]int{"": len(def.Precincts()) + 1, "practice/": 1} {
		var out, errOut bytes.Buffer
		code := (&Main{}).Run(ctx, []string{"verify", "--url", url + site}, strings.NewReader(""), &out, &errOut)
		want := fmt.Sprintf("summary: OK — log of %d entries", size)
		if code != 0 || !strings.Contains(out.String(), want) {
			t.Errorf("verify %q exit %d, want 0 and %q:\n%s\n%s", site, code, want, out.String(), errOut.String())
		}
	}
	for _, u := range []string{dbURL, practiceURL(dbURL)} {
		pdb, err := postgres.Open(ctx, u, postgres.Options{}) // a reader beside the running writer
		if err != nil {
			t.Fatal(err)
		}
		if err := pdb.IntegrityCheck(ctx); err != nil {
			t.Errorf("%s: %v", u, err)
		}
		pdb.Close()
	}
}

// getOK is the body of a GET that must answer 200.
func getOK(t *testing.T, url string) []byte {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %s %v", url, resp.StatusCode, b, err)
	}
	return b
}

// errorHint is the hint a hintError carries, or "".
func errorHint(err error) string {
	var h *hintError
	if errors.As(err, &h) {
		return h.hint
	}
	return ""
}

func TestPracticeURL(t *testing.T) {
	for in, want := range map[string]string{
		"sqlite:/var/caucus/iowa.db":                     "sqlite:/var/caucus/iowa-practice.db",
		"postgres://caucus@db:5432/iowa":                 "postgres://caucus@db:5432/iowa?search_path=practice",
		"postgres://caucus@db/iowa?sslmode=verify-full":  "postgres://caucus@db/iowa?search_path=practice&sslmode=verify-full",
		"postgresql://caucus@db/nation?search_path=iowa": "postgresql://caucus@db/nation?search_path=iowa_practice",
	} {
		if got := practiceURL(in); got != want {
			t.Errorf("practiceURL(%q) = %q, want %q", in, got, want)
		}
	}
	if got := logKeyPath("postgres://caucus@db/iowa"); got != "" {
		t.Errorf("logKeyPath(postgres) = %q, want none", got)
	}
}
