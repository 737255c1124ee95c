// Package authstore makes the election's durable store (store.Store, the SQLite file that
// also holds the entries) serve as package auth's Store: precinct credentials, staff
// accounts, attempt counters and sessions. Every server process that opens the same database
// then shares one PIN budget per precinct and one set of sessions (spec/reliability.md §B4):
// adding a process must not multiply the guesses an attacker gets.
//
// It is an adapter and nothing else: no SQL, no clock, no policy. Package store knows
// nothing of auth and auth nothing of store; this package is the one place that knows both.
// The mapping:
//
//   - Credentials: store.Credential holds one opaque hash; auth keeps two per precinct (PIN
//     and QR token). The stored bytes are the two argon2id PHC strings joined by a newline
//     (PHC strings never contain one), parsed back with auth.ParseHash.
//   - Staff: auth's "create or replace" is store.CreateStaff, then UpdateStaff if the account
//     exists; a disabled account reads as not found, so it cannot log in.
//   - Throttles: store's attempt counters (AddCounter …), which take auth's clock and are
//     forgotten only by an explicit reset, never by age (that would reopen a spent PIN
//     budget). ExpireThrottles refuses any prefix that could reach a precinct budget.
//   - Sessions: store sessions keyed by auth's SessionID, with auth's Created and Expires; read
//     with StoredSession, expired or not, since auth judges expiry on its own clock.
//
// Times (Last of a counter, Created and Expires of a session) are kept to the millisecond,
// as the store keeps every time: a session may end up to 1 ms before auth set it to.
//
// Writes that the store audits (credentials issued, staff created or updated) are attributed
// to the Store's actor: DefaultActor, or the one WithActor names.
package authstore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"caucus/internal/auth"
	"caucus/internal/store"
)

// DefaultActor is the audit actor of writes made through a Store from New: the credential
// command and the server's set-up, which act for the election, not for one staff member.
const DefaultActor = "auth"

// precinctPrefix is the key prefix package auth gives per-precinct PIN budgets ("precinct/ID").
// TestKeysAreAuths checks that it still is.
const precinctPrefix = "precinct/"

// Store is an auth.Store on a store.Store. It is safe for concurrent use, as the store is, and
// several Stores (in one process or several) on the same database share everything.
type Store struct {
	st    store.Store
	actor string
}

var _ auth.Store = (*Store)(nil)

// New returns an auth.Store kept in st. Pass it as auth.Config.Store; st stays the caller's
// to close, after the Authenticator's last use.
func New(st store.Store) *Store { return &Store{st: st, actor: DefaultActor} }

// WithActor returns a Store on the same database whose audited writes name actor (the staff
// member setting credentials or accounts up). An empty actor means DefaultActor.
func (s *Store) WithActor(actor string) *Store {
	if actor == "" {
		actor = DefaultActor
	}
	return &Store{st: s.st, actor: actor}
}

// PutPrecinctCredentials implements auth.CredentialStore with one store.PutCredentials call:
// one transaction, all or nothing, one credential_issued audit row per precinct.
func (s *Store) PutPrecinctCredentials(ctx context.Context, creds []auth.PrecinctCredential) error {
	out := make([]store.Credential, len(creds))
	for i, c := range creds {
		if c.PrecinctID == "" || c.PINHash.IsZero() || c.TokenHash.IsZero() {
			return fmt.Errorf("put precinct credentials: incomplete credential for %q", c.PrecinctID)
		}
		out[i] = store.Credential{PrecinctID: c.PrecinctID, Hash: encodeCredential(c)}
	}
	if err := s.st.PutCredentials(ctx, s.actor, out); err != nil {
		return fmt.Errorf("put precinct credentials: %w", err)
	}
	return nil
}

// PrecinctCredential implements auth.CredentialStore.
func (s *Store) PrecinctCredential(ctx context.Context, precinctID string) (auth.PrecinctCredential, error) {
	c, err := s.st.Credential(ctx, precinctID)
	if errors.Is(err, store.ErrNotFound) {
		return auth.PrecinctCredential{}, fmt.Errorf("precinct credential %q: %w", precinctID, auth.ErrNotFound)
	} else if err != nil {
		return auth.PrecinctCredential{}, fmt.Errorf("precinct credential %q: %w", precinctID, err)
	}
	pc, err := decodeCredential(precinctID, c.Hash)
	if err != nil {
		return auth.PrecinctCredential{}, fmt.Errorf("precinct credential %q: %w", precinctID, err)
	}
	return pc, nil
}

