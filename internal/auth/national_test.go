package auth_test

import (
	"errors"
	"fmt"
	"log/slog"
	"testing"

	"caucus/internal/auth"
)

// TestNationalPINs: an election past a state's size gets longer PINs, and a server told its
// election's length takes them, still takes a state's 12 digits (a PIN reissued without the
// election), calls any other length a typo, and reissues PINs at its length.
func TestNationalPINs(t *testing.T) {
	ids := make([]string, auth.StatePrecincts+1)
	for i := range ids {
		ids[i] = fmt.Sprintf("p%d", i)
	}
	secrets, err := auth.GeneratePrecinctSecrets(ids)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(secrets[0].PIN.Reveal()); n != 13 {
		t.Fatalf("%d precincts got %d-digit PINs, want 13", len(ids), n)
	}
	if _, err := auth.GeneratePrecinctSecrets(make([]string, auth.MaxPrecincts+1)); err == nil {
		t.Fatalf("secrets for %d precincts, more than the bound covers", auth.MaxPrecincts+1)
	}
	if _, err := auth.New(auth.Config{Store: newFixture(t, 0, false).st, Now: night.UTC, Log: slog.New(slog.DiscardHandler),
		PINDigits: auth.MaxPINDigits + 1}); err == nil {
		t.Fatal("an Authenticator for PINs longer than any issued")
	}

	f := newFixture(t, 2, false) // p0, p1 with a state's 12-digit PINs
	a, err := auth.New(auth.Config{Store: f.st, Now: f.clock.Now, Log: slog.New(slog.DiscardHandler), PINDigits: 14})
	if err != nil {
		t.Fatal(err)
	}
	long, err := auth.GeneratePINOf(14)
	if err != nil {
		t.Fatal(err)
	}
	h, err := auth.HashSecret(auth.TokenParams(), long.Reveal())
	if err != nil {
		t.Fatal(err)
	}
	tokenHash, err := auth.HashSecret(auth.TokenParams(), f.secrets[0].Token.Reveal())
	if err != nil {
		t.Fatal(err)
	}
	if err := f.st.PutPrecinctCredentials(ctx, "system", []auth.PrecinctCredential{{PrecinctID: "p0", PINHash: h, TokenHash: tokenHash}}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := a.LoginPIN(ctx, "p0", long.Grouped(), chairA); err != nil {
		t.Errorf("a 14-digit PIN: %v", err)
	}
	if _, _, err := f.a.LoginPIN(ctx, "p0", long.Grouped(), chairA); !errors.Is(err, auth.ErrTypo) {
		t.Errorf("a 14-digit PIN at a state's server: %v, want a typo", err)
	}
	if _, _, err := a.LoginPIN(ctx, "p1", f.secrets[1].PIN.Grouped(), chairA); err != nil {
		t.Errorf("a 12-digit PIN at a national server: %v", err)
	}
	if _, _, err := a.LoginPIN(ctx, "p0", long.Reveal()+"0", chairA); !errors.Is(err, auth.ErrTypo) {
		t.Errorf("a 15-digit PIN: %v, want a typo", err)
	}
	pin, _, err := a.NewPIN(ctx, "ann", "p1")
	if err != nil {
		t.Fatal(err)
	}
	if n := len(pin.Reveal()); n != 14 {
		t.Errorf("NewPIN at a 14-digit server gave %d digits", n)
	}
	if _, _, err := a.LoginPIN(ctx, "p1", pin.Grouped(), chairA); err != nil {
		t.Errorf("the reissued 14-digit PIN: %v", err)
	}
}
