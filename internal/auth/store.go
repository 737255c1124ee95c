package auth

import (
	"context"
	"time"
)

// Store is everything this package needs kept: precinct credentials, staff accounts, attempt
// counters and sessions. The election's database implements it directly (store/sqlite), and
// storetest.RunAuth is the conformance suite every implementation passes.
//
// What an implementation must guarantee:
//   - Durability: a write has committed before it returns. Counters under PrecinctKeyPrefix
//     carry the guessing bound (a counter lost is up to PrecinctBudget more guesses) and
//     sessions must survive a restart (a chair is not logged out by a server restart).
//   - Concurrency: every method is safe for concurrent use, and when several server
//     processes share the database they share one set of credentials, counters and sessions.
//     AddThrottle is atomic (one UPSERT … RETURNING, or an UPDATE in one transaction): two
//     attempts never get the same count, in one process or across several, which is what
//     keeps the budget exact.
//   - Times are kept to the millisecond at least; they are the caller's (this package's
//     clock), never the store's, except where a method says otherwise.
//   - Sentinels: a reader of something that does not exist returns an error wrapping
//     ErrNotFound; any other error is internal (including a stored value that does not read
//     back as what was written).
type Store interface {
	// PutPrecinctCredentials stores creds, replacing any earlier credential of the same
	// precincts, all or nothing in one transaction (a half-written set would leave printed
	// cards that fail), and records actor as who issued each one in the audit trail. A
	// credential without a precinct ID or either hash is refused, and nothing is stored.
	PutPrecinctCredentials(ctx context.Context, actor string, creds []PrecinctCredential) error
	// PrecinctCredential returns the credential of precinctID.
	PrecinctCredential(ctx context.Context, precinctID string) (PrecinctCredential, error)

	// StaffAccount returns the enabled account username; a disabled account is ErrNotFound,
	// so that it answers exactly as an unknown user.
	StaffAccount(ctx context.Context, username string) (StaffAccount, error)
	// StaffAccounts returns every account, disabled ones included (Disabled set), ordered by
	// username, without their password hashes and TOTP secrets (left zero).
	StaffAccounts(ctx context.Context) ([]StaffAccount, error)
	// CreateStaff stores a new enabled account (its Created is the store's clock) and its
	// staff_account audit row naming by, in one transaction. A username already taken, by an
	// enabled or a disabled account, is ErrAccountExists; an account without a username or
	// hash, or whose role is not Staff, is refused and nothing is stored.
	CreateStaff(ctx context.Context, by Actor, a StaffAccount) error
	// DisableStaff disables the account username, deletes every session it holds and writes
	// its staff_account audit row, all in one transaction, and returns how many sessions
	// ended. ErrNotFound when there is no such account; disabling a disabled account ends
	// nothing and is not an error. Nothing enables an account again.
	DisableStaff(ctx context.Context, by Actor, username string) (int, error)
	// SetStaffCredentials replaces the enabled account username's password hash and TOTP
	// secret (zero: none), forgets its last TOTP step if the secret changed (a code of the
	// same secret stays used), deletes every session it holds and
	// writes its staff_account audit row, in one transaction, and returns how many sessions
	// ended. ErrNotFound when there is no such enabled account.
	SetStaffCredentials(ctx context.Context, by Actor, username string, hash Hash, totp TOTPSecret) (int, error)
	// UseTOTPStep records that a TOTP code of time step step was accepted for the enabled
	// account username, if step is after the last one recorded, and reports whether it was:
	// false means the step (or a later one) was already used, so the code is a replay. One
	// atomic statement, so that of two uses of one code, in one process or several, exactly
	// one gets true. ErrNotFound when there is no such enabled account.
	UseTOTPStep(ctx context.Context, username string, step int64) (bool, error)

	// AddThrottle adds one to key's counter, sets its Last to now, and returns the counter
	// as it is after the addition. A missing key starts at zero.
	AddThrottle(ctx context.Context, key string, now time.Time) (ThrottleCounter, error)
	// UpdateThrottles reads the counters of keys (the zero ThrottleCounter for a key without
	// one), passes them to decide, and writes what decide returns (one counter per key, in
	// order; a Count of 0 deletes the key), all in one transaction that no other call, in this
	// process or another, can interleave with: the read, the decision and the write are one
	// atomic step. If decide returns an error nothing is written and the error is returned
	// (wrapped). decide may be called more than once (a retried transaction) and must not do
	// I/O. It returns the counters as written.
	UpdateThrottles(ctx context.Context, keys []string, decide func(cur []ThrottleCounter) ([]ThrottleCounter, error)) ([]ThrottleCounter, error)
	// Throttle returns key's counter, or the zero ThrottleCounter (and no error) if the key
	// has none: a key without attempts is not an error.
	Throttle(ctx context.Context, key string) (ThrottleCounter, error)
	// ResetThrottle deletes key's counter. Deleting a missing key is not an error. Nothing
	// else removes a single counter: no counter is forgotten because of its age alone.
	ResetThrottle(ctx context.Context, key string) error
	// ExpireThrottles deletes every counter whose key starts with prefix (compared literally,
	// byte for byte: no wildcards) and whose Last is before before, and returns how many. It
	// refuses, deleting nothing, a prefix that could reach a precinct's PIN budget (one that
	// PrecinctKeyPrefix starts with, the empty one included, or one that starts with it):
	// expiring a budget by time would hand an attacker PrecinctBudget fresh guesses with
	// nobody's say-so.
	ExpireThrottles(ctx context.Context, prefix string, before time.Time) (int, error)

	// AddLoginFailures adds each count to its aggregated row (Minute, PrecinctID, Client,
	// Reason), creating it at need, all in one transaction. A count without Minute, Client or
	// Reason, or not positive, is refused and nothing is added.
	AddLoginFailures(ctx context.Context, counts []FailureCount) error
	// LoginFailures returns the aggregated rows from the minute since on, ordered by minute,
	// precinct, client and reason.
	LoginFailures(ctx context.Context, since time.Time) ([]FailureCount, error)

	// CreateSession stores s with its Created and Expires as given, and LastSeen = Created.
	// IDs are random; an ID already stored is an error, as is a role that is not Valid or an
	// Expires not after Created.
	CreateSession(ctx context.Context, s Session) error
	// Session returns the session with id, expired or not (the caller checks Expires and
	// LastSeen on its own clock).
	Session(ctx context.Context, id SessionID) (Session, error)
	// TouchSession sets the LastSeen of the session with id to at (the caller's clock), unless
	// it is already later; ErrNotFound when there is no such session.
	TouchSession(ctx context.Context, id SessionID, at time.Time) error
	// DeleteSession removes the session with id; ErrNotFound when there is none.
	DeleteSession(ctx context.Context, id SessionID) error
	// DeleteExpiredSessions removes every session whose Expires is at or before now (the
	// caller's clock) and returns how many: housekeeping, since Session's callers already
	// refuse them, but an expired session's row is a token hash nobody needs kept.
	DeleteExpiredSessions(ctx context.Context, now time.Time) (int, error)
}

// Actor is who makes a change to staff accounts or credentials, from where and why, for the
// audit trail: a staff username and the client address of the request, or the command line's
// user and "command line".
type Actor struct {
	Name   string
	From   string
	Reason string // why, as the actor said it; optional
}
