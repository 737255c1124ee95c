package auth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
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

	// MaxConcurrentHashes bounds the PIN lane's argon2id runs at once (each takes
	// DefaultParams.MemoryKiB: 19 MiB), and MaxWaitingHashes the PIN logins waiting for one;
	// a PIN login that finds both full is shed at once with ErrBusy (503 + Retry-After).
	// 0 means GOMAXPROCS running and 4×GOMAXPROCS waiting: at ~23 ms a hash, a wait of
	// about 0.1 s at most. Deeper queues were measured (the troll-flood test) to make chairs
	// wait behind junk rather than be told at once to come back. Only running hashes hold
	// argon2id memory. Token and staff logins have lanes of their own of the same size,
	// so a flood of PINs never delays a chair with the QR link, and so do attempts at unknown
	// precincts and users (their dummy hashes), so a flood of made-up names never delays a
	// real one.
	MaxConcurrentHashes, MaxWaitingHashes int

	// SessionCache, if positive, keeps each chair session Authenticate has read from the
	// store for that long, so that a chair's requests do not each read the store. Expiry is
	// checked on every request all the same. Logout through this Authenticator ends the
	// session here at once; a chair session ended elsewhere (another process's logout) keeps
	// working here for up to SessionCache: that is the revocation latency. 0: no cache. Staff
	// sessions are never cached: each request reads the session and the account, so a
	// logout, an account disabled or its credentials reset, by any process, ends them at once.
	SessionCache time.Duration

	// PINDigits is the length of the election's PINs, PINDigitsFor its number of precincts;
	// 0 means PINDigits, a state's. A PIN login takes any length from PINDigits to it (a PIN
	// reissued without the election at hand has a state's length), and NewPIN issues it.
	PINDigits int
}

// Authenticator logs chairs and staff in, and checks sessions. It is safe for concurrent use.
type Authenticator struct {
	store       Store
	now         func() time.Time
	log         *slog.Logger
	opens       time.Time
	closes      time.Time
	pinLane     *lane // PINs for real precincts
	tokenLane   *lane // QR tokens for real precincts
	staffLane   *lane // passwords of real accounts
	unknownLane *lane // anything for an unknown precinct or user: the dummy hashes
	dummyPIN    Hash  // verified for unknown precincts and users, so they take as long as known ones
	dummyToken  Hash
	pinDigits   int // the election's PIN length: NewPIN's, and the longest a login takes
	sessions    sessionCache
	failures    failureLog
}

// New returns an Authenticator.
func New(cfg Config) (*Authenticator, error) {
	if cfg.Store == nil || cfg.Now == nil || cfg.Log == nil {
		return nil, errors.New("new authenticator: Store, Now and Log are required")
	}
	if !cfg.LiveCloses.After(cfg.LiveOpens) && !(cfg.LiveOpens.IsZero() && cfg.LiveCloses.IsZero()) {
		return nil, errors.New("new authenticator: the live window closes before it opens")
	}
	if cfg.PINDigits == 0 {
		cfg.PINDigits = PINDigits
	}
	if err := checkPINDigits(cfg.PINDigits); err != nil {
		return nil, fmt.Errorf("new authenticator: %w", err)
	}
	n, q := cfg.MaxConcurrentHashes, cfg.MaxWaitingHashes
	if n <= 0 {
		n = runtime.GOMAXPROCS(0)
	}
	if q <= 0 {
		q = 4 * runtime.GOMAXPROCS(0)
	}
	a := &Authenticator{store: cfg.Store, now: cfg.Now, log: cfg.Log,
		opens: cfg.LiveOpens, closes: cfg.LiveCloses, pinDigits: cfg.PINDigits,
		pinLane: newLane("PIN", n, q), tokenLane: newLane("token", n, q), staffLane: newLane("staff", n, q),
		unknownLane: newLane("unknown", n, q),
		sessions:    sessionCache{ttl: cfg.SessionCache}, failures: failureLog{store: cfg.Store, log: cfg.Log}}
	var err error
	if a.dummyPIN, err = HashSecret(DefaultParams(), GenerateToken().Reveal()); err != nil {
		return nil, fmt.Errorf("new authenticator: %w", err)
	}
	if a.dummyToken, err = HashSecret(TokenParams(), GenerateToken().Reveal()); err != nil {
		return nil, fmt.Errorf("new authenticator: %w", err)
	}
	return a, nil
}

