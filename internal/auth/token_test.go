package auth

import (
	"encoding/base32"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
)

// FuzzParseToken checks that ParseToken accepts exactly the texts that are TokenBytes of
// unpadded base32 in either case (spaces around ignored), that what it accepts is canonical
// (upper case, re-encodes to itself), and that anything else is ErrBadLink.
func FuzzParseToken(f *testing.F) {
	f.Add(GenerateToken().Reveal())
	f.Add(strings.ToLower(GenerateToken().Reveal()))
	f.Add(" " + GenerateToken().Reveal() + "\n")
	f.Add(strings.Repeat("A", 31) + "=")
	f.Add("")
	f.Fuzz(func(t *testing.T, in string) {
		tok, err := ParseToken(in)
		// The length check matters: Go's unpadded decoder accepts 33 characters as 20 bytes
		// and silently drops the extra bits (the committed seed 5e8698e90a3097a6).
		trimmed := strings.ToUpper(strings.TrimSpace(in))
		b, refErr := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(trimmed)
		want := refErr == nil && len(b) == TokenBytes && len(trimmed) == 32
		if (err == nil) != want {
			t.Fatalf("ParseToken(%q) err = %v; reference says valid = %v", in, err, want)
		}
		if err != nil {
			if !errors.Is(err, ErrBadLink) {
				t.Fatalf("error %v is not ErrBadLink", err)
			}
			return
		}
		s := tok.Reveal()
		if s != strings.ToUpper(s) || tokenEncoding.EncodeToString(b) != s {
			t.Fatalf("ParseToken(%q) = %q is not canonical", in, s)
		}
		again, err := ParseToken(strings.ToLower(s))
		if err != nil || again.Reveal() != s {
			t.Fatalf("lower-case form does not parse back: %v", err)
		}
	})
}

var encodingForTest = base64.RawURLEncoding

// FuzzParseSessionToken checks that a bearer token is accepted only in its one canonical
// spelling, so a token's SessionID cannot be reached by two different strings.
func FuzzParseSessionToken(f *testing.F) {
	tok, _ := newSessionToken()
	f.Add(tok.Reveal())
	f.Add(tok.Reveal()[:42] + "B")
	f.Add("")
	f.Fuzz(func(t *testing.T, in string) {
		tok, err := ParseSessionToken(in)
		if err != nil {
			if !errors.Is(err, ErrUnauthenticated) {
				t.Fatalf("error %v is not ErrUnauthenticated", err)
			}
			return
		}
		if tok.Reveal() != in || len(in) != sessionTokenLen {
			t.Fatalf("ParseSessionToken(%q) = %q", in, tok.Reveal())
		}
		b, err := encodingForTest.DecodeString(in)
		if err != nil || encodingForTest.EncodeToString(b) != in {
			t.Fatalf("accepted a non-canonical token %q", in)
		}
	})
}

func TestLoginURL(t *testing.T) {
	tok := GenerateToken()
	for _, bad := range []string{"", "caucus.example.org", "ftp://x/", "https://x/#frag", "https:///path", "https://x/#"} {
		if _, err := LoginURL(bad, "p1", tok); err == nil {
			t.Errorf("LoginURL accepted base %q", bad)
		}
	}
	u, err := LoginURL("http://127.0.0.1:8080/chair", "a b&c", tok)
	if err != nil {
		t.Fatal(err)
	}
	if want := "http://127.0.0.1:8080/chair#p=a+b%26c&t=" + tok.Reveal(); u != want {
		t.Fatalf("LoginURL = %q, want %q", u, want)
	}
}
