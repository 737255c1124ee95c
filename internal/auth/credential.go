package auth

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"time"
)

// PrecinctSecret is what is printed on one precinct's packet. It exists only while the
// credential sheets are written; the server keeps the hashes (PrecinctCredential).
type PrecinctSecret struct {
	PrecinctID string
	PIN        PIN
	Token      Token
}

// PrecinctCredential is what the server stores for one precinct: hashes only.
type PrecinctCredential struct {
	PrecinctID string
	PINHash    Hash
	TokenHash  Hash
}

// StaffAccount is what the server stores for one staff member.
type StaffAccount struct {
	Username     string
	Role         Role // never RoleChair
	PasswordHash Hash
	TOTPSecret   TOTPSecret // the second factor of admin and certifier accounts; zero for others
	Disabled     bool       // set only in Store.StaffAccounts' list: StaffAccount never returns one
	Created      time.Time  // the store's clock when the account was made
}

// GeneratePrecinctSecrets returns a fresh PIN and QR token for each precinct ID, the PINs of
// the length PINDigitsFor the number of precincts. It refuses more than MaxPrecincts (the
// guessing bound would no longer hold), empty and duplicate IDs.
func GeneratePrecinctSecrets(precinctIDs []string) ([]PrecinctSecret, error) {
	digits, err := PINDigitsFor(len(precinctIDs))
	if err != nil {
		return nil, fmt.Errorf("generate secrets: %w", err)
	}
	seen := make(map[string]bool, len(precinctIDs))
	out := make([]PrecinctSecret, 0, len(precinctIDs))
	for _, id := range precinctIDs {
		if id == "" || seen[id] {
			return nil, fmt.Errorf("generate secrets: empty or duplicate precinct ID %q", id)
		}
		seen[id] = true
		pin, err := GeneratePINOf(digits)
		if err != nil {
			return nil, fmt.Errorf("generate secrets: %w", err)
		}
		out = append(out, PrecinctSecret{PrecinctID: id, PIN: pin, Token: GenerateToken()})
	}
	return out, nil
}

// HashPrecinctSecrets hashes each secret's PIN with pinParams and token with TokenParams,
// on all CPUs. At DefaultParams this costs about 23 ms of CPU per precinct: 40 s of CPU for
// Iowa's 1,765 precincts, 20 s on two cores.
func HashPrecinctSecrets(ctx context.Context, secrets []PrecinctSecret, pinParams Params) ([]PrecinctCredential, error) {
	out := make([]PrecinctCredential, len(secrets))
	errs := make([]error, len(secrets))
	next := make(chan int)
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for i := range next {
				errs[i] = hashOne(secrets[i], pinParams, &out[i])
			}
		})
	}
	var err error
feed:
	for i := range secrets {
		select {
		case next <- i:
		case <-ctx.Done():
			err = ctx.Err()
			break feed
		}
	}
	close(next)
	wg.Wait()
	if err != nil {
		return nil, fmt.Errorf("hash precinct secrets: %w", err)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("hash precinct secrets: %w", err)
	}
	return out, nil
}

func hashOne(s PrecinctSecret, pinParams Params, out *PrecinctCredential) error {
	if s.PIN.IsZero() || s.Token.IsZero() {
		return fmt.Errorf("precinct %q: missing PIN or token", s.PrecinctID)
	}
	ph, err := HashSecret(pinParams, s.PIN.Reveal())
	if err != nil {
		return err
	}
	th, err := HashSecret(TokenParams(), s.Token.Reveal())
	if err != nil {
		return err
	}
	*out = PrecinctCredential{PrecinctID: s.PrecinctID, PINHash: ph, TokenHash: th}
	return nil
}
