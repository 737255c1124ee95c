package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"caucus/internal/election"
	"caucus/internal/report"
	"caucus/internal/server/servertest"
	"caucus/internal/store/postgres"
	"caucus/internal/store/postgres/pgtest"
)

// startServe runs caucus serve on dbURL until the returned stop is called.
func startServe(t *testing.T, def *election.Definition, dbURL string, opts serveOptions) (string, func()) {
	t.Helper()
	sctx, cancel := context.WithCancel(context.Background())
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ready := make(chan string, 1)
	served := make(chan error, 1)
	go func() {
		served <- serve(sctx, ln, def, nil, dbURL, slog.New(slog.DiscardHandler), opts, func(url string) { ready <- url })
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

// runMain runs one caucus command line in-process.
func runMain(args ...string) (int, string) {
	var out, errOut bytes.Buffer
	code := (&Main{}).Run(context.Background(), args, strings.NewReader(""), &out, &errOut)
	return code, out.String() + errOut.String()
}

// TestMoveElection serves an election on SQLite (chairs' reports, a conflict and its correction,
// a hotline report keyed by two operators, the audit trail they leave), saves a checkpoint with
// caucus verify, exports it, imports it into PostgreSQL, serves it there with the old key file,
// takes one more report, and checks with caucus verify that the log extends the checkpoint
// saved before the move.
func TestMoveElection(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	def := servertest.Definition(t, 6)
	liteURL := "sqlite:" + filepath.Join(dir, "election.db")
	db, err := openDB(ctx, liteURL)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := issueCredentials(ctx, def, db, filepath.Join(dir, "pins"), "http://127.0.0.1/", io.Discard); err != nil {
		t.Fatal(err)
	}
	db.Close()
	pins := readPins(t, filepath.Join(dir, "pins", "pins.csv"))
	passwords := map[string]string{}
	for _, s := range [][2]string{{"olga", "operator"}, {"oscar", "operator"}, {"rita", "reviewer"}} {
		code, out := runMain("staff", "add", "--db", liteURL, "--user", s[0], "--role", s[1])
		if code != 0 {
			t.Fatalf("staff add %s: exit %d\n%s", s[0], code, out)
		}
		for _, line := range strings.Split(out, "\n") {
			if f := strings.Fields(line); len(f) == 3 && f[0] == "one-time" && f[1] == "password" {
				passwords[s[0]] = f[2]
			}
		}
	}

	url, stop := startServe(t, def, liteURL, serveOptions{})
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
	login := func(path string, body any) string {
		t.Helper()
		b, _ := json.Marshal(body)
		status, out := post(path, "", b)
		if status != http.StatusOK {
			t.Fatalf("login %s: %d %s", b, status, out)
		}
		var l struct{ Token string }
		json.Unmarshal(out, &l)
		return l.Token
	}
	facts := report.Facts(def)
	seen := map[string]bool{}
	precincts := def.Precincts()
	byPhone, afterMove := precincts[len(precincts)-1], precincts[len(precincts)-2]
	for i, p := range precincts[:len(precincts)-2] {
		tok := login("api/v1/login", map[string]string{"precinct_id": p.ID, "pin": pins[p.ID]})
		r := crashReport(facts[p.ID], p.ID, "move-"+p.ID, i, seen)
		if status, b := post("api/v1/reports", tok, r.Canonical()); status != http.StatusCreated {
			t.Fatalf("report %s: %d %s", p.ID, status, b)
		}
		if i == 0 { // a conflicting second report, then the reviewer's correction with its numbers
			r2 := crashReport(facts[p.ID], p.ID, "move-second", 100, seen)
			if status, b := post("api/v1/reports", tok, r2.Canonical()); status != http.StatusConflict {
				t.Fatalf("conflicting report: %d %s, want 409", status, b)
			}
			rita := login("api/v1/staff/login", map[string]string{"user": "rita", "password": passwords["rita"]})
			c := crashReport(facts[p.ID], p.ID, "move-correction", 100, map[string]bool{})
			body, _ := json.Marshal(map[string]any{"action": "correct", "report": json.RawMessage(c.Canonical()), "reason": "the worksheet, called back"})
			if status, b := post("api/v1/hq/review/"+p.ID, rita, body); status != http.StatusCreated {
				t.Fatalf("correction: %d %s", status, b)
			}
		}
	}
	r := crashReport(facts[byPhone.ID], byPhone.ID, "move-hotline", len(precincts), seen)
	var rep map[string]any
	json.Unmarshal(r.Canonical(), &rep)
	delete(rep, "report_id")
	rep["channel"] = report.ChannelHotline
	copyBody, _ := json.Marshal(map[string]any{"precinct_id": byPhone.ID, "verified_by": "pin", "pin": pins[byPhone.ID], "report": rep})
	for _, op := range []string{"olga", "oscar"} {
		tok := login("api/v1/staff/login", map[string]string{"user": op, "password": passwords[op]})
		if status, b := post("api/v1/hotline/entries", tok, copyBody); status != http.StatusOK && status != http.StatusCreated {
			t.Fatalf("%s's copy: %d %s", op, status, b)
		}
	}
	cpFile := filepath.Join(dir, "verify.checkpoint")
	before := len(precincts) - 2 + 2 + 1 // the chairs' reports, the conflict and the correction, the hotline's
	if code, out := runMain("verify", "--url", url, "--checkpoint", cpFile); code != 0 ||
		!strings.Contains(out, fmt.Sprintf("summary: OK — log of %d entries", before)) {
		t.Fatalf("verify before the move: exit %d\n%s", code, out)
	}
	stop()

	// The move: export, then import into PostgreSQL (a second import is refused).
	file := filepath.Join(dir, "election.caucus-export.gz")
	if code, out := runMain("export", "--db", liteURL, "--out", file); code != 0 {
		t.Fatalf("export: exit %d\n%s", code, out)
	}
	if code, out := runMain("export", "--db", liteURL, "--out", file); code != 1 || !strings.Contains(out, "exists") {
		t.Errorf("export over an existing file: exit %d, want 1\n%s", code, out)
	}
	pgURL := pgtest.NewDatabase(t)
	if code, out := runMain("import", "--db", pgURL, "--in", file); code != 0 || !strings.Contains(out, "verified") {
		t.Fatalf("import: exit %d\n%s", code, out)
	}
	if code, out := runMain("import", "--db", pgURL, "--in", file); code != 1 || !strings.Contains(out, "not empty") {
		t.Errorf("second import: exit %d, want 1 (not empty)\n%s", code, out)
	}

	// Served from PostgreSQL with the key file of the SQLite deployment: the chairs' sessions
	// and the log carry over, a new report is appended after the moved ones, and verify finds
	// the log extending the checkpoint it saved before the move.
	url, stop = startServe(t, def, pgURL, serveOptions{logKeyFile: logKeyPath(liteURL)})
	defer stop()
	tok := login("api/v1/login", map[string]string{"precinct_id": afterMove.ID, "pin": pins[afterMove.ID]})
	r = crashReport(facts[afterMove.ID], afterMove.ID, "move-after", len(precincts)+1, seen)
	if status, b := post("api/v1/reports", tok, r.Canonical()); status != http.StatusCreated {
		t.Fatalf("report after the move: %d %s", status, b)
	}
	if code, out := runMain("verify", "--url", url, "--checkpoint", cpFile); code != 0 ||
		!strings.Contains(out, fmt.Sprintf("summary: OK — log of %d entries", before+1)) {
		t.Errorf("verify after the move: exit %d\n%s", code, out)
	}
	pdb, err := postgres.Open(ctx, pgURL, postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer pdb.Close()
	if err := pdb.IntegrityCheck(ctx); err != nil {
		t.Error(err)
	}
	as, err := pdb.Audit(ctx, 0, 1000)
	if err != nil || len(as) == 0 {
		t.Errorf("the audit trail after the move: %d rows, %v", len(as), err)
	}
}

func TestExportImportUsage(t *testing.T) {
	for _, args := range [][]string{{"export"}, {"export", "--db", "sqlite:x.db"}, {"import", "--in", "f"}, {"import", "--db", "sqlite:x", "--in", "f", "extra"}} {
		if code, out := runMain(args...); code != 2 {
			t.Errorf("%v: exit %d, want 2\n%s", args, code, out)
		}
	}
	for _, cmd := range []string{"export", "import"} {
		code, out := runMain(cmd, "--help")
		if code != 0 || !strings.Contains(out, "Usage: caucus "+cmd) || !strings.Contains(out, "key") {
			t.Errorf("%s --help: exit %d\n%s", cmd, code, out)
		}
	}
	dir := t.TempDir()
	if code, out := runMain("import", "--db", "sqlite:"+filepath.Join(dir, "x.db"), "--in", filepath.Join(dir, "missing")); code != 1 {
		t.Errorf("import of a missing file: exit %d, want 1\n%s", code, out)
	}
}
