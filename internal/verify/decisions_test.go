package verify_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"caucus/internal/auth"
	"caucus/internal/report"
	"caucus/internal/server/servertest"
	"caucus/internal/verify"
)

// TestVerifyDecisions: verify recomputes the published numbers from headquarters' decisions (a
// conflict resolved by accepting the second report, a correction), passes before and after
// them, and fails when a decision entry is tampered with or the published numbers do not
// follow a decision.
func TestVerifyDecisions(t *testing.T) {
	env := servertest.Start(t, servertest.Options{Precincts: 12})
	post := func(path, tok string, body any) map[string]any {
		t.Helper()
		b, _ := json.Marshal(body)
		status, out := env.Do("POST", path, tok, b)
		if status != http.StatusCreated && status != http.StatusConflict {
			t.Fatalf("POST %s: %d %s", path, status, out)
		}
		var m map[string]any
		json.Unmarshal(out, &m)
		return m
	}
	var conflictIdx, firstIdx int64
	for i, p := range env.Def.Precincts() {
		tok := env.Login(p.ID)
		m := post("/api/v1/reports", tok, env.Report(p.ID, fmt.Sprintf("r-%d", i), i))
		if p.ID == "p0003" {
			firstIdx = int64(m["log_index"].(float64))
			m = post("/api/v1/reports", tok, env.Report(p.ID, "r-3-b", 40))
			conflictIdx = int64(m["receipt"].(map[string]any)["log_index"].(float64))
		}
	}
	if err := env.Server.SignCheckpoint(context.Background()); err != nil {
		t.Fatal(err)
	}
	key := func() string {
		_, b := env.Do("GET", "/api/v1/results", "", nil)
		var r struct{ LogPublicKey string }
		json.Unmarshal(b, &r)
		return r.LogPublicKey
	}()
	cpFile := filepath.Join(t.TempDir(), "checkpoint")
	if res, findings := verifyAt(t, env.URL, verify.Config{Key: key, CheckpointFile: cpFile}); !res.OK() {
		t.Fatalf("before the decisions: %s", findings)
	}

	rita := env.StaffLogin("rita", auth.RoleReviewer)
	accept := post("/api/v1/hq/review/p0003", rita, map[string]any{"action": "accept", "log_index": conflictIdx, "reason": "the chair's second count"})
	fixed := env.Report("p0007", "fix-7", 77)
	fixed.Channel = report.ChannelPaper
	correct := post("/api/v1/hq/review/p0007", rita, map[string]any{"action": "correct", "report": fixed, "reason": "worksheet photo"})
	if err := env.Server.SignCheckpoint(context.Background()); err != nil {
		t.Fatal(err)
	}
	if res, findings := verifyAt(t, env.URL, verify.Config{Key: key, CheckpointFile: cpFile}); !res.OK() {
		t.Fatalf("after the decisions: %s", findings)
	}
	acceptIdx, correctIdx := int64(accept["log_index"].(float64)), int64(correct["log_index"].(float64))

	// A server publishing the precinct as if the decision had not been made.
	n := &night{env: env}
	res, findings := verifyAt(t, n.proxy(t, func(path string, b []byte) []byte {
		if path == "/api/v1/results/precincts/p0003" {
			return bytes.Replace(b, []byte(fmt.Sprintf(`"counted_entry":%d`, conflictIdx)), []byte(fmt.Sprintf(`"counted_entry":%d`, firstIdx)), 1)
		}
		return b
	}), verify.Config{Key: key})
	expect(t, res, findings, "precinct p0003 counted_entry")
	// A page hiding the correction's reason.
	res, findings = verifyAt(t, n.proxy(t, func(path string, b []byte) []byte {
		if path == "/api/v1/results/precincts/p0007" {
			return bytes.Replace(b, []byte(`"reason":"worksheet photo",`), nil, 1)
		}
		return b
	}), verify.Config{Key: key})
	expect(t, res, findings, fmt.Sprintf("precinct p0007 history entry %d", correctIdx))

	// The decision entry rewritten in the database: it counts the first report instead.
	db, err := sql.Open("sqlite", env.Path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	from, to := fmt.Sprintf(`"counts":%d`, conflictIdx), fmt.Sprintf(`"counts":%d`, firstIdx)
	if len(from) != len(to) {
		t.Fatalf("indices %d and %d differ in length", conflictIdx, firstIdx)
	}
	for _, s := range []string{"DROP TRIGGER entries_no_update",
		fmt.Sprintf(`UPDATE entries SET body = CAST(replace(CAST(body AS TEXT), '%s', '%s') AS BLOB), counts = %d WHERE idx = %d`, from, to, firstIdx, acceptIdx)} {
		if _, err := db.Exec(s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
	var body string
	db.QueryRow("SELECT CAST(body AS TEXT) FROM entries WHERE idx = ?", acceptIdx).Scan(&body)
	if !strings.Contains(body, to) {
		t.Fatalf("tampering failed: %s", body)
	}
	res, findings = verifyAt(t, env.URL, verify.Config{Key: key, CheckpointFile: cpFile})
	expect(t, res, findings, fmt.Sprintf("entry %d: leaf hash", acceptIdx), "root")
	t.Logf("tampered decision:\n%s", findings)
}
