package auth

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"time"
)

// How a login is checked, whatever the credential:
//  1. the cheap refusals, which write nothing and hash nothing: a name longer than MaxNameLen,
//     a PIN typo, a malformed token, a PIN outside the live window;
//  2. a place in the credential's hashing lane (or the unknown lane, for a precinct or user
//     that does not exist), or ErrBusy at once (lanes.go);
//  3. the attempt reserved in the store, in one transaction with the checks it must pass (the
//     precinct's budget and back-off, the address's count): Store.UpdateThrottles. Two
//     attempts, in one process or in several, never both see the same counts, so a burst of
//     concurrent guesses gets exactly the free attempts, then the back-off;
//  4. the hash verified;
//  5. a right credential gives its reservation back (budget and address count, and clears the
//     back-off), again in one transaction: a chair's own logins spend nothing.
//
// Every failure and refusal is counted in memory and written aggregated (failures.go): one
// row per minute, precinct, address group and reason, never one row per attempt.

// LoginPIN logs a chair in to the election with a typed PIN from the client address client.
// Errors: ErrTooLong, ErrTypo and ErrNotOpen (nothing counted), ErrBusy with RetryAfter,
// ErrThrottled with RetryAfter, ErrPINClosed, ErrBadCredentials (unknown precinct or wrong
// PIN: the same answer), or an internal error.
func (a *Authenticator) LoginPIN(ctx context.Context, precinctID, pinText string, client netip.Addr) (Session, SessionToken, error) {
	return a.loginPIN(ctx, precinctID, pinText, client, false)
}

// LoginPracticePIN is LoginPIN for the practice election: the same PINs, at any time (no live
// window), counted against PracticeBudget and a back-off of their own, so that practice never
// spends the night's budget.
func (a *Authenticator) LoginPracticePIN(ctx context.Context, precinctID, pinText string, client netip.Addr) (Session, SessionToken, error) {
	return a.loginPIN(ctx, precinctID, pinText, client, true)
}

func (a *Authenticator) loginPIN(ctx context.Context, precinctID, pinText string, client netip.Addr, practice bool) (Session, SessionToken, error) {
	now := a.now()
	known, err := a.checkPIN(ctx, precinctID, pinText, client, practice, now)
	if err != nil {
		a.recordFailure(ctx, now, precinctID, known, client, err)
		return Session{}, SessionToken{}, err
	}
	return a.startSession(ctx, Session{Role: RoleChair, PrecinctID: precinctID}, ChairSessionTTL, now, "pin")
}

// CheckPIN checks a precinct's PIN that a caller reads to a hotline operator, exactly as
// LoginPIN checks it (the live window, the precinct's budget and back-off, the address's count,
// failures recorded), but starts no session: the operator keys the caller's worksheet under
// the operator's own session. client is the operator's address. Errors are LoginPIN's.
func (a *Authenticator) CheckPIN(ctx context.Context, precinctID, pinText string, client netip.Addr) error {
	now := a.now()
	known, err := a.checkPIN(ctx, precinctID, pinText, client, false, now)
	if err != nil {
		a.recordFailure(ctx, now, precinctID, known, client, err)
	}
	return err
}

