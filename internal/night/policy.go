package night

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"caucus/internal/results"
	"caucus/internal/store"
	"caucus/internal/tally"
)

// policyValue is the store's named value that holds the publication policy (results.Policy,
// as JSON). No value: the default policy.
const policyValue = "publication_policy"

// ErrPolicyLocked means SetPolicy refused: the log already holds entries, and results
// published under one policy are not recomputed under another (whoever read them, and caucus
// verify, would find numbers that changed with no entry to say why).
var ErrPolicyLocked = tally.ErrPolicyLocked

// ErrInvalidPolicy means SetPolicy was given a policy that is not one of results.Policy's.
var ErrInvalidPolicy = errors.New("invalid publication policy")

// Policy is the publication policy the night's results follow.
func (n *Night) Policy() results.Policy { return n.tally.Policy() }

// SetPolicy sets the publication policy, before the night: it is stored durably (so that a
// restart, and every process sharing the database, publishes under it) and the results name it
// at once. Once the log holds an entry it returns ErrPolicyLocked, unless p is the policy in
// force; ErrInvalidPolicy for a policy that is not one.
func (n *Night) SetPolicy(ctx context.Context, p results.Policy) error {
	if !p.Valid() {
		return fmt.Errorf("%w: %q, want %q or %q", ErrInvalidPolicy, p.UnderReview, results.PolicyMarked, results.PolicyWithheld)
	}
	n.mu.Lock() // no entry is folded in meanwhile
	defer n.mu.Unlock()
	old, stored, err := n.storedPolicy(ctx)
	if err != nil {
		return err
	}
	if p == old && p == n.tally.Policy() {
		return nil
	}
	size, err := n.store.Size(ctx)
	if err != nil {
		return fmt.Errorf("read log size: %w", err)
	}
	if size > 0 || n.tally.Snapshot().LogSize() > 0 {
		return fmt.Errorf("set publication policy %s: %w (the log holds %d entries)", p.UnderReview, ErrPolicyLocked, size)
	}
	b, err := json.Marshal(p)
	if err != nil {
		return fmt.Errorf("encode publication policy: %w", err)
	}
	if stored == nil {
		err = n.store.CreateValue(ctx, policyValue, b)
	} else {
		err = n.store.SwapValue(ctx, policyValue, stored, b)
	}
	if err != nil {
		return fmt.Errorf("store publication policy: %w", err)
	}
	if err := n.tally.SetPolicy(p); err != nil {
		return fmt.Errorf("set publication policy: %w", err)
	}
	n.events.publish(n.tally.Snapshot())
	return nil
}

// storedPolicy reads the stored policy and its bytes (nil when none is stored: the default).
func (n *Night) storedPolicy(ctx context.Context) (results.Policy, []byte, error) {
	b, err := n.store.Value(ctx, policyValue)
	if errors.Is(err, store.ErrNotFound) {
		return results.DefaultPolicy, nil, nil
	} else if err != nil {
		return results.Policy{}, nil, fmt.Errorf("read publication policy: %w", err)
	}
	var p results.Policy
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil || !p.Valid() {
		return results.Policy{}, nil, fmt.Errorf("the stored publication policy %q is not one", b)
	}
	return p, b, nil
}

// adoptStoredPolicy makes the tally, which has no entry yet, publish under the stored policy.
// It runs at start-up and again when the first entries are folded in, so that a process that
// started before an admin set the policy (another server sharing the database) publishes
// under the one set.
func (n *Night) adoptStoredPolicy(ctx context.Context) error {
	p, _, err := n.storedPolicy(ctx)
	if err != nil {
		return err
	}
	if err := n.tally.SetPolicy(p); err != nil {
		return fmt.Errorf("adopt publication policy: %w", err)
	}
	return nil
}
