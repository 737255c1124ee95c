package store

import (
	"fmt"
	"log/slog"
	"time"
)

// Role is what a session or staff account may do (spec/reliability.md A7).
type Role string

const (
	RoleChair    Role = "chair" // a precinct's chair; sessions only, never a staff account
	RoleAdmin    Role = "admin"
	RoleOperator Role = "operator"
	RoleReviewer Role = "reviewer"
	RoleObserver Role = "observer"
)

// StaffRole reports whether r is a role a staff account may hold.
func (r Role) StaffRole() bool {
	switch r {
	case RoleAdmin, RoleOperator, RoleReviewer, RoleObserver:
		return true
	}
	return false
}

// Credential is a precinct's login secret as auth hashed it. The bytes are opaque to the store
// (auth decides the encoding, e.g. argon2id parameters, salt and hash of PIN and token).
type Credential struct {
	PrecinctID string
	Hash       Secret
	CreatedAt  time.Time // set by the store on PutCredentials
}

// Staff is an HQ account.
type Staff struct {
	Username     string
	Role         Role // a StaffRole
	PasswordHash Secret
	Disabled     bool
	CreatedAt    time.Time // set by the store on CreateStaff
}

// Session is a login, keyed by the hash of its bearer token.
type Session struct {
	TokenHash Secret
	Subject   string // a precinct ID for RoleChair, a username otherwise
	Role      Role
	CreatedAt time.Time // set by the store when zero
	ExpiresAt time.Time
}

// Secret is bytes that must never reach a log line: hashes of PINs, passwords and tokens, and
// keys. Its LogValue and String redact it.
type Secret []byte

func (Secret) LogValue() slog.Value { return slog.StringValue("REDACTED") }
func (Secret) String() string       { return "REDACTED" }
func (s Secret) GoString() string   { return fmt.Sprintf("store.Secret(REDACTED, %d bytes)", len(s)) }

// Counter is the attempt counter of one key: how many attempts since it was last reset, and
// the time of the latest, as the caller's clock gave it (AddCounter).
type Counter struct {
	Key   string
	Count int64
	Last  time.Time // zero for a key never counted
}

// Settings is the singleton row binding a database to one election.
type Settings struct {
	ElectionID string
	CreatedAt  time.Time
}
