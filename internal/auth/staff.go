package auth

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base32"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

// Staff passwords (NIST SP 800-63B §3.1.1.2; ASVS 6.2): at least MinPasswordLen characters,
// any characters, no composition rules; MaxPasswordLen bounds what is hashed.
const (
	MinPasswordLen = 12
	MaxPasswordLen = 256

	// generatedPasswordChars random characters of passwordAlphabet (32 symbols, 5 bits each:
	// 100 bits) make a generated password, written in groups of four for reading aloud.
	generatedPasswordChars = 20
	passwordAlphabet       = "abcdefghijkmnpqrstuvwxyz23456789" // no l, o, 0, 1: read aloud without doubt

	// MaxUsernameLen bounds a staff username; usernames are lower-case letters, digits and
	// . _ - (ValidUsername), so that they are safe in a URL path, a log line and a CSV cell.
	MaxUsernameLen = 64
)

// TOTP (RFC 6238) as every authenticator app takes it: SHA-1, 6 digits, 30-second steps; a
// code of the step before or after the server's is accepted (a phone's clock a little off,
// a code typed as it turns), each step only once per account.
const (
	totpPeriod = 30
	totpDigits = otp.DigitsSix
	totpSkew   = 1
	// TOTPIssuer names caucus in the authenticator app.
	TOTPIssuer = "caucus"
)

var totpOpts = totp.ValidateOpts{Period: totpPeriod, Digits: totpDigits, Algorithm: otp.AlgorithmSHA1}

// CodeWeakPassword: a password shorter than MinPasswordLen (or longer than MaxPasswordLen).
const CodeWeakPassword = "weak_password"

var totpEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// ValidUsername checks a new account's username.
func ValidUsername(u string) error {
	if u == "" || len(u) > MaxUsernameLen {
		return &Error{Code: CodeInvalidArgument, Message: fmt.Sprintf("A username has 1 to %d characters.", MaxUsernameLen)}
	}
	for i, c := range u {
		ok := c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || (i > 0 && (c == '.' || c == '_' || c == '-'))
		if !ok {
			return &Error{Code: CodeInvalidArgument, Message: "A username has lower-case letters, digits, '.', '_' and '-', and starts with a letter or digit."}
		}
	}
	return nil
}

// CheckPassword checks a password chosen for an account: MinPasswordLen characters at least.
func CheckPassword(p Password) error {
	n := utf8.RuneCountInString(p.Reveal())
	if n < MinPasswordLen || len(p.Reveal()) > MaxPasswordLen {
		return &Error{Code: CodeWeakPassword, Message: fmt.Sprintf("A password has %d to %d characters.", MinPasswordLen, MaxPasswordLen)}
	}
	return nil
}

// GeneratePassword returns a new one-time password from crypto/rand: 20 random characters
// (100 bits) in groups of four, e.g. "k3mf-9qzt-…".
func GeneratePassword() Password {
	b := make([]byte, generatedPasswordChars)
	rand.Read(b)
	var sb strings.Builder
	for i, x := range b {
		if i > 0 && i%4 == 0 {
			sb.WriteByte('-')
		}
		sb.WriteByte(passwordAlphabet[int(x)%len(passwordAlphabet)])
	}
	return NewPassword(sb.String())
}

// NewStaff is what creating an account or resetting its credentials gives the admin, once:
// the password and, for roles with a second factor, the TOTP secret and its otpauth:// URI.
type NewStaff struct {
	Username string
	Role     Role
	Password Password
	TOTP     TOTPSecret // zero for roles without a second factor
}

// OTPURI is the otpauth:// URI of the account's TOTP secret, for an authenticator app (as a
// QR code or typed); "" without one.
func (n NewStaff) OTPURI() string {
	if n.TOTP.IsZero() {
		return ""
	}
	key, err := totp.Generate(totp.GenerateOpts{Issuer: TOTPIssuer, AccountName: n.Username, Period: totpPeriod,
		Digits: totpDigits, Algorithm: otp.AlgorithmSHA1, Secret: decodeTOTP(n.TOTP)})
	if err != nil {
		return ""
	}
	return key.URL()
}

// GenerateTOTPSecret returns a new TOTP secret from crypto/rand: 160 bits (RFC 4226 §4), in
// base32 without padding (32 characters), as authenticator apps take it typed.
func GenerateTOTPSecret() TOTPSecret {
	b := make([]byte, 20)
	rand.Read(b)
	return NewTOTPSecret(totpEncoding.EncodeToString(b))
}

// decodeTOTP returns the raw bytes of a base32 secret (totp.Generate re-encodes them).
func decodeTOTP(s TOTPSecret) []byte {
	b, _ := totpEncoding.DecodeString(s.Reveal())
	return b
}

// newCredentials makes a fresh password (hashed) and, for role, a TOTP secret.
func newCredentials(username string, role Role) (NewStaff, Hash, error) {
	n := NewStaff{Username: username, Role: role, Password: GeneratePassword()}
	if role.NeedsOTP() {
		n.TOTP = GenerateTOTPSecret()
	}
	h, err := HashSecret(DefaultParams(), n.Password.Reveal())
	if err != nil {
		return NewStaff{}, Hash{}, err
	}
	return n, h, nil
}

