package auth

import (
	"fmt"
	"io"
	"log/slog"
)

// Redacted is what every secret type prints, logs and marshals instead of its text.
const Redacted = "REDACTED"

// secret holds a credential's text behind a pointer. fmt prints a pointer held in an
// unexported field as an address, so even a struct that keeps a secret type in an unexported
// field (where fmt cannot call our methods) prints no secret. Methods with value receivers are
// promoted to PIN, Token, SessionToken and Password, which embed it.
type secret struct{ p *string }

func newSecret(s string) secret { return secret{p: &s} }

func (s secret) reveal() string {
	if s.p == nil {
		return ""
	}
	return *s.p
}

// IsZero reports whether the secret was never set.
func (s secret) IsZero() bool { return s.p == nil }

// String returns Redacted.
func (secret) String() string { return Redacted }

// GoString returns Redacted, for %#v.
func (secret) GoString() string { return Redacted }

// Format writes Redacted for every verb (%v, %s, %q, %x, %d, %#v, …). fmt would otherwise
// print the raw text for verbs that do not call String, such as %d on a string type.
func (secret) Format(f fmt.State, _ rune) { io.WriteString(f, Redacted) }

// LogValue makes slog log Redacted.
func (secret) LogValue() slog.Value { return slog.StringValue(Redacted) }

// MarshalJSON writes "REDACTED": a secret is never put in a response by accident.
// Code that must send one (the session token after login) calls Reveal explicitly.
func (secret) MarshalJSON() ([]byte, error) { return []byte(`"` + Redacted + `"`), nil }

// PIN is a chair's typed credential: PINDigits to MaxPINDigits ASCII digits, the last a Damm
// check digit. It is obtained from GeneratePIN(Of) or ParsePIN(Of); it prints, logs and
// marshals as Redacted.
type PIN struct{ secret }

// Reveal returns the digits, for the credential sheet and for hashing.
func (p PIN) Reveal() string { return p.reveal() }

// Grouped returns the PIN as printed on the card: in as few groups of at most five digits as
// it takes, as even as can be and the longer first, joined by '-': a state's 12 digits as
// 1234-5678-9012 (as always), 13 as 12345-6789-0123, 14 as 12345-67890-1230. ParsePIN(Of)
// accepts it back.
func (p PIN) Grouped() string {
	s := p.reveal()
	n := len(s)
	groups := (n + maxPINGroup - 1) / maxPINGroup
	if groups == 0 {
		return s
	}
	out := make([]byte, 0, n+groups)
	for g := range groups {
		size := n / groups
		if g < n%groups {
			size++
		}
		if g > 0 {
			out = append(out, '-')
		}
		out, s = append(out, s[:size]...), s[size:]
	}
	return string(out)
}

// Token is the long credential carried by the QR code on the precinct packet: TokenBytes
// random bytes in unpadded base32. It prints, logs and marshals as Redacted.
type Token struct{ secret }

// Reveal returns the base32 text, for the login URL.
func (t Token) Reveal() string { return t.reveal() }

// SessionToken is the bearer token handed to a client at login. Only its SHA-256 is stored.
// It prints, logs and marshals as Redacted.
type SessionToken struct{ secret }

// Reveal returns the token text, to put in the login response.
func (t SessionToken) Reveal() string { return t.reveal() }

// Password is a staff member's password. It prints, logs and marshals as Redacted.
type Password struct{ secret }

// NewPassword wraps a password typed by a person (at login or when an account is made).
func NewPassword(s string) Password { return Password{newSecret(s)} }

// Reveal returns the password text, to show once to the person it is issued to.
func (p Password) Reveal() string { return p.reveal() }

// TOTPSecret is a staff account's TOTP key (RFC 6238), in base32 as authenticator apps take
// it. It prints, logs and marshals as Redacted.
type TOTPSecret struct{ secret }

// NewTOTPSecret wraps a stored TOTP secret.
func NewTOTPSecret(s string) TOTPSecret {
	if s == "" {
		return TOTPSecret{}
	}
	return TOTPSecret{newSecret(s)}
}

// Reveal returns the base32 text: for the store, and once in the otpauth:// URI given to the
// person the account is made for.
func (t TOTPSecret) Reveal() string { return t.reveal() }
