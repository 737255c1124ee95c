package auth

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestHashVerify(t *testing.T) {
	for _, p := range []Params{DefaultParams(), TokenParams()} {
		h, err := HashSecret(p, "123456789018")
		if err != nil {
			t.Fatal(err)
		}
		if err := h.verify("123456789018"); err != nil {
			t.Fatalf("right secret: %v", err)
		}
		if err := h.verify("123456789026"); !errors.Is(err, errMismatch) {
			t.Fatalf("wrong secret: err = %v, want errMismatch", err)
		}
		got, err := h.Params()
		if err != nil || got != p {
			t.Fatalf("Params = %+v, %v; want %+v", got, err, p)
		}
		again, err := ParseHash(h.Encoded())
		if err != nil || again.verify("123456789018") != nil {
			t.Fatalf("hash does not survive Encoded/ParseHash: %v", err)
		}
	}
	a, _ := HashSecret(TokenParams(), "same")
	b, _ := HashSecret(TokenParams(), "same")
	if a.Encoded() == b.Encoded() {
		t.Fatal("two hashes of one secret are equal: the salt is not random")
	}
}

func TestParseHashRefuses(t *testing.T) {
	good, _ := HashSecret(TokenParams(), "x")
	parts := strings.Split(good.Encoded(), "$")
	with := func(i int, v string) string {
		p := append([]string(nil), parts...)
		p[i] = v
		return strings.Join(p, "$")
	}
	for name, in := range map[string]string{
		"empty":          "",
		"bcrypt":         "$2b$10$abcdefghijklmnopqrstuu5a1Jm3NqBBsX3sN3CNc5VAgCDVAKXwW",
		"argon2i":        with(1, "argon2i"),
		"version 16":     with(2, "v=16"),
		"huge memory":    with(3, "m=4194304,t=1,p=1"),
		"zero time":      with(3, "m=1024,t=0,p=1"),
		"many passes":    with(3, "m=1024,t=1000,p=1"),
		"zero threads":   with(3, "m=1024,t=1,p=0"),
		"300 threads":    with(3, "m=1024,t=1,p=300"),
		"short salt":     with(4, "AAAA"),
		"padded salt":    with(4, parts[4]+"=="),
		"short key":      with(5, "AAAA"),
		"not base64 key": with(5, "!!!!"),
		"extra field":    good.Encoded() + "$x",
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := ParseHash(in); err == nil {
				t.Fatalf("ParseHash accepted %q", in)
			}
		})
	}
}

// BenchmarkVerify measures one login's hash: DefaultParams for a PIN or password (the figure
// the package doc quotes), TokenParams for a QR token.
func BenchmarkVerify(b *testing.B) {
	for _, bc := range []struct {
		name string
		p    Params
	}{{"PIN", DefaultParams()}, {"Token", TokenParams()}} {
		b.Run(bc.name, func(b *testing.B) {
			h, err := HashSecret(bc.p, "123456789018")
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if err := h.verify("123456789018"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkHashPrecinctSecrets measures issuing credentials: one op is one precinct's PIN at
// DefaultParams and token at TokenParams, hashed on all CPUs as the credentials command does.
// Its ns/op times the precincts is the hashing time of an election (175,000 for a nation).
func BenchmarkHashPrecinctSecrets(b *testing.B) {
	ids := make([]string, b.N)
	for i := range ids {
		ids[i] = fmt.Sprintf("p%d", i)
	}
	secrets, err := GeneratePrecinctSecrets(ids)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	if _, err := HashPrecinctSecrets(b.Context(), secrets, DefaultParams()); err != nil {
		b.Fatal(err)
	}
}