// CreateStaff makes an account for username with role, with a generated password and, for
// admin and certifier, a TOTP secret, and returns them (to be shown once). Errors: an *Error
// with CodeInvalidArgument (bad username or role), ErrAccountExists (wrapped), or an internal
// error.
func (a *Authenticator) CreateStaff(ctx context.Context, by Actor, username string, role Role) (NewStaff, error) {
	if err := ValidUsername(username); err != nil {
		return NewStaff{}, err
	}
	if !role.Staff() {
		return NewStaff{}, &Error{Code: CodeInvalidArgument, Message: fmt.Sprintf("Unknown role %q: one of admin, reviewer, operator, certifier, observer.", role)}
	}
	n, h, err := newCredentials(username, role)
	if err != nil {
		return NewStaff{}, fmt.Errorf("create staff account: %w", err)
	}
	if err := a.store.CreateStaff(ctx, by, StaffAccount{Username: username, Role: role, PasswordHash: h, TOTPSecret: n.TOTP}); err != nil {
		return NewStaff{}, fmt.Errorf("create staff account: %w", err)
	}
	return n, nil
}

// ResetStaff gives the enabled account username a new generated password and, for admin and
// certifier, a new TOTP secret (a lost phone), and ends its sessions. ErrNotFound (wrapped)
// when there is no such enabled account.
func (a *Authenticator) ResetStaff(ctx context.Context, by Actor, username string) (NewStaff, error) {
	acct, err := a.store.StaffAccount(ctx, username)
	if err != nil {
		return NewStaff{}, fmt.Errorf("reset staff account: %w", err)
	}
	n, h, err := newCredentials(username, acct.Role)
	if err != nil {
		return NewStaff{}, fmt.Errorf("reset staff account: %w", err)
	}
	if _, err := a.store.SetStaffCredentials(ctx, by, username, h, n.TOTP); err != nil {
		return NewStaff{}, fmt.Errorf("reset staff account: %w", err)
	}
	return n, nil
}

// StaffAccounts lists every account (no hashes, no secrets).
func (a *Authenticator) StaffAccounts(ctx context.Context) ([]StaffAccount, error) {
	l, err := a.store.StaffAccounts(ctx)
	if err != nil {
		return nil, fmt.Errorf("list staff accounts: %w", err)
	}
	return l, nil
}

// DisableStaff disables the account username and ends its sessions at once, in this process
// and every other sharing the store: staff sessions are never cached (Authenticate), so the
// next request of any of them is refused. It returns how many sessions ended. ErrNotFound
// (wrapped) when there is no such account.
func (a *Authenticator) DisableStaff(ctx context.Context, by Actor, username string) (int, error) {
	n, err := a.store.DisableStaff(ctx, by, username)
	if err != nil {
		return 0, fmt.Errorf("disable staff account: %w", err)
	}
	return n, nil
}

// checkOTP checks a TOTP code of acct at now and records its step as used. errMismatch for a
// wrong code, a malformed one, a replayed one, or an account that has no secret.
func (a *Authenticator) checkOTP(ctx context.Context, acct StaffAccount, code string, now time.Time) error {
	code = strings.ReplaceAll(strings.TrimSpace(code), " ", "")
	if acct.TOTPSecret.IsZero() || len(code) != totpDigits.Length() {
		return errMismatch
	}
	cur := now.Unix() / totpPeriod
	for step := cur - totpSkew; step <= cur+totpSkew; step++ {
		want, err := totp.GenerateCodeCustom(acct.TOTPSecret.Reveal(), time.Unix(step*totpPeriod, 0), totpOpts)
		if err != nil {
			return fmt.Errorf("TOTP of %q: %w", acct.Username, err)
		}
		if subtle.ConstantTimeCompare([]byte(want), []byte(code)) != 1 {
			continue
		}
		fresh, err := a.store.UseTOTPStep(ctx, acct.Username, step)
		if err != nil {
			return fmt.Errorf("TOTP of %q: %w", acct.Username, err)
		}
		if !fresh {
			return errMismatch // a replay: this code, or a later one, was already used
		}
		return nil
	}
	return errMismatch
}

// ErrBadOTP is CheckStaffOTP's refusal: the code is wrong, malformed or already used.
var ErrBadOTP = &Error{Code: CodeBadCredentials, Message: "Wrong or already used one-time code: wait for the next code and try again."}

// CheckStaffOTP checks a TOTP code again for a sensitive action of the enabled account
// username (a certification), from client: a code is good once (the one used to log in is not
// good again), and wrong codes back off like passwords (StaffFreeAttempts, then waits), per
// account. Errors: ErrBadOTP, ErrThrottled with RetryAfter, an *Error with CodeInvalidArgument
// for an account without a second factor, ErrNotFound (wrapped) for no such enabled account,
// or an internal error.
func (a *Authenticator) CheckStaffOTP(ctx context.Context, username, code string, client netip.Addr) error {
	now := a.now()
	acct, err := a.store.StaffAccount(ctx, username)
	if err != nil {
		return fmt.Errorf("check one-time code: %w", err)
	}
	if acct.TOTPSecret.IsZero() {
		return &Error{Code: CodeInvalidArgument, Message: "This account has no second factor."}
	}
	keys := []string{staffOTPKey(username)}
	if _, err := a.store.UpdateThrottles(ctx, keys, func(cur []ThrottleCounter) ([]ThrottleCounter, error) {
		if d := waitFor(cur[0], now, StaffFreeAttempts, StaffBaseDelay, StaffMaxDelay); d > 0 {
			return nil, throttled(d)
		}
		return []ThrottleCounter{inc(cur[0], now)}, nil
	}); err != nil {
		a.recordFailure(ctx, now, "", false, client, decided(err))
		return decided(err)
	}
	if err := a.checkOTP(ctx, acct, code, now); errors.Is(err, errMismatch) {
		a.recordFailure(ctx, now, "", false, client, ErrBadOTP)
		return ErrBadOTP
	} else if err != nil {
		return err
	}
	a.giveBack(ctx, keys, func([]ThrottleCounter) []ThrottleCounter { return []ThrottleCounter{{}} })
	return nil
}

func staffOTPKey(user string) string { return "staff-otp/" + user }
