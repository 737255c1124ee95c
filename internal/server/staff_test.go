package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"caucus/internal/auth"
	"caucus/internal/auth/authtest"
	"caucus/internal/server"
	"caucus/internal/server/servertest"
	"caucus/internal/store"
)

// staffKit is a server with staff accounts, on a login clock the test moves.
type staffKit struct {
	t     *testing.T
	env   *servertest.Env
	clock *authtest.Clock
}

func newStaffKit(t *testing.T, precincts int) *staffKit {
	clock := authtest.NewClock(time.Now())
	return &staffKit{t: t, clock: clock, env: servertest.Start(t, servertest.Options{Precincts: precincts, Now: clock.Now})}
}

// create makes an account as the command line would.
func (k *staffKit) create(user string, role auth.Role) auth.NewStaff {
	k.t.Helper()
	n, err := k.env.Auth.CreateStaff(context.Background(), auth.Actor{Name: "cli:test", From: "command line"}, user, role)
	if err != nil {
		k.t.Fatal(err)
	}
	return n
}

// otp is the account's current TOTP code ("" without a second factor). Each call moves the
// clock on one step first, since a code is good once.
func (k *staffKit) otp(n auth.NewStaff) string {
	k.t.Helper()
	if n.TOTP.IsZero() {
		return ""
	}
	k.clock.Advance(30 * time.Second)
	c, err := totp.GenerateCodeCustom(n.TOTP.Reveal(), k.clock.Now(), totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		k.t.Fatal(err)
	}
	return c
}

// login logs n in through /api/v1/staff/login and returns the token, or fails the test.
func (k *staffKit) login(n auth.NewStaff) string {
	k.t.Helper()
	status, _, b := k.do("POST", "/api/v1/staff/login", "", "", loginBody(n.Username, n.Password.Reveal(), k.otp(n)))
	if status != http.StatusOK {
		k.t.Fatalf("login %s: %d %s", n.Username, status, b)
	}
	var out struct{ Token string }
	json.Unmarshal(b, &out)
	return out.Token
}

func loginBody(user, password, otp string) string {
	b, _ := json.Marshal(map[string]string{"user": user, "password": password, "otp": otp})
	return string(b)
}

