package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"caucus/internal/auth"
)

func TestThousands(t *testing.T) {
	for n, want := range map[int]string{0: "0", 7: "7", 999: "999", 1000: "1,000", 1765: "1,765", 1234567: "1,234,567"} {
		if got := thousands(n); got != want {
			t.Errorf("thousands(%d) = %q, want %q", n, got, want)
		}
	}
}

// TestHashProgress: the hashing says what it does and ends with every PIN counted, and every
// secret has its credential, stored in order.
func TestHashProgress(t *testing.T) {
	ids := []string{"a", "b", "c"}
	secrets, err := auth.GeneratePrecinctSecrets(ids)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	var creds []auth.PrecinctCredential
	err = hashWithProgress(context.Background(), secrets, &out, func(c []auth.PrecinctCredential) error {
		creds = append(creds, c...)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(creds) != 3 || creds[0].PrecinctID != "a" || creds[2].PrecinctID != "c" {
		t.Errorf("credentials %v", creds)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if !strings.HasPrefix(lines[0], "hashing 3 precinct credentials") || !strings.HasPrefix(strings.TrimSpace(lines[len(lines)-1]), "hashed 3 of 3 PINs") {
		t.Errorf("progress:\n%s", out.String())
	}
}
