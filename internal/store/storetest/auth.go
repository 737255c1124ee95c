package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"caucus/internal/auth"
	"caucus/internal/store"
)

// AuthStore is what RunAuth checks: package auth's Store, with the audit trail its credential
// writes land in, and Close.
type AuthStore interface {
	auth.Store
	Audit(ctx context.Context, after int64, limit int) ([]store.AuditRecord, error)
	Close() error
}

// AuthOpener opens the database called name with now as its clock, as Opener does. Opening a
// name again before closing it gives a second handle on the same database, as a second server
// process would have.
type AuthOpener func(t *testing.T, name string, now func() time.Time) AuthStore

// farFromClock is a time far from the store's clock: counters and sessions keep the caller's.
var farFromClock = time.Date(2031, 7, 1, 12, 0, 0, 0, time.UTC)

// RunAuth runs the conformance tests of auth.Store as subtests of t.
func RunAuth(t *testing.T, open AuthOpener) {
	tests := []struct {
		name string
		f    func(t *testing.T, h *authHarness)
	}{
		{"Credentials", testCredentials},
		{"StaffAccount", testStaffAccount},
		{"StaffAccounts", testStaffAccounts},
		{"DisableStaff", testDisableStaff},
		{"SetStaffCredentials", testSetStaffCredentials},
		{"UseTOTPStep", testUseTOTPStep},
		{"UseTOTPStepIsAtomicAcrossHandles", testUseTOTPStepAcrossHandles},
		{"TouchSession", testTouchSession},
		{"Throttle", testThrottle},
		{"AddThrottleIsAtomic", testAddThrottleIsAtomic},
		{"AddThrottleIsAtomicAcrossHandles", testAddThrottleAcrossHandles},
		{"ExpireThrottles", testExpireThrottles},
		{"UpdateThrottles", testUpdateThrottles},
		{"UpdateThrottlesIsAtomicAcrossHandles", testUpdateThrottlesAcrossHandles},
		{"LoginFailures", testLoginFailures},
		{"Sessions", testSessions},
		{"Reopen", testAuthReopen},
		{"Closed", testAuthClosed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := &authHarness{t: t, open: open, name: "auth-" + tt.name, clock: NewClock(), ctx: t.Context()}
			h.s = h.reopen()
			tt.f(t, h)
		})
	}
}

// authHarness is one subtest's store, clock and hashes.
type authHarness struct {
	t     *testing.T
	open  AuthOpener
	name  string
	clock *Clock
	ctx   context.Context
	s     AuthStore
}

// reopen opens a handle on the subtest's database and schedules its Close.
func (h *authHarness) reopen() AuthStore {
	h.t.Helper()
	s := h.open(h.t, h.name, h.clock.Now)
	h.t.Cleanup(func() {
		if err := s.Close(); err != nil {
			h.t.Errorf("Close: %v", err)
		}
	})
	return s
}

// hash returns a real (cheap) argon2id hash of plaintext.
func (h *authHarness) hash(plaintext string) auth.Hash {
	h.t.Helper()
	x, err := auth.HashSecret(auth.TokenParams(), plaintext)
	if err != nil {
		h.t.Fatal(err)
	}
	return x
}

