package server_test

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"caucus/internal/auth"
	"caucus/internal/store"
)

// The authorization matrix (reliability.md A7, A8): every route × every kind of caller, every
// cell's status asserted, and every state-changing staff route leaves exactly one staff_action
// audit row per request, allowed or refused.
//
// A row is one line: "METHOD PATH", the body, and the ten statuses expected, one per column of
// principals (in that order). In paths and bodies X is the precinct of chair X and Y of chair
// Y; Z is a precinct of no chair in the matrix. A body starting with "image/png:" is sent as
// that media type. A state-changing route under /api/v1/hq/ or /api/v1/staff/ (the login
// aside) must leave one staff_action row per request; the fourth field (noAudit) marks a POST
// there that stores nothing (a computation), which leaves none.
var principals = []string{"anonymous", "chair X", "chair Y", "observer", "operator", "reviewer", "certifier", "admin", "disabled", "expired"}

type authzRow struct {
	route, body, want string
	noAudit           bool // a POST under /api/v1/hq/ that changes nothing (a computation): no staff_action row
}

func authzRows(reportX string) []authzRow {
	return []authzRow{
		// The chairs' routes.
		{"POST /api/v1/reports", reportX, "401 201 403 403 200 403 403 403 401 401", false},
		{"POST /api/v1/calc", `{"precinct_id":"X","attendees":10,"first":{"adams":10}}`, "401 200 403 403 200 403 403 403 401 401", false},
		// Anyone may ask to be called back (throttled): a chair who cannot log in most of all.
		{"POST /api/v1/callbacks", `{"precinct_id":"X","phone":"+15155550100","note":"authz"}`, "201 201 403 403 201 403 403 403 401 401", false},
		// A photo that does not decode is 400 once the caller may upload: not an observer.
		{"POST /api/v1/photos", "image/png:not a png", "401 400 400 403 400 400 400 400 401 401", false},
		// Logging out is idempotent: a token already over is logged out all the same.
		{"POST /api/v1/logout", "", "401 200 200 200 200 200 200 200 200 200", false},
		{"GET /api/v1/precinct-info/X", "", "200 200 200 200 200 200 200 200 200 200", false},
		{"GET /api/v1/results", "", "200 200 200 200 200 200 200 200 200 200", false},
		{"GET /api/v1/results/precincts/X", "", "200 200 200 200 200 200 200 200 200 200", false},
		// Staff login and session.
		{"GET /hq/login", "", "200 200 200 200 200 200 200 200 200 200", false},
		{"POST /api/v1/staff/login", `{"user":"nobody","password":"not a password at all"}`, "401 401 401 401 401 401 401 401 401 401", false},
		{"GET /api/v1/staff/me", "", "401 403 403 200 200 200 200 200 401 401", false},
		{"POST /api/v1/staff/logout", "", "401 403 403 200 200 200 200 200 401 401", false},
		{"POST /api/v1/staff/password", `{"current":"whatever it is","new":"short"}`, "401 403 403 400 400 400 400 400 401 401", false},
		// The admin's account routes.
		{"GET /api/v1/hq/staff", "", "401 403 403 403 403 403 403 200 401 401", false},
		{"POST /api/v1/hq/staff", `{"user":"nina","role":"observer"}`, "401 403 403 403 403 403 403 201 401 401", false},
		{"POST /api/v1/hq/staff/tom/reset", `{"reason":"authz"}`, "401 403 403 403 403 403 403 200 401 401", false},
		{"POST /api/v1/hq/staff/tom/disable", `{"reason":"authz"}`, "401 403 403 403 403 403 403 200 401 401", false},
		// Reopening a precinct's PIN login.
		{"POST /api/v1/hq/precincts/Z/reopen", `{"reason":"called back"}`, "401 403 403 403 200 403 403 200 401 401", false},
		{"POST /api/v1/hq/precincts/Z/new-pin", `{"reason":"called back"}`, "401 403 403 403 200 403 403 200 401 401", false},
		// The review queue, its decisions and pages (a page without a session goes to the login).
		{"GET /api/v1/hq/review", "", "401 403 403 200 403 200 403 200 401 401", false},
		{"GET /api/v1/hq/review/X", "", "401 403 403 200 403 200 403 200 401 401", false},
		{"POST /api/v1/hq/calc/X", `{"attendees":10,"first":{"adams":10}}`, "401 403 403 403 403 200 403 403 401 401", true},
		{"POST /api/v1/hq/review/X", `{"action":"accept","log_index":0,"reason":"authz"}`, "401 403 403 403 403 201 403 403 401 401", false},
		{"GET /api/v1/hq/photos/" + strings.Repeat("0", 64), "", "401 403 403 404 404 404 404 404 401 401", false},
		{"GET /hq/review", "", "303 403 403 200 403 200 403 200 303 303", false},
		// The board and the publication policy (the staff stream is TestBoardEvents's: it does
		// not end). The policy is set before the night: the report above makes it 409.
		{"GET /hq", "", "303 403 403 200 200 200 200 200 303 303", false},
		{"GET /api/v1/hq/board", "", "401 403 403 200 200 200 200 200 401 401", false},
		{"GET /api/v1/hq/policy", "", "401 403 403 200 200 200 200 200 401 401", false},
		{"PUT /api/v1/hq/policy", `{"under_review":"withheld"}`, "401 403 403 403 403 403 403 409 401 401", false},
		// The hotline.
		{"GET /hq/hotline", "", "303 403 403 403 200 403 403 403 303 303", false},
		{"GET /api/v1/hotline/precincts/Z", "", "401 403 403 403 200 403 403 403 401 401", false},
		{"POST /api/v1/hotline/entries", `{"precinct_id":"Z","verified_by":"pin","pin":"000000000000","report":{"precinct_id":"Z","attendees":10,"first":{"adams":10},"final":{"adams":10}}}`, "401 403 403 403 400 403 403 403 401 401", false},
		{"GET /api/v1/hotline/callbacks", "", "401 403 403 403 200 403 403 403 401 401", false},
		{"POST /api/v1/hotline/callbacks/1/claim", "", "401 403 403 403 200 403 403 403 401 401", false},
		{"POST /api/v1/hotline/callbacks/1/outcome", `{"outcome":"no_answer","note":"authz"}`, "401 403 403 403 200 403 403 403 401 401", false},
		{"GET /api/v1/hotline/stats", "", "401 403 403 200 200 200 200 200 401 401", false},
		{"GET /api/v1/callbacks/mine", "", "401 200 200 403 403 403 403 403 401 401", false},
		// Recanvass (X's report again: confirmed) and campaigns' recanvass requests.
		{"POST /api/v1/hq/recanvass/X", `{"source":"worksheet","reason":"authz","report":` + reportX + `}`, "401 403 403 403 403 201 403 403 401 401", false},
		{"POST /api/v1/hq/recanvass-requests", `{"requested_by":"a campaign","precincts":["X"],"reason":"authz"}`, "401 403 403 403 403 403 403 201 401 401", false},
		{"GET /api/v1/hq/recanvass-requests", "", "401 403 403 200 403 200 200 200 401 401", false},
		// Certification: the certifier's, with the one-time code (none sent here: 422 once admitted).
		{"GET /api/v1/hq/certify", "", "401 403 403 200 403 200 200 200 401 401", false},
		{"POST /api/v1/hq/certify", `{"scope":"county:alpha"}`, "401 403 403 403 403 403 422 403 401 401", false},
		{"POST /api/v1/hq/certify/withdraw", `{"scope":"county:alpha","reason":"authz"}`, "401 403 403 403 403 403 422 403 401 401", false},
		{"GET /hq/certify", "", "303 403 403 200 403 200 200 200 303 303", false},
		// The public record of certifications (none here: entry 0 is a report).
		{"GET /api/v1/certifications", "", "200 200 200 200 200 200 200 200 200 200", false},
		{"GET /api/v1/certifications/0/results.csv", "", "404 404 404 404 404 404 404 404 404 404", false},
		{"GET /certifications/0", "", "404 404 404 404 404 404 404 404 404 404", false},
		// The risk-limiting audit: its start (a seed too short is refused once the admin is
		// admitted), hand counts (refused before the start once the operator is admitted), and
		// the audit itself for anyone.
		{"POST /api/v1/hq/audit", `{"seed":"12","risk_limit":5}`, "401 403 403 403 403 403 403 422 401 401", false},
		{"POST /api/v1/hq/audit/hand-counts/X", `{"first":{"adams":10},"final":{"adams":10}}`, "401 403 403 403 409 403 403 403 401 401", false},
		{"GET /api/v1/audit", "", "200 200 200 200 200 200 200 200 200 200", false},
		{"GET /api/v1/audit.csv", "", "200 200 200 200 200 200 200 200 200 200", false},
		{"GET /audit", "", "200 200 200 200 200 200 200 200 200 200", false},
		{"GET /hq/audit", "", "303 403 403 200 200 403 403 200 303 303", false},
	}
}