// Authenticate returns the session of a bearer token. A staff session also needs its account
// still enabled with the same role, and to have been used within StaffIdleTimeout; its use is
// recorded (at most once per StaffTouchEvery). Errors: ErrUnauthenticated (malformed,
// unknown, expired or idle token, or a staff account gone), or an internal error.
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
		if s.Role != RoleChair {
			return a.staffSession(ctx, s, now)
		}
		a.sessions.put(id, s, now, epoch)
	}
	if !now.Before(s.Expires) {
		return Session{}, ErrUnauthenticated
	}
	return s, nil
}

// staffSession admits a staff session read from the store at now: not expired, not idle,
// its account enabled with the role the session has; then records its use if LastSeen is
// StaffTouchEvery old. An idle session is deleted, so that it cannot come back.
func (a *Authenticator) staffSession(ctx context.Context, s Session, now time.Time) (Session, error) {
	if !now.Before(s.Expires) {
		return Session{}, ErrUnauthenticated
	}
	if !now.Before(s.LastSeen.Add(StaffIdleTimeout)) {
		if err := a.store.DeleteSession(ctx, s.ID); err != nil && !errors.Is(err, ErrNotFound) {
			return Session{}, fmt.Errorf("authenticate: %w", err)
		}
		return Session{}, ErrUnauthenticated
	}
	acct, err := a.store.StaffAccount(ctx, s.Username)
	if errors.Is(err, ErrNotFound) {
		return Session{}, ErrUnauthenticated
	} else if err != nil {
		return Session{}, fmt.Errorf("authenticate: %w", err)
	}
	if acct.Role != s.Role {
		return Session{}, ErrUnauthenticated
	}
	if now.Sub(s.LastSeen) >= StaffTouchEvery {
		if err := a.store.TouchSession(ctx, s.ID, now); errors.Is(err, ErrNotFound) {
			return Session{}, ErrUnauthenticated // ended since it was read
		} else if err != nil {
			return Session{}, fmt.Errorf("authenticate: %w", err)
		}
		s.LastSeen = now
	}
	return s, nil
}

// IdleExpires is when s ends if it is not used again: StaffIdleTimeout after its LastSeen, or
// its Expires if sooner; a chair's session has no idle limit (its Expires).
func (s Session) IdleExpires() time.Time {
	if s.Role == RoleChair {
		return s.Expires
	}
	if t := s.LastSeen.Add(StaffIdleTimeout); t.Before(s.Expires) {
		return t
	}
	return s.Expires
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

// DeleteExpiredSessions removes the sessions expired by now (the night's housekeeping calls it
// hourly, so that the table holds only live sessions) and returns how many.
func (a *Authenticator) DeleteExpiredSessions(ctx context.Context) (int, error) {
	n, err := a.store.DeleteExpiredSessions(ctx, a.now())
	if err != nil {
		return 0, fmt.Errorf("delete expired sessions: %w", err)
	}
	return n, nil
}

// staffFailure words ErrBadCredentials for staff; other errors pass through.
func staffFailure(err error) error {
	if errors.Is(err, ErrBadCredentials) {
		return &Error{Code: CodeBadCredentials, Message: "Wrong user name, password or one-time code."}
	}
	return err
}

// startSession stores a new session for s and returns it with its token.
func (a *Authenticator) startSession(ctx context.Context, s Session, ttl time.Duration, now time.Time, method string) (Session, SessionToken, error) {
	tok, id := newSessionToken()
	s.ID, s.Created, s.Expires, s.LastSeen = id, now, now.Add(ttl), now
	if err := a.store.CreateSession(ctx, s); err != nil {
		return Session{}, SessionToken{}, fmt.Errorf("start session: %w", err)
	}
	a.log.LogAttrs(ctx, slog.LevelInfo, "login", slog.String("role", string(s.Role)),
		slog.String("precinct_id", s.PrecinctID), slog.String("username", s.Username),
		slog.String("method", method))
	return s, tok, nil
}