func testCredentials(t *testing.T, h *authHarness) {
	if _, err := h.s.PrecinctCredential(h.ctx, "p1"); !errors.Is(err, auth.ErrNotFound) {
		t.Fatalf("missing credential: err = %v, want ErrNotFound", err)
	}
	pin1, tok1, pin2, tok2 := h.hash("pin-1"), h.hash("tok-1"), h.hash("pin-2"), h.hash("tok-2")
	if err := h.s.PutPrecinctCredentials(h.ctx, "admin", []auth.PrecinctCredential{
		{PrecinctID: "p1", PINHash: pin1, TokenHash: tok1}, {PrecinctID: "p2", PINHash: pin2, TokenHash: tok2}}); err != nil {
		t.Fatal(err)
	}
	h.clock.Advance(time.Minute)
	pin1b, tok1b := h.hash("pin-1b"), h.hash("tok-1b")
	if err := h.s.PutPrecinctCredentials(h.ctx, "alice", []auth.PrecinctCredential{
		{PrecinctID: "p1", PINHash: pin1b, TokenHash: tok1b}}); err != nil {
		t.Fatal(err)
	}
	if c, err := h.s.PrecinctCredential(h.ctx, "p1"); err != nil || c.PrecinctID != "p1" ||
		c.PINHash.Encoded() != pin1b.Encoded() || c.TokenHash.Encoded() != tok1b.Encoded() {
		t.Errorf("reissued credential read back differs (%v)", err)
	}
	if c, err := h.s.PrecinctCredential(h.ctx, "p2"); err != nil ||
		c.PINHash.Encoded() != pin2.Encoded() || c.TokenHash.Encoded() != tok2.Encoded() {
		t.Errorf("credential of p2 read back differs (%v)", err)
	}
	if _, err := h.s.PrecinctCredential(h.ctx, "p3"); !errors.Is(err, auth.ErrNotFound) {
		t.Errorf("PrecinctCredential(missing) = %v, want ErrNotFound", err)
	}
	for name, bad := range map[string]auth.PrecinctCredential{
		"no hashes":     {PrecinctID: "p4"},
		"no token hash": {PrecinctID: "p4", PINHash: pin1},
		"no precinct":   {PINHash: pin1, TokenHash: tok1},
	} {
		err := h.s.PutPrecinctCredentials(h.ctx, "admin", []auth.PrecinctCredential{
			{PrecinctID: "p5", PINHash: pin1, TokenHash: tok1}, bad})
		if !errors.Is(err, store.ErrInvalid) {
			t.Errorf("PutPrecinctCredentials(%s) = %v, want ErrInvalid", name, err)
		}
	}
	if _, err := h.s.PrecinctCredential(h.ctx, "p5"); !errors.Is(err, auth.ErrNotFound) {
		t.Errorf("a refused batch stored part of itself: %v", err)
	}
	rows, err := h.s.Audit(h.ctx, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, a := range rows {
		if a.Kind != store.AuditCredentialIssued {
			continue
		}
		got = append(got, a.Actor+":"+a.PrecinctID)
		for _, x := range []auth.Hash{pin1, tok1, pin1b, tok1b, pin2, tok2} {
			if bytes.Contains(a.Detail, []byte(x.Encoded())) {
				t.Errorf("audit row holds a hash: %s", a.Detail)
			}
		}
		if a.Actor == "alice" && !a.At.Equal(h.clock.Now()) {
			t.Errorf("reissue audited at %v, want the store's clock %v", a.At, h.clock.Now())
		}
	}
	if want := []string{"admin:p1", "admin:p2", "alice:p1"}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("credential_issued rows = %v, want %v", got, want)
	}
}

func testStaffAccount(t *testing.T, h *authHarness) {
	if _, err := h.s.StaffAccount(h.ctx, "ann"); !errors.Is(err, auth.ErrNotFound) {
		t.Fatalf("missing account: err = %v, want ErrNotFound", err)
	}
	pw := h.hash("correct horse battery staple")
	h.addStaff("ann", auth.RoleOperator, pw, auth.TOTPSecret{}, false)
	h.addStaff("bob", auth.RoleReviewer, pw, auth.TOTPSecret{}, true)
	got, err := h.s.StaffAccount(h.ctx, "ann")
	if err != nil || got.Username != "ann" || got.Role != auth.RoleOperator || got.PasswordHash.Encoded() != pw.Encoded() ||
		!got.TOTPSecret.IsZero() || got.Disabled || !got.Created.Equal(h.clock.Now()) {
		t.Errorf("account read back = %+v, %v", got, err)
	}
	if _, err := h.s.StaffAccount(h.ctx, "bob"); !errors.Is(err, auth.ErrNotFound) {
		t.Errorf("StaffAccount(disabled) = %v, want ErrNotFound", err)
	}
}