// credentialSep separates the PIN's and the token's PHC strings in store.Credential.Hash.
const credentialSep = "\n"

func encodeCredential(c auth.PrecinctCredential) store.Secret {
	return store.Secret(c.PINHash.Encoded() + credentialSep + c.TokenHash.Encoded())
}

func decodeCredential(precinctID string, b []byte) (auth.PrecinctCredential, error) {
	pin, token, ok := strings.Cut(string(b), credentialSep)
	if !ok {
		return auth.PrecinctCredential{}, errors.New("stored hash is not a PIN hash and a token hash")
	}
	ph, err := auth.ParseHash(pin)
	if err != nil {
		return auth.PrecinctCredential{}, fmt.Errorf("PIN hash: %w", err)
	}
	th, err := auth.ParseHash(token)
	if err != nil {
		return auth.PrecinctCredential{}, fmt.Errorf("token hash: %w", err)
	}
	return auth.PrecinctCredential{PrecinctID: precinctID, PINHash: ph, TokenHash: th}, nil
}

// PutStaffAccount implements auth.CredentialStore: it creates the account, or replaces the
// role and password hash of an existing one, keeping its disabled flag (re-enabling an
// account is a deliberate store.UpdateStaff, never a side effect of a password change).
func (s *Store) PutStaffAccount(ctx context.Context, a auth.StaffAccount) error {
	if a.Username == "" || a.PasswordHash.IsZero() || !a.Role.Valid() || a.Role == auth.RoleChair {
		return fmt.Errorf("put staff account %q: incomplete account", a.Username)
	}
	u := store.Staff{Username: a.Username, Role: store.Role(a.Role), PasswordHash: store.Secret(a.PasswordHash.Encoded())}
	err := s.st.CreateStaff(ctx, s.actor, u)
	if errors.Is(err, store.ErrExists) {
		var old store.Staff
		if old, err = s.st.Staff(ctx, a.Username); err == nil {
			u.Disabled = old.Disabled
			err = s.st.UpdateStaff(ctx, s.actor, u)
		}
	}
	if err != nil {
		return fmt.Errorf("put staff account %q: %w", a.Username, err)
	}
	return nil
}

// StaffAccount implements auth.CredentialStore. A disabled account is reported as not found:
// auth then answers exactly as for an unknown user.
func (s *Store) StaffAccount(ctx context.Context, username string) (auth.StaffAccount, error) {
	u, err := s.st.Staff(ctx, username)
	if errors.Is(err, store.ErrNotFound) || (err == nil && u.Disabled) {
		return auth.StaffAccount{}, fmt.Errorf("staff account %q: %w", username, auth.ErrNotFound)
	} else if err != nil {
		return auth.StaffAccount{}, fmt.Errorf("staff account %q: %w", username, err)
	}
	role := auth.Role(u.Role)
	if !role.Valid() || role == auth.RoleChair {
		return auth.StaffAccount{}, fmt.Errorf("staff account %q: stored role %q is not a staff role", username, u.Role)
	}
	h, err := auth.ParseHash(string(u.PasswordHash))
	if err != nil {
		return auth.StaffAccount{}, fmt.Errorf("staff account %q: %w", username, err)
	}
	return auth.StaffAccount{Username: u.Username, Role: role, PasswordHash: h}, nil
}

// AddThrottle implements auth.ThrottleStore with store.AddCounter: one atomic UPSERT, on
// auth's clock, shared by every process on the database.
func (s *Store) AddThrottle(ctx context.Context, key string, now time.Time) (auth.ThrottleCounter, error) {
	c, err := s.st.AddCounter(ctx, key, now)
	if err != nil {
		return auth.ThrottleCounter{}, fmt.Errorf("add throttle: %w", err)
	}
	return throttleCounter(c), nil
}

// Throttle implements auth.ThrottleStore.
func (s *Store) Throttle(ctx context.Context, key string) (auth.ThrottleCounter, error) {
	c, err := s.st.Counter(ctx, key)
	if err != nil {
		return auth.ThrottleCounter{}, fmt.Errorf("read throttle: %w", err)
	}
	return throttleCounter(c), nil
}

