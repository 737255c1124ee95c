package verify_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"caucus/internal/auth"
	"caucus/internal/auth/authtest"
	"caucus/internal/report"
	"caucus/internal/resultscsv"
	"caucus/internal/rules"
	"caucus/internal/server/servertest"
	"caucus/internal/store"
	"caucus/internal/verify"
)

// certifyEnv is a server with a reviewer and a certifier (with a second factor) logged in.
type certifyEnv struct {
	t         *testing.T
	env       *servertest.Env
	clock     *authtest.Clock
	cert      auth.NewStaff
	rita, cox string // session tokens
}

func newCertifyEnv(t *testing.T, precincts int) *certifyEnv {
	clock := authtest.NewClock(time.Now())
	e := &certifyEnv{t: t, clock: clock, env: servertest.Start(t, servertest.Options{Precincts: precincts, Now: clock.Now})}
	e.rita = e.env.StaffLogin("rita", auth.RoleReviewer)
	n, err := e.env.Auth.CreateStaff(context.Background(), auth.Actor{Name: "cli:test", From: "test"}, "cox", auth.RoleCertifier)
	if err != nil {
		t.Fatal(err)
	}
	e.cert = n
	_, tok, err := e.env.Auth.LoginStaff(context.Background(), "cox", auth.NewPassword(n.Password.Reveal()), e.code(), netip.MustParseAddr("127.0.0.1"))
	if err != nil {
		t.Fatal(err)
	}
	e.cox = tok.Reveal()
	return e
}