func testThrottle(t *testing.T, h *authHarness) {
	const key = "precinct/p1"
	if c, err := h.s.Throttle(h.ctx, key); err != nil || c.Count != 0 || !c.Last.IsZero() {
		t.Fatalf("Throttle(new) = %+v, %v; want zero, nil", c, err)
	}
	for i := 1; i <= 3; i++ {
		at := farFromClock.Add(time.Duration(i) * time.Second)
		c, err := h.s.AddThrottle(h.ctx, key, at)
		if err != nil || c.Count != i || !c.Last.Equal(at) {
			t.Fatalf("AddThrottle %d = %+v, %v; want count %d at %v", i, c, err, i, at)
		}
	}
	if c, err := h.s.Throttle(h.ctx, key); err != nil || c.Count != 3 || !c.Last.Equal(farFromClock.Add(3*time.Second)) {
		t.Errorf("Throttle = %+v, %v; want 3 at the caller's last time", c, err)
	}
	if c, _ := h.s.Throttle(h.ctx, "precinct/p2"); c.Count != 0 {
		t.Errorf("keys are not independent: %+v", c)
	}
	h.clock.Advance(48 * time.Hour) // the store's clock forgets nothing
	if c, _ := h.s.Throttle(h.ctx, key); c.Count != 3 {
		t.Errorf("Throttle after the store's clock moved = %+v, want 3", c)
	}
	if err := h.s.ResetThrottle(h.ctx, key); err != nil {
		t.Fatal(err)
	}
	if c, _ := h.s.Throttle(h.ctx, key); c.Count != 0 {
		t.Errorf("after reset: %+v", c)
	}
	if err := h.s.ResetThrottle(h.ctx, key); err != nil {
		t.Errorf("ResetThrottle of a missing key = %v, want nil", err)
	}
	if _, err := h.s.AddThrottle(h.ctx, "", farFromClock); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("AddThrottle(empty key) = %v, want ErrInvalid", err)
	}
	if _, err := h.s.AddThrottle(h.ctx, key, time.Time{}); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("AddThrottle(zero time) = %v, want ErrInvalid", err)
	}
}

// addConcurrently makes n concurrent AddThrottle calls on key, spread over stores, and checks
// that no count is handed out twice and that the counter ends at n.
func addConcurrently(t *testing.T, ctx context.Context, stores []AuthStore, key string, n int) {
	seen := make([]bool, n+1)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			c, err := stores[i%len(stores)].AddThrottle(ctx, key, farFromClock)
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			if c.Count < 1 || c.Count > n || seen[c.Count] {
				t.Errorf("count %d handed out twice or out of range", c.Count)
				return
			}
			seen[c.Count] = true
		})
	}
	wg.Wait()
	for i, s := range stores {
		if c, err := s.Throttle(ctx, key); err != nil || c.Count != n {
			t.Errorf("store %d: Throttle = %+v, %v; want %d", i, c, err, n)
		}
	}
}

// testAddThrottleIsAtomic: concurrent AddThrottle calls never hand out the same count.
func testAddThrottleIsAtomic(t *testing.T, h *authHarness) {
	addConcurrently(t, h.ctx, []AuthStore{h.s}, "precinct/p1", 64)
}

// testAddThrottleAcrossHandles: two handles on one database, as two server processes, share
// one count: no more than PrecinctBudget PINs are ever verified, however many servers.
func testAddThrottleAcrossHandles(t *testing.T, h *authHarness) {
	addConcurrently(t, h.ctx, []AuthStore{h.s, h.reopen()}, "precinct/p1", 100)
}

