package auth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"runtime"
	"sync"
	"time"
)

// Config is what an Authenticator needs.
type Config struct {
	Store Store
	Now   func() time.Time // the clock; required (cmd passes time.Now, tests a fake)
	Log   *slog.Logger     // required

	// LiveOpens and LiveCloses bound the night: outside [LiveOpens, LiveCloses) a PIN is
	// refused with ErrNotOpen before anything is counted, so nobody can spend a chair's
	// budget before the caucus. Both zero: PINs are always live. QR tokens and staff
	// passwords work at any time.
	LiveOpens, LiveCloses time.Time

	// MaxConcurrentHashes bounds argon2id runs at once (each takes DefaultParams.MemoryKiB:
	// 19 MiB): a login flood waits for a slot instead of exhausting memory. 0 means
	// 2×GOMAXPROCS.
	MaxConcurrentHashes int

	// SessionCache, if positive, keeps each session Authenticate has read from the store for
	// that long, so that a chair's requests do not each read the store. Expiry is checked on
	// every request all the same. Logout through this Authenticator ends the session here at
	// once; a session ended elsewhere (another process's logout) keeps
	// working here for up to SessionCache: that is the revocation latency. 0: no cache.
	SessionCache time.Duration
}

// Authenticator logs chairs and staff in, and checks sessions. It is safe for concurrent use.
type Authenticator struct {
	store      Store
	now        func() time.Time
	log        *slog.Logger
	opens      time.Time
	closes     time.Time
	slots      chan struct{}
	dummyPIN   Hash // verified for unknown precincts and users, so they take as long as known ones
	dummyToken Hash
	sessions   sessionCache
}

// New returns an Authenticator.
func New(cfg Config) (*Authenticator, error) {
	if cfg.Store == nil || cfg.Now == nil || cfg.Log == nil {
		return nil, errors.New("new authenticator: Store, Now and Log are required")
	}
	if !cfg.LiveCloses.After(cfg.LiveOpens) && !(cfg.LiveOpens.IsZero() && cfg.LiveCloses.IsZero()) {
		return nil, errors.New("new authenticator: the live window closes before it opens")
	}
	n := cfg.MaxConcurrentHashes
	if n <= 0 {
		n = 2 * runtime.GOMAXPROCS(0)
	}
	a := &Authenticator{store: cfg.Store, now: cfg.Now, log: cfg.Log,
		opens: cfg.LiveOpens, closes: cfg.LiveCloses, slots: make(chan struct{}, n),
		sessions: sessionCache{ttl: cfg.SessionCache}}
	var err error
	if a.dummyPIN, err = HashSecret(DefaultParams(), GenerateToken().Reveal()); err != nil {
		return nil, fmt.Errorf("new authenticator: %w", err)
	}
	if a.dummyToken, err = HashSecret(TokenParams(), GenerateToken().Reveal()); err != nil {
		return nil, fmt.Errorf("new authenticator: %w", err)
	}
	return a, nil
}