// code is the certifier's next one-time code: the clock moves a step first, a code being good once.
func (e *certifyEnv) code() string {
	e.t.Helper()
	e.clock.Advance(30 * time.Second)
	c, err := totp.GenerateCodeCustom(e.cert.TOTP.Reveal(), e.clock.Now(), totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

// clean is a report for precinct p from the first seed from seed on whose math fires no check:
// a recanvass of it needs no second look.
func (e *certifyEnv) clean(p, reportID string, seed int) report.Report {
	e.t.Helper()
	facts := report.Facts(e.env.Def)[p]
	for s := seed; s < seed+200; s++ {
		r := e.env.Report(p, reportID, s)
		if len(rules.Calc(report.CalcInput(r, facts)).Checks) == 0 {
			return r
		}
	}
	e.t.Fatalf("no report without checks for %s", p)
	return report.Report{}
}

// post sends a JSON body and decodes the answer, failing unless the status is want.
func (e *certifyEnv) post(path, tok string, body any, want int) map[string]any {
	e.t.Helper()
	b, _ := json.Marshal(body)
	status, out := e.env.Do("POST", path, tok, b)
	if status != want {
		e.t.Fatalf("POST %s: %d %s, want %d", path, status, out, want)
	}
	var m map[string]any
	json.Unmarshal(out, &m)
	return m
}

func (e *certifyEnv) verify(key string) (*verify.Result, string) {
	e.t.Helper()
	if err := e.env.Server.SignCheckpoint(context.Background()); err != nil {
		e.t.Fatal(err)
	}
	return verifyAt(e.t, e.env.URL, verify.Config{Key: key})
}

// TestVerifyRecanvassAndCertification: a recanvass confirms, another corrects (the totals
// follow); certification is refused while a precinct is unsettled, naming it, then names the
// checkpoint, and its CSV is the published results.csv at that checkpoint; a correction is
// refused until the certification is withdrawn; verify passes after each step, and fails when a
// certification entry names a root that is not the log's.
func TestVerifyRecanvassAndCertification(t *testing.T) {
	e := newCertifyEnv(t, 6)
	env := e.env
	for i, p := range env.Def.Precincts()[:5] {
		e.post("/api/v1/reports", env.Login(p.ID), e.clean(p.ID, fmt.Sprintf("r-%d", i), i), http.StatusCreated)
	}
	key := func() string {
		_, b := env.Do("GET", "/api/v1/results", "", nil)
		var r struct{ LogPublicKey string }
		json.Unmarshal(b, &r)
		return r.LogPublicKey
	}()

	// Recanvass: the same numbers confirm, other numbers correct.
	same := e.clean("p0001", "rc-1", 1)
	m := e.post("/api/v1/hq/recanvass/p0001", e.rita, map[string]any{"report": same, "reason": "Smith campaign request", "source": "worksheet"}, http.StatusCreated)
	if m["outcome"] != "confirmed" || len(m["differences"].([]any)) != 0 {
		t.Fatalf("recanvass with no difference: %v", m)
	}
	diff := e.clean("p0002", "rc-2", 30)
	m = e.post("/api/v1/hq/recanvass/p0002", e.rita, map[string]any{"report": diff, "reason": "Smith campaign request", "source": "cards"}, http.StatusCreated)
	if m["outcome"] != "corrected" || len(m["differences"].([]any)) == 0 {
		t.Fatalf("recanvass with differences: %v", m)
	}
	_, b := env.Do("GET", "/api/v1/results/precincts/p0002", "", nil)
	var p struct {
		Status    string
		Attendees int64
	}
	json.Unmarshal(b, &p)
	if p.Status != "corrected" || p.Attendees != diff.Attendees {
		t.Fatalf("p0002 after the correcting recanvass: %s", b)
	}
	if res, findings := e.verify(key); !res.OK() {
		t.Fatalf("after the recanvasses: %s", findings)
	}

	// Certification: refused while p0005 has not reported, naming it.
	m = e.post("/api/v1/hq/certify", e.cox, map[string]any{"scope": "county:alpha", "otp": e.code()}, http.StatusConflict)
	if un := m["unsettled"].([]any); len(un) != 1 || un[0].(map[string]any)["precinct_id"] != "p0005" {
		t.Fatalf("unsettled: %v", m)
	}
	e.post("/api/v1/hq/certify", e.cox, map[string]any{"scope": "county:alpha", "otp": "000000"}, http.StatusForbidden)
	e.post("/api/v1/reports", env.Login("p0005"), e.clean("p0005", "r-5", 5), http.StatusCreated)
	status, csvBefore := env.Do("GET", "/api/v1/results.csv", "", nil)
	if status != http.StatusOK {
		t.Fatal(status)
	}
	m = e.post("/api/v1/hq/certify", e.cox, map[string]any{"scope": "county:alpha", "otp": e.code(), "reason": "canvass board met"}, http.StatusCreated)
	size, idx := int64(m["log_size"].(float64)), int64(m["log_index"].(float64))
	if size != idx || m["root_hash"] == "" || m["scope"] != "county:alpha" {
		t.Fatalf("certification: %v", m)
	}
	status, certCSV := env.Do("GET", fmt.Sprintf("/api/v1/certifications/%d/results.csv", idx), "", nil)
	if status != http.StatusOK || string(certCSV) != string(csvBefore) {
		t.Fatalf("certified CSV (%d) differs from results.csv at the checkpoint:\n%s\n%s", status, certCSV, csvBefore)
	}
	status, page := env.Do("GET", fmt.Sprintf("/certifications/%d", idx), "", nil)
	if status != http.StatusOK || !strings.Contains(string(page), fmt.Sprint(size)) || !strings.Contains(html.UnescapeString(string(page)), m["root_hash"].(string)) {
		t.Fatalf("printable page (%d) does not state the checkpoint:\n%s", status, page)
	}
	_, b = env.Do("GET", "/api/v1/results/precincts/p0000", "", nil)
	if !strings.Contains(string(b), `"status":"certified"`) {
		t.Errorf("p0000 after certification: %s", b)
	}
	st := e.post("/api/v1/hq/certify", e.cox, map[string]any{"scope": "state", "otp": e.code()}, http.StatusCreated)
	if res, findings := e.verify(key); !res.OK() {
		t.Fatalf("after the certifications: %s", findings)
	}
	// A server publishing certified numbers that are not the log's at the checkpoint.
	lying := (&night{env: env}).proxy(t, func(path string, b []byte) []byte {
		if path != fmt.Sprintf("/api/v1/certifications/%d/results.csv", idx) {
			return b
		}
		rows, err := resultscsv.Read(bytes.NewReader(b))
		if err != nil {
			return b
		}
		for i := range rows {
			if rows[i].ID == "p0004" {
				rows[i].First["adams"] += 3
			}
		}
		var out bytes.Buffer
		resultscsv.Write(&out, rows)
		return out.Bytes()
	})
	res, findings := verifyAt(t, lying, verify.Config{Key: key})
	expect(t, res, findings, fmt.Sprintf("certification %d results.csv precinct p0004 candidate adams first: published ", idx))

	// A correction is refused until the certification is withdrawn, on the record.
	fix := e.clean("p0003", "fix-3", 44)
	e.post("/api/v1/hq/review/p0003", e.rita, map[string]any{"action": "correct", "report": fix, "reason": "typo"}, http.StatusConflict)
	e.post("/api/v1/hq/recanvass/p0003", e.rita, map[string]any{"report": fix, "reason": "typo"}, http.StatusConflict)
	e.post("/api/v1/hq/certify/withdraw", e.cox, map[string]any{"scope": "state", "otp": e.code()}, http.StatusUnprocessableEntity)
	e.post("/api/v1/hq/certify/withdraw", e.cox, map[string]any{"scope": "state", "otp": e.code(), "reason": "typo in p0003"}, http.StatusCreated)
	e.post("/api/v1/hq/certify/withdraw", e.cox, map[string]any{"scope": "county:alpha", "otp": e.code(), "reason": "typo in p0003"}, http.StatusCreated)
	e.post("/api/v1/hq/review/p0003", e.rita, map[string]any{"action": "correct", "report": fix, "reason": "typo"}, http.StatusCreated)
	_, b = env.Do("GET", "/api/v1/certifications", "", nil)
	var list struct {
		Certified      []string
		Certifications []struct {
			LogIndex int64 `json:"log_index"`
			Decision string
			InForce  bool `json:"in_force"`
		}
	}
	json.Unmarshal(b, &list)
	if len(list.Certified) != 0 || len(list.Certifications) != 4 || list.Certifications[1].LogIndex != int64(st["log_index"].(float64)) ||
		list.Certifications[3].Decision != "withdrawn" || list.Certifications[0].InForce {
		t.Fatalf("certifications: %s", b)
	}
	if res, findings := e.verify(key); !res.OK() {
		t.Fatalf("after the withdrawal and the correction: %s", findings)
	}

	// A certification entry naming a root that is not the log's, stored as the server would
	// store any entry: verify names it.
	n, err := env.DB.Size(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	wrong := base64.StdEncoding.EncodeToString(make([]byte, 32))
	leaf := report.Entry{Kind: report.KindCertification, ElectionID: env.Def.Election().ID, PrecinctID: "county:alpha",
		ReceivedAt: report.FormatTime(time.Now()), Submitter: "cox", Channel: "staff", Decision: report.Certified,
		LogSize: &n, RootHash: wrong}
	rs, err := env.DB.Append(context.Background(), []store.NewEntry{{Kind: store.KindCertification, PrecinctID: "county:alpha",
		Submitter: "cox", Channel: store.ChannelStaff, Body: leaf.Marshal(), Status: store.StatusCertified}})
	if err != nil || rs[0].Outcome != store.Appended {
		t.Fatalf("append: %v %v", rs, err)
	}
	env.Restart()
	res, findings = e.verify(key)
	expect(t, res, findings, fmt.Sprintf("certification entry %d (county:alpha) root_hash", n))
	t.Logf("a certification naming a wrong root:\n%s", findings)
}