// testExpireThrottles: only the named prefix, compared literally, only before the time, and
// never a prefix that could reach a precinct's PIN budget.
func testExpireThrottles(t *testing.T, h *authHarness) {
	old, recent := farFromClock, farFromClock.Add(time.Hour)
	for key, at := range map[string]time.Time{
		"addr/192.0.2.1/1": old, "addr/192.0.2.2/1": old, "addr/2001:db8::/64/1": old,
		"addr/192.0.2.3/2": recent,
		"precinct/p1":      old, "precinct/addr_1": old, "addrX/1": old, "a%/1": old,
	} {
		if _, err := h.s.AddThrottle(h.ctx, key, at); err != nil {
			t.Fatal(err)
		}
	}
	for _, prefix := range []string{"", "p", "precinct", "precinct/", "precinct/p1", "practice", "practice/", "pr"} {
		if n, err := h.s.ExpireThrottles(h.ctx, prefix, recent.Add(24*time.Hour)); !errors.Is(err, store.ErrInvalid) || n != 0 {
			t.Errorf("ExpireThrottles(%q) = %d, %v; want 0, ErrInvalid", prefix, n, err)
		}
	}
	if n, err := h.s.ExpireThrottles(h.ctx, "a_dr/", recent); err != nil || n != 0 {
		t.Errorf("ExpireThrottles(a_dr/) = %d, %v; want 0 (no wildcards)", n, err)
	}
	if n, err := h.s.ExpireThrottles(h.ctx, "a%", recent); err != nil || n != 1 {
		t.Errorf("ExpireThrottles(a%%) = %d, %v; want only the literal a%% key", n, err)
	}
	if n, err := h.s.ExpireThrottles(h.ctx, "addr/", recent); err != nil || n != 3 {
		t.Errorf("ExpireThrottles(addr/) = %d, %v; want 3", n, err)
	}
	// Nothing else forgets a counter with age: a day later the rest are all still there.
	h.clock.Advance(24 * time.Hour)
	for key, want := range map[string]int{
		"addr/192.0.2.1/1": 0, "addr/2001:db8::/64/1": 0, "addr/192.0.2.3/2": 1,
		"precinct/p1": 1, "precinct/addr_1": 1, "addrX/1": 1, "a%/1": 0,
	} {
		if c, err := h.s.Throttle(h.ctx, key); err != nil || c.Count != want {
			t.Errorf("%s: count %d, %v; want %d", key, c.Count, err, want)
		}
	}
}

func testSessions(t *testing.T, h *authHarness) {
	id := auth.SessionID{1, 2, 3}
	if _, err := h.s.Session(h.ctx, id); !errors.Is(err, auth.ErrNotFound) {
		t.Fatalf("missing session: err = %v, want ErrNotFound", err)
	}
	// The caller's times, far from the store's clock, and already over by it: kept as given,
	// and read back expired or not (auth judges expiry on its own clock).
	want := auth.Session{ID: id, Role: auth.RoleChair, PrecinctID: "p1", Created: farFromClock,
		Expires: farFromClock.Add(auth.ChairSessionTTL)}
	if err := h.s.CreateSession(h.ctx, want); err != nil {
		t.Fatal(err)
	}
	if err := h.s.CreateSession(h.ctx, want); !errors.Is(err, store.ErrExists) {
		t.Fatalf("CreateSession(same ID) = %v, want ErrExists", err)
	}
	past := auth.Session{ID: auth.SessionID{4}, Role: auth.RoleAdmin, Username: "bob",
		Created: Night.Add(-48 * time.Hour), Expires: Night.Add(-47 * time.Hour)}
	if err := h.s.CreateSession(h.ctx, past); err != nil {
		t.Fatal(err)
	}
	for _, w := range []auth.Session{want, past} {
		got, err := h.s.Session(h.ctx, w.ID)
		if err != nil || got.ID != w.ID || got.Role != w.Role || got.PrecinctID != w.PrecinctID ||
			got.Username != w.Username || !got.Created.Equal(w.Created) || !got.Expires.Equal(w.Expires) {
			t.Errorf("session read back = %+v, %v; want %+v", got, err, w)
		}
	}
	for name, s := range map[string]auth.Session{
		"no subject":   {ID: auth.SessionID{20}, Role: auth.RoleChair, Created: farFromClock, Expires: farFromClock.Add(time.Hour)},
		"bad role":     {ID: auth.SessionID{21}, Role: "root", Username: "x", Created: farFromClock, Expires: farFromClock.Add(time.Hour)},
		"already over": {ID: auth.SessionID{22}, Role: auth.RoleChair, PrecinctID: "p", Created: farFromClock, Expires: farFromClock},
	} {
		if err := h.s.CreateSession(h.ctx, s); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("CreateSession(%s) = %v, want ErrInvalid", name, err)
		}
	}
	if err := h.s.DeleteSession(h.ctx, id); err != nil {
		t.Fatal(err)
	}
	if _, err := h.s.Session(h.ctx, id); !errors.Is(err, auth.ErrNotFound) {
		t.Errorf("Session after delete = %v, want ErrNotFound", err)
	}
	if err := h.s.DeleteSession(h.ctx, id); !errors.Is(err, auth.ErrNotFound) {
		t.Errorf("second delete: err = %v, want ErrNotFound", err)
	}
	testExpiredSessions(t, h)
}

