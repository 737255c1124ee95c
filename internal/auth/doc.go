// Package auth is how chairs and staff get into caucus: precinct PINs and QR tokens, staff
// passwords, the throttles on guessing, and sessions, so that every chair gets in on the night
// and nobody guesses their way in. It follows spec/reliability.md §B4 (A1–A3; A4 in part); the
// login endpoint itself is spec/interfaces.md's POST /api/v1/login, served by internal/server.
//
// It is not the HTTP layer (routes, cookies, CSRF and status codes are internal/server's;
// Error.Code is what the server maps), not the authorization table (the server's, beyond
// Session.MaySubmit), not the audit log beyond failed logins (the server writes a successful
// login's entry; auth counts failures, aggregated, through its Store), and not storage: it
// defines the one interface it needs, Store (credentials, counters, failures, sessions),
// which the election's database implements directly (internal/store/sqlite) and
// storetest.RunAuth checks.
//
// # Credentials
//
// Each precinct gets two secrets from crypto/rand, printed on its packet: a QR code of the
// login URL base#p=PRECINCT&t=TOKEN carrying a 160-bit Token, and a PIN for the chair to
// type: for a state, PINDigits digits (PINRandomDigits random ones and a Damm check digit)
// printed as 1234-5678-9012, and longer for a bigger election (PINDigitsFor, below). The check digit catches every single wrong digit and every swap of two
// neighbours, on the phone and in ParsePIN, before anything counts as a guess. Only
// argon2id hashes are stored (Hash, with salt and parameters in the PHC string); secrets
// are types (PIN, Token, SessionToken, Password, Hash) that print, log and marshal as
// REDACTED.
//
// # Why guessing a PIN is hopeless for the whole state
//
// Let N be the number of PINs, B the PIN attempts verified per precinct, P the precincts.
// An attacker with any number of addresses tries distinct PINs; each precinct's PIN is
// uniform, so B attempts at one precinct win with probability B/N, and the union bound over
// precincts gives P(any precinct) ≤ P·B/N (the tests' GuessBound).
//
//	N = 10^11 · (1 − 0.01)  11 random digits; weak patterns, under 0.9% of them, excluded
//	B = 40 + 8 = 48          wrong attempts verified per precinct until a staff reset:
//	                         PrecinctBudget live, PracticeBudget in the practice election
//	                         (the same PIN)
//	P = StatePrecincts = 2,000 (Iowa 2020: 1,765)
//
//	P(any) ≤ 2,000 · 48 / 9.9·10^10 = 9.7·10^-7    (Iowa: 1,765 · 48 / 9.9·10^10 = 8.6·10^-7)
//
// B is a hard count: each attempt is reserved in the store before the hash is checked, in
// one transaction with the back-off and the address count (Store.UpdateThrottles), so it
// holds however many servers, addresses and concurrent requests there are and however long
// the night is; a reservation that turns out to be the right PIN is given back, so a chair's
// own logins spend none of it. A staff reset of the live budget adds at most 40/N = 4·10^-10;
// the bound stays under 10^-6 for the first 70 resets statewide. To meet 10^-6 a 6-digit PIN
// would need B ≤ 0.0005, an 8-digit one B ≤ 0.05, a 10-digit one B ≤ 4 (fewer than a chair's
// own slips); 11 random digits is the shortest that leaves a usable budget. The QR token
// (2^160) cannot be guessed at all.
//
// A bigger election keeps the same B and the same bound with a longer PIN (PINDigitsFor): each
// random digit more multiplies N by ten, and so P, at the same bound: 12 digits up to 2,000
// precincts, 13 up to 20,000, 14 up to MaxPrecincts = 200,000. For a national election
// (weak patterns, counted by the same union bound, under 1.1% of 13 random digits):
//
//	P(any) ≤ 175,000 · 48 / (10^13 · (1 − 0.0111)) = 8.5·10^-7    (each reset: 4·10^-12)
//
// A state's cards keep their 12 digits. A 14-digit PIN is printed 12345-67890-1234 (groups of
// at most five, Grouped), still one Damm check digit. A server knows its election's length
// (Config.PINDigits) and takes PINs from 12 digits up to it: one reissued by the command line
// without the election has a state's 12 digits, and adds at most 40/9.9·10^10 = 4·10^-10.
//
// # Why an attacker cannot lock a chair out
//
// PIN attempts at a precinct are slowed, never locked: after PrecinctFreeAttempts wrong PINs
// (since the last right one) a wait of PrecinctBaseDelay doubling to PrecinctMaxDelay (5 min)
// between attempts; a right PIN clears the wait, so a chair's own repeated logins never cause
// it. The wait is reserved with the attempt, so a burst of concurrent guesses gets the free
// attempts and then waits, like guesses one at a time. At that pace the budget B lasts about 2 h 43 min of continuous guessing (the tests'
// MaxAttemptsIn); after it the precinct's PIN path answers ErrPINClosed until staff reset its
// counters after calling the chair back (ReopenPIN, or NewPIN for a lost card; meanwhile the
// QR token is the way in). None of this touches the other ways in:
//   - the QR token is never throttled by anything (its hash is cheap, TokenParams, so a flood
//     of bogus tokens costs no CPU either);
//   - a session, once made, lasts ChairSessionTTL from login and is never cut by failures,
//     so a chair who logs in during the afternoon set-up is in for the night;
//   - live PINs are refused outside the live window (Config.LiveOpens) without counting, so
//     the budget cannot be spent before the caucus; practice PINs have a budget of their own;
//   - typos (a failed check digit, wrong length) never count.
//
// Per address (IPv4 address, IPv6 /48), AddressMaxFailures wrong PINs or passwords and
// AddressMaxTokenFailures wrong tokens per AddressWindow: past them an address is refused
// attempts at unknown precincts and users, which cost nothing to refuse; attempts at real
// ones go on to their own back-off, so a chair behind an attacker's NAT, or behind the
// party's proxy, is never refused for the address's sake. It plays no part in the bound.
//
// # Load
//
// PIN, token and staff logins each hash in a lane of their own, and attempts at unknown
// precincts and users in a fourth: a few running, a few waiting,
// and the next one shed at once with ErrBusy (the server's 503 with a jittered Retry-After),
// never queued without bound and never answered "wrong PIN". A flood of bogus PINs therefore
// costs the server a bounded amount of memory and CPU, and never delays a chair with the QR
// link. Failed and refused logins are counted in memory and written aggregated, one row per
// minute, precinct (a real one, or none), address group and reason (FailureCount), so that
// junk logins cost bounded disk and no attacker-chosen text is ever stored.
//
// # Sessions
//
// A login returns a 256-bit SessionToken, a new one at every login; the store keeps only its
// SHA-256 (SessionID). Expiry is absolute from login (ChairSessionTTL, StaffSessionTTL), never
// extended. Staff sessions also end after StaffIdleTimeout without use (their LastSeen is
// written at most once per StaffTouchEvery, not on every request), and all at once when the
// account is disabled or its credentials reset (in the store's transaction). They are never
// cached in the process: every request reads the session and the account, so a change made
// by another process sharing the store holds at its next request.
//
// # Staff accounts
//
// Roles admin, reviewer, operator, certifier, observer. Passwords are generated (GeneratePassword,
// 100 bits) and shown once; a staff member may set their own of MinPasswordLen characters or
// more (NIST SP 800-63B: length, no composition rules). Admin and certifier accounts have a
// TOTP second factor (RFC 6238): required at login, and again for a sensitive action
// (CheckStaffOTP); each code is accepted once per account, atomically in the store
// (Store.UseTOTPStep), so a code seen over a shoulder or replayed from a log is refused.
//
// BUG(auth): a flood of bogus PIN logins from many addresses fills the PIN lane, so chairs
// typing PINs during it are often told "busy, try again" (each bogus PIN costs one
// DefaultParams argon2id, ~23 ms, and cannot be told from a chair's before it is hashed). The
// QR lane is unaffected; the PIN path recovers as soon as the flood stops.
package auth