// do sends a request with a Bearer token or the staff cookie (whichever is given) and returns
// the status, headers and body.
func (k *staffKit) do(method, path, bearer, cookie, body string) (int, http.Header, []byte) {
	k.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, k.env.URL+path, rd)
	if err != nil {
		k.t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	if cookie != "" {
		req.AddCookie(&http.Cookie{Name: server.StaffCookie, Value: cookie})
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		k.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b
}

// auditSince returns the audit rows after id.
func (k *staffKit) auditSince(id int64) []store.AuditRecord {
	k.t.Helper()
	rows, err := k.env.DB.Audit(context.Background(), id, 10000)
	if err != nil {
		k.t.Fatal(err)
	}
	return rows
}

// lastAudit is the id of the latest audit row.
func (k *staffKit) lastAudit() int64 {
	rows := k.auditSince(0)
	if len(rows) == 0 {
		return 0
	}
	return rows[len(rows)-1].ID
}

func kinds(rows []store.AuditRecord) map[store.AuditKind]int {
	m := map[store.AuditKind]int{}
	for _, r := range rows {
		m[r.Kind]++
	}
	return m
}

// TestStaffLoginCookie: the login sets the __Host- cookie with every attribute the prefix and
// the session need, answers the same token for scripts, rotates it at every login, and logout
// ends the session and clears the cookie. No password or token reaches the audit log.
func TestStaffLoginCookie(t *testing.T) {
	k := newStaffKit(t, 2)
	adm := k.create("ann", auth.RoleAdmin)
	status, h, b := k.do("POST", "/api/v1/staff/login", "", "", loginBody("ann", adm.Password.Reveal(), k.otp(adm)))
	if status != http.StatusOK {
		t.Fatalf("login: %d %s", status, b)
	}
	var out struct {
		Token, Role, User string
		ExpiresAt         time.Time `json:"expires_at"`
	}
	if err := json.Unmarshal(b, &out); err != nil || out.Role != "admin" || out.User != "ann" ||
		!out.ExpiresAt.Equal(k.clock.Now().Add(auth.StaffSessionTTL).Truncate(time.Second)) {
		t.Errorf("login answer %s (%v)", b, err)
	}
	if bytes.Contains(b, []byte(adm.Password.Reveal())) || h.Get("Cache-Control") != "no-store" {
		t.Errorf("login answer holds the password or may be cached: %s, %q", b, h.Get("Cache-Control"))
	}
	set := h.Values("Set-Cookie")
	if len(set) != 1 {
		t.Fatalf("Set-Cookie = %q, want one", set)
	}
	c, err := http.ParseSetCookie(set[0])
	if err != nil {
		t.Fatal(err)
	}
	// Max-Age is on the server's clock, the expiry on the login clock the test moved: a margin.
	if c.Name != "__Host-caucus-staff" || c.Value != out.Token || !c.Secure || !c.HttpOnly || c.SameSite != http.SameSiteStrictMode ||
		c.Path != "/" || c.Domain != "" || c.MaxAge < int(auth.StaffSessionTTL/time.Second)-120 || c.MaxAge > int(auth.StaffSessionTTL/time.Second)+120 {
		t.Errorf("cookie = %q", set[0])
	}
	// The cookie alone is a session (the pages), as is the Bearer token (scripts).
	for name, creds := range map[string][2]string{"cookie": {"", c.Value}, "bearer": {out.Token, ""}} {
		status, _, b := k.do("GET", "/api/v1/staff/me", creds[0], creds[1], "")
		if status != http.StatusOK || !bytes.Contains(b, []byte(`"user":"ann"`)) || !bytes.Contains(b, []byte(`"role":"admin"`)) {
			t.Errorf("me by %s: %d %s", name, status, b)
		}
	}
	second := k.login(adm)
	if second == out.Token {
		t.Error("a second login gave the same token: sessions are not rotated")
	}
	status, h, b = k.do("POST", "/api/v1/staff/logout", "", c.Value, "")
	if status != http.StatusOK {
		t.Fatalf("logout: %d %s", status, b)
	}
	if cl, err := http.ParseSetCookie(h.Get("Set-Cookie")); err != nil || cl.Name != server.StaffCookie || cl.MaxAge >= 0 || cl.Value != "" {
		t.Errorf("logout Set-Cookie = %q, want the cookie cleared", h.Get("Set-Cookie"))
	}
	if status, _, _ := k.do("GET", "/api/v1/staff/me", "", c.Value, ""); status != http.StatusUnauthorized {
		t.Errorf("me after logout: %d, want 401", status)
	}
	if status, _, _ := k.do("GET", "/api/v1/staff/me", second, "", ""); status != http.StatusOK {
		t.Errorf("the other session after logout: %d, want 200", status)
	}
	rows := k.auditSince(0)
	for _, r := range rows {
		for _, secret := range []string{adm.Password.Reveal(), adm.TOTP.Reveal(), out.Token, second} {
			if strings.Contains(string(r.Detail)+r.Actor, secret) {
				t.Errorf("audit row %s %s holds a secret", r.Kind, r.Detail)
			}
		}
	}
	if n := kinds(rows); n[store.AuditLoginOK] != 2 || n[store.AuditStaffAction] != 1 {
		t.Errorf("audit kinds = %v, want 2 login_ok and the logout's staff_action", n)
	}
}

// TestStaffDisabledAtOnce: an admin disables an account; its sessions are refused at the next
// request, although the server keeps a session cache.
func TestStaffDisabledAtOnce(t *testing.T) {
	k := newStaffKit(t, 2)
	adm, rev := k.create("ann", auth.RoleAdmin), k.create("rex", auth.RoleReviewer)
	at, rt := k.login(adm), k.login(rev)
	for range 3 {
		if status, _, b := k.do("GET", "/api/v1/staff/me", rt, "", ""); status != http.StatusOK {
			t.Fatalf("me: %d %s", status, b)
		}
	}
	status, _, b := k.do("POST", "/api/v1/hq/staff/rex/disable", at, "", `{"reason":"left the team"}`)
	if status != http.StatusOK || !bytes.Contains(b, []byte(`"sessions_ended":1`)) {
		t.Fatalf("disable: %d %s", status, b)
	}
	if status, _, _ := k.do("GET", "/api/v1/staff/me", rt, "", ""); status != http.StatusUnauthorized {
		t.Errorf("the disabled account's session: %d, want 401 at once", status)
	}
	if status, _, _ := k.do("POST", "/api/v1/staff/login", "", "", loginBody("rex", rev.Password.Reveal(), "")); status != http.StatusUnauthorized {
		t.Errorf("the disabled account's login: %d, want 401", status)
	}
	if status, _, b := k.do("POST", "/api/v1/hq/staff/ann/disable", at, "", `{}`); status != http.StatusConflict {
		t.Errorf("disabling oneself: %d %s, want 409", status, b)
	}
}

// TestStaffWrongRole: a role the route does not admit is 403, with one staff_action row for
// the request (and the forbidden row the wrapper writes for every refused authorization).
func TestStaffWrongRole(t *testing.T) {
	k := newStaffKit(t, 2)
	obs := k.create("olga", auth.RoleObserver)
	tok := k.login(obs)
	before := k.lastAudit()
	status, _, b := k.do("POST", "/api/v1/hq/staff", tok, "", `{"user":"eve","role":"admin"}`)
	if status != http.StatusForbidden {
		t.Fatalf("observer creates an account: %d %s, want 403", status, b)
	}
	rows := k.auditSince(before)
	if n := kinds(rows); n[store.AuditStaffAction] != 1 || n[store.AuditForbidden] != 1 || len(rows) != 2 {
		t.Errorf("audit rows = %v, want one staff_action and one forbidden", n)
	}
	for _, r := range rows {
		if r.Actor != "olga" || !bytes.Contains(r.Detail, []byte(`POST /api/v1/hq/staff`)) {
			t.Errorf("row %s by %q: %s", r.Kind, r.Actor, r.Detail)
		}
	}
}

// TestStaffLoginThrottled: wrong passwords slow an account down (429 with Retry-After), never
// lock it: the owner gets in once the wait is over. Checked attempts are one audit row each;
// the refusals during the wait are counted aggregated, not one row each.
func TestStaffLoginThrottled(t *testing.T) {
	k := newStaffKit(t, 2)
	op := k.create("oscar", auth.RoleOperator)
	before := k.lastAudit()
	var throttled int
	for i := range auth.StaffFreeAttempts + 5 {
		status, h, _ := k.do("POST", "/api/v1/staff/login", "", "", loginBody("oscar", "not the password "+string(rune('a'+i)), ""))
		switch status {
		case http.StatusUnauthorized:
		case http.StatusTooManyRequests:
			throttled++
			if h.Get("Retry-After") == "" {
				t.Error("429 without Retry-After")
			}
		default:
			t.Fatalf("wrong password %d: %d", i, status)
		}
	}
	if throttled != 5 {
		t.Errorf("%d attempts throttled, want the 5 after %d free", throttled, auth.StaffFreeAttempts)
	}
	if status, _, _ := k.do("POST", "/api/v1/staff/login", "", "", loginBody("oscar", op.Password.Reveal(), "")); status != http.StatusTooManyRequests {
		t.Errorf("the right password during the wait: %d, want 429 (slowed)", status)
	}
	k.clock.Advance(auth.StaffMaxDelay)
	if status, _, b := k.do("POST", "/api/v1/staff/login", "", "", loginBody("oscar", op.Password.Reveal(), "")); status != http.StatusOK {
		t.Errorf("the right password after the wait: %d %s, want 200 (never locked)", status, b)
	}
	if n := kinds(k.auditSince(before)); n[store.AuditLoginFailed] != auth.StaffFreeAttempts || n[store.AuditLoginOK] != 1 {
		t.Errorf("audit = %v, want %d login_failed and 1 login_ok", n, auth.StaffFreeAttempts)
	}
}

// TestStaffAccountsAPI: an admin makes, lists, resets and disables accounts over the API.
func TestStaffAccountsAPI(t *testing.T) {
	k := newStaffKit(t, 2)
	tok := k.login(k.create("ann", auth.RoleAdmin))
	status, _, b := k.do("POST", "/api/v1/hq/staff", tok, "", `{"user":"cora","role":"certifier","reason":"county certifier"}`)
	var made struct {
		User, Role, Password string
		OTPURI               string `json:"otp_uri"`
	}
	json.Unmarshal(b, &made)
	if status != http.StatusCreated || made.User != "cora" || len(made.Password) < 16 || !strings.HasPrefix(made.OTPURI, "otpauth://totp/") {
		t.Fatalf("create certifier: %d %s", status, b)
	}
	if status, _, b := k.do("POST", "/api/v1/hq/staff", tok, "", `{"user":"otto","role":"operator"}`); status != http.StatusCreated || bytes.Contains(b, []byte("otp_uri")) {
		t.Errorf("create operator: %d %s", status, b)
	}
	for body, want := range map[string]int{
		`{"user":"cora","role":"observer"}`:               http.StatusConflict,
		`{"user":"zed","role":"root"}`:                    http.StatusBadRequest,
		`{"user":"Zed","role":"observer"}`:                http.StatusBadRequest,
		`{"user":"zed"}`:                                  http.StatusBadRequest,
		`{"user":"zed","role":"observer","password":"x"}`: http.StatusBadRequest,
	} {
		if status, _, b := k.do("POST", "/api/v1/hq/staff", tok, "", body); status != want {
			t.Errorf("create %s: %d %s, want %d", body, status, b, want)
		}
	}
	status, _, b = k.do("GET", "/api/v1/hq/staff", tok, "", "")
	if status != http.StatusOK || !bytes.Contains(b, []byte(`"user":"cora"`)) || bytes.Contains(b, []byte("argon2")) ||
		bytes.Contains(b, []byte(made.Password)) || bytes.Contains(b, []byte("secret")) {
		t.Errorf("list: %d %s", status, b)
	}
	status, _, b = k.do("POST", "/api/v1/hq/staff/cora/reset", tok, "", `{"reason":"lost phone"}`)
	var reset struct {
		Password string
		OTPURI   string `json:"otp_uri"`
	}
	json.Unmarshal(b, &reset)
	if status != http.StatusOK || reset.Password == made.Password || reset.OTPURI == made.OTPURI || reset.OTPURI == "" {
		t.Errorf("reset: %d %s", status, b)
	}
	if status, _, _ := k.do("POST", "/api/v1/staff/login", "", "", loginBody("cora", made.Password, "")); status != http.StatusUnauthorized {
		t.Errorf("old password after reset: %d", status)
	}
	if status, _, _ := k.do("POST", "/api/v1/hq/staff/nobody/disable", tok, "", `{}`); status != http.StatusNotFound {
		t.Errorf("disable unknown: %d", status)
	}
	rows := k.auditSince(0)
	var changes []string
	for _, r := range rows {
		if r.Kind == store.AuditStaffAccount {
			var d map[string]any
			json.Unmarshal(r.Detail, &d)
			changes = append(changes, r.Actor+" "+d["change"].(string)+" "+d["username"].(string))
			if r.Actor == "ann" && !strings.HasPrefix(d["from"].(string), "127.0.0.1") {
				t.Errorf("account change without its address: %s", r.Detail)
			}
		}
		for _, secret := range []string{made.Password, reset.Password, made.OTPURI, reset.OTPURI} {
			if strings.Contains(string(r.Detail), secret) {
				t.Errorf("audit row %s holds a secret: %s", r.Kind, r.Detail)
			}
		}
	}
	if want := "cli:test created ann|ann created cora|ann created otto|ann credentials_reset cora"; strings.Join(changes, "|") != want {
		t.Errorf("account changes = %q, want %q", changes, want)
	}
}

// TestPINReopenAPI: an operator reopens a precinct whose PIN login closed, or issues it a new
// PIN; both need a reason and are logged with it.
func TestPINReopenAPI(t *testing.T) {
	k := newStaffKit(t, 3)
	tok := k.login(k.create("otto", auth.RoleOperator))
	const p = "p0001"
	if _, err := k.env.DB.UpdateThrottles(context.Background(), []string{auth.PrecinctKeyPrefix + p},
		func([]auth.ThrottleCounter) ([]auth.ThrottleCounter, error) {
			return []auth.ThrottleCounter{{Count: auth.PrecinctBudget, Last: k.clock.Now()}}, nil
		}); err != nil {
		t.Fatal(err)
	}
	pinLogin := func(pin string) int {
		b, _ := json.Marshal(map[string]string{"precinct_id": p, "pin": pin})
		status, _ := k.env.Do("POST", "/api/v1/login", "", b)
		return status
	}
	if status := pinLogin(k.env.PINs[p]); status != http.StatusTooManyRequests {
		t.Fatalf("closed precinct: %d, want 429", status)
	}
	if status, _, b := k.do("POST", "/api/v1/hq/precincts/"+p+"/reopen", tok, "", `{"reason":" "}`); status != http.StatusBadRequest {
		t.Errorf("reopen without a reason: %d %s", status, b)
	}
	if status, _, b := k.do("POST", "/api/v1/hq/precincts/nowhere/reopen", tok, "", `{"reason":"x"}`); status != http.StatusNotFound {
		t.Errorf("reopen an unknown precinct: %d %s", status, b)
	}
	before := k.lastAudit()
	status, _, b := k.do("POST", "/api/v1/hq/precincts/"+p+"/reopen", tok, "", `{"reason":"called the chair back on 515-555-0100"}`)
	if status != http.StatusOK || !bytes.Contains(b, []byte(`"wrong_pins":40`)) {
		t.Fatalf("reopen: %d %s", status, b)
	}
	if status := pinLogin(k.env.PINs[p]); status != http.StatusOK {
		t.Errorf("PIN after reopening: %d", status)
	}
	status, _, b = k.do("POST", "/api/v1/hq/precincts/"+p+"/new-pin", tok, "", `{"reason":"card lost"}`)
	var np struct{ PIN string }
	json.Unmarshal(b, &np)
	if status != http.StatusOK || !servertest.ValidPIN(np.PIN) {
		t.Fatalf("new PIN: %d %s", status, b)
	}
	if status := pinLogin(k.env.PINs[p]); status != http.StatusUnauthorized {
		t.Errorf("old PIN after a new one: %d, want 401", status)
	}
	if status := pinLogin(np.PIN); status != http.StatusOK {
		t.Errorf("new PIN: %d", status)
	}
	var reasons []string
	for _, r := range k.auditSince(before) {
		if r.Kind == store.AuditThrottleReset {
			var d struct{ Reason string }
			json.Unmarshal(r.Detail, &d)
			reasons = append(reasons, r.Actor+": "+d.Reason)
			if r.PrecinctID != p || bytes.Contains(r.Detail, []byte(np.PIN)) {
				t.Errorf("throttle_reset row %s", r.Detail)
			}
		}
	}
	if want := "otto: called the chair back on 515-555-0100|otto: card lost"; strings.Join(reasons, "|") != want {
		t.Errorf("reasons logged = %q, want %q", reasons, want)
	}
}

// TestHQLoginPage: the login page is served with a policy that allows no inline script or
// style, and has none; it asks for the user name, the password and the one-time code.
func TestHQLoginPage(t *testing.T) {
	k := newStaffKit(t, 1)
	status, h, b := k.do("GET", "/hq/login", "", "", "")
	if status != http.StatusOK || !strings.HasPrefix(h.Get("Content-Type"), "text/html") {
		t.Fatalf("GET /hq/login: %d %q", status, h.Get("Content-Type"))
	}
	csp := h.Get("Content-Security-Policy")
	if !strings.Contains(csp, "script-src 'self';") || !strings.Contains(csp, "style-src 'self';") || strings.Contains(csp, "unsafe") {
		t.Errorf("CSP %q", csp)
	}
	page := string(b)
	for _, bad := range []string{"<script>", "<style", " style="} {
		if strings.Contains(page, bad) {
			t.Errorf("the page has an inline block (%s)", bad)
		}
	}
	for _, want := range []string{`id="user"`, `type="password"`, `autocomplete="one-time-code"`, `<script src="/static/hq_login.`, `Test caucus`} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %s", want)
		}
	}
}