// checkPIN is steps 1–5 for a PIN; known reports whether the precinct exists.
func (a *Authenticator) checkPIN(ctx context.Context, precinctID, pinText string, client netip.Addr, practice bool, now time.Time) (known bool, err error) {
	if len(precinctID) > MaxNameLen {
		return false, ErrTooLong
	}
	pin, err := ParsePINOf(pinText, PINDigits, a.pinDigits)
	if err != nil {
		return false, err
	}
	if !practice {
		if err := a.checkWindow(now); err != nil {
			return false, err
		}
	}
	cred, known, err := a.credential(ctx, precinctID)
	if err != nil {
		return false, err
	}
	window := now.Truncate(AddressWindow)
	addr := addressKey(addressPrefix, client, window)
	if !known {
		return false, a.unknown(ctx, a.dummyPIN, pin.Reveal(), addr, AddressMaxFailures, window, now)
	}
	if err := a.pinLane.enter(); err != nil {
		return known, err
	}
	defer a.pinLane.leave()
	budgetKey, failKey, budget := pinKeys(precinctID, practice)
	keys := []string{budgetKey, failKey, addr}
	if _, err := a.store.UpdateThrottles(ctx, keys, func(cur []ThrottleCounter) ([]ThrottleCounter, error) {
		if cur[0].Count >= budget {
			return nil, ErrPINClosed
		}
		// The back-off follows wrong PINs only (since the last right one): a right PIN gives
		// its reservation back below, so a chair who logs in again and again is never made
		// to wait.
		if d := waitFor(cur[1], now, PrecinctFreeAttempts, PrecinctBaseDelay, PrecinctMaxDelay); d > 0 {
			return nil, throttled(d)
		}
		return []ThrottleCounter{inc(cur[0], now), inc(cur[1], now), inc(cur[2], now)}, nil
	}); err != nil {
		return true, decided(err)
	}
	err = a.pinLane.run(ctx, func() error { return cred.PINHash.verify(pin.Reveal()) })
	if errors.Is(err, errMismatch) {
		return true, ErrBadCredentials
	} else if err != nil {
		return true, fmt.Errorf("login precinct %q: %w", precinctID, err)
	}
	a.giveBack(ctx, keys, func(cur []ThrottleCounter) []ThrottleCounter {
		return []ThrottleCounter{dec(cur[0]), {}, dec(cur[2])}
	})
	return true, nil
}

// LoginToken logs a chair in with the QR token of the precinct's login link, at any time. A
// 160-bit token cannot be guessed, so no precinct counter applies and PIN failures never
// touch it; wrong tokens count per address (AddressMaxTokenFailures), under the same rule as
// PINs: past the limit an address is refused tokens for unknown precincts only. Errors:
// ErrTooLong, ErrBadLink (malformed, not counted), ErrBusy, ErrThrottled,
// ErrBadCredentials, or an internal error.
func (a *Authenticator) LoginToken(ctx context.Context, precinctID, tokenText string, client netip.Addr) (Session, SessionToken, error) {
	now := a.now()
	known, err := a.checkToken(ctx, precinctID, tokenText, client, now)
	if err != nil {
		a.recordFailure(ctx, now, precinctID, known, client, err)
		return Session{}, SessionToken{}, err
	}
	return a.startSession(ctx, Session{Role: RoleChair, PrecinctID: precinctID}, ChairSessionTTL, now, "token")
}

func (a *Authenticator) checkToken(ctx context.Context, precinctID, tokenText string, client netip.Addr, now time.Time) (known bool, err error) {
	if len(precinctID) > MaxNameLen {
		return false, ErrTooLong
	}
	tok, err := ParseToken(tokenText)
	if err != nil {
		return false, err
	}
	cred, known, err := a.credential(ctx, precinctID)
	if err != nil {
		return false, err
	}
	window := now.Truncate(AddressWindow)
	addr := addressKey(tokenAddressPrefix, client, window)
	if !known {
		return false, a.unknown(ctx, a.dummyToken, tok.Reveal(), addr, AddressMaxTokenFailures, window, now)
	}
	if err := a.tokenLane.enter(); err != nil {
		return known, err
	}
	defer a.tokenLane.leave()
	keys := []string{addr}
	if _, err := a.store.UpdateThrottles(ctx, keys, func(cur []ThrottleCounter) ([]ThrottleCounter, error) {
		return []ThrottleCounter{inc(cur[0], now)}, nil
	}); err != nil {
		return true, decided(err)
	}
	err = a.tokenLane.run(ctx, func() error { return cred.TokenHash.verify(tok.Reveal()) })
	if errors.Is(err, errMismatch) {
		return true, ErrBadCredentials
	} else if err != nil {
		return true, fmt.Errorf("login precinct %q: %w", precinctID, err)
	}
	a.giveBack(ctx, keys, func(cur []ThrottleCounter) []ThrottleCounter { return []ThrottleCounter{dec(cur[0])} })
	return true, nil
}

