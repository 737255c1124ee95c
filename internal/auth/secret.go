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

// PIN is a chair's typed credential: PINDigits ASCII digits, the last a Damm check digit.
// It is obtained from GeneratePIN or ParsePIN; it prints, logs and marshals as Redacted.
type PIN struct{ secret }

// Reveal returns the PINDigits digits, for the credential sheet and for hashing.
func (p PIN) Reveal() string { return p.reveal() }

// Grouped returns the PIN in groups of four digits joined by '-', as printed on the card
// ("1234-5678-9012"). ParsePIN accepts it back.
func (p PIN) Grouped() string {
	s := p.reveal()
	out := make([]byte, 0, len(s)+len(s)/pinGroup)
	for i := 0; i < len(s); i++ {
		if i > 0 && i%pinGroup == 0 {
			out = append(out, '-')
		}
		out = append(out, s[i])
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
