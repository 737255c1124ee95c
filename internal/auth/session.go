package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"time"
)

// Role is what a session may do. The server's authorization table decides per route;
// MaySubmit is the one rule this package owns.
type Role string

const (
	RoleChair     Role = "chair"     // reports for one precinct, Session.PrecinctID
	RoleOperator  Role = "operator"  // enters hotline and paper reports for any precinct
	RoleReviewer  Role = "reviewer"  // resolves flags and conflicts
	RoleAdmin     Role = "admin"     // sets up the election, staff accounts, resets
	RoleObserver  Role = "observer"  // reads everything staff can see, changes nothing
	RoleCertifier Role = "certifier" // certifies counties and the state (with a second factor)
)

// Staff reports whether r is one of the headquarters roles (every role but the chair's).
func (r Role) Staff() bool { return r.Valid() && r != RoleChair }

// NeedsOTP reports whether an account of role r logs in with a TOTP code as well as its
// password (VVSG 11.3.1: a second factor for administration and certification).
func (r Role) NeedsOTP() bool { return r == RoleAdmin || r == RoleCertifier }

// StaffRoles are the roles a staff account may have, in the order they are listed.
var StaffRoles = []Role{RoleAdmin, RoleReviewer, RoleOperator, RoleCertifier, RoleObserver}

// Valid reports whether r is one of the roles.
func (r Role) Valid() bool {
	switch r {
	case RoleChair, RoleOperator, RoleReviewer, RoleAdmin, RoleObserver, RoleCertifier:
		return true
	}
	return false
}

// Session lifetimes. Expiry is absolute from login and never extended: a session that works
// when a chair starts typing still works when they press send, however slow the server.
const (
	// ChairSessionTTL covers a caucus night from the afternoon log-in (with the QR code, while
	// the chair sets up the room) to the last report after midnight.
	ChairSessionTTL = 12 * time.Hour

	// StaffSessionTTL is ASVS L2's absolute limit for staff (reliability.md A4).
	StaffSessionTTL = 12 * time.Hour

	// StaffIdleTimeout ends a staff session not used for this long (reliability.md A4; ASVS
	// L2), whatever its absolute expiry. Chairs have none: a chair who logs in at the
	// afternoon set-up and reports after midnight must still be in.
	StaffIdleTimeout = 30 * time.Minute

	// StaffTouchEvery is how stale a staff session's LastSeen may be before a request writes
	// it again: at most one write a minute per session, not one per request. The idle limit is
	// therefore kept to within this.
	StaffTouchEvery = time.Minute

	// sessionTokenBytes: 256 bits from crypto/rand.
	sessionTokenBytes = 32
)

// SessionID is the SHA-256 of a session token: what the store keeps and looks up. A token
// has 256 random bits, so a fast hash is enough: nobody can find a token from its hash, and
// a stolen database holds no usable token.
type SessionID [sha256.Size]byte

// Session is a logged-in client.
type Session struct {
	ID         SessionID
	Role       Role
	PrecinctID string // for RoleChair only
	Username   string // for staff roles only
	Created    time.Time
	Expires    time.Time
	// LastSeen is when the session was last used, to within StaffTouchEvery: staff sessions
	// end after StaffIdleTimeout without use. Stores set it to Created at CreateSession.
	LastSeen time.Time
}

// MaySubmit reports whether the session may submit a report for precinctID: a chair for its
// own precinct, an operator for any.
func (s Session) MaySubmit(precinctID string) bool {
	switch s.Role {
	case RoleChair:
		return s.PrecinctID == precinctID
	case RoleOperator:
		return true
	}
	return false
}

// newSessionToken returns a fresh token and its ID.
func newSessionToken() (SessionToken, SessionID) {
	b := make([]byte, sessionTokenBytes)
	rand.Read(b)
	s := base64.RawURLEncoding.EncodeToString(b)
	return SessionToken{newSecret(s)}, sha256.Sum256([]byte(s))
}

// sessionTokenLen is the length of a session token's text.
var sessionTokenLen = base64.RawURLEncoding.EncodedLen(sessionTokenBytes)

// ParseSessionToken checks a bearer token's shape (43 characters of unpadded base64url
// that decode to 32 bytes). It returns ErrUnauthenticated for anything else.
func ParseSessionToken(s string) (SessionToken, error) {
	if len(s) != sessionTokenLen {
		return SessionToken{}, ErrUnauthenticated
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(s)
	if err != nil || len(b) != sessionTokenBytes {
		return SessionToken{}, ErrUnauthenticated
	}
	return SessionToken{newSecret(s)}, nil
}

// ID returns the token's SessionID.
func (t SessionToken) ID() SessionID { return sha256.Sum256([]byte(t.reveal())) }