// LoginStaff logs a staff member in with a password and, for admin and certifier accounts, a
// TOTP code (otp; ignored for other roles). Every login makes a new session (a new token),
// whatever sessions the account already has. Failures back off per account (never a lock) and
// count per address, under the rule of PINs; a right password with a wrong, missing or
// replayed code is a failure like a wrong password, and the answer is the same, so that it
// tells a guesser nothing. Errors: ErrTooLong, ErrBusy, ErrThrottled, ErrBadCredentials
// (worded for staff), or an internal error.
func (a *Authenticator) LoginStaff(ctx context.Context, username string, password Password, otp string, client netip.Addr) (Session, SessionToken, error) {
	now := a.now()
	acct, err := a.checkStaff(ctx, username, password, otp, client, now)
	if err != nil {
		a.recordFailure(ctx, now, "", false, client, err)
		return Session{}, SessionToken{}, staffFailure(err)
	}
	return a.startSession(ctx, Session{Role: acct.Role, Username: username}, StaffSessionTTL, now, "password")
}

func (a *Authenticator) checkStaff(ctx context.Context, username string, password Password, otp string, client netip.Addr, now time.Time) (StaffAccount, error) {
	if len(username) > MaxNameLen {
		return StaffAccount{}, ErrTooLong
	}
	acct, err := a.store.StaffAccount(ctx, username)
	known := err == nil
	if err != nil && !errors.Is(err, ErrNotFound) {
		return StaffAccount{}, fmt.Errorf("staff login: %w", err)
	}
	window := now.Truncate(AddressWindow)
	addr := addressKey(addressPrefix, client, window)
	if !known {
		return StaffAccount{}, a.unknown(ctx, a.dummyPIN, password.Reveal(), addr, AddressMaxFailures, window, now)
	}
	if err := a.staffLane.enter(); err != nil {
		return StaffAccount{}, err
	}
	defer a.staffLane.leave()
	keys := []string{staffKey(username), addr}
	if _, err := a.store.UpdateThrottles(ctx, keys, func(cur []ThrottleCounter) ([]ThrottleCounter, error) {
		if d := waitFor(cur[0], now, StaffFreeAttempts, StaffBaseDelay, StaffMaxDelay); d > 0 {
			return nil, throttled(d)
		}
		return []ThrottleCounter{inc(cur[0], now), inc(cur[1], now)}, nil
	}); err != nil {
		return StaffAccount{}, decided(err)
	}
	err = a.staffLane.run(ctx, func() error { return acct.PasswordHash.verify(password.Reveal()) })
	if err == nil && acct.Role.NeedsOTP() {
		err = a.checkOTP(ctx, acct, otp, now)
	}
	if errors.Is(err, errMismatch) {
		return StaffAccount{}, ErrBadCredentials
	} else if err != nil {
		return StaffAccount{}, fmt.Errorf("staff login %q: %w", username, err)
	}
	a.giveBack(ctx, keys, func(cur []ThrottleCounter) []ThrottleCounter { return []ThrottleCounter{{}, dec(cur[1])} })
	return acct, nil
}

// ChangeStaffPassword sets a new password, chosen by the staff member, on the enabled account
// username, checking the current one (and, for admin and certifier, a TOTP code) as a login
// does, under the same back-off. The account's TOTP secret stays; every session of the
// account ends, this one included, so the next step is to log in with the new password.
// Errors: those of LoginStaff, and an *Error with CodeWeakPassword for a new password outside
// [MinPasswordLen, MaxPasswordLen].
func (a *Authenticator) ChangeStaffPassword(ctx context.Context, by Actor, username string, current, next Password, otp string, client netip.Addr) error {
	if err := CheckPassword(next); err != nil {
		return err
	}
	now := a.now()
	acct, err := a.checkStaff(ctx, username, current, otp, client, now)
	if err != nil {
		a.recordFailure(ctx, now, "", false, client, err)
		return staffFailure(err)
	}
	h, err := HashSecret(DefaultParams(), next.Reveal())
	if err != nil {
		return fmt.Errorf("change password: %w", err)
	}
	if _, err := a.store.SetStaffCredentials(ctx, by, username, h, acct.TOTPSecret); err != nil {
		return fmt.Errorf("change password: %w", err)
	}
	return nil
}