// LoginPIN logs a chair in with a typed PIN from the client address client. Errors:
// ErrTypo (not counted), ErrNotOpen (not counted), ErrThrottled with RetryAfter,
// ErrPINClosed, ErrBadCredentials (unknown precinct or wrong PIN: the same answer), or an
// internal error.
func (a *Authenticator) LoginPIN(ctx context.Context, precinctID, pinText string, client netip.Addr) (Session, SessionToken, error) {
	pin, err := ParsePIN(pinText)
	if err != nil {
		return Session{}, SessionToken{}, err
	}
	now := a.now()
	if !a.opens.IsZero() && (now.Before(a.opens) || !now.Before(a.closes)) {
		return Session{}, SessionToken{}, ErrNotOpen
	}
	if err := a.checkAddress(ctx, client, now); err != nil {
		return Session{}, SessionToken{}, err
	}
	cred, err := a.store.PrecinctCredential(ctx, precinctID)
	if errors.Is(err, ErrNotFound) {
		return Session{}, SessionToken{}, a.fail(ctx, a.dummyPIN, pin.Reveal(), client, now,
			slog.String("precinct_id", precinctID), slog.String("reason", "unknown precinct"))
	} else if err != nil {
		return Session{}, SessionToken{}, fmt.Errorf("login: %w", err)
	}

	key := precinctKey(precinctID)
	c, err := a.store.Throttle(ctx, key)
	if err != nil {
		return Session{}, SessionToken{}, fmt.Errorf("login: %w", err)
	}
	if c.Count >= PrecinctBudget {
		return Session{}, SessionToken{}, ErrPINClosed
	}
	// The back-off follows wrong PINs only (since the last right one): a chair who logs in
	// again and again, or whose app retries a login the server never answered, is never made
	// to wait. The budget above counts every verified attempt, successes included.
	f, err := a.store.Throttle(ctx, failKey(precinctID))
	if err != nil {
		return Session{}, SessionToken{}, fmt.Errorf("login: %w", err)
	}
	if d := waitFor(f, now, PrecinctFreeAttempts, PrecinctBaseDelay, PrecinctMaxDelay); d > 0 {
		return Session{}, SessionToken{}, throttled(d)
	}
	// Take the attempt before checking the PIN: concurrent attempts each get their own count,
	// so no more than PrecinctBudget are ever verified. The back-off above is only advisory
	// under a race (attempts arriving together may all pass it); the budget is exact.
	if c, err = a.store.AddThrottle(ctx, key, now); err != nil {
		return Session{}, SessionToken{}, fmt.Errorf("login: %w", err)
	}
	if c.Count > PrecinctBudget {
		return Session{}, SessionToken{}, ErrPINClosed
	}
	err = a.verify(ctx, cred.PINHash, pin.Reveal())
	if errors.Is(err, errMismatch) {
		if _, err := a.store.AddThrottle(ctx, failKey(precinctID), now); err != nil {
			return Session{}, SessionToken{}, fmt.Errorf("login: %w", err)
		}
		return Session{}, SessionToken{}, a.fail(ctx, Hash{}, "", client, now,
			slog.String("precinct_id", precinctID), slog.String("reason", "wrong PIN"),
			slog.Int("precinct_attempts", c.Count))
	} else if err != nil {
		return Session{}, SessionToken{}, fmt.Errorf("login precinct %q: %w", precinctID, err)
	}
	if f.Count > 0 {
		if err := a.store.ResetThrottle(ctx, failKey(precinctID)); err != nil {
			return Session{}, SessionToken{}, fmt.Errorf("login: %w", err)
		}
	}
	return a.startSession(ctx, Session{Role: RoleChair, PrecinctID: precinctID}, ChairSessionTTL, now, "pin")
}

// LoginToken logs a chair in with the QR token of the precinct's login link. Token logins
// are never throttled: a 160-bit token cannot be guessed, and PIN failures by an attacker
// must not lock the chair out. Errors: ErrBadLink (malformed, not counted),
// ErrBadCredentials, or an internal error.
func (a *Authenticator) LoginToken(ctx context.Context, precinctID, tokenText string, client netip.Addr) (Session, SessionToken, error) {
	tok, err := ParseToken(tokenText)
	if err != nil {
		return Session{}, SessionToken{}, err
	}
	now := a.now()
	cred, err := a.store.PrecinctCredential(ctx, precinctID)
	unknown := errors.Is(err, ErrNotFound)
	if unknown {
		cred.TokenHash = a.dummyToken
	} else if err != nil {
		return Session{}, SessionToken{}, fmt.Errorf("login: %w", err)
	}
	err = a.verify(ctx, cred.TokenHash, tok.Reveal())
	if err == nil && unknown {
		err = errMismatch // cannot happen: the dummy's plaintext was thrown away
	}
	if errors.Is(err, errMismatch) {
		a.log.LogAttrs(ctx, slog.LevelWarn, "login failed", slog.String("precinct_id", precinctID),
			slog.String("reason", "wrong token"), slog.String("client", client.String()))
		return Session{}, SessionToken{}, ErrBadCredentials
	} else if err != nil {
		return Session{}, SessionToken{}, fmt.Errorf("login precinct %q: %w", precinctID, err)
	}
	return a.startSession(ctx, Session{Role: RoleChair, PrecinctID: precinctID}, ChairSessionTTL, now, "token")
}

