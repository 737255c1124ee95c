package verify_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"caucus/internal/auth"
	"caucus/internal/client"
	"caucus/internal/report"
	"caucus/internal/results"
	"caucus/internal/server/servertest"
	"caucus/internal/store"
	"caucus/internal/verify"
)

// TestPolicy: an admin sets the publication policy before the night; the results name it and
// follow it (withheld: a precinct under review is in no total and shows no numbers, listed as
// withheld; marked: its first accepted numbers count, marked under review); verify passes under
// both, and finds the difference when a server publishes withheld results as marked.
func TestPolicy(t *testing.T) {
	for _, policy := range []string{results.PolicyMarked, results.PolicyWithheld} {
		t.Run(policy, func(t *testing.T) {
			env := servertest.Start(t, servertest.Options{Precincts: 8})
			admin := env.StaffLogin("ada", auth.RoleAdmin)
			body := []byte(`{"under_review":"` + policy + `"}`)
			if status, b := env.Do("PUT", "/api/v1/hq/policy", env.StaffLogin("olive", auth.RoleObserver), body); status != http.StatusForbidden {
				t.Errorf("an observer sets the policy: %d %s", status, b)
			}
			if status, b := env.Do("PUT", "/api/v1/hq/policy", admin, []byte(`{"under_review":"hidden"}`)); status != http.StatusBadRequest {
				t.Errorf("an unknown policy: %d %s", status, b)
			}
			if status, b := env.Do("PUT", "/api/v1/hq/policy", admin, body); status != http.StatusOK {
				t.Fatalf("PUT policy: %d %s", status, b)
			}
			var acked servertest.Acked
			for i, p := range env.Def.Precincts() {
				tok := env.Login(p.ID)
				submit := func(id string, seed int) (int, report.Receipt) {
					b, _ := json.Marshal(env.Report(p.ID, id, seed))
					status, out := env.Do("POST", "/api/v1/reports", tok, b)
					if status == http.StatusConflict {
						var c struct{ Receipt report.Receipt }
						json.Unmarshal(out, &c)
						return status, c.Receipt
					}
					var r report.Receipt
					json.Unmarshal(out, &r)
					return status, r
				}
				status, r := submit(fmt.Sprintf("r-%d", i), i)
				if status != http.StatusCreated {
					t.Fatalf("report %s: %d", p.ID, status)
				}
				acked.Add(t, r)
				if i%3 == 0 { // a conflicting second report: under review
					if status, r := submit(fmt.Sprintf("r-%d-b", i), i+1); status != http.StatusConflict {
						t.Fatalf("second report %s: %d", p.ID, status)
					} else {
						acked.Add(t, r)
					}
				}
			}
			// Set before the night only.
			other := results.PolicyMarked
			if policy == other {
				other = results.PolicyWithheld
			}
			if status, b := env.Do("PUT", "/api/v1/hq/policy", admin, []byte(`{"under_review":"`+other+`"}`)); status != http.StatusConflict {
				t.Errorf("PUT policy after reports: %d %s", status, b)
			}
			// Every PUT, allowed or refused, left exactly one audit row.
			puts := 0
			rows, err := env.DB.Audit(context.Background(), 0, 10000)
			if err != nil {
				t.Fatal(err)
			}
			for _, a := range rows {
				if a.Kind == store.AuditStaffAction && strings.Contains(string(a.Detail), "PUT /api/v1/hq/policy") {
					puts++
				}
			}
			if puts != 4 {
				t.Errorf("%d staff_action rows for the 4 PUTs of the policy", puts)
			}
			if err := env.Server.SignCheckpoint(context.Background()); err != nil {
				t.Fatal(err)
			}
			env.Check(&acked) // the published results equal a recount under the night's policy
			c, _ := client.New(env.URL, nil)
			res, err := c.Results(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			under := 0 // the conflicts (p0000, p0003, p0006) and any report a warning put under review
			for _, p := range env.Def.Precincts() {
				doc, err := c.Precinct(context.Background(), p.ID)
				if err != nil {
					t.Fatal(err)
				}
				if doc.Status == results.UnderReview {
					under++
				}
			}
			if under < 3 {
				t.Errorf("%d precincts under review, want the 3 conflicts at least", under)
			}
			wantWithheld, wantReporting := 0, 8
			if policy == results.PolicyWithheld {
				wantWithheld, wantReporting = under, 8-under
			}
			if res.PublicationPolicy == nil || res.PublicationPolicy.UnderReview != policy ||
				res.PrecinctsWithheld != wantWithheld || res.PrecinctsReporting != wantReporting {
				t.Errorf("results: policy %v, withheld %d, reporting %d; want %s, %d, %d",
					res.PublicationPolicy, res.PrecinctsWithheld, res.PrecinctsReporting, policy, wantWithheld, wantReporting)
			}
			p, err := c.Precinct(context.Background(), "p0000")
			if err != nil {
				t.Fatal(err)
			}
			if p.Status != results.UnderReview || p.Withheld != (policy == results.PolicyWithheld) || (len(p.Groups) == 0) != p.Withheld {
				t.Errorf("p0000: status %s, withheld %v, %d groups", p.Status, p.Withheld, len(p.Groups))
			}
			// Its history lists every entry, with the numbers only when they are published.
			for _, h := range p.History {
				if (h.Report != nil) == p.Withheld && h.Kind != "review" {
					t.Errorf("p0000 history entry %d (%s): report shown %v under %s", h.LogIndex, h.Kind, h.Report != nil, policy)
				}
			}
			if len(p.History) < 2 {
				t.Errorf("p0000 history has %d entries, want its two conflicting reports", len(p.History))
			}
			// The public pages say which.
			_, page := env.Do("GET", "/results", "", nil)
			if !bytes.Contains(page, []byte("data-policy=\""+policy+"\"")) {
				t.Errorf("the statewide page does not show the policy %s", policy)
			}
			vres, findings := verifyAt(t, env.URL, verify.Config{Key: res.LogPublicKey})
			if len(vres.Findings) != 0 {
				t.Errorf("verify under %s:\n%s", policy, findings)
			}
			if policy == results.PolicyWithheld {
				// A server that says its withheld results are marked: verify recomputes the
				// totals with the precincts under review in them, and they differ.
				url := (&night{env: env}).proxy(t, func(path string, b []byte) []byte {
					return bytes.ReplaceAll(b, []byte(`"under_review":"withheld"`), []byte(`"under_review":"marked"`))
				})
				if _, findings := verifyAt(t, url, verify.Config{Key: res.LogPublicKey}); !strings.Contains(findings, "total") {
					t.Errorf("verify did not find withheld results published as marked:\n%s", findings)
				}
			}
		})
	}
}
