package server_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"caucus/internal/report"
	"caucus/internal/server/servertest"
	"caucus/internal/store"
)

// TestDoubleTapSimultaneous is reliability.md C4 under the worst timing: for each of 100
// precincts the same numbers under two report_ids are sent at the same instant over real HTTP.
// The store decides inside the appending transaction, so every pair is one 201 and one 200 with
// the first's receipt and an informational note, never a 409: each precinct counted once, and
// never under review for it. A 503 (the server shedding load) is retried with the same
// report_id, as the chair's app does.
func TestDoubleTapSimultaneous(t *testing.T) {
	const pairs = 100
	env := servertest.Start(t, servertest.Options{Precincts: pairs})
	tokens := make([]string, pairs)
	for i := range pairs {
		tokens[i] = env.Login(fmt.Sprintf("p%04d", i))
	}
	type answer struct {
		status int
		rc     report.Receipt
		info   []struct{ ID, Severity string }
	}
	answers := make([][2]answer, pairs)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range pairs {
		p := fmt.Sprintf("p%04d", i)
		r := env.Report(p, p+"-tap1", i)
		again := r
		again.ReportID = p + "-tap2"
		for j, rep := range []report.Report{r, again} {
			wg.Go(func() {
				<-start
				for {
					status, body, err := postRaw(env, tokens[i], rep)
					if err != nil {
						t.Error(err)
						return
					}
					if status == http.StatusServiceUnavailable {
						time.Sleep(10 * time.Millisecond)
						continue
					}
					var a answer
					a.status = status
					json.Unmarshal(body, &a.rc)
					var extra struct {
						Info []struct{ ID, Severity string } `json:"info"`
					}
					json.Unmarshal(body, &extra)
					a.info = extra.Info
					answers[i][j] = a
					return
				}
			})
		}
	}
	close(start)
	wg.Wait()
	var acked servertest.Acked
	conflicts := 0
	for i, pair := range answers {
		created, same := -1, -1
		for j, a := range pair {
			switch {
			case a.status == http.StatusCreated:
				created = j
			case a.status == http.StatusOK && len(a.info) == 1 && a.info[0].ID == "same_numbers" && a.info[0].Severity == "info":
				same = j
			case a.status == http.StatusConflict:
				conflicts++
			}
		}
		if created < 0 || same < 0 {
			t.Errorf("p%04d: statuses %d and %d, want one 201 and one 200 with the same_numbers note", i, pair[0].status, pair[1].status)
			continue
		}
		c, s := pair[created].rc, pair[same].rc
		if c.LogIndex != s.LogIndex || c.LeafHash != s.LeafHash || c.ReportID != s.ReportID || c.Status != s.Status {
			t.Errorf("p%04d: the second got %+v, want the first's receipt %+v", i, s, c)
		}
		acked.Add(t, c)
		acked.Add(t, s)
	}
	if conflicts != 0 {
		t.Errorf("%d conflicts among %d simultaneous double taps, want 0", conflicts, pairs)
	}
	if size, _ := env.DB.Size(t.Context()); size != pairs {
		t.Errorf("log size %d, want %d: each precinct counted once", size, pairs)
	}
	// Each precinct is as its one report left it: accepted, or under review only for the
	// report's own warnings (the status its 201 said), never for a conflict.
	for id, rc := range acked.Receipts {
		st, err := env.DB.PrecinctState(t.Context(), rc.PrecinctID)
		if err != nil || st.Status != store.Status(rc.Status) || st.Conflict || st.Reports != 1 || st.Counted != rc.LogIndex {
			t.Errorf("%s: state %+v (%v), want %s counting %s alone, no conflict", rc.PrecinctID, st, err, rc.Status, id)
		}
	}
	env.Check(&acked)
}

// postRaw sends a report and returns the status and the body.
func postRaw(env *servertest.Env, token string, r report.Report) (int, []byte, error) {
	req, err := http.NewRequest("POST", env.URL+"/api/v1/reports", strings.NewReader(string(r.Canonical())))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, fmt.Errorf("POST report %s: %w", r.ReportID, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}