// LoginStaff logs a staff member in. Failures back off per account (never a lock) and count
// per address. Errors: ErrThrottled, ErrBadCredentials, or an internal error.
func (a *Authenticator) LoginStaff(ctx context.Context, username string, password Password, client netip.Addr) (Session, SessionToken, error) {
	now := a.now()
	if err := a.checkAddress(ctx, client, now); err != nil {
		return Session{}, SessionToken{}, err
	}
	acct, err := a.store.StaffAccount(ctx, username)
	if errors.Is(err, ErrNotFound) {
		return Session{}, SessionToken{}, staffFailure(a.fail(ctx, a.dummyPIN, password.Reveal(), client, now,
			slog.String("username", username), slog.String("reason", "unknown user")))
	} else if err != nil {
		return Session{}, SessionToken{}, fmt.Errorf("staff login: %w", err)
	}
	key := staffKey(username)
	c, err := a.store.Throttle(ctx, key)
	if err != nil {
		return Session{}, SessionToken{}, fmt.Errorf("staff login: %w", err)
	}
	if d := waitFor(c, now, StaffFreeAttempts, StaffBaseDelay, StaffMaxDelay); d > 0 {
		return Session{}, SessionToken{}, throttled(d)
	}
	err = a.verify(ctx, acct.PasswordHash, password.Reveal())
	if errors.Is(err, errMismatch) {
		if _, err := a.store.AddThrottle(ctx, key, now); err != nil {
			return Session{}, SessionToken{}, fmt.Errorf("staff login: %w", err)
		}
		return Session{}, SessionToken{}, staffFailure(a.fail(ctx, Hash{}, "", client, now,
			slog.String("username", username), slog.String("reason", "wrong password")))
	} else if err != nil {
		return Session{}, SessionToken{}, fmt.Errorf("staff login %q: %w", username, err)
	}
	if c.Count > 0 {
		if err := a.store.ResetThrottle(ctx, key); err != nil {
			return Session{}, SessionToken{}, fmt.Errorf("staff login: %w", err)
		}
	}
	return a.startSession(ctx, Session{Role: acct.Role, Username: username}, StaffSessionTTL, now, "password")
}

// Authenticate returns the session of a bearer token. Errors: ErrUnauthenticated (malformed,
// unknown or expired token), or an internal error.
func (a *Authenticator) Authenticate(ctx context.Context, bearer string) (Session, error) {
	tok, err := ParseSessionToken(bearer)
	if err != nil {
		return Session{}, err
	}
	id := tok.ID()
	now := a.now()
	s, ok := a.sessions.get(id, now)
	if !ok {
		epoch := a.sessions.epoch()
		s, err = a.store.Session(ctx, id)
		if errors.Is(err, ErrNotFound) {
			return Session{}, ErrUnauthenticated
		} else if err != nil {
			return Session{}, fmt.Errorf("authenticate: %w", err)
		}
		a.sessions.put(id, s, now, epoch)
	}
	if !now.Before(s.Expires) {
		return Session{}, ErrUnauthenticated
	}
	return s, nil
}

// Logout ends the session of a bearer token. Logging out twice is not an error.
func (a *Authenticator) Logout(ctx context.Context, bearer string) error {
	tok, err := ParseSessionToken(bearer)
	if err != nil {
		return err
	}
	defer a.sessions.drop(tok.ID()) // after the store's delete: no read from before it is kept
	if err := a.store.DeleteSession(ctx, tok.ID()); err != nil && !errors.Is(err, ErrNotFound) {
		return fmt.Errorf("logout: %w", err)
	}
	return nil
}

// maxCachedSessions bounds the session cache: more than a national night's chairs and staff.
// Past it the cache starts again.
const maxCachedSessions = 1 << 18

// sessionCache keeps sessions read from the store for ttl (Config.SessionCache). Only sessions
// found are kept, so a flood of made-up tokens never fills it.
type sessionCache struct {
	ttl time.Duration
	mu  sync.Mutex
	gen uint64 // counts logouts: a read begun before one is not kept
	m   map[SessionID]cachedSession
}

type cachedSession struct {
	s     Session
	until time.Time
}

func (c *sessionCache) get(id SessionID, now time.Time) (Session, bool) {
	if c.ttl <= 0 {
		return Session{}, false
	}
	c.mu.Lock()
	e, ok := c.m[id]
	c.mu.Unlock()
	if !ok || !now.Before(e.until) {
		return Session{}, false
	}
	return e.s, true
}