// testExpiredSessions: the sweep removes exactly the sessions expired by the caller's clock
// (at or before now), whatever the store's clock says, and keeps the live ones.
func testExpiredSessions(t *testing.T, h *authHarness) {
	at := farFromClock.Add(24 * time.Hour)
	live := auth.Session{ID: auth.SessionID{30}, Role: auth.RoleChair, PrecinctID: "p1", Created: at, Expires: at.Add(time.Hour)}
	edge := auth.Session{ID: auth.SessionID{31}, Role: auth.RoleChair, PrecinctID: "p2", Created: at.Add(-time.Hour), Expires: at}
	old := auth.Session{ID: auth.SessionID{32}, Role: auth.RoleAdmin, Username: "ann", Created: at.Add(-3 * time.Hour), Expires: at.Add(-2 * time.Hour)}
	for _, s := range []auth.Session{live, edge, old} {
		if err := h.s.CreateSession(h.ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	// The "past" session of testSessions (expired long before at) goes too.
	n, err := h.s.DeleteExpiredSessions(h.ctx, at)
	if err != nil || n != 3 {
		t.Fatalf("DeleteExpiredSessions = %d, %v; want 3 (edge, old and the earlier past one)", n, err)
	}
	for _, s := range []auth.Session{edge, old} {
		if _, err := h.s.Session(h.ctx, s.ID); !errors.Is(err, auth.ErrNotFound) {
			t.Errorf("expired session %x still stored: %v", s.ID[:1], err)
		}
	}
	if _, err := h.s.Session(h.ctx, live.ID); err != nil {
		t.Errorf("the live session was swept: %v", err)
	}
	if n, err := h.s.DeleteExpiredSessions(h.ctx, at); err != nil || n != 0 {
		t.Errorf("second sweep = %d, %v; want 0", n, err)
	}
}

// testAuthReopen: credentials, counters and sessions outlive the handle that wrote them.
func testAuthReopen(t *testing.T, h *authHarness) {
	pin, tok := h.hash("pin"), h.hash("tok")
	if err := h.s.PutPrecinctCredentials(h.ctx, "admin", []auth.PrecinctCredential{
		{PrecinctID: "p1", PINHash: pin, TokenHash: tok}}); err != nil {
		t.Fatal(err)
	}
	sess := auth.Session{ID: auth.SessionID{7}, Role: auth.RoleChair, PrecinctID: "p1", Created: farFromClock,
		Expires: farFromClock.Add(time.Hour)}
	if err := h.s.CreateSession(h.ctx, sess); err != nil {
		t.Fatal(err)
	}
	if _, err := h.s.AddThrottle(h.ctx, "precinct/p2", farFromClock); err != nil {
		t.Fatal(err)
	}
	if err := h.s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	h.s = h.reopen()
	if c, err := h.s.PrecinctCredential(h.ctx, "p1"); err != nil || c.PINHash.Encoded() != pin.Encoded() ||
		c.TokenHash.Encoded() != tok.Encoded() {
		t.Errorf("credential after reopen differs (%v)", err)
	}
	if s, err := h.s.Session(h.ctx, sess.ID); err != nil || s.PrecinctID != "p1" || !s.Expires.Equal(sess.Expires) {
		t.Errorf("Session after reopen = %+v, %v", s, err)
	}
	if c, err := h.s.Throttle(h.ctx, "precinct/p2"); err != nil || c.Count != 1 || !c.Last.Equal(farFromClock) {
		t.Errorf("Throttle after reopen = %+v, %v", c, err)
	}
}

func testAuthClosed(t *testing.T, h *authHarness) {
	if err := h.s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	checks := map[string]error{}
	_, checks["PrecinctCredential"] = h.s.PrecinctCredential(h.ctx, "p1")
	_, checks["Session"] = h.s.Session(h.ctx, auth.SessionID{1})
	_, checks["AddThrottle"] = h.s.AddThrottle(h.ctx, "k", farFromClock)
	_, checks["Throttle"] = h.s.Throttle(h.ctx, "k")
	checks["DeleteSession"] = h.s.DeleteSession(h.ctx, auth.SessionID{1})
	for name, err := range checks {
		if !errors.Is(err, store.ErrClosed) {
			t.Errorf("%s after Close = %v, want ErrClosed", name, err)
		}
	}
}
