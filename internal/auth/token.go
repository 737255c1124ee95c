package auth

import (
	"crypto/rand"
	"encoding/base32"
	"fmt"
	"net/url"
	"strings"
)

// TokenBytes is the size of a QR token: 160 bits, so guessing one is out of the question
// and its base32 text (32 characters) has no unused bits, so each token has one spelling.
const TokenBytes = 20

var tokenEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// tokenLen is the length of a token's text.
var tokenLen = tokenEncoding.EncodedLen(TokenBytes)

// GenerateToken returns a new random QR token from crypto/rand.
func GenerateToken() Token {
	b := make([]byte, TokenBytes)
	rand.Read(b) // never returns an error; it crashes the program if the kernel has no randomness
	return Token{newSecret(tokenEncoding.EncodeToString(b))}
}

// ParseToken checks a QR token as it arrives from the login link. It trims surrounding
// spaces and accepts lower case (base32 is case-insensitive); anything else that is not
// exactly TokenBytes of base32 is ErrBadLink, which never counts as a guess.
func ParseToken(s string) (Token, error) {
	s = strings.ToUpper(strings.TrimSpace(s))
	if len(s) != tokenLen {
		return Token{}, ErrBadLink
	}
	b, err := tokenEncoding.DecodeString(s)
	if err != nil || len(b) != TokenBytes {
		return Token{}, ErrBadLink
	}
	return Token{newSecret(s)}, nil
}

// LoginURL returns the URL put in a precinct's QR code: base (the chair app's address, e.g.
// "https://caucus.example.org/") with the fragment "p=PRECINCT&t=TOKEN". The secret is in the
// fragment, which browsers never send to a server nor put in a Referer header; the app reads
// it and posts it to the login endpoint.
func LoginURL(base, precinctID string, t Token) (string, error) {
	u, err := url.Parse(base)
	if err != nil {
		return "", fmt.Errorf("login URL base: %w", err)
	}
	if (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return "", fmt.Errorf("login URL base %q: need an absolute http or https URL", base)
	}
	if u.Fragment != "" || strings.Contains(base, "#") {
		return "", fmt.Errorf("login URL base %q: must not have a fragment", base)
	}
	if t.IsZero() {
		return "", fmt.Errorf("login URL for precinct %q: no token", precinctID)
	}
	return base + "#" + url.Values{"p": {precinctID}, "t": {t.Reveal()}}.Encode(), nil
}