// unknown answers an attempt at an unknown precinct or user in the unknown lane: refused
// while the address is at its limit, else counted against the address and verified against
// dummy (so that, unloaded, it takes as long as a known one; precinct IDs are public, so the
// lanes' different loads tell an attacker nothing), and ErrBadCredentials.
func (a *Authenticator) unknown(ctx context.Context, dummy Hash, plaintext, addr string, limit int, window, now time.Time) error {
	l := a.unknownLane
	if err := l.enter(); err != nil {
		return err
	}
	defer l.leave()
	if _, err := a.store.UpdateThrottles(ctx, []string{addr}, func(cur []ThrottleCounter) ([]ThrottleCounter, error) {
		if cur[0].Count >= limit {
			return nil, throttled(window.Add(AddressWindow).Sub(now))
		}
		return []ThrottleCounter{inc(cur[0], now)}, nil
	}); err != nil {
		return decided(err)
	}
	if err := l.run(ctx, func() error { return dummy.verify(plaintext) }); err != nil && !errors.Is(err, errMismatch) {
		return fmt.Errorf("login: %w", err)
	}
	return ErrBadCredentials
}

// giveBack returns a right credential's reservation. It does not fail the login: the
// credential was right, and a reservation not given back only costs one attempt of budget.
func (a *Authenticator) giveBack(ctx context.Context, keys []string, f func(cur []ThrottleCounter) []ThrottleCounter) {
	if _, err := a.store.UpdateThrottles(context.WithoutCancel(ctx), keys, func(cur []ThrottleCounter) ([]ThrottleCounter, error) {
		return f(cur), nil
	}); err != nil {
		a.log.ErrorContext(ctx, "login reservation not given back", "err", err)
	}
}

// checkWindow refuses a live PIN outside [LiveOpens, LiveCloses), saying when it opens.
func (a *Authenticator) checkWindow(now time.Time) error {
	if a.opens.IsZero() {
		return nil
	}
	const layout = "Mon 2 Jan 2006 15:04 MST"
	switch {
	case now.Before(a.opens):
		return &Error{Code: CodeNotOpen, Message: fmt.Sprintf("Reporting opens at %s. Until then, log in to the practice, or scan the QR code on your card.",
			a.opens.Format(layout))}
	case !now.Before(a.closes):
		return &Error{Code: CodeNotOpen, Message: fmt.Sprintf("PIN login closed at %s. Scan the QR code on your card, or call the hotline.",
			a.closes.Format(layout))}
	}
	return nil
}

// ExpireAddressCounters drops the per-address counters of past windows (their keys name the
// window, so they are never read again). Call it every AddressWindow or so, to keep their
// rows bounded under a flood from many addresses.
func (a *Authenticator) ExpireAddressCounters(ctx context.Context) (int, error) {
	before := a.now().Truncate(AddressWindow)
	total := 0
	for _, prefix := range []string{addressPrefix, tokenAddressPrefix} {
		n, err := a.store.ExpireThrottles(ctx, prefix, before)
		if err != nil {
			return total, fmt.Errorf("expire address counters: %w", err)
		}
		total += n
	}
	return total, nil
}

// recordFailure counts a refused or failed login for the audit trail: the precinct only if it
// exists (a made-up ID is never stored), the address group, the error's code. Internal
// errors are the server's to log.
func (a *Authenticator) recordFailure(ctx context.Context, now time.Time, precinctID string, known bool, client netip.Addr, err error) {
	var ae *Error
	if !errors.As(err, &ae) {
		return
	}
	if !known {
		precinctID = ""
	}
	a.failures.add(ctx, now, precinctID, client, ae.Code)
}

// decided returns the auth Error a decide function refused with, unwrapped from the store's
// wrapping; any other error is internal.
func decided(err error) error {
	var ae *Error
	if errors.As(err, &ae) {
		return ae
	}
	return fmt.Errorf("login: %w", err)
}

func inc(c ThrottleCounter, now time.Time) ThrottleCounter {
	return ThrottleCounter{Count: c.Count + 1, Last: now}
}

// dec takes one off c, keeping its time; at zero the counter goes.
func dec(c ThrottleCounter) ThrottleCounter {
	if c.Count <= 1 {
		return ThrottleCounter{}
	}
	return ThrottleCounter{Count: c.Count - 1, Last: c.Last}
}

// credential reads a precinct's credential; known is false, with no error, when the election
// has no such precinct (the caller then spends a dummy hash, so that both cost the same).
func (a *Authenticator) credential(ctx context.Context, precinctID string) (cred PrecinctCredential, known bool, err error) {
	cred, err = a.store.PrecinctCredential(ctx, precinctID)
	if errors.Is(err, ErrNotFound) {
		return cred, false, nil
	} else if err != nil {
		return cred, false, fmt.Errorf("login: %w", err)
	}
	return cred, true, nil
}
