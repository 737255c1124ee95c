package auth

import (
	"context"
	"fmt"
)

// ReopenPIN reopens precinctID's live PIN login: its budget and back-off start again, so the
// chair may type the PIN again at once. Headquarters does it after calling the chair back on
// the number on file; each reopening adds at most PrecinctBudget guesses to the bound (the
// package doc). It returns how many wrong PINs the budget had counted. ErrNotFound (wrapped)
// for a precinct without a credential.
func (a *Authenticator) ReopenPIN(ctx context.Context, precinctID string) (int, error) {
	if _, known, err := a.credential(ctx, precinctID); err != nil {
		return 0, fmt.Errorf("reopen PIN login: %w", err)
	} else if !known {
		return 0, fmt.Errorf("reopen PIN login of %q: %w", precinctID, ErrNotFound)
	}
	return a.resetPINCounters(ctx, precinctID)
}

func (a *Authenticator) resetPINCounters(ctx context.Context, precinctID string) (int, error) {
	budgetKey, failKey, _ := pinKeys(precinctID, false)
	var before int
	if _, err := a.store.UpdateThrottles(ctx, []string{budgetKey, failKey}, func(cur []ThrottleCounter) ([]ThrottleCounter, error) {
		before = cur[0].Count
		return []ThrottleCounter{{}, {}}, nil
	}); err != nil {
		return 0, fmt.Errorf("reopen PIN login of %q: %w", precinctID, err)
	}
	return before, nil
}

// NewPIN issues precinctID a new PIN (the old one stops working; the QR token is kept), stored
// as its argon2id hash with actor named in the credential_issued audit row, and reopens its PIN
// login (ReopenPIN). It returns the PIN, to be read to the chair once, and how many wrong PINs
// had been counted. ErrNotFound (wrapped) for a precinct without a credential.
func (a *Authenticator) NewPIN(ctx context.Context, actor, precinctID string) (PIN, int, error) {
	cred, known, err := a.credential(ctx, precinctID)
	if err != nil {
		return PIN{}, 0, fmt.Errorf("new PIN: %w", err)
	} else if !known {
		return PIN{}, 0, fmt.Errorf("new PIN for %q: %w", precinctID, ErrNotFound)
	}
	pin, err := GeneratePINOf(a.pinDigits)
	if err != nil {
		return PIN{}, 0, fmt.Errorf("new PIN: %w", err)
	}
	h, err := HashSecret(DefaultParams(), pin.Reveal())
	if err != nil {
		return PIN{}, 0, fmt.Errorf("new PIN: %w", err)
	}
	cred.PINHash = h
	if err := a.store.PutPrecinctCredentials(ctx, actor, []PrecinctCredential{cred}); err != nil {
		return PIN{}, 0, fmt.Errorf("new PIN for %q: %w", precinctID, err)
	}
	before, err := a.resetPINCounters(ctx, precinctID)
	if err != nil {
		return PIN{}, 0, err
	}
	return pin, before, nil
}