// mint stores a session for role and subject (a precinct for a chair, else a username)
// created at created, as a login would, and returns its token.
func (k *staffKit) mint(role auth.Role, subject string, created time.Time) string {
	k.t.Helper()
	var b [32]byte
	rand.Read(b[:])
	tok := base64.RawURLEncoding.EncodeToString(b[:])
	s := auth.Session{ID: sha256.Sum256([]byte(tok)), Role: role, Created: created, Expires: created.Add(auth.StaffSessionTTL)}
	if role == auth.RoleChair {
		s.PrecinctID = subject
	} else {
		s.Username = subject
	}
	if err := k.env.DB.CreateSession(context.Background(), s); err != nil {
		k.t.Fatal(err)
	}
	return tok
}

func TestAuthorizationMatrix(t *testing.T) {
	k := newStaffKit(t, 4)
	const x, y, z = "p0001", "p0002", "p0003"
	for _, u := range []struct {
		name string
		role auth.Role
	}{{"olga", auth.RoleObserver}, {"otto", auth.RoleOperator}, {"rex", auth.RoleReviewer}, {"cora", auth.RoleCertifier},
		{"ann", auth.RoleAdmin}, {"dora", auth.RoleAdmin}, {"tom", auth.RoleObserver}} {
		k.create(u.name, u.role)
	}
	// The disabled account's sessions are stored after the disable (as a login racing it would
	// leave one), so its column tests the account check, not only the sessions the disable
	// deleted (TestStaffDisabledAtOnce); the expired one is an admin's, idle past the limit.
	if _, err := k.env.Auth.DisableStaff(context.Background(), auth.Actor{Name: "cli:test", From: "command line"}, "dora"); err != nil {
		t.Fatal(err)
	}
	token := func(col int) string {
		now := k.clock.Now()
		switch principals[col] {
		case "anonymous":
			return ""
		case "chair X":
			return k.mint(auth.RoleChair, x, now)
		case "chair Y":
			return k.mint(auth.RoleChair, y, now)
		case "observer":
			return k.mint(auth.RoleObserver, "olga", now)
		case "operator":
			return k.mint(auth.RoleOperator, "otto", now)
		case "reviewer":
			return k.mint(auth.RoleReviewer, "rex", now)
		case "certifier":
			return k.mint(auth.RoleCertifier, "cora", now)
		case "admin":
			return k.mint(auth.RoleAdmin, "ann", now)
		case "disabled":
			return k.mint(auth.RoleAdmin, "dora", now)
		case "expired":
			return k.mint(auth.RoleAdmin, "ann", now.Add(-auth.StaffIdleTimeout-time.Minute))
		}
		t.Fatalf("no principal %q", principals[col])
		return ""
	}
	reportX := string(k.env.Report(x, "authz-x", 1).Canonical())
	sub := strings.NewReplacer("X", x, "Y", y, "Z", z)
	for _, row := range authzRows(reportX) {
		method, path, _ := strings.Cut(row.route, " ")
		path = sub.Replace(path)
		body := row.body
		if !strings.HasPrefix(body, "{\"report_id\"") {
			body = strings.ReplaceAll(body, `"X"`, `"`+x+`"`)
		}
		want := strings.Fields(row.want)
		if len(want) != len(principals) {
			t.Fatalf("%s: %d statuses for %d principals", row.route, len(want), len(principals))
		}
		staffWrite := method != http.MethodGet && !row.noAudit && (strings.HasPrefix(path, "/api/v1/hq/") ||
			strings.HasPrefix(path, "/api/v1/hotline/") ||
			(strings.HasPrefix(path, "/api/v1/staff/") && path != "/api/v1/staff/login"))
		for col, w := range want {
			before := k.lastAudit()
			status := k.send(method, path, token(col), body)
			if strconv.Itoa(status) != w {
				t.Errorf("%s as %s: %d, want %s", row.route, principals[col], status, w)
			}
			n := kinds(k.auditSince(before))[store.AuditStaffAction]
			if staffWrite && n != 1 || !staffWrite && n != 0 {
				t.Errorf("%s as %s: %d staff_action rows, want %d", row.route, principals[col], n, map[bool]int{true: 1}[staffWrite])
			}
		}
	}
}

// send is one matrix request with a Bearer token.
func (k *staffKit) send(method, path, bearer, body string) int {
	k.t.Helper()
	ct := "application/json"
	if b, ok := strings.CutPrefix(body, "image/png:"); ok {
		ct, body = "image/png", b
	}
	req, err := http.NewRequest(method, k.env.URL+path, strings.NewReader(body))
	if err != nil {
		k.t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", ct)
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := noRedirect.Do(req)
	if err != nil {
		k.t.Fatal(fmt.Errorf("%s %s: %w", method, path, err))
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// noRedirect answers a redirect with itself: the matrix asserts the page's 303 to the login.
var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
