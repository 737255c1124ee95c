package auth

import (
	"errors"
	"time"
)

// Codes of the user errors of this package. The server maps each to an HTTP status in its
// one table; the chair app translates by code.
const (
	CodeTypo            = "pin_typo"         // 400: the PIN fails its format or check digit; not counted
	CodeBadLink         = "bad_login_link"   // 400: the QR token is malformed; not counted
	CodeBadCredentials  = "bad_credentials"  // 401: wrong precinct, PIN, token, user or password
	CodeThrottled       = "throttled"        // 429: wait RetryAfter
	CodePINClosed       = "pin_closed"       // 429: this precinct's PIN budget is spent until a staff reset
	CodeNotOpen         = "pin_not_open"     // 403: PIN logins are outside the live window; not counted
	CodeUnauthenticated = "unauthenticated"  // 401: no, unknown or expired session
	CodeInvalidArgument = "invalid_argument" // 400: bad staff input (empty user name, unknown role)
	CodeTooLong         = "too_long"         // 400: a precinct ID or user name longer than any real one; nothing written
	CodeBusy            = "busy"             // 503: every hashing place is taken; try again after RetryAfter
)

// Error is a user error: a code the server maps to a status, a message safe to show a chair
// (it never contains a secret), and for CodeThrottled how long to wait.
type Error struct {
	Code       string
	Message    string
	RetryAfter time.Duration // with CodeThrottled and CodeBusy; CodePINClosed has 0: until a reset
}

func (e *Error) Error() string { return e.Message }

// Is makes errors.Is(err, ErrThrottled) true for every *Error with the same code, whatever
// its message or RetryAfter.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

// Sentinels to branch on with errors.Is. The errors returned may carry a more specific
// message and, for throttling, RetryAfter: use errors.As to read them.
var (
	ErrTypo = &Error{Code: CodeTypo,
		Message: "This PIN has a typo: check the digits on your card and type them again."}
	ErrBadLink = &Error{Code: CodeBadLink,
		Message: "This login link is damaged: scan the QR code on your card again."}
	ErrBadCredentials = &Error{Code: CodeBadCredentials,
		Message: "Wrong precinct or PIN."}
	ErrThrottled = &Error{Code: CodeThrottled,
		Message: "Too many wrong attempts: wait and try again, or scan the QR code on your card."}
	ErrPINClosed = &Error{Code: CodePINClosed,
		Message: "Too many wrong PINs were tried for this precinct. Scan the QR code on your card, or call the hotline to have PIN login reopened."}
	ErrNotOpen = &Error{Code: CodeNotOpen,
		Message: "PIN login is not open now. Scan the QR code on your card."}
	ErrTooLong = &Error{Code: CodeTooLong,
		Message: "This precinct ID or user name is too long."}
	ErrBusy = &Error{Code: CodeBusy,
		Message: "The server is busy: try again in a few seconds."}
	ErrUnauthenticated = &Error{Code: CodeUnauthenticated,
		Message: "Please log in again."}
)

// ErrNotFound is what stores return (wrapped or not) when a credential, account or session
// does not exist.
var ErrNotFound = errors.New("not found")

// ErrAccountExists is what Store.CreateStaff returns (wrapped or not) for a username taken.
var ErrAccountExists = errors.New("account exists")

func throttled(retry time.Duration) error {
	return &Error{Code: CodeThrottled, Message: ErrThrottled.Message, RetryAfter: retry}
}