func throttleCounter(c store.Counter) auth.ThrottleCounter {
	return auth.ThrottleCounter{Count: int(c.Count), Last: c.Last}
}

// ResetThrottle implements auth.ThrottleStore. It is the only way a precinct's PIN budget
// goes back to zero (auth.Authenticator.ResetPrecinct, the hotline's step-up).
func (s *Store) ResetThrottle(ctx context.Context, key string) error {
	if err := s.st.ResetCounter(ctx, key); err != nil {
		return fmt.Errorf("reset throttle: %w", err)
	}
	return nil
}

// ExpireThrottles implements auth.ThrottleStore with store.ExpireCounters. It refuses a
// prefix that could cover a precinct's PIN budget ("", "p", …, "precinct/", "precinct/x"):
// expiring one by time would hand an attacker PrecinctBudget fresh guesses with nobody's
// say-so, and the guessing bound counts only staff resets. auth calls it with "addr/" only.
func (s *Store) ExpireThrottles(ctx context.Context, prefix string, before time.Time) (int, error) {
	if strings.HasPrefix(precinctPrefix, prefix) || strings.HasPrefix(prefix, precinctPrefix) {
		return 0, fmt.Errorf("expire throttles %q: would expire precinct PIN budgets, which only a staff reset may clear", prefix)
	}
	n, err := s.st.ExpireCounters(ctx, prefix, before)
	if err != nil {
		return 0, fmt.Errorf("expire throttles: %w", err)
	}
	return int(n), nil
}

// CreateSession implements auth.SessionStore. The store keeps auth's Created and Expires;
// the subject is the precinct ID of a chair and the username of staff.
func (s *Store) CreateSession(ctx context.Context, a auth.Session) error {
	subject := a.Username
	if a.Role == auth.RoleChair {
		subject = a.PrecinctID
	}
	_, err := s.st.CreateSession(ctx, store.Session{TokenHash: a.ID[:], Subject: subject,
		Role: store.Role(a.Role), CreatedAt: a.Created, ExpiresAt: a.Expires})
	if err != nil {
		return fmt.Errorf("create session: %w", err)
	}
	return nil
}

// Session implements auth.SessionStore: the stored session, expired or not.
func (s *Store) Session(ctx context.Context, id auth.SessionID) (auth.Session, error) {
	ss, err := s.st.StoredSession(ctx, id[:])
	if errors.Is(err, store.ErrNotFound) {
		return auth.Session{}, fmt.Errorf("session: %w", auth.ErrNotFound)
	} else if err != nil {
		return auth.Session{}, fmt.Errorf("session: %w", err)
	}
	a := auth.Session{ID: id, Role: auth.Role(ss.Role), Created: ss.CreatedAt, Expires: ss.ExpiresAt}
	if !a.Role.Valid() {
		return auth.Session{}, fmt.Errorf("session: stored role %q is not a role", ss.Role)
	}
	if a.Role == auth.RoleChair {
		a.PrecinctID = ss.Subject
	} else {
		a.Username = ss.Subject
	}
	return a, nil
}

// DeleteSession implements auth.SessionStore. store.DeleteSession is idempotent, so the
// session is looked up first to report ErrNotFound; see the BUG note.
func (s *Store) DeleteSession(ctx context.Context, id auth.SessionID) error {
	if _, err := s.st.StoredSession(ctx, id[:]); errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("delete session: %w", auth.ErrNotFound)
	} else if err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	if err := s.st.DeleteSession(ctx, id[:]); err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}

// BUG(authstore): DeleteSession looks the session up, then deletes it: two logouts of one
// session at the same instant may both succeed instead of one getting ErrNotFound. The
// session is gone either way, and auth.Logout treats ErrNotFound as success.

// BUG(authstore): PutStaffAccount reads an existing account's disabled flag, then writes it
// back with the new role and hash; an admin disabling the account between the two is undone.
// Disable accounts with store.UpdateStaff and DeleteSessions, not while resetting passwords.

// BUG(authstore): store.DeleteExpiredSessions and store.Session judge expiry by the store's
// clock, not auth's; a server that calls them must open the store with auth's clock.