func (c *sessionCache) epoch() uint64 {
	if c.ttl <= 0 {
		return 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gen
}

// put keeps s unless a logout happened since epoch.
func (c *sessionCache) put(id SessionID, s Session, now time.Time, epoch uint64) {
	if c.ttl <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen != epoch {
		return
	}
	if c.m == nil || len(c.m) >= maxCachedSessions {
		c.m = make(map[SessionID]cachedSession)
	}
	c.m[id] = cachedSession{s: s, until: now.Add(c.ttl)}
}

func (c *sessionCache) drop(id SessionID) {
	if c.ttl <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	delete(c.m, id)
}

// ExpireAddressCounters drops the per-address counters of past windows (their keys name the
// window, so they are never read again). Call it every AddressWindow or so, to keep their memory bounded under a flood from many addresses.
func (a *Authenticator) ExpireAddressCounters(ctx context.Context) (int, error) {
	n, err := a.store.ExpireThrottles(ctx, addressPrefix, a.now().Truncate(AddressWindow))
	if err != nil {
		return 0, fmt.Errorf("expire address counters: %w", err)
	}
	return n, nil
}

// DeleteExpiredSessions removes the sessions expired by now (the night's housekeeping calls it
// hourly, so that the table holds only live sessions) and returns how many.
func (a *Authenticator) DeleteExpiredSessions(ctx context.Context) (int, error) {
	n, err := a.store.DeleteExpiredSessions(ctx, a.now())
	if err != nil {
		return 0, fmt.Errorf("delete expired sessions: %w", err)
	}
	return n, nil
}

// checkAddress refuses a client that reached AddressMaxFailures this window.
func (a *Authenticator) checkAddress(ctx context.Context, client netip.Addr, now time.Time) error {
	window := now.Truncate(AddressWindow)
	c, err := a.store.Throttle(ctx, addressKey(client, window))
	if err != nil {
		return fmt.Errorf("login: %w", err)
	}
	if c.Count >= AddressMaxFailures {
		return throttled(window.Add(AddressWindow).Sub(now))
	}
	return nil
}

// fail counts a failure against the client's address, verifies plaintext against dummy if
// given (so that unknown names cost the same time as known ones), logs, and returns
// ErrBadCredentials.
func (a *Authenticator) fail(ctx context.Context, dummy Hash, plaintext string, client netip.Addr, now time.Time, attrs ...slog.Attr) error {
	if !dummy.IsZero() {
		if err := a.verify(ctx, dummy, plaintext); err != nil && !errors.Is(err, errMismatch) {
			return fmt.Errorf("login: %w", err)
		}
	}
	if _, err := a.store.AddThrottle(ctx, addressKey(client, now.Truncate(AddressWindow)), now); err != nil {
		return fmt.Errorf("login: %w", err)
	}
	attrs = append(attrs, slog.String("client", client.String()))
	a.log.LogAttrs(ctx, slog.LevelWarn, "login failed", attrs...)
	return ErrBadCredentials
}

// staffFailure words ErrBadCredentials for staff; other errors pass through.
func staffFailure(err error) error {
	if errors.Is(err, ErrBadCredentials) {
		return &Error{Code: CodeBadCredentials, Message: "Wrong user name or password."}
	}
	return err
}

// verify runs h.verify in one of the hash slots.
func (a *Authenticator) verify(ctx context.Context, h Hash, plaintext string) error {
	select {
	case a.slots <- struct{}{}:
	case <-ctx.Done():
		return fmt.Errorf("wait for a hash slot: %w", ctx.Err())
	}
	defer func() { <-a.slots }()
	return h.verify(plaintext)
}

// startSession stores a new session for s and returns it with its token.
func (a *Authenticator) startSession(ctx context.Context, s Session, ttl time.Duration, now time.Time, method string) (Session, SessionToken, error) {
	tok, id := newSessionToken()
	s.ID, s.Created, s.Expires = id, now, now.Add(ttl)
	if err := a.store.CreateSession(ctx, s); err != nil {
		return Session{}, SessionToken{}, fmt.Errorf("start session: %w", err)
	}
	a.log.LogAttrs(ctx, slog.LevelInfo, "login", slog.String("role", string(s.Role)),
		slog.String("precinct_id", s.PrecinctID), slog.String("username", s.Username),
		slog.String("method", method))
	return s, tok, nil
}
